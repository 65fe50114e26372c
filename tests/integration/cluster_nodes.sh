#!/bin/bash
# Three `agentgraph node` processes on 127.0.0.1 form a cluster (issue 12),
# with real kill -9, SIGSTOP/SIGCONT and SIGTERM:
#   1. join: all three `up` in every node's `cluster status --json`, with
#      pids and urls; /ready is 200 only once joined;
#   2. a node with the wrong secret is refused: it never enters the view,
#      the seed counts the refusal, and its own log says why;
#   3. SIGSTOP: the frozen node is `down` on the others within 3 s (the
#      figure is printed); on SIGCONT it rejoins as a new incarnation (new
#      uid) and every view shows three up again;
#   4. kill -9: `down` on the others at once (its port refuses connects);
#      restarted on the same port it rejoins with a new uid;
#   5. SIGTERM: the node leaves gracefully, exits 0, ends `removed` (or is
#      dropped) on the others and is never `down`.
# Every wait is bounded.
# Usage: cluster_nodes.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "slow", "when": {"user_contains": "slow"}, "delay_ms": 4000, "reply": "slow"},
           {"name": "echo", "when": {"last_role": "user"}, "reply": "echo"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.request
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()

ports = {n: free_port() for n in ("n1", "n2", "n3", "bad")}
seeds = "127.0.0.1:%d, 127.0.0.1:%d" % (ports["n1"], ports["n2"])

def config(name, secret_env="CLUSTER_TEST_SECRET"):
    return """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = %s
[agent.solo]
provider = scripted
[cluster]
name = itest
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = %s
join_timeout = 2s
""" % (os.path.join(work, "rules.json"), name, ports[name], seeds, secret_env)

env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "itest-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
env["CLUSTER_TEST_WRONG"] = "a-wrong-secret-of-enough-length"
nodes = Nodes(binary, work, env)
procs = nodes.procs

def start(name, secret_env="CLUSTER_TEST_SECRET"):
    return nodes.start(name, config(name, secret_env))

status, states, ready, all_up = nodes.status, nodes.states, nodes.ready, nodes.all_up

def gone(name, who):
    s = states(name).get(who)
    return s in (None, "down", "removed")

# 1. join
for n in ("n1", "n2", "n3"):
    start(n)
check(wait(lambda: all_up(["n1", "n2", "n3"]), 30), "three nodes join and every view shows three up")
st = status("n2")
check(st is not None and st["joined"], "n2 says it joined")
if st:
    pids = sorted(m["pid"] for m in st["members"])
    check(pids == sorted(procs[n][0].pid for n in ("n1", "n2", "n3")), "members carry their pids")
    check(all(m["url"].startswith("http://127.0.0.1:") for m in st["members"]), "members carry their urls")
check(all(ready(n) for n in ("n1", "n2", "n3")), "/ready is 200 on every joined node")
# /metrics reads the status the node published after its last tick, at
# most one heartbeat interval behind /v1/cluster.
def fetch_metrics():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % procs["n1"][1], timeout=10) as r:
        return r.read().decode()
check(wait(lambda: 'agentgraph_cluster_members{state="up"} 3' in fetch_metrics(), 3),
      "/metrics counts three members up")
metrics = fetch_metrics()
check("agentgraph_cluster_joined 1" in metrics, "/metrics says the node joined")
check('agentgraph_cluster_member_phi{member="n2"}' in metrics, "/metrics has phi per peer")
# The cluster's families pass Prometheus' own linter (setup.sh installs promtool).
lint = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
check(lint.returncode == 0, "promtool accepts a cluster node's /metrics: " + lint.stdout + lint.stderr)
# A task running on n2 shows as n2's load on n1, carried by its heartbeats.
req = urllib.request.Request("http://127.0.0.1:%d/v1/tasks" % procs["n2"][1], method="POST",
                             data=json.dumps({"agent": "solo", "input": "slow one",
                                              "mode": "background"}).encode())
with urllib.request.urlopen(req, timeout=10) as r:
    check(r.status == 202, "a slow task runs on n2")
