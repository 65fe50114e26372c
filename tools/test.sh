#!/bin/bash
# README command (2): set up, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
# Redis for the L3 cache tests (AGENTGRAPH_TEST_REDIS_URL; they fail without
# it): a throwaway server on a free loopback port, no persistence, killed on exit.
redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --logfile /dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export AGENTGRAPH_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
ctest --test-dir build --output-on-failure -j2 --timeout 300
