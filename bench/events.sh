#!/usr/bin/env bash
# What events cost: W1 and W6 with and without a webhook endpoint, and how
# fast the dispatcher delivers to a local receiver, on SQLite and PostgreSQL.
#
#   bench/events.sh [--users N] [--big N] [--burst N] [--rounds R] [--conditions LIST]
#                   [--backends sqlite,postgres] [--postgres-url ADMIN_URL] [--bin PATH]
#
#   --users N     users of the tenant W1 asks tokens for (default 100000)
#   --big N       users W6 bulk-creates in each measurement (default 200000)
#   --burst N     events in each delivery burst (default 20000)
#   --rounds R    rounds of the conditions, alternated (default 3)
#   --conditions  which of these to run, in this order on odd rounds and reversed on even ones
#                 (default none,hook):
#                   off   the event triggers dropped: no outbox at all (what events cost in total)
#                   none  events written (the outbox), no webhook endpoint
#                   hook  events written, and one endpoint subscribed to "*" at a local
#                         receiver that answers 204 at once (bench/receiver.js)
#   --backends, --postgres-url, --bin   as in bench/run.sh
#
# Every measurement is a freshly started release server on a fresh database,
# rate limits off, PERFORMCHAT_OUTBOUND_ALLOW=127.0.0.0/8 (the receiver is on
# 127.0.0.1). Per measurement: the W1 tenant is seeded (not timed), then, under
# `hook`, given its endpoint (so no backlog: W1 on existing users writes no
# events, only last_seen_at); W1 runs (wrk, 32 connections, BENCH_DURATION,
# default 10 s); then W6 bulk-creates --big users of a second tenant (1000 a
# call, 4 in flight), whose endpoint under `hook` exists before the first call,
# so its deliveries run while W6 does. Besides throughput, the CPU time of the
# server and, on PostgreSQL, of its database connections is read from /proc
# before and after each workload: on a shared machine that is steadier.
#
# Deliveries: on a server of their own, per backend, (1) "live": a burst of
# --burst creations through the bulk endpoint with the endpoint active, timed
# until the receiver has every event's webhook-id; (2) "backlog": the same
# burst written while the endpoint is inactive, then the endpoint activated
# and timed until all arrived, which is the dispatcher's rate alone.
# Needs wrk, curl, python3, node, and psql (PostgreSQL) / sqlite3 (`off` on SQLite).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
small=100000 big=200000 burst=20000 rounds=3 conditions=none,hook backends=sqlite,postgres bin=
pg_admin=${PERFORMCHAT_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
while [ $# -gt 0 ]; do
  case $1 in
    --users) small=$2; shift 2 ;;
    --big) big=$2; shift 2 ;;
    --burst) burst=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --conditions) conditions=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --postgres-url) pg_admin=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk curl python3 node; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --quiet --bin performchat)
  bin=$root/target/release/performchat
