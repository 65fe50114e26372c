#!/bin/bash
# README command (1): set up, build, run the main job offline on the
# embedded scripted provider.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
exec build/apps/agentgraph run --config configs/examples/research.ini \
  --task "How many widgets fit in the crate? Use the spec file."
