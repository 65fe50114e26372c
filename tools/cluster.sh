#!/bin/bash
# A three-node agentgraph cluster on this machine, from a checkout
# (configs/cluster/node{1,2,3}.ini: gateways 127.0.0.1:8081-8083, cluster
# ports 7401-7403).
#   tools/cluster.sh start          start the three nodes, wait until all are up
#   tools/cluster.sh status [--json]  members as node 1 sees them, and the pids
#   tools/cluster.sh stop           SIGTERM (graceful leave), then kill what is left
# Binary: $AGENTGRAPH_BIN, else build/apps/agentgraph. State (pids, logs):
# $AGENTGRAPH_CLUSTER_DIR, else /tmp/agentgraph-cluster. The shared secret:
# $AGENTGRAPH_CLUSTER_SECRET, else one generated on `start` and kept in the
# state directory (mode 600) for later commands.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${AGENTGRAPH_BIN:-$here/build/apps/agentgraph}"
state="${AGENTGRAPH_CLUSTER_DIR:-/tmp/agentgraph-cluster}"
nodes=(1 2 3)

die() { echo "cluster.sh: $*" >&2; exit 1; }

secret() {
  if [[ -n "${AGENTGRAPH_CLUSTER_SECRET:-}" ]]; then return; fi
  if [[ ! -f "$state/secret" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 >"$state/secret")
  fi
  AGENTGRAPH_CLUSTER_SECRET="$(cat "$state/secret")"
  export AGENTGRAPH_CLUSTER_SECRET
}

alive() { [[ -f "$state/node$1.pid" ]] && kill -0 "$(cat "$state/node$1.pid")" 2>/dev/null; }

start() {
  [[ -x "$bin" ]] || die "no agentgraph binary at $bin (build first, or set AGENTGRAPH_BIN)"
  mkdir -p "$state" "$state/node1" "$state/node2" "$state/node3"
  secret
  for i in "${nodes[@]}"; do
    if alive "$i"; then echo "node$i already running (pid $(cat "$state/node$i.pid"))"; continue; fi
    # The node reads AGENTGRAPH_* variables as config keys: ours are not.
    env -u AGENTGRAPH_BIN -u AGENTGRAPH_CLUSTER_DIR \
      "$bin" node --config "$here/configs/cluster/node$i.ini" \
        --set runtime.data_dir="$state/node$i" >"$state/node$i.out" 2>"$state/node$i.log" &
    echo $! >"$state/node$i.pid"
    echo "node$i started (pid $!, log $state/node$i.log)"
  done
  # Bounded: 60 polls of 0.5 s.
  for _ in $(seq 60); do
    if "$bin" cluster status --url http://127.0.0.1:8081 --json 2>/dev/null |
        python3 -c 'import json,sys; m=json.load(sys.stdin)["members"]; sys.exit(0 if sum(x["state"]=="up" for x in m)==3 else 1)'; then
      echo "cluster up: 3 members"
      return 0
    fi
    sleep 0.5
  done
  die "the three nodes did not all come up within 30 s; see $state/node*.log"
}

status() {
  for i in "${nodes[@]}"; do
    if alive "$i"; then echo "node$i pid $(cat "$state/node$i.pid")" >&2; else echo "node$i not running" >&2; fi
  done
  "$bin" cluster status --url http://127.0.0.1:8081 "$@"
}

stop() {
  for i in "${nodes[@]}"; do alive "$i" && kill -TERM "$(cat "$state/node$i.pid")" || true; done
  # Bounded: 40 polls of 0.5 s, then kill -9.
  for _ in $(seq 40); do
    local left=0
    for i in "${nodes[@]}"; do alive "$i" && left=1; done
    [[ $left -eq 0 ]] && break
    sleep 0.5
  done
  for i in "${nodes[@]}"; do
    if alive "$i"; then kill -9 "$(cat "$state/node$i.pid")"; echo "node$i killed"; fi
    rm -f "$state/node$i.pid"
  done
  echo "cluster stopped"
}

case "${1:-}" in
  start) start ;;
  status) shift; status "$@" ;;
  stop) stop ;;
  *) echo "usage: tools/cluster.sh start|status [--json]|stop" >&2; exit 2 ;;
esac
