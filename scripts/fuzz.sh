#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for a given time each, from the committed seed corpus.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 180 s, every target)
# Needs: a nightly toolchain (rustup toolchain install nightly) and cargo-fuzz
# (cargo install cargo-fuzz --locked). See fuzz/README.md for the limits and why.
#
# Amplification is a failure: one input that takes more than FUZZ_TIMEOUT seconds, a process
# whose memory grows past FUZZ_RSS_MB, or a single allocation past FUZZ_MALLOC_MB stops the run
# with a crash file in fuzz/artifacts/<target>/. The seeds in fuzz/corpus/<target>/ are only
# read; what the fuzzer finds goes to fuzz/target/corpus-work/<target>/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-180}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(pdf_document pdf_object cms_parse tlog_note client_answers)
fi
timeout_s=${FUZZ_TIMEOUT:-5}
rss_mb=${FUZZ_RSS_MB:-512}
malloc_mb=${FUZZ_MALLOC_MB:-128}
max_len=${FUZZ_MAX_LEN:-65536}

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain; cargo-fuzz needs one (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
  exit 2
fi

# ASan's quarantine would hold freed memory and count it in the RSS limit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
status=0
for t in "${targets[@]}"; do
  work="fuzz/target/corpus-work/$t"
  mkdir -p "$work" "fuzz/corpus/$t"
  echo "== $t: ${secs}s, -timeout=$timeout_s -rss_limit_mb=$rss_mb -malloc_limit_mb=$malloc_mb"
  if ! (cd fuzz && cargo +nightly fuzz run -O "$t" "../$work" "corpus/$t" -- \
      -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
      -malloc_limit_mb="$malloc_mb" -max_len="$max_len" -print_final_stats=1); then
    echo "== $t: FAILED (see fuzz/artifacts/$t/)" >&2
    status=1
  fi
done
exit $status
