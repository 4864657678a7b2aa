#!/usr/bin/env bash
# Installs the Python SDK as a user would — the wheel into a fresh venv outside
# the repository — and runs the Python examples from there against a server.
#   tests/install/python.sh SERVER CA_FILE
# The wheel is the one ./scripts/test.sh built ($CARGO_TARGET_DIR/wheels), or
# $PYRALOG_WHEEL.
set -euo pipefail
server="$1" ca_file="$2"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
wheel="${PYRALOG_WHEEL:-$(ls "$target"/wheels/pyralog-*.whl 2>/dev/null | head -n 1)}"
[ -f "$wheel" ] || { echo "no wheel: build one with (cd python && maturin build --out $target/wheels)"; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel"
cp "$repo"/examples/python/*.py "$work/"
cd "$work"
echo "== python: quickstart"
timeout 300 "$work/venv/bin/python" quickstart.py "$server" "$ca_file"
echo "== python: group"
timeout 300 "$work/venv/bin/python" group.py "$server" "$ca_file"
