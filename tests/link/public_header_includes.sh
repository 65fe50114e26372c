#!/bin/bash
# Guards the public embedding header (actors/host/agentgraph.hpp, issue 10
# part 4): it exports what an app needs and nothing private. Fails when
#   1. it pulls in more project headers than `max` (raise `max` in
#      tests/CMakeLists.txt only with the reason in the commit), or
#   2. any header it pulls in says in its opening comment that it is
#      private ("Private to ..."), or is one of the kinds that never belong
#      to the interface: actor state (*_state.hpp), implementation
#      (*_impl.hpp, *_detail.hpp, *_tables.hpp), or a storage client
#      (redis_cache, the SQLite/PostgreSQL stores, the multi-level cache).
# Usage: public_header_includes.sh CXX SOURCE_DIR MAX
set -euo pipefail
cxx="$1"; src="$2"; max="$3"
fail() { echo "public_header_includes: FAIL: $*" >&2; exit 1; }
cd "$src"
# -H prints every header opened, one per line, indented by depth.
trace=$(echo '#include "actors/host/agentgraph.hpp"' \
          | "$cxx" -std=c++20 -I. -x c++ - -fsyntax-only -H 2>&1 >/dev/null) \
  || fail "the public header does not compile on its own: $trace"
headers=$(grep -E '^\.+ (\./)?(actors|runtime|net)/' <<<"$trace" \
            | sed -E 's/^\.+ //; s#^\./##' | sort -u)
count=$(grep -c . <<<"$headers" || true)
[ "$count" -gt 5 ] || fail "found only $count project headers (cannot check)"
echo "public header pulls in $count project headers (max $max)"
[ "$count" -le "$max" ] || fail "$count project headers, more than $max:"$'\n'"$headers"
private_kind='(_state|_impl|_detail|_tables)\.hpp$|redis_cache|sqlite_|postgres_|multi_level_cache'
bad=$(grep -E "$private_kind" <<<"$headers" || true)
[ -z "$bad" ] || fail "private headers reached from the public one: $(tr '\n' ' ' <<<"$bad")"
while read -r h; do
  if head -n 6 "$h" | grep -q 'Private to'; then
    fail "$h says it is private, yet the public header includes it"
  fi
done <<<"$headers"
echo "ok"
