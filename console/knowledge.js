// Knowledge: the company's documents in pages, adding one (a file as
// multipart, or pasted text as JSON), deleting one after asking, one
// document's extracted text, and a search that shows what an agent's reply
// would be given (docs/API.md §9).

import { api } from './api.js';
import { el, alertBox, confirmInPlace, flash, formatNumber, formatDateTime } from './format.js';

const PAGE_SIZE = 20;
const TEXT_TYPES = [['text/plain', 'Plain text'], ['text/markdown', 'Markdown'], ['text/html', 'HTML']];
const FILE_TYPES = '.txt,.md,.markdown,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf';

// The company's agents for the pickers, when the key may read them; otherwise
// documents are for every agent and searches cover every document.
async function agentList(allowed) {
  if (!allowed.agentsRead) return [];
  const list = await api('GET', '/agents?limit=100');
  return list.data;
}

export async function knowledge({ show, allowed, params }) {
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const [list, agents] = await Promise.all([
    api('GET', `/knowledge/documents?page=${page}&limit=${PAGE_SIZE}`),
    agentList(allowed),
  ]);
  const status = el('div', { id: 'knowledge-status', 'aria-live': 'polite' });
  const say = (node) => status.replaceChildren(node);
  const names = new Map(agents.map((a) => [a.id, a.name]));
  const parts = [el('h2', {}, 'Documents'), status, documentTable(list.data, names, allowed, say)];
  const { total, total_pages: pages } = list.pagination;
  const link = (p, label) => el('a', { href: `#/knowledge?page=${p}` }, label);
  parts.push(el('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? link(page - 1, 'Previous') : null,
    el('span', {}, `Page ${formatNumber(page)} of ${formatNumber(Math.max(pages, 1))} · ${formatNumber(total)} documents`),
    page < pages ? link(page + 1, 'Next') : null));
  parts.push(searchForm(agents));
  if (allowed.knowledgeWrite) parts.push(uploadForm(agents, say));
  show('Knowledge', ...parts);
}

const agentNames = (ids, names) => (ids.length ? ids.map((id) => names.get(id) ?? id).join(', ') : 'Every agent');

function documentTable(docs, names, allowed, say) {
  if (!docs.length) return el('p', {}, 'No documents yet.');
  const headings = ['Title', 'Type', 'Characters', 'Chunks', 'Agents', 'Updated'];
  if (allowed.knowledgeWrite) headings.push('Actions');
  return el('div', { class: 'scroll' }, el('table', { id: 'document-list' },
    el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...docs.map((d) => el('tr', {},
      el('td', {}, el('a', { href: `#/knowledge/${encodeURIComponent(d.id)}` }, d.title)),
      el('td', {}, d.content_type),
      el('td', { class: 'num' }, formatNumber(d.chars)),
      el('td', { class: 'num' }, formatNumber(d.chunk_count)),
      el('td', {}, agentNames(d.agent_ids, names)),
      el('td', {}, formatDateTime(d.updated_at)),
      allowed.knowledgeWrite ? el('td', {}, deleteControl(d, say)) : null)))));
}

function deleteControl(doc, say) {
  return confirmInPlace('Delete', `Delete “${doc.title}”?`, async () => {
    try {
      await api('DELETE', `/knowledge/documents/${encodeURIComponent(doc.id)}`);
      flash(`Deleted “${doc.title}”.`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      say(alertBox(e.message));
    }
  });
}

function agentSelect(id, agents, anyLabel) {
  return el('select', { id, name: id },
    el('option', { value: '' }, anyLabel),
    ...agents.map((a) => el('option', { value: a.id }, a.name)));
}

function searchForm(agents) {
  const q = el('input', { id: 'kb-q', name: 'q', type: 'search', required: true, maxlength: '1000' });
  const agent = agents.length ? agentSelect('kb-agent', agents, 'Every document') : null;
  const results = el('div', { id: 'kb-results', 'aria-live': 'polite' });
  const form = el('form', { class: 'card', role: 'search', onsubmit: async (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ q: q.value, limit: '10' });
    if (agent?.value) query.set('agent_id', agent.value);
    results.replaceChildren(el('p', {}, 'Searching…'));
    try {
      const found = await api('GET', `/knowledge/search?${query}`);
      results.replaceChildren(hitList(found.data));
    } catch (e) {
      results.replaceChildren(alertBox(e.message));
    }
  } },
  el('h2', {}, 'What would an agent be given?'),
  el('p', { class: 'hint' }, 'The ranking a reply uses: a reply is given the first of these excerpts (four by default).'),
  el('label', { for: 'kb-q' }, 'Question'), q,
  agent ? [el('label', { for: 'kb-agent' }, 'As the agent'), agent] : null,
  el('button', { type: 'submit' }, 'Search'),
  results);
  return form;
}

function hitList(hits) {
  if (!hits.length) return el('p', {}, 'Nothing matches: a reply would get no excerpts.');
  const score = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
  return el('ol', { class: 'hits', id: 'kb-hits' }, ...hits.map((h) => {
    const url = typeof h.url === 'string' && /^https?:\/\//.test(h.url) ? h.url : null;
    return el('li', { class: 'hit' },
      el('div', {}, url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, h.title) : el('strong', {}, h.title),
        el('span', { class: 'meta' }, ` · score ${score.format(h.score)}`)),
      el('div', { class: 'meta' }, h.heading),
      el('p', { class: 'snippet' }, h.text));
  }));
}

