// The console's shell: sign-in, the permission probe, and a hash router
// (#/overview, #/users, #/users/<id>, #/conversations, #/conversations/<id>,
// #/knowledge, #/knowledge/<id>, #/webhooks, #/webhooks/<id>).

import { currentKey, remember, forget, probe } from './api.js';
import { el, alertBox, takeFlash } from './format.js';
import { overview } from './overview.js';
import { users, userDetail } from './users.js';
import { conversations, transcript } from './conversations.js';
import { knowledge, documentDetail } from './knowledge.js';
import { webhooks, webhookDetail } from './webhooks.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
let allowed = null;

function show(title, ...content) {
  // What the action that led here did: a sentence, or a node (a new secret).
  const note = takeFlash();
  const shown = typeof note === 'string' ? el('p', { class: 'ok', role: 'status' }, note) : note;
  main.replaceChildren(el('h1', { tabindex: '-1' }, title), ...[shown, ...content].filter(Boolean));
  document.title = `${title} · PerformChat console`;
  main.querySelector('h1').focus();
}

function signInForm(problem) {
  const id = el('input', { id: 'key-id', name: 'keyId', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = el('input', { id: 'key-secret', name: 'keySecret', type: 'password', autocomplete: 'current-password', required: true });
  const status = el('div', { 'aria-live': 'polite' }, problem ? alertBox(problem) : null);
  const form = el('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    const key = { id: id.value.trim(), secret: secret.value.trim() };
    status.replaceChildren(el('p', {}, 'Checking the key…'));
    try {
      allowed = await probe(key);
      remember(key);
      route();
    } catch (e) {
      status.replaceChildren(alertBox(e.message));
    }
  } },
  el('p', {}, 'Sign in with an API key of your company. It is kept in this tab only.'),
  el('label', { for: 'key-id' }, 'Key id'), id,
  el('label', { for: 'key-secret' }, 'Key secret'), secret,
  el('button', { type: 'submit' }, 'Sign in'),
  status);
  nav.hidden = true;
  signOutButton.hidden = true;
  show('Sign in', form);
}

signOutButton.addEventListener('click', () => {
  forget();
  allowed = null;
  location.hash = '#/overview';
  signInForm();
});

// Each route() is one render; a section shows its page only if no later
// route() began while it waited for its data (a slow overview must not
// replace the Users page a quick click has already asked for).
let renders = 0;

async function route() {
  const render = ++renders;
  const current = (title, ...content) => {
    if (render === renders) show(title, ...content);
  };
  const key = currentKey();
  if (!key) return signInForm();
  if (!allowed) {
    try {
      allowed = await probe(key);
    } catch (e) {
      forget();
      return signInForm(e.message);
    }
  }
  nav.hidden = false;
  signOutButton.hidden = false;
  for (const link of nav.querySelectorAll('a')) link.hidden = !allowed[link.dataset.needs];
  const [section, id] = location.hash.replace(/^#\/?/, '').split('?')[0].split('/');
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const ctx = { show: current, allowed, params };
  try {
    if (section === 'users' && id) return await userDetail(ctx, decodeURIComponent(id));
    if (section === 'users') return await users(ctx);
    if (section === 'conversations' && id) return await transcript(ctx, decodeURIComponent(id));
    if (section === 'conversations') return await conversations(ctx);
    if (section === 'knowledge' && id && allowed.knowledgeRead) return await documentDetail(ctx, decodeURIComponent(id));
    if (section === 'knowledge' && allowed.knowledgeRead) return await knowledge(ctx);
    if (section === 'webhooks' && id && allowed.webhooksWrite) return await webhookDetail(ctx, decodeURIComponent(id));
    if (section === 'webhooks' && allowed.webhooksWrite) return await webhooks(ctx);
    // The first section the key may see.
    if (allowed.usersRead) return await overview(ctx);
    if (allowed.conversationsRead) return await conversations(ctx);
    if (allowed.knowledgeRead) return await knowledge(ctx);
    if (allowed.webhooksWrite) return await webhooks(ctx);
    return await overview(ctx);
  } catch (e) {
    current('Something went wrong', alertBox(e.message));
  }
}

window.addEventListener('hashchange', route);
route();
