#!/bin/bash
# Configures and builds agentgraph into build/ the way CI does: Ninja, -O1,
# unity batches of 4, ccache (see ../shared/toolchain.md §10 for the figures
# behind these choices). Extra arguments go to the CMake configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O1 \
      -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=4 "$@" >/dev/null
cmake --build build -j2
