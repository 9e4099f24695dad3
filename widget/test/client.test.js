// The API client against a scripted fetch: 401 handling, Retry-After, errors, and reading a stream.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const load = require('./load');

const { createClient, createTokenManager, retryAfterMs } = load();

function response(status, body, headers = {}) {
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (k) => h.get(k.toLowerCase()) ?? null },
    json: async () => JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

function streamResponse(chunks) {
  const r = response(200, '', { 'Content-Type': 'text/event-stream' });
  let i = 0;
  r.body = {
    getReader: () => ({
      read: async () => (i < chunks.length ? { done: false, value: new TextEncoder().encode(chunks[i++]) } : { done: true }),
      cancel: async () => {},
    }),
  };
  return r;
}

/** A client whose server is `handler(request)`; tokens from a counting getToken. */
function setup(handler) {
  const seen = [];
  const site = { calls: 0 };
  const tokens = createTokenManager({ getToken: async () => `tok${++site.calls}` });
  const sleeps = [];
  const client = createClient({
    baseUrl: 'http://chat.example/',
    tokens,
    fetch: async (url, init) => {
      const req = { url, ...init, token: init.headers.Authorization.replace('Bearer ', '') };
      seen.push(req);
      return handler(req, seen.length);
    },
    sleep: async (ms) => { sleeps.push(ms); },
  });
  return { client, seen, site, sleeps, tokens };
}

test('requests carry the bearer token and go under /rest/v1/chat', async () => {
  const { client, seen } = setup(() => response(200, { ok: 1 }));
  assert.equal((await client.json('POST', '/conversations', {})).ok, 1);
  assert.equal(seen[0].url, 'http://chat.example/rest/v1/chat/conversations');
  assert.equal(seen[0].headers.Authorization, 'Bearer tok1');
  assert.equal(seen[0].headers['Content-Type'], 'application/json');
  assert.equal(seen[0].body, '{}');
});

test('a 401 refreshes once for all pending calls, then each retries with the new token', async () => {
  let released;
  const gate = new Promise((r) => { released = r; });
  const { client, seen, site, tokens } = setup(async (req) => {
    if (req.token === 'tok1') { await gate; return response(401, { statusCode: 401 }); }
    return response(200, { token: req.token });
  });
  await tokens.token();
  const calls = [client.json('GET', '/session'), client.json('GET', '/conversations'), client.json('GET', '/x')];
  released();
  const results = await Promise.all(calls);
  assert.deepEqual(results.map((r) => r.token), ['tok2', 'tok2', 'tok2']);
  assert.equal(site.calls, 2, 'one refresh beyond the first token');
  assert.equal(seen.length, 6);
});

test('a second 401 is a session that has expired', async () => {
  const { client, site } = setup(() => response(401, { statusCode: 401, message: 'Token has expired' }));
  await assert.rejects(client.json('GET', '/session'), (e) => e.kind === 'expired' && /session has expired/i.test(e.message));
  assert.equal(site.calls, 2);
});

test('a 429 waits Retry-After, then tries again', async () => {
  const { client, sleeps, seen } = setup((req, n) => (n === 1 ? response(429, {}, { 'Retry-After': '7' }) : response(200, { fine: true })));
  assert.equal((await client.json('GET', '/session')).fine, true);
  assert.deepEqual(sleeps, [7000]);
  assert.equal(seen.length, 2);
});

test('Retry-After forms', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs(null, now), 1000);
  assert.equal(retryAfterMs('0', now), 1000);
  assert.equal(retryAfterMs('86400', now), 120000);
  assert.equal(retryAfterMs(new Date(now + 5000).toUTCString(), now), 5000);
});

test('a 502 is the model being unavailable; other errors keep the server message', async () => {
  const model = setup(() => response(502, { statusCode: 502, message: 'Language model unavailable', error: 'Bad Gateway' }));
  await assert.rejects(model.client.sendMessage('conv_1', 'hi', {}), (e) => e.kind === 'model' && /unavailable/.test(e.message));
  const other = setup(() => response(404, { statusCode: 404, message: 'Conversation not found', error: 'Not Found' }));
  await assert.rejects(other.client.json('GET', '/conversations/conv_x/messages'), (e) => e.status === 404 && e.message === 'Conversation not found');
});

test('a streamed reply: user message, deltas as they come, then the stored reply', async () => {
  const got = [];
  const { client, seen } = setup(() => streamResponse([
    'event: user_message\ndata: {"id":"msg_1","content":"hi"}\n\n: keep-alive\n\nevent: del',
    'ta\ndata: {"content":"Hel"}\n\nevent: delta\ndata: {"content":"lo"}\n',
    '\nevent: assistant_message\ndata: {"id":"msg_2","content":"Hello"}\n\n',
  ]));
  await client.sendMessage('conv_1', 'hi', {
    userMessage: (m) => got.push(['user', m.id]),
    delta: (t) => got.push(['delta', t]),
    assistantMessage: (m) => got.push(['done', m.content]),
  });
  assert.deepEqual(JSON.parse(JSON.stringify(got)), [['user', 'msg_1'], ['delta', 'Hel'], ['delta', 'lo'], ['done', 'Hello']]);
  assert.equal(seen[0].headers.Accept, 'text/event-stream');
  assert.equal(seen[0].url, 'http://chat.example/rest/v1/chat/conversations/conv_1/messages');
});

test('an error event mid-stream fails the send as the model being unavailable', async () => {
  const { client } = setup(() => streamResponse([
    'event: user_message\ndata: {"id":"msg_1"}\n\nevent: delta\ndata: {"content":"Hal"}\n\n',
    'event: error\ndata: {"statusCode":502,"message":"Language model unavailable","error":"Bad Gateway"}\n\n',
  ]));
  const on = { userMessage() {}, delta() {}, assistantMessage() { assert.fail('no reply'); } };
  await assert.rejects(client.sendMessage('conv_1', 'hi', on), (e) => e.kind === 'model');
});

test('a stream that ends without the stored reply is reported, not taken as done', async () => {
  const { client } = setup(() => streamResponse(['event: delta\ndata: {"content":"Hal"}\n\n']));
  const on = { userMessage() {}, delta() {}, assistantMessage() {} };
  await assert.rejects(client.sendMessage('conv_1', 'hi', on), (e) => e.kind === 'network' && /cut off/.test(e.message));
});

test('an unreachable server is a network error', async () => {
  const { client } = setup(() => { throw new TypeError('Failed to fetch'); });
  await assert.rejects(client.json('GET', '/session'), (e) => e.kind === 'network');
});
