#!/bin/bash
# The main job as a process: `agentgraph run` on the shipped example config
# answers the task from the spec file, prints the stats table, exits 0; a
# second run recalls what the first one stored (the snapshot survived).
set -euo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
snap="$work/notes.sqlite"
run() {
  "$cli" run --config "$src/configs/examples/research.ini" \
    --set "memory.notes.snapshot_path=$snap" \
    --task "How many widgets fit in the crate? Use the spec file." "$@"
}
out=$(run); echo "$out"
grep -q "Researcher found: The crate holds 1000 widgets" <<<"$out"
grep -qE "^ *planner +" <<<"$out"
grep -qE "^ *researcher +" <<<"$out"
test -s "$snap"
out2=$(run); echo "$out2"
# The second answer carries the recalled memory of the first task.
grep -q "Task: Read specs/crate.txt" <<<"$out2"
# A bad override is a clear error and a non-zero exit.
if "$cli" run --config "$src/configs/examples/research.ini" --set agent.planner.temperature=9 \
     --task x 2>"$work/err"; then
  echo "expected failure for temperature=9"; exit 1
fi
grep -q "temperature" "$work/err"
# The shipped config as shipped: its default snapshot path (data/notes.sqlite
# next to the config) lives in a directory a fresh checkout does not have.
cp -r "$src/configs/examples" "$work/examples"
rm -rf "$work/examples/data"
"$cli" run --config "$work/examples/research.ini" \
  --task "How many widgets fit in the crate? Use the spec file."
test -s "$work/examples/data/notes.sqlite"
echo "main_job: ok"
