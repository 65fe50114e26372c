#!/bin/bash
# Fails when agentgraph_runtime picks up a storage dependency again (issue
# 10, part 4): the PostgreSQL, Redis and SQLite clients belong to
# agentgraph_storage (runtime/CMakeLists.txt). Three checks, each of which
# fails on its own kind of regression:
#   1. the probe, linked with agentgraph_runtime alone and with
#      --no-as-needed (so every shared library on its link line is recorded,
#      used or not), has no libpq, libpqxx, libhiredis or libsqlite3 in its
#      NEEDED entries: catches the client coming back through
#      target_link_libraries, directly or through another target;
#   2. no object in libagentgraph_runtime.a refers to a client symbol
#      (sqlite3_*, PQ*, pqxx::, redis*): catches a storage .cpp moving back
#      into the runtime glob, or runtime code calling a client;
#   3. no object in libagentgraph_runtime.a refers to a symbol that only
#      libagentgraph_storage.a defines: runtime would then need storage to
#      link, and the dependency would point the wrong way.
# The probe must also run: it round-trips a Value.
set -euo pipefail
probe="$1"; runtime_a="$2"; storage_a="$3"
fail() { echo "runtime_link_weight: FAIL: $*" >&2; exit 1; }
clients='lib(pq|pqxx[^ ]*|hiredis|sqlite3)\.so'

"$probe" >/dev/null || fail "the probe did not run"

needed=$(readelf -d "$probe" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $5); print $5}')
[ -n "$needed" ] || fail "readelf found no NEEDED entries in $probe (cannot check)"
bad=$(grep -E "^$clients" <<<"$needed" || true)
if [ -n "$bad" ]; then
  fail "a program linked with agentgraph_runtime alone needs: $(tr '\n' ' ' <<<"$bad")"
fi

undefined=$(nm -u --format=just-symbols "$runtime_a" 2>/dev/null | sort -u)
[ -n "$undefined" ] || fail "nm found no undefined symbols in $runtime_a (cannot check)"
bad=$(grep -E '^(sqlite3_|PQ[a-z]|_ZN4pqxx|_ZNK4pqxx|redis)' <<<"$undefined" || true)
if [ -n "$bad" ]; then
  fail "libagentgraph_runtime.a calls a storage client: $(head -n 5 <<<"$bad" | tr '\n' ' ')"
fi

# Strong definitions only (T, D, B, R): inline functions and template
# instances are weak (W, V, u) and defined wherever they are used.
storage_defined=$(nm -g --defined-only "$storage_a" 2>/dev/null \
  | awk 'NF == 3 && $2 ~ /^[TDBR]$/ {print $3}' | sort -u)
[ -n "$storage_defined" ] || fail "nm found no definitions in $storage_a (cannot check)"
bad=$(comm -12 <(echo "$undefined") <(echo "$storage_defined"))
if [ -n "$bad" ]; then
  fail "libagentgraph_runtime.a needs libagentgraph_storage.a for: $(head -n 5 <<<"$bad" | c++filt | tr '\n' ';')"
fi
echo "runtime_link_weight: ok ($(wc -l <<<"$needed") shared libraries, none a storage client)"