def load_of(name, who):
    for m in (status(name) or {}).get("members", []):
        if m["id"] == who:
            return m["load"]
    return None
check(wait(lambda: load_of("n1", "n2") == 1, 3), "n1 sees n2's load 1 while its task runs")
check(wait(lambda: load_of("n1", "n2") == 0, 10), "and 0 once it finished")
table = subprocess.run([binary, "cluster", "status", "--url", "http://127.0.0.1:%d" % procs["n1"][1]],
                       capture_output=True, text=True, timeout=20).stdout
check("n3" in table and "up" in table, "cluster status prints a table")

# 2. wrong secret
start("bad", "CLUSTER_TEST_WRONG")
time.sleep(3)
check("bad" not in states("n1"), "the node with the wrong secret is not in the view")
check(not ready("bad"), "/ready is 503 on the refused node")
refused = (status("n1") or {}).get("counters", {}).get("refused", 0) + \
          (status("n2") or {}).get("counters", {}).get("refused", 0)
check(refused >= 1, "a seed counted the refusal (%d)" % refused)
badlog = nodes.log("bad")
check("does not know the cluster secret" in badlog, "the refused node's log says why")
check(env["CLUSTER_TEST_WRONG"] not in badlog and env["CLUSTER_TEST_SECRET"] not in badlog,
      "no secret in the log")
procs["bad"][0].kill()

# 3. SIGSTOP / SIGCONT
old_uid = [m["uid"] for m in status("n3")["members"] if m["id"] == "n3"][0]
p3 = procs["n3"][0]
t0 = time.monotonic()
p3.send_signal(signal.SIGSTOP)
ok = wait(lambda: gone("n1", "n3") and gone("n2", "n3"), 10, 0.02)
took = time.monotonic() - t0
print("frozen node down after %.2f s" % took, flush=True)
check(ok and took < 3.0, "a frozen node is down on the others within 3 s (%.2f s)" % took)
check(states("n1").get("n2") == "up", "the others stay up")
p3.send_signal(signal.SIGCONT)
check(wait(lambda: all_up(["n1", "n2", "n3"]), 30), "after SIGCONT it rejoins and all are up")
new_uid = [m["uid"] for m in status("n3")["members"] if m["id"] == "n3" and m["self"]][0]
check(int(new_uid) > int(old_uid), "it rejoined as a new incarnation (uid %s > %s)" % (new_uid, old_uid))

# 4. kill -9 and restart on the same port
p3 = procs["n3"][0]
t0 = time.monotonic()
p3.kill()
p3.wait()
ok = wait(lambda: gone("n1", "n3"), 10, 0.01)
took = time.monotonic() - t0
print("killed node down after %.3f s" % took, flush=True)
check(ok and took < 1.5, "a killed node is down at once (%.3f s)" % took)
start("n3")
check(wait(lambda: all_up(["n1", "n2", "n3"]), 30), "restarted on the same port it rejoins")

# 5. graceful leave
# Not at the instant n3 rejoined: a member that has not heard a peer yet
# (no heartbeat, no link) counts as seeing it reachable, so when that peer
# is the leader and leaves at once, its exit may reach nobody, and the
# agreement rule (every member of a side must see a member unreachable
# before it is downed) keeps it "leaving" on the others. A known gap
# (session 12's note), not what this step tests: a few heartbeats first.
time.sleep(1.5)
p2 = procs["n2"][0]
seen_down = []
p2.send_signal(signal.SIGTERM)
def left():
    s = states("n1").get("n2")
    if s == "down":
        seen_down.append(s)
    return s in (None, "removed")
check(wait(left, 20, 0.02), "a node that leaves ends removed on the others")
check(not seen_down, "it is never down")
check(p2.wait(timeout=30) == 0, "the leaving node exits 0")
check(states("n1").get("n3") == "up", "the rest stay up")

nodes.stop_all()
if check.failures:
    nodes.print_logs()
    sys.exit(1)
print("cluster_nodes: ok")
PY
