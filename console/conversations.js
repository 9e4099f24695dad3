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

// The fields every message has; anything else (sources, a tool call or
// result) is shown under the message.
const PLAIN = new Set(['id', 'content', 'role', 'conversation_id', 'created_at', 'sources']);

function sourceItem(source) {
  if (source === null || typeof source !== 'object') return el('li', {}, String(source));
  const title = source.title ?? source.name ?? source.document_id ?? source.id ?? 'Source';
  const url = typeof source.url === 'string' && /^https?:\/\//.test(source.url) ? source.url : null;
  const snippet = source.snippet ?? source.text ?? source.content ?? null;
  return el('li', {},
    url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, title) : el('strong', {}, title),
    snippet ? el('p', { class: 'snippet' }, snippet) : null);
}

export function renderMessage(m) {
  const extra = Object.entries(m).filter(([k]) => !PLAIN.has(k));
  return el('li', { class: `message ${['user', 'assistant', 'tool'].includes(m.role) ? m.role : 'other'}` },
    el('div', { class: 'meta' }, el('span', { class: 'role' }, m.role), ' · ', formatDateTime(m.created_at)),
    el('p', { class: 'content' }, m.content ?? ''),
    Array.isArray(m.sources) && m.sources.length
      ? el('details', { class: 'sources' }, el('summary', {}, `Sources (${formatNumber(m.sources.length)})`), el('ul', {}, ...m.sources.map(sourceItem)))
      : null,
    extra.length
      ? el('details', { class: 'tool', open: m.role === 'tool' }, el('summary', {}, m.role === 'tool' ? 'Tool call' : 'Details'),
        el('pre', { class: 'json' }, JSON.stringify(Object.fromEntries(extra), null, 2)))
      : null);
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
    messages.length ? el('ol', { class: 'transcript', id: 'transcript' }, ...messages.map(renderMessage)) : el('p', {}, 'No messages yet.'));
}
