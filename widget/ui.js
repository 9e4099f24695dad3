/* PerformChat widget, part 4 of 4: the launcher and panel, and PerformChat.init. Every piece of
 * text that comes from the server or the model goes in through textContent or a text node, never
 * as HTML. */
(function (global) {
  'use strict';
  var doc = global.document;
  var ns = global.PerformChat;
  var I = ns._internal;
  var MAX_CHARS = 8000;
  var PAGE = 30;
  var count = 0;
  // Where this script was loaded from: the default API base, as widget.js is served by the API itself.
  var scriptOrigin = (function () {
    try { return new URL(doc.currentScript.src).origin; } catch (e) { return null; }
  })();

  function el(tag, attrs, children) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v == null || v === false) return;
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }

  function bubbleIcon() {
    var svgNs = 'http://www.w3.org/2000/svg';
    var svg = doc.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    var path = doc.createElementNS(svgNs, 'path');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z');
    svg.append(path);
    return svg;
  }

  function formatTime(iso) {
    var d = new Date(iso);
    if (!isFinite(d.getTime())) return '';
    try { return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }); } catch (e) { return d.toLocaleString(); }
  }

  function init(options) {
    options = options || {};
    if (typeof options.getToken !== 'function') throw new TypeError('PerformChat.init: getToken must be a function');
    var baseUrl = options.baseUrl || scriptOrigin;
    if (!baseUrl) throw new TypeError('PerformChat.init: baseUrl is required');
    var target = typeof options.target === 'string' ? doc.querySelector(options.target) : options.target || null;
    if (options.target && !target) throw new TypeError('PerformChat.init: target not found');
    var embedded = !!target;
    var pageSize = options.pageSize == null ? PAGE : Number(options.pageSize);
    if (!(pageSize >= 1 && pageSize <= 100 && pageSize % 1 === 0)) throw new TypeError('PerformChat.init: pageSize must be an integer from 1 to 100');
    var n = ++count;
    var id = function (s) { return 'pc' + n + '-' + s; };

    var state = { open: embedded, view: 'list', conversation: null, oldest: null, page: 1, sending: false, loaded: false, destroyed: false };
    var aborter = new AbortController();
    var tokens = I.createTokenManager({ getToken: function () { return options.getToken(); } });
    var client = I.createClient({ baseUrl: baseUrl, tokens: tokens, signal: aborter.signal, onWait: showWait });

    // ---- the DOM, built once ----
    var host = el('div', { 'data-performchat': '' });
    var shadow = host.attachShadow({ mode: 'open' });
    var launcher = embedded ? null : el('button', { class: 'launcher', type: 'button', 'aria-label': 'Open chat',
      'aria-expanded': 'false', 'aria-controls': id('panel') }, [bubbleIcon()]);
    var title = el('h2', { id: id('title'), text: 'Chat' });
    var subtitle = el('p', { text: 'Your conversations' });
    var back = el('button', { class: 'icon', type: 'button', 'aria-label': 'All conversations', text: '\u2039', hidden: true });
    var closeBtn = embedded ? null : el('button', { class: 'icon', type: 'button', 'aria-label': 'Close chat', text: '\u00d7' });
    var header = el('header', {}, [back, el('div', { class: 'titles' }, [title, subtitle]), closeBtn]);
    var notice = el('div', { class: 'notice', role: 'alert', hidden: true });
    var status = el('p', { class: 'status', role: 'status' });

    var newBtn = el('button', { class: 'primary', type: 'button', text: 'New conversation' });
    var convs = el('ul', { class: 'convs', 'aria-label': 'Your conversations' });
    var empty = el('p', { class: 'empty', text: 'No conversations yet.', hidden: true });
    var more = el('button', { class: 'secondary', type: 'button', text: 'Show older conversations', hidden: true });
    var listView = el('div', { class: 'view list' }, [newBtn, convs, empty, more]);

    var earlier = el('button', { class: 'secondary earlier', type: 'button', text: 'Load earlier messages', hidden: true });
    var log = el('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
    var scroller = el('div', { class: 'scroller' }, [earlier, log]);
    var input = el('textarea', { id: id('input'), rows: 1, placeholder: 'Type your message\u2026', 'aria-describedby': id('hint') });
    var sendBtn = el('button', { class: 'primary', type: 'submit', text: 'Send' });
    var form = el('form', { 'aria-label': 'Send a message' }, [
      el('label', { for: id('input'), class: 'sr-only', text: 'Message' }), input,
      el('span', { id: id('hint'), class: 'sr-only', text: 'Enter sends, Shift+Enter starts a new line' }), sendBtn]);
    var convoView = el('div', { class: 'view convo', hidden: true }, [scroller, form]);

    var panel = el('section', { class: 'panel', id: id('panel'), role: embedded ? 'region' : 'dialog',
      'aria-labelledby': id('title'), hidden: !embedded }, [header, notice, status, listView, convoView]);
    var root = el('div', { class: 'root' + (embedded ? ' embedded open' : '') }, [launcher, panel]);
    // A constructed style sheet is not inline style, so a site whose Content-Security-Policy
    // forbids inline styles still shows the widget as designed.
    if (global.CSSStyleSheet && 'adoptedStyleSheets' in shadow && 'replaceSync' in global.CSSStyleSheet.prototype) {
      var sheet = new global.CSSStyleSheet();
      sheet.replaceSync(I.CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.append(el('style', { text: I.CSS }));
    }
    shadow.append(root);
    (target || doc.body).append(host);

    // ---- messages to the user ----
    function showNotice(text) { notice.textContent = text; notice.hidden = false; }
    function clearNotice() { notice.textContent = ''; notice.hidden = true; }
    function showWait(ms) {
      status.textContent = ms > 0 ? 'Sending too fast: trying again in ' + Math.ceil(ms / 1000) + ' s\u2026' : '';
    }
    function fail(err) {
      if (state.destroyed) return;
      showNotice(err && err.kind ? err.message : 'Something went wrong. Please try again.');
    }

    // ---- conversation list ----
    function conversationItem(c) {
      var b = el('button', { type: 'button' }, [
        el('span', { class: 't', text: c.title || 'New conversation' }),
        el('time', { datetime: c.updated_at, text: formatTime(c.updated_at) })]);
      b.addEventListener('click', function () { openConversation(c); });
      return el('li', {}, [b]);
    }

    async function loadList(page) {
      var res = await client.json('GET', '/conversations?page=' + page + '&limit=20');
      if (state.view !== 'list') return;
      if (page === 1) convs.replaceChildren();
      res.data.forEach(function (c) { convs.append(conversationItem(c)); });
      state.page = page;
      empty.hidden = convs.childElementCount > 0;
      more.hidden = !(res.pagination && page < res.pagination.total_pages);
    }

    async function loadSession() {
      var s = await client.json('GET', '/session');
      if (s.agent && s.agent.name) title.textContent = s.agent.name;
      tokens.learnExpiry(s.expiresAt);
    }

    function showList(focus) {
      state.view = 'list';
      state.conversation = null;
      listView.hidden = false;
      convoView.hidden = true;
      back.hidden = true;
      subtitle.textContent = 'Your conversations';
      if (focus) newBtn.focus();
      // Both at once: after a 401 they share one token refresh.
      return Promise.all([loadSession(), loadList(1)]).catch(fail);
    }

    // ---- one conversation ----
    function bubble(role, text) {
      var body = el('span', { class: 'body', text: text });
      var li = el('li', { class: 'msg ' + role }, [el('span', { class: 'sr-only', text: role === 'user' ? 'You: ' : 'Assistant: ' }), body]);
      li.body = body;
      return li;
    }

    // A discreet line for the agent's tool use: never the tool's answer, only its name.
    function toolNote(text) {
      return el('li', { class: 'tool-note', text: text });
    }

    // Sources under a reply: links only for http(s) URLs (sourceLinks decides), titles as text.
    function showSources(li, sources) {
      var links = I.sourceLinks(sources);
      if (li.sources) li.sources.remove();
      li.sources = null;
      if (!links.length) return;
      var items = links.map(function (s) {
        var item = s.href ? el('a', { href: s.href, target: '_blank', rel: 'noopener noreferrer', text: s.title }) : el('span', { text: s.title });
        return el('li', {}, [item]);
      });
      li.sources = el('div', { class: 'sources' }, [el('span', { class: 'label', text: 'Sources' }), el('ul', {}, items)]);
      li.append(li.sources);
    }

    function atBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40; }
    function scrollDown() { scroller.scrollTop = scroller.scrollHeight; }

    function showConversation(c) {
      state.view = 'convo';
      state.conversation = c;
      state.oldest = null;
      listView.hidden = true;
      convoView.hidden = false;
      back.hidden = false;
      log.replaceChildren();
      earlier.hidden = true;
      subtitle.textContent = c && c.title ? c.title : 'New conversation';
      input.focus();
    }

    function openConversation(c) {
      clearNotice();
      showConversation(c);
      return loadMessages(null).catch(fail);
    }

    async function loadMessages(before) {
      var c = state.conversation;
      var q = '?limit=' + pageSize + (before ? '&before=' + encodeURIComponent(before) : '');
      var res = await client.json('GET', '/conversations/' + encodeURIComponent(c.id) + '/messages' + q);
      if (state.conversation !== c) return; // the user moved on meanwhile
      var nodes = I.historyItems(res.data).map(function (m) {
        if (m.role === 'tool') return toolNote(m.content);
        var b = bubble(m.role, m.content);
        if (m.role === 'assistant') showSources(b, m.sources);
        return b;
      });
      if (before) {
        var fromBottom = scroller.scrollHeight - scroller.scrollTop;
        log.prepend.apply(log, nodes);
        scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep what the user was reading in place
      } else {
        log.replaceChildren.apply(log, nodes);
        scrollDown();
      }
      if (res.data.length) state.oldest = res.data[0].id;
      earlier.hidden = !res.has_more;
    }

    function autosize() {
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
    }

    async function submit() {
      var text = input.value;
      if (state.sending || !text.trim()) return;
      if (Array.from(text).length > MAX_CHARS) { showNotice('A message can be at most ' + MAX_CHARS + ' characters.'); return; }
      state.sending = true;
      sendBtn.disabled = true;
      clearNotice();
      var mine = bubble('user', text);
      var reply = null;
      var stored = false;
      var running = {}; // tool call id → its "Looking up …" line
      log.append(mine);
      input.value = '';
      autosize();
      scrollDown();
      try {
        // The log is emptied whenever another conversation is shown: while `mine` is in the
        // document, the user is still looking at this one.
        var conversation = state.conversation;
        if (!conversation) {
          conversation = await client.json('POST', '/conversations', {});
          if (mine.isConnected) state.conversation = conversation;
        }
        await client.sendMessage(conversation.id, text, {
          userMessage: function () { stored = true; },
          delta: function (piece) {
            var follow = atBottom();
            if (!reply) {
              reply = bubble('assistant', '');
              reply.setAttribute('aria-busy', 'true');
              if (mine.isConnected) log.append(reply);
            }
            reply.body.append(piece); // a text node: model output is never parsed as HTML
            if (follow) scrollDown();
          },
          toolCall: function (call) {
            // Text the model wrote before calling stays as it is; the answer opens a new bubble.
            if (reply) { reply.removeAttribute('aria-busy'); reply = null; }
            var line = toolNote(I.toolLine(call.name));
            line.setAttribute('role', 'status');
            running[call.id] = line;
            if (mine.isConnected) { log.append(line); scrollDown(); }
          },
          toolResult: function (result) {
            if (running[result.id]) { running[result.id].remove(); delete running[result.id]; }
          },
          assistantMessage: function (m) {
            if (!reply) {
              reply = bubble('assistant', '');
              if (mine.isConnected) log.append(reply);
            }
            reply.body.textContent = m.content;
            showSources(reply, m && m.sources);
            reply.removeAttribute('aria-busy');
            scrollDown();
          }
        });
        // The server titles an untitled conversation after its first message; show the same words.
        if (!conversation.title && mine.isConnected) {
          conversation.title = text.replace(/\s+/g, ' ').trim();
          subtitle.textContent = conversation.title;
        }
      } catch (err) {
        // Nothing is stored as a reply after a failure, so a partial one goes; the question stays in
        // the box to send again.
        var here = mine.isConnected;
        if (reply) reply.remove();
        Object.keys(running).forEach(function (k) { running[k].remove(); });
        if (stored) {
          mine.classList.add('unanswered');
          mine.append(el('span', { class: 'note', text: 'Not answered' }));
        } else {
          mine.remove();
        }
        if (here && !input.value) input.value = text;
        autosize();
        fail(err);
      } finally {
        state.sending = false;
        sendBtn.disabled = false;
      }
    }

    // ---- opening and closing ----
    function open() {
      if (state.destroyed) return;
      state.open = true;
      panel.hidden = false;
      root.classList.add('open');
      if (launcher) { launcher.setAttribute('aria-expanded', 'true'); launcher.setAttribute('aria-label', 'Close chat'); }
      if (state.view === 'list') showList(true);
      else input.focus();
    }

    function close() {
      if (state.destroyed) return;
      var hadFocus = shadow.activeElement !== null;
      state.open = false;
      panel.hidden = true;
      root.classList.remove('open');
      if (launcher) {
        launcher.setAttribute('aria-expanded', 'false');
        launcher.setAttribute('aria-label', 'Open chat');
        if (hadFocus) launcher.focus();
      }
    }

    function destroy() {
      if (state.destroyed) return;
      state.destroyed = true;
      aborter.abort();
      tokens.stop();
      host.remove();
    }

    if (launcher) launcher.addEventListener('click', function () { if (state.open) close(); else open(); });
    if (closeBtn) closeBtn.addEventListener('click', close);
    back.addEventListener('click', function () { clearNotice(); showList(true); });
    newBtn.addEventListener('click', function () { clearNotice(); showConversation(null); });
    more.addEventListener('click', function () { loadList(state.page + 1).catch(fail); });
    earlier.addEventListener('click', function () { if (state.oldest) loadMessages(state.oldest).catch(fail); });
    form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
    input.addEventListener('input', autosize);
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !embedded) { e.stopPropagation(); close(); }
    });
    if (embedded) showList(false);

    return { open: open, close: close, destroy: destroy };
  }

  ns.init = init;
})(typeof window !== 'undefined' ? window : globalThis);
