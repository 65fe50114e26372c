#!/bin/bash
# The CLI's population surface against a real `agentgraph node`:
#   1. `status` shows the population's row with the figures three real
#      tasks made (three activations, one eviction under active_max 2);
#   2. `broadcast` reaches every saved key once (text and --json);
#   3. `vars` sets a key's prompt variables: its next answer follows them;
#   4. bad usage and refused bodies exit 2 with the gateway's message.
# Every wait is bounded; nothing asserts how long anything took.
# Usage: population_cli.sh <agentgraph binary> <source dir>
set -uo pipefail
cli="$1"
work="$(mktemp -d)"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
source "$(dirname "$0")/cli_expect.sh"  # expect CODE PATTERN -- command...

cat > "$work/rules.json" <<'EOF'
{"rules": [
  {"name": "mood", "when": {"agent": "mood=happy", "last_role": "user"}, "reply": "feeling happy"},
  {"name": "echo", "when": {"last_role": "user"}, "reply": "plain answer"}
]}
EOF
cat > "$work/node.ini" <<EOF
[runtime]
data_dir = $work
[node]
port = 0
[provider.scripted]
kind = scripted
rules = rules.json
[population.crowd]
active_max = 2
system_prompt = You are {{key}}, mood={{mood}}.
EOF

"$cli" node --config "$work/node.ini" --port-file "$work/port" 2>"$work/node.log" &
node_pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ ! -s "$work/port" ]; then echo "FAIL: the node did not start"; cat "$work/node.log"; exit 1; fi
url="http://127.0.0.1:$(cat "$work/port")"

for key in a b c; do
  expect 0 "plain answer" -- "$cli" submit --url "$url" --agent "crowd/$key" --task hello
done
# population healthy active activating passivating saved_keys waiting in_flight
#   activations passivations evictions store_errors active_max passivated
#   state_bytes_per_active
row='^crowd +yes +2 +0 +0 +3 +0 +0 +3 +1 +1 +0 +2 +1 +[1-9][0-9]*$'
for _ in $(seq 1 100); do
  "$cli" status --url "$url" >"$work/status" 2>&1 && grep -qE "$row" "$work/status" && break
  sleep 0.1
done
expect 0 "$row" -- "$cli" status --url "$url"
expect 0 "^population +healthy +active +activating +passivating +saved_keys +waiting +in_flight" -- "$cli" status --url "$url"

# One task at a time: with active_max 2, three keys busy at once would be
# more than the population holds (the third is `overloaded`).
expect 0 "^broadcast to crowd: 3 keys, 3 ok, 0 failed$" -- "$cli" broadcast --url "$url" --population crowd --input news --concurrency 1
expect 0 '"keys":3.*"ok":3' -- "$cli" broadcast --url "$url" --population crowd --input more --concurrency 1 --json
expect 0 '"keys":2.*"ok":2' -- "$cli" broadcast --url "$url" --population crowd --input some --sample 2 --seed 9 --concurrency 1 --json

expect 2 "HTTP 404: not_found: no population named 'nobody'" -- "$cli" broadcast --url "$url" --population nobody --input x
expect 2 "HTTP 400: invalid_argument: concurrency: must be an integer in 1..1024" -- "$cli" broadcast --url "$url" --population crowd --input x --concurrency 0
expect 2 "--population and --input are required" -- "$cli" broadcast --url "$url" --population crowd

expect 2 "either --var NAME=VALUE" -- "$cli" vars --url "$url" --agent crowd/a
expect 2 "either --var NAME=VALUE" -- "$cli" vars --url "$url" --agent crowd/a --var mood=x --clear
expect 2 "expected NAME=VALUE" -- "$cli" vars --url "$url" --agent crowd/a --var mood
expect 2 "--var mood given twice" -- "$cli" vars --url "$url" --agent crowd/a --var mood=x --var mood=y
expect 2 "--agent must be <type>/<key>" -- "$cli" vars --url "$url" --agent crowd --var mood=x
expect 2 "^agentgraph vars: .*key" -- "$cli" vars --url "$url" --agent crowd/a --var key=x
expect 2 "HTTP 400: invalid_argument: 'crowd/a!b'" -- "$cli" vars --url "$url" --agent 'crowd/a!b' --var mood=x
expect 2 "HTTP 404: not_found" -- "$cli" vars --url "$url" --agent nobody/a --var mood=x
expect 0 '^\{"agent":"crowd/a","vars":\{"mood":"happy"\}\}$' -- "$cli" vars --url "$url" --agent crowd/a --var mood=happy
expect 0 "feeling happy" -- "$cli" submit --url "$url" --agent crowd/a --task "how are you"
expect 0 "plain answer" -- "$cli" submit --url "$url" --agent crowd/b --task "how are you"
expect 0 '"vars":\{\}' -- "$cli" vars --url "$url" --agent crowd/a --clear
expect 0 "plain answer" -- "$cli" submit --url "$url" --agent crowd/a --task "how are you"

kill -TERM "$node_pid"
for _ in $(seq 1 150); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
wait "$node_pid"; rc=$?
node_pid=""
[ "$rc" -eq 0 ] || { echo "FAIL: the node exited $rc"; cat "$work/node.log"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
