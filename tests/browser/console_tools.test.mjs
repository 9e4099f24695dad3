// Tool calls in a console transcript, in headless Chromium (docs/CONSOLE.md): calls and results
// in the shapes of docs/API.md §6 are one line each ("Called order_status {…} → ok"), a result
// without its call still shows, and a message with neither content nor tools does not break the
// page. At 1280 px and 360 px, with screenshots, and no console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startServer } from './harness.mjs';
import { assertFits, openConsole, scriptErrors, signIn } from './console_page.mjs';

let server, browser, key;

before(async () => {
  server = await startServer();
  const company = server.cli('company', 'create', '--name', 'Console Tools Shop').id;
  key = server.cli('api-key', 'create', '--company', company, '--name', 'console tests');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const width of [1280, 360]) {
  test(`${width} px: a transcript shows tool calls as one line each, and messages with neither`, async () => {
    const { page, errors, context } = await openConsole(browser, server, width);
    await signIn(page, key);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Messages in the shapes of docs/API.md §6 (this server stores no tool messages yet).
    const lines = await page.evaluate(() => import('/console/conversations.js').then((m) => {
      const at = '2026-12-06T10:00:00Z';
      const node = m.renderTranscript([
        { id: 'msg_1', role: 'user', content: 'Where is order 7?', conversation_id: 'conv_1', created_at: at },
        { id: 'msg_2', role: 'tool', content: '', conversation_id: 'conv_1', created_at: at,
          tool_calls: [{ id: 'call_1', name: 'order_status', arguments: { order: 7 } },
            { id: 'call_2', name: 'refund', arguments: '{"order": 7}' }] },
        { id: 'msg_3', role: 'tool', content: '{"state":"shipped"}', conversation_id: 'conv_1', created_at: at, tool_call_id: 'call_1', status: 'ok' },
        { id: 'msg_4', role: 'tool', content: 'HTTP 500', conversation_id: 'conv_1', created_at: at, tool_call_id: 'call_2', status: 'error' },
        { id: 'msg_5', role: 'tool', content: 'late', conversation_id: 'conv_1', created_at: at, tool_call_id: 'call_9', status: 'ok' },
        { id: 'msg_6', role: 'assistant', content: 'It has shipped.', conversation_id: 'conv_1', created_at: at, sources: [] },
        { id: 'msg_7', role: 'assistant', conversation_id: 'conv_1', created_at: at },
      ]);
      const main = document.querySelector('main');
      main.replaceChildren(node);
      return [...node.children].map((li) => [...li.querySelectorAll('.tool-call')].map((c) => c.textContent)
        .concat([...li.querySelectorAll(':scope > .content')].map((p) => p.textContent)));
    }));
    assert.deepEqual(lines, [
      ['Where is order 7?'],
      ['Called order_status {"order":7} → okResult{"state":"shipped"}', 'Called refund {"order":7} → errorResultHTTP 500'],
      ['Result of call_9 → okResultlate'],
      ['It has shipped.'],
      [''],
    ]);
    await assertFits(page);
    await screenshot(page, `console-tools-${width}.png`);
    assert.deepEqual(scriptErrors(errors), []);
    await context.close();
  });
}
