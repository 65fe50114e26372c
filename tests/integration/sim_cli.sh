#!/bin/bash
# `agentgraph sim` as a user runs it, on the shipped scenario:
#   1. two separate processes with the same seed write the same trace,
#      report and plots, byte for byte (node ids carry the pid: nothing in
#      the output may depend on them);
#   2. --check-determinism passes and says so; another seed gives another
#      trace;
#   3. the report has every file and the figures the issue asks for;
#   4. bad usage and bad scenarios exit 2 naming the problem.
# Every run is bounded by `timeout`; nothing asserts how long anything took.
# Usage: sim_cli.sh <agentgraph binary> <source dir>
set -uo pipefail
cli="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fails=0
source "$(dirname "$0")/cli_expect.sh"  # expect CODE PATTERN -- command...
small="$src/configs/sim/small.ini"

expect 0 "speed: .*x real time" -- timeout 120 "$cli" sim "$small" --quiet --out "$work/a"
expect 0 "speed: " -- timeout 120 "$cli" sim "$small" --quiet --out "$work/b"
for f in report.json tasks.csv timeline.csv trace.log latency.svg throughput.svg membership.svg; do
  if ! cmp -s "$work/a/$f" "$work/b/$f"; then
    echo "FAIL: $f differs between two runs of one seed"; fails=$((fails + 1))
  fi
done
[ -s "$work/a/speed.json" ] || { echo "FAIL: no speed.json"; fails=$((fails + 1)); }
python3 - "$work/a/report.json" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
t = r["tasks"]
assert t["submitted"] > 500, t
assert t["ok"] > 0 and t["lost"] == 0 and t["answered_twice"] == 0, t
assert r["latency_ms"]["p50"] > 0 and r["latency_ms"]["p99"] >= r["latency_ms"]["p50"]
kill = [f for f in r["faults"] if f["kind"] == "kill"][0]
assert kill["detection_ms"] is not None and kill["settled_ms"] is not None, kill
assert r["llm"]["llm"]["calls"] > 0 and r["llm"]["llm"]["rate_limited"] > 0, r["llm"]
assert r["cost_usd"] > 0
assert r["node_state_at_end"] == ["live", "live", "killed"], r["node_state_at_end"]
print("ok: report.json figures")
PY
expect 0 "deterministic: both runs logged the same" -- timeout 120 "$cli" sim "$small" --quiet --check-determinism
expect 0 "\"seed\": 8" -- timeout 120 "$cli" sim "$small" --quiet --seed 8 --json
if [ "$(grep fnv1a64 "$work/out")" = "$(grep -o '"fnv1a64": "[0-9a-f]*"' "$work/a/report.json")" ]; then
  echo "FAIL: seed 8 gave seed 7's trace"; fails=$((fails + 1))
fi

# 5. A recorded run re-simulated: one real `agentgraph run` records the
#    scripted provider's answer, then every simulated node answers from
#    the recording (kind = replay, timing = recorded) without any vendor
#    model; a miss would fail its task with provider_error.
printf '{"rules": [{"name": "any", "when": {"last_role": "user"}, "reply": "recorded answer"}]}\n' > "$work/rules.json"
cat > "$work/rec.ini" <<EOF2
[provider.p]
kind = scripted
rules = $work/rules.json
record = $work/rec.sqlite
[agent.worker]
role = general
provider = p
history_window = 0
EOF2
expect 0 "recorded answer" -- timeout 60 "$cli" run --config "$work/rec.ini" --agent worker --task "same question"
cat > "$work/replay-node.ini" <<EOF2
[runtime]
log_level = error
[cluster]
name = sim
node_id = n1
listen = n1
port = 4242
seeds = n1:4242
[provider.p]
kind = replay
recording = $work/rec.sqlite
timing = recorded
on_miss = error
[agent.worker]
role = general
provider = p
history_window = 0
[group.workers]
agents = worker
EOF2
cat > "$work/replay.ini" <<EOF2
[sim]
node_config = $work/replay-node.ini
nodes = 2
seeds = 1
duration = 3s
drain = 3s
[arrivals]
rate = 4
agent = workers
input = same question
deadline = 2s
EOF2
expect 0 "\"answered_twice\": 0" -- timeout 120 "$cli" sim "$work/replay.ini" --quiet --json
python3 - "$work/out" <<'PY' || fails=$((fails + 1))
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index("{"):text.rindex("}") + 1])
t = r["tasks"]
assert t["submitted"] > 3 and t["ok"] == t["submitted"], t
print("ok: every simulated task answered from the recording")
PY

expect 2 "a scenario file is required" -- "$cli" sim
expect 2 "missing.ini" -- "$cli" sim "$work/missing.ini"
printf '[sim]\nnode_config = %s/configs/sim/node.ini\n[arrivals]\nagent = workers\n[llm.llm]\nfirst_token_ms = gamma 2\n' "$src" > "$work/bad.ini"
expect 2 "first_token_ms.*expected fixed" -- "$cli" sim "$work/bad.ini"
printf '[sim]\nnode_config = %s/configs/sim/node.ini\n[arrivals]\nagent = workers\n' "$src" > "$work/nollm.ini"
expect 2 "without an \[llm.llm\] model" -- "$cli" sim "$work/nollm.ini"
expect 2 "unknown|unrecognised|nodez" -- "$cli" sim "$small" --set sim.nodez=3
expect 0 "node_config" -- "$cli" sim --schema

echo "sim_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
