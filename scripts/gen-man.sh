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
for c in $cmds; do
  help=$("$bin" help "$c")
  {
    echo ".TH FRAGSCOPE-${c^^} 1 \"\" \"fragscope $ver\" \"fragscope manual\""
    echo ".SH NAME"; echo "fragscope-$c \\- $(echo "$help" | sed -n '/^$/{n;p;q}')"
    echo ".SH SYNOPSIS"; echo ".nf"; echo "$help" | grep -E '^(usage:|   or:)' | sed -E 's/^(usage:|   or:) //' | esc; echo ".fi"
    echo ".SH DESCRIPTION"; echo ".nf"
    echo "$help" | awk 'NR>1 && !/^(usage:|   or:)/' | sed '1{/^$/d}' | esc
    echo ".fi"
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
