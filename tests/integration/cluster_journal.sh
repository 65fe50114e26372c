#!/bin/bash
# The task journal of a cluster node ([cluster] journal_path, issue 12
# design §9): kill -9 of the node that accepted the tasks loses none.
#   1. five quick tasks answered before the kill; forty slow ones (1.5 s)
#      acknowledged (202, only once stored) and in flight;
#   2. kill -9, restart on the same config: the forty run again and each
#      ends `completed`; GET finds the five earlier answers in the journal;
#   3. an id submitted again gets its stored answer (200), not a new run;
#      GET of an unknown id is 404;
#   4. tasks for an agent pinned to a second node (n2), in flight when n1
#      (the accepting node) is killed: the restarted n1 waits until n2
#      offers the agent again, then runs them there; each completes.
# Every wait is bounded.
# Usage: cluster_journal.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "remote", "when": {"agent": "[remote]"}, "delay_ms": 1500, "reply": "remote answer"},
           {"name": "quick", "when": {"user_contains": "quick"}, "reply": "quick answer"},
           {"name": "slow", "when": {"last_role": "user"}, "delay_ms": 1500, "reply": "slow answer"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
port = free_port()
port2 = free_port()
def config(name, cluster_port, journal):
    return """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = %s
[agent.worker]
provider = scripted
tasks_in_flight_max = 64
[agent.remote_worker]
system_prompt = [remote]
provider = scripted
placement = n2
[cluster]
name = journal
node_id = %s
listen = 127.0.0.1
port = %d
seeds = 127.0.0.1:%d, 127.0.0.1:%d
secret_env = CLUSTER_TEST_SECRET
join_timeout = 1s
""" % (os.path.join(work, "rules.json"), name, cluster_port, port, port2) + (
        "journal_path = %s\n" % os.path.join(work, "journal.sqlite") if journal else "")
env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "journal-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)

def http(method, path, body=None, timeout=10):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (nodes.procs["n1"][1], path),
                                 method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

def output(body):
    return (body.get("result") or body).get("output")

def remote_offered():
    d = http("GET", "/v1/cluster/directory")[1]
    return any(e["name"] == "remote_worker" for e in d.get("entries", []))

try:
    nodes.start("n1", config("n1", port, True))
    nodes.start("n2", config("n2", port2, False))
    check(wait(lambda: nodes.ready("n1") and nodes.all_up(["n1", "n2"]), 20),
          "n1 (with the journal) and n2 form a cluster")
    check(wait(remote_offered, 10), "n1 sees remote_worker on n2")
    quick = {}
    for i in range(5):
        code, body = http("POST", "/v1/tasks", {"agent": "worker", "input": "quick %d" % i,
                                                "task_id": "quick-%d" % i})
        quick["quick-%d" % i] = body
        check(code == 200 and output(body) == "quick answer", "quick task %d answered" % i)
    slow = ["slow-%02d" % i for i in range(40)]
    for tid in slow:
        code, body = http("POST", "/v1/tasks", {"agent": "worker", "input": "work " + tid,
                                                "task_id": tid, "mode": "background"})
        if code != 202:
            check(False, "slow task %s acknowledged: %s %s" % (tid, code, body))
    remote = ["remote-%02d" % i for i in range(10)]
    for tid in remote:
        code, body = http("POST", "/v1/tasks", {"agent": "remote_worker", "input": "far " + tid,
                                                "task_id": tid, "mode": "background"})
        if code != 202:
            check(False, "remote task %s acknowledged: %s %s" % (tid, code, body))
    code, body = http("GET", "/v1/tasks/" + slow[-1])
    check(code == 200 and body.get("status") == "running", "the slow tasks are running")
    nodes.procs["n1"][0].kill()
    nodes.procs["n1"][0].wait(10)
    print("kill -9 n1 with %d tasks in flight" % (len(slow) + len(remote)))

    nodes.start("n1", config("n1", port, True))
    check(wait(lambda: nodes.ready("n1"), 20), "the restarted node is ready")
    check("journaled tasks resumed" in nodes.log("n1") and "count=50" in nodes.log("n1"),
          "the restarted node resumed the fifty open tasks")
    check("not offered yet" not in nodes.log("n1"),
          "it waited until n2 offered remote_worker before resuming")
    done = {}
    def all_done():
        for tid in slow:
            if tid in done:
                continue
            code, body = http("GET", "/v1/tasks/" + tid)
            if code == 200 and body.get("status") in ("completed", "failed"):
                done[tid] = body
        return len(done) == len(slow)
    check(wait(all_done, 30, 0.2), "every task in flight at the kill finished after the restart (%d of %d)"
          % (len(done), len(slow)))
    check(all(b.get("status") == "completed" and output(b) == "slow answer" for b in done.values()),
          "each completed with its answer")
    far = {}
    def remote_done():
        for tid in remote:
            code, body = http("GET", "/v1/tasks/" + tid)
            if code == 200 and body.get("status") in ("completed", "failed"):
                far[tid] = body
        return len(far) == len(remote)
    check(wait(remote_done, 30, 0.2), "every task for the agent on n2 finished (%d of %d)"
          % (len(far), len(remote)))
    check(all(b.get("status") == "completed" and output(b) == "remote answer" for b in far.values()),
          "each ran again on n2 and completed: %s" % list(far.values())[:1])
    for tid, before in quick.items():
        code, body = http("GET", "/v1/tasks/" + tid)
        check(code == 200 and body.get("status") == "completed" and output(body) == "quick answer",
              "%s is found in the journal after the restart: %s %s" % (tid, code, body))
    # The same id again: its stored answer, not a new run.
    code, body = http("POST", "/v1/tasks", {"agent": "worker", "input": "quick again",
                                            "task_id": "quick-0"})
    check(code == 200 and output(body) == "quick answer" and body == quick["quick-0"],
          "quick-0 submitted again gets its stored answer: %s %s" % (code, body))
    code, body = http("POST", "/v1/tasks", {"agent": "worker", "input": "again", "task_id": slow[0],
                                            "mode": "background"})
    check(code == 200 and output(body) == "slow answer",
          "a finished background id submitted again gets its stored answer: %s %s" % (code, body))
    code, _ = http("GET", "/v1/tasks/no-such-task")
    check(code == 404, "an unknown id is 404")
finally:
    nodes.finish(check, 40)
PY
