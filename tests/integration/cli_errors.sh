#!/bin/bash
# The CLI's error paths: each bad input is a clear message and exit code 2,
# and `config check` / `config schema` work on the shipped files.
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
source "$(dirname "$0")/cli_expect.sh"  # expect CODE PATTERN -- command...
ini="$src/configs/examples/research.ini"
expect 0 "^ok: .*2 agents, 3 tools, 1 memory shards, 1 providers" -- "$cli" config check "$ini"
expect 0 "AGENTGRAPH_AGENT_<NAME>_TEMPERATURE" -- "$cli" config schema
providers="$src/configs/examples/providers.ini"
expect 0 "^ok: .*1 agents, 0 tools, 1 memory shards, 3 providers" -- env OPENAI_API_KEY=k "$cli" config check "$providers"
# Semantic memory offline (issue 13): the shard embeds through the scripted
# provider's model; a run stores its task's note with a vector from it.
semantic="$src/configs/examples/memory_semantic.ini"
expect 0 "^ok: .*1 agents, 0 tools, 1 memory shards, 1 providers" -- "$cli" config check "$semantic"
expect 0 "^notes +1 +[1-9][0-9]* " -- "$cli" run --config "$semantic" --task "my cat is sick"
expect 2 "names provider 'nope', which has no \[provider.nope\] section" -- "$cli" config check \
  "$semantic" --set memory.notes.embedding_model=nope:x
# A hosted provider without its key fails at start, naming the variable; the key is never echoed.
# `config check` refuses it too (it runs the start-up checks).
expect 2 "no API key: set the environment variable OPENAI_API_KEY" -- env -u OPENAI_API_KEY "$cli" run --config "$providers" --task hi
expect 2 "no API key: set the environment variable OPENAI_API_KEY" -- env -u OPENAI_API_KEY "$cli" config check "$providers"
expect 2 "api_key_env names the environment variable AG_TEST_UNSET_KEY_VAR, which is unset" -- env OPENAI_API_KEY=k "$cli" run --config "$providers" --task hi --set provider.openai.api_key_env=AG_TEST_UNSET_KEY_VAR
# openai_compatible too: a named variable must be set (the CLI clients' --token-env likewise).
expect 2 "provider 'local': no API key: api_key_env names the environment variable AG_TEST_UNSET_KEY_VAR" -- env OPENAI_API_KEY=k "$cli" config check "$providers" --set provider.local.api_key_env=AG_TEST_UNSET_KEY_VAR
expect 2 "--token-env names the environment variable AG_TEST_UNSET_TOKEN_VAR, which is unset or empty" -- env -u AG_TEST_UNSET_TOKEN_VAR "$cli" status --url http://127.0.0.1:9 --token-env AG_TEST_UNSET_TOKEN_VAR
expect 2 "--token-env names the environment variable AG_TEST_UNSET_TOKEN_VAR" -- "$cli" submit --url http://127.0.0.1:9 --agent a --task t --token-env AG_TEST_UNSET_TOKEN_VAR
expect 2 "duplicate key 'k'" -- "$cli" submit --url http://127.0.0.1:9 --agent a --task t --context '{"k":1,"k":2}'

