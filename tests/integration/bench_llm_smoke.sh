#!/bin/bash
# `agentgraph bench llm --quick`: the benchmark runs end to end against the
# in-process mock and prints every row of every level. It checks behaviour
# only (exit code, rows, ratio lines), never a timing. The openai npm SDK row
# is either figures or an explicit "skipped: ..." line (node_modules of
# tools/peers is not installed by the build; `npm ci --prefix tools/peers`).
set -uo pipefail
cli="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench llm --quick --concurrency 1,4 --peers-dir "$src/tools/peers" >"$work/out" 2>&1
rc=$?
cat "$work/out"
[ "$rc" -eq 0 ] || fail "bench llm --quick exited $rc"
num='[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+ '
for level in 1 4; do
  # The table of this level: from its heading to the next blank line.
  awk -v h="concurrency $level" '$0 == h {p = 1} p && $0 == "" {exit} p' "$work/out" >"$work/level"
  [ -s "$work/level" ] || { fail "no table for concurrency $level"; continue; }
  for row in "raw libcurl, reuse" "raw libcurl, no reuse" "http_client, reuse" \
             "http_client, Connection: close" "agentgraph provider"; do
    grep -qE "^$row +$num" "$work/level" || fail "concurrency $level: no figures for '$row'"
  done
  grep -qE "^openai npm SDK +($num|skipped: )" "$work/level" \
    || fail "concurrency $level: the openai npm SDK row has neither figures nor a skip reason"
  grep -qE "agentgraph provider vs raw libcurl: +[0-9.]+x req/s" "$work/level" \
    || fail "concurrency $level: no provider ratio line"
  grep -qE "connection reuse, raw libcurl: +[0-9.]+x req/s" "$work/level" \
    || fail "concurrency $level: no connection reuse line"
done
grep -q "ERRORS" "$work/out" && fail "some requests failed"

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "usage: agentgraph bench llm" -- bench
expect_usage "--concurrency: '0' is not in" -- bench llm --concurrency 0
expect_usage "--concurrency: 'x' is not in" -- bench llm --concurrency 1,x
exit $((fails > 0))
