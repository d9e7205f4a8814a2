#!/usr/bin/env bash
# fragscope lab without booting anything: usage errors, clear messages when a tool or a package
# is missing, lab compare on traces of known difference. Seconds.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FRAGSCOPE_LAB_DIR="$ROOT/tests/lab"

expect_rc 2 "$FRAGSCOPE" lab
grep -q 'missing subcommand' "$TMP/err" || fail "no 'missing subcommand' message"
expect_rc 2 "$FRAGSCOPE" lab boot
expect_rc 2 "$FRAGSCOPE" lab run -o x.fst
grep -q -- '--kernel is required' "$TMP/err" || fail "no message about --kernel"
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --mem 12 -o x.fst
grep -q "bad --mem '12'" "$TMP/err" || fail "no message about --mem"
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --compaction maybe -o x.fst
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --capture perf -o x.fst
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12
grep -q -- '-o OUT.fst is required' "$TMP/err" || fail "no message about -o"
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --workload 'frag ment' -o x.fst

# options are checked before anything is built, downloaded or booted: a PATH with no make, qemu
# or apt in it shows that nothing else ran (and no network is touched)
nopath() { env PATH=/nonexistent "$@"; }
expect_rc 2 nopath "$FRAGSCOPE" lab run --kernel 5.10 --cache "$TMP/cache" -o "$TMP/x.fst"
grep -q "bad --kernel '5.10': 6.1, 6.12 or an existing linux-image .deb file" "$TMP/err" || { cat "$TMP/err"; fail "no message for an unknown kernel series"; }
[ "$(wc -l < "$TMP/err")" -le 4 ] || { cat "$TMP/err"; fail "more than the error and the usage for --kernel 5.10"; }
[ ! -e "$TMP/cache" ] || fail "the cache was created for a refused --kernel"
expect_rc 2 nopath "$FRAGSCOPE" lab run --kernel "$TMP/missing.deb" -o "$TMP/x.fst"
grep -q "bad --kernel '$TMP/missing.deb'" "$TMP/err" || { cat "$TMP/err"; fail "no message for a missing .deb"; }
# the workload name is checked on the host (the binary knows the list), not in the guest
expect_rc 2 nopath "$FRAGSCOPE" lab run --kernel 6.12 --workload nonesuch -o "$TMP/x.fst"
grep -q "unknown workload 'nonesuch'" "$TMP/err" || { cat "$TMP/err"; fail "no message for an unknown workload"; }
expect_rc 2 nopath "$FRAGSCOPE" lab run --kernel 6.12 --static "$TMP/missing" -o "$TMP/x.fst"
grep -q "bad --static" "$TMP/err" || { cat "$TMP/err"; fail "no message for a missing --static"; }
[ ! -e "$TMP/x.fst" ] || fail "a trace was written although nothing ran"
# getopt's own messages are replaced by one line naming the option
expect_rc 2 "$FRAGSCOPE" lab run -Z
grep -q "^fragscope lab: unknown option '-Z'$" "$TMP/err" || { cat "$TMP/err"; fail "no one-line message for -Z"; }
grep -q "invalid option" "$TMP/err" && fail "getopt's own message is still printed"
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --mem
grep -q "^fragscope lab: option '--mem' needs a value$" "$TMP/err" || { cat "$TMP/err"; fail "no one-line message for --mem without a value"; }
expect_rc 2 "$FRAGSCOPE" lab run --kernel 6.12 --deterministic=yes -o x.fst
grep -q "option '--deterministic' takes no value" "$TMP/err" || { cat "$TMP/err"; fail "no message for --deterministic=yes"; }

# a missing qemu is named, with the package that provides it
expect_rc 1 "$FRAGSCOPE" lab run --kernel 6.12 --qemu /nonexistent/qemu-system-x86_64 -o "$TMP/x.fst"
grep -q "apt-get install qemu-system-x86" "$TMP/err" || { cat "$TMP/err"; fail "no hint to install qemu"; }
[ ! -e "$TMP/x.fst" ] || fail "a trace was written although nothing ran"

# a .deb that is not a kernel package, and a file that is not a .deb, are refused by name
if command -v qemu-system-x86_64 >/dev/null && command -v busybox >/dev/null && [ -x "$ROOT/fragscope-static" ]; then
  echo "not a package" > "$TMP/fake.deb"
  expect_rc 1 "$FRAGSCOPE" lab run --kernel "$TMP/fake.deb" --static "$ROOT/fragscope-static" --cache "$TMP/cache" -o "$TMP/x.fst"
  grep -q "is not a Debian package" "$TMP/err" || { cat "$TMP/err"; fail "no message for a non-package"; }
  # a non-static binary for the guest is refused before anything boots
  expect_rc 1 "$FRAGSCOPE" lab run --kernel 6.12 --static /bin/ls --cache "$TMP/cache" -o "$TMP/x.fst"
  grep -q "not a statically linked executable" "$TMP/err" || { cat "$TMP/err"; fail "a dynamic guest binary was accepted"; }
fi

# lab compare: a golden lab capture against itself pairs everything; against another run it does not
g=$(ls "$ROOT"/traces/golden/lab-6.12-256M-fragment.fst 2>/dev/null)
if [ -n "$g" ]; then
  expect_rc 0 "$FRAGSCOPE" lab compare "$g" "$g"
  grep -q '0 only in A, 0 only in B (identical streams)' "$TMP/out" || { cat "$TMP/out"; fail "a capture differs from itself"; }
  expect_rc 1 "$FRAGSCOPE" lab compare "$g" "$ROOT/traces/golden/lab-6.12-256M-thp.fst"
  expect_rc 2 "$FRAGSCOPE" lab compare "$g"
  expect_rc 1 "$FRAGSCOPE" lab compare "$g" "$TMP/missing.fst"
fi
echo "ok: lab command line"
