#!/bin/bash
# tools/cluster.sh against the shipped configs/cluster/: start brings three
# nodes up, status --json lists them with their pids, stop ends them all.
# Uses the configs' fixed ports (ctest RESOURCE_LOCK cluster_ports).
# Usage: cluster_script.sh <agentgraph binary> <source dir>
set -euo pipefail
export AGENTGRAPH_BIN="$1"
src="$2"
export AGENTGRAPH_CLUSTER_DIR="$(mktemp -d)"
unset AGENTGRAPH_CLUSTER_SECRET
trap '"$src/tools/cluster.sh" stop >/dev/null 2>&1 || true; rm -rf "$AGENTGRAPH_CLUSTER_DIR"' EXIT

"$src/tools/cluster.sh" start
json="$("$src/tools/cluster.sh" status --json 2>/dev/null)"
pids="$(cat "$AGENTGRAPH_CLUSTER_DIR"/node*.pid | sort -n | tr '\n' ' ')"
python3 - "$json" "$pids" <<'PY'
import json, sys
st = json.loads(sys.argv[1])
want = sorted(int(p) for p in sys.argv[2].split())
got = sorted(m["pid"] for m in st["members"])
assert [m["state"] for m in st["members"]] == ["up"] * 3, st
assert got == want, (got, want)
assert sorted(m["id"] for m in st["members"]) == ["node1", "node2", "node3"], st
print("ok   status --json: three up, pids", got)
PY
[[ "$(stat -c %a "$AGENTGRAPH_CLUSTER_DIR/secret")" == 600 ]] || { echo "FAIL secret file mode"; exit 1; }
"$src/tools/cluster.sh" stop
for p in $pids; do
  if kill -0 "$p" 2>/dev/null; then echo "FAIL pid $p still running after stop"; exit 1; fi
done
echo "cluster_script: ok"
