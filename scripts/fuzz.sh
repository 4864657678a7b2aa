#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 30) from the seed
# corpus in fuzz/corpus/<target>. New inputs go to a scratch corpus under the
# target directory, never into the repository; a crash fails the run and
# leaves its input in $CARGO_TARGET_DIR/fuzz-work/artifacts/<target>/ (make it
# a regression test: copy it into fuzz/corpus/<target>/ and fix the bug).
# Needs the nightly toolchain; installs cargo-fuzz if missing.
#   scripts/fuzz.sh 30                       # every target, 30 s each
#   scripts/fuzz.sh 900 record_batch         # one target, 15 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request_decode record_batch segment_recovery config_file)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
work="$CARGO_TARGET_DIR/fuzz-work"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cargo +nightly fuzz build --fuzz-dir fuzz --target-dir "$CARGO_TARGET_DIR/fuzz" 2>&1 | tail -1
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  : > "$work/$t.log"
  echo "== fuzz $t for ${seconds}s"
  cargo +nightly fuzz run --fuzz-dir fuzz --target-dir "$CARGO_TARGET_DIR/fuzz" "$t" \
    "$work/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 -timeout=10 \
    -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 2>&1 \
    | tee -a "$work/$t.log" | grep -E "^(stat::|Done|#[0-9]+[[:space:]]+DONE|==[0-9]+==|SUMMARY)" || true
  # grep swallows the exit status; a crash leaves an artifact.
  if compgen -G "$work/artifacts/$t/*" >/dev/null; then
    echo "fuzz: $t crashed; inputs in $work/artifacts/$t/" >&2
    exit 1
  fi
done
