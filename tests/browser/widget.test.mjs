// The real widget in headless Chromium against a release server and a stand-in model (docs/API.md §8.1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deadUrl, launchBrowser, makeTenant, screenshot, startServer } from './harness.mjs';
import { HTML_REPLY, startModel } from './model.mjs';
import { startShop } from './shop.mjs';

let server, model, tenant, shop, browser;
const started = Date.now();

before(async () => {
  model = await startModel();
  server = await startServer();
  tenant = makeTenant(server, model.url, await deadUrl());
  shop = await startShop(server.base, tenant);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await shop?.close();
  await server?.stop();
  await model?.close();
  console.log(`browser tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

function widget(page) {
  return {
    launcher: page.locator('.launcher'),
    panel: page.locator('.panel'),
    newConversation: page.getByRole('button', { name: 'New conversation' }),
    back: page.getByRole('button', { name: 'All conversations' }),
    conversations: page.locator('.convs button'),
    empty: page.locator('.empty'),
    input: page.getByRole('textbox', { name: 'Message' }),
    notice: page.locator('.notice'),
    status: page.locator('.status'),
  };
}

/** Waits until the `index`th element matching `selector` in the widget has exactly `text`. */
async function waitForText(page, selector, text, index = -1) {
  await page.waitForFunction(([sel, want, i]) => {
    const host = document.querySelector('[data-performchat]');
    const all = host ? host.shadowRoot.querySelectorAll(sel) : [];
    const el = all[i < 0 ? all.length + i : i];
    return Boolean(el) && el.textContent === want;
  }, [selector, text, index], { timeout: 20000 });
}

const texts = (page, selector) => page.evaluate((sel) =>
  [...document.querySelector('[data-performchat]').shadowRoot.querySelectorAll(sel)].map((e) => e.textContent), selector);

const focused = (page) => page.evaluate(() => {
  const a = document.querySelector('[data-performchat]').shadowRoot.activeElement;
  return a ? `${a.tagName.toLowerCase()}${a.className ? `.${a.className}` : ''}` : null;
});

/** Console errors about the page's Content-Security-Policy (the demo page has a strict one). */
function cspViolations(page) {
  const seen = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) seen.push(m.text()); });
  return seen;
}

/** Polls a condition that the page reaches on its own (a response arriving), up to a deadline. */
async function eventually(check, what) {
  const deadline = Date.now() + 20000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const QUESTION = 'Can I change the delivery address of my order?';
const ANSWER = ['Yes, ', 'until it ships. ', 'Open My orders, pick the order ', 'and choose Edit address.'];

test('demo page: the reply streams in token by token, and the history is there after a reload', async () => {
  const t = await tenant.token('demo-user', tenant.agents.gated);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization }));
  const violations = cspViolations(page);
  await page.goto(`${server.base}/chat-demo#token=${t.token}`);
  const w = widget(page);
  await waitForText(page, 'header h2', 'Shop Assistant');
  await w.empty.waitFor();
  assert.equal(await focused(page), 'button.primary', 'opening the chat focuses its first control');
  await w.newConversation.click();
  assert.equal(await focused(page), 'textarea');
  await w.input.pressSequentially(QUESTION);
  await w.input.press('Enter');

  const reply = await model.nextGated();
  assert.equal(reply.last, QUESTION);
  await waitForText(page, '.msg.user .body', QUESTION);
  assert.equal(await w.input.inputValue(), '');
  let shown = '';
  for (const piece of ANSWER) {
    reply.send(piece);
    shown += piece;
    await waitForText(page, '.msg.assistant .body', shown); // on screen before the next token exists
    assert.equal(await page.locator('.msg.assistant').getAttribute('aria-busy'), 'true');
  }
  reply.finish();
  await page.locator('.msg.assistant:not([aria-busy])').waitFor();
  assert.equal(await focused(page), 'textarea', 'focus stays in the box for the next question');
  assert.equal(await page.locator('header p').textContent(), QUESTION, 'the new conversation is titled');
  await screenshot(page, 'widget-desktop.png');
  // The picture for the README: the widget alone, without the demo page's text behind it.
  await page.evaluate(() => { document.querySelector('main').style.visibility = 'hidden'; });
  await screenshot(page, 'widget-panel.png', { x: 860, y: 108, width: 420, height: 692 });
  await page.evaluate(() => { document.querySelector('main').style.visibility = ''; });

  await page.reload();
  await w.conversations.first().waitFor();
  assert.deepEqual(await texts(page, '.convs .t'), [QUESTION]);
  await w.conversations.first().click();
  await waitForText(page, '.msg.assistant .body', ANSWER.join(''));
  assert.deepEqual(await texts(page, '.msg .body'), [QUESTION, ANSWER.join('')]);

  const chat = requests.filter((r) => r.url.includes('/rest/v1/chat/'));
  assert.ok(chat.length >= 5, `chat calls: ${chat.length}`);
  assert.ok(chat.every((r) => r.auth === `Bearer ${t.token}`), 'the token goes in the Authorization header');
  assert.ok(requests.every((r) => !r.url.includes(t.token)), 'the token never appears in a request URL');
  assert.deepEqual(violations, [], 'the widget needs no inline script or style');
  await context.close();
});

test('phone width: the panel fills the screen; Escape closes it and focus returns to the launcher', async () => {
  const t = await tenant.token('phone-user', tenant.agents.echo);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const violations = cspViolations(page);
  await page.goto(`${server.base}/chat-demo#token=${t.token}`);
  const w = widget(page);
  await w.newConversation.click();
  await w.input.fill('Do you ship to Norway?');
  await w.input.press('Enter');
  await waitForText(page, '.msg.assistant .body', 'You said: Do you ship to Norway?');
  await page.locator('.msg.assistant:not([aria-busy])').waitFor();
  const box = await w.panel.boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height].map(Math.round), [0, 0, 390, 844]);
  assert.equal(await w.launcher.isVisible(), false, 'the launcher does not cover the open panel');
  await screenshot(page, 'widget-phone.png');

  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  assert.equal(await focused(page), 'button.launcher');
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Enter');
  await w.panel.waitFor();
  assert.equal(await focused(page), 'textarea', 'reopening goes back to the conversation');
  assert.deepEqual(violations, []);
  await context.close();
});

