# Sourced by the CLI integration tests: `expect CODE PATTERN -- command...`
# runs the command and counts it in $fails unless it exits CODE and its
# output (stdout and stderr) matches the extended regex PATTERN. Needs $work
# (a scratch directory) and $fails (0 at the start).
expect() {
  local code="$1" pattern="$2"; shift 3
  "$@" >"$work/out" 2>&1; local rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qE -- "$pattern" "$work/out"; then
    echo "FAIL: $* -> rc=$rc (want $code), output:"; cat "$work/out"; fails=$((fails + 1))
  else
    echo "ok: $*"
  fi
}
