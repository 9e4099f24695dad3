// Users: search and pages, one user's details and metadata, and the actions
// the key may take (edit, deactivate, end all sessions, erase).

import { api } from './api.js';
import { el, alertBox, formatNumber, formatDateTime } from './format.js';
import { conversationTable } from './conversations.js';
import { eraseCard } from './erase.js';

const PAGE_SIZE = 20;
const SEARCH_FIELDS = [['name', 'Name'], ['email', 'Email'], ['external_id', 'External id']];

export async function users({ show, params }) {
  const field = SEARCH_FIELDS.some(([f]) => f === params.get('by')) ? params.get('by') : 'name';
  const term = params.get('q') ?? '';
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const query = new URLSearchParams({ page: String(page), limit: String(PAGE_SIZE) });
  if (term) query.set(field, term);
  const list = await api('GET', `/customer-users?${query}`);

  const by = el('select', { id: 'search-by', name: 'by' },
    ...SEARCH_FIELDS.map(([f, label]) => el('option', { value: f, selected: f === field }, label)));
  const q = el('input', { id: 'search-q', name: 'q', type: 'search', value: term });
  const form = el('form', { class: 'search', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams({ by: by.value });
    if (q.value.trim()) next.set('q', q.value.trim());
    location.hash = `#/users?${next}`;
  } },
  el('label', { for: 'search-by' }, 'Search by'), by,
  el('label', { for: 'search-q', class: 'visually-hidden' }, 'Search for'), q,
  el('button', { type: 'submit' }, 'Search'));

  const rows = list.data.map((u) => el('tr', {},
    el('td', {}, el('a', { href: `#/users/${encodeURIComponent(u.id)}` }, u.name ?? u.external_id)),
    el('td', {}, u.email ?? '—'),
    el('td', {}, u.external_id),
    el('td', {}, u.active ? 'Active' : 'Inactive'),
    el('td', {}, formatDateTime(u.last_seen_at))));
  const table = list.data.length
    ? el('div', { class: 'scroll' }, el('table', { id: 'user-list' },
      el('thead', {}, el('tr', {}, ...['Name', 'Email', 'External id', 'Status', 'Last seen'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows)))
    : el('p', {}, 'No users match.');
  const { total, total_pages: pages } = list.pagination;
  const link = (p, label) => {
    const next = new URLSearchParams(params);
    next.set('page', String(p));
    return el('a', { href: `#/users?${next}` }, label);
  };
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? link(page - 1, 'Previous') : null,
    el('span', {}, `Page ${formatNumber(page)} of ${formatNumber(Math.max(pages, 1))} · ${formatNumber(total)} users`),
    page < pages ? link(page + 1, 'Next') : null);
  show('Users', form, table, pager);
}

export async function userDetail({ show, allowed }, id) {
  const user = await api('GET', `/customer-users/${encodeURIComponent(id)}`);
  const status = el('div', { id: 'user-status', 'aria-live': 'polite' });
  const say = (node) => status.replaceChildren(node);
  const facts = el('dl', { class: 'facts' },
    ...[['Id', user.id], ['External id', user.external_id], ['Name', user.name ?? '—'], ['Email', user.email ?? '—'],
      ['Status', user.active ? 'Active' : 'Inactive'], ['Created', formatDateTime(user.created_at)],
      ['Updated', formatDateTime(user.updated_at)], ['Last seen', formatDateTime(user.last_seen_at)]]
      .map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  const metadata = el('pre', { id: 'metadata', class: 'json' }, JSON.stringify(user.metadata, null, 2));
  const parts = [facts, el('h2', {}, 'Metadata'), metadata, status];
  if (allowed.usersWrite) parts.push(editForm(user, say));
  const actions = el('div', { class: 'actions' });
  if (allowed.usersWrite) {
    actions.append(el('button', { type: 'button', id: 'toggle-active', onclick: async () => {
      try {
        await api('PUT', `/customer-users/${encodeURIComponent(user.id)}`, { active: !user.active });
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (e) {
        say(alertBox(e.message));
      }
    } }, user.active ? 'Deactivate' : 'Activate'));
  }
  if (allowed.chatSend) {
    actions.append(el('button', { type: 'button', id: 'end-sessions', onclick: async () => {
      try {
        const r = await api('POST', '/auth/invalidate-token', { customerUserId: user.id });
        say(el('p', { class: 'ok' }, `All sessions ended: tokens issued before now no longer work (version ${formatNumber(r.newTokenVersion)}).`));
      } catch (e) {
        say(alertBox(e.message));
      }
    } }, 'End all sessions'));
  }
  if (actions.childElementCount) parts.push(el('h2', {}, 'Actions'), actions);
  if (allowed.conversationsRead) {
    const list = await api('GET', `/conversations?customer_user_id=${encodeURIComponent(user.id)}&limit=100`);
    parts.push(el('h2', {}, 'Conversations'), conversationTable(list.data.slice().reverse()));
  }
  // Last, out of the way of the everyday actions.
  if (allowed.usersWrite) parts.push(eraseCard(user));
  show(user.name ?? user.external_id, ...parts);
}

function editForm(user, say) {
  const name = el('input', { id: 'edit-name', name: 'name', value: user.name ?? '' });
  const email = el('input', { id: 'edit-email', name: 'email', type: 'email', value: user.email ?? '' });
  const metadata = el('textarea', { id: 'edit-metadata', name: 'metadata', rows: '8', spellcheck: 'false' });
  metadata.value = JSON.stringify(user.metadata, null, 2);
  return el('form', { class: 'card', id: 'edit-user', onsubmit: async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(metadata.value);
    } catch (e) {
      return say(alertBox(`Metadata is not valid JSON: ${e.message}`));
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return say(alertBox('Metadata must be a JSON object, like {"plan": "premium"}.'));
    }
    try {
      await api('PUT', `/customer-users/${encodeURIComponent(user.id)}`, {
        name: name.value.trim() || null,
        email: email.value.trim() || null,
        metadata: parsed,
      });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      say(alertBox(e.message));
    }
  } },
  el('h2', {}, 'Edit'),
  el('label', { for: 'edit-name' }, 'Name'), name,
  el('label', { for: 'edit-email' }, 'Email'), email,
  el('label', { for: 'edit-metadata' }, 'Metadata (a JSON object)'), metadata,
  el('button', { type: 'submit' }, 'Save'));
}
