#!/bin/bash
# Installs agentgraph into a temporary prefix and builds the example app
# against it with find_package(agentgraph), then runs it.
set -euo pipefail
build="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/example_app" -B "$work/app" -G Ninja -DCMAKE_CXX_FLAGS=-O1 \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/app" -j2 >/dev/null
"$work/app/example_app" "$src/tests/example_app/calc.rules.json"
echo "example_app: ok"