test('an invalidated token: one refresh shared by the pending calls and a retry; a second 401 says the session expired', async () => {
  const user = 'refresh-user';
  const agent = tenant.agents.echo;
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused = [];
  page.on('response', (r) => {
    if (r.url().includes('/rest/v1/chat/') && r.status() === 401) refused.push(new URL(r.url()).pathname);
  });
  await page.goto(shop.url(user, agent));
  const w = widget(page);
  await w.launcher.waitFor();
  assert.equal(shop.calls(user), 0, 'no token is fetched before the chat is opened');
  await w.launcher.click();
  await waitForText(page, 'header h2', 'Echo Assistant');
  await w.empty.waitFor();
  assert.equal(shop.calls(user), 1);

  await w.newConversation.click();
  await w.input.pressSequentially('line one');
  await w.input.press('Shift+Enter');
  await w.input.pressSequentially('line two');
  await w.input.press('Enter');
  await waitForText(page, '.msg.assistant .body', 'You said: line one\nline two');
  assert.deepEqual(await texts(page, '.msg.user .body'), ['line one\nline two']);

  const { customerUser } = await tenant.token(user, agent);
  await tenant.invalidate(customerUser.id);
  await w.back.click(); // the list asks for the session and the conversations at the same time
  await w.conversations.first().waitFor();
  await waitForText(page, 'header h2', 'Echo Assistant');
  await eventually(() => refused.length === 2, 'both calls to be refused');
  assert.deepEqual(refused.sort(), ['/rest/v1/chat/conversations', '/rest/v1/chat/session']);
  assert.equal(shop.calls(user), 2, 'one refresh for both refused calls');

  await w.conversations.first().click();
  await waitForText(page, '.msg.assistant .body', 'You said: line one\nline two');
  await w.input.fill('second');
  await w.input.press('Enter');
  await waitForText(page, '.msg.assistant .body', 'You said: second');
  assert.equal(shop.calls(user), 2);

  // The company's back end now hands out a token that is already dead: the retry fails too.
  const dead = await tenant.token(user, agent);
  await tenant.invalidate(customerUser.id);
  shop.serveStale(user, dead);
  await w.input.fill('third');
  await w.input.press('Enter');
  await w.notice.filter({ hasText: /session has expired/i }).waitFor();
  assert.equal(await w.input.inputValue(), 'third', 'the question stays in the box');
  assert.equal(shop.calls(user), 3);
  assert.deepEqual(await texts(page, '.msg.user .body'), ['line one\nline two', 'second']);
  await context.close();
});

