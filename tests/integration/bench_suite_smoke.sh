#!/bin/bash
# `agentgraph bench all --quick --only agents,memory` (issue 15): the suite
# runs the two fastest quick sub-benchmarks as child processes and prints
# one JSON object (machine, command, per bench status, headline figures,
# baselines, ratios, the child's raw JSON), writes the markdown summary and
# keeps the children's output with --out; a child past its wall-time bound
# is killed with the processes it started, and its row fails with the
# reason, the exit status names it;
# bad usage exits 2. Behaviour only (exit codes, keys, that figures are
# there), never a timing.
set -uo pipefail
cli="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench all --quick --only agents,memory --json --markdown "$work/summary.md" \
  --out "$work/out" >"$work/json" 2>"$work/err"
rc=$?
cat "$work/err"
[ "$rc" -eq 0 ] || { fail "bench all exited $rc"; cat "$work/json"; }
for b in memory agents; do
  grep -qE "^agentgraph bench all: $b \.\.\. ok, [0-9.,]+ s$" "$work/err" || fail "no progress line for $b"
  [ -s "$work/out/$b.json" ] || fail "--out has no $b.json"
  [ -e "$work/out/$b.stderr" ] || fail "--out has no $b.stderr"
done
[ -s "$work/out/suite.json" ] && [ -s "$work/out/suite.md" ] || fail "--out has no suite.json / suite.md"
python3 - "$work/json" "$work/summary.md" <<'PY' || fail "--json / --markdown: not the expected documents"
import json, sys
doc = json.load(open(sys.argv[1]))
assert set(doc) == {"machine", "command", "benchmarks", "failed"}, doc.keys()
m = doc["machine"]
for k in ("cpu_model", "kernel", "compiler", "build", "caf_version", "date_utc_start",
          "date_utc_end", "load_average_start", "load_average_end"):
    assert isinstance(m[k], str) and m[k] and m[k] != "unknown", (k, m)
assert m["cpus"] >= 1 and m["ram_gib"] > 0 and m["caf_version"] == "0.17.6", m
assert doc["command"].startswith("agentgraph bench all --quick --only agents,memory --json"), doc
assert doc["failed"] == [], doc["failed"]
assert set(doc["benchmarks"]) == {"agents", "memory"}, doc["benchmarks"].keys()
for name, b in doc["benchmarks"].items():
    assert b["status"] == "ok" and b["seconds"] > 0 and "reason" not in b, (name, b)
    assert isinstance(b["raw"], dict) and b["raw"], name
    assert b["headline"] and b["missing"] == [], (name, b["missing"])
    for key, h in b["headline"].items():
        assert isinstance(h["value"], (int, float)) and h["value"] > 0, (name, key, h)
        base = b["baseline"][key]
        if base["against"] is not None:
            assert base["value"] > 0, (name, key, base)
            assert abs(b["ratio"][key] - h["value"] / base["value"]) < 1e-9 * h["value"], (name, key)
        else:
            assert base["value"] is None and b["ratio"][key] is None, (name, key)
# The raw JSON is the child's whole object: the rows the bench printed.
assert "populations" in doc["benchmarks"]["agents"]["raw"], doc["benchmarks"]["agents"]["raw"].keys()
assert "rows" in doc["benchmarks"]["memory"]["raw"]
md = open(sys.argv[2]).read()
assert md.startswith("Command: `" + doc["command"] + "`\n\n| machine | |\n"), md[:200]
assert "| CAF | 0.17.6 |" in md and "| CPU | " in md, md
rows = [l for l in md.splitlines() if l.startswith("| agents | ") or l.startswith("| memory | ")]
figures = sum(len(b["headline"]) for b in doc["benchmarks"].values())
assert len(rows) == figures, (len(rows), figures, md)
for l in rows:
    assert l.count("|") == 7 and "missing" not in l and "FAILED" not in l, l
    assert l.rstrip(" |").endswith("x"), l  # both benches have a baseline per figure
PY

# Past its bound, a child is killed and its row says so; exit 1 names it.
# bench cluster needs about 20 s; at 5 s it has node processes running
# (its raw CAF peers, then its nodes), which must go with it. Every process
# of this run inherits a marker in its environment, so none is mistaken
# for a process of a test running alongside.
mark="BENCH_SUITE_SMOKE_MARK=$$-$RANDOM"  # not AGENTGRAPH_*: nodes read those as config
env "$mark" "$cli" bench all --quick --only cluster --bound-s 5 >"$work/bound" 2>"$work/bound.err"
rc=$?
cat "$work/bound" "$work/bound.err"
[ "$rc" -eq 1 ] || fail "a child past its bound: exit $rc (want 1)"
grep -q "^agentgraph bench all: failed: cluster$" "$work/bound.err" || fail "the failed child is not named"
grep -q "FAILED (.*killed at its wall-time bound of 5 s" "$work/bound" || fail "no reason in the row"
# Killed and reaped: neither the child nor its nodes are left (PDEATHSIG
# and its own SIGTERM handler; both get a moment).
sleep 1
left=$(grep -l -a -- "$mark" /proc/[0-9]*/environ 2>/dev/null | wc -l)
[ "$left" -eq 0 ] || fail "$left processes of the killed bench are still running"
kept=$(grep -o "kept in /tmp/agentgraph-bench-all-[A-Za-z0-9]*" "$work/bound.err" | cut -d' ' -f3)
[ -n "$kept" ] && [ -e "$kept/cluster.stderr" ] || fail "the failed child's output is not kept"
[ -n "$kept" ] && rm -rf "$kept"

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "usage: agentgraph bench all" -- bench
expect_usage "'nope' is not a sub-benchmark" -- bench all --only memory,nope
expect_usage "'memory' is named twice" -- bench all --only memory,memory
expect_usage "--only needs at least one name" -- bench all --only ""
expect_usage "--bound-s must be in" -- bench all --bound-s 0
expect_usage "unrecognised option|unrecognized option" -- bench all --fast
exit $((fails > 0))
