// The SSE parser must give the same events however the network cuts the stream into chunks.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const load = require('./load');

const { createSseParser } = load();
const plain = (v) => JSON.parse(JSON.stringify(v)); // objects from the script's own realm

function parseChunks(chunks, bytes = false) {
  const events = [];
  const p = createSseParser((e) => events.push(e));
  for (const c of chunks) (bytes ? p.pushBytes(c) : p.push(c));
  p.end();
  return plain(events);
}

// What the chat API sends (docs/API.md §8), with every line ending the standard allows, keep-alive
// comments, a multi-line data field, fields without a space, unknown fields, and text beyond ASCII.
const STREAM =
  ': keep-alive\n\n' +
  'event: user_message\r\ndata: {"id":"msg_1","role":"user","content":"h\\u00e9llo"}\r\n\r\n' +
  'event: delta\rdata: {"content":"Caf\u00e9 "}\r\r' +
  'event:delta\ndata:{"content":"\ud83d\ude00 <img src=x onerror=alert(1)>"}\nid: 7\nretry: 10\n\n' +
  ': still working\n' +
  'data: line one\ndata: line two\ndata\n\n' +
  'event: assistant_message\ndata: {"id":"msg_2","content":"done"}\n\n';

const EXPECTED = [
  { event: 'user_message', data: '{"id":"msg_1","role":"user","content":"h\\u00e9llo"}' },
  { event: 'delta', data: '{"content":"Caf\u00e9 "}' },
  { event: 'delta', data: '{"content":"\ud83d\ude00 <img src=x onerror=alert(1)>"}' },
  { event: 'message', data: 'line one\nline two\n' },
  { event: 'assistant_message', data: '{"id":"msg_2","content":"done"}' },
];

test('the whole stream in one chunk', () => {
  assert.deepEqual(parseChunks([STREAM]), EXPECTED);
});

test('split into two chunks at every position', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(parseChunks([STREAM.slice(0, i), STREAM.slice(i)]), EXPECTED, `split at ${i}`);
  }
});

test('split into three chunks at every pair of positions', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j++) {
      const got = parseChunks([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]);
      assert.deepEqual(got, EXPECTED, `split at ${i} and ${j}`);
    }
  }
});

test('one character at a time', () => {
  assert.deepEqual(parseChunks([...STREAM]), EXPECTED);
});

test('UTF-8 bytes split at every byte, inside multi-byte characters too', () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(parseChunks([bytes.subarray(0, i), bytes.subarray(i)], true), EXPECTED, `byte split at ${i}`);
  }
  assert.deepEqual(parseChunks([...bytes].map((b) => Uint8Array.of(b)), true), EXPECTED);
});

test('a leading byte order mark is skipped', () => {
  assert.deepEqual(parseChunks(['\ufeffdata: x\n\n']), [{ event: 'message', data: 'x' }]);
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('data: y\n\n')]);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(parseChunks([bytes.subarray(0, i), bytes.subarray(i)], true), [{ event: 'message', data: 'y' }]);
  }
});

test('an event cut off before its blank line is dropped at the end of the stream', () => {
  assert.deepEqual(parseChunks(['data: a\n\nevent: delta\ndata: {"content":"lost"}\n']), [{ event: 'message', data: 'a' }]);
});

test('a CR at the end of a chunk followed by an empty chunk, then LF, is one line end', () => {
  assert.deepEqual(parseChunks(['data: a\r', '', '\n\r\n']), [{ event: 'message', data: 'a' }]);
});

test('an event type without data dispatches nothing and does not leak into the next event', () => {
  assert.deepEqual(parseChunks(['event: delta\n\ndata: b\n\n']), [{ event: 'message', data: 'b' }]);
});
