#!/usr/bin/env bash
# The Java SDK benchmark: release server and release JNI library, then
# 1,000,000 records of 100 B through the async send and consumed back, three
# rounds. Results go in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p pyralog-server
mvn -q -B -f java/pom.xml -Dcargo.profile=release -DskipTests test-compile exec:java \
  -Dexec.mainClass=io.pyralog.Bench -Dexec.classpathScope=test \
  -Dpyralog.server.bin="$CARGO_TARGET_DIR/release/pyralog-server"
