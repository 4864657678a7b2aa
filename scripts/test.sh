#!/usr/bin/env bash
# Runs every test: formatting, lints, the whole Rust workspace's tests (which
# start the real pyralog-server binary, the C example included), then the
# Python, Go, Java and Node SDKs' suites against it, then a fuzz smoke of
# every cargo-fuzz target. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# One target directory for every build of this run.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# A test run builds each crate once: incremental state would only take disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The Cap'n Proto compiler lets the schema-drift test regenerate and compare.
if ! command -v capnp >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing capnproto (schema drift check)"
  (apt-get update -qq && apt-get install -y -qq capnproto >/dev/null) || echo "capnproto not installed; drift check skipped"
fi

echo "== error lists (Python, Go, Java) match protocol/src/error.rs"
python3 scripts/generate_errors.py --check
echo "== one version: every package agrees with Cargo.toml's workspace version"
python3 scripts/version.py --check
echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# Artifacts `cargo test` does not make: the C ABI's static library (the C
# example test and the Go package link it), the Rust examples and the Rust
# interop program (the repository tests below run them).
cargo build -p pyralog-c -p pyralog-example -p pyralog-interop --locked
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
"$VENV/bin/ruff" check python examples/python tests scripts
"$VENV/bin/ruff" format --check python examples/python tests scripts
rm -rf "$WHEELS"
(cd python && "$VENV/bin/maturin" build -q --profile dev --out "$WHEELS")
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/pyralog-*.whl
(cd python/tests && "$VENV/bin/pytest" -q -p no:cacheprovider .)

# Go SDK: cgo over the C ABI's static library built above; vet, then the
# conformance and runtime tests with the race detector.
echo "== go"
mkdir -p go/lib/linux_amd64
cp "$CARGO_TARGET_DIR/debug/libpyralog_c.a" go/lib/linux_amd64/
unformatted="$(gofmt -l go examples/go tests/interop/go)"
[ -z "$unformatted" ] || { echo "$unformatted"; echo "gofmt: files above need formatting"; exit 1; }
(cd go && go vet ./... && go test -race -count=1 ./...)
(cd examples/go && go vet ./...)
(cd tests/interop/go && go vet ./...)

# Java SDK: Maven builds the JNI library with cargo (same target directory),
# puts it in the jar, and runs JUnit against the real server.
echo "== java"
mvn -q -B -f java/pom.xml verify

# Node SDK: the napi-rs addon (debug, same target directory), prettier, tsc,
# and node --test against the real server.
./scripts/test-node.sh

# The repository's own tests: the README's examples match examples/; the
# release's artifacts (scripts/release.sh --profile dev: zig-linked, into
# $CARGO_TARGET_DIR/registry-dist) published to local pypiserver, Verdaccio,
# Maven and Go module registries and every SDK installed from them with no
# Rust on PATH, running its language's examples (tests/test_registry.py); the
# Rust examples run; and the five languages read each other's records and
# share one consumer group (tests/interop/README.md).
echo "== repository tests (README, examples, registry installs, interop)"
(cd tests && "$VENV/bin/pytest" -q -p no:cacheprovider .)

# Hostile input: every cargo-fuzz target (request decoder, record batches,
# segment recovery, config file) for 30 s from the committed seed corpus.
echo "== fuzz"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