test('the token is renewed 5 minutes before it expires', async () => {
  const user = 'clock-user';
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.clock.install({ time: new Date() });
  await page.goto(shop.url(user, tenant.agents.echo, '&expiresIn=10m'));
  const w = widget(page);
  await w.launcher.click();
  await w.empty.waitFor();
  assert.equal(shop.calls(user), 1);
  await page.clock.fastForward('04:50');
  assert.equal(await page.evaluate(() => 1), 1);
  assert.equal(shop.calls(user), 1, 'not yet');
  await page.clock.fastForward('00:20');
  await eventually(() => shop.calls(user) === 2, 'the scheduled refresh');
  await context.close();
});

test('model down: a clear message, and the question stays in the box', async () => {
  const t = await tenant.token('down-user', tenant.agents.down);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/chat-demo#token=${t.token}`);
  const w = widget(page);
  await w.newConversation.click();
  await w.input.fill('Is anyone there?');
  await w.input.press('Enter');
  await w.notice.filter({ hasText: 'The assistant is unavailable right now' }).waitFor();
  assert.equal(await w.input.inputValue(), 'Is anyone there?');
  assert.deepEqual(await texts(page, '.msg.user .note'), ['Not answered']);
  assert.equal(await page.locator('.msg.assistant').count(), 0);
  await screenshot(page, 'widget-model-down.png');
  await context.close();
});

test('model text is shown as text: HTML in a reply or a question runs nothing', async () => {
  const user = 'html-user';
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  const strays = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on('request', (r) => { if (/\/x$/.test(r.url())) strays.push(r.url()); });
  await page.goto(shop.url(user, tenant.agents.html));
  const w = widget(page);
  const question = '<img src=x onerror="window.__pwnedByQuestion=1;alert(1)"><b>hi</b>';
  await w.launcher.click();
  await w.newConversation.click();
  await w.input.fill(question);
  await w.input.press('Enter');
  await waitForText(page, '.msg.assistant .body', HTML_REPLY);
  await page.locator('.msg.assistant:not([aria-busy])').waitFor();

  const check = async () => {
    assert.deepEqual(await texts(page, '.msg .body'), [question, HTML_REPLY]);
    const parsed = await page.evaluate(() =>
      document.querySelector('[data-performchat]').shadowRoot.querySelectorAll('.log img, .log script, .log b').length);
    assert.equal(parsed, 0, 'no element was made from message text');
    assert.deepEqual(await page.evaluate(() => [typeof window.__pwned, typeof window.__pwnedByQuestion]), ['undefined', 'undefined']);
  };
  await check();
  await page.reload(); // and from the stored history
  await w.launcher.click();
  await w.conversations.first().click();
  await waitForText(page, '.msg.assistant .body', HTML_REPLY);
  await check();
  assert.deepEqual(strays, [], 'no image was requested');
  assert.deepEqual(dialogs, []);
  await context.close();
});

