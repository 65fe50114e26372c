#!/bin/bash
# `agentgraph bench agents --quick`: the benchmark runs end to end with a
# small population, prints every row of the table, and --json gives one
# object with every key, numeric, positive where a figure must be; a
# population that hits the time cap says so and never claims its target;
# bad usage exits 2. Behaviour only (exit code, rows, keys), never a timing.
set -uo pipefail
cli="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench agents --quick --agents 300 --tasks 300 --warmup 30 >"$work/out" 2>"$work/err"
rc=$?
cat "$work/out" "$work/err"
[ "$rc" -eq 0 ] || fail "bench agents --quick exited $rc"
n='-?[0-9]+(\.[0-9]+)?'
r='([0-9]+\.[0-9]{2}x|n/a)'
grep -qE "^task us, sequential \(median\) +$n +$n +$r +1 hop" "$work/out" || fail "no 1-hop task row"
grep -qE "^task us, sequential \(median\) +$n +$n +$r +2 hops via a relay" "$work/out" \
  || fail "no 2-hop task row"
grep -qE "^tasks/s, 64 in flight +$n +$n +$r " "$work/out" || fail "no throughput row"
grep -qE "^300 agents: reached 300$" "$work/out" || fail "no population header"
for m in "bytes per agent, heap \(mallinfo2\)" "bytes per agent, RSS \(statm\)" \
         "idle CPU, % of one core" "spawns/s, whole growth"; do
  grep -qE "^  $m +$n +$n +$r" "$work/out" || fail "no row: $m"
done
grep -qE "^  spawns/s, first 10 % / last 10 % +$n / $n +$n / $n " "$work/out" || fail "no 10 % row"
grep -qE "^breakdown of bytes per agent at 300 agents" "$work/out" || fail "no breakdown"
for m in "agent via add_agent, all included" "400-byte system prompt, marginal"; do
  grep -qE "^  $m +$n / $n " "$work/out" || fail "no breakdown row: $m"
done
for m in "agent's own state" "CAF actors per agent" "one raw actor, for scale" \
         "metrics scrape bytes per agent"; do
  grep -qE "^  $m +$n " "$work/out" || fail "no breakdown row: $m"
done
grep -q "raw CAF 0.17 baselines in this process" "$work/out" || fail "the table does not say where raw ran"

# The JSON run also has a second population that a 1 s time cap may stop:
# then it reports what it reached and why, never its target (the invariant
# is checked, whatever this machine's speed).
"$cli" bench agents --quick --agents 200,40000 --tasks 150 --warmup 15 --time-cap-s 1 --json \
  >"$work/json" 2>"$work/err" || { fail "--json exited non-zero"; cat "$work/err"; }
python3 - "$work/json" <<'PY' || fail "--json: not the expected object"
import json, sys
j = json.load(open(sys.argv[1]))   # exactly one object: json.load refuses trailing text
def num(k, d=j):
    v = d[k]
    assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
    return v
for k in ("task_us", "raw_1hop_us", "raw_2hop_deadline_us", "tasks_per_s_64", "raw_per_s_64",
          "raw_2hop_deadline_per_s_64", "bytes_per_agent", "raw_bytes_per_actor", "spawn_per_s", "raw_spawn_per_s"):
    assert num(k) > 0, (k, j[k])
for k in ("idle_cpu_pct_10k", "raw_idle_cpu_pct_10k"):
    assert num(k) >= 0, (k, j[k])
for k in ("rss_bytes_per_agent", "raw_rss_bytes_per_actor", "spawn_per_s_first_10pct",
          "spawn_per_s_last_10pct", "task_p99_us"):
    num(k)
assert j["task_errors"] == 0, j["task_errors"]
assert j["agents"] == 200 and j["agents_reached"] == 200 and j["stopped_by"] == "", j
assert j["rounds"] == 3 and j["time_cap_s"] == 1, j
b = j["breakdown"]
for k in ("agent_heap_bytes", "agent_state_bytes", "actors_per_agent", "raw_actor_heap_bytes",
          "prompt_marginal_heap_bytes", "metrics_scrape_bytes_per_agent"):
    num(k, b)
assert b["agents"] == 200 and b["prompt_bytes"] == 400 and b["actors_per_agent"] >= 1, b
assert b["agent_state_samples"] == 16, b
assert [p["agents"]["target"] for p in j["populations"]] == [200, 40000], j["populations"]
for p in j["populations"]:
    for side in ("agents", "raw"):
        g = p[side]
        assert 0 < g["reached"] <= g["target"], g
        assert (g["reached"] < g["target"]) == (g["stopped_by"] != ""), g
        if g["stopped_by"]:
            assert g["stopped_by"].startswith(("time cap", "memory")), g
        num("heap_bytes_per_unit", g); num("spawn_per_s", g)
assert "bytes_per_agent_1m" not in j, "no 1 M population was run"
PY

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "agentgraph bench agents" -- bench
expect_usage "--agents: '0' is not in" -- bench agents --agents 0
expect_usage "--agents: '3000000' is not in" -- bench agents --agents 3000000
expect_usage "--agents: 'x' is not in" -- bench agents --agents 10,x
expect_usage "--agents: give 1 to 4 sizes" -- bench agents --agents 1,2,3,4,5
expect_usage "--tasks must be in" -- bench agents --tasks 0
expect_usage "--tasks must be in" -- bench agents --tasks 2000000
expect_usage "--time-cap-s must be in" -- bench agents --time-cap-s 0
expect_usage "--time-cap-s must be in" -- bench agents --time-cap-s 5000
expect_usage "unrecognised option|unrecognized option" -- bench agents --bogus
expect_usage "too many positional options" -- bench agents 10000
[ "$fails" -eq 0 ] || { echo "bench_agents_smoke: $fails failure(s)"; exit 1; }
echo "bench_agents_smoke: ok"
