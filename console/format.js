// Numbers and dates in the viewer's locale, and the small DOM helpers every
// view uses.

const number = new Intl.NumberFormat();
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

const dayShort = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

export const formatNumber = (n) => number.format(n);
export const formatDateTime = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');
// `YYYY-MM-DD` of a UTC day, shown as that day wherever the viewer is.
export const formatDay = (day) => dayOnly.format(new Date(day + 'T00:00:00Z'));
export const formatShortDay = (day) => dayShort.format(new Date(day + 'T00:00:00Z'));

// A small element builder: el('p', { class: 'x' }, 'text', child).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function alertBox(message) {
  return el('p', { class: 'error', role: 'alert' }, message);
}

// A note for the next view shown (what an action did before the page it
// was on is drawn again); app.js shows it once under the heading.
let pending = null;
export function flash(message) {
  pending = message;
}
export function takeFlash() {
  const message = pending;
  pending = null;
  return message;
}

// An action that asks first, in place: the button becomes the question with
// the action's button and Cancel (focus goes to the action, back on Cancel).
export function confirmInPlace(label, question, action) {
  const box = el('span', { class: 'confirm' });
  const ask = () => {
    // Disabled while the action runs, so a double click does it once.
    const yes = el('button', { type: 'button', class: 'danger', onclick: async () => {
      yes.disabled = true;
      try {
        await action();
      } finally {
        yes.disabled = false;
      }
    } }, label);
    const no = el('button', { type: 'button', class: 'secondary', onclick: () => { reset(); box.querySelector('button').focus(); } }, 'Cancel');
    box.replaceChildren(el('span', {}, question), ' ', yes, ' ', no);
    yes.focus();
  };
  const reset = () => box.replaceChildren(el('button', { type: 'button', class: 'secondary', onclick: ask }, label));
  reset();
  return box;
}
