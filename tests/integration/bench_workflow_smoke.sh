#!/bin/bash
# `agentgraph bench workflow --quick`: the benchmark runs end to end and
# prints every row of both graphs. It checks behaviour only (exit code, rows,
# ratio lines), never a timing. The PostgreSQL row has figures when
# AGENTGRAPH_TEST_POSTGRES_URL is set (tools/test.sh sets it) and an explicit
# "skipped: ..." line otherwise; the LangGraph.js rows are figures or
# "skipped: ..." (node_modules of tools/peers is not installed by the build;
# `npm ci --prefix tools/peers`).
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench workflow --quick --runs 10 --peers-dir "$src/tools/peers" >"$work/out" 2>&1
rc=$?
cat "$work/out"
[ "$rc" -eq 0 ] || fail "bench workflow --quick exited $rc"
# runs, steps, step us p50, run p50 ms, run p99 ms, ratio
num='10 +3 +[0-9]+\.[0-9] +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +([0-9]+\.[0-9]{3}x|-)$'
for graph in chain3 fanout10; do
  # The table of this graph: from its heading to the next blank line.
  awk -v h="graph $graph:" 'index($0, h) == 1 {p = 1} p && $0 == "" {exit} p' "$work/out" >"$work/table"
  [ -s "$work/table" ] || { fail "no table for $graph"; continue; }
  for row in "agentgraph, agent, no checkpoints" "agentgraph, agent, SQLite" \
             "agentgraph, function, no checkpoints"; do
    grep -qE "^$row +$num" "$work/table" || fail "$graph: no figures for '$row'"
  done
  if [ -n "${AGENTGRAPH_TEST_POSTGRES_URL:-}" ]; then
    grep -qE "^agentgraph, agent, PostgreSQL +$num" "$work/table" \
      || fail "$graph: AGENTGRAPH_TEST_POSTGRES_URL is set but the PostgreSQL row has no figures"
  else
    grep -qE "^agentgraph, agent, PostgreSQL +skipped: .*tools/test-services.sh run" "$work/table" \
      || fail "$graph: the PostgreSQL row has neither figures nor a skip reason"
  fi
  for row in "LangGraph.js, fake model, no checkpointer" "LangGraph.js, fake model, MemorySaver" \
             "LangGraph.js, function, no checkpointer"; do
    grep -qE "^$row +($num|skipped: )" "$work/table" \
      || fail "$graph: the '$row' row has neither figures nor a skip reason"
  done
  grep -qE "^  agentgraph, agent, no checkpoints vs LangGraph.js, fake model, no checkpointer: ([0-9.]+x lower|n/a)" \
    "$work/table" || fail "$graph: no agent-node ratio line"
  grep -qE "^  agentgraph, function, no checkpoints vs LangGraph.js, function, no checkpointer: ([0-9.]+x lower|n/a)" \
    "$work/table" || fail "$graph: no function-node ratio line"
done
grep -q "failed:" "$work/out" && fail "some rows failed"

# Without node_modules the LangGraph.js rows say how to install them.
"$cli" bench workflow --runs 1 --warmup 0 --peers-dir "$work/nowhere" >"$work/skip" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "bench workflow with no peers exited $rc"
n=$(grep -cE "^LangGraph.js, .* skipped: .*(npm ci --prefix|node is not on PATH|is missing)" "$work/skip")
[ "$n" -eq 6 ] || { fail "want 6 LangGraph.js skip lines, got $n"; cat "$work/skip"; }

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "agentgraph bench workflow" -- bench
expect_usage "--runs must be in" -- bench workflow --runs 0
expect_usage "unrecognised option|unrecognized option" -- bench workflow --bogus
exit $((fails > 0))