test('429: the widget waits Retry-After, says so, and sends again', async () => {
  const user = 'busy-user';
  const context = await browser.newContext();
  const page = await context.newPage();
  let refused = 0;
  await page.route(`${server.base}/rest/v1/chat/conversations/*/messages`, async (route) => {
    if (route.request().method() !== 'POST' || refused > 0) return route.continue();
    refused++;
    return route.fulfill({
      status: 429,
      headers: { 'Content-Type': 'application/json', 'Retry-After': '1', 'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers': 'Retry-After' },
      body: JSON.stringify({ statusCode: 429, message: 'Too many chat messages', error: 'Too Many Requests' }),
    });
  });
  await page.goto(shop.url(user, tenant.agents.echo));
  const w = widget(page);
  await w.launcher.click();
  await w.newConversation.click();
  await w.input.fill('Are you open on Sunday?');
  await w.input.press('Enter');
  await w.status.filter({ hasText: 'trying again in 1 s' }).waitFor();
  await waitForText(page, '.msg.assistant .body', 'You said: Are you open on Sunday?');
  assert.equal(refused, 1);
  assert.equal(await w.status.textContent(), '');
  assert.equal(await w.notice.isVisible(), false);
  await context.close();
});

test('history pages back with before: older messages load above, in order, until there are none', async () => {
  const user = 'history-user';
  const { token } = await tenant.token(user, tenant.agents.echo);
  const api = (path, body) => fetch(`${server.base}/rest/v1/chat${path}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  }).then((r) => { assert.equal(r.status, 201); return r.json(); });
  const conv = await api('/conversations', { title: 'Three questions' });
  for (const q of ['one', 'two', 'three']) await api(`/conversations/${conv.id}/messages`, { content: q });

  const context = await browser.newContext();
  const page = await context.newPage();
  const pages = [];
  page.on('request', (r) => { if (r.url().includes('/messages?')) pages.push(new URL(r.url()).search); });
  await page.goto(shop.url(user, tenant.agents.echo, '&pageSize=2'));
  const w = widget(page);
  const earlier = page.getByRole('button', { name: 'Load earlier messages' });
  await w.launcher.click();
  await w.conversations.first().click();
  await waitForText(page, '.msg .body', 'You said: three');
  assert.deepEqual(await texts(page, '.msg .body'), ['three', 'You said: three']);
  await earlier.click();
  await waitForText(page, '.msg .body', 'two', 0);
  assert.deepEqual(await texts(page, '.msg .body'), ['two', 'You said: two', 'three', 'You said: three']);
  await earlier.click();
  await waitForText(page, '.msg .body', 'one', 0);
  assert.deepEqual(await texts(page, '.msg .body'), ['one', 'You said: one', 'two', 'You said: two', 'three', 'You said: three']);
  await earlier.waitFor({ state: 'hidden' });
  assert.equal(pages.length, 3);
  assert.equal(pages[0], '?limit=2');
  assert.match(pages[1], /^\?limit=2&before=msg_/);
  assert.match(pages[2], /^\?limit=2&before=msg_/);
  await context.close();
});

test('a reply still streaming when the user moves on stays with its own conversation', async () => {
  const t = await tenant.token('wander-user', tenant.agents.gated);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/chat-demo#token=${t.token}`);
  const w = widget(page);
  await w.newConversation.click();
  await w.input.fill('First question');
  await w.input.press('Enter');
  const reply = await model.nextGated(); // the model has the question, and has said nothing yet
  await w.back.click();
  await w.conversations.first().waitFor();
  await w.newConversation.click();
  reply.send('Part');
  reply.send(' two');
  reply.finish();
  const stored = async () => {
    const r = await fetch(`${server.base}/rest/v1/chat/conversations?limit=1`, { headers: { Authorization: `Bearer ${t.token}` } });
    const [conv] = (await r.json()).data;
    const m = await fetch(`${server.base}/rest/v1/chat/conversations/${conv.id}/messages`, { headers: { Authorization: `Bearer ${t.token}` } });
    return (await m.json()).data.length === 2;
  };
  await eventually(stored, 'the reply to be stored');
  await page.locator('form button[type=submit]:not([disabled])').waitFor(); // the widget is done with it
  assert.equal(await page.locator('.msg').count(), 0, 'the new conversation stays empty');
  await w.back.click();
  await w.conversations.first().click();
  await waitForText(page, '.msg.assistant .body', 'Part two');
  assert.deepEqual(await texts(page, '.msg .body'), ['First question', 'Part two']);
  await context.close();
});
