// Conversations, newest first (the API lists oldest first, so pages are
// read from the end), a filter by user, and a transcript that shows a
// message's sources and tool calls when it has them.

import { api } from './api.js';
import { el, formatNumber, formatDateTime } from './format.js';

const PAGE_SIZE = 20;

export function conversationTable(list) {
  if (!list.length) return el('p', {}, 'No conversations.');
  return el('div', { class: 'scroll' }, el('table', { class: 'conversations' },
    el('thead', {}, el('tr', {}, ...['Title', 'User', 'Messages', 'Last activity'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...list.map((c) => el('tr', {},
      el('td', {}, el('a', { href: `#/conversations/${encodeURIComponent(c.id)}` }, c.title || 'Untitled conversation')),
      el('td', {}, el('a', { href: `#/users/${encodeURIComponent(c.customer_user_id)}` }, c.customer_user_id)),
      el('td', {}, formatNumber(c.message_count)),
      el('td', {}, formatDateTime(c.updated_at)))))));
}

export async function conversations({ show, params }) {
  const user = params.get('user') ?? '';
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const filter = user ? `&customer_user_id=${encodeURIComponent(user)}` : '';
  // The first call learns how many pages there are; the newest are last.
  const head = await api('GET', `/conversations?limit=${PAGE_SIZE}${filter}`);
  const pages = head.pagination.total_pages;
  const apiPage = Math.max(1, pages - page + 1);
  const list = apiPage === 1 ? head : await api('GET', `/conversations?limit=${PAGE_SIZE}&page=${apiPage}${filter}`);

  const who = el('input', { id: 'filter-user', name: 'user', value: user, placeholder: 'cu_…', spellcheck: 'false' });
  const form = el('form', { class: 'search', onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (who.value.trim()) next.set('user', who.value.trim());
    location.hash = `#/conversations?${next}`;
  } },
  el('label', { for: 'filter-user' }, 'Customer user id'), who,
  el('button', { type: 'submit' }, 'Filter'));
  const link = (p, label) => {
    const next = new URLSearchParams(params);
    next.set('page', String(p));
    return el('a', { href: `#/conversations?${next}` }, label);
  };
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? link(page - 1, 'Newer') : null,
    el('span', {}, `Page ${formatNumber(page)} of ${formatNumber(Math.max(pages, 1))} · ${formatNumber(head.pagination.total)} conversations`),
    page < pages ? link(page + 1, 'Older') : null);
  show('Conversations', form, conversationTable(list.data.slice().reverse()), pager);
}

// The fields every message has, and those of a tool call or result (shown
// as a line of their own); anything else is shown under the message as JSON.
const PLAIN = new Set(['id', 'content', 'role', 'conversation_id', 'created_at', 'sources', 'tool_calls', 'tool_call_id', 'status', 'name']);

function sourceItem(source) {
  if (source === null || typeof source !== 'object') return el('li', {}, String(source));
  const title = source.title ?? source.name ?? source.document_id ?? source.id ?? 'Source';
  const url = typeof source.url === 'string' && /^https?:\/\//.test(source.url) ? source.url : null;
  const snippet = source.snippet ?? source.text ?? source.content ?? null;
  return el('li', {},
    url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, title) : el('strong', {}, title),
    source.heading && source.heading !== title ? el('span', { class: 'meta' }, ` · ${source.heading}`) : null,
    snippet ? el('p', { class: 'snippet' }, snippet) : null);
}

// A call's arguments on one line: an object (or the JSON text the model
// wrote) compacted, long ones cut with the whole kept in the tooltip.
function compactArguments(args) {
  let text;
  if (typeof args === 'string') {
    try {
      text = JSON.stringify(JSON.parse(args));
    } catch {
      text = args;
    }
  } else {
    text = args === undefined ? '{}' : JSON.stringify(args);
  }
  return el('code', { class: 'args', title: text }, text.length > 120 ? `${text.slice(0, 119)}…` : text);
}

