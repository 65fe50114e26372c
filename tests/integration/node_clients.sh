#!/bin/bash
# `agentgraph submit` and `agentgraph status` against a real `agentgraph node`
# serving the shipped research config: submit streams the task's tokens and
# prints the answer; status prints every agent with its figures; a wrong
# token is refused; the served /metrics passes promtool; SIGTERM ends the
# node with exit 0.
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "node_clients: FAIL: $*"; [ -f "$work/node.log" ] && cat "$work/node.log"; exit 1; }

export AG_TEST_NODE_TOKEN="t0ken-$$"
"$cli" node --config "$src/configs/examples/research.ini" --port-file "$work/port" \
  --set node.port=0 --set node.auth_token_env=AG_TEST_NODE_TOKEN \
  --set memory.notes.snapshot_path="$work/notes.sqlite" >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "the node wrote no port file"
url="http://127.0.0.1:$(cat "$work/port")"

export AGENTGRAPH_TOKEN="$AG_TEST_NODE_TOKEN"
task="How many widgets fit in the crate? Use the spec file."
"$cli" submit --url "$url" --agent planner --task "$task" >"$work/submit.out" 2>&1 \
  || fail "submit exited $?: $(cat "$work/submit.out")"
grep -q "^task .* on planner" "$work/submit.out" || fail "no task line: $(cat "$work/submit.out")"
grep -q "^\[.*-1\] <tool call ask_researcher" "$work/submit.out" || fail "no streamed tool call: $(cat "$work/submit.out")"
grep -q "Researcher found: The crate holds 1000 widgets" "$work/submit.out" || fail "no answer: $(cat "$work/submit.out")"

id=$("$cli" submit --url "$url" --agent researcher --task "$task" --background) || fail "background submit"
[ -n "$id" ] || fail "no task id printed"

"$cli" status --url "$url" >"$work/status.out" 2>&1 || fail "status exited $?: $(cat "$work/status.out")"
grep -qE "^planner +(idle|busy) +yes +1 +0 " "$work/status.out" || fail "planner row: $(cat "$work/status.out")"
grep -qE "^researcher " "$work/status.out" || fail "researcher row: $(cat "$work/status.out")"
# A node without [cluster]: cluster status says so (HTTP 404) and exits 1.
"$cli" cluster status --url "$url" >"$work/cluster.out" 2>&1 && fail "cluster status of a lone node exited 0"
grep -q "HTTP 404: not_found: this node is not in a cluster" "$work/cluster.out" ||
  fail "cluster status of a lone node: $(cat "$work/cluster.out")"

# The served /metrics page passes Prometheus' own linter.
python3 - "$url/metrics" "$AG_TEST_NODE_TOKEN" >"$work/metrics.txt" <<'PY' || fail "GET /metrics"
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
with urllib.request.urlopen(req, timeout=10) as r:
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
    sys.stdout.write(r.read().decode())
PY
grep -q '^agentgraph_agent_tasks_total{agent="planner",outcome="ok"} 1$' "$work/metrics.txt" \
  || fail "planner's task is not counted on /metrics"
command -v promtool >/dev/null || fail "promtool is not installed (tools/setup.sh installs prometheus)"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 \
  || fail "promtool: $(cat "$work/promtool.out")"
[ -s "$work/promtool.out" ] && fail "promtool lint: $(cat "$work/promtool.out")"

AGENTGRAPH_TOKEN=wrong "$cli" status --url "$url" >"$work/bad.out" 2>&1 && fail "a wrong token was accepted"
grep -q "HTTP 401" "$work/bad.out" || fail "no 401: $(cat "$work/bad.out")"
"$cli" submit --url "$url" --agent ghost --task hi >"$work/ghost.out" 2>&1
[ $? -eq 2 ] || fail "unknown agent should exit 2: $(cat "$work/ghost.out")"
grep -q "HTTP 404" "$work/ghost.out" || fail "no 404: $(cat "$work/ghost.out")"

kill -TERM "$pid"
wait "$pid"; rc=$?; pid=""
[ "$rc" -eq 0 ] || fail "node exited $rc after SIGTERM"
grep -q "$AG_TEST_NODE_TOKEN" "$work/node.log" && fail "the token appears in the node's log"
echo "node_clients: ok"
