#!/bin/bash
# `agentgraph bench cluster --quick --json` (issue 12, slice 9): the
# benchmark runs end to end with real node processes and its JSON has every
# row with figures and no errors, every ratio, and both failover runs with
# no task lost and none answered twice. Then: no child outlives the bench
# when it is stopped (SIGTERM) or killed (kill -9) mid-run, and bad usage
# exits 2. Behaviour only (exit codes, shape, counts), never a timing.
# Every wait is bounded.
# Usage: bench_cluster_smoke.sh <agentgraph binary>
set -uo pipefail
cli="$1"
work=$(mktemp -d)
scratches=()
cleanup() {
  # Only what this test started: processes whose command line names one of
  # its bench's scratch directories.
  for s in "${scratches[@]}"; do
    for p in $(pgrep -f -- "$s"); do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$s"
  done
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

timeout 240 "$cli" bench cluster --quick --json >"$work/json" 2>"$work/err"
rc=$?
cat "$work/err"
[ "$rc" -eq 0 ] || fail "bench cluster --quick --json exited $rc"
python3 - "$work/json" <<'PY' || fail "--json output"
import json, sys
j = json.load(open(sys.argv[1]))
def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
check(j["bench"] == "cluster" and j["quick"] is True, "bench and quick")
check("not speed-up" in j["note"], "the note on 2 cores")
check(j["options"]["failover_tasks"] == 300 and j["options"]["requests"] == 300, "--quick counts")
levels = sorted({r["concurrency"] for r in j["hops"]})
check(levels == [1, 32], "hop rows at the default levels: %s" % levels)
for key in ("raw_workers0", "raw_workers1", "cross_node", "same_node"):
    rows = [r for r in j["hops"] if r["key"] == key]
    check(len(rows) == 2, "%s: one row per level" % key)
    for r in rows:
        check("error" not in r and r["errors"] == 0 and r["requests"] == 300
              and r["per_second"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"], "figures of %s" % r)
keys = [r["key"] for r in j["throughput"]]
check(keys == ["alone", "nodes1", "nodes2", "nodes3"], "throughput rows: %s" % keys)
for r in j["throughput"]:
    check("error" not in r and r["errors"] == 0 and r["requests"] > 0 and r["per_second"] > 0,
          "figures of %s" % r)
check([r["nodes"] for r in j["throughput"]] == [1, 1, 2, 3], "node counts")
ratio_keys = {r["key"] for r in j["ratios"]}
check(ratio_keys == {"cross_node_vs_raw", "cross_node_vs_same_node", "raw_workers0_vs_workers1",
                     "nodes1_vs_alone", "nodes2_vs_nodes1", "nodes3_vs_nodes1"},
      "ratio keys: %s" % ratio_keys)
check(all(r["per_second_ratio"] is not None and r["per_second_ratio"] > 0 for r in j["ratios"]),
      "every ratio has a value")
faults = [f["fault"] for f in j["failover"]]
check(faults == ["kill -9", "SIGSTOP"], "failover runs: %s" % faults)
for f in j["failover"]:
    check("error" not in f, "%s ran: %s" % (f["fault"], f.get("error")))
    check(f["lost"] == 0, "%s: no task lost (%d)" % (f["fault"], f["lost"]))
    check(f["answered_twice"] == 0, "%s: no task answered twice (%d)" % (f["fault"], f["answered_twice"]))
    check(f["tasks"] == 300 and f["completed"] == 300, "%s: every task completed" % f["fault"])
    check(f["detection_ms"] is not None and f["detection_ms"] >= 0, "%s: detected" % f["fault"])
    check(f["in_flight_at_fault"] > 0 and f["recovery_ms"] is not None, "%s: recovery" % f["fault"])
    check(f["redispatched"] >= 1, "%s: tasks re-dispatched off n2" % f["fault"])
check(j["failover"][0]["rejoined"] is None and j["failover"][1]["rejoined"] is True,
      "the frozen node rejoins after SIGCONT")
print("json ok")
PY

# Stopped or killed mid-run, the bench leaves no child behind. The scratch
# directory is on the table's first line; its children name it.
for sig in TERM KILL; do
  "$cli" bench cluster --quick >"$work/out_$sig" 2>&1 &
  bench=$!
  scratch=""
  seen=0
  for _ in $(seq 200); do
    [ -z "$scratch" ] && scratch=$(grep -o '/tmp/agentgraph-bench-cluster-[A-Za-z0-9]*' "$work/out_$sig" | head -1)
    # A node (its command line names its INI file in the scratch directory).
    if [ -n "$scratch" ] && pgrep -f -- "$scratch/.*[.]ini" >/dev/null; then seen=1; break; fi
    sleep 0.1
  done
  [ -n "$scratch" ] && scratches+=("$scratch")
  if [ "$seen" -ne 1 ]; then
    fail "SIG$sig: no node of the bench seen within 20 s"
    kill -KILL "$bench" 2>/dev/null
    wait "$bench"
    continue
  fi
  kill -"$sig" "$bench"
  wait "$bench"
  brc=$?
  [ "$sig" = TERM ] && { [ "$brc" -eq 130 ] || fail "SIGTERM: exit $brc, not 130"; }
  for _ in $(seq 50); do pgrep -f -- "$scratch" >/dev/null || break; sleep 0.1; done
  pgrep -f -- "$scratch" >/dev/null && fail "SIG$sig: children outlived the bench: $(pgrep -af -- "$scratch")"
done

"$cli" bench cluster --concurrency 0 >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "--concurrency 0 exited $rc, not 2"
"$cli" bench cluster --failover-tasks 5 >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "--failover-tasks 5 exited $rc, not 2"
"$cli" bench cluster --no-such-option >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "an unknown option exited $rc, not 2"

[ "$fails" -eq 0 ] || { echo "bench_cluster_smoke: $fails failure(s)"; exit 1; }
echo "bench_cluster_smoke: ok"
