#!/bin/bash
# README command (2): set up, build, start the test services (a throwaway
# PostgreSQL and Redis on 127.0.0.1, see tools/test-services.sh), run every
# test, stop the services.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
source tools/test-services.sh
test_services_start
ctest --test-dir build --output-on-failure -j2 --timeout 300
