#!/bin/bash
# README command (2): set up, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
