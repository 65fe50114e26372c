#!/bin/bash
# Memory that was stored stays stored: a process stores N entries in a
# shard, prints "stored ID" after each reply, and is killed with SIGKILL
# right after the last one. A restart on the same file must recall all N in
# durability commit (the default), and finds none in durability snapshot
# (nothing snapshotted before the kill), which shows the test can fail.
set -uo pipefail
writer="$1"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
n=200

# run_and_kill MODE: stores n entries, kills the writer after "done".
run_and_kill() {
  local mode="$1" out="$work/$1.out"
  "$writer" "$work/$mode.db" "$mode" store "$n" >"$out" 2>"$work/$mode.err" &
  pid=$!
  # Wait (bounded: 60 s) for the last reply; the writer waits to be killed.
  for _ in $(seq 600); do
    grep -q "^done $n" "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "^done $n" "$out" || { fail "$mode: the writer did not finish"; cat "$out" "$work/$mode.err"; }
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  local rc=$?
  pid=""
  [ "$rc" -eq 137 ] || fail "$mode: the writer ended with $rc, not by SIGKILL"
  local stored
  stored=$(grep -c '^stored ' "$out")
  [ "$stored" -eq "$n" ] || fail "$mode: $stored of $n stores were answered"
}

run_and_kill commit
"$writer" "$work/commit.db" commit count >"$work/commit.count" 2>&1 || fail "commit: count failed"
cat "$work/commit.count"
grep -q "^entries $n$" "$work/commit.count" || fail "commit: the restart does not hold $n entries"
grep -q "^recalled $n$" "$work/commit.count" || fail "commit: the restart does not recall all $n"

run_and_kill snapshot
"$writer" "$work/snapshot.db" snapshot count >"$work/snapshot.count" 2>&1 || fail "snapshot: count failed"
cat "$work/snapshot.count"
grep -q "^entries 0$" "$work/snapshot.count" \
  || fail "snapshot: expected the kill to lose every entry (none was snapshotted)"

# A file written in one mode loads in the other.
"$writer" "$work/commit.db" snapshot count >"$work/cross.count" 2>&1 || fail "cross: count failed"
grep -q "^entries $n$" "$work/cross.count" || fail "a commit-mode file does not load in snapshot mode"
exit $((fails > 0))
