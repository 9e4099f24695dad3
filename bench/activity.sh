#!/usr/bin/env bash
# What keeping the days users were active (for `GET /stats/daily`) costs token
# issue: W1 of bench/run.sh with the days kept, as the binary ships, and
# with nothing kept (the baseline binary with its activity triggers on
# customer_users dropped, if it has any), alternating in one sitting, on
# each backend.
#
#   bench/activity.sh [--runs N] [--users N] [--backends sqlite,postgres]
#                     [--bin PATH] [--baseline PATH]
#
#   --runs N         pairs of runs per backend (default 5); each run is a fresh
#                    server on a fresh database, kept then none, alternating
#   --users N        users of the tenant (default 100000, as bench/run.sh)
#   --bin PATH       the binary (default: cargo build --release, then
#                    target/release/performchat)
#   --baseline PATH  the binary of the "none" runs (default: --bin). Builds
#                    before 0017/0016 `activity_from_tokens` kept the days by
#                    triggers, which these runs drop; give such a build to
#                    compare today's token path with one that keeps nothing.
#
# Each run seeds the tenant, then runs W1 (bench/token.lua, 32 connections,
# BENCH_DURATION, 10 s) three times on the same server:
#   first      the run.sh figure: random users of all N, never seen before;
#   returning  every user's last_seen_at moved one day back first, then random
#              users of all N again: nearly every token is a user's first of
#              the day after an earlier day (the day it leaves is written);
#   repeat     the first 500 users only: after their first tokens, a day's
#              later tokens.
# Beside each pass's rate and p99, the CPU time the server (and on PostgreSQL
# the backends of its database) spent per token, which a loaded machine moves
# far less than a rate. Prints every run (rate, p99, CPU µs a token for each
# pass, user_activity rows) and the medians.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=5 users=100000 backends=sqlite,postgres bin= baseline=
pg_admin=${PERFORMCHAT_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk curl python3 sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --quiet --bin performchat)
  bin=$root/target/release/performchat
fi
baseline=${baseline:-$bin}
duration=${BENCH_DURATION:-10s}
work=$(mktemp -d)
pid= pg_db=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  [ -z "$pg_db" ] || psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# CPU time (ms) used so far by the server and, on PostgreSQL, by the
# backends serving its database: unlike a rate, a cost per request that
# other processes on a loaded machine barely move.
tick=$(getconf CLK_TCK)
cpu_ms() { # SERVER_PID [DATABASE]
  local pids=$1
  [ -z "${2:-}" ] || pids="$pids $(pgrep -f "^postgres: [a-z]+ $2 " | tr '\n' ' ')"
  for p in $pids; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done |
    awk -v t="$tick" '{ s += $1 } END { printf "%.0f\n", s * 1000 / t }'
}

# W1 as "RATE P99 REQUESTS" (requests/s, ms); non-2xx answers fail the run.
w1() {
  wrk -t1 -c32 -d"$duration" --latency -s "$here/token.lua" "$PERFORMCHAT_URL" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rate = $2 } / 99%/ { p99 = ms($2) } /requests in/ { n = $1 } /Non-2xx|Socket errors/ { bad = 1 }
    END { if (bad) { print "failed"; exit 1 } printf "%.0f %.1f %d\n", rate, p99, n }'
}

# W1 and its CPU cost: "RATE P99 CPU_US_PER_REQUEST".
w1_cpu() { # SERVER_PID [DATABASE]
  local before after rate p99 n
  before=$(cpu_ms "$@")
  read -r rate p99 n < <(w1)
  after=$(cpu_ms "$@")
  echo "$rate $p99 $(( (after - before) * 1000 / n ))"
}

