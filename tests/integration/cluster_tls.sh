#!/bin/bash
# TLS between cluster nodes (issue 12, design §7): four `agentgraph node`
# processes on 127.0.0.1 with [cluster] tls_* keys, certificates from a
# throwaway CA made here with the `openssl` command:
#   1. three TLS nodes (one with an encrypted key and tls_passphrase_env)
#      join and every view shows three up; the cluster port speaks TLS and
#      presents the node's certificate (`openssl s_client`), and refuses a
#      client without a certificate;
#   2. a node with the right secret but no TLS (plain TCP) is refused: never
#      in a view, /ready 503, its log shows the handshake failing;
#   3. a node with TLS and a certificate from ANOTHER CA (trusting ours) is
#      refused: with tls_cafile set, the seeds demand a certificate that
#      chains to their CA;
#   4. a node with our CA's certificate but the wrong secret is refused by
#      admission over TLS (the seed counts it, its log says why);
#   5. none of those failed handshakes costs the three anything: all up, the
#      same incarnations (caf-openssl's dirty error queue used to drop
#      healthy sessions: net/cluster/openssl_error_queue.cpp).
# Every wait is bounded.
# Usage: cluster_tls.sh <agentgraph binary> <source dir>
set -euo pipefail
bin="$1"
src="$2"
source "$(dirname "$0")/cluster_work.sh"  # $work, and no node outlives the test

command -v openssl >/dev/null || { echo "FAIL the openssl command is missing (tools/setup.sh installs it)"; exit 1; }

# Two CAs; node certificates n1-n3 and bad from ours, rogue from the other.
# n3's key is encrypted with a passphrase the node reads from TLS_TEST_PASS.
pki="$work/pki"
mkdir -p "$pki"
export TLS_TEST_PASS="n3-key-pass-$$-$RANDOM"
(
  cd "$pki"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=itest-ca
  openssl req -x509 "${ec[@]}" -keyout ca2.key -out ca2.pem -days 2 -subj /CN=other-ca
  for n in n1 n2 n3 bad rogue; do
    ca=ca; [[ $n == rogue ]] && ca=ca2
    openssl req "${ec[@]}" -keyout "$n.key" -out "$n.csr" -subj "/CN=$n"
    openssl x509 -req -in "$n.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
      -out "$n.pem" -days 2
  done
  openssl pkey -in n3.key -aes256 -passout env:TLS_TEST_PASS -out n3.enc.key
) >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log"; echo "FAIL making certificates"; exit 1; }

cat > "$work/rules.json" <<'JSON'
{"rules": [{"name": "echo", "when": {"last_role": "user"}, "reply": "echo"}]}
JSON

PYTHONPATH="$src/tests/integration" python3 - "$bin" "$work" <<'PY'
import os, re, subprocess, sys, time
from cluster_procs import Check, Nodes, free_port, wait

binary, work = sys.argv[1], sys.argv[2]
pki = os.path.join(work, "pki")
check = Check()
ports = {n: free_port() for n in ("n1", "n2", "n3", "plain", "rogue", "bad")}
seeds = "127.0.0.1:%d, 127.0.0.1:%d" % (ports["n1"], ports["n2"])

env = dict(os.environ)
env["TLS_TEST_SECRET"] = "tls-itest-secret-%d-%d" % (os.getpid(), time.time_ns() % 100000)
env["TLS_TEST_WRONG"] = "a-wrong-secret-of-enough-length"
nodes = Nodes(binary, work, env)

def ini(name, tls, secret_env="TLS_TEST_SECRET"):
    text = """[runtime]
log_level = info
[node]
port = 0
shutdown_deadline = 5s
[provider.scripted]
kind = scripted
rules = rules.json
[agent.solo]
provider = scripted
[cluster]
name = tlstest
node_id = %s
listen = 127.0.0.1
port = %d
seeds = %s
secret_env = %s
join_timeout = 2s
""" % (name, ports[name], seeds, secret_env)
    if tls:
        cert, key, ca = tls
        text += "tls_certificate = %s\ntls_key = %s\ntls_cafile = %s\n" % (
            os.path.join(pki, cert), os.path.join(pki, key), os.path.join(pki, ca))
        if key.endswith(".enc.key"):
            text += "tls_passphrase_env = TLS_TEST_PASS\n"
    return text

