// A webhook receiver for bench/events.sh: answers every POST with 204 at
// once and counts what arrived, so the benchmark measures the server, not the
// receiver. Node's standard library only.
//
//   node receiver.js            prints the port it listens on (127.0.0.1)
//   POST /anything              a delivery: counted by its webhook-id
//   GET  /stats                 { requests, unique, duplicates, missing_id, first_ms, last_ms }
//   POST /reset                 forgets everything counted so far
"use strict";
const http = require("http");

let seen, stats;
function reset() {
  seen = new Set();
  stats = { requests: 0, unique: 0, duplicates: 0, missing_id: 0, first_ms: null, last_ms: null };
}
reset();

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.method === "POST" && req.url === "/reset") {
    reset();
    res.writeHead(204);
    res.end();
    return;
  }
  // Answer before reading the body: the dispatcher's cost is what we time.
  res.writeHead(204);
  res.end();
  req.resume();
  const now = Date.now();
  stats.requests += 1;
  if (stats.first_ms === null) stats.first_ms = now;
  stats.last_ms = now;
  const id = req.headers["webhook-id"];
  if (!id) {
    stats.missing_id += 1;
  } else if (seen.has(id)) {
    stats.duplicates += 1;
  } else {
    seen.add(id);
    stats.unique += 1;
  }
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
