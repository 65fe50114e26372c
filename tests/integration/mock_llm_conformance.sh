#!/bin/bash
# The vendors' official SDKs (openai, @anthropic-ai/sdk, @google/genai from
# npm, pinned by tools/peers/package-lock.json) drive the mock LLM server:
# plain, streaming and tool-call exchanges for OpenAI, OpenRouter, Anthropic
# and Gemini must parse without error and yield what the scenario says.
# Missing Node/npm or a failed install is a FAILURE, never a skip: without
# the SDKs nothing proves the mock speaks the real wire formats.
set -euo pipefail
mock="$1"; src="$2"
scenario="$src/tests/data/mock_llm/conformance.json"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "mock_llm_conformance: FAIL: $*"; exit 1; }

command -v node >/dev/null || fail "node is not installed (tools/setup.sh installs nodejs and npm)"
command -v npm >/dev/null || fail "npm is not installed (tools/setup.sh installs nodejs and npm)"
echo "node $(node --version), npm $(npm --version)"
# Install into a temporary copy: the source tree stays clean and parallel
# ctest runs cannot race on one node_modules.
cp "$src/tools/peers/package.json" "$src/tools/peers/package-lock.json" "$src/tools/peers/conformance.mjs" "$work/"
if ! (cd "$work" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
  cat "$work/npm.log"
  fail "npm ci could not install the vendor SDKs (log above)"
fi
(cd "$work" && node -e 'for (const p of ["openai", "@anthropic-ai/sdk", "@google/genai"])
  console.log(p, JSON.parse(require("fs").readFileSync(`node_modules/${p}/package.json`)).version)')

"$mock" --scenario "$scenario" --port-file "$work/port" >"$work/mock.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
test -s "$work/port" || { cat "$work/mock.log"; fail "the mock did not start"; }
port=$(cat "$work/port")

rc=0
(cd "$work" && node conformance.mjs "http://127.0.0.1:$port" "$scenario") || rc=$?
kill -TERM "$pid"
mock_rc=0
wait "$pid" || mock_rc=$?
pid=""
cat "$work/mock.log"
test "$rc" -eq 0 || fail "the SDKs disagree with the mock (see FAIL lines above)"
test "$mock_rc" -eq 0 || fail "the mock exited with $mock_rc on SIGTERM"
echo "mock_llm_conformance: ok"
