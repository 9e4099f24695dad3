// Which knowledge-base sources become links under a reply: http(s) URLs only, titles as text.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const load = require('./load');

const { sourceLinks } = load();
// Objects made in the widget's context have its prototypes; compare their JSON.
const plain = (v) => JSON.parse(JSON.stringify(v));

test('http and https URLs become links, normalised', () => {
  const got = sourceLinks([
    { document_id: 'doc_1', title: 'Refunds', url: 'https://help.example.com/refunds', heading: 'Refunds › Time' },
    { document_id: 'doc_2', title: 'Shipping', url: 'HTTP://help.example.com/ship ping' },
  ]);
  assert.deepEqual(plain(got), [
    { title: 'Refunds', href: 'https://help.example.com/refunds' },
    { title: 'Shipping', href: 'http://help.example.com/ship%20ping' },
  ]);
});

test('any other scheme, a relative URL or no URL gives the plain title', () => {
  const urls = ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x',
    'file:///etc/passwd', 'ftp://h/x', '//evil.example/x', '/relative', 'not a url', '', null, undefined, 42];
  for (const url of urls) {
    assert.deepEqual(plain(sourceLinks([{ title: 'Doc', url }])), [{ title: 'Doc', href: null }], String(url));
  }
});

test('titles stay text: markup is kept as characters for textContent', () => {
  const got = sourceLinks([{ title: '<img src=x onerror=alert(1)>', url: 'https://h/x' }]);
  assert.equal(got[0].title, '<img src=x onerror=alert(1)>');
});

test('odd answers are skipped, never thrown on', () => {
  assert.deepEqual(plain(sourceLinks(undefined)), []);
  assert.deepEqual(plain(sourceLinks(null)), []);
  assert.deepEqual(plain(sourceLinks('https://h')), []);
  assert.deepEqual(plain(sourceLinks({ title: 'x' })), []);
  const got = sourceLinks([null, 7, 'x', {}, { title: '  ' }, { title: 5 }, { title: ' Kept ' }]);
  assert.deepEqual(plain(got), [{ title: 'Kept', href: null }]);
});

test('a long list is cut to eight', () => {
  const many = Array.from({ length: 20 }, (_, i) => ({ title: `T${i}`, url: `https://h/${i}` }));
  const got = sourceLinks(many);
  assert.equal(got.length, 8);
  assert.equal(got[7].title, 'T7');
});
