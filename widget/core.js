/* PerformChat widget, part 1 of 4: the pieces without a DOM (token manager,
 * SSE parser, API client). The server serves core.js, tools.js, styles.js and ui.js as one script,
 * /widget.js; the Node unit tests load this file alone. No dependencies. */
(function (global) {
  'use strict';

  var REFRESH_LEAD_MS = 5 * 60 * 1000;
  // setTimeout fires at once for delays above 2^31-1 ms, and tokens may live 30 days.
  var MAX_TIMER_MS = 2147483647;
  var MAX_RATE_LIMIT_WAITS = 3;

  function ChatError(kind, message, status) {
    this.name = 'ChatError';
    this.kind = kind; // expired | token | model | busy | rate | network | http
    this.message = message;
    this.status = status || 0;
  }
  ChatError.prototype = Object.create(Error.prototype);
  ChatError.prototype.constructor = ChatError;

  /** The `exp` claim of a JWT in milliseconds, or null. Read for scheduling only: the server verifies. */
  function jwtExpiry(token) {
    try {
      var part = String(token).split('.')[1];
      if (!part) return null;
      var b64 = part.replace(/-/g, '+').replace(/_/g, '/');
      while (b64.length % 4) b64 += '=';
      var exp = JSON.parse(global.atob(b64)).exp;
      return typeof exp === 'number' && isFinite(exp) ? exp * 1000 : null;
    } catch (e) {
      return null;
    }
  }

  function toMillis(value) {
    if (typeof value === 'number' && isFinite(value)) return value;
    if (typeof value === 'string') {
      var t = Date.parse(value);
      if (isFinite(t)) return t;
    }
    return null;
  }

  /**
   * Holds the chat token. `getToken()` (the site's own function) may return, or resolve to, a token
   * string or an object `{ token, expiresAt }` such as the body of POST /rest/v1/auth/token.
   * One refresh at a time: every caller that needs a new token while one is being fetched waits for
   * that same one. The clock and timers are injectable so tests can drive time.
   */
  function createTokenManager(opts) {
    var getToken = opts.getToken;
    var now = opts.now || function () { return Date.now(); };
    var setTimer = opts.setTimeout || function (f, ms) { return global.setTimeout(f, ms); };
    var clearTimer = opts.clearTimeout || function (id) { global.clearTimeout(id); };
    var lead = opts.leadMs == null ? REFRESH_LEAD_MS : opts.leadMs;
    var current = null; // { token, expiresAt: ms | null }
    var inflight = null;
    var timer = null;
    var stopped = false;

    function normalise(value) {
      if (typeof value === 'string' && value) return { token: value, expiresAt: jwtExpiry(value) };
      if (value && typeof value.token === 'string' && value.token) {
        var at = toMillis(value.expiresAt);
        return { token: value.token, expiresAt: at == null ? jwtExpiry(value.token) : at };
      }
      throw new ChatError('token', 'getToken() must return a token string or { token, expiresAt }');
    }

    function cancelTimer() {
      if (timer !== null) clearTimer(timer);
      timer = null;
    }

    function schedule() {
      cancelTimer();
      if (stopped || !current || current.expiresAt == null) return;
      var remaining = current.expiresAt - now();
      if (remaining <= 0) return; // the next call refreshes first
      // A token that lives less than the lead time is renewed half-way through its life instead.
      var due = now() + (remaining > lead ? remaining - lead : remaining / 2);
      var fire = function () {
        timer = null;
        if (stopped) return;
        if (now() < due) { // woke early (long delays are split; timers may fire early)
          timer = setTimer(fire, Math.min(due - now(), MAX_TIMER_MS));
          return;
        }
        refresh().catch(function () { /* the next call will try again and report */ });
      };
      timer = setTimer(fire, Math.min(due - now(), MAX_TIMER_MS));
    }

    function refresh() {
      if (stopped) return Promise.reject(new ChatError('token', 'The chat widget was closed'));
      if (!inflight) {
        inflight = Promise.resolve()
          .then(function () { return getToken(); })
          .then(function (value) {
            var next = normalise(value);
            var same = current !== null && current.token === next.token;
            current = next;
            // The same token again teaches nothing new; rescheduling would loop near its expiry.
            if (same) cancelTimer(); else schedule();
            return next.token;
          }, function (err) {
            throw err instanceof ChatError ? err
              : new ChatError('token', 'Could not get a chat session from this site. Please try again later.');
          });
        var settle = function () { inflight = null; };
        inflight.then(settle, settle);
      }
      return inflight;
    }

    return {
      /** The token to send now: the current one, or a fresh one when there is none or it has expired. */
      token: function () {
        if (inflight) return inflight;
        if (!current || (current.expiresAt != null && now() >= current.expiresAt)) return refresh();
        return Promise.resolve(current.token);
      },
      /** After a 401 for a request sent with `failed`: one refresh, however many requests failed with it. */
      renew: function (failed) {
        if (inflight) return inflight;
        if (current && current.token !== failed) return Promise.resolve(current.token);
        return refresh();
      },
      /** The server's word on when the token expires (GET /chat/session), for a token that did not say. */
      learnExpiry: function (expiresAt) {
        var at = toMillis(expiresAt);
        if (current && current.expiresAt == null && at != null) {
          current.expiresAt = at;
          schedule();
        }
      },
      stop: function () {
        stopped = true;
        cancelTimer();
      },
      _state: function () { return { current: current, refreshing: inflight !== null, timer: timer }; }
    };
  }

  /**
   * An incremental parser for text/event-stream (the WHATWG rules): lines end with CRLF, LF or CR,
   * possibly split across chunks; `data` lines are joined with "\n"; comments and unknown fields are
   * ignored; an event is dispatched at a blank line when it has data. `pushBytes` decodes UTF-8 across
   * chunk boundaries.
   */
  function createSseParser(onEvent) {
    var buffer = '';
    var skipLF = false; // the previous chunk ended with CR: a LF starting the next one is the same line end
    var started = false;
    var type = '';
    var data = [];
    var decoder = null;

    function line(l) {
      if (l === '') {
        if (data.length) onEvent({ event: type || 'message', data: data.join('\n') });
        type = '';
        data = [];
        return;
      }
      if (l.charAt(0) === ':') return;
      var i = l.indexOf(':');
      var field = i === -1 ? l : l.slice(0, i);
      var value = i === -1 ? '' : l.slice(i + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }

    function push(text) {
      if (!text) return;
      if (!started) {
        started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      var s = buffer + text;
      var pos = 0;
      if (skipLF && s.length) {
        if (s.charAt(0) === '\n') pos = 1;
        skipLF = false;
      }
      for (var j = pos; j < s.length; j++) {
        var c = s.charAt(j);
        if (c !== '\n' && c !== '\r') continue;
        line(s.slice(pos, j));
        if (c === '\r') {
          if (j + 1 === s.length) skipLF = true;
          else if (s.charAt(j + 1) === '\n') j++;
        }
        pos = j + 1;
      }
      buffer = s.slice(pos);
    }

    return {
      push: push,
      pushBytes: function (bytes) {
        if (!decoder) decoder = new global.TextDecoder('utf-8');
        push(decoder.decode(bytes, { stream: true }));
      },
      /** End of stream: an event without its closing blank line is discarded, as the standard says. */
      end: function () {
        if (decoder) push(decoder.decode());
        buffer = '';
        type = '';
        data = [];
      }
    };
  }

  /** Retry-After in milliseconds: delta-seconds or an HTTP date; 1 s when absent, at most 2 min. */
  function retryAfterMs(value, nowMs) {
    var ms = 1000;
    if (value != null && /^\s*\d+\s*$/.test(value)) ms = parseInt(value, 10) * 1000;
    else if (value != null && isFinite(Date.parse(value))) ms = Date.parse(value) - nowMs;
    return Math.min(Math.max(ms, 1000), 120000);
  }

  function errorFromBody(status, body) {
    var message = body && typeof body.message === 'string' ? body.message : 'The chat service answered ' + status;
    if (status === 502) {
      return new ChatError('model', 'The assistant is unavailable right now. Your question is still in the box: send it again in a moment.', 502);
    }
    if (status === 409) return new ChatError('busy', 'A reply is still being written. Wait for it to finish, then send again.', 409);
    if (status === 401) return new ChatError('expired', 'Your session has expired. Reload the page to continue.', 401);
    return new ChatError('http', message, status);
  }

  async function errorFrom(res) {
    var body = null;
    try { body = await res.json(); } catch (e) { /* not JSON: the status says enough */ }
    return errorFromBody(res.status, body);
  }

  /**
   * The chat API of docs/API.md §8 over fetch: bearer token, one shared refresh and one retry on a 401,
   * waiting out a 429's Retry-After, and replies read as an SSE stream (EventSource cannot send
   * an Authorization header).
   */
  function createClient(opts) {
    var base = String(opts.baseUrl).replace(/\/+$/, '') + '/rest/v1/chat';
    var tokens = opts.tokens;
    var fetchImpl = opts.fetch || function (u, i) { return global.fetch(u, i); };
    var sleep = opts.sleep || function (ms) { return new Promise(function (r) { global.setTimeout(r, ms); }); };
    var onWait = opts.onWait || function () {};
    var signal = opts.signal;

    async function send(method, path, body, accept) {
      var token = await tokens.token();
      var renewed = false;
      var waits = 0;
      for (;;) {
        var headers = { Authorization: 'Bearer ' + token };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        if (accept) headers.Accept = accept;
        var res;
        try {
          res = await fetchImpl(base + path, {
            method: method, headers: headers, signal: signal,
            body: body === undefined ? undefined : JSON.stringify(body)
          });
        } catch (e) {
          throw new ChatError('network', 'Cannot reach the chat service. Check your connection and try again.');
        }
        if (res.status === 401) {
          if (renewed) throw new ChatError('expired', 'Your session has expired. Reload the page to continue.', 401);
          renewed = true;
          token = await tokens.renew(token);
          continue;
        }
        if (res.status === 429 && waits < MAX_RATE_LIMIT_WAITS) {
          waits++;
          var ms = retryAfterMs(res.headers.get('Retry-After'), Date.now());
          onWait(ms);
          await sleep(ms);
          onWait(0);
          continue;
        }
        return res;
      }
    }

    async function json(method, path, body) {
      var res = await send(method, path, body);
      if (!res.ok) throw await errorFrom(res);
      return res.json();
    }

    /**
     * Posts a message; `on.userMessage`, `on.delta(text)`, `on.assistantMessage` as the stream goes,
     * and `on.toolCall({ id, name })` / `on.toolResult({ id, name, status })` (when given) while the
     * agent's tools run. Only the id and the name go on: the model's arguments are not for the page.
     */
    async function sendMessage(conversationId, content, on) {
      var path = '/conversations/' + encodeURIComponent(conversationId) + '/messages';
      var res = await send('POST', path, { content: content }, 'text/event-stream');
      if (!res.ok) throw await errorFrom(res);
      if ((res.headers.get('Content-Type') || '').indexOf('text/event-stream') !== 0) {
        var whole = await res.json(); // a server that answered without streaming
        on.userMessage(whole.userMessage);
        on.assistantMessage(whole.assistantMessage);
        return;
      }
      var finished = false;
      var failure = null;
      var parser = createSseParser(function (ev) {
        var d;
        try { d = JSON.parse(ev.data); } catch (e) { return; }
        if (ev.event === 'user_message') on.userMessage(d);
        else if (ev.event === 'delta') { if (d && typeof d.content === 'string' && d.content) on.delta(d.content); }
        else if (ev.event === 'assistant_message') { finished = true; on.assistantMessage(d); }
        else if (ev.event === 'tool_call' || ev.event === 'tool_result') {
          var tell = ev.event === 'tool_call' ? on.toolCall : on.toolResult;
          if (tell && d && typeof d.id === 'string') tell({ id: d.id, name: typeof d.name === 'string' ? d.name : '', status: d.status });
        }
        else if (ev.event === 'error') failure = errorFromBody(d && d.statusCode ? d.statusCode : 502, d);
      });
      var reader = res.body.getReader();
      try {
        while (!finished && !failure) {
          var chunk = await reader.read();
          if (chunk.done) break;
          parser.pushBytes(chunk.value);
        }
        parser.end();
      } catch (e) {
        failure = failure || new ChatError('network', 'The connection dropped during the reply. Open the conversation again to see it.');
      }
      reader.cancel().catch(function () {});
      if (failure) throw failure;
      if (!finished) throw new ChatError('network', 'The reply was cut off. Open the conversation again to see it.');
    }

    return { send: send, json: json, sendMessage: sendMessage };
  }

  /**
   * The knowledge-base sources of an assistant message, ready to show: `{ title, href }` where
   * `href` is set only for an absolute http(s) URL (anything else, `javascript:` included, is shown
   * as its plain title). Entries without a usable title are skipped; at most MAX_SOURCES are kept.
   */
  var MAX_SOURCES = 8;
  function sourceLinks(sources) {
    if (!Array.isArray(sources)) return [];
    var out = [];
    sources.forEach(function (s) {
      if (out.length >= MAX_SOURCES || !s || typeof s !== 'object') return;
      var title = typeof s.title === 'string' ? s.title.trim() : '';
      if (!title) return;
      var href = null;
      if (typeof s.url === 'string') {
        try {
          var u = new URL(s.url);
          if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
        } catch (e) { /* not a URL: plain title */ }
      }
      out.push({ title: title, href: href });
    });
    return out;
  }

  var ns = global.PerformChat = global.PerformChat || {};
  ns._internal = {
    ChatError: ChatError,
    createTokenManager: createTokenManager,
    createSseParser: createSseParser,
    createClient: createClient,
    jwtExpiry: jwtExpiry,
    retryAfterMs: retryAfterMs,
    sourceLinks: sourceLinks,
    REFRESH_LEAD_MS: REFRESH_LEAD_MS
  };
})(typeof window !== 'undefined' ? window : globalThis);
