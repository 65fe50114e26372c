#!/bin/bash
# The minority side takes no cluster work (issue 12, design §5.3): three
# nodes; SIGSTOP two of them, so n1 alone is the minority. n1 downs itself
# (keep-majority) and from then on refuses new tasks with 503 and
# Retry-After, and /ready says why, while a task it accepted before keeps
# its answer. SIGCONT the two: n1 rejoins as a new incarnation and accepts
# tasks again.
# Every wait is bounded.
# Usage: cluster_minority.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "work", "when": {"last_role": "user"}, "reply": "done"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import os, signal, sys, time, urllib.error, urllib.request
from cluster_procs import Check, Nodes, cluster_ini, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
names = ("n1", "n2", "n3")
ports = {n: free_port() for n in names}
seeds = ", ".join("127.0.0.1:%d" % ports[n] for n in names)
def config(name):
    return cluster_ini(name, ports[name], seeds, "minority", """[provider.scripted]
kind = scripted
rules = %s
[agent.worker]
provider = scripted""" % os.path.join(work, "rules.json"))
env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "minority-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
procs = nodes.procs
counter = [0]

def submit():
    counter[0] += 1
    return nodes.http("n1", "POST", "/v1/tasks", {"agent": "worker", "input": "hello",
                                                  "task_id": "m-%d" % counter[0]}, 10)

def ready_reason():
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/ready" % procs["n1"][1], timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

frozen = []
try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: nodes.all_up(list(names)), 30), "three nodes join")
    code, before = submit()
    check(code == 200, "n1 takes a task while in the majority: %s %s" % (code, before))
    for n in ("n2", "n3"):
        procs[n][0].send_signal(signal.SIGSTOP)
        frozen.append(n)
    t0 = time.monotonic()
    refused = {}
    def refuses():
        code, body = submit()
        refused["last"] = (code, body)
        return code == 503
    check(wait(refuses, 20, 0.1), "n1 alone (the minority) refuses new tasks: %s" % (refused.get("last"),))
    print("refusing %.0f ms after the freeze" % ((time.monotonic() - t0) * 1000))
    code, body = refused["last"]
    check("not in the cluster" in body.get("error", {}).get("message", ""),
          "the refusal says why: %s" % body)
    rcode, rbody = ready_reason()
    check(rcode == 503 and "not in the cluster" in rbody, "/ready is 503 and says why: %s %s"
          % (rcode, rbody))
    code, again = nodes.http("n1", "GET", "/v1/tasks/m-1", None, 10)
    check(code == 200 and again.get("status") == "completed", "the task accepted before keeps its answer")
    for n in frozen:
        procs[n][0].send_signal(signal.SIGCONT)
    frozen = []
    check(wait(lambda: submit()[0] == 200, 40, 0.2), "after SIGCONT n1 rejoins and takes tasks again")
    check("downed itself" in nodes.log("n1") or "minority" in nodes.log("n1"),
          "n1's log says it was on the minority side")
finally:
    for n in frozen:
        procs[n][0].send_signal(signal.SIGCONT)
    nodes.finish(check, 40)
PY