# One run: a fresh database, the server (kept: --bin; none: --baseline with
# its activity triggers dropped), seed, W1 three times.
run() { # BACKEND kept|none
  local url drop back server=$bin
  [ "$2" = kept ] || server=$baseline
  case $1 in
    sqlite) rm -rf "$work/db"; mkdir -p "$work/db"; url="sqlite://$work/db/bench.db"
      sql() { sqlite3 -cmd '.timeout 10000' "$work/db/bench.db" "$1" >/dev/null; }
      drop() { sql 'DROP TRIGGER IF EXISTS user_activity_created; DROP TRIGGER IF EXISTS user_activity_seen;'; } ;;
    postgres) pg_db=performchat_activity_$$
      PGOPTIONS=--client-min-messages=warning psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      url="${pg_admin%/*}/$pg_db"
      sql() { PGOPTIONS=--client-min-messages=warning psql "$url" -qc "$1" >/dev/null; }
      drop() { sql 'DROP TRIGGER IF EXISTS user_activity_created ON customer_users'
        sql 'DROP TRIGGER IF EXISTS user_activity_seen ON customer_users'; } ;;
  esac
  back="UPDATE customer_users SET last_seen_at = last_seen_at - 86400000 WHERE last_seen_at IS NOT NULL"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export PERFORMCHAT_URL=http://127.0.0.1:$port PERFORMCHAT_CLI="$server --database-url $url"
  PERFORMCHAT_RATE_LIMITS=off "$server" --database-url "$url" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -fsS "$PERFORMCHAT_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
  # The migrations have run: the server answers.
  [ "$2" = kept ] || drop
  read -r KEY_ID KEY_SECRET AGENT_ID < <(python3 "$here/seed.py" "$users" u)
  export KEY_ID KEY_SECRET AGENT_ID N=$users PREFIX=u
  local first returning again db=
  [ "$1" = sqlite ] || db=$pg_db
  first=$(w1_cpu "$pid" $db)
  sql "$back"
  returning=$(w1_cpu "$pid" $db)
  again=$(N=500 w1_cpu "$pid" $db)
  local days
  case $1 in
    sqlite) days=$(sqlite3 "$work/db/bench.db" 'SELECT count(*) FROM user_activity') ;;
    postgres) days=$(psql "$url" -tAc 'SELECT count(*) FROM user_activity') ;;
  esac
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  if [ "$1" = postgres ]; then psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null; pg_db=; fi
  echo "$1 $2 $first $returning $again $days"
}

echo "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $users users, W1 $duration x3 per run, $runs pairs per backend" >&2
results=$work/results
for backend in ${backends//,/ }; do
  for i in $(seq "$runs"); do
    # Alternate which goes first, so a drift in the machine's load hits both alike.
    if [ $((i % 2)) = 1 ]; then order="kept none"; else order="none kept"; fi
    for variant in $order; do
      line=$(run "$backend" "$variant")
      echo "$line" >&2
      echo "$line" >>"$results"
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
# Columns: backend, variant, then rate, p99, CPU µs/token of each pass, then user_activity rows.
passes = ("first", "returning", "repeat")
print("| backend | days kept | " + " | ".join(f"{p}: req/s | p99 ms | CPU µs/token" for p in passes) + " | runs |")
print("|---|---|" + "---|---|---|" * len(passes) + "---|")
med = {}
for backend in dict.fromkeys(r[0] for r in rows):
    for variant in ("kept", "none"):
        rs = [r for r in rows if r[0] == backend and r[1] == variant]
        m = [statistics.median(float(r[k]) for r in rs) for k in range(2, 2 + 3 * len(passes))]
        med[backend, variant] = m
        cells = " | ".join(f"{m[3 * i]:.0f} | {m[3 * i + 1]:.1f} | {m[3 * i + 2]:.0f}" for i in range(len(passes)))
        print(f"| {backend} | {variant} | {cells} | {len(rs)} |")
for backend in dict.fromkeys(r[0] for r in rows):
    k, n = med[backend, "kept"], med[backend, "none"]
    print(f"{backend}, days kept against none (medians): " + "; ".join(
        f"{p} {100 * (k[3 * i] / n[3 * i] - 1):+.1f} % req/s, {100 * (k[3 * i + 2] / n[3 * i + 2] - 1):+.1f} % CPU a token"
        for i, p in enumerate(passes)))
PY
