#!/bin/bash
# `agentgraph bench llm --quick`: the benchmark runs end to end against the
# in-process mock and prints every row of every level. It checks behaviour
# only (exit code, rows, ratio lines), never a timing. The openai npm SDK row
# is either figures or an explicit "skipped: ..." line (node_modules of
# tools/peers is not installed by the build; `npm ci --prefix tools/peers`).
# --json: stdout is one JSON object with every row of every level, its
# figures and ratios (checked by key and type, never by value), and the
# client CPU per request of our own clients (positive: it was measured).
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
  grep -qE "client CPU per request \(us\): .*agentgraph provider [0-9.]+ \([0-9.]+ wake-ups\)" "$work/level" \
    || fail "concurrency $level: no client CPU line with the provider"
done
grep -q "ERRORS" "$work/out" && fail "some requests failed"

"$cli" bench llm --quick --concurrency 1,4 --peers-dir "$src/tools/peers" --json \
  >"$work/json" 2>"$work/json.err"
rc=$?
[ "$rc" -eq 0 ] || { fail "bench llm --json exited $rc"; cat "$work/json.err"; }
python3 - "$work/json" <<'PY' || fail "bench llm --json: the JSON object is incomplete (above)"
import json, sys
doc = json.load(open(sys.argv[1]))  # the whole of stdout: nothing but the object
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
need(doc.get("bench") == "llm", "bench != llm")
need(doc.get("requests") == 200 and doc.get("warmup") == 20, "requests/warmup of --quick")
clients = ["raw libcurl, reuse", "raw libcurl, no reuse", "http_client, reuse",
           "http_client, Connection: close", "agentgraph provider", "openai npm SDK"]
for level in (1, 4):
    rows = {r["client"]: r for r in doc["rows"] if r.get("concurrency") == level}
    need(sorted(rows) == sorted(clients), f"c{level}: rows {sorted(rows)}")
    sdk_ran = "note" not in rows.get("openai npm SDK", {})
    for name, r in rows.items():
        need(num(r.get("connections")), f"c{level} {name}: connections")
        if name == "openai npm SDK" and not sdk_ran:
            need(r["note"].startswith("skipped: "), f"c{level}: SDK note {r['note']!r}")
            continue
        for key in ("requests", "requests_per_second", "p50_ms", "p99_ms", "vs_raw",
                    "p50_us_vs_raw"):
            need(num(r.get(key)), f"c{level} {name}: {key} = {r.get(key)!r}")
        need(r.get("requests") == 200, f"c{level} {name}: requests {r.get('requests')!r}")
        if name != "openai npm SDK":  # our clients: CPU of their own threads, measured
            need(num(r.get("client_cpu_us_per_request")) and r["client_cpu_us_per_request"] > 0,
                 f"c{level} {name}: client_cpu_us_per_request = {r.get('client_cpu_us_per_request')!r}")
            need(num(r.get("client_wakeups_per_request")),
                 f"c{level} {name}: client_wakeups_per_request")
        need(r.get("errors") == 0, f"c{level} {name}: errors {r.get('errors')!r}")
    ratios = [x for x in doc["ratios"] if x.get("concurrency") == level]
    need(len(ratios) == 1, f"c{level}: {len(ratios)} ratio objects")
    for key in ("provider_vs_raw", "sdk_vs_raw", "provider_vs_sdk", "reuse_raw_libcurl",
                "reuse_http_client"):
        v = ratios[0].get(key, "missing") if ratios else "missing"
        if v is None and not sdk_ran and "sdk" in key:
            continue
        need(isinstance(v, dict) and num(v.get("requests_per_second_ratio"))
             and num(v.get("p50_us_added")), f"c{level} ratio {key} = {v!r}")
for b in bad:
    print("bench llm --json:", b)
sys.exit(1 if bad else 0)
PY

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
