#!/usr/bin/env bash
# The man pages from scripts/gen-man.sh: one per command, and record's OVERHEAD section is
# README.md's measured **OVERHEAD** text (paragraphs and table) under "### record". Seconds.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
bash "$ROOT/scripts/gen-man.sh" "$FRAGSCOPE" "$TMP/man" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; fail "gen-man.sh failed"; }
for c in record replay lab workload; do
  [ -s "$TMP/man/fragscope-$c.1" ] || fail "no man page for $c"
done
page="$TMP/man/fragscope-record.1"
grep -q '^\.SH OVERHEAD$' "$page" || fail "fragscope-record.1 has no OVERHEAD section"
grep -q '^\.SH OVERHEAD$' "$TMP/man/fragscope-replay.1" && fail "an OVERHEAD section outside record"
# every figure row of the README's table is in the page, and the closing paragraph too
rows=$(awk '/^### /{f=($2=="record")} f&&/^\*\*OVERHEAD\*\*/{o=1} f&&o&&/^\| /' "$ROOT/README.md" | grep -vc '^|---')
[ "$rows" -ge 2 ] || fail "README.md has no OVERHEAD table under ### record"
got=$(sed -n '/^\.TS/,/^\.TE/p' "$page" | grep -c '|')
[ "$got" = "$((rows + 1))" ] || fail "the OVERHEAD table has $((got - 1)) rows (with the tab line), README $rows"
last=$(awk '/^### /{f=($2=="record")} f&&/^\*\*OVERHEAD\*\*/{o=1} f&&o&&NF{l=$0} END{print l}' "$ROOT/README.md")
grep -qF -- "$last" "$page" || fail "the OVERHEAD section lacks README's last line '$last'"
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$page" >"$TMP/record.txt" 2>"$TMP/man.err" || { cat "$TMP/man.err"; fail "man -l fragscope-record.1 failed"; }
  grep -q '^OVERHEAD' "$TMP/record.txt" || fail "man shows no OVERHEAD section"
  grep -q 'fragscope record --no-rescue' "$TMP/record.txt" || fail "man shows no OVERHEAD table"
fi
echo "ok: man pages, record's OVERHEAD section from README.md ($rows table rows)"
