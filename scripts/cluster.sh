#!/usr/bin/env bash
# A 3-node Pyralog cluster on loopback, for users, examples and benchmarks.
#
#   ./scripts/cluster.sh start     build (release), init the cluster's TLS once, start nodes 1..3
#   ./scripts/cluster.sh status    which nodes run, and `pyralog cluster describe`
#   ./scripts/cluster.sh stop      SIGTERM every node (graceful), wait for them
#   ./scripts/cluster.sh kill N    SIGKILL node N (for trying failover by hand)
#   ./scripts/cluster.sh restart N start node N again on its data
#
# Nodes listen on 127.0.0.1:9092, :9192 and :9292; data and logs live in
# ./pyralog-cluster (PYRALOG_CLUSTER_DIR to move it). Clients bootstrap with
# every address and verify against the cluster CA:
#   pyralog --server 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292 \
#           --ca-file pyralog-cluster/tls/ca.pem cluster describe
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
dir="${PYRALOG_CLUSTER_DIR:-$PWD/pyralog-cluster}"
bin="${PYRALOG_BIN:-$CARGO_TARGET_DIR/release}"
voters="1@127.0.0.1:9092,2@127.0.0.1:9192,3@127.0.0.1:9292"
servers="127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292"
# Seconds a node may take to serve after its start (it waits for a quorum).
START_TIMEOUT_S=60
# Seconds a graceful stop may take before SIGKILL.
STOP_TIMEOUT_S=30

pid_of() { cat "$dir/node-$1.pid" 2>/dev/null || true; }
# Alive and not a zombie (a killed node's process lingers until reaped).
running() {
  local p; p="$(pid_of "$1")"
  [ -n "$p" ] && [ -r "/proc/$p/stat" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ]
}

launch() {
  local id=$1
  running "$id" && { echo "node $id already runs (pid $(pid_of "$id"))"; return; }
  : > "$dir/node-$id.out"
  "$bin/pyralog-server" --node-id "$id" --voters "$voters" --tls-dir "$dir/tls" \
    --data-dir "$dir/node-$id" > "$dir/node-$id.out" 2> "$dir/node-$id.log" &
  echo $! > "$dir/node-$id.pid"
}

wait_serving() {
  local id=$1
  for _ in $(seq 1 $((START_TIMEOUT_S * 10))); do
    grep -q "listening on" "$dir/node-$id.out" 2>/dev/null && { echo "node $id: $(cat "$dir/node-$id.out")"; return; }
    running "$id" || { echo "node $id exited:"; tail -20 "$dir/node-$id.log"; exit 1; }
    sleep 0.1
  done
  echo "node $id did not serve within ${START_TIMEOUT_S}s; see $dir/node-$id.log"; exit 1
}

build() {
  [ -n "${PYRALOG_BIN:-}" ] || cargo build --release -q -p pyralog-server -p pyralog-cli
}

case "${1:-}" in
  start)
    build
    mkdir -p "$dir"
    [ -f "$dir/tls/ca.pem" ] || "$bin/pyralog-server" init-cluster --tls-dir "$dir/tls" --voters "$voters"
    for id in 1 2 3; do launch "$id"; done
    for id in 1 2 3; do wait_serving "$id"; done
    echo "bootstrap: --server $servers --ca-file $dir/tls/ca.pem"
    ;;
  stop)
    for id in 1 2 3; do running "$id" && kill -TERM "$(pid_of "$id")"; done
    for id in 1 2 3; do
      for _ in $(seq 1 $((STOP_TIMEOUT_S * 10))); do running "$id" || break; sleep 0.1; done
      running "$id" && kill -KILL "$(pid_of "$id")"
      rm -f "$dir/node-$id.pid"
    done
    echo "stopped"
    ;;
  kill)
    id="${2:?node id}"
    running "$id" && kill -KILL "$(pid_of "$id")"
    for _ in $(seq 1 100); do running "$id" || break; sleep 0.05; done
    echo "node $id killed"
    ;;
  restart)
    id="${2:?node id}"
    launch "$id"
    wait_serving "$id"
    ;;
  status)
    for id in 1 2 3; do
      if running "$id"; then echo "node $id: running (pid $(pid_of "$id"))"; else echo "node $id: stopped"; fi
    done
    "$bin/pyralog" --server "$servers" --ca-file "$dir/tls/ca.pem" cluster describe
    ;;
  *)
    sed -n '2,14p' "$0"; exit 2
    ;;
esac
