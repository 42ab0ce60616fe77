#!/usr/bin/env bash
# Installs what canon needs to build and test on a fresh Debian machine.
# Idempotent and quick when everything is present, so `make test` and
# `make run` call it every time. `--bench` adds the load generator and the
# reference servers that only `make bench` uses (installing nginx starts a
# system service, which a test run has no business doing).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  gcc make pkg-config clang libclang-rt-14-dev valgrind
  libcriterion-dev      # unit tests
  libsecp256k1-dev      # ECDSA, recovery
  nettle-dev            # Keccak permutation, SHA-2
  libsodium-dev         # Ed25519, X25519, AEAD, Argon2id
  liblmdb-dev           # storage
  libuv1-dev            # event loop
  libjansson-dev        # JSON parsing (RPC, test vectors)
  libmicrohttpd-dev     # HTTP/WebSocket server
  libzstd-dev           # compression
  libgmp-dev            # EVM modexp
  curl                  # the end-to-end tests read /status and JSON-RPC with it
)
if [ "${1:-}" = --bench ]; then
  packages+=(
    wrk                 # HTTP load generator for bench/rpc.c (requests/s, p99)
    nginx               # static-JSON reference server bench/rpc.c compares the RPC server with
  )
fi
# Node.js may come from outside Debian's archive (it does on these machines);
# ask apt for it only when there is none.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for interop tests, pinned by the committed package-lock.json.
if [ -f tests/clients/package-lock.json ]; then
  stamp=tests/clients/node_modules/.canon-stamp
  if [ ! -f "$stamp" ] || [ tests/clients/package-lock.json -nt "$stamp" ]; then
    echo "deps: npm ci in tests/clients"
    (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$stamp"
  fi
fi
