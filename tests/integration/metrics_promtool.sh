#!/bin/bash
# Issue 4: our /metrics text must pass Prometheus' own checker. Runs
# `promtool check metrics` (Debian package `prometheus`, installed by
# tools/setup.sh) on the page metrics_sample writes, and fails on a parse
# error or any lint problem. A missing promtool is a failure, not a skip:
# setup.sh installs it, so its absence means the machine is not set up.
set -uo pipefail
sample="$1"
if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found; install Debian's 'prometheus' package (tools/setup.sh does)"
  exit 1
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if ! "$sample" >"$work/metrics.txt"; then
  echo "FAIL: $sample exited with an error"; exit 1
fi
echo "--- exposition ($(wc -l <"$work/metrics.txt") lines)"; cat "$work/metrics.txt"
# promtool exits 1 on a parse error and 3 on lint problems; it prints each
# problem, so any output at all is treated as a failure too.
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1; rc=$?
if [ "$rc" -ne 0 ] || [ -s "$work/promtool.out" ]; then
  echo "FAIL: promtool check metrics -> rc=$rc:"; cat "$work/promtool.out"; exit 1
fi
# The page really contains what the check is meant to cover.
for want in '^# TYPE agentgraph_tasks_total counter$' '^# TYPE agentgraph_requests_inflight gauge$' \
            'le="\+Inf"' '_sum\{provider="mock"\}' 'agentgraph_requests_inflight\{provider="nan"\} NaN' \
            'plan\\"ner\\\\two\\nlines' 'agentgraph_metrics_series_refused_total\{family="agentgraph_tool_calls_total"\} 1' \
            '^agentgraph_mailbox_depth\{actor="agent.planner"\} 4$'; do
  if ! grep -qE -- "$want" "$work/metrics.txt"; then
    echo "FAIL: the sample lacks /$want/"; exit 1
  fi
done
# And the checker really lints: a counter without _total must be reported,
# or a passing run above would prove nothing.
printf '# HELP bad_count c\n# TYPE bad_count counter\nbad_count 1\n' >"$work/bad.txt"
if promtool check metrics <"$work/bad.txt" >/dev/null 2>&1; then
  echo "FAIL: promtool accepted a counter without the _total suffix: it does not lint"; exit 1
fi
echo "ok: promtool check metrics passed ($(promtool --version 2>&1 | head -1))"
