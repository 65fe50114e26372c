#!/bin/bash
# Replicated memory across three `agentgraph node` processes (issue 12,
# net/cluster/DESIGN.md §8.7, §10.2 item 9): every node builds the shard
# `notes` with replicas = 2 and an agent `worker` that stores each task in
# it and recalls up to 100 entries.
#   1. N tasks through the three gateways: exactly two nodes hold N entries
#      (agentgraph_memory_entries in /metrics), the third none;
#   2. kill -9 one replica's node: the third node is filled from the
#      survivor (it holds N, counted in its re-replication metric), and a
#      task on a live node recalls all N entries;
#   3. the survivor's copy is unchanged (N, plus the recall task's own).
# Every wait is bounded.
# Usage: cluster_replication.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [
  {"name": "recall", "when": {"agent": "[worker]", "last_role": "user", "user_contains": "everything"},
   "reply": "I remember: {{memory}}"},
  {"name": "note", "when": {"agent": "[worker]", "last_role": "user"}, "reply": "noted"}
]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import json, os, re, sys, time, urllib.error, urllib.request
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
names = ("n1", "n2", "n3")
ports = {n: free_port() for n in names}
seeds = "127.0.0.1:%d, 127.0.0.1:%d" % (ports["n1"], ports["n2"])
N = 40

def config(name):
    return """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = %s
[memory.notes]
replicas = 2
similarity_threshold = -1.0
[agent.worker]
system_prompt = [worker]
provider = scripted
memory = notes
memory_recall_k = 100
[cluster]
name = replication
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = CLUSTER_TEST_SECRET
join_timeout = 2s
""" % (os.path.join(work, "rules.json"), name, ports[name], seeds)

env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "replication-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
procs = nodes.procs

def url(name, path):
    return "http://127.0.0.1:%d%s" % (procs[name][1], path)

def metric(name, series):
    try:
        with urllib.request.urlopen(url(name, "/metrics"), timeout=10) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    m = re.search(r"^%s (\S+)$" % re.escape(series), text, re.M)
    return float(m.group(1)) if m else None

def entries(name):
    return metric(name, 'agentgraph_memory_entries{shard="notes"}')

def task(name, text):
    req = urllib.request.Request(url(name, "/v1/tasks"), method="POST",
                                 data=json.dumps({"agent": "worker", "input": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

def directory(name):
    try:
        with urllib.request.urlopen(url(name, "/v1/cluster/directory"), timeout=10) as r:
            d = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return sorted(e["node"] for e in d.get("entries", []) if e["kind"] == "memory")

try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: nodes.all_up(list(names)), 30), "three nodes join")
    check(wait(lambda: all(directory(n) == list(names) for n in names), 10),
          "every node offers its copy of notes: %s" % directory("n1"))
    # Every front computed the same two-node set (its last "replica set"
    # log line), so each store goes where every front reads.
    def fronts_agree():
        sets = [re.findall(r'msg="replica set" shard=notes replicas=(\S+)', nodes.log(n))
                for n in names]
        return all(s and "," in s[-1] and s[-1] == sets[0][-1] for s in sets)
    check(wait(fronts_agree, 10), "the three fronts agree on the replica set")

    # 1. N stores through the three gateways
    ok = 0
    for i in range(N):
        code, body = task(names[i % 3], "fact-%03d-zq" % i)
        ok += code == 200 and body.get("output") == "noted"
    check(ok == N, "%d of %d store tasks answered" % (ok, N))
    counts = {}
    def two_hold_all():
        counts.update({n: entries(n) for n in names})
        return sorted(-1 if v is None else v for v in counts.values()) == [0, N, N]
    check(wait(two_hold_all, 10), "two nodes hold every entry, the third none: %s" % counts)
    replicas = [n for n in names if counts[n] == N]
    third = [n for n in names if counts[n] == 0]
    if len(replicas) != 2 or len(third) != 1:
        raise SystemExit(1)
    victim, survivor, third = replicas[1], replicas[0], third[0]
    print("replicas %s, killing %s; %s should be filled" % (replicas, victim, third))

    # 2. kill -9 one replica's node
    t0 = time.monotonic()
    procs[victim][0].kill()
    check(wait(lambda: entries(third) == N, 30),
          "%s was filled with all %d entries (holds %s)" % (third, N, entries(third)))
    print("re-replicated %d entries %.2f s after the kill" % (N, time.monotonic() - t0))
    rerep = metric(third, 'agentgraph_memory_rereplicated_entries_total{shard="notes"}')
    check(rerep is not None and rerep >= N,
          "%s counts the re-replicated entries: %s" % (third, rerep))
    check("replica filled" in nodes.log(third), "%s logs the fill" % third)
    code, body = task(survivor, "tell me everything")
    out = body.get("output", "") if isinstance(body, dict) else ""
    found = [i for i in range(N) if "fact-%03d-zq" % i in out]
    check(code == 200 and len(found) == N,
          "a task on %s recalls all %d entries (%d found)" % (survivor, N, len(found)))
    code, body = task(third, "tell me everything again")
    out = body.get("output", "") if isinstance(body, dict) else ""
    found = [i for i in range(N) if "fact-%03d-zq" % i in out]
    check(code == 200 and len(found) == N,
          "a task on %s recalls all %d entries (%d found)" % (third, N, len(found)))

    # 3. the survivor holds N plus the two recall tasks' own entries
    check(wait(lambda: entries(survivor) == N + 2 and entries(third) == N + 2, 10),
          "survivor and filled node hold the same %d entries: %s %s"
          % (N + 2, entries(survivor), entries(third)))
finally:
    nodes.finish(check, 40)
PY
