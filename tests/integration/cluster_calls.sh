#!/bin/bash
# Location transparency across three `agentgraph node` processes (issue 12,
# design §8): every node loads the same components, each pinned to one node
# with `placement`:
#   n1: agent `worker` (tools calculator and ask_slow, memory notes)
#   n2: tool `calculator`, agent `slowpoke` and the agent tool `ask_slow`
#   n3: memory shard `notes`
#   1. directory propagation: every node lists the five entries, each on
#      its node; `cluster status` counts them per member;
#   2. a task on n1's gateway: the worker calls the calculator on n2 and
#      stores into / recalls from the shard on n3 (its next task sees the
#      first one's answer), and n1's /v1/memory reads the shard on n3;
#   3. the same agent through n2's gateway (the task crosses to n1);
#   4. a group over an agent that runs on every node (placement any),
#      consistent_hash: a session lands on the same node from every
#      gateway, and sessions spread over the nodes;
#   5. kill -9 n2 while the worker's call to ask_slow (20 s on n2) is in
#      flight: the call fails at once with `unavailable`, not at its
#      deadline, the task is answered, n2's entries leave the directory,
#      and a new calculator call fails at once as well; the group's sessions
#      that were on n2 move, the others stay where they were.
# Every wait is bounded.
# Usage: cluster_calls.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

for n in n1 n2 n3; do
cat > "$work/rules_$n.json" <<JSON
{"rules": [
  {"name": "helper", "when": {"agent": "[helper]"}, "reply": "helper on $n"},
  {"name": "slowpoke", "when": {"agent": "[slowpoke]", "last_role": "user"}, "delay_ms": 20000,
   "reply": "too late"},
  {"name": "ask the slow one", "when": {"agent": "[worker]", "last_role": "user", "user_contains": "slowly"},
   "tool_calls": [{"name": "ask_slow", "arguments": {"task": "{{user}}"}}]},
  {"name": "compute", "when": {"agent": "[worker]", "last_role": "user", "user_regex": "^compute (.+)"},
   "tool_calls": [{"name": "calculator", "arguments": {"expression": "{{match.1}}"}}]},
  {"name": "after the calculator", "when": {"agent": "[worker]", "after_tool": "calculator"},
   "reply": "calculated {{tool_output}}"},
  {"name": "after the slow one", "when": {"agent": "[worker]", "after_tool": "ask_slow"},
   "reply": "slow one said {{tool_output}}"},
  {"name": "recall", "when": {"agent": "[worker]", "last_role": "user"},
   "reply": "I remember: {{memory}}"}
]}
JSON
done

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.error, urllib.request
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
check = Check()
names = ("n1", "n2", "n3")
ports = {n: free_port() for n in names}
seeds = "127.0.0.1:%d, 127.0.0.1:%d" % (ports["n1"], ports["n2"])

def config(name):
    return """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = %s
[agent.helper]
system_prompt = [helper]
provider = scripted
[group.helpers]
agents = helper
strategy = consistent_hash
[memory.notes]
placement = n3
similarity_threshold = 0.0
[tool.calculator]
kind = calculator
placement = n2
[agent.slowpoke]
system_prompt = [slowpoke]
provider = scripted
placement = n2
request_timeout = 60s
[tool.ask_slow]
kind = agent
agent = slowpoke
placement = n2
[agent.worker]
system_prompt = [worker]
provider = scripted
tools = calculator, ask_slow
memory = notes
memory_recall_k = 3
request_timeout = 60s
placement = n1
[cluster]
name = calls
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = CLUSTER_TEST_SECRET
join_timeout = 2s
""" % (os.path.join(work, "rules_%s.json" % name), name, ports[name], seeds)

env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "calls-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
procs = nodes.procs

def url(name, path):
    return "http://127.0.0.1:%d%s" % (procs[name][1], path)

def get(name, path):
    try:
        with urllib.request.urlopen(url(name, path), timeout=10) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None

