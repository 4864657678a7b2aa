#!/usr/bin/env bash
# Node SDK: builds the napi-rs addon (debug profile, shared target directory)
# and the server, installs the package's dev tools (npm ci), checks
# formatting (prettier) and types (tsc), then runs `node --test` against the
# real pyralog-server binary.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== node: cargo build (pyralog-node, pyralog-server, pyralog-cli)"
cargo build -p pyralog-node -p pyralog-server -p pyralog-cli --locked

# The tests load the debug build directly; `npm ci` skips the package's own
# install script (a release build) for that reason.
export PYRALOG_NODE_ADDON="$CARGO_TARGET_DIR/debug/libpyralog_node.so"
export PYRALOG_SERVER_BIN="$CARGO_TARGET_DIR/debug/pyralog-server"

cd node
echo "== node: npm ci"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "== node: error classes match the addon's codes"
node scripts/generate-errors.mjs --check
echo "== node: prettier, tsc"
npx --no-install prettier --check .
# The examples and the interop program outside node/ follow the package's style.
npx --no-install prettier --config .prettierrc.json --check ../examples/node ../tests/interop/node
npx --no-install tsc -p tsconfig.json
echo "== node: node --test"
node --test --test-concurrency=1 --test-timeout=300000 test/*.test.mjs
