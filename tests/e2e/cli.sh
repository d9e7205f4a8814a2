# The CLI: help from the command table, version, unknown commands, stubs.
. "$(dirname "$0")/lib.sh"

expect_rc 0 $FRAGSCOPE --help
for c in record import info stat replay diff view render export lab workload help; do
  grep -qE "^  $c " "$TMP/out" || fail "--help does not list '$c'"
done
expect_rc 0 $FRAGSCOPE help replay
grep -q '^usage: fragscope replay' "$TMP/out" || fail "help replay shows no usage"
expect_rc 0 $FRAGSCOPE replay --help
grep -q '^usage: fragscope replay' "$TMP/out" || fail "replay --help shows no usage"
expect_rc 0 $FRAGSCOPE --version
grep -qE '^fragscope [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]+|unknown\)' "$TMP/out" || fail "bad --version: $(cat $TMP/out)"
expect_rc 2 $FRAGSCOPE frobnicate
grep -q "'frobnicate' is not a fragscope command" "$TMP/err" || fail "no message for unknown command"
expect_rc 2 $FRAGSCOPE replya
grep -q 'replay' "$TMP/err" || fail "no 'did you mean replay' hint for 'replya'"
expect_rc 2 $FRAGSCOPE help frobnicate
expect_rc 2 $FRAGSCOPE
expect_rc 2 $FRAGSCOPE --bogus

# a command that is not implemented says so in --help and in the README's command table
$FRAGSCOPE --help > "$TMP/help"
readme="$(dirname "$0")/../../README.md"
for c in record import info stat replay diff view render export lab workload; do
  out=$($FRAGSCOPE "$c" --lab-stub-probe </dev/null 2>&1)
  [[ "$out" == *"not implemented"* ]] || continue
  grep -E "^  $c " "$TMP/help" | grep -q 'not implemented yet' || fail "--help describes '$c' as working, but it is not implemented"
  grep -E "^\| \`$c\` " "$readme" | grep -q 'not implemented yet' || fail "README's table describes '$c' as working, but it is not implemented"
done
exit 0
