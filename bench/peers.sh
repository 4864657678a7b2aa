#!/usr/bin/env bash
# Runs the same workloads against Pyralog, Redis Streams, NATS JetStream and
# Apache Kafka (single-node KRaft, jars fetched by Maven from bench/kafka/pom.xml)
# in one run on this machine (loopback only) and prints them side by side with
# ratios: the median of ROUNDS rounds per cell, each round running every system
# on a fresh server. Writes the table to bench/results/peers-latest.md.
#   ROUNDS=3 COUNT=1000000 LAT_COUNT=20000 bench/peers.sh      (QUICK=1 for a smoke run)
#   KAFKA=0 skips Kafka; KAFKA_VERSION=4.3.2 picks another Kafka release;
#   RESULTS_JSONL=file keeps the raw JSON lines (one per workload and round).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
count="${COUNT:-1000000}"
lat_count="${LAT_COUNT:-20000}"
rounds="${ROUNDS:-1}"
if [ "${QUICK:-0}" = 1 ]; then count=50000; lat_count=2000; fi

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v nats-server >/dev/null || need+=(nats-server)
if [ "${KAFKA:-1}" = 1 ]; then
  command -v mvn >/dev/null || need+=(maven)
  command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
fi
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || echo "apt-get install ${need[*]} failed" >&2
fi
[ -x "$bin/pyralog-server" ] && [ -x "$bin/pyralog" ] || cargo build --release -p pyralog-server -p pyralog-cli
(cd bench/peers && go build -o "$CARGO_TARGET_DIR/nats-peer" .)

