// Erasing a user from the console, in headless Chromium (docs/CONSOLE.md): the erase button
// stays disabled until the user's external id is typed exactly, and afterwards the user and their
// token are gone. At 1280 px and 360 px, with screenshots, and no console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deadUrl, launchBrowser, screenshot, startServer } from './harness.mjs';
import { assertFits, openConsole, rest as restWith, scriptErrors, signIn } from './console_page.mjs';

let server, browser, key;
const users = {};

const rest = (method, path, body, k = key) => restWith(server, k, method, path, body);

before(async () => {
  server = await startServer();
  const company = server.cli('company', 'create', '--name', 'Console Erase Shop').id;
  key = server.cli('api-key', 'create', '--company', company, '--name', 'console tests');
  // Tokens only: the agent's model is never asked.
  const agent = server.cli('agent', 'create', '--company', company, '--name', 'Support',
    '--prompt-template', 'You help.', '--llm-url', await deadUrl(), '--llm-model', 'none').id;
  for (const width of [1280, 360]) {
    const issued = (await rest('POST', '/auth/token', { userId: `erin-${width}`, agentId: agent })).body;
    users[width] = { id: issued.customerUser.id, token: issued.token };
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const width of [1280, 360]) {
  test(`${width} px: erasing a user needs their external id typed; then they are gone`, async () => {
    const { page, errors, context } = await openConsole(browser, server, width);
    const user = users[width];
    await signIn(page, key);
    await page.goto(`${server.base}/console#/users/${user.id}`);
    await page.getByRole('heading', { name: `erin-${width}` }).waitFor();
    const erase = page.getByRole('button', { name: 'Erase this user' });
    const confirm = page.getByLabel(`Type erin-${width} to confirm`);
    assert.ok(await erase.isDisabled());
    await confirm.fill(`erin-${width === 1280 ? 360 : 1280}`);
    assert.ok(await erase.isDisabled(), 'another id keeps the button disabled');
    await confirm.fill(`Erin-${width}`);
    assert.ok(await erase.isDisabled(), 'the id must match exactly');
    await confirm.fill(`erin-${width}`);
    assert.ok(await erase.isEnabled());
    await assertFits(page);
    await screenshot(page, `console-erase-${width}.png`);
    await erase.click();
    await page.getByRole('status').filter({ hasText: `Erased erin-${width}` }).waitFor();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    // The list is drawn with its heading, in one go.
    assert.equal(await page.locator('#user-list tbody tr').filter({ hasText: `erin-${width}` }).count(), 0,
      'the users list no longer has them');
    assert.equal((await rest('GET', `/customer-users/${user.id}`)).status, 404);
    assert.equal((await rest('POST', '/auth/verify-token', { token: user.token })).status, 401);
    assert.deepEqual(scriptErrors(errors), []);
    await context.close();
  });
}