def refused(name):
    """Never in a TLS node's view, and not ready itself."""
    time.sleep(4)  # two join_timeouts: long enough for a join to have happened
    views = [nodes.states(n) for n in ("n1", "n2", "n3")]
    check(all(name not in v for v in views), "%s is in no view" % name)
    check(not nodes.ready(name), "/ready is 503 on %s" % name)

# 1. three TLS nodes join
for n in ("n1", "n2"):
    nodes.start(n, ini(n, (n + ".pem", n + ".key", "ca.pem")))
nodes.start("n3", ini("n3", ("n3.pem", "n3.enc.key", "ca.pem")))
check(wait(lambda: nodes.all_up(["n1", "n2", "n3"]), 30),
      "three TLS nodes join and every view shows three up")
check(all(nodes.ready(n) for n in ("n1", "n2", "n3")), "/ready is 200 on every TLS node")
check("transport=tls" in nodes.log("n1"), "n1 logs transport=tls")
def uids():
    return sorted((m["id"], m["uid"]) for m in (nodes.status("n1") or {}).get("members", []))
joined_uids = uids()

def s_client(*extra):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % ports["n1"],
                           "-CAfile", os.path.join(pki, "ca.pem"), *extra],
                          input="", capture_output=True, text=True, timeout=20)
hello = s_client("-cert", os.path.join(pki, "bad.pem"), "-key", os.path.join(pki, "bad.key"))
check("CN = n1" in hello.stdout and "Verify return code: 0 (ok)" in hello.stdout,
      "the cluster port speaks TLS with n1's certificate from our CA")
# Without a client certificate the server aborts the handshake. Under TLS
# 1.3 the client learns it from the alert on its first read after the
# handshake, hence the pause before stdin ends.
anon = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % ports["n1"],
                         "-CAfile", os.path.join(pki, "ca.pem")], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
_, anon_err = anon.communicate("x\n", timeout=20)
check(anon.returncode != 0 and "alert certificate required" in anon_err,
      "a TLS client without a certificate is refused (%s)"
      % ", ".join(re.findall(r"alert (?!number)[a-z ]+", anon_err)))

# 2. plain TCP, right secret
nodes.start("plain", ini("plain", None))
refused("plain")
plain_log = nodes.log("plain")
check("link attempt failed" in plain_log and "disconnect_during_handshake" in plain_log,
      "the plain node's log shows the handshake failing")
nodes.procs["plain"][0].kill()

# 3. TLS with a certificate from another CA (it trusts ours)
nodes.start("rogue", ini("rogue", ("rogue.pem", "rogue.key", "ca.pem")))
refused("rogue")
rogue_log = nodes.log("rogue")
check("link attempt failed" in rogue_log and "disconnect_during_handshake" in rogue_log,
      "the rogue node's log shows the handshake failing")
check("joined the cluster" not in rogue_log, "the rogue node never joined")
nodes.procs["rogue"][0].kill()

# 4. our CA, wrong secret
nodes.start("bad", ini("bad", ("bad.pem", "bad.key", "ca.pem"), "TLS_TEST_WRONG"))
refused("bad")
counted = sum((nodes.status(n) or {}).get("counters", {}).get("refused", 0) for n in ("n1", "n2"))
check(counted >= 1, "a seed counted the refusal over TLS (%d)" % counted)
bad_log = nodes.log("bad")
check("does not know the cluster secret" in bad_log, "the wrong-secret node's log says why")
check(env["TLS_TEST_WRONG"] not in bad_log and env["TLS_TEST_SECRET"] not in bad_log
      and env["TLS_TEST_PASS"] not in nodes.log("n3"), "no secret or passphrase in the logs")
nodes.procs["bad"][0].kill()

# The refused handshakes must not cost the members anything: still up, and
# the same incarnations (none was downed and came back). Before
# net/cluster/openssl_error_queue.cpp this failed: every failed handshake
# left OpenSSL errors queued and caf-openssl then dropped healthy sessions.
check(nodes.all_up(["n1", "n2", "n3"]), "the three TLS nodes are still all up (%s)"
      % {n: nodes.states(n) for n in ("n1", "n2", "n3")})
check(uids() == joined_uids, "with the incarnations they joined with")
nodes.stop_all()
if check.failures:
    nodes.print_logs()
    if os.environ.get("CLUSTER_TLS_KEEP"):  # a directory to keep every log in
        import shutil
        shutil.copytree(work, os.environ["CLUSTER_TLS_KEEP"], dirs_exist_ok=True)
    sys.exit(1)
print("cluster_tls: ok")
PY
