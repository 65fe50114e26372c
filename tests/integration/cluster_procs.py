"""Real `agentgraph node` processes on 127.0.0.1 for the cluster integration
tests: write a node's INI, start it (its gateway port comes back through
--port-file), read `agentgraph cluster status --json`, and wait with a bound.
Every started pid is appended to <work>/pids so the shell's EXIT trap can
kill whatever outlives the test. Used by the cluster_*.sh tests.
"""
import json
import os
import sys
import socket
import subprocess
import time
import urllib.error
import urllib.request


class Check:
    """Collects failures; prints one ok/FAIL line per check."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(pred, seconds, step=0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def cluster_ini(name, port, seeds, cluster, sections, extra_cluster="", log_level="info",
                node_extra=""):
    """A node's INI: a gateway on a free port, `sections` (providers,
    agents, groups: INI text), and a [cluster] section that joins through
    `seeds` (host:port list) with the secret in CLUSTER_TEST_SECRET."""
    return """[runtime]
log_level = %s
[node]
port = 0
shutdown_deadline = 5s
%s
%s
[cluster]
name = %s
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = CLUSTER_TEST_SECRET
join_timeout = 2s
%s""" % (log_level, node_extra, sections, cluster, name, port, seeds, extra_cluster)


def stream_tasks(nodes, via, agent, ids, window, seconds, check, tick=None):
    """Background tasks with the given ids through `via`'s gateway, at most
    `window` in flight, each polled until it ends; a 429 or 503 is retried
    later, as a client does. `tick(results, outstanding)` runs once per
    round (to inject a fault, or observe). Returns (results, pending,
    outstanding); results maps an id to its final body."""
    pending, outstanding, results = list(ids), set(), {}
    end = time.monotonic() + seconds
    while (pending or outstanding) and time.monotonic() < end:
        while pending and len(outstanding) < window:
            tid = pending[0]
            code, body = nodes.http(via, "POST", "/v1/tasks",
                                    {"agent": agent, "input": "work " + tid, "task_id": tid,
                                     "mode": "background"}, 10)
            if code in (429, 503):
                break  # full, or briefly outside the cluster: poll first
            if code != 202:
                check(False, "task %s accepted: %s %s" % (tid, code, body))
            pending.pop(0)
            outstanding.add(tid)
        for tid in list(outstanding):
            code, body = nodes.http(via, "GET", "/v1/tasks/" + tid, None, 10)
            if code == 200 and body.get("status") in ("completed", "failed", "cancelled"):
                outstanding.discard(tid)
                results[tid] = body
        if tick:
            tick(results, outstanding)
        time.sleep(0.01)
    return results, pending, outstanding


class Nodes:
    """The node processes of one test, by name."""

    def __init__(self, binary, work, env):
        self.binary, self.work, self.env = binary, work, env
        self.procs = {}  # name -> (Popen, gateway port)

    def log(self, name):
        with open(os.path.join(self.work, name + ".log")) as f:
            return f.read()

    def start(self, name, ini_text):
        cfg = os.path.join(self.work, name + ".ini")
        with open(cfg, "w") as f:
            f.write(ini_text)
        port_file = os.path.join(self.work, name + ".port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.work, name + ".log"), "a")
        p = subprocess.Popen([self.binary, "node", "--config", cfg, "--port-file", port_file],
                             stdout=subprocess.DEVNULL, stderr=log, env=self.env)
        with open(os.path.join(self.work, "pids"), "a") as f:
            f.write("%d\n" % p.pid)
        wait(lambda: p.poll() is not None or
             (os.path.exists(port_file) and open(port_file).read().strip() != ""), 10, 0.025)
        if p.poll() is not None:
            raise RuntimeError("node %s exited with %d:\n%s" % (name, p.returncode, self.log(name)))
        self.procs[name] = (p, int(open(port_file).read()))
        return p

    def http(self, name, method, path, body=None, timeout=30):
        """(status, JSON body) of one request to `name`'s gateway."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.procs[name][1], path),
                                     method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def status(self, name):
        out = subprocess.run([self.binary, "cluster", "status", "--url",
                              "http://127.0.0.1:%d" % self.procs[name][1], "--json"],
                             capture_output=True, text=True, timeout=20)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def states(self, name):
        """member id -> state of its newest incarnation in `name`'s view."""
        st = self.status(name)
        newest = {}
        for m in (st or {}).get("members", []):
            if m["id"] not in newest or int(m["uid"]) > int(newest[m["id"]]["uid"]):
                newest[m["id"]] = m
        return {k: v["state"] for k, v in newest.items()}

    def ready(self, name):
        try:
            url = "http://127.0.0.1:%d/ready" % self.procs[name][1]
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status == 200
        except urllib.error.HTTPError:
            return False

    def all_up(self, names):
        return all(self.states(n) == {m: "up" for m in names} for n in names)

    def stop_all(self):
        for p, _ in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p, _ in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    def print_logs(self, lines=25):
        for n in self.procs:
            print("---- " + n + ".log (tail)")
            print("".join(self.log(n).splitlines(True)[-lines:]))

    def finish(self, check, lines=30):
        """Stops every node (printing their logs first if a check failed)
        and exits with the test's verdict."""
        if check.failures:
            self.print_logs(lines)
        self.stop_all()
        if check.failures:
            print("%d check(s) failed" % len(check.failures))
            sys.exit(1)
        print("all checks passed")
