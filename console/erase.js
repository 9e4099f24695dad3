// Erasing a customer user (docs/API.md §12): the user, their conversations
// and messages go for good, so the button stays disabled until the user's
// external id is typed, as GitHub asks for a repository's name.

import { api } from './api.js';
import { el, alertBox, flash } from './format.js';

export function eraseCard(user) {
  const typed = el('input', { id: 'erase-confirm', name: 'confirm', autocomplete: 'off', spellcheck: 'false' });
  const button = el('button', { type: 'submit', class: 'danger', id: 'erase', disabled: true }, 'Erase this user');
  const status = el('div', { 'aria-live': 'polite' });
  typed.addEventListener('input', () => { button.disabled = typed.value !== user.external_id; });
  return el('form', { class: 'card danger-zone', id: 'erase-user', onsubmit: async (event) => {
    event.preventDefault();
    if (typed.value !== user.external_id) return;
    button.disabled = true;
    try {
      await api('DELETE', `/customer-users/${encodeURIComponent(user.id)}`);
      flash(`Erased ${user.external_id}: the user, their conversations and messages are gone, and their tokens no longer work.`);
      location.hash = '#/users';
    } catch (e) {
      status.replaceChildren(alertBox(e.message));
      button.disabled = false;
    }
  } },
  el('h2', {}, 'Erase'),
  el('p', {}, 'Erasing removes this user, their conversations and their messages for good, and ends their sessions. ',
    'A later token for the same external id makes a new user.'),
  el('label', { for: 'erase-confirm' }, 'Type ', el('code', {}, user.external_id), ' to confirm'),
  typed,
  button,
  status);
}
