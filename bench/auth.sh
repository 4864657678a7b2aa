#!/usr/bin/env bash
# What authentication and ACLs cost: the same produce runs against a server
# with authentication off, and against one with `[auth] enabled` as a
# superuser (no ACL is looked at) and as `alice`, whose writes each pass her
# ACLs (two rules of hers among ACLS others). Throughput (batched, 100 B
# records, flush always, acks all) and latency (one record in flight).
# ROUNDS (default 3) alternates the modes; the table quotes medians.
#   ROUNDS=3 COUNT=500000 ONE=20000 ACLS=1000 bench/auth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
cargo build --release --locked -p pyralog-server -p pyralog-cli

rounds="${ROUNDS:-3}"
count="${COUNT:-500000}"
one="${ONE:-20000}"
acls="${ACLS:-1000}"
# shellcheck source=bench/server.sh
source bench/server.sh
results="$data.jsonl"

# The second server: authentication on.
auth_data=$(mktemp -d)
auth_port=$((port + 1))
printf '[auth]\nenabled = true\nsuperusers = ["admin"]\n' > "$auth_data.toml"
"$bin/pyralog-server" --config "$auth_data.toml" --data-dir "$auth_data" --listen "127.0.0.1:$auth_port" \
  > "$auth_data.out" 2>&1 &
auth_server=$!
trap 'kill -TERM $auth_server 2>/dev/null || true; cleanup; rm -rf "$auth_data" "$auth_data.toml" "$auth_data.out"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$auth_data.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$auth_data.out" || { cat "$auth_data.out"; echo "the authenticating server did not start" >&2; exit 1; }
token() { "$bin/pyralog-server" token create "$1" --data-dir "$auth_data"; }
admin=$(token admin)
alice=$(token alice)
on=("$bin/pyralog" --server "127.0.0.1:$auth_port" --ca-file "$auth_data/tls/ca.pem")
"${on[@]}" --token "$admin" acl add alice write 'log:bench-*' > /dev/null
"${on[@]}" --token "$admin" acl add alice describe 'cluster' > /dev/null
for i in $(seq 1 "$acls"); do
  "${on[@]}" --token "$admin" acl add "user$i" write "log:team$i.*" > /dev/null
done

# mode name, then the command prefix that runs it
modes=("off" "superuser" "alice")
prefix() {
  case "$1" in
    off) echo "${cli[*]}" ;;
    superuser) echo "${on[*]} --token $admin" ;;
    alice) echo "${on[*]} --token $alice" ;;
  esac
}
for round in $(seq 1 "$rounds"); do
  for m in "${modes[@]}"; do
    read -r -a run <<< "$(prefix "$m")"
    echo "--- round $round of $rounds: $m" >&2
    # The logs are made beforehand (alice may only write).
    read -r -a admin_run <<< "$(prefix "$([ "$m" = off ] && echo off || echo superuser)")"
    for kind in t l; do
      "${admin_run[@]}" logs create "bench-$kind-$m-$round" --partitions 4 > /dev/null
    done
    t=$("${run[@]}" bench produce --log "bench-t-$m-$round" --count "$count" --json | tail -1)
    l=$("${run[@]}" bench produce --log "bench-l-$m-$round" --count "$one" --one-in-flight --json | tail -1)
    echo "{\"mode\":\"$m\",\"batched\":$t,\"one\":$l}" >> "$results"
  done
done

python3 - "$results" "$rounds" "$count" "$one" "$acls" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, count, one, acls = sys.argv[2:6]
by = {}
for r in rows:
    by.setdefault(r["mode"], []).append(r)
med = lambda m, part, f: statistics.median(r[part][f] for r in by[m])
base = med("off", "batched", "msgs_per_s")
print(f"100 B records, 4 partitions, flush always, acks all; batched: {count} records; one in flight: {one};")
print(f"alice's writes checked against {int(acls) + 2} ACLs; median of {rounds} rounds.")
print()
print("| mode | batched msgs/s | vs off | batched p50 / p99 us | one-in-flight msgs/s | one-in-flight p50 / p99 us |")
print("|---|---:|---:|---:|---:|---:|")
for m in by:
    print(f"| {m} | {med(m, 'batched', 'msgs_per_s')/1e3:.0f}k | {med(m, 'batched', 'msgs_per_s')/base:.2f}x | "
          f"{med(m, 'batched', 'p50_us'):.0f} / {med(m, 'batched', 'p99_us'):.0f} | "
          f"{med(m, 'one', 'msgs_per_s'):.0f} | {med(m, 'one', 'p50_us'):.0f} / {med(m, 'one', 'p99_us'):.0f} |")
print()
print("Each round, batched k msgs/s: " + "; ".join(
    f"{m} " + " / ".join(f"{r['batched']['msgs_per_s']/1e3:.0f}" for r in v) for m, v in by.items()))
PY
rm -f "$results"
