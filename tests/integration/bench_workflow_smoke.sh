#!/bin/bash
# `agentgraph bench workflow --quick`: the benchmark runs end to end and
# prints every row of both graphs, as tables and as --json (checked with
# python3). It checks behaviour only (exit code, rows, keys, ratio lines),
# never a timing. The PostgreSQL row has figures when
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
             "agentgraph, function, no checkpoints" "agentgraph, function, events to caller" \
             "agentgraph, agent, from an actor" "agentgraph, function, from an actor"; do
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

# --json: one object on stdout, every row of both graphs with its keys (never a timing).
"$cli" bench workflow --quick --runs 5 --json --peers-dir "$src/tools/peers" >"$work/json" 2>"$work/json.err"
rc=$?
[ "$rc" -eq 0 ] || { fail "bench workflow --json exited $rc"; cat "$work/json.err"; }
python3 - "$work/json" "${AGENTGRAPH_TEST_POSTGRES_URL:+postgres}" <<'PY' || fail "bench workflow --json: wrong object (see above)"
import json, sys
doc = json.load(open(sys.argv[1]))  # the whole of stdout is the object
want_pg = sys.argv[2] == "postgres"
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
for k in ("runs", "warmup", "optimized", "hardware_threads", "scheduler", "rows", "comparisons"):
    need(k in doc, "top-level key " + k)
need(doc.get("bench") == "workflow" and doc.get("runs") == 5, "bench/runs")
need(isinstance(doc.get("scheduler", {}).get("policy"), str)
     and isinstance(doc.get("scheduler", {}).get("threads"), int), "scheduler policy/threads")
ours = ["agentgraph, agent, no checkpoints", "agentgraph, agent, SQLite", "agentgraph, agent, PostgreSQL",
        "agentgraph, function, no checkpoints", "agentgraph, function, events to caller",
        "agentgraph, agent, from an actor", "agentgraph, function, from an actor"]
theirs = ["LangGraph.js, fake model, no checkpointer", "LangGraph.js, fake model, MemorySaver",
          "LangGraph.js, function, no checkpointer"]
rows = doc.get("rows", [])
for graph in ("chain3", "fanout10"):
    got = {r.get("row"): r for r in rows if r.get("graph") == graph}
    need(sorted(got) == sorted(ours + theirs), graph + ": rows " + repr(sorted(got)))
    ref = got.get(theirs[0], {})
    for name, r in got.items():
        where = graph + " / " + name
        status = r.get("status")
        need(status in ("measured", "skipped"), where + ": status " + repr(status))
        if status == "measured":
            need(r.get("runs") == 5 and r.get("steps") == 3, where + ": runs/steps")
            for k in ("step_us_p50", "run_p50_ms", "run_p99_ms"):
                need(isinstance(r.get(k), (int, float)) and r[k] >= 0, where + ": " + k)
            need(r["run_p99_ms"] >= r["run_p50_ms"], where + ": p99 < p50")
        else:
            need(isinstance(r.get("reason"), str) and r["reason"], where + ": no reason")
            need("step_us_p50" not in r, where + ": figures on a skipped row")
        if status == "measured" and ref.get("status") == "measured":
            need(isinstance(r.get("vs_langgraph"), (int, float)), where + ": vs_langgraph")
        else:
            need(r.get("vs_langgraph") is None and isinstance(r.get("vs_langgraph_reason"), str),
                 where + ": vs_langgraph null without a reason")
    for name in ours:
        if name != "agentgraph, agent, PostgreSQL":
            need(got.get(name, {}).get("status") == "measured", graph + " / " + name + ": not measured")
    pg = got.get("agentgraph, agent, PostgreSQL", {})
    if want_pg:
        need(pg.get("status") == "measured", graph + ": PostgreSQL row not measured")
    else:
        need(pg.get("status") == "skipped" and "tools/test-services.sh run" in pg.get("reason", ""),
             graph + ": PostgreSQL row neither measured nor skipped with a reason")
    for t in theirs:
        if got.get(t, {}).get("status") == "skipped":
            need("npm ci --prefix" in got[t]["reason"] or "node" in got[t]["reason"],
                 graph + " / " + t + ": skip reason says how to install")
comps = doc.get("comparisons", [])
need(len(comps) == 4, "want 4 comparisons, got %d" % len(comps))
for c in comps:
    need(set(c) == {"graph", "row", "reference", "times_lower"}, "comparison keys " + repr(sorted(c)))
for b in bad:
    print("FAIL (json):", b)
sys.exit(1 if bad else 0)
PY

# --only runs the rows it names; the others say they were not selected.
"$cli" bench workflow --runs 3 --warmup 0 --only "function, from an actor" --peers-dir "$src/tools/peers" \
  >"$work/only" 2>&1 || fail "bench workflow --only exited $?"
n=$(grep -cE "^agentgraph, function, from an actor +3 +3 " "$work/only")
[ "$n" -eq 2 ] || { fail "--only: want the selected row measured in both graphs, got $n"; cat "$work/only"; }
n=$(grep -cE " skipped: not selected \(--only function, from an actor\)$" "$work/only")
[ "$n" -eq 18 ] || { fail "--only: want 18 rows not selected, got $n"; cat "$work/only"; }

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
