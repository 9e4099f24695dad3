#!/usr/bin/env bash
# Runs workloads W1-W6 against one freshly started server and prints its
# figures, one KEY=VALUE a line (bench/run.sh turns them into a table).
#   system.sh 'SERVER CMD with {PORT}' 'ADMIN CLI CMD' N_SMALL N_BIG
# The server must start on an empty database with rate limits off.
set -u
here=$(cd "$(dirname "$0")" && pwd)
server=$1 admin=$2 small=$3 big=$4
duration=${BENCH_DURATION:-10s}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PERFORMCHAT_URL=http://127.0.0.1:$port PERFORMCHAT_CLI=$admin
# exec: $pid is the server itself, whose memory is measured at the end.
bash -c "exec ${server//\{PORT\}/$port}" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -fsS "$PERFORMCHAT_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$PERFORMCHAT_URL/health" >/dev/null || { echo "error=server did not start: $(tail -3 "$work/server.log")"; exit 1; }

# wrk's summary as "RATE P50 P99 ERRORS" (latencies in ms).
load() {
  wrk -t1 -c"$1" -d"$duration" --latency -s "$here/$2.lua" "$PERFORMCHAT_URL" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
    /Requests\/sec/ { rate = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
    /Non-2xx/ { errors = $NF } /Socket errors/ { errors = errors "+socket" }
    END { printf "%.0f %.1f %.1f %s\n", rate, p50, p99, (errors == "" ? 0 : errors) }'
}
seconds() { date +%s.%N; }

read -r KEY_ID KEY_SECRET AGENT_ID < <(python3 "$here/seed.py" "$small" u) ||
  { echo "error=seeding $small users failed: $(tail -3 "$work/server.log")"; exit 1; }
export KEY_ID KEY_SECRET AGENT_ID N=$small PREFIX=u
read -r rate p50 p99 errors < <(load 32 lookup)
printf "w2_rate=%s\nw2_p99=%s\nw2_errors=%s\n" "$rate" "$p99" "$errors"
read -r rate p50 p99 errors < <(load 32 token)
printf "w1_rate=%s\nw1_p99=%s\nw1_errors=%s\n" "$rate" "$p99" "$errors"

t0=$(seconds)
read -r KEY_ID KEY_SECRET AGENT_ID < <(python3 "$here/seed.py" "$big" m) ||
  { echo "error=seeding $big users failed: $(tail -3 "$work/server.log")"; exit 1; }
t1=$(seconds)
echo "w6_rate=$(python3 -c "print(round($big / ($t1 - $t0)))")"
export KEY_ID KEY_SECRET
read -r rate p50 p99 errors < <(load 8 search)
printf "w3_rate=%s\nw3_p50=%s\nw3_p99=%s\nw3_errors=%s\n" "$rate" "$p50" "$p99" "$errors"

body="{\"keyId\":\"$KEY_ID\",\"keySecret\":\"$KEY_SECRET\"}"
t0=$(seconds)
lines=$(curl -fsS -X GET -H 'Content-Type: application/json' -d "$body" \
  "$PERFORMCHAT_URL/rest/v1/customer-users/export?format=csv" | wc -l)
t1=$(seconds)
echo "w4_rate=$(python3 -c "print(round(($lines - 1) / ($t1 - $t0)))")"
echo "w4_rows=$((lines - 1))"
t0=$(seconds)
curl -fsS -X GET -H 'Content-Type: application/json' -d "$body" "$PERFORMCHAT_URL/rest/v1/customer-users/stats" >/dev/null
t1=$(seconds)
echo "w5_ms=$(python3 -c "print(round(($t1 - $t0) * 1000, 1))")"
echo "rss_mb=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
