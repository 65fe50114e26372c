#!/bin/bash
# kill -9 of `agentgraph run --workflow` in the middle of a checkpointed run,
# then `agentgraph resume --thread`: the resumed run ends in exactly the
# state an uninterrupted run reaches. On SQLite, and on PostgreSQL when the
# test server is up (tools/test.sh starts it; without it this test FAILS).
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "workflow_resume: FAIL: $*"; exit 1; }
cfg="$src/tests/data/workflow/slow.ini"
wf="$src/tests/data/workflow/pipeline.json"
input='{"topic": "crates"}'

# The state part of a run's output (everything after "state:").
state_of() { sed -n '/^state:$/,$p' "$1"; }

checkpoints_sqlite() {  # checkpoints saved for thread $2 in database $1
  python3 -c 'import sqlite3,sys
c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True, timeout=5)
try: print(c.execute("select count(*) from checkpoints where thread_id=?", (sys.argv[2],)).fetchone()[0])
except Exception: print(0)' "$1" "$2"
}

run_case() {  # run_case NAME SETTING...
  local name="$1"; shift
  "$cli" run --config "$cfg" --workflow "$wf" --input "$input" --thread "$name-whole" "$@" \
    >"$work/$name-whole.out" 2>&1 || fail "$name: uninterrupted run: $(cat "$work/$name-whole.out")"
  grep -q "completed after 4 steps" "$work/$name-whole.out" || fail "$name: $(cat "$work/$name-whole.out")"

  "$cli" run --config "$cfg" --workflow "$wf" --input "$input" --thread "$name-killed" "$@" \
    >"$work/$name-killed.out" 2>&1 &
  pid=$!
  # Kill it once two steps are saved (input + step 1 + step 2 = 3 checkpoints).
  for _ in $(seq 1 400); do
    grep -q "\[step 2\] second ->" "$work/$name-killed.out" 2>/dev/null && break
    sleep 0.02
  done
  grep -q "\[step 2\] second ->" "$work/$name-killed.out" || fail "$name: the run never reached step 2"
  kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
  grep -q "completed after" "$work/$name-killed.out" && fail "$name: the run finished before the kill"

  "$cli" resume --config "$cfg" --workflow "$wf" --thread "$name-killed" "$@" \
    >"$work/$name-resumed.out" 2>&1 || fail "$name: resume: $(cat "$work/$name-resumed.out")"
  grep -q "completed after 4 steps" "$work/$name-resumed.out" || fail "$name: $(cat "$work/$name-resumed.out")"
  # The resume ran only what was left (no step 1 again).
  grep -q "\[step 1\]" "$work/$name-resumed.out" && fail "$name: the resume re-ran step 1"
  diff <(state_of "$work/$name-whole.out") <(state_of "$work/$name-resumed.out") \
    || fail "$name: the resumed state differs from the uninterrupted one"
  grep -q '"four": "done 4 of done 3 of done 2 of done 1 of crates"' "$work/$name-resumed.out" \
    || fail "$name: unexpected final state: $(cat "$work/$name-resumed.out")"
  echo "workflow_resume: $name ok"
}

run_case sqlite --set runtime.checkpoint_path="$work/flows.db"
[ "$(checkpoints_sqlite "$work/flows.db" sqlite-whole)" -eq 5 ] || fail "sqlite: expected 5 checkpoints (input + 4 steps)"

[ -n "${AGENTGRAPH_TEST_POSTGRES_URL:-}" ] || fail "AGENTGRAPH_TEST_POSTGRES_URL is not set (tools/test.sh starts the test server)"
run_case postgres --set runtime.checkpoint_url="$AGENTGRAPH_TEST_POSTGRES_URL"
echo "workflow_resume: ok"
