#!/bin/bash
# `agentgraph node`'s gateway against hostile and careless clients, on real
# sockets and a real process:
#   1. a chunked 20 MB body without a token is refused on its headers (401)
#      and the node's memory does not grow by the body;
#   2. 1,000 connections trickling headers or saying nothing do not stop
#      /health, a task or a token-guarded route from answering;
#   3. a JSON body sent as application/x-www-form-urlencoded (what `curl -d`
#      sends) above 8 KiB is accepted;
#   4. SIGTERM with many requests read and unanswered: every one gets a whole
#      HTTP answer (a result, 409 cancelled or 503 with Retry-After), none is
#      reset, and clients arriving during the stop get an answer or cannot
#      connect at all;
#   5. an IPv6 listen address is printed as a usable URL (where the machine
#      has IPv6 loopback).
# Every wait is bounded; nothing asserts how long anything took.
# Usage: gateway_hostile.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/rules.json" <<'EOF'
{"rules": [
  {"name": "stuck", "when": {"user_contains": "stuck"}, "delay_ms": 60000, "reply": "never"},
  {"name": "echo", "when": {"last_role": "user"}, "reply": "echo"}
]}
EOF
cat > "$work/node.ini" <<'EOF'
[runtime]
log_level = info
[node]
port = 0
auth_token_env = GATEWAY_HOSTILE_TOKEN
shutdown_deadline = 1s
connections_max = 5000
tasks_in_flight_max = 1000
[provider.scripted]
kind = scripted
rules = rules.json
[agent.solo]
provider = scripted
request_timeout = 2m
tasks_in_flight_max = 100
EOF

export GATEWAY_HOSTILE_TOKEN="tok-$RANDOM-$RANDOM"
python3 - "$bin" "$work" <<'PY'
import json, os, resource, signal, socket, subprocess, sys, threading, time

