// The company console in headless Chromium (docs/CONSOLE.md): sign-in with a key, the chart's
// points against GET /stats/daily, search, metadata editing, ending sessions, a transcript, a
// read-only key, at 1280 px and 360 px wide, and no console errors under the page's strict policy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startServer } from './harness.mjs';
import { startModel } from './model.mjs';
import { assertFits, openConsole, rest as restWith, scriptErrors, signIn } from './console_page.mjs';

let server, model, browser, key, readOnly, agent;
let annToken;

const rest = (method, path, body, k = key) => restWith(server, k, method, path, body);

async function chat(token, path, body) {
  const r = await fetch(`${server.base}/rest/v1/chat${path}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

before(async () => {
  model = await startModel();
  server = await startServer();
  const company = server.cli('company', 'create', '--name', 'Console Shop').id;
  key = server.cli('api-key', 'create', '--company', company, '--name', 'console tests');
  readOnly = server.cli('api-key', 'create', '--company', company, '--name', 'read only',
    '--permissions', 'users:read,conversations:read');
  agent = server.cli('agent', 'create', '--company', company, '--name', 'Echo Assistant',
    '--prompt-template', 'You help.', '--llm-url', model.url, '--llm-model', 'echo').id;
  const issued = await rest('POST', '/auth/token', { userId: 'ann-ext', agentId: agent });
  annToken = issued.body.token;
  await rest('POST', '/auth/token', { userId: 'bob-ext', agentId: agent });
  await rest('PUT', `/customer-users/${issued.body.customerUser.id}`,
    { name: 'Ann Example', email: 'ann@example.com', metadata: { plan: 'premium' } });
  const conv = await chat(annToken, '/conversations', { title: 'Delivery address' });
  await chat(annToken, `/conversations/${conv.id}/messages`, { content: 'Where is my parcel?' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await model?.close();
});

const open = (width) => openConsole(browser, server, width);

for (const width of [1280, 360]) {
  test(`${width} px: sign in, the chart draws stats/daily, search, edit, transcript`, async () => {
    const { page, errors, context } = await open(width);
    await signIn(page, key);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('#chart canvas').waitFor();
    const drawn = await page.evaluate(() => import('/console/overview.js').then((m) => m.drawn.chart.data));
    const daily = (await rest('GET', '/stats/daily?days=30')).body.data;
    assert.equal(daily.length, 30);
    assert.deepEqual(drawn[0], daily.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000));
    for (const [i, field] of ['active_users', 'new_users', 'conversations', 'messages'].entries()) {
      assert.deepEqual(drawn[i + 1], daily.map((d) => d[field]), field);
    }
    // Today: two users active and created, one conversation, two messages.
    assert.deepEqual(drawn.map((s) => s[29]).slice(1), [2, 2, 1, 2]);
    await assertFits(page);
    await screenshot(page, `console-overview-${width}.png`);

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search by').selectOption('email');
    await page.getByLabel('Search for').fill('ANN@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    // The unfiltered list stays until the search's answer replaces it.
    await page.waitForFunction(() => document.querySelectorAll('#user-list tbody tr').length === 1);
    await page.getByRole('link', { name: 'Ann Example' }).waitFor();
    await screenshot(page, `console-users-${width}.png`);
    await page.getByRole('link', { name: 'Ann Example' }).click();
    await page.getByRole('heading', { name: 'Ann Example' }).waitFor();
    assert.match(await page.locator('#metadata').textContent(), /"plan": "premium"/);
    await screenshot(page, `console-user-${width}.png`);
    await page.getByRole('link', { name: 'Delivery address' }).click();
    await page.locator('#transcript').waitFor();
    const said = await page.locator('#transcript .content').allTextContents();
    assert.deepEqual(said, ['Where is my parcel?', 'You said: Where is my parcel?']);
    await screenshot(page, `console-transcript-${width}.png`);
    // Sources are shown when a message has them, and a tool call as one line
    // (console_tools.test.mjs has the rest).
    const [answer, tool] = await page.evaluate(() => import('/console/conversations.js').then((m) => [
      m.renderMessage({ id: 'msg_a', role: 'assistant', content: 'Within 30 days.', created_at: '2026-12-06T10:00:00Z',
        sources: [{ title: 'Returns policy', url: 'https://example.com/returns', snippet: 'Returns are free.' }] }),
      m.renderMessage({ id: 'msg_t', role: 'tool', content: '', created_at: '2026-12-06T10:00:01Z',
        tool_calls: [{ id: 'call_1', name: 'order_status', arguments: { order: 7 } }] }),
    ].map((node) => ({ text: node.textContent, links: [...node.querySelectorAll('a')].map((a) => a.href) }))));
    assert.match(answer.text, /Sources \(1\)Returns policyReturns are free\./);
    assert.deepEqual(answer.links, ['https://example.com/returns']);
    assert.match(tool.text, /Called order_status \{"order":7\} → no result/);
    assert.deepEqual(scriptErrors(errors), []);
    await context.close();
  });
}

test('metadata is edited as JSON (invalid JSON refused), and ending sessions refuses old tokens', async () => {
  const { page, errors, context } = await open(1280);
  await signIn(page, key);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Search for').fill('Ann');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'Ann Example' }).click();
  const editor = page.getByLabel('Metadata (a JSON object)');
  await editor.fill('{"plan": "gold",');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'Metadata is not valid JSON' }).waitFor();
  const id = (await rest('GET', '/customer-users?external_id=ann-ext')).body.data[0].id;
  assert.deepEqual((await rest('GET', `/customer-users/${id}`)).body.metadata, { plan: 'premium' });
  await editor.fill('{"plan": "gold", "seats": 3}');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#metadata', { hasText: '"gold"' }).waitFor();
  assert.deepEqual((await rest('GET', `/customer-users/${id}`)).body.metadata, { plan: 'gold', seats: 3 });

  assert.equal((await rest('POST', '/auth/verify-token', { token: annToken })).status, 200);
  await page.getByRole('button', { name: 'End all sessions' }).click();
  await page.getByText('All sessions ended').waitFor();
  const refused = await rest('POST', '/auth/verify-token', { token: annToken });
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.deepEqual(scriptErrors(errors), []);
  await context.close();
});

test('a read-only key sees no edit buttons, and signing out forgets the key', async () => {
  const { page, errors, context } = await open(1280);
  await signIn(page, readOnly);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('link', { name: 'Ann Example' }).click();
  await page.getByRole('heading', { name: 'Ann Example' }).waitFor();
  assert.equal(await page.locator('#edit-user').count(), 0);
  assert.equal(await page.getByRole('button', { name: /Deactivate|End all sessions|Save/ }).count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  // A wrong secret is refused with the server's message.
  await signIn(page, { keyId: readOnly.keyId, keySecret: 'sk_wrong' });
  await page.getByRole('alert').filter({ hasText: 'Invalid API credentials' }).waitFor();
  assert.deepEqual(scriptErrors(errors), []);
  await context.close();
});
