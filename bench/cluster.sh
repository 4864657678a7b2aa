#!/usr/bin/env bash
# Replication's cost and failover time on a 3-node cluster on this machine
# (scripts/cluster.sh, release build, loopback). In the same run, ROUNDS
# times: durable produce (flush always) of 100 B records to 4 partitions with
# RF 1 and with RF 3 (min ISR 2, acks=all), a backlog consume of each, and
# one-in-flight latency of each. Then KILLS times: the leader of an RF 3
# partition is SIGKILLed while a one-in-flight producer writes to it; the
# failover time is from the kill to the first acknowledgement after it. Then,
# with Pyralog stopped, the same produce, consume and latency rounds on Apache
# Kafka as three KRaft brokers (jars from Maven Central, bench/kafka/lib.sh).
# Prints medians and ratios and writes them to bench/results/cluster-latest.md.
#   ROUNDS=3 COUNT=500000 LAT_COUNT=5000 KILLS=20 bench/cluster.sh   (QUICK=1: a smoke run)
#   KAFKA=0 leaves Kafka out.
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
cleanup() { scripts/cluster.sh stop >/dev/null 2>&1 || true; kafka_stop 2>/dev/null || true; rm -rf "$work"; }
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

# --- Kafka: three KRaft brokers (combined broker+controller), RF 3 vs RF 1 -----
# The same workloads on Kafka in the same run, once Pyralog's nodes are stopped:
# topics with flush.messages=1 (fsync before the ack), min.insync.replicas 2 with
# RF 3, Kafka's own ProducerPerformance / ConsumerPerformance, and the one-in-flight
# probe of bench/kafka. KAFKA=0 skips it.
scripts/cluster.sh stop >/dev/null
source bench/kafka/lib.sh
KAFKA_PORT=${KAFKA_PORT:-29090}
kafka_pids=()
kafka_node() { # id: writes node id's server.properties and formats its storage
  local id=$1 dir="$work/kafka-$1"
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$id
listeners=PLAINTEXT://127.0.0.1:$((KAFKA_PORT + id)),CONTROLLER://127.0.0.1:$((KAFKA_PORT + 10 + id))
advertised.listeners=PLAINTEXT://127.0.0.1:$((KAFKA_PORT + id))
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.voters=$kafka_voters
log.dirs=$dir/data
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
EOF
  kjava kafka.tools.StorageTool format --config "$dir/server.properties" --cluster-id "$kafka_id" > "$dir/format.out" 2>&1
}
kafka_start() { # starts brokers 1-3 and waits for them; sets kafka_bs
  local id
  kafka_voters=$(for id in 1 2 3; do printf '%s@127.0.0.1:%s,' "$id" $((KAFKA_PORT + 10 + id)); done)
  kafka_voters=${kafka_voters%,}
  kafka_id=$(kjava kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  kafka_bs=""
  for id in 1 2 3; do
    kafka_node "$id" || { echo "!!!!!!!! kafka: formatting node $id failed"; tail -5 "$work/kafka-$id/format.out"; return 1; }
    java -Xmx1G -Xms1G "${kafka_jvm[@]}" -Dlog4j2.configurationFile="$work/kafka-log4j2.properties" \
      -cp "$kafka_libs/*" kafka.Kafka "$work/kafka-$id/server.properties" > "$work/kafka-$id/kafka.out" 2>&1 &
    kafka_pids+=($!)
    kafka_bs+="127.0.0.1:$((KAFKA_PORT + id)),"
  done
  kafka_bs=${kafka_bs%,}
  for id in 1 2 3; do
    for _ in $(seq 1 600); do grep -q "Kafka Server started" "$work/kafka-$id/kafka.out" && break; sleep 0.1; done
    grep -q "Kafka Server started" "$work/kafka-$id/kafka.out" ||
      { echo "!!!!!!!! kafka: broker $id did not start in 60 s"; tail -20 "$work/kafka-$id/kafka.out"; return 1; }
  done
}
kafka_stop() {
  local p
  for p in "${kafka_pids[@]+"${kafka_pids[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${kafka_pids[@]+"${kafka_pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  kafka_pids=()
}
ktopic() { # name partitions rf
  local isr=1
  [ "$3" = 3 ] && isr=2
  kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$kafka_bs" --create --topic "$1" --partitions "$2" \
    --replication-factor "$3" --config flush.messages=1 --config min.insync.replicas="$isr" > /dev/null
}
record_kafka() { # workload rf json-line: records it, or says loudly that the workload failed
  if [ -z "$3" ]; then echo "!!!!!!!! kafka: $1 with RF $2 failed; see $work" >&2; return 0; fi
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["workload"]=sys.argv[1]; d["rf"]=int(sys.argv[2]); d["system"]="kafka"; print(json.dumps(d))' "$@" >> "$results"
}
kafka_round() { # round rf
  local t="tput-rf$2-$1" l="lat-rf$2-$1" out
  ktopic "$t" 4 "$2" && ktopic "$l" 1 "$2" || { echo "!!!!!!!! kafka: creating topics failed" >&2; return 0; }
  out=$(kjava org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$kafka_bs" --topic "$t" \
    --num-records "$count" --record-size 100 --throughput -1 --command-property "${kafka_producer[@]}" |
    kafka_parse produce 100) || out=""
  echo "kafka round $1, RF $2: $out"
  record_kafka produce "$2" "$out"
  out=$(kjava org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$kafka_bs" --topic "$t" \
    --num-records "$count" --timeout 30000 | kafka_parse consume 100) || out=""
  record_kafka consume "$2" "$out"
  out=$(kjava bench/kafka/OneInFlight.java "$kafka_bs" "$l" "$lat_count" 100 | grep '^{') || out=""
  record_kafka latency "$2" "$out"
}
if [ "$kafka_ok" = 1 ] && kafka_start; then
  for round in $(seq 1 "$rounds"); do
    for rf in 1 3; do kafka_round "$round" "$rf"; done
  done
fi
kafka_stop

mkdir -p bench/results
python3 - "$results" "$count" "$lat_count" "$rounds" "${kafka_version:-}" > bench/results/cluster-latest.md <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
count, lat_count, rounds, kafka_version = sys.argv[2:6]
kafka = any(r.get("system") == "kafka" for r in rows)
systems = ("pyralog", "kafka") if kafka else ("pyralog",)
def med(workload, rf, field, system="pyralog"):
    xs = [r[field] for r in rows if r["workload"] == workload and r["rf"] == rf and r.get("system", "pyralog") == system]
    return statistics.median(xs) if xs else None
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
def tput(v, mb):
    return f"{v:,.0f} msgs/s, {mb:.1f} MB/s" if v is not None else "-"
def ms(v):
    return f"{v / 1000:.2f} ms" if v is not None else "-"
def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"
print(f"3 nodes on one machine, 100 B records, flush always (fsync before the ack), medians of {rounds} rounds")
print(f"({count} records per throughput run, {lat_count} per latency run)"
      + (f"; Kafka {kafka_version}: three KRaft brokers, flush.messages=1, after Pyralog in the same run." if kafka else ".") + "\n")
head = "| workload | RF 1 | RF 3, min ISR 2, acks=all | RF 3 / RF 1 |"
if kafka:
    head += " Kafka RF 1 | Kafka RF 3 | Kafka RF 3 / RF 1 | Pyralog / Kafka, RF 3 |"
print(head)
print("|" + "---|" * (head.count("|") - 1))
for workload, label in (("produce", "produce, 4 partitions"), ("consume", "consume (backlog)")):
    cells = []
    for system in systems:
        a, b = med(workload, 1, "msgs_per_s", system), med(workload, 3, "msgs_per_s", system)
        cells += [tput(a, med(workload, 1, "mb_per_s", system)), tput(b, med(workload, 3, "mb_per_s", system)), ratio(b, a)]
    if kafka:
        cells.append(ratio(med(workload, 3, "msgs_per_s"), med(workload, 3, "msgs_per_s", "kafka")))
    print(f"| {label} | " + " | ".join(cells) + " |")
for field, label in (("p50_us", "p50"), ("p99_us", "p99")):
    cells = []
    for system in systems:
        a, b = med("latency", 1, field, system), med("latency", 3, field, system)
        cells += [ms(a), ms(b), ratio(b, a)]
    if kafka:
        cells.append(ratio(med("latency", 3, field), med("latency", 3, field, "kafka")))
    print(f"| one in flight, {label} | " + " | ".join(cells) + " |")
fail = [g for r in rows if r["workload"] == "failover" for g in r["ms"]]
if fail:
    print(f"\nFailover (leader SIGKILLed -> first acknowledged write, acks=all, {len(fail)} kills): "
          f"p50 {pct(fail, 0.5):.0f} ms, p99 {pct(fail, 0.99):.0f} ms, max {max(fail):.0f} ms.")
EOF
cat bench/results/cluster-latest.md
