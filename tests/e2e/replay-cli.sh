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
grep -q "fragscope record' or 'fragscope lab run'" "$TMP/err" || fail "no way to a replayable trace named"
grep -q "import with a snapshot" "$TMP/err" && fail "suggests an import, which cannot give a start snapshot"
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
# two profiles in simulate mode compare the two simulations allocation by allocation
FRAG=$ROOT/traces/golden/lab-6.12-256M-fragment.fst
expect_rc 1 "$FRAGSCOPE" diff "$FRAG" --mode simulate --profile linux-6.1 --profile linux-6.12
grep -q "^first divergence at event #" "$TMP/out" || fail "simulate diff: no first divergence"
grep -q "no divergence" "$TMP/out" && fail "simulate diff: claims agreement"
n=$(sed -n 's/^allocations compared \([0-9]*\):.*/\1/p' "$TMP/out")
[ -n "$n" ] && [ "$n" -gt 1000 ] || fail "simulate diff compared '$n' allocations"
grep -q "^fallbacks (claims and steals): linux-6.1 [0-9]*, linux-6.12 [0-9]*" "$TMP/out" || fail "simulate diff: no fallback counts"
expect_rc 0 "$FRAGSCOPE" diff "$FRAG" --mode simulate --profile linux-6.12 --profile linux-6.12
grep -q "^allocations compared $n: same placement $n, same decision $n" "$TMP/out" || fail "a profile differs from itself"
expect_rc 2 "$FRAGSCOPE" diff "$LAB" "$LAB" "$LAB"
# numeric options are checked; unknown options and missing values are named in one line
for args in "replay --until abc" "replay --until -1" "replay --check-every abc" "replay -v --max-log -3" \
	    "stat --samples -1" "stat --callers abc" "stat --callers 0"; do
	expect_rc 2 "$FRAGSCOPE" $args "$LAB"
	grep -q "option '--[a-z-]*' wants a whole number" "$TMP/err" || fail "$args: no message naming the option"
done
for cmd in replay stat diff; do
	expect_rc 2 "$FRAGSCOPE" $cmd "$LAB" -Z
	[ "$(head -1 "$TMP/err")" = "fragscope $cmd: unknown option '-Z'" ] || fail "$cmd -Z: $(head -1 "$TMP/err")"
	expect_rc 2 "$FRAGSCOPE" $cmd "$LAB" --frob=1
	[ "$(head -1 "$TMP/err")" = "fragscope $cmd: unknown option '--frob'" ] || fail "$cmd --frob: $(head -1 "$TMP/err")"
	expect_rc 2 "$FRAGSCOPE" $cmd "$LAB" --profile
	[ "$(head -1 "$TMP/err")" = "fragscope $cmd: option '--profile' needs a value" ] || fail "$cmd --profile: $(head -1 "$TMP/err")"
	grep -q "invalid option\|unrecognized option\|requires an argument" "$TMP/err" && fail "$cmd: getopt's own message"
	expect_rc 2 "$FRAGSCOPE" $cmd "$LAB" --profile linux-5.4
	grep -q "unknown profile 'linux-5.4' (known: linux-6.1" "$TMP/err" || fail "$cmd: unknown profile not listed"
done
expect_rc 2 "$FRAGSCOPE" replay "$LAB" --json=1
grep -q "option '--json' takes no value" "$TMP/err" || fail "--json=1 not named"
# a damaged trace: the reader's message names the file once
cp "$LAB" "$TMP/corrupt.fst"
printf '\377%.0s' $(seq 64) | dd of="$TMP/corrupt.fst" bs=1 seek=27865 conv=notrunc 2>/dev/null
for cmd in replay stat diff; do
	"$FRAGSCOPE" $cmd "$TMP/corrupt.fst" >/dev/null 2>"$TMP/err" && fail "$cmd: a damaged trace passed"
	[ "$(grep -o "'$TMP/corrupt.fst'" "$TMP/err" | wc -l)" = 1 ] || fail "$cmd: file named $(grep -o "'$TMP/corrupt.fst'" "$TMP/err" | wc -l) times: $(cat "$TMP/err")"
done
# a resync the model raised no error for prints no empty ": " tail
expect_rc 1 "$FRAGSCOPE" diff "$ROOT/traces/golden/fragment-6.18.fst"
grep -q "pcp page ahead of the allocated one (pfn 0x" "$TMP/out" || fail "diff: pcp_silent divergence not described"
grep -q ': $' "$TMP/out" && fail "diff: a line ends in an empty ': '"
exit 0
