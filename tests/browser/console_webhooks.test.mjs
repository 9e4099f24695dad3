// The console's Webhooks page in headless Chromium (docs/CONSOLE.md): an endpoint added (its
// secret shown once and copied), a test event delivered to a local receiver and listed, the
// endpoint edited, its secret rotated, deleted after asking. At 1280 px and 360 px, with
// screenshots, and no console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launchBrowser, screenshot, startServer } from './harness.mjs';
import { assertFits, openConsole, rest as restWith, scriptErrors, signIn } from './console_page.mjs';

let server, browser, key, receiver;
const received = [];

const rest = (method, path, body, k = key) => restWith(server, k, method, path, body);

/** A webhook receiver on 127.0.0.1 (allowed by the server's outbound rule) answering 204. */
function startReceiver() {
  const s = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    received.push({ path: req.url, headers: req.headers, body: JSON.parse(raw || 'null') });
    res.writeHead(204).end();
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

before(async () => {
  receiver = await startReceiver();
  server = await startServer({ PERFORMCHAT_OUTBOUND_ALLOW: '127.0.0.0/8' });
  const company = server.cli('company', 'create', '--name', 'Console Webhook Shop').id;
  key = server.cli('api-key', 'create', '--company', company, '--name', 'console tests');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
});

for (const width of [1280, 360]) {
  test(`${width} px: a webhook endpoint's secret is shown once, a test is delivered and listed`, async () => {
    const { page, errors, context } = await openConsole(browser, server, width);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page, key);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const url = `http://127.0.0.1:${receiver.address().port}/hook-${width}`;
    await page.getByLabel('URL').fill(url);
    await page.getByLabel('Description (optional)').fill(`CRM ${width}`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.locator('#webhook-secret').textContent();
    assert.match(secret, /^whsec_/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await assertFits(page);
    await screenshot(page, `console-webhook-secret-${width}.png`);
    const endpoint = (await rest('GET', '/webhooks')).body.data.find((w) => w.url === url);
    assert.deepEqual(endpoint.events, ['*']);
    assert.equal(endpoint.description, `CRM ${width}`);

    // The endpoint's page never shows the secret again.
    await page.getByRole('link', { name: 'Open the endpoint' }).click();
    await page.getByRole('heading', { name: url }).waitFor();
    assert.ok(!(await page.locator('main').textContent()).includes(secret));
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/Test event evt_\w+ delivered \(HTTP 204\)/).waitFor({ timeout: 25000 });
    const eventId = (await page.getByText(/delivered \(HTTP 204\)/).textContent()).match(/evt_\w+/)[0];
    const delivered = received.find((r) => r.path === `/hook-${width}` && r.headers['webhook-id'] === eventId);
    assert.equal(delivered.body.type, 'webhook.test');
    const row = page.locator('#delivery-list tbody tr').filter({ hasText: eventId });
    assert.match(await row.textContent(), /Delivered \(204\)/);
    await assertFits(page);
    await screenshot(page, `console-webhook-${width}.png`);

    // Edit: one event type, inactive.
    await page.getByLabel('Every event').uncheck();
    await page.getByLabel('message.created').check();
    await page.getByLabel('Active (receives deliveries)').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const edited = (await rest('GET', `/webhooks/${endpoint.id}`)).body;
    assert.deepEqual([edited.events, edited.active], [['message.created'], false]);

    // Rotate (asks first) shows the new secret once.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.locator('#webhook-secret').textContent();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);

    // Delete asks first.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Delete this endpoint and its pending deliveries?').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: `Deleted the endpoint ${url}` }).waitFor();
    assert.equal((await rest('GET', `/webhooks/${endpoint.id}`)).status, 404);
    assert.deepEqual(scriptErrors(errors), []);
    await context.close();
  });

}
