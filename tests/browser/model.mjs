// A stand-in OpenAI-compatible model server (POST /v1/chat/completions, streamed), whose model name
// picks the behaviour:
//   echo    "You said: <last user message>" in 4-character chunks, at once
//   html    a reply made of HTML and script, cut mid-tag across chunks
//   gated   one chunk each time the test calls send(text), ending when it calls finish(): the test
//           decides when each token leaves, so it can watch the page between two tokens.
import http from 'node:http';

export const HTML_REPLY = '<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script><b>bold?</b>';

export async function startModel() {
  const takers = [];
  const gated = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw || '{}');
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end('{"error":{"message":"not found"}}');
    }
    const last = [...(body.messages || [])].reverse().find((m) => m.role === 'user')?.content ?? '';
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const chunk = (delta, finish = null) => res.write(`data: ${JSON.stringify({
      id: 'chatcmpl-1', object: 'chat.completion.chunk', model: body.model,
      choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    const finish = () => { chunk({}, 'stop'); res.end('data: [DONE]\n\n'); };
    chunk({ role: 'assistant', content: null });
    if (body.model === 'gated') {
      const handle = { last, send: (text) => chunk({ content: text }), finish };
      const taker = takers.shift();
      if (taker) taker(handle); else gated.push(handle);
      return;
    }
    const text = body.model === 'html' ? HTML_REPLY : `You said: ${last}`;
    for (let i = 0; i < text.length; i += 4) chunk({ content: text.slice(i, i + 4) });
    finish();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    /** The next request for the `gated` model, as soon as the server under test sends it. */
    nextGated: () => (gated.length ? Promise.resolve(gated.shift()) : new Promise((r) => takers.push(r))),
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  };
}
