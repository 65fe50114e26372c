#!/bin/bash
# `agentgraph resume` of a thread its workflow file no longer fits, or of a
# thread that already ended, exits 2 with a message naming the cause (never
# a crash); `agentgraph run --workflow` without --thread gives every run its
# own thread, and a run never takes over a thread that exists. SQLite only.
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "workflow_resume_errors: FAIL: $*"; exit 1; }
cfg="$src/tests/data/workflow/slow.ini"
wf="$src/tests/data/workflow/review.json"   # pauses before `publish`
db=(--set runtime.checkpoint_path="$work/flows.db")

thread_of() { sed -n 's/^workflow review (thread \(.*\)): .*/\1/p' "$1"; }

# expect CODE NAME CMD...: runs CMD into $work/NAME.out and checks its exit code.
expect() {
  local want="$1" name="$2"; shift 2
  "$@" >"$work/$name.out" 2>&1
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$name: exit $rc, expected $want: $(cat "$work/$name.out")"
}

# Two runs without --thread: two threads, each paused before `publish`.
for i in 1 2; do
  expect 3 "run$i" "$cli" run --config "$cfg" --workflow "$wf" --input '{"topic": "crates"}' "${db[@]}"
  grep -q "interrupted after 3 steps" "$work/run$i.out" || fail "run$i: $(cat "$work/run$i.out")"
done
t1=$(thread_of "$work/run1.out"); t2=$(thread_of "$work/run2.out")
[ -n "$t1" ] && [ -n "$t2" ] || fail "no thread id printed: $(cat "$work/run1.out")"
[ "$t1" != "$t2" ] || fail "two runs without --thread share thread '$t1'"
echo "workflow_resume_errors: distinct threads $t1 $t2"

# The workflow file changed since: `publish` renamed. Refused, naming the node.
sed 's/"publish"/"release"/g' "$wf" >"$work/renamed.json"
expect 2 renamed "$cli" resume --config "$cfg" --workflow "$work/renamed.json" --thread "$t1" \
  --input '{"approval": "yes"}' "${db[@]}"
grep -q "next node 'publish' is not a node of the graph" "$work/renamed.out" \
  || fail "renamed: the message does not name the node: $(cat "$work/renamed.out")"

# Both threads still resume on the original file, each to its own end.
for t in "$t1" "$t2"; do
  expect 0 "resume-$t" "$cli" resume --config "$cfg" --workflow "$wf" --thread "$t" \
    --input '{"approval": "yes"}' "${db[@]}"
  grep -q "(thread $t): completed after 4 steps" "$work/resume-$t.out" \
    || fail "resume $t: $(cat "$work/resume-$t.out")"
done

# A thread that already ended: nothing to continue.
expect 2 ended "$cli" resume --config "$cfg" --workflow "$wf" --thread "$t1" "${db[@]}"
grep -q "already ended" "$work/ended.out" || fail "ended: $(cat "$work/ended.out")"

# A new run under a taken id fails before running anything; the thread stays as it was.
expect 1 taken "$cli" run --config "$cfg" --workflow "$wf" --input '{"topic": "x"}' --thread "$t2" "${db[@]}"
grep -q "already has checkpoints" "$work/taken.out" || fail "taken: $(cat "$work/taken.out")"
grep -q "^\[step " "$work/taken.out" && fail "taken: a node ran: $(cat "$work/taken.out")"
expect 2 taken-ended "$cli" resume --config "$cfg" --workflow "$wf" --thread "$t2" "${db[@]}"
echo "workflow_resume_errors: ok"
