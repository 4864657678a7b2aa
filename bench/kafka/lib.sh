# Apache Kafka for the benchmarks, sourced by bench/peers.sh and bench/cluster.sh:
# the jars of Kafka's release fetched by Maven from Maven Central
# (bench/kafka/pom.xml) into $work/kafka-libs, JVM settings as Kafka's own
# scripts use, a runner for its tools and a parser of their summary lines.
# Needs: $work (scratch directory). Sets kafka_ok=1 when Kafka is usable
# (KAFKA=0 skips it) and kafka_version to the release fetched.
# shellcheck shell=bash
kafka_version="${KAFKA_VERSION:-4.4.0}"
kafka_libs="$work/kafka-libs"
# Producer settings comparable to `pyralog bench produce`: 256 KiB batches, 5 ms
# linger, 64 MiB buffer, idempotent (Kafka's default) with 5 requests in flight.
kafka_producer=(acks=all linger.ms=5 batch.size=262144 buffer.memory=67108864)
# kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS; heaps as kafka-server-start.sh
# (-Xmx1G -Xms1G) and kafka-producer/consumer-perf-test.sh (-Xmx512M) set them.
kafka_jvm=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)
kafka_ok=0
if [ "${KAFKA:-1}" = 1 ]; then
  for v in "$kafka_version" 4.3.2; do
    if command -v mvn >/dev/null && timeout 900 mvn -B -q -f bench/kafka/pom.xml -Dkafka.version="$v" \
        dependency:copy-dependencies -DoutputDirectory="$kafka_libs" > "$work/mvn.out" 2>&1 \
        && [ -f "$kafka_libs/kafka_2.13-$v.jar" ]; then
      kafka_ok=1; kafka_version=$v; break
    fi
    rm -rf "$kafka_libs"
  done
  if [ "$kafka_ok" = 0 ]; then
    { echo; echo "!!!!!!!! KAFKA SKIPPED: fetching Apache Kafka with Maven (bench/kafka/pom.xml) failed:"
      tail -20 "$work/mvn.out" 2>/dev/null || echo "mvn not installed"
      echo "!!!!!!!! the table has no kafka column"; echo; } >&2
  fi
fi
log4j2() { # file level [target]: Kafka's logging to the console at level (SYSTEM_ERR: to stderr)
  printf '%s\n' "appender.out.type = Console" "appender.out.name = out" ${3:+"appender.out.target = $3"} \
    "appender.out.layout.type = PatternLayout" "appender.out.layout.pattern = [%d] %p %m (%c)%n" \
    "rootLogger.level = $2" "rootLogger.appenderRef.out.ref = out" > "$1"
}
log4j2 "$work/kafka-log4j2.properties" INFO
log4j2 "$work/kafka-tools-log4j2.properties" WARN SYSTEM_ERR
kjava() { # a Kafka tool, bounded to 15 minutes
  timeout 900 java -Xmx512M "${kafka_jvm[@]}" -Dlog4j2.configurationFile="$work/kafka-tools-log4j2.properties" \
    -cp "$kafka_libs/*" "$@"
}
kafka_parse() { # produce|consume size: the last summary line of ProducerPerformance / ConsumerPerformance on stdin
  python3 -c '
import json, re, sys
mode, size = sys.argv[1], int(sys.argv[2])
lines = sys.stdin.read().splitlines()
if mode == "produce":
    m = re.search(r"(\d+) records sent, ([\d.]+) records/sec .* (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th",
                  [l for l in lines if " records sent, " in l][-1])
    n, rate, p50, p99, p999 = int(m[1]), float(m[2]), int(m[3]), int(m[5]), int(m[6])
else:  # start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    row = [c.strip() for c in lines[[i for i, l in enumerate(lines) if l.startswith("start.time")][-1] + 1].split(",")]
    n, rate, p50, p99, p999 = int(row[4]), float(row[9]), 0, 0, 0  # fetch.*: without the group join
print(json.dumps({"records": n, "record_size": size, "msgs_per_s": round(rate), "mb_per_s": round(rate * size / 1e6, 1),
                  "p50_us": p50 * 1000, "p99_us": p99 * 1000, "p999_us": p999 * 1000}))' "$@"
}
