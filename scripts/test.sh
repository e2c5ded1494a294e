#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every check and test.
#   bash scripts/test.sh
# Needs: the Rust toolchain. Installs (Debian): poppler-utils (pdfsig), qpdf, libnss3-tools
# (certutil), openssl, g++ (libFuzzer, for the fuzz targets' check), python3-venv; and a Python
# venv in .venv with pinned pyHanko.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v pdfsig >/dev/null || need_apt+=(poppler-utils)
command -v qpdf >/dev/null || need_apt+=(qpdf)
command -v certutil >/dev/null || need_apt+=(libnss3-tools)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v c++ >/dev/null || need_apt+=(g++)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PYHANKO_PINS=(pyhanko==0.38.0 pyhanko-cli==0.6.0)
if ! .venv/bin/pyhanko --version >/dev/null 2>&1; then
  say "creating .venv with ${PYHANKO_PINS[*]}"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "${PYHANKO_PINS[@]}"
fi

say "engine purity: no I/O crates or file system calls in pades and tlog"
if grep -rnE '\b(tokio|tonic|sled|clap)\b|std::fs|std::net|File::' pades/src tlog/src; then
  echo "pades and tlog must stay pure: bytes in, values out (README, Layout)"; exit 1
fi
if grep -nE '^(tokio|tonic|sled|clap)' pades/Cargo.toml tlog/Cargo.toml; then
  echo "pades and tlog must not depend on I/O crates"; exit 1
fi

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "fuzz targets compile (fuzz/ is outside the workspace)"
cargo check --quiet --manifest-path fuzz/Cargo.toml --bins

say "cargo test (independent verifiers required)"
export SEGEL_REQUIRE_TOOLS=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --doc 2>&1 | tee "$log"
cargo test --workspace --all-targets 2>&1 | tee -a "$log"
# One closing line for the whole run (cargo's last line may be a binary with no tests).
awk '/^test result:/ { p += $4; f += $6 } END { printf "\nsegel: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log"
