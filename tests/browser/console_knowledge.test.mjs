// The console's Knowledge page in headless Chromium (docs/CONSOLE.md): a file and pasted text
// uploaded, a search as one agent and as another (the page shows the API's ranking), delete after
// asking, a document's text; a knowledge:read key sees no upload or delete, and a webhooks:write
// key only the webhooks. At 1280 px and 360 px, with screenshots, and no console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startServer } from './harness.mjs';
import { startModel } from './model.mjs';
import { assertFits, openConsole, rest as restWith, scriptErrors, signIn } from './console_page.mjs';

let server, model, browser, key, sales, companyId;

const rest = (method, path, body, k = key) => restWith(server, k, method, path, body);

before(async () => {
  model = await startModel();
  server = await startServer();
  companyId = server.cli('company', 'create', '--name', 'Console Knowledge Shop').id;
  key = server.cli('api-key', 'create', '--company', companyId, '--name', 'console tests');
  const agent = (name) => server.cli('agent', 'create', '--company', companyId, '--name', name,
    '--prompt-template', 'You help.', '--llm-url', model.url, '--llm-model', 'echo').id;
  agent('Support');
  sales = agent('Sales');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await model?.close();
});

// Each width's document names a fruit of its own, so its search finds it first.
const FRUIT = { 1280: 'kumquat', 360: 'quince' };
const returnsPolicy = (fruit) => `# Returns policy

## Refunds

Refunds for a returned ${fruit} crate reach your card within five working days.
`;

for (const width of [1280, 360]) {
  test(`${width} px: knowledge upload (file and text), search as an agent, delete after asking`, async () => {
    const { page, errors, context } = await openConsole(browser, server, width);
    await signIn(page, key);
    await page.getByRole('link', { name: 'Knowledge' }).click();
    await page.getByRole('heading', { name: 'Knowledge', level: 1 }).waitFor();

    // A Markdown file, for the Sales agent only.
    await page.getByLabel('Title').fill(`Returns ${width}`);
    await page.getByLabel('File (text, Markdown, HTML or PDF)').setInputFiles(
      { name: 'returns.md', mimeType: 'text/markdown', buffer: Buffer.from(returnsPolicy(FRUIT[width])) });
    await page.getByLabel('Sales').check();
    await page.getByRole('button', { name: 'Add document' }).click();
    await page.getByRole('status').filter({ hasText: `Added “Returns ${width}”` }).waitFor();
    // Pasted text, for every agent.
    await page.getByLabel('Title').fill(`Shipping ${width}`);
    await page.getByLabel('Paste text').check();
    await page.getByLabel('Text', { exact: true }).fill('Parcels ship within two days. Shipping abroad takes a week.');
    await page.getByRole('button', { name: 'Add document' }).click();
    await page.getByRole('status').filter({ hasText: `Added “Shipping ${width}”` }).waitFor();

    const docs = (await rest('GET', '/knowledge/documents?limit=100')).body.data;
    const returns = docs.find((d) => d.title === `Returns ${width}`);
    const shipping = docs.find((d) => d.title === `Shipping ${width}`);
    assert.equal(returns.content_type, 'text/markdown');
    assert.deepEqual(returns.agent_ids, [sales]);
    assert.equal(shipping.content_type, 'text/plain');
    assert.deepEqual(shipping.agent_ids, []);
    assert.equal(await page.locator('#document-list tbody tr').filter({ hasText: `Returns ${width}` })
      .locator('td').nth(4).textContent(), 'Sales');
    await assertFits(page);
    await screenshot(page, `console-knowledge-${width}.png`);

    // Search: as Support the Sales-only returns document is not given; as Sales it is, first.
    const search = async (agentName) => {
      await page.getByLabel('Question').fill(`how are refunds for a ${FRUIT[width]} crate paid?`);
      await page.getByLabel('As the agent').selectOption({ label: agentName });
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('#kb-results').filter({ hasNot: page.getByText('Searching…') }).locator('ol, p').first().waitFor();
      return page.locator('#kb-hits li strong, #kb-hits li a').allTextContents();
    };
    const asSales = await search('Sales');
    assert.equal(asSales[0], `Returns ${width}`);
    const api = (await rest('GET', `/knowledge/search?q=${encodeURIComponent(`how are refunds for a ${FRUIT[width]} crate paid?`)}&agent_id=${sales}&limit=10`)).body.data;
    assert.deepEqual(asSales, api.map((h) => h.title), 'the page shows the API ranking');
    assert.match(await page.locator('#kb-hits').textContent(), /Returns policy › Refunds/);
    await screenshot(page, `console-knowledge-search-${width}.png`);
    assert.ok(!(await search('Support')).some((t) => t.startsWith('Returns')), 'Support may not use the Sales document');

    // Delete asks first: Cancel keeps the document, confirming deletes it.
    const row = page.locator('#document-list tbody tr').filter({ hasText: `Shipping ${width}` });
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await rest('GET', `/knowledge/documents/${shipping.id}`)).status, 200);
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByText(`Delete “Shipping ${width}”?`).waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: `Deleted “Shipping ${width}”` }).waitFor();
    assert.equal((await rest('GET', `/knowledge/documents/${shipping.id}`)).status, 404);
    assert.equal(await page.locator('#document-list tbody tr').filter({ hasText: `Shipping ${width}` }).count(), 0);

    // A document's page shows its extracted text.
    await page.getByRole('link', { name: `Returns ${width}` }).click();
    await page.locator('#document-content', { hasText: `${FRUIT[width]} crate` }).waitFor();
    assert.deepEqual(scriptErrors(errors), []);
    await context.close();
  });

}

test('sections follow the key: knowledge:read alone sees no upload or delete, webhooks:write alone lands on webhooks', async () => {
  const reader = server.cli('api-key', 'create', '--company', companyId, '--name', 'reader', '--permissions', 'knowledge:read');
  const hooks = server.cli('api-key', 'create', '--company', companyId, '--name', 'hooks', '--permissions', 'webhooks:write');
  await rest('POST', '/knowledge/documents', { title: 'Opening hours', content: 'We are open from nine to five.' });
  const { page, errors, context } = await openConsole(browser, server, 1280);
  const shownSections = () => page.locator('#nav a:not([hidden])').allTextContents();
  await signIn(page, reader);
  await page.getByRole('heading', { name: 'Knowledge', level: 1 }).waitFor();
  assert.deepEqual(await shownSections(), ['Knowledge']);
  await page.getByRole('link', { name: 'Opening hours' }).waitFor();
  assert.equal(await page.locator('#upload').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
  // No agents:read: the search covers every document, without an agent choice.
  assert.equal(await page.getByLabel('As the agent').count(), 0);
  await page.getByLabel('Question').fill('when are you open?');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#kb-hits', { hasText: 'Opening hours' }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, hooks);
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  assert.deepEqual(await shownSections(), ['Webhooks']);
  assert.deepEqual(scriptErrors(errors), []);
  await context.close();
});
