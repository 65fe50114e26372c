#!/bin/bash
# A population on every node of a three-node cluster (issue 14): kill -9 of
# one node moves its keys to the survivors and loses no task.
#   1. three nodes share one fresh PostgreSQL database, as the population's
#      store (store_url) and as the task journal (journal_url);
#   2. 60 keys of [population.persona] each answer a first task, sent
#      through the three gateways in turn; every node's active keys are the
#      keys rendezvous hashing gives it (population_nodes.hpp);
#   3. a second, slow task per key (background, journaled; 6 s each, so all
#      are open at the kill however slow the host), through another gateway
#      than the first; then kill -9 of one node;
#   4. the leader adopts the tasks the dead node accepted; a task a
#      survivor had in flight to the dead owner goes to the key's next
#      owner (key_address.cpp); every second task gets one completed answer
#      that saw the key's first turn (the scripted rule needs it in the
#      conversation), the dead node's keys included: they were claimed again
#      on the survivors from their saved state, and the survivors activated
#      exactly those keys; the answer asked again is the same answer;
#   5. a third task per key, through the survivors, sees the second turn's
#      answer in its history (saved on the survivor after the move).
# Every wait is bounded. Needs AGENTGRAPH_TEST_POSTGRES_URL (tools/test.sh).
# Usage: cluster_population.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
[ -n "${AGENTGRAPH_TEST_POSTGRES_URL:-}" ] || {
  echo "AGENTGRAPH_TEST_POSTGRES_URL is not set (tools/test.sh starts the test server)"; exit 1; }
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

# A database of its own: the store's and the journal's tables start empty.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
base="${AGENTGRAPH_TEST_POSTGRES_URL%/*}"
hostport="${base#*@}"
db="cluster_population_$$"
"$pgbin/createdb" -h "${hostport%:*}" -p "${hostport#*:}" -U agentgraph "$db"
url="$base/$db"

# The second turn's answer names what the conversation held: "recalled" only
# when the key's first turn (its token) is in it; the third turn's rule
# needs the second turn's answer in the history.
cat > "$work/rules.json" <<'JSON'
{"rules": [
  {"name": "first", "when": {"user_contains": "first turn"}, "reply": "noted: {{user}}"},
  {"name": "second", "when": {"user_contains": "second turn", "context_contains": "token-"},
   "delay_ms": 6000, "reply": "recalled: {{user}}"},
  {"name": "second-forgot", "when": {"user_contains": "second turn"}, "delay_ms": 6000,
   "reply": "forgot: {{user}}"},
  {"name": "third", "when": {"user_contains": "third turn", "context_contains": "recalled: second turn"},
   "reply": "third sees the second"},
  {"name": "third-forgot", "when": {"user_contains": "third turn"}, "reply": "third lost the second"}]}
JSON

PYTHONPATH="$2/tests/integration" python3 - "$bin" "$work" "$url" <<'PY'
import os, re, sys, time
from cluster_procs import Check, Nodes, cluster_ini, free_port, wait

binary, work, url = sys.argv[1], sys.argv[2], sys.argv[3]
check = Check()
names = ("n1", "n2", "n3")
ports = {n: free_port() for n in names}
seeds = ", ".join("127.0.0.1:%d" % p for p in ports.values())
def config(name):
    return cluster_ini(name, ports[name], seeds, "shared", """[provider.scripted]
kind = scripted
rules = %s
[agent.worker]
provider = scripted
[population.persona]
provider = scripted
store_url = %s
tasks_in_flight_max = 256
system_prompt = You are {{key}}.""" % (os.path.join(work, "rules.json"), url),
                       "journal_url = %s\n" % url)
env = dict(os.environ)
env["CLUSTER_TEST_SECRET"] = "shared-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
nodes = Nodes(binary, work, env)
http = nodes.http

