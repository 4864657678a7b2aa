#!/usr/bin/env bash
# Compression codecs side by side against one fresh release server: durable
# produce (`flush always`, acks all) of JSON-like records (`--payload json`,
# varied events: ids, timestamps, enums, nested items) with each codec, the
# bytes the server stored for them, and the backlog consume of each log
# (consumers decompress). ROUNDS (default 3) repeats every codec, alternating,
# so machine noise spreads evenly; the table quotes medians.
#   ROUNDS=3 COUNT=200000 SIZE=1024 bench/compression.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release"
cargo build --release --locked -p pyralog-server -p pyralog-cli

rounds="${ROUNDS:-3}"
count="${COUNT:-200000}"
size="${SIZE:-1024}"
partitions="${PARTITIONS:-4}"
# shellcheck source=bench/server.sh
source bench/server.sh
results="$data.jsonl"

# codec name, then the CLI arguments that select it
codecs=("none:--compression none" "snappy:--compression snappy" "lz4:--compression lz4"
  "zstd-3:--compression zstd --compression-level 3" "zstd-9:--compression zstd --compression-level 9")
for round in $(seq 1 "$rounds"); do
  for c in "${codecs[@]}"; do
    name="${c%%:*}"
    read -r -a args <<< "${c#*:}"
    log="c-$name-$round"
    echo "--- round $round of $rounds: $name" >&2
    p=$("${cli[@]}" bench produce --log "$log" --payload json --record-size "$size" --count "$count" \
      --partitions "$partitions" --flush always "${args[@]}" --json | tail -1)
    q=$("${cli[@]}" bench consume --log "$log" --json | tail -1)
    echo "{\"codec\":\"$name\",\"produce\":$p,\"consume\":$q}" >> "$results"
  done
done

python3 - "$results" "$rounds" "$count" "$size" "$partitions" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, count, size, parts = sys.argv[2:6]
by = {}
for r in rows:
    by.setdefault(r["codec"], []).append(r)
med = lambda c, part, f: statistics.median(r[part][f] for r in by[c])
base = med("none", "produce", "stored_bytes")
print(f"{count} JSON-like records of {size} B, {parts} partitions, flush always, acks all; median of {rounds} rounds.")
print()
print("| codec | produce msgs/s | produce MB/s (uncompressed) | p50 / p99 us | stored MB | B/record | vs none | consume msgs/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for c in by:
    stored = med(c, "produce", "stored_bytes")
    print(f"| {c} | {med(c, 'produce', 'msgs_per_s')/1e3:.0f}k | {med(c, 'produce', 'mb_per_s'):.0f} | "
          f"{med(c, 'produce', 'p50_us'):.0f} / {med(c, 'produce', 'p99_us'):.0f} | {stored/1e6:.1f} | "
          f"{stored/int(count):.0f} | {stored/base:.2f}x | {med(c, 'consume', 'msgs_per_s')/1e3:.0f}k |")
print()
print("Each round, produce k msgs/s: " + "; ".join(
    f"{c} " + " / ".join(f"{r['produce']['msgs_per_s']/1e3:.0f}" for r in v) for c, v in by.items()))
PY
echo "server RSS: $(( $(rss_kib) / 1024 )) MiB"
rm -f "$results"
