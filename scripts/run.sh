#!/usr/bin/env bash
# The main job: builds the workspace, starts pyralog-server on its embedded
# defaults (data in ./pyralog-data, listening on 127.0.0.1:9092, a
# self-signed CA written to ./pyralog-data/tls/ca.pem), runs the examples
# against it, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --release --workspace --bins
bin="$CARGO_TARGET_DIR/release"

"$bin/pyralog-server" > .pyralog-server.out 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" .pyralog-server.out 2>/dev/null && break
  kill -0 $server 2>/dev/null || { cat .pyralog-server.out; exit 1; }
  sleep 0.1
done
grep "listening on" .pyralog-server.out

echo "== example: rust (examples/rust)"
"$bin/quickstart" 127.0.0.1:9092 ./pyralog-data/tls/ca.pem

echo "== the CLI against the same server"
"$bin/pyralog" logs list
