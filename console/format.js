// Numbers and dates in the viewer's locale.

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
