#!/usr/bin/env bash
# The cluster's code runs in virtual time in the simulation (issue 15), so it
# takes time only from CAF's clock and reaches the network only through the
# middleman's actor interface (net/cluster/DESIGN.md §3). This fails when a
# file under the cluster folders reads a system clock, sleeps, starts a
# thread, or uses one of the middleman's blocking calls. Comment lines are
# not checked. First it proves it can fail, on a planted file.
# Usage: cluster_virtual_time.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: cluster_virtual_time.sh SOURCE_DIR}

forbidden='steady_clock::now|system_clock::now|high_resolution_clock::now|sleep_for|sleep_until|std::thread|std::jthread|std::async|middleman\(\)\.(remote_actor|connect|publish|spawn_client)|openssl::(remote_actor|publish)|usleep|nanosleep'

# Prints offending lines of the C++ files under the given folders.
scan() {
  local out=""
  for dir in "$@"; do
    [[ -d "$dir" ]] || continue
    while IFS= read -r -d '' f; do
      # Drop // comments (whole-line and trailing) before matching.
      hits=$(sed -e 's#//.*$##' "$f" | grep -nE "$forbidden" || true)
      [[ -n "$hits" ]] && out+="$f: $hits"$'\n'
    done < <(find "$dir" -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0)
  done
  printf '%s' "$out"
}

# The check must be able to fail.
plant=$(mktemp -d)
trap 'rm -rf "$plant"' EXIT
printf '// steady_clock::now in a comment is fine\nauto t = std::chrono::steady_clock::now();\n' \
  >"$plant/planted.cpp"
if [[ -z "$(scan "$plant")" ]]; then
  echo "cluster_virtual_time: the check missed a planted steady_clock::now" >&2
  exit 1
fi
printf '// only a comment: std::thread t;\nint x = 0;  // sleep_for(1s) in a trailing comment\n' \
  >"$plant/planted.cpp"
if [[ -n "$(scan "$plant")" ]]; then
  echo "cluster_virtual_time: the check flagged comments" >&2
  exit 1
fi

dirs=("$src/runtime/cluster" "$src/net/cluster" "$src/actors/host/cluster" "$src/actors/sim")
found=0
for d in "${dirs[@]}"; do [[ -d "$d" ]] && found=1; done
if [[ $found -eq 0 ]]; then
  echo "cluster_virtual_time: none of the cluster folders exists under $src" >&2
  exit 1
fi
hits=$(scan "${dirs[@]}")
if [[ -n "$hits" ]]; then
  echo "cluster_virtual_time: the cluster code must take time from CAF's clock and the network" >&2
  echo "from the middleman's actor interface; found:" >&2
  printf '%s' "$hits" >&2
  exit 1
fi
echo "cluster_virtual_time: ok"