def task(name, text, timeout=15, agent="worker", context=None):
    body = {"agent": agent, "input": text}
    if context is not None:
        body["context"] = context
    req = urllib.request.Request(url(name, "/v1/tasks"), method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

def directory(name):
    d = get(name, "/v1/cluster/directory") or {}
    # Components only: every node also offers its topic actor (topic/*),
    # which cluster_topics.sh checks.
    return sorted("%s %s/%s" % (e["node"], e["kind"], e["name"]) for e in d.get("entries", [])
                  if e["kind"] != "topic")

try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: nodes.all_up(list(names)), 30), "three nodes join")

    # 1. directory propagation
    want = sorted(["n1 agent/worker", "n2 agent/slowpoke", "n2 tool/ask_slow",
                   "n2 tool/calculator", "n3 memory/notes"] +
                  ["%s agent/helper" % n for n in names] + ["%s group/helpers" % n for n in names])
    check(wait(lambda: all(directory(n) == want for n in names), 10),
          "every node lists every entry on its node: %s" % directory("n1"))
    st = nodes.status("n1") or {"members": []}
    counts = {m["id"]: (m["agents"], m["tools"], m["shards"]) for m in st["members"]}
    check(counts == {"n1": (3, 0, 0), "n2": (3, 2, 0), "n3": (2, 0, 1)},
          "cluster status counts agents, tools and shards per member: %s" % counts)

    # 2. a task on n1: tool on n2, memory on n3
    code, body = task("n1", "compute 6 * 7")
    check(code == 200 and body.get("output") == "calculated " + json.dumps({"value": 42}, separators=(",", ":"))
          or (code == 200 and "42" in body.get("output", "")),
          "the worker on n1 computed with the calculator on n2: %s %s" % (code, body))
    check(code == 200 and [c["ok"] for c in body.get("tool_calls", [])] == [True],
          "one tool call, ok")
    code, body = task("n1", "what did I compute before")
    check(code == 200 and "compute 6 * 7" in body.get("output", ""),
          "the next task recalls the first one from the shard on n3: %s" % body.get("output"))
    mem = get("n3", "/v1/memory") or {}
    notes = [m for m in mem.get("shards", mem.get("memory", [])) if m.get("name") == "notes"] \
        if isinstance(mem, dict) else []
    remote_mem = get("n1", "/v1/memory") or {}
    print("n3 /v1/memory:", json.dumps(mem)[:300])
    print("n1 /v1/memory:", json.dumps(remote_mem)[:300])
    def entries(doc):
        for key in ("shards", "memory"):
            for m in doc.get(key, []):
                if m.get("name") == "notes" and m.get("healthy"):
                    return m.get("entries")
        return None
    check((entries(mem) or 0) >= 2, "the shard on n3 holds both interactions")
    check(entries(remote_mem) == entries(mem), "n1's /v1/memory reads the shard on n3")

    # 3. the worker through n2's gateway
    code, body = task("n2", "compute 2 + 3")
    check(code == 200 and "5" in body.get("output", ""),
          "a task on n2's gateway runs on the worker on n1: %s %s" % (code, body))

    # 4. consistent hashing across nodes
    def helper(gw, s):
        code, body = task(gw, "hi", agent="helpers", context={"session": s})
        return body.get("output") if code == 200 else "error %s %s" % (code, body)
    placed = {}
    for i in range(12):
        s = "session-%d" % i
        placed[s] = helper("n1", s)
    check(all(v.startswith("helper on n") for v in placed.values()), "the group answers: %s" % placed)
    check(all(helper("n3", s) == v for s, v in placed.items()),
          "a session lands on the same node from n1's and n3's gateways")
    check(len(set(placed.values())) >= 2, "sessions spread over the nodes: %s" % sorted(set(placed.values())))

    # 5. kill -9 n2 with a call in flight
    result = {}
    import threading
    def slow():
        t0 = time.monotonic()
        result["answer"] = task("n1", "do this slowly please", timeout=40)
        result["seconds"] = time.monotonic() - t0
    th = threading.Thread(target=slow)
    th.start()
    time.sleep(1.5)  # the call is on n2 now (slowpoke answers after 20 s)
    procs["n2"][0].kill()
    th.join(40)
    code, body = result.get("answer", (None, {}))
    calls = body.get("tool_calls", []) if isinstance(body, dict) else []
    check(code == 200 and len(calls) == 1 and not calls[0]["ok"]
          and ("unavailable" in calls[0]["error"] or "down" in calls[0]["error"]),
          "the call in flight to n2 failed with unavailable: %s %s" % (code, body))
    seconds = result.get("seconds", 99)
    print("in-flight call failed %.2f s after the task started (kill at 1.5 s; slowpoke would take 20 s)" % seconds)
    check(seconds < 15, "it failed at once, not at its deadline")
    check(wait(lambda: all(directory(n) == ["n1 agent/helper", "n1 agent/worker", "n1 group/helpers",
                                            "n3 agent/helper", "n3 group/helpers", "n3 memory/notes"]
                           for n in ("n1", "n3")), 10),
          "n2's entries leave the directory: %s" % directory("n1"))
    moved = {s: helper("n1", s) for s in placed}
    check(all(moved[s] == v for s, v in placed.items() if v != "helper on n2"),
          "sessions on n1 and n3 stay where they were")
    check(all(moved[s] in ("helper on n1", "helper on n3") for s in placed),
          "sessions that were on n2 moved to a live node: %s" % moved)
    code, body = task("n1", "compute 1 + 1")
    calls = body.get("tool_calls", []) if isinstance(body, dict) else []
    check(code == 200 and len(calls) == 1 and not calls[0]["ok"]
          and "unavailable" in calls[0]["error"],
          "a new call to the calculator fails with unavailable: %s" % body)
finally:
    nodes.finish(check, 40)
PY
