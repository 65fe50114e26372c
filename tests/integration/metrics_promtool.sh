#!/bin/bash
# Issue 4: our /metrics text must pass Prometheus' own checker. Runs
# `promtool check metrics` (Debian package `prometheus`, installed by
# tools/setup.sh) on a page, and fails on a parse error or any lint problem.
# A missing promtool is a failure, not a skip: setup.sh installs it, so its
# absence means the machine is not set up.
#
#   metrics_promtool.sh METRICS_SAMPLE                the synthetic page (every
#                                                     feature of the format)
#   metrics_promtool.sh METRICS_RUNTIME_SAMPLE SRCDIR a real runtime's page after
#                                                     the main job (a copy of
#                                                     configs/examples)
set -uo pipefail
sample="$1"
srcdir="${2:-}"
if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found; install Debian's 'prometheus' package (tools/setup.sh does)"
  exit 1
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
args=()
if [ -n "$srcdir" ]; then
  # The main job's config, copied so its memory snapshot lands in $work.
  mkdir -p "$work/job"
  cp -r "$srcdir/configs/examples/research.ini" "$srcdir/configs/examples/research.rules.json" \
        "$srcdir/configs/examples/workspace" "$work/job/"
  args=("$work/job/research.ini")
fi
if ! "$sample" "${args[@]}" >"$work/metrics.txt"; then
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
if [ -n "$srcdir" ]; then
  # Every actor kind reported, with the main job's exact figures.
  wants=('^agentgraph_agent_tasks_total\{agent="planner",outcome="ok"\} 1$'
         '^agentgraph_agent_tasks_total\{agent="researcher",outcome="ok"\} 1$'
         '^agentgraph_tool_calls_total\{tool="file_read",outcome="ok"\} 1$'
         '^agentgraph_tool_cache_misses_total\{tool="calculator"\} 1$'
         '^agentgraph_provider_requests_total\{provider="scripted",outcome="ok"\} [1-9]'
         '^agentgraph_memory_entries\{shard="notes"\} 1$'
         '^agentgraph_supervisor_restarts_total\{child="agent.planner"\} 0$'
         '^agentgraph_agent_task_duration_seconds_bucket\{agent="planner",le="\+Inf"\} 1$')
else
  wants=('^# TYPE agentgraph_tasks_total counter$' '^# TYPE agentgraph_requests_inflight gauge$'
         'le="\+Inf"' '_sum\{provider="mock"\}' 'agentgraph_requests_inflight\{provider="nan"\} NaN'
         'plan\\"ner\\\\two\\nlines' 'agentgraph_metrics_series_refused_total\{family="agentgraph_tool_calls_total"\} 1'
         '^agentgraph_mailbox_depth\{actor="agent.planner"\} 4$')
fi
for want in "${wants[@]}"; do
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