# `config check` refuses everything `run` refuses, with the same message (issue 9 part 5):
# each config below is refused by both, and the text after "agentgraph <command>: " matches.
rules="$src/configs/examples/research.rules.json"
head="[provider.p]\nkind = scripted\nrules = $rules\n[agent.a]\nprovider = p\n"
mkfifo "$work/fifo"
printf '{"rules": [], "rules": []}' >"$work/dup.json"
refused=(
  "$head[memory.m]\nembedding_model = hash-0\n"
  "$head[group.g]\nagents =\n"
  "[provider.p]\nkind = scripted\nrules = $work/fifo\n[agent.a]\nprovider = p\n"
  "[provider.p]\nkind = scripted\nrules = $work/dup.json\n[agent.a]\nprovider = p\n"
  "$head[tool.f]\nkind = file_read\nroot = $work/nowhere\n"
  "$head[workflow.w]\nfile = $work/fifo\n"
  "$head[runtime]\nprices = $work/fifo\n"
  "$head[cache]\nredis_url = ftp://127.0.0.1:6379\n"
  "$head[provider.h]\nkind = anthropic\napi_key_env = AG_TEST_UNSET_KEY_VAR\n"
  "$head[provider.h]\nkind = openai_compatible\nbase_url = http://127.0.0.1:9/v1\napi_key_env = AG_TEST_UNSET_KEY_VAR\n"
)
for i in "${!refused[@]}"; do
  printf "${refused[$i]}" >"$work/refused$i.ini"
  "$cli" config check "$work/refused$i.ini" >"$work/check.out" 2>&1; check_rc=$?
  "$cli" run --config "$work/refused$i.ini" --task hi >"$work/run.out" 2>&1; run_rc=$?
  check_msg=$(sed -n 's/^agentgraph config check: //p' "$work/check.out")
  run_msg=$(sed -n 's/^agentgraph run: //p' "$work/run.out")
  if [ "$check_rc" -ne 2 ] || [ "$run_rc" -ne 2 ] || [ -z "$check_msg" ] || [ "$check_msg" != "$run_msg" ]; then
    echo "FAIL: refused$i.ini: config check rc=$check_rc '$check_msg' vs run rc=$run_rc '$run_msg'"
    fails=$((fails + 1))
  else
    echo "ok: refused$i.ini refused alike: $check_msg"
  fi
done
# A FIFO or a device as the config is refused at once (not read forever).
expect 2 "is a FIFO, not a regular file" -- "$cli" config check "$work/fifo"
expect 2 "is a character device, not a regular file" -- "$cli" run --config /dev/zero --task hi
# The source of a value is named: --set and environment, also for cross-references.
expect 2 "^agentgraph config check: invalid_argument: --set agent.planner.memory=nope: \[agent.planner\] memory: no section \[memory.nope\]" -- "$cli" config check "$ini" --set agent.planner.memory=nope
expect 2 "^agentgraph config check: invalid_argument: environment AGENTGRAPH_AGENT_PLANNER_TEMPERATURE: \[agent.planner\] temperature: 3.5 is above" -- env AGENTGRAPH_AGENT_PLANNER_TEMPERATURE=3.5 "$cli" config check "$ini"
# The scheduler policy is stealing or sharing; anything else is refused before a start.
printf "[runtime]\nscheduler_policy = fifo\n$head" >"$work/policy.ini"
expect 2 "^agentgraph config check: invalid_argument: .*policy.ini:2: \[runtime\] scheduler_policy: 'fifo' is not one of stealing.sharing" -- "$cli" config check "$work/policy.ini"
expect 2 "^agentgraph config check: invalid_argument: --set runtime.scheduler_policy=sharng: \[runtime\] scheduler_policy: 'sharng' is not one of stealing.sharing \(did you mean 'sharing'\?\)" -- "$cli" config check "$ini" --set runtime.scheduler_policy=sharng
# A malformed line never echoes its value, even when it holds a secret.
printf '[provider.p]\nkind = scripted\napi_key: sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c\n' >"$work/secret.ini"
expect 2 "secret.ini:3: expected 'key = value', '\[section\]' or a comment \(the line starts with key 'api_key': use '=' instead of ':'\)" -- "$cli" config check "$work/secret.ini"
if grep -q "sk-proj" "$work/out"; then echo "FAIL: the secret was echoed"; fails=$((fails + 1)); fi

expect 0 "agentgraph 0.1.0" -- "$cli" version
expect 2 "unknown command 'frobnicate'" -- "$cli" frobnicate
# agentgraph cluster: only `status`; a node that does not answer is exit 1;
# a node without [cluster] answers 404, said plainly.
expect 2 "usage: agentgraph cluster status" -- "$cli" cluster
expect 2 "usage: agentgraph cluster status" -- "$cli" cluster members
expect 2 "unrecognised option '--bogus'" -- "$cli" cluster status --bogus
expect 1 "agentgraph cluster status: http://127.0.0.1:9" -- "$cli" cluster status --url http://127.0.0.1:9 --timeout 2
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
# ... and the shards' embeddings: hash-256 embeds in the shard (no provider calls).
expect 0 "^notes +hash-256 +256 +0 +0 +0 +0 +0 +0\.00 +0\.00 +0$" -- "$cli" profile memory \
  --config "$ini" --task "$task" --set memory.notes.snapshot_path="$work/p3.sqlite"
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
