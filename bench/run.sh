#!/usr/bin/env bash
# The benchmark: workloads W1-W8 on SQLite and on PostgreSQL, each against a
# freshly started release server on an empty database, printed as one table.
#
#   bench/run.sh [--users N] [--big N] [--backends sqlite,postgres] [--postgres-url ADMIN_URL]
#                [--bin PATH] [--streams N] [--only users|chat] [--also LABEL 'SERVER CMD' 'CLI CMD']...
#
#   --users N     users of the small tenant, for W2 and W1 (default 100000)
#   --big N       users created by W6, searched, exported and counted by W3-W5 (default 1000000)
#   --backends    which of ours to run (default sqlite,postgres)
#   --postgres-url  a server where a throw-away database may be created
#                 (default $PERFORMCHAT_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
#   --bin PATH    a performchat binary to measure (default: cargo build --release, then target/release/performchat)
#   --streams N   reply streams W8 holds open at once (default 1000); ours gets --max-connections to match
#   --only        users: W1-W6 only; chat: W7 and W8 only (default both)
#   --also        another implementation of the same API to measure in the same sitting; in its
#                 commands {PORT} is the port to listen on and {DB} a fresh SQLite file path
#
# Needs wrk, curl and python3, and node for W7/W8's stand-in model (bench/model.js).
# Workloads (connections are wrk's, 10 s each; BENCH_DURATION changes it):
#   W2 lookup by external_id (GET with a JSON body), small tenant, 32 connections
#   W1 token issue for random existing users, small tenant, 32 connections
#   W6 bulk create of the big tenant, 1000 items a call, 4 calls in flight
#   W3 name-contains search, page of 20 with exact total, common terms, 8 connections
#   W4 CSV export of the big tenant, W5 stats of the big tenant, then the server's resident memory
#   W7 chat: a message and its streamed reply (SSE) from a stand-in model that answers at once,
#      2000 end users in their own conversations, 32 connections (bench/chat.sh, a server of its own)
#   W8 open reply streams: --streams replies held open at once by a model that writes a piece a
#      second; the server's RSS before and while they stream, and how many keep delivering
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
small=100000 big=1000000 backends=sqlite,postgres bin= streams=1000 only=
pg_admin=${PERFORMCHAT_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
labels=() servers=() clis=()
while [ $# -gt 0 ]; do
  case $1 in
    --users) small=$2; shift 2 ;;
    --big) big=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --postgres-url) pg_admin=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --also) labels+=("$2"); servers+=("$3"); clis+=("$4"); shift 4 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (e.g. apt-get install $tool)" >&2; exit 1; }
done
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --quiet --bin performchat)
  bin=$root/target/release/performchat
fi
work=$(mktemp -d)
pg_db=
cleanup() {
  [ -z "$pg_db" ] || psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

results=()
measure() { # LABEL SERVER CLI [CHAT SERVER]
  echo "measuring $1 ..." >&2
  local out= chat=
  [ "$only" = chat ] || out=$(PERFORMCHAT_RATE_LIMITS=off "$here/system.sh" "$2" "$3" "$small" "$big")
  [ "$only" = users ] || chat=$(PERFORMCHAT_RATE_LIMITS=off "$here/chat.sh" "${4:-$2}" "$3" 2000 "$streams")
  results+=("label=$1"$'\n'"$out"$'\n'"$chat")
}
for backend in ${backends//,/ }; do
  case $backend in
    sqlite) url="sqlite://$work/sqlite/bench.db"; mkdir -p "$work/sqlite" ;;
    postgres)
      pg_db=performchat_bench_$$
      PGOPTIONS=--client-min-messages=warning psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      url="${pg_admin%/*}/$pg_db" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  serve="$bin --database-url $url serve --listen 127.0.0.1:{PORT}"
  measure "performchat $backend" "$serve" "$bin --database-url $url" "$serve --max-connections $((streams + 100))"
  if [ "$backend" = postgres ]; then
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null; pg_db=
  fi
done
for i in "${!labels[@]}"; do
  mkdir -p "$work/also$i"
  db=$work/also$i/bench.db
  server=${servers[$i]//\{DB\}/$db} cli=${clis[$i]//\{DB\}/$db}
  measure "${labels[$i]}" "$server" "$cli"
done

echo
echo "$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "small tenant $small users (W2, W1), big tenant $big users (W6, W3, W4, W5); W7 2000 conversations, W8 $streams streams"
echo
python3 - "${results[@]}" <<'PY'
import sys
systems = [dict(line.split("=", 1) for line in arg.splitlines() if "=" in line) for arg in sys.argv[1:]]
def errors(s, w):
    e = s.get(f"{w}_errors", "0")
    return "" if e == "0" else f", {e} failed"
rows = [
    ("W2 lookup by external_id", lambda s: f"{s['w2_rate']} req/s, p99 {s['w2_p99']} ms{errors(s, 'w2')}"),
    ("W1 token issue", lambda s: f"{s['w1_rate']} req/s, p99 {s['w1_p99']} ms{errors(s, 'w1')}"),
    ("W6 bulk create", lambda s: f"{s['w6_rate']} rows/s"),
    ("W3 name search, 8 clients", lambda s: f"{s['w3_rate']} req/s, p50 {s['w3_p50']} ms, p99 {s['w3_p99']} ms{errors(s, 'w3')}"),
    ("W4 CSV export", lambda s: f"{s['w4_rate']} rows/s ({s['w4_rows']} rows)"),
    ("W5 stats", lambda s: f"{s['w5_ms']} ms"),
    ("server RSS at the end", lambda s: f"{s['rss_mb']} MB"),
    ("W7 chat message + streamed reply, 32 clients",
     lambda s: f"{s['w7_rate']} msgs/s, p50 {s['w7_p50']} ms, p99 {s['w7_p99']} ms, {s.get('w7_cpu_us', '–')} µs CPU a message{errors(s, 'w7')}"),
    ("W8 open reply streams", lambda s: f"{s['w8_live']}/{s['w8_streams']} streaming ({s['w8_delivering']} delivering), "
     f"RSS {s['w8_rss_before']} → {s['w8_rss_during']} MB, {s['w8_kb']} KB a stream"),
]
print("| workload | " + " | ".join(s["label"] for s in systems) + " |")
print("|---|" + "---|" * len(systems))
def shown(name, cell):
    def show(s):
        if "error" in s and not name.startswith("W7") and not name.startswith("W8"):
            return "failed"
        try:
            return cell(s)
        except KeyError:
            return "–"
    return [show(s) for s in systems]
for name, cell in rows:
    cells = shown(name, cell)
    # A workload none of the systems ran (--only) gets no row.
    if any(c != "–" for c in cells):
        print(f"| {name} | " + " | ".join(cells) + " |")
for s in systems:
    for key in ("error", "chat_error"):
        if key in s:
            print(f"\n{s['label']}: {s[key]}")
PY
