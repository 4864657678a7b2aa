#!/usr/bin/env bash
# Installs the Go SDK as a user would and runs the two Go examples with it:
# a fresh module in a temporary directory outside the repository, the
# examples copied in, the SDK required and replaced by the checkout's go/
# (as go/README.md tells a user), built and run against SERVER.
#
#   tests/install/go.sh SERVER CA_FILE
#
# Uses the debug build of the C ABI's static library
# ($CARGO_TARGET_DIR/debug/libpyralog_c.a, CARGO_TARGET_DIR defaulting to
# <repo>/target); copies it to go/lib/ when it is not there yet.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SERVER CA_FILE" >&2
  exit 2
fi
server=$1
[ -f "$2" ] || { echo "$0: no CA file at $2" >&2; exit 1; }
ca_file=$(realpath -- "$2") # the examples run in another directory
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}

if [ ! -f "$repo/go/lib/libpyralog_c.a" ]; then
  [ -f "$target/debug/libpyralog_c.a" ] || { echo "$0: build it first: cargo build -p pyralog-c" >&2; exit 1; }
  mkdir -p "$repo/go/lib"
  cp "$target/debug/libpyralog_c.a" "$repo/go/lib/"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pyralog-go-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
case "$work/" in
  "$repo"/*) echo "$0: $work is inside the repository; set TMPDIR elsewhere" >&2; exit 1 ;;
esac
cd "$work"

echo "== go: a fresh module in $work"
go mod init example.com/pyralog-user
cp -R "$repo/examples/go/quickstart" "$repo/examples/go/group" .
go mod edit -require github.com/pyralog/pyralog/go@v0.0.0 -replace "github.com/pyralog/pyralog/go=$repo/go"
timeout 600 go build -o bin/ ./quickstart ./group

echo "== go: quickstart"
timeout 300 ./bin/quickstart "$server" "$ca_file"
echo "== go: group"
timeout 300 ./bin/group "$server" "$ca_file"
echo "== go: both examples passed"
