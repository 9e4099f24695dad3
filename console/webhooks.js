// Webhooks: the company's endpoints, adding one (its signing secret shown
// once, with a copy button), changing its events, activity, URL or
// description, rotating its secret, deleting it, its recent deliveries and a
// test event (docs/API.md §11.3). Every call needs webhooks:write, reads too.

import { api } from './api.js';
import { el, alertBox, confirmInPlace, flash, formatNumber, formatDateTime } from './format.js';

// The types of docs/API.md §11.1 an endpoint may subscribe to.
const EVENT_TYPES = ['customer_user.created', 'customer_user.updated', 'customer_user.deleted',
  'conversation.created', 'message.created', 'tokens.invalidated'];

const eventsText = (events) => (events.includes('*') ? 'Every event' : events.join(', '));

export async function webhooks({ show }) {
  const list = await api('GET', '/webhooks');
  const status = el('div', { id: 'webhook-status', 'aria-live': 'polite' });
  const table = list.data.length
    ? el('div', { class: 'scroll' }, el('table', { id: 'webhook-list' },
      el('thead', {}, el('tr', {}, ...['URL', 'Events', 'Status', 'Description', 'Created'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...list.data.map((w) => el('tr', {},
        el('td', {}, el('a', { href: `#/webhooks/${encodeURIComponent(w.id)}` }, w.url)),
        el('td', {}, eventsText(w.events)),
        el('td', {}, w.active ? 'Active' : 'Inactive'),
        el('td', {}, w.description ?? '—'),
        el('td', {}, formatDateTime(w.created_at)))))))
    : el('p', {}, 'No endpoints yet.');
  show('Webhooks', table, status, endpointForm(null, async (body) => {
    try {
      const made = await api('POST', '/webhooks', body);
      flash(secretPanel(made, 'added'));
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      status.replaceChildren(alertBox(e.message));
    }
  }));
}

// The secret as the API gives it, once: on creation and on rotation.
function secretPanel(endpoint, what) {
  const code = el('code', { id: 'webhook-secret' }, endpoint.secret);
  const copy = el('button', { type: 'button', id: 'copy-secret', onclick: async () => {
    try {
      await navigator.clipboard.writeText(endpoint.secret);
      copy.textContent = 'Copied';
    } catch {
      // No clipboard (an insecure origin, or refused): select it for Ctrl+C.
      getSelection().selectAllChildren(code);
      copy.textContent = 'Selected: press Ctrl+C';
    }
  } }, 'Copy');
  return el('div', { class: 'card secret', role: 'status' },
    el('p', {}, `Endpoint ${endpoint.url} ${what}. Its signing secret is shown only now: copy it into the receiving system.`),
    el('div', { class: 'secret-line' }, code, copy),
    el('p', {}, el('a', { href: `#/webhooks/${encodeURIComponent(endpoint.id)}` }, 'Open the endpoint')));
}

// The add form (endpoint null) or the edit form; `save` gets the body to send.
function endpointForm(endpoint, save) {
  const prefix = endpoint ? 'edit' : 'new';
  const url = el('input', { id: `${prefix}-url`, name: 'url', type: 'url', required: true, maxlength: '2048', value: endpoint?.url ?? '', placeholder: 'https://…' });
  const description = el('input', { id: `${prefix}-description`, name: 'description', maxlength: '500', value: endpoint?.description ?? '' });
  const events = endpoint?.events ?? ['*'];
  const every = el('input', { type: 'checkbox', id: `${prefix}-every`, checked: events.includes('*') });
  const picks = EVENT_TYPES.map((t) => el('input', { type: 'checkbox', id: `${prefix}-event-${t}`, value: t, checked: events.includes(t) }));
  const sync = () => { for (const p of picks) p.disabled = every.checked; };
  every.addEventListener('change', sync);
  sync();
  const active = endpoint ? el('input', { type: 'checkbox', id: 'edit-active', checked: endpoint.active }) : null;
  const problem = el('div', { 'aria-live': 'polite' });
  return el('form', { class: 'card', id: endpoint ? 'edit-webhook' : 'add-webhook', onsubmit: async (event) => {
    event.preventDefault();
    const chosen = every.checked ? ['*'] : picks.filter((p) => p.checked).map((p) => p.value);
    if (!chosen.length) return problem.replaceChildren(alertBox('Choose at least one event, or every event.'));
    problem.replaceChildren();
    const body = { url: url.value.trim(), events: chosen };
    const text = description.value.trim();
    if (endpoint) {
      body.description = text || null;
      body.active = active.checked;
    } else if (text) {
      body.description = text;
    }
    await save(body);
  } },
  el('h2', {}, endpoint ? 'Edit' : 'Add an endpoint'),
  el('label', { for: `${prefix}-url` }, 'URL'), url,
  el('label', { for: `${prefix}-description` }, 'Description (optional)'), description,
  el('fieldset', {}, el('legend', {}, 'Events'),
    el('div', { class: 'check' }, every, el('label', { for: `${prefix}-every` }, 'Every event')),
    ...EVENT_TYPES.map((t, i) => el('div', { class: 'check' }, picks[i], el('label', { for: `${prefix}-event-${t}` }, t)))),
  active ? el('div', { class: 'check' }, active, el('label', { for: 'edit-active' }, 'Active (receives deliveries)')) : null,
  problem,
  el('button', { type: 'submit' }, endpoint ? 'Save' : 'Add endpoint'));
}

function deliveryTable(attempts) {
  if (!attempts.length) return el('p', {}, 'No deliveries yet.');
  const outcome = (a) => {
    if (a.status_code !== null && a.status_code >= 200 && a.status_code < 300) return `Delivered (${a.status_code})`;
    const why = a.status_code !== null ? `HTTP ${a.status_code}` : (a.error ?? 'no answer');
    return a.next_attempt_at ? `Failed: ${why}; retry ${formatDateTime(a.next_attempt_at)}` : `Failed: ${why}`;
  };
  return el('div', { class: 'scroll' }, el('table', { id: 'delivery-list' },
    el('thead', {}, el('tr', {}, ...['Time', 'Event', 'Attempt', 'Outcome', 'Duration'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...attempts.map((a) => el('tr', {},
      el('td', {}, formatDateTime(a.created_at)),
      el('td', {}, el('code', {}, a.event_id)),
      el('td', { class: 'num' }, formatNumber(a.attempt)),
      el('td', {}, outcome(a)),
      el('td', { class: 'num' }, `${formatNumber(a.duration_ms)} ms`))))));
}

export async function webhookDetail({ show }, id) {
  const path = `/webhooks/${encodeURIComponent(id)}`;
  const [endpoint, attempts] = await Promise.all([api('GET', path), api('GET', `${path}/deliveries`)]);
  const status = el('div', { id: 'webhook-status', 'aria-live': 'polite' });
  const say = (node) => status.replaceChildren(node);
  const deliveries = el('div', { id: 'deliveries' }, deliveryTable(attempts.data));
  const reload = async () => {
    const fresh = await api('GET', `${path}/deliveries`);
    deliveries.replaceChildren(deliveryTable(fresh.data));
    return fresh.data;
  };
  const facts = el('dl', { class: 'facts' },
    ...[['Id', endpoint.id], ['URL', endpoint.url], ['Events', eventsText(endpoint.events)],
      ['Status', endpoint.active ? 'Active' : 'Inactive'], ['Description', endpoint.description ?? '—'],
      ['Created', formatDateTime(endpoint.created_at)], ['Updated', formatDateTime(endpoint.updated_at)]]
      .map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  const test = el('button', { type: 'button', id: 'send-test', onclick: async () => {
    test.disabled = true;
    try {
      const sent = await api('POST', `${path}/test`);
      say(el('p', {}, `Test event ${sent.id} queued; waiting for its delivery…`));
      say(await awaitDelivery(sent.id, reload, endpoint.active));
    } catch (e) {
      say(alertBox(e.message));
    } finally {
      test.disabled = false;
    }
  } }, 'Send a test event');
  const rotate = confirmInPlace('Rotate secret', 'Make a new secret? The old one keeps signing for 24 hours.', async () => {
    try {
      const rotated = await api('POST', `${path}/rotate-secret`);
      flash(secretPanel(rotated, 'has a new secret'));
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      say(alertBox(e.message));
    }
  });
  const remove = confirmInPlace('Delete', 'Delete this endpoint and its pending deliveries?', async () => {
    try {
      await api('DELETE', path);
      flash(`Deleted the endpoint ${endpoint.url}.`);
      location.hash = '#/webhooks';
    } catch (e) {
      say(alertBox(e.message));
    }
  });
  show(endpoint.url,
    el('p', {}, el('a', { href: '#/webhooks' }, 'All endpoints')),
    facts,
    el('div', { class: 'actions' }, test, rotate, remove),
    status,
    el('h2', {}, 'Recent deliveries'),
    el('p', { class: 'hint' }, 'The latest 100 attempts, newest first. ',
      el('button', { type: 'button', class: 'secondary', id: 'refresh-deliveries', onclick: () => reload().catch((e) => say(alertBox(e.message))) }, 'Refresh')),
    deliveries,
    endpointForm(endpoint, async (body) => {
      try {
        await api('PATCH', path, body);
        flash('Saved.');
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (e) {
        say(alertBox(e.message));
      }
    }));
}

// Deliveries are made by the server's dispatcher, not by the request: poll
// the log (every second, for at most 20 s) until the test's first attempt shows.
async function awaitDelivery(eventId, reload, active) {
  if (!active) return el('p', {}, 'Test event queued: an inactive endpoint receives it once it is active again.');
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const attempt = (await reload()).find((a) => a.event_id === eventId);
    if (attempt) {
      const ok = attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300;
      return ok
        ? el('p', { class: 'ok' }, `Test event ${eventId} delivered (HTTP ${attempt.status_code}).`)
        : alertBox(`Test event ${eventId} failed: ${attempt.status_code !== null ? `HTTP ${attempt.status_code}` : attempt.error}. It will be retried.`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return el('p', {}, `Test event ${eventId} is queued; no attempt yet. Refresh the deliveries in a moment.`);
}