# population_nodes.cpp's rendezvous_weight, written again: the owner of a
# key is the node with the highest weight among those that run the type.
M = (1 << 64) - 1
def weight(node, key):
    h = 14695981039346656037
    for c in node.encode() + b"\0" + key.encode():
        h = ((h ^ c) * 1099511628211) & M
    h = (h + 0x9e3779b97f4a7c15) & M
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & M
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & M
    return h ^ (h >> 31)
def owner(key, among):
    return max(among, key=lambda n: (weight(n, key), [-ord(c) for c in n]))

def metric(name, series):
    """A population metric's value on `name` (0 when absent)."""
    req = __import__("urllib.request").request
    with req.urlopen("http://127.0.0.1:%d/metrics" % nodes.procs[name][1], timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^%s\{population="persona"\} ([0-9.e+]+)$' % re.escape(series), text, re.M)
    return float(m.group(1)) if m else 0.0

def output(body):
    return (body.get("result") or body).get("output")

def adopted(name):
    return sum(int(n) for n in re.findall(r"adopted a dead member's tasks.*?tasks=(\d+)",
                                          nodes.log(name)))

keys = ["k%02d" % i for i in range(60)]
try:
    for n in names:
        nodes.start(n, config(n))
    check(wait(lambda: all(nodes.ready(n) for n in names) and nodes.all_up(list(names)), 30),
          "three nodes sharing one store and one journal form a cluster")
    # A member's directory table arrives whole (its agent with its
    # population): once every node holds every other's agent, every node
    # computes a key's owner over the same three.
    def tables_everywhere():
        for n in names:
            members = (nodes.status(n) or {}).get("members", [])
            if sum(1 for m in members if m.get("agents", 0) >= 1) < len(names):
                return False
        return True
    check(wait(tables_everywhere, 30, 0.1), "every node holds the others' directory tables")
    first = {}
    for i, key in enumerate(keys):
        via = names[i % 3]
        code, body = http(via, "POST", "/v1/agents/persona/%s/tasks" % key,
                          {"input": "first turn of %s: token-%s" % (key, key)})
        first[key] = (code, body)
    bad = {k: a for k, a in first.items()
           if not (a[0] == 200 and a[1].get("agent") == "persona/" + k
                   and output(a[1]) == "noted: first turn of %s: token-%s" % (k, k))}
    check(not bad, "each key's first task answered by persona/<key> (%d bad: %s)"
          % (len(bad), list(bad.items())[:2]))
    owners = {k: owner(k, names) for k in keys}
    expected = {n: sum(1 for k in keys if owners[k] == n) for n in names}
    active = {n: metric(n, "agentgraph_population_active") for n in names}
    check(all(active[n] == expected[n] for n in names) and all(expected.values()),
          "every node runs the keys rendezvous hashing gives it: active %s, hashed %s"
          % (active, expected))
    activations = {n: metric(n, "agentgraph_population_activations_total") for n in names}
    check(sum(activations.values()) == len(keys),
          "each key activated once in the cluster: %s" % activations)

    # The slow second turn, through another gateway than the first.
    victim = "n1"
    survivors = [n for n in names if n != victim]
    second = {}
    for i, key in enumerate(keys):
        via = names[(i + 1) % 3]
        tid = "second-" + key
        code, body = http(via, "POST", "/v1/tasks",
                          {"agent": "persona/" + key, "input": "second turn of " + key,
                           "task_id": tid, "mode": "background"})
        check(code == 202, "second task of %s acknowledged by %s: %s %s" % (key, via, code, body))
        second[key] = via
    moved = [k for k in keys if owners[k] == victim]
    accepted_by_victim = [k for k in keys if second[k] == victim]
    t0 = time.monotonic()
    nodes.procs[victim][0].kill()
    nodes.procs[victim][0].wait(10)
    print("kill -9 %s: it owned %d keys and accepted %d of the %d open tasks"
          % (victim, len(moved), len(accepted_by_victim), len(keys)))
    check(wait(lambda: adopted(survivors[0]) + adopted(survivors[1]) == len(accepted_by_victim),
               30, 0.1),
          "the leader adopted the %d tasks %s accepted (%s %d, %s %d)"
          % (len(accepted_by_victim), victim, survivors[0], adopted(survivors[0]),
             survivors[1], adopted(survivors[1])))

    # Every second task, asked on a survivor (the one that accepted it, or
    # the first survivor for the victim's), ends once, completed, with the
    # first turn in its conversation.
    def asked_on(key):
        return second[key] if second[key] != victim else survivors[0]
    final = {}
    def all_ended():
        for key in keys:
            if key in final:
                continue
            code, body = http(asked_on(key), "GET", "/v1/tasks/second-" + key, None, 10)
            if code == 200 and body.get("status") in ("completed", "failed", "cancelled"):
                final[key] = body
        return len(final) == len(keys)
    check(wait(all_ended, 90, 0.2), "every second task ended (%d of %d; open: %s)"
          % (len(final), len(keys), [k for k in keys if k not in final][:5]))
    print("all ended %.0f ms after the kill" % ((time.monotonic() - t0) * 1000))
    # A task a survivor's gateway had in flight to the dead owner went to
    # the key's next owner (key_address.cpp), once each.
    resent = sum(nodes.log(n).count("task sent to the key's next owner") for n in survivors)
    in_flight_to_victim = [k for k in moved if second[k] != victim]
    check(resent == len(in_flight_to_victim),
          "the %d tasks in flight from a survivor to %s were sent to the keys' next owners "
          "(logged %d)" % (len(in_flight_to_victim), victim, resent))
    bad = {k: b for k, b in final.items()
           if not (b.get("status") == "completed"
                   and output(b) == "recalled: second turn of " + k)}
    check(not bad, "every second task completed and saw its key's first turn, the %d moved "
          "keys' too (%d bad: %s)" % (len(moved), len(bad), list(bad.items())[:3]))
    # One answer per id: re-sent to the other survivor, each gets the same
    # stored answer (its result, latency included), not a new run.
    bad = {}
    for key in keys:
        other = [n for n in survivors if n != asked_on(key)][0]
        code, body = http(other, "POST", "/v1/tasks",
                          {"agent": "persona/" + key, "input": "second turn of " + key,
                           "task_id": "second-" + key})
        if not (code == 200 and body == (final[key].get("result") or final[key])):
            bad[key] = (other, code, body, final[key])
    check(not bad, "every second task re-sent to the other survivor gets its one answer "
          "(%d bad: %s)" % (len(bad), list(bad.items())[:2]))

    # The moved keys live on the survivors now, claimed from the store.
    after = {n: metric(n, "agentgraph_population_activations_total") for n in survivors}
    new_owners = {k: owner(k, survivors) for k in moved}
    gained = {n: sum(1 for k in moved if new_owners[k] == n) for n in survivors}
    check(all(after[n] - activations[n] == gained[n] for n in survivors),
          "the survivors activated exactly the %d moved keys: %s more, hashed %s"
          % (len(moved), {n: after[n] - activations[n] for n in survivors}, gained))

    # The third turn: each key's history holds its second turn's answer.
    bad = {}
    for i, key in enumerate(keys):
        via = survivors[i % 2]
        code, body = http(via, "POST", "/v1/agents/persona/%s/tasks" % key,
                          {"input": "third turn of " + key})
        if not (code == 200 and output(body) == "third sees the second"):
            bad[key] = (code, body)
    check(not bad, "every key's third task sees its second turn (%d bad: %s)"
          % (len(bad), list(bad.items())[:3]))
    fenced = sum(metric(n, "agentgraph_population_fenced_total") for n in survivors)
    errors = sum(metric(n, "agentgraph_population_store_errors_total") for n in survivors)
    check(errors == 0, "the survivors' store calls never failed (%d)" % errors)
    print("saves fenced on the survivors: %d" % fenced)
finally:
    nodes.finish(check, 40)
PY
