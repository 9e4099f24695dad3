// The stand-in language model of the chat workloads (bench/chat.sh): an
// OpenAI-compatible POST /v1/chat/completions that costs next to nothing, so
// W7 measures the server, not the model.
//   node model.js PORT [SLOW_SECONDS]
// Model `slow` (W8) streams one piece a second for SLOW_SECONDS (default 60),
// holding its reply open; any other model streams a ten-piece reply at once
// (or answers whole when the request does not ask for a stream).
const http = require('node:http');
const port = Number(process.argv[2]);
const slowSeconds = Number(process.argv[3] || 60);
const answer = 'Thanks for asking. Here is a short answer in ten small pieces, as a model would send it.';
const pieces = answer.match(/.{1,9}/g);

function chunk(model, delta, finish = null) {
  const body = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000),
    model, choices: [{ index: 0, delta, finish_reason: finish }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    let body = {};
    try { body = JSON.parse(Buffer.concat(parts).toString() || '{}'); } catch { /* treated as a plain request */ }
    const model = body.model || 'bench';
    if (!body.stream) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', model,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer } }] }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    if (model !== 'slow') {
      res.end(chunk(model, { role: 'assistant', content: '' }) + pieces.map((p) => chunk(model, { content: p })).join('')
        + chunk(model, {}, 'stop') + 'data: [DONE]\n\n');
      return;
    }
    let sent = 0;
    res.write(chunk(model, { role: 'assistant', content: 'Once ' }));
    const timer = setInterval(() => {
      sent += 1;
      if (sent >= slowSeconds) {
        clearInterval(timer);
        res.end(chunk(model, {}, 'stop') + 'data: [DONE]\n\n');
      } else {
        res.write(chunk(model, { content: `upon a time ${sent}, ` }));
      }
    }, 1000);
    res.on('close', () => clearInterval(timer));
  });
}).listen(port, '127.0.0.1');
