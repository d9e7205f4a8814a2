# Sourced by script tests. FRAGSCOPE is the binary under test; FRAGSCOPE_TMP a scratch folder.
set -uo pipefail
: "${FRAGSCOPE:?}"
TMP=$(mktemp -d "${FRAGSCOPE_TMP:-/tmp}/$(basename "$0" .sh).XXXX")
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (${1:-CAP_BPF+CAP_PERFMON})"; }
# expect_rc RC CMD...: run CMD, check its exit code; output in $TMP/out, $TMP/err
expect_rc() {
  local want=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"; local got=$?
  [ "$got" = "$want" ] || { echo "--- stdout"; cat "$TMP/out"; echo "--- stderr"; cat "$TMP/err"; fail "'$*' exited $got, expected $want"; }
}
