#!/bin/bash
# Installs every Debian package agentgraph needs to build and test, and
# nothing else. Idempotent: packages already present are left alone, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config   # toolchain
  libcaf-dev                                # actors, middleman (core, io, openssl)
  libmsgpack-cxx-dev                        # Value <-> msgpack
  libcurl4-openssl-dev                      # http_get tool, later the LLM client
  libboost-program-options-dev              # command line
  doctest-dev                               # tests
  nlohmann-json3-dev                        # Value <-> JSON
  libhnswlib-dev                            # memory shard vector index
  libsqlite3-dev                            # memory snapshots
  libcpp-httplib-dev                        # loopback HTTP servers in tests
  python3                                   # integration test scripts
)
# Node.js and npm run the vendor-SDK conformance test of the mock LLM server
# (tools/peers/). Checked by command, not by package name: a machine with
# Node from another source (which bundles npm) must not get Debian's on top.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
