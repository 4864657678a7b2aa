#!/usr/bin/env bash
# Produce and consume at the same time for SOAK_SECS (default 600) against a
# fresh server, sampling the server's resident memory every 10 s. Resident
# memory must stay bounded by configuration, not grow with data written.
#   SOAK_SECS=600 RECORD_SIZE=100 PARTITIONS=4 bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
[ -x "$bin/pyralog-server" ] && [ -x "$bin/pyralog" ] || cargo build --release -p pyralog-server -p pyralog-cli

secs="${SOAK_SECS:-600}"
size="${RECORD_SIZE:-100}"
parts="${PARTITIONS:-4}"
# shellcheck source=bench/server.sh
source bench/server.sh

# Retention keeps the disk bounded too: 256 MiB per partition.
"${cli[@]}" logs create soak --partitions "$parts" --retention-bytes 268435456 > /dev/null
echo "soak: ${secs}s, ${size} B records, ${parts} partitions; server RSS at start $(rss_kib) KiB"
"${cli[@]}" bench produce --log soak --record-size "$size" --count 100000000000 --duration "$secs" --partitions "$parts" &
producer=$!
"${cli[@]}" bench consume --log soak --follow-secs "$secs" &
consumer=$!
elapsed=0
while kill -0 "$producer" 2>/dev/null && [ "$elapsed" -le $((secs + 60)) ]; do
  sleep 10
  elapsed=$((elapsed + 10))
  echo "t=${elapsed}s server RSS $(rss_kib) KiB, data $(du -sm "$data" | cut -f1) MiB"
done
wait "$producer" "$consumer"
echo "server RSS after soak $(rss_kib) KiB"