fi
duration=${BENCH_DURATION:-10s}
work=$(mktemp -d)
pid= rpid= pg_db=
stop_server() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=; }; }
drop_db() {
  [ -z "$pg_db" ] || psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  pg_db=
}
cleanup() {
  stop_server
  drop_db
  [ -z "$rpid" ] || { kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# The receiver, shared by every measurement (its counts are reset before each use).
node "$here/receiver.js" >"$work/receiver.port" &
rpid=$!
for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.05; done
receiver=http://127.0.0.1:$(cat "$work/receiver.port")
rstats() { curl -fsS "$receiver/stats"; }
rfield() { rstats | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

seconds() { date +%s.%N; }
# CPU seconds used so far by the server and, on PostgreSQL, by the database's
# connections (the pool keeps them open, so before/after differences hold).
cpu() {
  local pids=$pid
  [ -z "$pg_db" ] || pids="$pids $(psql "$pg_admin" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$pg_db'" | tr '\n' ' ')"
  python3 - $pids <<'PY'
import os, sys
total = 0
for p in sys.argv[1:]:
    try:
        fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        pass
print(total / os.sysconf("SC_CLK_TCK"))
PY
}

# Starts a server on a fresh database of BACKEND; sets $pid, $url, $PERFORMCHAT_URL.
start_server() {
  local backend=$1 name=$2
  case $backend in
    sqlite) mkdir -p "$work/$name"; url="sqlite://$work/$name/bench.db" ;;
    postgres)
      pg_db=performchat_evbench_$$_$name
      PGOPTIONS=--client-min-messages=warning psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      url="${pg_admin%/*}/$pg_db" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export PERFORMCHAT_URL=http://127.0.0.1:$port PERFORMCHAT_CLI="$bin --database-url $url"
  PERFORMCHAT_RATE_LIMITS=off PERFORMCHAT_OUTBOUND_ALLOW=127.0.0.0/8 \
    "$bin" --database-url "$url" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -fsS "$PERFORMCHAT_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$PERFORMCHAT_URL/health" >/dev/null || { echo "server did not start: $(tail -3 "$work/server.log")" >&2; exit 1; }
}
finish_server() { stop_server; drop_db; rm -rf "${work:?}/$1"; }

# The event triggers dropped, so no change writes an event.
drop_triggers() {
  local t
  for t in events_user_created events_user_updated events_tokens_invalidated; do
    if [ -n "$pg_db" ]; then
      psql "${pg_admin%/*}/$pg_db" -qc "DROP TRIGGER $t ON customer_users" >/dev/null
    else
      sqlite3 "${url#sqlite://}" "DROP TRIGGER $t"
    fi
  done
  for t in events_conversation_created:conversations events_message_created:messages; do
    if [ -n "$pg_db" ]; then
      psql "${pg_admin%/*}/$pg_db" -qc "DROP TRIGGER ${t%%:*} ON ${t#*:}" >/dev/null
    else
      sqlite3 "${url#sqlite://}" "DROP TRIGGER ${t%%:*}"
    fi
  done
}

api() { # METHOD PATH JSON-WITHOUT-CREDENTIALS
  curl -fsS -X "$1" -H 'Content-Type: application/json' \
    -d "{\"keyId\":\"$KEY_ID\",\"keySecret\":\"$KEY_SECRET\"${3:+,$3}}" "$PERFORMCHAT_URL$2"
}

# One measurement: prints KEY=VALUE lines.
measure() { # BACKEND CONDITION ROUND
  local backend=$1 cond=$2 name=m_$1_$2_$3
  # A subshell: its own clean-up if a step fails.
  trap 'stop_server; drop_db' EXIT
  start_server "$backend" "$name"
  [ "$cond" != off ] || drop_triggers
  curl -fsS -X POST "$receiver/reset" >/dev/null
  read -r KEY_ID KEY_SECRET AGENT_ID < <(python3 "$here/seed.py" "$small" u)
  export KEY_ID KEY_SECRET AGENT_ID N=$small PREFIX=u
  [ "$cond" != hook ] || api POST /rest/v1/webhooks "\"url\":\"$receiver/u\",\"events\":[\"*\"]" >/dev/null
  local c0 c1 t0 t1 out rate errors
  c0=$(cpu)
  out=$(wrk -t1 -c32 -d"$duration" -s "$here/token.lua" "$PERFORMCHAT_URL" 2>&1)
  c1=$(cpu)
  rate=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  errors=$(awk '/Non-2xx/ { print $NF } /Socket errors/ { print "socket" }' <<<"$out" | paste -sd+)
  local requests
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "w1_rate=$rate"
  echo "w1_errors=${errors:-0}"
  echo "w1_cpu_us=$(python3 -c "print(round(($c1 - $c0) / $requests * 1e6))")"

  local -a hook=()
  [ "$cond" != hook ] || hook=(env "SEED_WEBHOOK_URL=$receiver/m")
  c0=$(cpu) t0=$(seconds)
  "${hook[@]}" python3 "$here/seed.py" "$big" m >/dev/null
  t1=$(seconds) c1=$(cpu)
  echo "w6_rate=$(python3 -c "print(round($big / ($t1 - $t0)))")"
  echo "w6_cpu_us=$(python3 -c "print(round(($c1 - $c0) / $big * 1e6))")"
  [ "$cond" != hook ] || echo "w6_delivered=$(rfield unique)"
  finish_server "$name"
}

