#!/bin/bash
# A graceful leave loses nothing (issue 12, design §9.4): three nodes, an
# agent on every node behind a round-robin group; a client streams 300
# tasks with ids through n1's gateway (at most 40 in flight, each 200 ms)
# and SIGTERMs n2 mid-run. n2 withdraws its directory entries, drains,
# leaves and exits 0; n1 sees it `removed`, never `down`; nobody was downed;
# every id ends `completed` exactly once (the tasks n2 was running finish
# there or move to n1 and n3).
# Every wait is bounded.
# Usage: cluster_leave.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

for n in n1 n2 n3; do
cat > "$work/rules_$n.json" <<JSON
{"rules": [{"name": "work", "when": {"last_role": "user"}, "delay_ms": 200, "reply": "done by $n"}]}
JSON
done

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import os, sys, time
from cluster_procs import Check, Nodes, cluster_ini, free_port, stream_tasks, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
names = ("n1", "n2", "n3")
ports = {n: free_port() for n in names}
seeds = "127.0.0.1:%d, 127.0.0.1:%d" % (ports["n1"], ports["n2"])
TASKS, WINDOW = 300, 40

def config(name):
    return cluster_ini(name, ports[name], seeds, "leave", """[provider.scripted]
kind = scripted
rules = %s
[agent.worker]
provider = scripted
tasks_in_flight_max = 64
[group.workers]
agents = worker
strategy = round_robin""" % os.path.join(work, "rules_%s.json" % name),
                       node_extra="tasks_in_flight_max = 256\ntasks_kept = 1000")

env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "leave-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
procs = nodes.procs

def http(method, path, body=None):
    return nodes.http("n1", method, path, body, 10)

def downs(name):
    st = nodes.status(name) or {}
    return st.get("counters", {}).get("downs")

try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: nodes.all_up(list(names)), 30), "three nodes join")
    check(wait(lambda: all(m["agents"] == 2 for m in (nodes.status("n1") or {}).get("members", [])), 10),
          "every node offers its worker and group")
    ids = ["job-%03d" % i for i in range(TASKS)]
    at = {"left": None}
    n2_states = set()
    def tick(results, outstanding):
        if at["left"] is None and len(results) >= 80:
            at["left"] = time.monotonic()
            procs["n2"][0].terminate()
            print("SIGTERM n2 with %d tasks done and %d in flight" % (len(results), len(outstanding)))
        if at["left"] is not None:
            s = nodes.states("n1").get("n2")
            if s:
                n2_states.add(s)
    results, pending, outstanding = stream_tasks(nodes, "n1", "workers", ids, WINDOW, 120, check, tick)
    check(not pending and not outstanding, "every task finished within the bound (%d pending, %d outstanding)"
          % (len(pending), len(outstanding)))
    failed = [(t, b) for t, b in results.items() if b.get("status") != "completed"]
    check(len(results) == TASKS and not failed,
          "all %d tasks completed exactly once; first failures: %s" % (TASKS, failed[:3]))
    try:
        code = procs["n2"][0].wait(30)
    except Exception:
        code = None
    check(code == 0, "n2 exited 0 after leaving: %s" % code)
    check(wait(lambda: nodes.states("n1").get("n2") in (None, "removed"), 15),
          "n1 sees n2 removed: %s" % nodes.states("n1").get("n2"))
    check("down" not in n2_states, "n2 was never down in n1's view (seen: %s)" % sorted(n2_states))
    check(downs("n1") == 0 and downs("n3") == 0, "nobody was downed (n1 %s, n3 %s)"
          % (downs("n1"), downs("n3")))
    by_node = {}
    for body in results.values():
        out = (body.get("result") or body).get("output", "?")
        by_node[out] = by_node.get(out, 0) + 1
    print("answers by node:", by_node)
    check(by_node.get("done by n2", 0) > 0, "n2 answered tasks before it left")
finally:
    nodes.finish(check, 40)
PY
