#!/bin/bash
# The task journal of a cluster node ([cluster] journal_path, issue 12
# design §9): kill -9 of the node that accepted the tasks loses none.
#   1. five quick tasks answered before the kill; forty slow ones (1.5 s)
#      acknowledged (202, only once stored) and in flight;
#   2. kill -9, restart on the same config: the forty run again and each
#      ends `completed`; GET finds the five earlier answers in the journal;
#   3. an id submitted again gets its stored answer (200), not a new run;
#      GET of an unknown id is 404.
# Every wait is bounded.
# Usage: cluster_journal.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "quick", "when": {"user_contains": "quick"}, "reply": "quick answer"},
           {"name": "slow", "when": {"last_role": "user"}, "delay_ms": 1500, "reply": "slow answer"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
port = free_port()
config = """[runtime]
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
[cluster]
name = journal
node_id = n1
listen = 127.0.0.1
port = %d
seeds = 127.0.0.1:%d
secret_env = CLUSTER_TEST_SECRET
join_timeout = 500ms
journal_path = %s
""" % (os.path.join(work, "rules.json"), port, port, os.path.join(work, "journal.sqlite"))
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

try:
    nodes.start("n1", config)
    check(wait(lambda: nodes.ready("n1"), 15), "the node formed its cluster and is ready")
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
    code, body = http("GET", "/v1/tasks/" + slow[-1])
    check(code == 200 and body.get("status") == "running", "the slow tasks are running")
    nodes.procs["n1"][0].kill()
    nodes.procs["n1"][0].wait(10)
    print("kill -9 with %d tasks in flight" % len(slow))

    nodes.start("n1", config)
    check(wait(lambda: nodes.ready("n1"), 15), "the restarted node is ready")
    check("journaled tasks resumed" in nodes.log("n1") and "count=40" in nodes.log("n1"),
          "the restarted node resumed the forty open tasks")
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
