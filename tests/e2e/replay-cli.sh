# replay, stat and diff on bad input and misuse: one-line errors naming the file, the right exit
# codes, no crash; a trace without a start snapshot still gets its event statistics.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NOSNAP=$ROOT/tests/data/traces/kmem-small.fst
LAB=$ROOT/traces/golden/lab-6.12-256M-thp.fst
expect_rc 2 "$FRAGSCOPE" replay
expect_rc 2 "$FRAGSCOPE" replay --mode bogus "$LAB"
expect_rc 2 "$FRAGSCOPE" replay --set pageblock_order=10 "$LAB"	# --set is for simulate
expect_rc 1 "$FRAGSCOPE" replay --mode simulate --set bogus=1 "$LAB"
grep -q "unknown setting 'bogus'" "$TMP/err" || fail "no message for an unknown setting"
expect_rc 1 "$FRAGSCOPE" replay "$TMP/none.fst"
grep -q "'$TMP/none.fst'" "$TMP/err" || fail "missing file not named"
expect_rc 1 "$FRAGSCOPE" replay "$NOSNAP"
grep -q "no start snapshot" "$TMP/err" || fail "no message for a trace without a snapshot"
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "more than one line of error"
expect_rc 0 "$FRAGSCOPE" stat "$NOSNAP"
grep -q "Total allocation requests" "$TMP/out" || fail "stat printed no summary"
grep -q "no start snapshot" "$TMP/out" || fail "stat does not say why the model part is missing"
# a truncated trace replays up to its last whole chunk and says so
head -c 20000 "$LAB" > "$TMP/trunc.fst"
expect_rc 0 "$FRAGSCOPE" replay "$TMP/trunc.fst"
grep -q "truncated" "$TMP/err" || fail "no warning for a truncated trace"
# options after the file (GNU permutation) and --until
expect_rc 0 "$FRAGSCOPE" replay "$LAB" --json --until 1000
grep -q '"mode":"follow"' "$TMP/out" || fail "--json after the file ignored"
# what-if: a larger pageblock order changes the simulated pageblock counts, not the crash rate
expect_rc 0 "$FRAGSCOPE" replay --mode simulate --set pageblock_order=10 --json "$LAB"
grep -q '"model_failed":0' "$TMP/out" || fail "simulate with pageblock_order=10 failed allocations"
# two profiles on one trace
expect_rc 0 "$FRAGSCOPE" diff "$LAB" --profile linux-6.12 --profile linux-6.18
grep -q "takes compared" "$TMP/out" || fail "diff of two profiles printed no comparison"
expect_rc 2 "$FRAGSCOPE" diff "$LAB" --profile linux-6.12 --profile nosuch
expect_rc 2 "$FRAGSCOPE" diff "$LAB" "$LAB" "$LAB"
exit 0
