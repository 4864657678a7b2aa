#!/usr/bin/env bash
# The long nemesis run: server/tests/nemesis.rs (3 nodes, RF 3, min ISR 2,
# idempotent acks=all producers, SIGKILLs with the leader targeted half the
# time, SIGSTOP/SIGCONT) with KILLS kills (default 500) on a release build.
# Prints the test's progress and figures; exits non-zero if anything
# acknowledged was lost, duplicated, moved or reordered.
#
#   scripts/nemesis.sh            # 500 kills, about 20 minutes on 2 cores
#   KILLS=50 scripts/nemesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
kills="${KILLS:-500}"
case "$kills" in ''|*[!0-9]*) echo "KILLS must be a number, not '$kills'"; exit 2 ;; esac
started=$(date +%s)
PYRALOG_NEMESIS_KILLS="$kills" cargo test --release --locked -p pyralog-server --test nemesis -- --nocapture
echo "nemesis.sh: $kills kills passed in $(( $(date +%s) - started )) s (build included)"
