// What the page shows of the agent's tool use: a line while a tool runs, notes in the history,
// never a tool's answer; and the client passing the stream's tool events on.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const load = require('./load');

const { toolLine, historyItems, createClient, createTokenManager } = load();
const plain = (v) => JSON.parse(JSON.stringify(v));

test('the line names the tool, or nothing that is not a tool name', () => {
  assert.equal(toolLine('order_status'), 'Looking up order_status\u2026');
  for (const odd of ['<img src=x>', '', 'a b', 'x'.repeat(65), null, 7]) {
    assert.equal(toolLine(odd), 'Looking something up\u2026', String(odd));
  }
});

test('the history shows calls as notes and hides results', () => {
  const got = historyItems([
    { id: 'msg_1', role: 'user', content: 'Where is A-1?' },
    { id: 'msg_2', role: 'tool', content: 'Let me check.', tool_calls: [
      { id: 'c1', name: 'order_status', arguments: { query: 'A-1' } },
      { id: 'c2', name: 'order_status', arguments: { query: 'A-2' } },
      { id: 'c3', name: 'refunds', arguments: {} },
    ] },
    { id: 'msg_3', role: 'tool', content: '{"state":"shipped","secret":"internal"}', tool_call_id: 'c1', status: 'ok' },
    { id: 'msg_4', role: 'assistant', content: 'It has shipped.', sources: [] },
  ]);
  assert.deepEqual(plain(got), [
    { id: 'msg_1', role: 'user', content: 'Where is A-1?' },
    { id: 'msg_2', role: 'assistant', content: 'Let me check.' },
    { id: 'msg_2', role: 'tool', content: 'Looked up order_status, refunds' },
    { id: 'msg_4', role: 'assistant', content: 'It has shipped.', sources: [] },
  ]);
  assert.ok(!JSON.stringify(got).includes('internal'), 'the tool answer stays out');
});

test('odd messages are skipped, never thrown on', () => {
  assert.deepEqual(plain(historyItems(undefined)), []);
  const got = historyItems([null, 7, { role: 'tool' }, { role: 'tool', tool_calls: [null, { name: '<b>' }] }, { role: 'system', content: 'x' }]);
  assert.deepEqual(plain(got), [{ role: 'tool', content: 'Looked something up' }]);
});

test('the client passes tool events on with their id and name only', async () => {
  const chunks = [
    'event: user_message\ndata: {"id":"msg_1"}\n\n',
    'event: tool_call\ndata: {"id":"c1","name":"order_status","arguments":{"query":"A-1"}}\n\n',
    'event: tool_result\ndata: {"id":"c1","name":"order_status","status":"ok"}\n\n',
    'event: delta\ndata: {"content":"Shipped"}\n\nevent: assistant_message\ndata: {"id":"msg_4","content":"Shipped"}\n\n',
  ];
  let i = 0;
  const client = createClient({
    baseUrl: 'http://chat.example/',
    tokens: createTokenManager({ getToken: async () => 'tok' }),
    fetch: async () => ({
      status: 200, ok: true,
      headers: { get: (k) => (k.toLowerCase() === 'content-type' ? 'text/event-stream' : null) },
      body: { getReader: () => ({
        read: async () => (i < chunks.length ? { done: false, value: new TextEncoder().encode(chunks[i++]) } : { done: true }),
        cancel: async () => {},
      }) },
    }),
    sleep: async () => {},
  });
  const got = [];
  await client.sendMessage('conv_1', 'hi', {
    userMessage: () => got.push(['user']),
    toolCall: (c) => got.push(['call', c]),
    toolResult: (r) => got.push(['result', r]),
    delta: (t) => got.push(['delta', t]),
    assistantMessage: (m) => got.push(['done', m.content]),
  });
  assert.deepEqual(plain(got), [
    ['user'],
    ['call', { id: 'c1', name: 'order_status' }],
    ['result', { id: 'c1', name: 'order_status', status: 'ok' }],
    ['delta', 'Shipped'],
    ['done', 'Shipped'],
  ]);
  // A client that does not listen for tool events still reads the reply.
  i = 0;
  let done = null;
  await client.sendMessage('conv_1', 'hi', { userMessage() {}, delta() {}, assistantMessage: (m) => { done = m.content; } });
  assert.equal(done, 'Shipped');
});