const outcome = (result) => {
  if (!result) return el('span', { class: 'meta' }, 'no result');
  const ok = result.status !== 'error';
  return el('span', { class: ok ? 'tool-ok' : 'tool-error' }, ok ? 'ok' : 'error');
};

// "Called order_status {…} → ok", with the result's text folded under it.
function callLine(call, result) {
  const name = typeof call?.name === 'string' ? call.name : 'a tool';
  return el('li', { class: 'tool-call' },
    'Called ', el('code', {}, name), ' ', compactArguments(call?.arguments), ' → ', outcome(result),
    result && result.content ? el('details', {}, el('summary', {}, 'Result'), el('pre', { class: 'json' }, result.content)) : null);
}

// `results` maps a tool_call_id to its result message, so a call shows its
// outcome and the result is not shown a second time.
export function renderMessage(m, results = new Map()) {
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  const isResult = typeof m.tool_call_id === 'string';
  const extra = Object.entries(m).filter(([k]) => !PLAIN.has(k));
  let body;
  if (calls.length) {
    body = el('ul', { class: 'tool-calls' }, ...calls.map((c) => callLine(c, results.get(c?.id))));
  } else if (isResult) {
    body = el('ul', { class: 'tool-calls' }, el('li', { class: 'tool-call' },
      'Result of ', el('code', {}, typeof m.name === 'string' ? m.name : m.tool_call_id), ' → ', outcome(m),
      m.content ? el('details', {}, el('summary', {}, 'Result'), el('pre', { class: 'json' }, m.content)) : null));
  } else {
    body = el('p', { class: 'content' }, m.content ?? '');
  }
  return el('li', { class: `message ${['user', 'assistant', 'tool'].includes(m.role) ? m.role : 'other'}` },
    el('div', { class: 'meta' }, el('span', { class: 'role' }, m.role), ' · ', formatDateTime(m.created_at)),
    calls.length && m.content ? el('p', { class: 'content' }, m.content) : null,
    body,
    Array.isArray(m.sources) && m.sources.length
      ? el('details', { class: 'sources' }, el('summary', {}, `Sources (${formatNumber(m.sources.length)})`), el('ul', {}, ...m.sources.map(sourceItem)))
      : null,
    extra.length
      ? el('details', { class: 'tool' }, el('summary', {}, 'Details'),
        el('pre', { class: 'json' }, JSON.stringify(Object.fromEntries(extra), null, 2)))
      : null);
}

// A transcript's messages: each result is shown with its call when the call
// is in the transcript, and on its own otherwise.
export function renderTranscript(messages) {
  const called = new Set(messages.flatMap((m) => (Array.isArray(m.tool_calls) ? m.tool_calls.map((c) => c?.id) : [])));
  const results = new Map(messages.filter((m) => typeof m.tool_call_id === 'string').map((m) => [m.tool_call_id, m]));
  const shown = messages.filter((m) => typeof m.tool_call_id !== 'string' || !called.has(m.tool_call_id));
  return el('ol', { class: 'transcript', id: 'transcript' }, ...shown.map((m) => renderMessage(m, results)));
}

export async function transcript({ show }, id) {
  const conversation = await api('GET', `/conversations/${encodeURIComponent(id)}`);
  const messages = [];
  for (let page = 1; ; page += 1) {
    const batch = await api('GET', `/conversations/${encodeURIComponent(id)}/messages?limit=100&page=${page}`);
    messages.push(...batch.data);
    if (!batch.pagination || page >= batch.pagination.total_pages || page >= 50) break;
  }
  const facts = el('p', { class: 'facts-line' },
    'User ', el('a', { href: `#/users/${encodeURIComponent(conversation.customer_user_id)}` }, conversation.customer_user_id),
    ` · ${formatNumber(conversation.message_count)} messages · started ${formatDateTime(conversation.created_at)}`);
  show(conversation.title || 'Untitled conversation', facts,
    messages.length ? renderTranscript(messages) : el('p', {}, 'No messages yet.'));
}
