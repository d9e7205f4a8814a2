#!/usr/bin/env bash
# Runs every test: the cmocka unit binaries given as arguments, then the script tests in
# tests/e2e/ and tests/golden/ (exit 0 = pass, 77 = skip with a reason on stdout, else fail).
# Prints one closing line: "N passed, N failed, N skipped".
# FRAGSCOPE names the binary under test; TESTS=pattern runs only matching tests.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FRAGSCOPE:?FRAGSCOPE must name the fragscope binary}"
export FRAGSCOPE FRAGSCOPE_OUTPUT
export FRAGSCOPE_TMP="${FRAGSCOPE_OUTPUT:-.output}/test-tmp"
rm -rf "$FRAGSCOPE_TMP"; mkdir -p "$FRAGSCOPE_TMP"
pattern="${TESTS:-}"
passed=0 failed=0 skipped=0
failures=()

for bin in "$@"; do
  name=$(basename "$bin")
  [ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
  log="$FRAGSCOPE_TMP/$name.log"
  "$bin" >"$log" 2>&1; rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi	# crashed or exited early
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [ "$f" -gt 0 ]; then
    failures+=("$name"); echo "FAIL $name"; sed 's/^/    /' "$log" | tail -40
  else
    why=""
    if [ "$s" -gt 0 ]; then
      # the tests' own "SKIP: reason" lines, else the names cmocka lists as skipped
      why=$(grep -h 'SKIP:' "$log" | sort -u | head -3 | tr '\n' ' ')
      [ -n "$why" ] || why="$(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' "$log" | sort -u | head -6 | tr '\n' ' ')(no reason printed; see $log)"
      why=", $s skipped: $why"
    fi
    printf 'ok   %-28s %s passed%s\n' "$name" "$p" "$why"
  fi
done

for t in tests/e2e/*.sh tests/golden/*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  [ "$name" = lib ] && continue
  [ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
  log="$FRAGSCOPE_TMP/$name.log"
  start=$(date +%s)
  bash "$t" >"$log" 2>&1; rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); printf 'ok   %-28s (%ss)\n' "$name" "$secs"
  elif [ $rc -eq 77 ]; then
    skipped=$((skipped + 1)); printf 'skip %-28s %s\n' "$name" "$(grep -h 'SKIP' "$log" | head -1)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$log" | tail -40
  fi
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