binary, work = sys.argv[1], sys.argv[2]
token = os.environ["GATEWAY_HOSTILE_TOKEN"]
log_path = os.path.join(work, "node.log")
failures = []
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def start_node(extra=()):
    port_file = os.path.join(work, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    p = subprocess.Popen([binary, "node", "--config", os.path.join(work, "node.ini"),
                          "--port-file", port_file, *extra],
                         stdout=subprocess.PIPE, stderr=open(log_path, "a"), text=True)
    line = p.stdout.readline().strip()
    for _ in range(400):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    return p, int(open(port_file).read()), line

def connect(port, host="127.0.0.1", family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect((host, port))
    return s

def read_response(s):
    """One whole HTTP response (headers + Content-Length body), or what came
    before the peer closed; ('reset', data) when the connection was reset."""
    data = b""
    try:
        while True:
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                head = data[:end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v.strip())
                if len(data) >= end + 4 + length:
                    return "ok", data
            chunk = s.recv(65536)
            if not chunk:
                return "closed", data
            data += chunk
    except ConnectionResetError:
        return "reset", data
    except socket.timeout:
        return "timeout", data

def status(data):
    try:
        return int(data.split(b" ", 2)[1])
    except Exception:
        return 0

def request(port, method, path, body=b"", headers=None, auth=True):
    s = connect(port)
    h = {"Host": "x", "Connection": "close"}
    if auth:
        h["Authorization"] = "Bearer " + token
    if body:
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    s.sendall(("%s %s HTTP/1.1\r\n" % (method, path)).encode()
              + "".join("%s: %s\r\n" % kv for kv in h.items()).encode() + b"\r\n" + body)
    how, data = read_response(s)
    s.close()
    return status(data), data

def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

p, port, line = start_node()
check(line == "listening on http://127.0.0.1:%d" % port, "prints its address: " + line)
check(request(port, "GET", "/health", auth=False)[0] == 200, "/health answers")

# ---- 1. no token, chunked 20 MB: refused on the headers -----------------------
before = rss_kb(p.pid)
s = connect(port)
s.sendall(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
piece = b"100000\r\n" + b"a" * 0x100000 + b"\r\n"
sent = 0
try:
    s.settimeout(0.5)
    for _ in range(20):
        s.sendall(piece)
        sent += len(piece)
except (socket.timeout, BrokenPipeError, ConnectionResetError):
    pass
s.settimeout(20)
how, data = read_response(s)
s.close()
check(status(data) == 401, "chunked body without a token: 401 (%s, %d bytes sent)" % (how, sent))
after = rss_kb(p.pid)
check(after - before < 16 * 1024, "RSS did not take the body: %d KB -> %d KB" % (before, after))

# ---- 2. 1,000 slow connections --------------------------------------------------
rss_before = rss_kb(p.pid)
slow = []
for i in range(1000):
    c = connect(port)
    if i % 2 == 0:
        c.sendall(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\nX-Trickle: ")
    slow.append(c)
ok = 0
for _ in range(20):
    if request(port, "GET", "/health", auth=False)[0] == 200:
        ok += 1
check(ok == 20, "/health answered 20 of 20 with 1,000 slow clients connected (%d)" % ok)
rss_slow = rss_kb(p.pid)
check(rss_slow - rss_before < 16 * 1024,
      "1,000 slow connections cost a buffer each, not a thread: RSS %d KB -> %d KB"
      % (rss_before, rss_slow))
st, body = request(port, "POST", "/v1/tasks", json.dumps({"agent": "solo", "input": "hi"}).encode(),
                   {"Content-Type": "application/json"})
check(st == 200 and b'"completed"' in body, "a task runs meanwhile (%d)" % st)
check(request(port, "GET", "/v1/agents")[0] == 200, "a token-guarded route answers meanwhile")
for c in slow:
    c.close()

# ---- 3. curl -d: form content type, JSON body above 8 KiB -------------------------
big = json.dumps({"agent": "solo", "input": "x" * 12000}).encode()
st, body = request(port, "POST", "/v1/tasks", big,
                   {"Content-Type": "application/x-www-form-urlencoded"})
check(st == 200, "a 12 KB JSON body sent as a form is accepted (%d %s)" % (st, body[:120]))

# ---- 4. SIGTERM with requests read and unanswered ---------------------------------
held = []
for i in range(50):
    c = connect(port)
    b = json.dumps({"agent": "solo", "input": "stuck %d" % i}).encode()
    c.sendall(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
              + b"\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(b)).encode() + b"\r\n\r\n" + b)
    held.append(c)
# Every held task is running before the signal.
deadline = time.time() + 30
while time.time() < deadline:
    st, body = request(port, "GET", "/metrics")
    if b"agentgraph_gateway_tasks_in_flight 50" in body:
        break
    time.sleep(0.05)
check(b"agentgraph_gateway_tasks_in_flight 50" in body, "50 sync tasks in flight")

outcomes = {"answered": 0, "refused": 0, "cut": 0}
lock = threading.Lock()
go = True
def hammer():
    while go:
        try:
            c = connect(port)
        except OSError:
            with lock:
                outcomes["refused"] += 1
            time.sleep(0.01)
            continue
        try:
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            how, data = read_response(c)
        except OSError:
            how, data = "reset", b""
        c.close()
        with lock:
            outcomes["answered" if how == "ok" and status(data) in (200, 503) else "cut"] += 1
hammers = [threading.Thread(target=hammer) for _ in range(4)]
for t in hammers:
    t.start()
time.sleep(0.2)
p.send_signal(signal.SIGTERM)
results = []
for c in held:
    how, data = read_response(c)
    results.append((how, status(data)))
    c.close()
try:
    code = p.wait(60)
except subprocess.TimeoutExpired:
    p.kill()
    code = "hung"
go = False
for t in hammers:
    t.join(30)
whole = [r for r in results if r[0] == "ok"]
check(len(whole) == 50, "all 50 held requests got a whole answer: %s" % sorted(set(results)))
check(all(st in (409, 503) for _, st in whole), "each is 409 cancelled or 503: %s"
      % sorted(set(st for _, st in whole)))
# A connection the kernel completes in the instant between the server's last
# accept and its close() is reset before anything of it was read; that is the
# only way a client here may be cut (the unit test "http server: stop answers
# every request it read" checks exactly, with the server's own counts). More
# than a handful would mean requests the server read went unanswered.
total = sum(outcomes.values())
check(outcomes["answered"] > 0 and outcomes["cut"] <= max(2, total // 200),
      "clients during the stop were answered or refused, at most a kernel race cut: %s" % outcomes)
check(code == 0, "the node exits 0 (%s)" % code)

# ---- 5. IPv6 listen address ---------------------------------------------------------
try:
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    probe.bind(("::1", 0))
    probe.close()
    have_v6 = True
except OSError:
    have_v6 = False
if have_v6:
    p, port, line = start_node(["--set", "node.listen=::1"])
    check(line == "listening on http://[::1]:%d" % port, "IPv6 address printed as a URL: " + line)
    c = connect(port, "::1", socket.AF_INET6)
    c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status(read_response(c)[1]) == 200, "and it answers there")
    c.close()
    p.send_signal(signal.SIGTERM)
    p.wait(60)
else:
    print("skip IPv6: no ::1 on this machine")

if failures:
    print("---- node log ----\n" + open(log_path).read()[-5000:])
    sys.exit(1)
print("gateway_hostile: all checks passed")
PY
