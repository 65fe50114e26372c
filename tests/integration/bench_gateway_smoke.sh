#!/bin/bash
# `agentgraph bench gateway --quick`: the benchmark runs end to end, prints
# every row of both servers and the /health rows, and --json gives the same
# figures as JSON. Behaviour only (exit code, rows, fields), never a timing.
set -uo pipefail
cli="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench gateway --quick --concurrency 1,4 --health-timeout-ms 500 >"$work/out" 2>&1
rc=$?
cat "$work/out"
[ "$rc" -eq 0 ] || fail "bench gateway --quick exited $rc"
num='[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +0$'
for server in "cpp-httplib, 8 workers \(before\)" "agentgraph gateway \(Beast\)"; do
  for level in 1 4; do
    grep -qE "^$server +$level +$num" "$work/out" || fail "no figures for $server at concurrency $level"
  done
  grep -qE "^$server +[0-9]+ +[0-9]+/[0-9]+ " "$work/out" || fail "no /health row for $server"
done
grep -qE "concurrency 4: gateway vs baseline [0-9.]+x tasks/s" "$work/out" || fail "no ratio line"
# The gateway answers every /health probe while 100 slow clients trickle.
grep -qE "^agentgraph gateway \(Beast\) +100 +10/10 " "$work/out" || fail "the gateway missed /health probes"

"$cli" bench gateway --quick --concurrency 2 --health-timeout-ms 500 --json >"$work/json" 2>&1 || fail "--json exited non-zero"
python3 - "$work/json" <<'PY' || fail "--json output"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["bench"] == "gateway"
assert len(j["tasks"]) == 2 and all(t["errors"] == 0 and t["tasks_per_second"] > 0 for t in j["tasks"])
assert len(j["health_under_slow_clients"]) == 2
assert j["ratios"][0]["concurrency"] == 2
PY
[ "$fails" -eq 0 ] || { echo "bench_gateway_smoke: $fails failure(s)"; exit 1; }
echo "bench_gateway_smoke: ok"
