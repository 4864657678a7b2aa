#!/usr/bin/env bash
# The main job: builds the workspace, starts pyralog-server on its embedded
# defaults (data in ./pyralog-data, listening on 127.0.0.1:9092, a
# self-signed CA written to ./pyralog-data/tls/ca.pem), runs the examples of
# every language against it (each installed the way examples/<lang>/README.md
# tells a user), and stops the server.
#
#   ./scripts/run.sh                 every language
#   ./scripts/run.sh rust python     only these (rust, python, java, go, node)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
if [ $# -gt 0 ]; then languages=("$@"); else languages=(rust python java go node); fi

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
# Every example takes [HOST:PORT] [CA_FILE]; these are the defaults, spelled
# out for the ones that run in their own directory.
args=(127.0.0.1:9092 "$repo/pyralog-data/tls/ca.pem")

run_rust() {
  "$bin/quickstart"
  "$bin/group"
}

run_python() {
  local venv="$CARGO_TARGET_DIR/examples-venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check ./python
  "$venv/bin/python" examples/python/quickstart.py
  "$venv/bin/python" examples/python/group.py
}

run_java() {
  mvn -q -B -f java/pom.xml -Dcargo.profile=release -DskipTests install
  mvn -q -B -f examples/java/pom.xml compile exec:java -Dexec.mainClass=io.pyralog.examples.Quickstart
  mvn -q -B -f examples/java/pom.xml compile exec:java -Dexec.mainClass=io.pyralog.examples.GroupExample
}

run_go() {
  cargo build --release -p pyralog-c
  mkdir -p go/lib/linux_amd64 && cp "$CARGO_TARGET_DIR/release/libpyralog_c.a" go/lib/linux_amd64/
  (cd examples/go && go run ./quickstart "${args[@]}" && go run ./group "${args[@]}")
}

run_node() {
  (cd node && npm run build)
  (cd examples/node && npm install --no-audit --no-fund --loglevel=error && node quickstart.mjs "${args[@]}" && node group.mjs "${args[@]}")
}

for lang in "${languages[@]}"; do
  declare -F "run_$lang" >/dev/null || { echo "unknown language: $lang (rust, python, java, go, node)"; exit 2; }
done
for lang in "${languages[@]}"; do
  echo "== examples: $lang (examples/$lang)"
  "run_$lang"
done

echo "== the CLI against the same server"
"$bin/pyralog" logs list
"$bin/pyralog" logs describe user_events
