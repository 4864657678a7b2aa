#!/usr/bin/env bash
# Runs every test: formatting, lints, the whole Rust workspace's tests (which
# start the real pyralog-server binary, the C example included), then the
# Python, Go, Java and Node SDKs' suites against it. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# One target directory for every build of this run.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

# The Cap'n Proto compiler lets the schema-drift test regenerate and compare.
if ! command -v capnp >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing capnproto (schema drift check)"
  (apt-get update -qq && apt-get install -y -qq capnproto >/dev/null) || echo "capnproto not installed; drift check skipped"
fi

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# The C ABI's static library is a build artifact `cargo test` does not make;
# the C example test and the Go package link it.
cargo build -p pyralog-c --locked
cargo test --workspace --locked -- --test-threads=2

# Python SDK: a venv in the target directory; the wheel a user would install,
# built by maturin (debug profile, same target directory) and installed into
# it; then pytest (run from outside the source tree, so the installed wheel is
# what is imported) against the server binary built above.
echo "== python"
VENV="$CARGO_TARGET_DIR/python-venv"
WHEELS="$CARGO_TARGET_DIR/wheels"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" "pytest>=7" ruff
"$VENV/bin/ruff" check python
"$VENV/bin/ruff" format --check python
rm -rf "$WHEELS"
(cd python && "$VENV/bin/maturin" build -q --profile dev --out "$WHEELS")
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/pyralog-*.whl
(cd python/tests && "$VENV/bin/pytest" -q -p no:cacheprovider .)

# Go SDK: cgo over the C ABI's static library built above; vet, then the
# conformance and runtime tests with the race detector.
echo "== go"
mkdir -p go/lib
cp "$CARGO_TARGET_DIR/debug/libpyralog_c.a" go/lib/
(cd go && test -z "$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; })
(cd go && go vet ./... && go test -race -count=1 ./...)

# Java SDK: Maven builds the JNI library with cargo (same target directory),
# puts it in the jar, and runs JUnit against the real server.
echo "== java"
mvn -q -B -f java/pom.xml verify

# Node SDK: the napi-rs addon (debug, same target directory), prettier, tsc,
# and node --test against the real server.
./scripts/test-node.sh
