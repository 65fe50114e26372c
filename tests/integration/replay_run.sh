#!/bin/bash
# Record and replay through the CLI (issue 15): `agentgraph run` on the main
# job with record mode on, then the same task with the provider switched to
# kind replay on that recording gives the same answer; a task the recording
# lacks fails naming its hash; a damaged recording is refused at start.
set -euo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rec="$work/run.rec.sqlite"
task="How many widgets fit in the crate? Use the spec file."
# Each run starts from an empty memory shard: recalled memory is part of
# the prompt, so the replay must see what the recording saw.
run() {
  local snap="$1"; shift
  "$cli" run --config "$src/configs/examples/research.ini" \
    --set "memory.notes.snapshot_path=$work/$snap/notes.sqlite" "$@"
}
# The answer line (a streamed run also prints the pieces, tagged "[run-..]").
answer() { grep -m1 "^Plan complete. Researcher found:" <<<"$1"; }
out=$(run a --task "$task" --set "provider.scripted.record=$rec"); echo "$out"
test -s "$rec"
out2=$(run b --task "$task" --set provider.scripted.kind=replay \
         --set "provider.scripted.recording=$rec" --set provider.scripted.timing=none); echo "$out2"
test "$(answer "$out")" = "$(answer "$out2")"
grep -q "Researcher found: The crate holds 1000 widgets" <<<"$out2"
# The recorded latencies (timing = recorded, the default) answer the same.
out3=$(run c --task "$task" --set provider.scripted.kind=replay \
         --set "provider.scripted.recording=$rec"); echo "$out3"
test "$(answer "$out")" = "$(answer "$out3")"
# Streamed (--stream) from records of plain calls: the text as one chunk.
out4=$(run f --task "$task" --stream --set provider.scripted.kind=replay \
         --set "provider.scripted.recording=$rec"); echo "$out4"
test "$(answer "$out")" = "$(answer "$out4")"
# Another task is another request: on_miss = error fails it with its hash.
if run d --task "Something never recorded" --set provider.scripted.kind=replay \
     --set "provider.scripted.recording=$rec" >"$work/miss.out" 2>&1; then
  echo "expected the unrecorded task to fail"; cat "$work/miss.out"; exit 1
fi
grep -q "no recording for this request (hash [0-9a-f]\{40\})" "$work/miss.out"
# A damaged recording is refused at start, naming the file.
head -c 2000 "$rec" >"$work/cut.sqlite"
if run e --task "$task" --set provider.scripted.kind=replay \
     --set "provider.scripted.recording=$work/cut.sqlite" >"$work/cut.out" 2>&1; then
  echo "expected the truncated recording to be refused"; cat "$work/cut.out"; exit 1
fi
grep -q "cut.sqlite" "$work/cut.out"
echo "replay_run: ok"
