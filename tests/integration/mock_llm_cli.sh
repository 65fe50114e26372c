#!/bin/bash
# agentgraph-mock-llm as a process: writes its port file, answers on
# 127.0.0.1, exits 0 on SIGTERM and on SIGINT, and refuses bad usage and bad
# scenarios with exit code 2 and a message naming the offending field.
set -euo pipefail
mock="$1"; src="$2"
scenario="$src/tests/data/mock_llm/conformance.json"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start() {
  rm -f "$work/port"
  "$mock" --scenario "$scenario" --seed 3 --port-file "$work/port" >"$work/mock.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  test -s "$work/port" || { cat "$work/mock.log"; exit 1; }
}
stop_with() {
  kill -"$1" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=""
  cat "$work/mock.log"
  test "$rc" -eq 0 || { echo "exit code $rc after SIG$1"; exit 1; }
}

start
port=$(cat "$work/port")
grep -q "listening on http://127.0.0.1:$port" "$work/mock.log"
python3 - "$port" <<'PY'
import json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
req = urllib.request.Request(base + "/v1/chat/completions", method="POST",
    data=json.dumps({"model": "m", "messages": [{"role": "user", "content": "Say hello"}]}).encode(),
    headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"})
body = json.load(urllib.request.urlopen(req))
assert body["choices"][0]["message"]["content"].startswith("Hello from the mock"), body
stats = json.load(urllib.request.urlopen(base + "/_mock/stats"))
assert stats["routes"]["openai.chat_completions"] == 1, stats
print("cli: answered and counted", stats["requests"], "request")
PY
stop_with TERM
grep -q "stopped by signal" "$work/mock.log"

start
stop_with INT

expect_usage_error() {  # expected-text, args...
  local want="$1"; shift
  local rc=0
  "$mock" "$@" >"$work/out" 2>&1 || rc=$?
  cat "$work/out"
  test "$rc" -eq 2 || { echo "expected exit 2, got $rc for: $*"; exit 1; }
  grep -q -- "$want" "$work/out" || { echo "expected '$want' in the output"; exit 1; }
}
expect_usage_error "--scenario is required"
expect_usage_error "unknown option: --bogus" --scenario "$scenario" --bogus 1
expect_usage_error "not a valid number" --scenario "$scenario" --port 70000
echo '{"rules": [{"name": "r", "reply": {"text": 5}}]}' >"$work/bad.json"
expect_usage_error "rules\[0\].reply.text: must be a string" --scenario "$work/bad.json"
echo '{"faults": {"inject": [{"fault": "status", "rate": 2}]}}' >"$work/bad2.json"
expect_usage_error "faults.inject\[0\].rate: must be in" --scenario "$work/bad2.json"
expect_usage_error "cannot open" --scenario "$work/missing.json"
echo "mock_llm_cli: ok"
