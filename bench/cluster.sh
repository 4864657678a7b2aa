#!/usr/bin/env bash
# Replication's cost and failover time on a 3-node cluster on this machine
# (scripts/cluster.sh, release build, loopback). In the same run, ROUNDS
# times: durable produce (flush always) of 100 B records to 4 partitions with
# RF 1 and with RF 3 (min ISR 2, acks=all), a backlog consume of each, and
# one-in-flight latency of each. Then KILLS times: the leader of an RF 3
# partition is SIGKILLed while a one-in-flight producer writes to it; the
# failover time is from the kill to the first acknowledgement after it.
# Prints medians and ratios and writes them to bench/results/cluster-latest.md.
#   ROUNDS=3 COUNT=500000 LAT_COUNT=5000 KILLS=20 bench/cluster.sh   (QUICK=1: a smoke run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
count="${COUNT:-500000}"
lat_count="${LAT_COUNT:-5000}"
rounds="${ROUNDS:-3}"
kills="${KILLS:-20}"
if [ "${QUICK:-0}" = 1 ]; then count=20000; lat_count=500; rounds=1; kills=2; fi
# Per kill: the node stays down this long, then must be back in every ISR within ISR_WAIT_S.
DOWN_S=3
ISR_WAIT_S=60

[ -x "$bin/pyralog-server" ] && [ -x "$bin/pyralog" ] || cargo build --release -p pyralog-server -p pyralog-cli
work=$(mktemp -d)
export PYRALOG_BIN="$bin" PYRALOG_CLUSTER_DIR="$work/cluster"
cleanup() { scripts/cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
scripts/cluster.sh start
servers="127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292"
pyralog() { "$bin/pyralog" --server "$servers" --ca-file "$PYRALOG_CLUSTER_DIR/tls/ca.pem" "$@"; }
results="$work/results.jsonl"
record() { # workload rf json-line
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["workload"]=sys.argv[1]; d["rf"]=int(sys.argv[2]); print(json.dumps(d))' "$@" >> "$results"
}
rf_args() { # rf: the log's replication and the producer's acks
  if [ "$1" = 1 ]; then echo "--replication-factor 1"; else echo "--replication-factor 3 --min-insync-replicas 2 --acks all"; fi
}

for round in $(seq 1 "$rounds"); do
  for rf in 1 3; do
    log="tput-rf$rf-$round"
    # shellcheck disable=SC2046
    out=$(pyralog bench produce --log "$log" --partitions 4 --flush always --record-size 100 --count "$count" $(rf_args "$rf") --json)
    echo "round $round, RF $rf: $(echo "$out" | head -1)"
    record produce "$rf" "$(echo "$out" | tail -1)"
    out=$(pyralog bench consume --log "$log" --json)
    record consume "$rf" "$(echo "$out" | tail -1)"
    # shellcheck disable=SC2046
    out=$(pyralog bench produce --log "lat-rf$rf-$round" --partitions 4 --flush always --record-size 100 --count "$lat_count" --one-in-flight $(rf_args "$rf") --json)
    record latency "$rf" "$(echo "$out" | tail -1)"
  done
done

# --- failover ------------------------------------------------------------------
leader_of() { # log: the leader of its partition 0
  pyralog logs describe "$1" | awk '$1 == "partition" && $2 == "0" { for (i = 1; i <= NF; i++) if ($i == "leader") print $(i + 1) }'
}
in_sync() { # log: true when partition 0 has all three replicas in its ISR
  pyralog logs describe "$1" | grep -Eq '^ +partition +0 .*isr \[[0-9]+, [0-9]+, [0-9]+\]'
}
log="failover"
pyralog logs create "$log" --partitions 1 --replication-factor 3 --min-insync-replicas 2 >/dev/null
kills_at="$work/kills"
: > "$kills_at"
duration=$((kills * (DOWN_S + 6) + 10))
pyralog bench produce --log "$log" --record-size 100 --count 1000000000 --duration "$duration" \
  --one-in-flight --acks all --timeline "$work/acks" > "$work/failover-producer.out" &
producer=$!
sleep 2
for k in $(seq 1 "$kills"); do
  leader=$(leader_of "$log")
  [ -n "$leader" ] && [ "$leader" != none ] || { echo "no leader before kill $k"; exit 1; }
  before=$(date +%s%6N)
  scripts/cluster.sh kill "$leader" >/dev/null
  echo "$before $(date +%s%6N)" >> "$kills_at"   # the kill was sent, the process is gone
  sleep "$DOWN_S"
  scripts/cluster.sh restart "$leader" >/dev/null
  for _ in $(seq 1 $((ISR_WAIT_S * 10))); do in_sync "$log" && break; sleep 0.1; done
  in_sync "$log" || { echo "node $leader not back in the ISR within ${ISR_WAIT_S}s"; exit 1; }
  echo "kill $k of $kills: node $leader"
  sleep 1
done
wait "$producer"
python3 - "$kills_at" "$work/acks" "$results" <<'EOF'
import bisect, json, sys
kills = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
acks = [int(l) for l in open(sys.argv[2]) if l.strip()]
gaps = []
# From the kill to the first acknowledgement once the old leader is surely
# gone (an ack in flight during the kill command does not count).
for sent, gone in kills:
    i = bisect.bisect_right(acks, gone)
    if i == len(acks):
        sys.exit(f"no acknowledgement after the kill at {sent}")
    gaps.append((acks[i] - sent) / 1000)
with open(sys.argv[3], "a") as out:
    out.write(json.dumps({"workload": "failover", "rf": 3, "ms": gaps}) + "\n")
EOF

mkdir -p bench/results
python3 - "$results" "$count" "$lat_count" "$rounds" > bench/results/cluster-latest.md <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
count, lat_count, rounds = sys.argv[2:5]
def med(workload, rf, field):
    return statistics.median(r[field] for r in rows if r["workload"] == workload and r["rf"] == rf)
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
print(f"3 nodes on one machine, 100 B records, flush always (fsync before the ack), medians of {rounds} rounds")
print(f"({count} records per throughput run, {lat_count} per latency run).\n")
print("| workload | RF 1 | RF 3, min ISR 2, acks=all | RF 3 / RF 1 |")
print("|---|---|---|---|")
for workload, label in (("produce", "produce, 4 partitions"), ("consume", "consume (backlog)")):
    a, b = med(workload, 1, "msgs_per_s"), med(workload, 3, "msgs_per_s")
    ma, mb = med(workload, 1, "mb_per_s"), med(workload, 3, "mb_per_s")
    print(f"| {label} | {a:,.0f} msgs/s, {ma:.1f} MB/s | {b:,.0f} msgs/s, {mb:.1f} MB/s | {b / a:.2f}x |")
for field, label in (("p50_us", "p50"), ("p99_us", "p99")):
    a, b = med("latency", 1, field), med("latency", 3, field)
    print(f"| one in flight, {label} | {a / 1000:.2f} ms | {b / 1000:.2f} ms | {b / a:.2f}x |")
fail = [g for r in rows if r["workload"] == "failover" for g in r["ms"]]
if fail:
    print(f"\nFailover (leader SIGKILLed -> first acknowledged write, acks=all, {len(fail)} kills): "
          f"p50 {pct(fail, 0.5):.0f} ms, p99 {pct(fail, 0.99):.0f} ms, max {max(fail):.0f} ms.")
EOF
cat bench/results/cluster-latest.md
