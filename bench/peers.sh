#!/usr/bin/env bash
# Runs the same workloads against Pyralog, Redis Streams and NATS JetStream in
# one run on this machine (loopback only) and prints them side by side with
# ratios. Writes the table to bench/results/peers-latest.md.
#   COUNT=1000000 LAT_COUNT=20000 bench/peers.sh      (QUICK=1 for a smoke run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
count="${COUNT:-1000000}"
lat_count="${LAT_COUNT:-20000}"
if [ "${QUICK:-0}" = 1 ]; then count=50000; lat_count=2000; fi

if ! command -v redis-server >/dev/null || ! command -v nats-server >/dev/null; then
  [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq redis-server nats-server >/dev/null
fi
[ -x "$bin/pyralog-server" ] && [ -x "$bin/pyralog" ] || cargo build --release -p pyralog-server -p pyralog-cli
(cd bench/peers && go build -o "$CARGO_TARGET_DIR/nats-peer" .)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
results="$work/results.jsonl"
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
record() { # workload system json-line rss-kib
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["workload"]=sys.argv[1]; d["system"]=sys.argv[2]; d["rss_kib"]=int(sys.argv[4]); print(json.dumps(d))' "$@" >> "$results"
}

# --- Pyralog -----------------------------------------------------------------
pyralog_port=$((21000 + RANDOM % 1000))
"$bin/pyralog-server" --data-dir "$work/pyralog" --listen "127.0.0.1:$pyralog_port" > "$work/pyralog.out" 2>&1 &
pyralog_pid=$!; pids+=("$pyralog_pid")
for _ in $(seq 1 100); do grep -q "listening on" "$work/pyralog.out" 2>/dev/null && break; sleep 0.1; done
pl() { "$bin/pyralog" --server "127.0.0.1:$pyralog_port" --ca-file "$work/pyralog/tls/ca.pem" "$@" | grep '^{'; }
run_pyralog() { # workload log size partitions flush [extra...]
  local w=$1 log=$2 size=$3 parts=$4 flush=$5; shift 5
  local n=$count; [ "${1:-}" = --one-in-flight ] && n=$lat_count
  record "$w" pyralog "$(pl bench produce --log "$log" --record-size "$size" --count "$n" --partitions "$parts" --flush "$flush" --json "$@")" "$(rss $pyralog_pid)"
}
run_pyralog "produce 100 B, 1 partition, durable" p1 100 1 always
run_pyralog "produce 100 B, 4 partitions, durable" p4 100 4 always
run_pyralog "produce 100 B, 4 partitions, not durable" p4n 100 4 never
run_pyralog "produce 1 KiB, 4 partitions, durable" k4 1024 4 always
record "consume backlog, 100 B, 4 partitions" pyralog "$(pl bench consume --log p4 --json)" "$(rss $pyralog_pid)"
run_pyralog "one in flight, 100 B, durable" lat 100 1 always --one-in-flight

# --- Redis Streams (redis-benchmark, pipelined XADD) -------------------------
redis_bench() { # port workload mode size parts
  local port=$1 w=$2 mode=$3 size=$4 parts=$5 value pipe=1000 clients=4 n=$count
  value=$(head -c "$size" /dev/zero | tr '\0' 'x')
  [ "$mode" = latency ] && { pipe=1; clients=1; n=$lat_count; }
  local args=(-p "$port" -n "$n" -P "$pipe" -c "$clients" --csv)
  local csv
  if [ "$mode" = consume ]; then
    csv=$(redis-benchmark "${args[@]}" -n $((n / 1000)) XRANGE bench:000000000000 - + COUNT 1000 | tail -1)
  else
    csv=$(redis-benchmark "${args[@]}" -r "$parts" XADD "bench:__rand_int__" '*' f "$value" | tail -1)
  fi
  python3 - "$csv" "$mode" "$size" "$parts" "$n" <<'PY'
import csv, json, sys
row = next(csv.reader([sys.argv[1]]))
rps, mode, size, parts, n = float(row[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
msgs = rps * 1000 if mode == "consume" else rps
print(json.dumps({"records": n, "record_size": size, "partitions": parts, "msgs_per_s": round(msgs),
                  "mb_per_s": round(msgs * size / 1e6, 1), "p50_us": round(float(row[4]) * 1000),
                  "p99_us": round(float(row[6]) * 1000), "p999_us": 0}))
PY
}
for fsync in always everysec; do
  port=$((22000 + RANDOM % 1000))
  mkdir -p "$work/redis-$fsync"
  redis-server --port "$port" --dir "$work/redis-$fsync" --appendonly yes --appendfsync "$fsync" --save '' --daemonize no > "$work/redis-$fsync.out" 2>&1 &
  rpid=$!; pids+=("$rpid")
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  sys="redis-$fsync"
  record "produce 100 B, 1 partition, durable" "$sys" "$(redis_bench "$port" x produce 100 1)" "$(rss $rpid)"
  redis-cli -p "$port" flushall >/dev/null
  record "produce 100 B, 4 partitions, durable" "$sys" "$(redis_bench "$port" x produce 100 4)" "$(rss $rpid)"
  record "consume backlog, 100 B, 4 partitions" "$sys" "$(redis_bench "$port" x consume 100 4)" "$(rss $rpid)"
  redis-cli -p "$port" flushall >/dev/null
  record "produce 1 KiB, 4 partitions, durable" "$sys" "$(redis_bench "$port" x produce 1024 4)" "$(rss $rpid)"
  redis-cli -p "$port" flushall >/dev/null
  record "one in flight, 100 B, durable" "$sys" "$(redis_bench "$port" x latency 100 1)" "$(rss $rpid)"
  kill -TERM "$rpid"; wait "$rpid" 2>/dev/null || true
done

# --- NATS JetStream ------------------------------------------------------------
nats_port=$((23000 + RANDOM % 1000))
nats-server -js -p "$nats_port" -sd "$work/nats" > "$work/nats.out" 2>&1 &
npid=$!; pids+=("$npid")
sleep 1
np() { "$CARGO_TARGET_DIR/nats-peer" -url "nats://127.0.0.1:$nats_port" "$@"; }
record "produce 100 B, 1 partition, durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 1 -prefix a)" "$(rss $npid)"
record "produce 100 B, 4 partitions, durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 4 -prefix b)" "$(rss $npid)"
record "produce 100 B, 4 partitions, not durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 4 -storage memory -prefix c)" "$(rss $npid)"
record "produce 1 KiB, 4 partitions, durable" nats "$(np -mode produce -size 1024 -count "$count" -partitions 4 -prefix d)" "$(rss $npid)"
record "consume backlog, 100 B, 4 partitions" nats "$(np -mode consume -size 100 -count "$count" -partitions 4 -prefix b)" "$(rss $npid)"
record "one in flight, 100 B, durable" nats "$(np -mode latency -size 100 -count "$lat_count" -partitions 1 -prefix e)" "$(rss $npid)"

mkdir -p bench/results
python3 - "$results" <<'PY' | tee bench/results/peers-latest.md
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
systems = ["pyralog", "redis-always", "redis-everysec", "nats"]
workloads = list(dict.fromkeys(r["workload"] for r in rows))
get = {(r["workload"], r["system"]): r for r in rows}
print("| workload | " + " | ".join(systems) + " | pyralog/redis-always | pyralog/nats |")
print("|---" * (len(systems) + 3) + "|")
for w in workloads:
    lat = w.startswith("one in flight")
    def cell(s):
        r = get.get((w, s))
        if not r: return "-"
        if lat: return f"p50 {r['p50_us']} us, p99 {r['p99_us']} us"
        return f"{r['msgs_per_s']/1e6:.2f}M msgs/s, {r['mb_per_s']:.0f} MB/s"
    def ratio(s):
        a, b = get.get((w, "pyralog")), get.get((w, s))
        if not a or not b: return "-"
        if lat: return f"{b['p50_us'] / max(a['p50_us'], 1):.2f}x faster" 
        return f"{a['msgs_per_s'] / max(b['msgs_per_s'], 1):.2f}x"
    print(f"| {w} | " + " | ".join(cell(s) for s in systems) + f" | {ratio('redis-always')} | {ratio('nats')} |")
print()
print("Server resident memory after each workload (KiB): " + ", ".join(
    f"{s} max {max((r['rss_kib'] for r in rows if r['system'] == s), default=0)}" for s in systems))
PY