function uploadForm(agents, say) {
  const title = el('input', { id: 'doc-title', name: 'title', required: true, maxlength: '300' });
  const fileMode = el('input', { type: 'radio', id: 'doc-mode-file', name: 'mode', value: 'file', checked: true });
  const textMode = el('input', { type: 'radio', id: 'doc-mode-text', name: 'mode', value: 'text' });
  const file = el('input', { type: 'file', id: 'doc-file', name: 'file', accept: FILE_TYPES });
  const text = el('textarea', { id: 'doc-text', name: 'content', rows: '8' });
  const type = el('select', { id: 'doc-type', name: 'content_type' },
    ...TEXT_TYPES.map(([t, label]) => el('option', { value: t }, label)));
  const fileBox = el('div', { class: 'stack' }, el('label', { for: 'doc-file' }, 'File (text, Markdown, HTML or PDF)'), file);
  const textBox = el('div', { class: 'stack', hidden: true },
    el('label', { for: 'doc-text' }, 'Text'), text, el('label', { for: 'doc-type' }, 'Format'), type);
  const sync = () => { fileBox.hidden = !fileMode.checked; textBox.hidden = fileMode.checked; };
  fileMode.addEventListener('change', sync);
  textMode.addEventListener('change', sync);
  const url = el('input', { id: 'doc-url', name: 'url', type: 'url', placeholder: 'https://…' });
  const picks = agents.map((a) => el('input', { type: 'checkbox', id: `doc-agent-${a.id}`, value: a.id }));
  const agentBox = agents.length
    ? el('fieldset', {}, el('legend', {}, 'Agents that may use it (none ticked: every agent)'),
      ...agents.map((a, i) => el('div', { class: 'check' }, picks[i], el('label', { for: `doc-agent-${a.id}` }, a.name))))
    : null;
  return el('form', { class: 'card', id: 'upload', onsubmit: async (event) => {
    event.preventDefault();
    const agentIds = picks.filter((p) => p.checked).map((p) => p.value);
    let body;
    if (fileMode.checked) {
      if (!file.files.length) return say(alertBox('Choose a file to upload.'));
      body = new FormData();
      body.set('title', title.value);
      if (url.value.trim()) body.set('url', url.value.trim());
      if (agentIds.length) body.set('agent_ids', agentIds.join(','));
      body.set('file', file.files[0]);
    } else {
      if (!text.value.trim()) return say(alertBox('Paste the text of the document.'));
      body = { title: title.value, content: text.value, content_type: type.value, agent_ids: agentIds };
      if (url.value.trim()) body.url = url.value.trim();
    }
    say(el('p', {}, 'Uploading…'));
    try {
      const doc = await api('POST', '/knowledge/documents', body);
      flash(`Added “${doc.title}”: ${formatNumber(doc.chars)} characters in ${formatNumber(doc.chunk_count)} ${doc.chunk_count === 1 ? 'chunk' : 'chunks'}.`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      say(alertBox(e.message));
    }
  } },
  el('h2', {}, 'Add a document'),
  el('label', { for: 'doc-title' }, 'Title'), title,
  el('fieldset', {}, el('legend', {}, 'Content'),
    el('div', { class: 'check' }, fileMode, el('label', { for: 'doc-mode-file' }, 'Upload a file')),
    el('div', { class: 'check' }, textMode, el('label', { for: 'doc-mode-text' }, 'Paste text'))),
  fileBox, textBox,
  el('label', { for: 'doc-url' }, 'Link shown to end users (optional)'), url,
  agentBox,
  el('button', { type: 'submit' }, 'Add document'));
}

export async function documentDetail({ show, allowed }, id) {
  const doc = await api('GET', `/knowledge/documents/${encodeURIComponent(id)}`);
  const status = el('div', { 'aria-live': 'polite' });
  const facts = el('dl', { class: 'facts' },
    ...[['Id', doc.id], ['Type', doc.content_type], ['Link', doc.url ?? '—'], ['External id', doc.external_id ?? '—'],
      ['Agents', doc.agent_ids.length ? doc.agent_ids.join(', ') : 'Every agent'],
      ['Characters', formatNumber(doc.chars)], ['Chunks', formatNumber(doc.chunk_count)],
      ['Created', formatDateTime(doc.created_at)], ['Updated', formatDateTime(doc.updated_at)]]
      .map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  const parts = [el('p', {}, el('a', { href: '#/knowledge' }, 'All documents')), facts];
  if (allowed.knowledgeWrite) {
    parts.push(el('div', { class: 'actions' }, confirmInPlace('Delete', 'Delete this document?', async () => {
      try {
        await api('DELETE', `/knowledge/documents/${encodeURIComponent(doc.id)}`);
        flash(`Deleted “${doc.title}”.`);
        location.hash = '#/knowledge';
      } catch (e) {
        status.replaceChildren(alertBox(e.message));
      }
    })), status);
  }
  parts.push(el('h2', {}, 'Extracted text'), el('pre', { class: 'json', id: 'document-content' }, doc.content ?? ''));
  show(doc.title, ...parts);
}
