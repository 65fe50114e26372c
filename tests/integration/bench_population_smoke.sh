#!/bin/bash
# `agentgraph bench population --quick --json --keys 20000`: the benchmark
# runs end to end on a small population and gives one JSON object with
# every key, numeric where a figure is; every key was touched, the active
# bound held and the activations were measured; the table prints its rows;
# bad usage exits 2. Behaviour only (exit code, rows, keys), never a figure.
set -uo pipefail
cli="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench population --quick --json --keys 20000 >"$work/json" 2>"$work/err"
rc=$?
cat "$work/json" "$work/err"
[ "$rc" -eq 0 ] || fail "bench population --quick --json exited $rc"
python3 - "$work/json" <<'PY' || fail "--json: not the expected object"
import json, sys
j = json.load(open(sys.argv[1]))   # exactly one object: json.load refuses trailing text
def num(k):
    v = j[k]
    assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
    return v
for k in ("keys", "active_max", "rss_mb", "bytes_per_passivated", "bytes_per_active",
          "activation_p50_us", "activation_p99_us", "raw_caf_bytes_per_actor",
          "raw_caf_spawn_us", "touch_tasks_per_s", "touch_p50_us", "max_active_seen",
          "hardware_threads", "heap_bytes_per_passivated", "load_average_at_start"):
    num(k)
for k in ("rss_mb", "activation_p50_us", "activation_p99_us", "raw_caf_spawn_us",
          "touch_tasks_per_s", "hardware_threads"):
    assert num(k) > 0, (k, j[k])
assert j["keys"] == 20000 and j["keys_touched"] == 20000 and j["stopped_by"] == "", j
assert j["active_max"] == 2000, j["active_max"]             # keys / 10
assert 0 < j["max_active_seen"] <= j["active_max"] and j["active_bound_held"] is True, j
assert j["task_errors"] == 0 and j["activation_errors"] == 0, j
assert j["activations"] == 1000, j["activations"]           # --quick
assert j["passivated_all"] == j["active_max"], j            # the last active_max keys
assert j["saved_keys"] >= 20000 and j["passivated_keys"] == 18000, j
assert j["raw_caf_actors"] == 2000, j
assert j["activation_p99_us"] >= j["activation_p50_us"], j
assert j["bench"] == "population" and j["cpu_model"] and j["build"], j
PY

"$cli" bench population --quick --keys 3000 --active-max 500 --activations 100 \
  >"$work/out" 2>"$work/err" || { fail "table run exited non-zero"; cat "$work/err"; }
cat "$work/out"
n='-?[0-9]+(\.[0-9]+)?'
grep -qE "^keys touched: 3000 of 3000; active_max 500; most active seen $n \(never above active_max\)" \
  "$work/out" || fail "no keys line"
for m in "bytes per active key, RSS" "bytes per passivated key, RSS" \
         "activation of a saved key, p50 us"; do
  grep -qE "^$m +$n +$n +([0-9]+\.[0-9]{2}x|n/a) " "$work/out" || fail "no row: $m"
done
grep -qE "^  activation p50 $n us: (met|MISSED)" "$work/out" || fail "no target line"

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "agentgraph bench population" -- bench
expect_usage "--keys must be in" -- bench population --keys 10
expect_usage "--keys must be in" -- bench population --keys 20000000
expect_usage "--active-max must be in" -- bench population --keys 1000 --active-max 1000
expect_usage "--active-max must be in" -- bench population --keys 1000 --active-max 0
expect_usage "--activations must be in" -- bench population --activations 0
expect_usage "unrecognised option|unrecognized option" -- bench population --bogus
expect_usage "too many positional options" -- bench population 10000
[ "$fails" -eq 0 ] || { echo "bench_population_smoke: $fails failure(s)"; exit 1; }
echo "bench_population_smoke: ok"
