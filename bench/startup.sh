#!/usr/bin/env bash
# How long a node takes to serve again after a restart, and how much disk its
# partitions take, by partition count: for each N in PARTITIONS (default
# "10 100 1000"), a fresh release server gets one log of N partitions with
# one record in each, is stopped (SIGTERM), and started again; the time from
# the start until `pyralog logs describe` answers (clients see `NodeStarting`,
# retriable, until then) is the startup time. Also the data directory's
# allocated size after creation. ROUNDS (default 3) repeats each N; the
# table quotes medians.
#   PARTITIONS="10 100 1000" ROUNDS=3 bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
cargo build --release --locked -p pyralog-server -p pyralog-cli

rounds="${ROUNDS:-3}"
counts="${PARTITIONS:-10 100 1000}"
# Longest a start may take before the bench gives up, in seconds.
start_limit=120

ms() { date +%s%3N; }

# Starts the server on $data/$port in the background; sets `server`.
start() {
  "$bin/pyralog-server" --data-dir "$data" --listen "127.0.0.1:$port" >> "$data.out" 2>&1 &
  server=$!
}

# Waits until `pyralog logs $2...` answers (the node serves clients); prints the ms taken since $1.
served_after() {
  local began=$1 deadline=$((SECONDS + start_limit))
  shift
  until "$bin/pyralog" --server "127.0.0.1:$port" --ca-file "$data/tls/ca.pem" logs "$@" > /dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "the server did not serve within ${start_limit}s" >&2; exit 1; }
    sleep 0.05
  done
  echo $(($(ms) - began))
}

results=$(mktemp)
trap 'kill -TERM "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "${data:-}" "${data:-}.out" "$results"' EXIT
for n in $counts; do
  for round in $(seq 1 "$rounds"); do
    data=$(mktemp -d)
    port=$((20000 + RANDOM % 20000))
    echo "--- $n partitions, round $round of $rounds" >&2
    began=$(ms)
    start
    first=$(served_after "$began" list)
    "$bin/pyralog" --server "127.0.0.1:$port" --ca-file "$data/tls/ca.pem" logs create startup --partitions "$n" > /dev/null
    for p in $(seq 0 $((n - 1))); do echo "k$p:r$p"; done |
      "$bin/pyralog" --server "127.0.0.1:$port" --ca-file "$data/tls/ca.pem" produce startup --key-separator : > /dev/null
    disk_kib=$(du -sk "$data" | cut -f1)
    kill -TERM "$server"
    wait "$server" || true
    began=$(ms)
    start
    restart_ms=$(served_after "$began" describe startup)
    kill -TERM "$server"
    wait "$server" || true
    echo "{\"partitions\":$n,\"empty_start_ms\":$first,\"restart_ms\":$restart_ms,\"disk_kib\":$disk_kib}" >> "$results"
    rm -rf "$data" "$data.out"
  done
done

python3 - "$results" "$rounds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["partitions"], []).append(r)
print(f"One log of N partitions, N keyed records over them; restart after SIGTERM; median of {sys.argv[2]} rounds.")
print()
print("| partitions | first start ms | restart until served ms | disk after create MiB | per partition KiB |")
print("|---:|---:|---:|---:|---:|")
for n, v in by.items():
    med = lambda f: statistics.median(r[f] for r in v)
    print(f"| {n} | {med('empty_start_ms'):.0f} | {med('restart_ms'):.0f} | {med('disk_kib')/1024:.1f} | {med('disk_kib')/n:.0f} |")
print()
print("Each round, restart ms: " + "; ".join(f"{n}: " + " / ".join(str(r["restart_ms"]) for r in v) for n, v in by.items()))
PY
