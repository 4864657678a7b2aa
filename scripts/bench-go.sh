#!/usr/bin/env bash
# The Go SDK benchmark: release server and release static library, then
# 1,000,000 records of 100 B produced with SendBatch and consumed back, three
# times, plus the cost of one cgo call. Results go in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p pyralog-server -p pyralog-c
mkdir -p go/lib/linux_amd64
cp "$CARGO_TARGET_DIR/release/libpyralog_c.a" go/lib/linux_amd64/
cd go
PYRALOG_SERVER_BIN="$CARGO_TARGET_DIR/release/pyralog-server" \
  go test -run '^$' -bench BenchmarkProduceConsume1M -benchtime 1x -count 3 .
go test -run '^$' -bench BenchmarkCgoCall -count 3 .
# Leave the debug library for the test suite.
cp "$CARGO_TARGET_DIR/debug/libpyralog_c.a" lib/ 2>/dev/null || rm -f lib/libpyralog_c.a
