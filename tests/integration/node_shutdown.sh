#!/bin/bash
# `agentgraph node` as a real process: graceful shutdown on SIGTERM and the
# forced exit on a second signal.
#   1. tasks accepted before SIGTERM end completed (fast ones) or cancelled
#      (stuck ones), each explicitly; /ready turns 503 and new tasks get 503
#      while the node drains; the process exits 0; the log never shows the
#      bearer token;
#   2. a restarted node reloads every memory entry the first one stored;
#   3. a second signal during the drain exits at once with code 130.
# Every wait is bounded; nothing asserts how long anything took.
# Usage: node_shutdown.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/rules.json" <<'EOF'
{"rules": [
  {"name": "stuck", "when": {"user_contains": "stuck"}, "delay_ms": 60000, "reply": "never"},
  {"name": "quick", "when": {"user_contains": "quick"}, "delay_ms": 500, "reply": "quick answer"},
  {"name": "echo", "when": {"last_role": "user"}, "reply": "echo"}
]}
EOF
cat > "$work/node.ini" <<'EOF'
[runtime]
log_level = info
[node]
port = 0
auth_token_env = NODE_SHUTDOWN_TEST_TOKEN
shutdown_deadline = 8s
[provider.scripted]
kind = scripted
rules = rules.json
[memory.notes]
snapshot_path = notes.sqlite
[agent.solo]
provider = scripted
memory = notes
request_timeout = 2m
EOF

export NODE_SHUTDOWN_TEST_TOKEN="tok-$RANDOM-$RANDOM-secret"
python3 - "$bin" "$work" <<'PY'
import json, os, signal, subprocess, sys, threading, time, urllib.error, urllib.request

binary, work = sys.argv[1], sys.argv[2]
token = os.environ["NODE_SHUTDOWN_TEST_TOKEN"]
log_path = os.path.join(work, "node.log")
failures = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def start_node():
    port_file = os.path.join(work, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    p = subprocess.Popen([binary, "node", "--config", os.path.join(work, "node.ini"),
                          "--port-file", port_file],
                         stdout=subprocess.PIPE, stderr=open(log_path, "a"), text=True)
    line = p.stdout.readline().strip()
    for _ in range(400):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    port = int(open(port_file).read())
    check(line == "listening on http://127.0.0.1:%d" % port, "prints its address: " + line)
    return p, port

def call(port, method, path, body=None, auth=True, timeout=60):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)

def wait_for(pred, what, tries=400, pause=0.05):
    for _ in range(tries):
        if pred():
            check(True, what)
            return True
        time.sleep(pause)
    check(False, what)
    return False

def final_event(port, task_id, out):
    # Reads the task's event stream to its end and keeps the last event.
    req = urllib.request.Request("http://127.0.0.1:%d/v1/tasks/%s/events" % (port, task_id))
    req.add_header("Authorization", "Bearer " + token)
    event, last = None, None
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            for raw in r:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    last = (event, json.loads(line[6:]))
    except Exception as e:  # the server closing the stream ends it too
        pass
    out[task_id] = last

def exit_code(p):
    try:
        return p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        return "hung"

def memory_entries(port):
    status, body, _ = call(port, "GET", "/v1/memory")
    return json.loads(body)["shards"][0]["entries"] if status == 200 else None

# ---- 1. graceful shutdown --------------------------------------------------
p, port = start_node()
wait_for(lambda: call(port, "GET", "/ready", auth=False)[0] == 200, "node becomes ready")
check(call(port, "GET", "/v1/agents", auth=False)[0] == 401, "the token is required")

finals, sync_results, threads = {}, {}, []
for i in range(3):
    s, body, headers = call(port, "POST", "/v1/tasks",
                            {"agent": "solo", "input": "quick %d" % i, "mode": "background",
                             "task_id": "quick-%d" % i})
    check(s == 202 and headers.get("Location") == "/v1/tasks/quick-%d" % i, "quick-%d accepted" % i)
