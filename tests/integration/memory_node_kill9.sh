#!/bin/bash
# Memory that was stored stays stored, end to end: a real `agentgraph node`
# serving the research config answers N tasks through its gateway (each
# answer comes after the researcher's memory store was answered), is killed
# with SIGKILL right after the last answer, and is started again on the same
# file: GET /v1/memory shows all N notes in durability commit (the default)
# and none in durability snapshot (nothing was snapshotted before the kill).
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; [ -f "$work/node.log" ] && tail -20 "$work/node.log"; fails=$((fails + 1)); }
n=8

# start_node MODE: a node on the mode's notes file; sets pid and url.
start_node() {
  rm -f "$work/port"
  "$cli" node --config "$src/configs/examples/research.ini" --port-file "$work/port" \
    --set node.port=0 --set memory.notes.snapshot_path="$work/$1.sqlite" \
    --set memory.notes.durability="$1" --set memory.notes.snapshot_interval=24h \
    >"$work/node.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do [ -s "$work/port" ] && break; sleep 0.05; done
  [ -s "$work/port" ] || { fail "$1: the node wrote no port file"; return 1; }
  url="http://127.0.0.1:$(cat "$work/port")"
}

kill_node() {
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  local rc=$?
  pid=""
  [ "$rc" -eq 137 ] || fail "the node ended with $rc, not by SIGKILL"
}

# tasks N: N sync tasks on the researcher; prints how many completed.
tasks() {
  python3 - "$url" "$1" <<'PY'
import json, sys, urllib.request
done = 0
for i in range(int(sys.argv[2])):
    body = json.dumps({"agent": "researcher", "task_id": f"kill9-{i}",
                       "input": f"How many widgets fit in the crate? Use the spec file. ({i})"}).encode()
    req = urllib.request.Request(sys.argv[1] + "/v1/tasks", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if json.load(r).get("status") == "completed":
            done += 1
print(done)
PY
}

notes_entries() {
  python3 - "$url" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/v1/memory", timeout=10) as r:
    doc = json.load(r)
shards = doc if isinstance(doc, list) else doc.get("shards", doc.get("memory", []))
print(next(s["entries"] for s in shards if s["name"] == "notes"))
PY
}

for mode in commit snapshot; do
  start_node "$mode" || continue
  got=$(tasks "$n") || fail "$mode: a task failed"
  [ "$got" = "$n" ] || fail "$mode: $got of $n tasks completed"
  kill_node
  start_node "$mode" || continue
  entries=$(notes_entries) || fail "$mode: GET /v1/memory"
  echo "$mode: $entries notes after kill -9 and restart"
  if [ "$mode" = commit ]; then
    [ "$entries" = "$n" ] || fail "commit: $entries notes after the restart, want $n"
  else
    [ "$entries" = "0" ] || fail "snapshot: $entries notes after the restart, want 0 (lost)"
  fi
  kill_node
done
exit $((fails > 0))
