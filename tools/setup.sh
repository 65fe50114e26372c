#!/bin/bash
# Installs every Debian package agentgraph needs to build and test, and
# nothing else. Idempotent: packages already present are left alone, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config   # toolchain
  libcaf-dev                                # actors, middleman (core, io, openssl)
  libssl-dev                                # libcrypto: cluster admission (HMAC, CSPRNG), TLS for tests
  openssl                                   # the openssl command: throwaway CAs of the cluster TLS tests
  libmsgpack-cxx-dev                        # Value <-> msgpack
  libcurl4-openssl-dev                      # http_get tool, later the LLM client
  libboost-program-options-dev              # command line
  libboost-dev                              # Boost.Beast + Asio: the gateway's HTTP server (header-only)
  doctest-dev                               # tests
  nlohmann-json3-dev                        # Value <-> JSON
  libhnswlib-dev                            # memory shard vector index
  libsqlite3-dev                            # memory snapshots, checkpoint store (embedded)
  libpqxx-dev                               # checkpoint store (PostgreSQL backend)
  libcpp-httplib-dev                        # loopback HTTP servers in tests
  python3                                   # integration test scripts
  prometheus                                # promtool lints /metrics output (no daemon: below)
  postgresql                                # server binaries for tools/test-services.sh (no daemon, no cluster: below)
  libhiredis-dev                            # Redis client of the L3 cache
  redis-server                              # tools/test-services.sh starts throwaway servers (no daemon: below)
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
# and `postgresql` only for its server binaries (tools/test-services.sh runs a
# throwaway server per test run), but their postinsts also enable and start
# services through invoke-rc.d / deb-systemd-invoke: a build machine would be
# left with Prometheus on :9090 and PostgreSQL on :5432. Both helpers ask
# /usr/sbin/policy-rc.d first, and exit code 101 means "forbidden". Docker
# images ship such a file; elsewhere we put one in place for this install
# only, then disable the services so that a reboot does not start them either.
# (Rejected: unpacking promtool from the .deb by hand; apt would not know the
# file and security updates would not reach it.)
daemon_packages=(prometheus postgresql redis-server)
installing_daemons=()
for p in "${daemon_packages[@]}"; do
  [[ " ${missing[*]} " == *" $p "* ]] && installing_daemons+=("$p")
done
policy=/usr/sbin/policy-rc.d
if [ ${#installing_daemons[@]} -gt 0 ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# tools/setup.sh (agentgraph): no service starts during this install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# Debian's postgresql-15 postinst also creates a "main" cluster in
# /var/lib/postgresql (and a service that would start it at boot). Its
# documented off switch is create_main_cluster in postgresql-common's
# createcluster.conf, which must be set after postgresql-common is
# configured and before postgresql-15 is: hence two apt-get runs. A machine
# that already has clusters keeps them; we never drop anything.
if [[ " ${installing_daemons[*]} " == *" postgresql "* ]]; then
  apt-get install -y -qq --no-install-recommends postgresql-common
  pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"

for p in "${installing_daemons[@]}"; do
  # Off at boot under systemd and sysvinit alike; stopped now in case a
  # pre-existing policy-rc.d let it start. Each may not apply here: ignore.
  deb-systemd-helper disable "$p.service" >/dev/null 2>&1 || true
  update-rc.d "$p" disable >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then
    systemctl stop "$p.service" >/dev/null 2>&1 || true
  fi
done
