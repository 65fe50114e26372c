#!/bin/bash
# The CLI's error paths: each bad input is a clear message and exit code 2,
# and `config check` / `config schema` work on the shipped files.
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
expect() {  # expect CODE PATTERN -- command...
  local code="$1" pattern="$2"; shift 3
  "$@" >"$work/out" 2>&1; local rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qE -- "$pattern" "$work/out"; then
    echo "FAIL: $* -> rc=$rc (want $code), output:"; cat "$work/out"; fails=$((fails + 1))
  else
    echo "ok: $*"
  fi
}
ini="$src/configs/examples/research.ini"
expect 0 "^ok: .*2 agents, 3 tools, 1 memory shards, 1 providers" -- "$cli" config check "$ini"
expect 0 "AGENTGRAPH_AGENT_<NAME>_TEMPERATURE" -- "$cli" config schema
providers="$src/configs/examples/providers.ini"
expect 0 "^ok: .*1 agents, 0 tools, 0 memory shards, 3 providers" -- "$cli" config check "$providers"
# A hosted provider without its key fails at start, naming the variable; the key is never echoed.
expect 2 "no API key: set the environment variable OPENAI_API_KEY" -- env -u OPENAI_API_KEY "$cli" run --config "$providers" --task hi
expect 2 "set the environment variable AG_TEST_UNSET_KEY_VAR" -- "$cli" run --config "$providers" --task hi --set provider.openai.api_key_env=AG_TEST_UNSET_KEY_VAR

expect 0 "agentgraph 0.1.0" -- "$cli" version
expect 2 "unknown command 'frobnicate'" -- "$cli" frobnicate
expect 2 "--config .* and either --task or --workflow are required" -- "$cli" run --task hi
expect 2 "cannot open|No such file|cannot read" -- "$cli" run --config "$work/missing.ini" --task hi
printf '[agent.a]\nprovider = p\n[provider.p]\nkind = scripted\nrules = r.json\ntemprature = 1\n' >"$work/typo.ini"
expect 2 "typo.ini:6: .*temprature" -- "$cli" config check "$work/typo.ini"
printf '[agent.a]\nprovider = p\n[provider.p]\nkind = scripted\nrules = missing.json\n' >"$work/norules.ini"
expect 2 "rules" -- "$cli" config check "$work/norules.ini"
expect 2 "temperature" -- "$cli" config check "$ini" --set agent.planner.temperature=3
expect 2 "AGENTGRAPH_AGENT_PLANNER_TEMPRATURE|unknown" -- env AGENTGRAPH_AGENT_PLANNER_TEMPRATURE=1 "$cli" config check "$ini"
expect 0 "^ok" -- env AGENTGRAPH_AGENT_PLANNER_TEMPERATURE=0.7 "$cli" config check "$ini"
expect 2 "--context: parse_error" -- "$cli" run --config "$ini" --task hi --context '{bad'
expect 2 "agent 'ghost'|no agent named" -- "$cli" run --config "$ini" --task hi --agent ghost \
  --set memory.notes.snapshot_path="$work/n.sqlite"
expect 0 "^ok" -- env AGENTGRAPH_CONFIG="$ini" "$cli" config check "$ini"
# log_level: debug shows the runtime's component lines on stderr, info does not.
task="How many widgets fit in the crate? Use the spec file."
expect 0 "level=debug component=runtime msg=\"component started\" kind=agent name=planner" -- \
  "$cli" run --config "$ini" --task "$task" --set runtime.log_level=debug \
  --set memory.notes.snapshot_path="$work/n2.sqlite"
"$cli" run --config "$ini" --task "$task" --set memory.notes.snapshot_path="$work/n3.sqlite" \
  2>"$work/stderr" >/dev/null
if grep -q "level=debug" "$work/stderr"; then echo "FAIL: debug lines at info level"; fails=$((fails + 1)); fi
# profile memory: after 2 x 1 tasks each agent holds 2 turns and the shard 2 entries, with
# measured bytes (not zero) and their quotient per entry.
expect 0 "^planner +agent +2 +[1-9][0-9]* +[0-9.]+$" -- "$cli" profile memory --config "$ini" \
  --task "$task" --repeat 2 --set memory.notes.snapshot_path="$work/p.sqlite"
expect 0 "^notes +memory +2 +[1-9][0-9]* +[0-9.]+$" -- "$cli" profile memory --config "$ini" \
  --task "$task" --repeat 2 --set memory.notes.snapshot_path="$work/p2.sqlite"
expect 2 "the only profile is .memory." -- "$cli" profile cpu --config "$ini"
expect 2 "--config is required" -- "$cli" profile memory
# Workflows: the example runs the calculator, then researcher and planner in parallel.
wf="$src/configs/examples/research.workflow.json"
wf_input='{"question": "How many widgets fit in the crate? Use the spec file.", "expression": "10*10*10"}'
expect 0 "completed after 2 steps" -- "$cli" run --config "$ini" --workflow "$wf" --input "$wf_input" \
  --set memory.notes.snapshot_path="$work/wf.sqlite"
expect 0 '"finding": "The crate holds 1000 widgets' -- "$cli" run --config "$ini" --workflow "$wf" \
  --input "$wf_input" --set memory.notes.snapshot_path="$work/wf2.sqlite"
expect 2 "either --task or --workflow" -- "$cli" run --config "$ini" --workflow "$wf" --task hi
expect 2 "--input must be a JSON object" -- "$cli" run --config "$ini" --workflow "$wf" --input '[1]'
printf '{"entry": "a", "nodes": {"a": {"agent": "nobody", "input": "x", "output": "o"}}, "edges": [{"from": "a", "to": "END"}]}' >"$work/bad.json"
expect 2 "no agent named 'nobody'" -- "$cli" run --config "$ini" --workflow "$work/bad.json" \
  --set memory.notes.snapshot_path="$work/wf3.sqlite"
printf '{"entry": "a", "nodes": {}, "edges": []}' >"$work/empty.json"
expect 2 "no nodes" -- "$cli" run --config "$ini" --workflow "$work/empty.json"
# Gateway clients: a node that is not there is a clear error, exit 1.
expect 1 "agentgraph status: http://127.0.0.1:9: .*(refused|unavailable)" -- "$cli" status --url http://127.0.0.1:9 --timeout 5
expect 1 "agentgraph submit: http://127.0.0.1:9: " -- "$cli" submit --url http://127.0.0.1:9 --agent a --task t --timeout 5
expect 2 "--agent and --task are required" -- "$cli" submit --url http://127.0.0.1:9
exit $((fails > 0))
