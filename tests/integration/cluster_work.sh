# Sourced by the cluster integration tests: a scratch directory in $work,
# and an EXIT trap that SIGCONTs and kill -9's every pid the test's nodes
# appended to $work/pids (tests/integration/cluster_procs.py), so no node
# outlives its test, frozen or not, then removes the directory.
work="$(mktemp -d)"
cluster_cleanup() {
  if [[ -f "$work/pids" ]]; then
    while read -r p; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done <"$work/pids"
  fi
  rm -rf "$work"
}
trap cluster_cleanup EXIT
