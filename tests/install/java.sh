#!/usr/bin/env bash
# Installs the Java SDK as a user would and runs the Java examples against a server:
#
#   tests/install/java.sh SERVER CA_FILE
#
# `mvn install` puts io.pyralog:pyralog (native library inside, debug build) into the local
# Maven repository, as java/README.md tells a user; examples/java is copied to a fresh
# directory outside the checkout and built there, so Maven resolves the SDK from the local
# repository, not from this checkout. Both examples (the quickstart, the consumer group)
# must succeed.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SERVER CA_FILE" >&2
  exit 2
fi
server=$1
ca_file=$(realpath "$2") # the examples run in another directory
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$work/" in
  "$repo"/*) echo "java.sh: $work is inside the repository; set TMPDIR elsewhere" >&2; exit 1 ;;
esac

echo "== java: install io.pyralog:pyralog into the local Maven repository"
mvn -q -B -f "$repo/java/pom.xml" -DskipTests install

cp -r "$repo/examples/java" "$work/examples"
rm -rf "$work/examples/target" # built here, from the installed artifact only
cd "$work"
for main in Quickstart GroupExample; do
  echo "== java: example $main"
  timeout 300 mvn -q -B -f examples/pom.xml compile exec:java \
    -Dexec.mainClass="io.pyralog.examples.$main" -Dexec.args="'$server' '$ca_file'"
done
echo "== java: installed and ran both examples"
