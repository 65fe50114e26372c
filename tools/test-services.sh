#!/bin/bash
# Throwaway servers for one test run, on 127.0.0.1 only, in a temp directory
# removed afterwards. Source this file, then:
#
#   test_services_start      # starts every service below, exports its URL
#   ...run the tests...
#   test_services_stop       # stops them and removes their files (idempotent)
#
# test_services_start installs an EXIT trap that calls test_services_stop, so
# a failing or interrupted run leaves no server behind. Tests that need a
# service read its variable and FAIL (never skip) when it is missing.
#
# Adding a service: write start_<name> (exports its variable,
# records what to clean up) and stop_<name>, and append <name> to
# test_services. Run standalone, `tools/test-services.sh run CMD...` starts
# the services, runs CMD with the variables set, and stops them.
#
# Services:
#   postgres  AGENTGRAPH_TEST_POSTGRES_URL=postgresql://agentgraph@127.0.0.1:PORT/agentgraph_test
#             initdb + pg_ctl from Debian's `postgresql` package (tools/setup.sh),
#             trust auth for the local test user, run as the `postgres` system
#             user when we are root (the server refuses to run as root).
#   redis     AGENTGRAPH_TEST_REDIS_URL=redis://127.0.0.1:PORT
#             redis-server from Debian's `redis-server` package, no persistence.

test_services=(postgres redis)
test_services_dir=""

test_services_log() { echo "test-services: $*" >&2; }

# A TCP port nobody listens on now (the kernel's pick for port 0).
test_services_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the unprivileged owner of the service files.
test_services_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    test_services_log "no PostgreSQL server binaries under /usr/lib/postgresql: run tools/setup.sh"
    return 1
  fi
  local dir="$test_services_dir/postgres" port
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  port=$(test_services_free_port)
  # --no-sync: the cluster lives for one test run; fsync of the server's own
  # WAL stays on (the default), so commits behave as in production.
  test_services_as_owner "$bindir/initdb" -D "$dir/data" -U agentgraph -A trust -E UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2; return 1; }
  test_services_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=50" start \
    >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  echo "$bindir" >"$dir/bindir"
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U agentgraph agentgraph_test || return 1
  export AGENTGRAPH_TEST_POSTGRES_URL="postgresql://agentgraph@127.0.0.1:$port/agentgraph_test"
  test_services_log "postgres $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  local dir="$test_services_dir/postgres"
  [ -f "$dir/bindir" ] || return 0
  test_services_as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop \
    >/dev/null 2>&1 || true
  rm -f "$dir/bindir"
  unset AGENTGRAPH_TEST_POSTGRES_URL
}

start_redis() {
  if ! command -v redis-server >/dev/null; then
    test_services_log "redis-server is not installed: run tools/setup.sh"
    return 1
  fi
  local dir="$test_services_dir/redis" port
  mkdir -p "$dir"
  port=$(test_services_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --logfile "$dir/server.log" &
  echo $! >"$dir/pid"
  local i
  for i in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  redis-cli -p "$port" ping >/dev/null 2>&1 || { cat "$dir/server.log" >&2; return 1; }
  export AGENTGRAPH_TEST_REDIS_URL="redis://127.0.0.1:$port"
  test_services_log "redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_redis() {
  local dir="$test_services_dir/redis"
  [ -f "$dir/pid" ] || return 0
  kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid"
  unset AGENTGRAPH_TEST_REDIS_URL
}

test_services_stop() {
  [ -n "$test_services_dir" ] || return 0
  local s
  for s in "${test_services[@]}"; do
    "stop_$s" || true
  done
  rm -rf "$test_services_dir"
  test_services_dir=""
}

test_services_start() {
  local t0=$SECONDS s
  test_services_dir=$(mktemp -d /tmp/agentgraph-services.XXXXXX)
  chmod 755 "$test_services_dir"
  trap test_services_stop EXIT
  for s in "${test_services[@]}"; do
    if ! "start_$s"; then
      test_services_log "$s failed to start"
      test_services_stop
      return 1
    fi
  done
  test_services_log "started ${test_services[*]} in $((SECONDS - t0)) s"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "${1:-}" != run ] || [ $# -lt 2 ]; then
    echo "usage: tools/test-services.sh run COMMAND [ARGS...]" >&2
    exit 2
  fi
  shift
  test_services_start
  "$@"
fi
