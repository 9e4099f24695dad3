// Overview: the user totals and the last 30 UTC days as a uPlot chart (the
// vendored `uPlot` global), with the same figures as a table for keyboards
// and screen readers.

import { api } from './api.js';
import { el, alertBox, formatNumber, formatDay, formatShortDay } from './format.js';

const SERIES = [
  ['active_users', 'Active users', '#2f6fde'],
  ['new_users', 'New users', '#1f9d55'],
  ['conversations', 'Conversations', '#c77700'],
  ['messages', 'Messages', '#8e44ad'],
];

// Whole steps on the count axis: there is no half a user.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7];

// The chart last drawn, for whoever wants to read its data (the browser tests).
export const drawn = { chart: null };

export async function overview({ show, allowed }) {
  if (!allowed.usersRead) {
    return show('Overview', alertBox('This key lacks the users:read permission.'));
  }
  const [stats, daily] = await Promise.all([
    api('GET', '/customer-users/stats'),
    api('GET', '/stats/daily?days=30'),
  ]);
  const totals = el('dl', { class: 'totals' },
    ...[['Users', stats.total], ['Active', stats.active], ['Seen in 24 h', stats.last_day], ['Seen in 7 days', stats.last_week]]
      .map(([label, n]) => el('div', {}, el('dt', {}, label), el('dd', {}, formatNumber(n)))));
  const chartBox = el('div', { id: 'chart', class: 'chart', role: 'img', 'aria-label': 'Daily activity over the last 30 days' });
  const table = el('table', { class: 'daily' },
    el('caption', {}, 'The last 30 days (UTC)'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Day'), ...SERIES.map(([, label]) => el('th', { scope: 'col' }, label)))),
    el('tbody', {}, ...daily.data.slice().reverse().map((d) =>
      el('tr', {}, el('th', { scope: 'row' }, formatDay(d.date)), ...SERIES.map(([field]) => el('td', {}, formatNumber(d[field])))))));
  show('Overview', totals, el('h2', {}, 'Daily activity'), chartBox, el('div', { class: 'scroll' }, table));
  draw(chartBox, daily.data);
}

function draw(box, days) {
  const xs = days.map((d) => Date.parse(d.date + 'T00:00:00Z') / 1000);
  const data = [xs, ...SERIES.map(([field]) => days.map((d) => d[field]))];
  const width = Math.max(260, box.clientWidth - 16);
  drawn.chart?.destroy();
  drawn.chart = new uPlot({
    width,
    height: 260,
    series: [{ label: 'Day', value: (_, ts) => (ts === null ? '—' : utcDay(ts)) }, ...SERIES.map(([, label, stroke]) => ({ label, stroke, width: 2, value: (_, v) => (v === null ? '—' : formatNumber(v)) }))],
    axes: [{ space: 70, values: (_, ticks) => ticks.map(shortDay) }, { incrs: COUNT_STEPS, values: (_, ticks) => ticks.map(formatNumber) }],
  }, data, box);
}

// A chart time (seconds) as the UTC day it falls in, in the viewer's locale.
const utcDay = (ts) => formatDay(new Date(ts * 1000).toISOString().slice(0, 10));
const shortDay = (ts) => formatShortDay(new Date(ts * 1000).toISOString().slice(0, 10));
