// What the console's browser tests share: REST calls with a key, a page that records console
// errors (none allowed on load, under the page's strict policy), and signing in.
import assert from 'node:assert/strict';

export const basic = (k) => `Basic ${Buffer.from(`${k.keyId}:${k.keySecret}`).toString('base64')}`;

/** A REST call to `server` with key `k`: { status, body } (body null for an empty answer). */
export async function rest(server, k, method, path, body) {
  const r = await fetch(`${server.base}/rest/v1${path}`, {
    method, headers: { Authorization: basic(k), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** A page of the console at `width` px that records every console error and uncaught exception. */
export async function openConsole(browser, server, width, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width, height: 800 }, ...contextOptions });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const response = await page.goto(`${server.base}/console`);
  assert.match(response.headers()['content-security-policy'], /^default-src 'self'/);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  // The page loads under its strict policy without a single console error.
  assert.deepEqual(errors, []);
  return { page, errors, context };
}

/** Errors other than the browser's note of a 4xx answer (the permission probe gets 404s and
 * 401s by design); a policy violation or a script error would be here. */
export const scriptErrors = (errors) =>
  errors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e));

export async function signIn(page, k) {
  await page.getByLabel('Key id').fill(k.keyId);
  await page.getByLabel('Key secret').fill(k.keySecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** No sideways scrolling: the page fits its viewport's width. */
export async function assertFits(page) {
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
}
