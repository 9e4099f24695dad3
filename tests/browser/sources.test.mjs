// Knowledge-base sources under a reply, in the real widget: links for http(s) URLs, plain titles
// otherwise, titles as text, the same after a reload from the stored history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deadUrl, launchBrowser, makeTenant, screenshot, startServer } from './harness.mjs';
import { startModel } from './model.mjs';
import { startShop } from './shop.mjs';

let server, model, tenant, shop, browser;

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
});

const TRICKY = 'Refund <img src=x onerror="window.__pwned=1"> rules';

/** What the widget shows under each assistant reply: [{ text, href }] per source. */
const shownSources = (page) => page.evaluate(() =>
  [...document.querySelector('[data-performchat]').shadowRoot.querySelectorAll('.msg.assistant')].map((m) =>
    [...m.querySelectorAll('.sources li')].map((li) => {
      const a = li.querySelector('a');
      return { text: li.textContent, href: a ? a.getAttribute('href') : null, target: a ? a.target : null, rel: a ? a.rel : null };
    })));

test('sources appear under the reply: a link for an https URL, plain text without one, never HTML', async () => {
  await tenant.call('/knowledge/documents', {
    title: TRICKY, url: 'https://help.example.com/refunds',
    content: 'Refunds for a returned kumquat crate reach your card within five working days.',
  });
  await tenant.call('/knowledge/documents', {
    title: 'Kumquat crates', content: 'A kumquat crate holds forty kumquats, refunds included.',
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const strays = [];
  page.on('request', (r) => { if (/\/x$/.test(r.url())) strays.push(r.url()); });
  await page.goto(shop.url('sources-user', tenant.agents.echo));
  await page.locator('.launcher').click();
  await page.getByRole('button', { name: 'New conversation' }).click();
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill('When will the refund for my kumquat crate arrive?');
  await input.press('Enter');
  await page.locator('.msg.assistant:not([aria-busy]) .sources').waitFor({ timeout: 20000 });

  // Sorted by title, as the check sorts what is shown.
  const expected = [[
    { text: 'Kumquat crates', href: null, target: null, rel: null },
    { text: TRICKY, href: 'https://help.example.com/refunds', target: '_blank', rel: 'noopener noreferrer' },
  ]];
  const check = async () => {
    const shown = await shownSources(page);
    // Rank decides the order; both documents are there, each shown its own way.
    const sortedShown = shown.map((s) => [...s].sort((a, b) => a.text.localeCompare(b.text)));
    assert.deepEqual(sortedShown, expected);
    const parsed = await page.evaluate(() =>
      document.querySelector('[data-performchat]').shadowRoot.querySelectorAll('.sources img').length);
    assert.equal(parsed, 0, 'no element was made from a title');
    assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
  };
  await check();
  await screenshot(page, 'sources.png');
  await page.reload(); // and from the stored history
  await page.locator('.launcher').click();
  await page.locator('.convs button').first().click();
  await page.locator('.msg.assistant .sources').waitFor({ timeout: 20000 });
  await check();
  assert.deepEqual(strays, [], 'no image was requested');
  await context.close();
});

test('a reply with no sources shows none', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(shop.url('plain-user', tenant.agents.echo));
  await page.locator('.launcher').click();
  await page.getByRole('button', { name: 'New conversation' }).click();
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill('Zyzzyva quux?');
  await input.press('Enter');
  await page.locator('.msg.assistant:not([aria-busy])').waitFor({ timeout: 20000 });
  assert.deepEqual(await shownSources(page), [[]]);
  await context.close();
});
