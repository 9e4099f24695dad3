#!/usr/bin/env bash
# The chat workloads against one freshly started server, one KEY=VALUE a line
# (bench/run.sh turns them into rows of its table).
#   chat.sh 'SERVER CMD with {PORT}' 'ADMIN CLI CMD' [CONVERSATIONS] [STREAMS]
# W7: CONVERSATIONS (default 2000) end users, each with a chat token and a
#     conversation with an agent whose model is the stand-in bench/model.js;
#     wrk posts messages over them in turn for BENCH_DURATION (10s) with 32
#     connections, each answer the whole SSE stream of a reply the model sends
#     at once. Figures: messages/s, p50 and p99 in ms, and the server's CPU
#     time per message in µs (steadier than rates on a shared machine).
# W8: STREAMS (default 1000) replies held open at once (the model `slow` sends a
#     piece a second for SLOW_SECONDS, default 60); the server's RSS before and
#     while they stream, and how many delivered a delta in the last 3 s.
# The server must run with rate limits off and allow STREAMS connections
# (--max-connections); this shell's open-file limit must allow STREAMS too.
# Needs wrk, node and python3 (with requests).
set -u
here=$(cd "$(dirname "$0")" && pwd)
server=$1 admin=$2 nconv=${3:-2000} nstreams=${4:-1000}
duration=${BENCH_DURATION:-10s}
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for tool in wrk node python3; do
  command -v "$tool" >/dev/null || { echo "chat_error=the chat workloads need $tool"; exit 0; }
done
# W8 holds a socket a stream here too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mport=$(freeport)
node "$here/model.js" "$mport" "${SLOW_SECONDS:-60}" & pids+=($!)
port=$(freeport)
export PERFORMCHAT_URL=http://127.0.0.1:$port PERFORMCHAT_CLI=$admin MODEL_URL=http://127.0.0.1:$mport/v1
# exec: the pid is the server's own, whose memory is read.
bash -c "exec ${server//\{PORT\}/$port}" >"$work/server.log" 2>&1 &
pid=$!; pids+=($pid)
for _ in $(seq 300); do curl -fsS "$PERFORMCHAT_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$PERFORMCHAT_URL/health" >/dev/null || { echo "chat_error=server did not start: $(tail -3 "$work/server.log")"; exit 0; }

# One company, two agents (the quick model and the slow one), an API key; a
# token and a conversation per end user, as "TOKEN CONVERSATION" lines.
python3 - "$nconv" "$nstreams" "$work" <<'PY' || { echo "chat_error=chat setup failed: $(tail -3 "$work/server.log")"; exit 0; }
import concurrent.futures, json, os, shlex, subprocess, sys
import requests
nconv, nstreams, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cli = shlex.split(os.environ["PERFORMCHAT_CLI"])
api = os.environ["PERFORMCHAT_URL"] + "/rest/v1"
def run(*args):
    out = subprocess.run(cli + list(args) + ["--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])
company = run("company", "create", "--name", "Chat bench")["id"]
def agent(name, model):
    return run("agent", "create", "--company", company, "--name", name, "--prompt-template",
               "You help {{customer_user.name}}.", "--llm-url", os.environ["MODEL_URL"], "--llm-model", model)["id"]
quick, slow = agent("Helper", "w7"), agent("Storyteller", "slow")
key = run("api-key", "create", "--company", company, "--name", "chat bench")
session = requests.Session()
def chat(args):
    who, user = args
    token = session.post(api + "/auth/token", json={"keyId": key["keyId"], "keySecret": key["keySecret"],
                                                    "agentId": who, "userId": user}).json()["token"]
    conv = session.post(api + "/chat/conversations", json={}, headers={"Authorization": f"Bearer {token}"}).json()["id"]
    return f"{token} {conv}"
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    for name, who, n, prefix in (("chats.txt", quick, nconv, "c"), ("slow.txt", slow, nstreams, "s")):
        with open(f"{work}/{name}", "w") as f:
            f.write("\n".join(pool.map(chat, ((who, f"{prefix}-{i}") for i in range(n)))) + "\n")
PY

# The server's CPU time (user + system, in clock ticks) around W7: per
# message it hardly depends on what else the machine is doing.
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
cpu0=$(cpu)
CHATS=$work/chats.txt wrk -t1 -c32 -d"$duration" --latency -s "$here/chat.lua" "$PERFORMCHAT_URL" >"$work/w7.txt" 2>&1
cpu1=$(cpu)
awk -v ticks=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" '/ requests in / { n = $1 }
  END { if (n > 0) printf "w7_cpu_us=%.0f\n", ticks / hz * 1e6 / n }' "$work/w7.txt"
awk '
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
  /Requests\/sec/ { rate = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
  /Non-2xx/ { errors = $NF } /Socket errors/ { errors = errors "+socket" }
  END { printf "w7_rate=%.0f\nw7_p50=%.1f\nw7_p99=%.1f\nw7_errors=%s\n", rate, p50, p99, (errors == "" ? 0 : errors) }' "$work/w7.txt"

# W8: every slow stream opened at once on a socket of its own; RSS once each
# has its first delta, then which of them deliver another within 3 s.
python3 - "$work/slow.txt" "$pid" <<'PY'
import os, selectors, socket, sys, time
host, port = os.environ["PERFORMCHAT_URL"].rsplit("/", 1)[-1].split(":")
def rss_mb():
    with open(f"/proc/{sys.argv[2]}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
before = rss_mb()
sel, body = selectors.DefaultSelector(), b'{"content":"Tell me a long story."}'
deltas = {}
for line in open(sys.argv[1]):
    token, conv = line.split()
    s = socket.create_connection((host, int(port)))
    s.sendall(f"POST /rest/v1/chat/conversations/{conv}/messages HTTP/1.1\r\nHost: bench\r\n"
              f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
              f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    deltas[s] = 0
def read_for(seconds, until=None):
    deadline = time.time() + seconds
    while time.time() < deadline and not (until and until()):
        for key, _ in sel.select(timeout=0.2):
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                continue
            deltas[key.fileobj] += data.count(b"event: delta")
read_for(60, until=lambda: all(n > 0 for n in deltas.values()))
live = sum(1 for n in deltas.values() if n > 0)
during = rss_mb()
seen = dict(deltas)
read_for(3)
delivering = sum(1 for s, n in deltas.items() if n > seen[s])
print(f"w8_streams={len(deltas)}\nw8_live={live}\nw8_delivering={delivering}\n"
      f"w8_rss_before={before:.0f}\nw8_rss_during={during:.0f}\nw8_kb={(during - before) * 1024 / max(live, 1):.1f}")
PY