for i in range(2):
    s, _, _ = call(port, "POST", "/v1/tasks",
                   {"agent": "solo", "input": "stuck %d" % i, "mode": "background",
                    "task_id": "stuck-%d" % i})
    check(s == 202, "stuck-%d accepted" % i)
for tid in ["quick-0", "quick-1", "quick-2", "stuck-0", "stuck-1"]:
    t = threading.Thread(target=final_event, args=(port, tid, finals))
    t.start()
    threads.append(t)
def sync_task(tid, text):
    sync_results[tid] = call(port, "POST", "/v1/tasks", {"agent": "solo", "input": text, "task_id": tid})
for tid, text in [("sync-quick", "quick sync"), ("sync-stuck", "stuck sync")]:
    t = threading.Thread(target=sync_task, args=(tid, text))
    t.start()
    threads.append(t)
for tid in ["sync-quick", "sync-stuck"]:
    wait_for(lambda: call(port, "GET", "/v1/tasks/" + tid)[0] == 200, tid + " accepted")

p.send_signal(signal.SIGTERM)
wait_for(lambda: call(port, "GET", "/ready", auth=False)[0] == 503, "/ready turns 503 while draining")
s, body, headers = call(port, "POST", "/v1/tasks", {"agent": "solo", "input": "late"})
check(s == 503 and json.loads(body)["error"]["code"] == "unavailable"
      and "Retry-After" in headers, "a new task gets 503 with Retry-After while draining")
wait_for(lambda: all(finals.get("quick-%d" % i) for i in range(3)), "quick tasks end")
# The three quick tasks are done; sync-quick may still be storing its entry
# (it was submitted last), so wait for all four, bounded. The stuck ones
# never store.
wait_for(lambda: (memory_entries(port) or 0) >= 4,
         "memory holds the finished tasks' entries (4 quick tasks)")
stored = memory_entries(port)

for t in threads:
    t.join(60)
for i in range(3):
    ev = finals.get("quick-%d" % i)
    check(ev is not None and ev[0] == "completed" and ev[1]["output"] == "quick answer",
          "quick-%d completed: %s" % (i, ev))
for i in range(2):
    ev = finals.get("stuck-%d" % i)
    check(ev is not None and ev[0] == "failed" and ev[1]["status"] == "cancelled"
          and ev[1]["error"]["code"] == "cancelled", "stuck-%d cancelled: %s" % (i, ev))
s, body, _ = sync_results.get("sync-quick", (0, "{}", {}))
check(s == 200 and json.loads(body)["status"] == "completed", "sync quick task completed")
s, body, _ = sync_results.get("sync-stuck", (0, "{}", {}))
check(s == 409 and json.loads(body)["error"] == {"code": "cancelled", "message": "node shutting down"},
      "sync stuck task got an explicit cancelled error: %d %s" % (s, body))
code = exit_code(p)
check(code == 0, "the node exits 0 after SIGTERM (got %s)" % code)

# ---- 2. the memory snapshot is reloaded ------------------------------------
p, port = start_node()
wait_for(lambda: call(port, "GET", "/ready", auth=False)[0] == 200, "restarted node becomes ready")
check(memory_entries(port) == stored, "restarted node reloaded every memory entry (%s)" % stored)

# ---- 3. a second signal forces the exit --------------------------------------
s, _, _ = call(port, "POST", "/v1/tasks", {"agent": "solo", "input": "stuck again", "mode": "background"})
check(s == 202, "a stuck task accepted")
p.send_signal(signal.SIGTERM)
wait_for(lambda: call(port, "GET", "/ready", auth=False)[0] == 503, "second node drains")
p.send_signal(signal.SIGINT)
code = exit_code(p)
check(code == 130, "a second signal exits with 130 (got %s)" % code)

log = open(log_path).read()
check("second signal" in log, "the forced exit is logged")
check("component=node/gateway" in log and "component=node " in log, "logs name node and node/gateway")
check(token not in log, "the token never appears in the log")
if failures:
    print("---- node log ----\n" + log)
    sys.exit(1)
print("node_shutdown: all checks passed")
PY
