#!/bin/bash
# A task journal the cluster shares ([cluster] journal_url, issue 12 design
# §9.3): kill -9 of the node that ACCEPTED the tasks loses none, and a
# client that re-sends an id to another node gets the one answer.
#   1. three nodes share one fresh PostgreSQL database; n1 answers three
#      quick tasks, then acknowledges thirty slow ones (202: stored first;
#      5 s each, so all are still open at the kill however slow the host);
#   2. kill -9 n1: the surviving side's leader adopts n1's open tasks (its
#      log says how many) and runs them;
#   3. every slow id re-sent gets 200 and the slow answer: half to the node
#      that did not adopt them (it waits for the journal's answer), half to
#      the adopter (it joins its run); every quick id re-sent to n3 gets its
#      stored answer, not a new run;
#   4. n1 restarted finds nothing of its own left to run, and an id re-sent
#      to it gets the stored answer.
# Every wait is bounded. Needs AGENTGRAPH_TEST_POSTGRES_URL (tools/test.sh).
# Usage: cluster_postgres.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
[ -n "${AGENTGRAPH_TEST_POSTGRES_URL:-}" ] || {
  echo "AGENTGRAPH_TEST_POSTGRES_URL is not set (tools/test.sh starts the test server)"; exit 1; }
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

# A database of its own: the journal's tables start empty.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
base="${AGENTGRAPH_TEST_POSTGRES_URL%/*}"
hostport="${base#*@}"
db="cluster_journal_$$"
"$pgbin/createdb" -h "${hostport%:*}" -p "${hostport#*:}" -U agentgraph "$db"
url="$base/$db"

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "quick", "when": {"user_contains": "quick"}, "reply": "quick answer"},
           {"name": "slow", "when": {"last_role": "user"}, "delay_ms": 5000, "reply": "slow answer"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" "$url" <<'PY'
import os, re, sys, time
from cluster_procs import Check, Nodes, cluster_ini, free_port, wait

binary, work, url = sys.argv[1], sys.argv[2], sys.argv[3]
check = Check()
ports = {n: free_port() for n in ("n1", "n2", "n3")}
seeds = ", ".join("127.0.0.1:%d" % p for p in ports.values())
def config(name):
    return cluster_ini(name, ports[name], seeds, "shared", """[provider.scripted]
kind = scripted
rules = %s
[agent.worker]
provider = scripted
tasks_in_flight_max = 64""" % os.path.join(work, "rules.json"), "journal_url = %s\n" % url)
env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "shared-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
http = nodes.http

def output(body):
    return (body.get("result") or body).get("output")

def adopted(name):
    return sum(int(n) for n in re.findall(r"adopted a dead member's tasks.*?tasks=(\d+)",
                                          nodes.log(name)))

try:
    for n in ("n1", "n2", "n3"):
        nodes.start(n, config(n))
    check(wait(lambda: all(nodes.ready(n) for n in ("n1", "n2", "n3"))
               and nodes.all_up(["n1", "n2", "n3"]), 30),
          "three nodes sharing one journal form a cluster")
    quick = {}
    for i in range(3):
        code, body = http("n1", "POST", "/v1/tasks", {"agent": "worker", "input": "quick %d" % i,
                                                      "task_id": "quick-%d" % i})
        quick["quick-%d" % i] = body
        check(code == 200 and output(body) == "quick answer", "quick task %d answered" % i)
    slow = ["slow-%02d" % i for i in range(30)]
    for tid in slow:
        code, body = http("n1", "POST", "/v1/tasks", {"agent": "worker", "input": "work " + tid,
                                                      "task_id": tid, "mode": "background"})
        check(code == 202, "slow task %s acknowledged: %s %s" % (tid, code, body))
    t0 = time.monotonic()
    nodes.procs["n1"][0].kill()
    nodes.procs["n1"][0].wait(10)
    print("kill -9 n1 with %d tasks acknowledged and open" % len(slow))
    check(wait(lambda: adopted("n2") + adopted("n3") == len(slow), 20, 0.1),
          "the leader adopted n1's %d open tasks (n2 %d, n3 %d)"
          % (len(slow), adopted("n2"), adopted("n3")))
    print("adopted after %.0f ms" % ((time.monotonic() - t0) * 1000))
    adopter = "n2" if adopted("n2") else "n3"
    other = "n3" if adopter == "n2" else "n2"
    # Half the ids to the node that did not adopt them (it waits for the
    # journal's answer), half to the adopter (it joins its own run).
    answers = {}
    for i, tid in enumerate(slow):
        to = other if i < len(slow) // 2 else adopter
        code, body = http(to, "POST", "/v1/tasks", {"agent": "worker", "input": "work " + tid,
                                                    "task_id": tid})
        answers[tid] = (code, body)
    bad = {t: a for t, a in answers.items()
           if not (a[0] == 200 and a[1].get("status") == "completed"
                   and output(a[1]) == "slow answer")}
    check(not bad, "each slow id re-sent to %s or %s got its one answer (%d bad: %s)"
          % (other, adopter, len(bad), list(bad.items())[:2]))
    print("all answered %.0f ms after the kill" % ((time.monotonic() - t0) * 1000))
    for tid in slow[:3] + slow[-3:]:
        code, body = http(other, "POST", "/v1/tasks", {"agent": "worker", "input": "x",
                                                       "task_id": tid})
        check(code == 200 and body == answers[tid][1],
              "%s re-sent again to %s gets the same answer: %s %s" % (tid, other, code, body))
    for tid, before in quick.items():
        code, body = http("n3", "POST", "/v1/tasks", {"agent": "worker", "input": "again",
                                                      "task_id": tid})
        check(code == 200 and body == before,
              "%s (answered by n1 before the kill) re-sent to n3 gets its stored answer: %s %s"
              % (tid, code, body))
    old_log = len(nodes.log("n1"))  # the log is appended to: read only the restart's part
    nodes.start("n1", config("n1"))
    check(wait(lambda: nodes.ready("n1"), 20), "n1 restarted")
    check(re.search(r"journaled tasks resumed.*count=0", nodes.log("n1")[old_log:]) is not None,
          "the restarted n1 has none of its old tasks left to run (they were adopted)")
    code, body = http("n1", "POST", "/v1/tasks", {"agent": "worker", "input": "x",
                                                  "task_id": slow[-1]})
    check(code == 200 and body == answers[slow[-1]][1],
          "an id re-sent to the restarted n1 gets the stored answer: %s %s" % (code, body))
finally:
    nodes.finish(check, 40)
PY