# Polls the receiver until COUNT distinct events arrived (or DEADLINE seconds); prints the time.
wait_delivered() { # COUNT DEADLINE
  local end
  end=$(python3 -c "print($(seconds) + $2)")
  while [ "$(rfield unique)" -lt "$1" ]; do
    python3 -c "import sys; sys.exit($(seconds) > $end)" ||
      { echo "only $(rfield unique) of $1 events delivered in $2 s" >&2; return 1; }
    sleep 0.05
  done
  seconds
}

deliveries() { # BACKEND
  local backend=$1 name=d_$1 t0 t1 t2 stats
  trap 'stop_server; drop_db' EXIT
  start_server "$backend" "$name"
  curl -fsS -X POST "$receiver/reset" >/dev/null
  t0=$(seconds)
  SEED_WEBHOOK_URL=$receiver/live python3 "$here/seed.py" "$burst" live >/dev/null
  t1=$(seconds)
  t2=$(wait_delivered "$burst" 900)
  stats=$(rstats)
  echo "live_write_s=$(python3 -c "print(round($t1 - $t0, 2))")"
  echo "live_drain_s=$(python3 -c "print(round($t2 - $t1, 2))")"
  echo "live_rate=$(python3 -c "print(round($burst / ($t2 - $t0)))")"
  echo "live_stats=$stats"

  curl -fsS -X POST "$receiver/reset" >/dev/null
  local webhook
  read -r KEY_ID KEY_SECRET AGENT_ID webhook < <(SEED_WEBHOOK_URL=$receiver/backlog SEED_WEBHOOK_ACTIVE=false \
    python3 "$here/seed.py" "$burst" backlog)
  t0=$(seconds)
  api PATCH "/rest/v1/webhooks/$webhook" '"active":true' >/dev/null
  t1=$(wait_delivered "$burst" 900)
  echo "backlog_s=$(python3 -c "print(round($t1 - $t0, 2))")"
  echo "backlog_rate=$(python3 -c "print(round($burst / ($t1 - $t0)))")"
  # Late duplicates (a lease that lapsed, a retry) would show here.
  sleep 1
  echo "backlog_stats=$(rstats)"
  finish_server "$name"
}

IFS=, read -r -a conds <<<"$conditions"
results=()
for backend in ${backends//,/ }; do
  for round in $(seq "$rounds"); do
    order=("${conds[@]}")
    if [ $((round % 2)) = 0 ]; then
      order=()
      for ((i = ${#conds[@]} - 1; i >= 0; i--)); do order+=("${conds[$i]}"); done
    fi
    for cond in "${order[@]}"; do
      echo "$backend round $round: $cond ..." >&2
      results+=("backend=$backend"$'\n'"cond=$cond"$'\n'"round=$round"$'\n'"$(measure "$backend" "$cond" "$round")")
      echo "${results[-1]}" | sed 's/^/  /' >&2
    done
  done
  echo "$backend: deliveries ..." >&2
  results+=("backend=$backend"$'\n'"cond=deliveries"$'\n'"$(deliveries "$backend")")
  echo "${results[-1]}" | sed 's/^/  /' >&2
done

echo
echo "$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "load: $(uptime | sed 's/.*load average/load average/')"
echo "W1: $small users, 32 connections, $duration; W6: $big users a measurement; $rounds rounds; burst $burst"
echo
python3 "$here/events_table.py" "${results[@]}"
