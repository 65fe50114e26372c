#!/bin/bash
# Topics across three `agentgraph node` processes (issue 12, design §8.6):
#   n1 has no subscriber; n2 runs `listener` and `listener2`, n3 `listener`,
#   all subscribed to `news` ([agent.x] subscribe);
#   1. POST /v1/topics/news on n1's gateway: 202 with a receipt (no local
#      subscriber, two nodes); every subscriber on n2 and n3 runs it as a
#      task; n2 received ONE message for its two subscribers;
#   2. an agent on n1 publishes through its publish tool: the same reach;
#   3. bad requests: a bad topic name 400, a message past 64 KiB 413, no
#      "message" 400;
#   4. collaboration settings: n2 and n3 configure other max_agents,
#      message_timeout and heartbeat_interval; every node runs with n1's
#      (GET /v1/cluster "collab"), and with n1's max_agents = 5 the nodes
#      that started last have agents refused (withheld from the directory).
# Every wait is bounded.
# Usage: cluster_topics.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

cat > "$work/rules.json" <<'JSON'
{"rules": [
  {"name": "listen", "when": {"agent": "[listener]"}, "reply": "heard {{user}}"},
  {"name": "announce", "when": {"agent": "[announcer]", "last_role": "user", "user_regex": "^announce (.+)"},
   "tool_calls": [{"name": "publish", "arguments": {"topic": "news", "message": "{{match.1}}"}}]},
  {"name": "announced", "when": {"agent": "[announcer]", "after_tool": "publish"},
   "reply": "announced {{tool_output}}"}
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
listeners = {"n1": [], "n2": ["listener", "listener2"], "n3": ["listener"]}
# n1 forms the cluster; the others say otherwise and must adopt n1's.
collab = {"n1": "max_agents = 5\nmessage_timeout = 7s\nheartbeat_interval = 200ms\n",
          "n2": "max_agents = 0\nmessage_timeout = 30s\nheartbeat_interval = 300ms\n",
          "n3": "message_timeout = 2s\n"}

def config(name):
    agents = "".join("""[agent.%s]
system_prompt = [listener]
provider = scripted
subscribe = news
""" % a for a in listeners[name])
    return """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = %s
[tool.publish]
kind = publish
topics = news
[agent.announcer]
system_prompt = [announcer]
provider = scripted
tools = publish
%s[cluster]
%sname = topics
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = CLUSTER_TEST_SECRET
join_timeout = 2s
""" % (os.path.join(work, "rules.json"), agents, collab[name], name, ports[name], seeds)

env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "topics-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
procs = nodes.procs

def url(name, path):
    return "http://127.0.0.1:%d%s" % (procs[name][1], path)

def post(name, path, body, raw=None):
    req = urllib.request.Request(url(name, path), method="POST",
                                 data=raw if raw is not None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

def completed(name, agent):
    try:
        with urllib.request.urlopen(url(name, "/v1/agents"), timeout=10) as r:
            for a in json.loads(r.read())["agents"]:
                if a["name"] == agent:
                    return a["tasks_completed"]
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        pass
    return None

def metric(name, family):
    try:
        with urllib.request.urlopen(url(name, "/metrics"), timeout=10) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    m = re.search(r"^%s(?:\{\})? (\S+)$" % re.escape(family), text, re.M)
    return float(m.group(1)) if m else 0.0

def reached(count):
    return (completed("n2", "listener") == count and completed("n2", "listener2") == count
            and completed("n3", "listener") == count)

def directory(name):
    try:
        with urllib.request.urlopen(url(name, "/v1/cluster/directory"), timeout=10) as r:
            return sorted("%s %s/%s" % (e["node"], e["kind"], e["name"])
                          for e in json.loads(r.read()).get("entries", []) if e["kind"] == "topic")
    except (urllib.error.URLError, OSError, ValueError):
        return []

try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: nodes.all_up(list(names)), 30), "three nodes join")
    want = sorted(["n1 topic/*", "n2 topic/*", "n3 topic/*", "n2 topic/news", "n3 topic/news"])
    check(wait(lambda: directory("n1") == want, 10),
          "n1's directory lists the topic actors and where news has subscribers: %s" % directory("n1"))

    # 1. through n1's gateway
    code, body = post("n1", "/v1/topics/news", {"message": "rain at noon"})
    check(code == 202 and body.get("subscribers_local") == 0 and body.get("nodes") == 2,
          "the publish is accepted: no local subscriber, two nodes: %s %s" % (code, body))
    check(wait(lambda: reached(1), 10),
          "every subscriber on n2 and n3 ran the message as a task: n2 %s/%s, n3 %s" %
          (completed("n2", "listener"), completed("n2", "listener2"), completed("n3", "listener")))
    check(metric("n1", "agentgraph_topic_sent_total") == 2, "n1 sent two messages (one per node)")
    # A task completes before the topic actor counts its delivery: wait
    # (bounded) for the count, then check it is exactly two.
    wait(lambda: metric("n2", "agentgraph_topic_delivered_total") == 2, 10)
    check(metric("n2", "agentgraph_topic_received_total") == 1
          and metric("n2", "agentgraph_topic_delivered_total") == 2,
          "n2 received ONE message for its two subscribers: received %s delivered %s" %
          (metric("n2", "agentgraph_topic_received_total"),
           metric("n2", "agentgraph_topic_delivered_total")))
    check(metric("n3", "agentgraph_topic_received_total") == 1, "n3 received one")

    # 2. through an agent's publish tool on n1
    code, body = post("n1", "/v1/tasks", {"agent": "announcer", "input": "announce sun at five"})
    check(code == 200 and '"nodes":2' in body.get("output", "").replace(" ", ""),
          "the announcer published through its tool: %s %s" % (code, body))
    check(wait(lambda: reached(2), 10), "the tool's message reached every subscriber too")

    # 3. bad requests
    code, body = post("n1", "/v1/topics/News!", {"message": "x"})
    check(code == 400, "a bad topic name is 400: %s %s" % (code, body))
    code, body = post("n1", "/v1/topics/news", {"message": ""})
    check(code == 400, "an empty message is 400 (every agent would refuse it): %s %s" % (code, body))
    code, body = post("n1", "/v1/topics/news", {"message": "x" * (70 * 1024)})
    check(code == 413, "a message past 64 KiB is 413: %s %s" % (code, body))
    code, body = post("n1", "/v1/topics/news", None, raw=b'{"text": "x"}')
    check(code == 400, "a body without message is 400: %s %s" % (code, body))
    check(reached(2), "nothing more reached the subscribers")

    # 4. collaboration settings of the forming node
    def cluster(name):
        try:
            with urllib.request.urlopen(url(name, "/v1/cluster"), timeout=10) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            return {}
    want_collab = {"origin": "n1", "max_agents": 5, "message_timeout_ms": 7000,
                   "heartbeat_interval_ms": 200}
    for n in names:
        check(cluster(n).get("collab") == want_collab,
              "%s runs with n1's settings: %s" % (n, cluster(n).get("collab")))
    # Agents: n1 announcer (1), n2 announcer + two listeners (3), n3
    # announcer + listener (2): 6 instances, room for 5, n3 started last.
    def agents_listed():
        try:
            with urllib.request.urlopen(url("n1", "/v1/cluster/directory"), timeout=10) as r:
                return sorted("%s/%s" % (e["node"], e["name"])
                              for e in json.loads(r.read()).get("entries", []) if e["kind"] == "agent")
        except (urllib.error.URLError, OSError, ValueError):
            return []
    check(wait(lambda: len(agents_listed()) == 5, 10),
          "the directory offers 5 agents (max_agents): %s" % agents_listed())
    refused = sum(cluster(n).get("counters", {}).get("agents_refused", 0) for n in names)
    check(cluster("n1").get("counters", {}).get("agents_refused") == 0 and refused >= 1,
          "n1 (senior) offers all of its agents; a junior's one is refused (%d)" % refused)
    check(completed("n3", "listener") == 2,
          "a withheld agent still serves its own node (topics reach it)")
finally:
    nodes.finish(check, 40)
PY
