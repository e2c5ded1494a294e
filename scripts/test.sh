#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every check and test.
#   bash scripts/test.sh
# Needs: the Rust toolchain. Installs (Debian): poppler-utils (pdfsig), qpdf, libnss3-tools
# (certutil), openssl, g++ (libFuzzer, for the fuzz targets' check), python3-venv, chromium and
# chromium-driver (the verification page's browser tests), npm; a Python venv in .venv with
# pinned pyHanko and the Python example's pinned requirements; axe-core (pinned by
# tests/browser/package-lock.json) in tests/browser/node_modules.
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
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v npm >/dev/null || need_apt+=(npm)
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

EXAMPLE_REQUIREMENTS=examples/python/requirements.txt
if ! .venv/bin/python -c 'import grpc, grpc_tools, grpc_status, cryptography' 2>/dev/null; then
  say "installing the Python example's requirements into .venv ($EXAMPLE_REQUIREMENTS)"
  .venv/bin/pip install -q --disable-pip-version-check -r "$EXAMPLE_REQUIREMENTS"
fi

if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  say "installing axe-core for the browser tests (npm ci in tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
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

say "the Python example (examples/python) against a development server"
python_example() {
  local tmp port server rc=0
  tmp=$(mktemp -d)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  hport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cargo build -q -p segel-server
  target/debug/segel-server --dev --listen "127.0.0.1:$port" --data "$tmp/data" \
    --certs "$tmp/certs" --metrics-listen off --http-listen "127.0.0.1:$hport" >"$tmp/server.log" 2>&1 &
  server=$!
  # shellcheck disable=SC2064 # expanded now: the locals are gone when the trap runs
  trap "kill $server 2>/dev/null; rm -rf '$tmp'" EXIT
  # Ready when the port accepts connections; give up if the server exits first, or after a
  # minute (a server that never listens must not hang the run).
  local waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null || [ "$waited" -ge 600 ]; then
      cat "$tmp/server.log"; echo "the development server did not start listening"
      kill "$server" 2>/dev/null; trap - EXIT; rm -rf "$tmp"; return 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  .venv/bin/python examples/python/sign_and_verify.py --server "localhost:$port" \
    --certs "$tmp/certs" --log-vkey "$tmp/data/log.vkey" --http "http://127.0.0.1:$hport" || rc=$?
  kill "$server"; wait "$server" 2>/dev/null || true
  trap - EXIT
  [ "$rc" -eq 0 ] || { cat "$tmp/server.log"; echo "the Python example failed"; }
  rm -rf "$tmp"
  return "$rc"
}
python_example

say "cargo test (independent verifiers required)"
export SEGEL_REQUIRE_TOOLS=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --doc 2>&1 | tee "$log"
cargo test --workspace --all-targets 2>&1 | tee -a "$log"
# One closing line for the whole run (cargo's last line may be a binary with no tests).
awk '/^test result:/ { p += $4; f += $6 } END { printf "\nsegel: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log"
