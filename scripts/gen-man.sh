#!/usr/bin/env bash
# Generates man pages from the command table (the same text as `fragscope help CMD`),
# and fragscope-trace(5) from traces/FORMAT.md when it exists.
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
ver=$("$bin" --version | awk '{print $2}')
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"; }
cmds=$("$bin" --help | awk '/^Commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{exit}' | grep -v '^help$')
{
  echo ".TH FRAGSCOPE 1 \"\" \"fragscope $ver\" \"fragscope manual\""
  echo ".SH NAME"; echo "fragscope \\- record, replay and explain the Linux page allocator"
  echo ".SH SYNOPSIS"; echo ".nf"; "$bin" --help | sed -n '1p' | sed 's/^usage: //' | esc; echo ".fi"
  echo ".SH COMMANDS"
  for c in $cmds; do
    echo ".TP"; echo "\\fBfragscope-$c\\fR(1)"
    "$bin" --help | awk -v c="$c" '$1==c {$1=""; sub(/^ +/,""); print}' | esc
  done
  echo ".SH SEE ALSO"; echo "fragscope-trace(5)"
} > "$out/fragscope.1"
readme="$(dirname "$0")/../README.md"
# The OVERHEAD section of record(1): README.md's **OVERHEAD** paragraph and table under
# "### record", the measured text itself, taken at build time. Paragraphs become .PP, the
# markdown table a tbl(1) table, `code` bold.
overhead() {
  [ -f "$readme" ] || return 0
  awk '/^### /{f=($2=="record")} f&&/^\*\*OVERHEAD\*\*/{o=1} f&&o' "$readme" | esc |
    sed -e 's/^\*\*OVERHEAD\*\* *//' -e 's/`\([^`]*\)`/\\fB\1\\fR/g' |
    awk '
      /^\|---/ { next }
      /^\|/ {
        sub(/^\| */, ""); sub(/ *\|$/, ""); gsub(/ *\| */, "|")
        if (!t) {
          n = split($0, cols, "|"); fmt = "l"
          for (i = 2; i <= n; i++) fmt = fmt " l"
          print ".TS"; print "allbox tab(|);"; print fmt "."; t = 1
        }
        print; next
      }
      t { print ".TE"; t = 0 }
      /^$/ { p = 0; next }
      !p { print ".PP"; p = 1 }
      { print }
      END { if (t) print ".TE" }'
}
for c in $cmds; do
  help=$("$bin" help "$c")
  ov=""
  [ "$c" = record ] && ov=$(overhead)
  {
    [ -z "$ov" ] || echo "'\\\" t"
    echo ".TH FRAGSCOPE-${c^^} 1 \"\" \"fragscope $ver\" \"fragscope manual\""
    echo ".SH NAME"; echo "fragscope-$c \\- $(echo "$help" | sed -n '/^$/{n;p;q}')"
    echo ".SH SYNOPSIS"; echo ".nf"; echo "$help" | grep -E '^(usage:|   or:)' | sed -E 's/^(usage:|   or:) //' | esc; echo ".fi"
    echo ".SH DESCRIPTION"; echo ".nf"
    echo "$help" | awk 'NR>1 && !/^(usage:|   or:)/' | sed '1{/^$/d}' | esc
    echo ".fi"
    [ -z "$ov" ] || { echo ".SH OVERHEAD"; echo "$ov"; }
    echo ".SH SEE ALSO"; echo "fragscope(1)"
  } > "$out/fragscope-$c.1"
done
if [ -f traces/FORMAT.md ]; then
  {
    echo ".TH FRAGSCOPE-TRACE 5 \"\" \"fragscope $ver\" \"fragscope manual\""
    echo ".SH NAME"; echo "fragscope-trace \\- the fragscope trace file format (.fst)"
    echo ".SH DESCRIPTION"; echo ".nf"; esc < traces/FORMAT.md; echo ".fi"
  } > "$out/fragscope-trace.5"
fi
