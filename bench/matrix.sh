#!/usr/bin/env bash
# The single-node matrix of issue #2 in one run against one fresh release
# server: the disk alone (`bench fsync`), produce of 100 B and 1 KiB records
# to 1 and 4 partitions with `flush always` and `never`, backlog consume, and
# one record in flight (durable and not). ROUNDS (default 3) repeats each
# throughput row, alternating, so machine noise spreads evenly; quote medians.
#   ROUNDS=3 COUNT=2000000 bench/matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
cargo build --release --locked -p pyralog-server -p pyralog-cli

rounds="${ROUNDS:-3}"
count="${COUNT:-2000000}"
# shellcheck source=bench/server.sh
source bench/server.sh

"$bin/pyralog" bench fsync --dir "$data" --count 5000
for r in $(seq 1 "$rounds"); do
  for size in 100 1024; do
    n=$((size == 100 ? count : count / 8))
    for parts in 1 4; do
      for flush in always never; do
        log="m-$size-$parts-$flush-$r"
        "${cli[@]}" bench produce --log "$log" --record-size "$size" --count "$n" --partitions "$parts" --flush "$flush"
      done
    done
    "${cli[@]}" bench consume --log "m-$size-4-always-$r"
  done
  for flush in always never; do
    "${cli[@]}" bench produce --log "lat-$flush-$r" --count 5000 --partitions 1 --one-in-flight --flush "$flush"
  done
done
"$bin/pyralog" bench fsync --dir "$data" --count 5000
echo "server RSS after the matrix: $(( $(rss_kib) / 1024 )) MiB"
