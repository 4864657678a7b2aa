#!/usr/bin/env bash
# Installs the Node package as a user would and runs the examples with it:
# packs node/ (its prepack step builds the addon, debug profile, and copies it
# to node/pyralog.node), installs the tarball into a fresh project outside the
# repository, copies examples/node/*.mjs there and runs both against SERVER.
#
#   tests/install/node.sh SERVER CA_FILE
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 SERVER CA_FILE" >&2
  exit 2
fi
server=$1
ca_file=$(realpath "$2")

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
# The examples must load the addon inside the installed package, not a build.
unset PYRALOG_NODE_ADDON

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== node install: npm pack (debug addon) into $work"
(cd "$repo/node" && PYRALOG_NODE_PROFILE=debug npm pack --pack-destination "$work" --loglevel=error)
tarball=$(ls "$work"/pyralog-*.tgz)

echo "== node install: a fresh project, npm install $(basename "$tarball")"
mkdir "$work/project"
cd "$work/project"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tarball"
cp "$repo"/examples/node/*.mjs .
node -e 'import("pyralog").then((p) => console.log(`pyralog resolves to ${require.resolve("pyralog")} (${p.buildProfile()} addon)`))'

echo "== node install: quickstart.mjs"
timeout 300 node quickstart.mjs "$server" "$ca_file"
echo "== node install: group.mjs"
timeout 300 node group.mjs "$server" "$ca_file"
echo "== node install: ok"
