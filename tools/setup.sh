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
  prometheus                                # promtool lints /metrics output (no daemon: below)
  libhiredis-dev                            # Redis client of the L3 cache
  redis-server                              # tests start their own throwaway servers (no daemon: below)
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

# `prometheus` is here only for promtool (19 MB download, 96 MB installed),
# but its postinst also enables the Prometheus server and starts it through
# invoke-rc.d / deb-systemd-invoke: a build machine would be left with a
# daemon on :9090 writing to /var/lib/prometheus. Both helpers ask
# /usr/sbin/policy-rc.d first, and exit code 101 means "forbidden". Docker
# images ship such a file; elsewhere we put one in place for this install
# only, then disable the service so that a reboot does not start it either.
# (Rejected: unpacking promtool from the .deb by hand; apt would not know the
# file and security updates would not reach it.)
policy=/usr/sbin/policy-rc.d
installing_prometheus=0
[[ " ${missing[*]} " == *" prometheus "* ]] && installing_prometheus=1
# redis-server's postinst starts a Redis on :6379 the same way; the tests
# start their own on free ports (tools/test.sh), so the daemon goes too.
installing_redis=0
[[ " ${missing[*]} " == *" redis-server "* ]] && installing_redis=1
if [ $((installing_prometheus + installing_redis)) -gt 0 ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# tools/setup.sh (agentgraph): no service starts during this install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

if [ "$installing_prometheus" -eq 1 ]; then
  # Off at boot under systemd and sysvinit alike; stopped now in case a
  # pre-existing policy-rc.d let it start. Each may not apply here: ignore.
  deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
  update-rc.d prometheus disable >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then
    systemctl stop prometheus.service >/dev/null 2>&1 || true
  fi
fi

if [ "$installing_redis" -eq 1 ]; then
  deb-systemd-helper disable redis-server.service >/dev/null 2>&1 || true
  update-rc.d redis-server disable >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then
    systemctl stop redis-server.service >/dev/null 2>&1 || true
  fi
fi
