#!/bin/bash
# An agent with its tools and memory shard runs in one process; a second
# process drives it (and each of its dependencies) through CAF's middleman on
# 127.0.0.1, proving every message type crosses processes.
set -euo pipefail
peer="$1"; src="$2"
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$peer" serve "$src/configs/examples/research.ini" "$work/ports" \
  "memory.notes.snapshot_path=$work/notes.sqlite" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/ports" ] && break; sleep 0.05; done
test -s "$work/ports" || { cat "$work/server.log"; exit 1; }
"$peer" drive "$work/ports"
kill -TERM "$server_pid"
wait "$server_pid"; rc=$?
server_pid=""
cat "$work/server.log"
test "$rc" -eq 0
# The server's clean shutdown snapshotted the shard, including the remote store.
test -s "$work/notes.sqlite"
echo "remote_agent: ok"