work=$(mktemp -d)
pids=()
stop() { # pid: TERM, up to 30 s for a clean exit, then KILL
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  local keep=() q
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  pids=("${keep[@]+"${keep[@]}"}")
}
cleanup() { local p; for p in "${pids[@]+"${pids[@]}"}"; do stop "$p"; done; rm -rf "$work"; }
trap cleanup EXIT
results="$work/results.jsonl"
round=0
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
record() { # workload system json-line rss-kib
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["workload"]=sys.argv[1]; d["system"]=sys.argv[2]; d["rss_kib"]=int(sys.argv[4]); d["round"]=int(sys.argv[5]); print(json.dumps(d))' "$@" "$round" >> "$results"
}
wait_for() { # tries pattern file: up to tries x 0.1 s for pattern to appear in file
  local i
  for i in $(seq 1 "$1"); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# --- Pyralog -----------------------------------------------------------------
round_pyralog() {
  local dir="$work/pyralog-$round" port=$((21000 + RANDOM % 1000)) pid
  "$bin/pyralog-server" --data-dir "$dir" --listen "127.0.0.1:$port" > "$dir.out" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_for 100 "listening on" "$dir.out"
  pl() { "$bin/pyralog" --server "127.0.0.1:$port" --ca-file "$dir/tls/ca.pem" "$@" | grep '^{'; }
  run_pyralog() { # workload log size partitions flush [extra...]
    local w=$1 log=$2 size=$3 parts=$4 flush=$5; shift 5
    local n=$count; [ "${1:-}" = --one-in-flight ] && n=$lat_count
    record "$w" pyralog "$(pl bench produce --log "$log" --record-size "$size" --count "$n" --partitions "$parts" --flush "$flush" --json "$@")" "$(rss "$pid")"
  }
  run_pyralog "produce 100 B, 1 partition, durable" p1 100 1 always
  run_pyralog "produce 100 B, 4 partitions, durable" p4 100 4 always
  run_pyralog "produce 100 B, 4 partitions, not durable" p4n 100 4 never
  run_pyralog "produce 1 KiB, 4 partitions, durable" k4 1024 4 always
  run_pyralog "produce 1 KiB, 4 partitions, not durable" k4n 1024 4 never
  record "consume backlog, 100 B, 4 partitions" pyralog "$(pl bench consume --log p4 --json)" "$(rss "$pid")"
  run_pyralog "one in flight, 100 B, durable" lat 100 1 always --one-in-flight
  run_pyralog "one in flight, 100 B, not durable" latn 100 1 never --one-in-flight
  stop "$pid"; rm -rf "$dir"
}

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
round_redis() {
  local fsync port dir rpid sys
  for fsync in always everysec; do
    port=$((22000 + RANDOM % 1000)); dir="$work/redis-$fsync-$round"
    mkdir -p "$dir"
    redis-server --port "$port" --dir "$dir" --appendonly yes --appendfsync "$fsync" --save '' --daemonize no > "$dir.out" 2>&1 &
    rpid=$!; pids+=("$rpid")
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    sys="redis-$fsync"
    record "produce 100 B, 1 partition, durable" "$sys" "$(redis_bench "$port" x produce 100 1)" "$(rss "$rpid")"
    redis-cli -p "$port" flushall >/dev/null
    record "produce 100 B, 4 partitions, durable" "$sys" "$(redis_bench "$port" x produce 100 4)" "$(rss "$rpid")"
    record "consume backlog, 100 B, 4 partitions" "$sys" "$(redis_bench "$port" x consume 100 4)" "$(rss "$rpid")"
    redis-cli -p "$port" flushall >/dev/null
    record "produce 1 KiB, 4 partitions, durable" "$sys" "$(redis_bench "$port" x produce 1024 4)" "$(rss "$rpid")"
    redis-cli -p "$port" flushall >/dev/null
    record "one in flight, 100 B, durable" "$sys" "$(redis_bench "$port" x latency 100 1)" "$(rss "$rpid")"
    stop "$rpid"; rm -rf "$dir"
  done
}

# --- NATS JetStream ------------------------------------------------------------
round_nats() {
  local port=$((23000 + RANDOM % 1000)) dir="$work/nats-$round" npid
  nats-server -js -p "$port" -sd "$dir" > "$dir.out" 2>&1 &
  npid=$!; pids+=("$npid")
  wait_for 100 "Server is ready" "$dir.out"
  np() { "$CARGO_TARGET_DIR/nats-peer" -url "nats://127.0.0.1:$port" "$@"; }
  record "produce 100 B, 1 partition, durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 1 -prefix a)" "$(rss "$npid")"
  record "produce 100 B, 4 partitions, durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 4 -prefix b)" "$(rss "$npid")"
  record "produce 100 B, 4 partitions, not durable" nats "$(np -mode produce -size 100 -count "$count" -partitions 4 -storage memory -prefix c)" "$(rss "$npid")"
  record "produce 1 KiB, 4 partitions, durable" nats "$(np -mode produce -size 1024 -count "$count" -partitions 4 -prefix d)" "$(rss "$npid")"
  record "produce 1 KiB, 4 partitions, not durable" nats "$(np -mode produce -size 1024 -count "$count" -partitions 4 -storage memory -prefix f)" "$(rss "$npid")"
  record "consume backlog, 100 B, 4 partitions" nats "$(np -mode consume -size 100 -count "$count" -partitions 4 -prefix b)" "$(rss "$npid")"
  record "one in flight, 100 B, durable" nats "$(np -mode latency -size 100 -count "$lat_count" -partitions 1 -prefix e)" "$(rss "$npid")"
  record "one in flight, 100 B, not durable" nats "$(np -mode latency -size 100 -count "$lat_count" -partitions 1 -storage memory -prefix g)" "$(rss "$npid")"
  stop "$npid"; rm -rf "$dir"
}

# --- Apache Kafka (KRaft, one combined broker+controller; Kafka's perf tools) --
source bench/kafka/lib.sh
round_kafka() {
  local dir="$work/kafka-$round" bport=$((24000 + RANDOM % 1000)) cport=$((25000 + RANDOM % 1000)) kpid id bs
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$dir/data
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  id=$(kjava kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  if ! kjava kafka.tools.StorageTool format --config "$dir/server.properties" --cluster-id "$id" --standalone > "$dir/format.out" 2>&1; then
    echo "!!!!!!!! kafka: formatting the storage failed, round $round skipped:" >&2; tail -5 "$dir/format.out" >&2; return 0
  fi
  java -Xmx1G -Xms1G "${kafka_jvm[@]}" -Dlog4j2.configurationFile="$work/kafka-log4j2.properties" \
    -cp "$kafka_libs/*" kafka.Kafka "$dir/server.properties" > "$dir/kafka.out" 2>&1 &
  kpid=$!; pids+=("$kpid")
  if ! wait_for 600 "Kafka Server started" "$dir/kafka.out"; then
    echo "!!!!!!!! kafka: the broker did not start in 60 s, round $round skipped:" >&2; tail -20 "$dir/kafka.out" >&2
    stop "$kpid"; return 0
  fi
  bs="127.0.0.1:$bport"
  topic() { # name partitions [--config k=v]
    kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic "$1" --partitions "$2" \
      --replication-factor 1 "${@:3}" > /dev/null
  }
  kafka_run() { # workload json-command...: records its JSON line, or says loudly that it failed
    local w=$1 out; shift
    if out=$("$@") && [ -n "$out" ]; then record "$w" kafka "$out" "$(rss "$kpid")"
    else echo "!!!!!!!! kafka: \"$w\" failed in round $round" >&2; fi
  }
  kprod() { # topic size partitions [--config flush.messages=1]
    topic "$1" "$3" "${@:4}" &&
      kjava org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic "$1" --num-records "$count" \
        --record-size "$2" --throughput -1 --command-property "${kafka_producer[@]}" | kafka_parse produce "$2"
  }
  kcons() { # topic size
    kjava org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bs" --topic "$1" --num-records "$count" \
      --timeout 30000 | kafka_parse consume "$2"
  }
  klat() { # topic [--config flush.messages=1]
    topic "$1" 1 "${@:2}" && kjava bench/kafka/OneInFlight.java "$bs" "$1" "$lat_count" 100 | grep '^{'
  }
  local durable=(--config flush.messages=1)
  kafka_run "produce 100 B, 1 partition, durable" kprod d1 100 1 "${durable[@]}"
  kafka_run "produce 100 B, 4 partitions, durable" kprod d4 100 4 "${durable[@]}"
  kafka_run "produce 100 B, 4 partitions, not durable" kprod n4 100 4
  kafka_run "produce 1 KiB, 4 partitions, durable" kprod k4 1024 4 "${durable[@]}"
  kafka_run "produce 1 KiB, 4 partitions, not durable" kprod k4n 1024 4
  kafka_run "consume backlog, 100 B, 4 partitions" kcons d4 100
  kafka_run "one in flight, 100 B, durable" klat lat "${durable[@]}"
  kafka_run "one in flight, 100 B, not durable" klat latn
  stop "$kpid"; rm -rf "$dir"
}

for round in $(seq 1 "$rounds"); do
  echo "--- round $round of $rounds: pyralog" >&2; round_pyralog
  echo "--- round $round of $rounds: redis" >&2; round_redis
  echo "--- round $round of $rounds: nats" >&2; round_nats
  if [ "$kafka_ok" = 1 ]; then echo "--- round $round of $rounds: kafka $kafka_version" >&2; round_kafka; fi
done

mkdir -p bench/results
[ -n "${RESULTS_JSONL:-}" ] && cp "$results" "$RESULTS_JSONL"  # the raw lines, one per workload and round
python3 - "$results" "$rounds" "$kafka_ok" "$kafka_version" <<'PY' | tee bench/results/peers-latest.md
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, kafka = int(sys.argv[2]), sys.argv[3] == "1"
systems = ["pyralog", "redis-always", "redis-everysec", "nats"] + (["kafka"] if kafka else [])
peers = ["redis-always", "nats"] + (["kafka"] if kafka else [])
workloads = list(dict.fromkeys(r["workload"] for r in rows))
runs = {}
for r in rows:
    runs.setdefault((r["workload"], r["system"]), []).append(r)
# the median of each number over the rounds
get = {k: {f: statistics.median(r.get(f, 0) for r in v) for f in ("msgs_per_s", "mb_per_s", "p50_us", "p99_us")}
       for k, v in runs.items()}
if rounds > 1:
    print(f"Median of {rounds} rounds per cell.")
    print()
print("| workload | " + " | ".join(systems) + " | " + " | ".join(f"pyralog/{s}" for s in peers) + " |")
print("|---" * (len(systems) + len(peers) + 1) + "|")
for w in workloads:
    lat = w.startswith("one in flight")
    def cell(s):
        r = get.get((w, s))
        if not r: return "-"
        if lat: return f"p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us"
        return f"{r['msgs_per_s']/1e6:.2f}M msgs/s, {r['mb_per_s']:.0f} MB/s"
    def ratio(s):
        a, b = get.get((w, "pyralog")), get.get((w, s))
        if not a or not b: return "-"
        if lat: return f"{b['p50_us'] / max(a['p50_us'], 1):.2f}x faster"
        return f"{a['msgs_per_s'] / max(b['msgs_per_s'], 1):.2f}x"
    print(f"| {w} | " + " | ".join(cell(s) for s in systems) + " | " + " | ".join(ratio(s) for s in peers) + " |")
print()
print("Server resident memory after each workload (KiB): " + ", ".join(
    f"{s} max {max((r['rss_kib'] for r in rows if r['system'] == s), default=0)}" for s in systems)
    + (f" (kafka: the broker's JVM, Kafka {sys.argv[4]})" if kafka else ""))
if rounds > 1:
    print()
    print("Each round (throughput: M msgs/s; one in flight: p50 us):")
    print()
    print("| workload | " + " | ".join(systems) + " |")
    print("|---" * (len(systems) + 1) + "|")
    for w in workloads:
        lat = w.startswith("one in flight")
        def each(s):
            v = sorted(runs.get((w, s), []), key=lambda r: r["round"])
            if not v: return "-"
            return " / ".join(f"{r['p50_us']:.0f}" if lat else f"{r['msgs_per_s']/1e6:.2f}" for r in v)
        print(f"| {w} | " + " | ".join(each(s) for s in systems) + " |")
PY
