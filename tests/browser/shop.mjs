// A company's site on another origin (localhost vs the API's 127.0.0.1, so the widget's calls are
// cross-origin as in real life): a page with the script tag, and the company's own back-end route
// that gets a chat token from POST /rest/v1/auth/token. It counts the token requests per user.
import http from 'node:http';

export async function startShop(api, tenant) {
  const calls = new Map();
  const stale = new Map();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const user = url.searchParams.get('user');
    const agent = url.searchParams.get('agent');
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(page(api));
    }
    if (url.pathname === '/chat-token' && user && agent) {
      calls.set(user, (calls.get(user) || 0) + 1);
      const body = stale.has(user) ? stale.get(user) : await tenant.token(user, agent, url.searchParams.get('expiresIn') || '1h');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(body));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://localhost:${server.address().port}`;
  return {
    url: (user, agent, extra = '') => `${base}/?user=${encodeURIComponent(user)}&agent=${encodeURIComponent(agent)}${extra}`,
    calls: (user) => calls.get(user) || 0,
    /** From now on the back end hands out `body` (an old token) for `user`. */
    serveStale: (user, body) => stale.set(user, body),
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  };
}

function page(api) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Widget Shop</title></head>
<body><h1>Widget Shop</h1><p>Questions? Ask our assistant.</p>
<script src="${api}/widget.js"></script>
<script>
  window.chat = PerformChat.init({
    baseUrl: ${JSON.stringify(api)},
    pageSize: Number(new URLSearchParams(location.search).get('pageSize')) || undefined,
    getToken: function () {
      return fetch('/chat-token' + location.search).then(function (r) {
        if (!r.ok) throw new Error('token ' + r.status);
        return r.json();
      });
    }
  });
</script></body></html>`;
}
