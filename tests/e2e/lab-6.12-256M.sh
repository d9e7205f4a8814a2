#!/usr/bin/env bash
# The kernel lab end to end on the smallest deterministic configuration: Debian's 6.12 kernel in
# qemu (TCG, -icount, fixed RTC), 256M, fragscope record around `fragscope workload fragment` in
# the guest. Two runs must give identical event streams; the capture must say how it was made
# and be readable (info; replay --json when replay is built).
# Needs qemu-system-x86 and busybox-static (scripts/deps.sh installs them) and apt access to the
# kernel package (bookworm-security); about 1-2 minutes.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FRAGSCOPE_LAB_DIR="$ROOT/tests/lab"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
command -v busybox >/dev/null || skip "busybox-static is not installed"
known=no
for try in 1 2 3; do	# apt-cache can fail for a moment while another apt run rebuilds its cache
  info=$(apt-cache show --no-all-versions linux-image-6.12-amd64 2>/dev/null)	# no grep -q in a pipe: SIGPIPE + pipefail
  [[ "$info" == *$'\nDepends: linux-image-6'* ]] && { known=yes; break; }
  sleep 3
done
[ $known = yes ] || skip "apt knows no linux-image-6.12-amd64 package (bookworm-security not configured?)"

# what this tree can do in the guest: record (collector) or the tracefs path (needs import)
stub() {	# stub CMD: true when this tree's fragscope CMD is not implemented yet
  local out; out=$("$FRAGSCOPE" "$1" --no-such-option-lab-probe </dev/null 2>&1 || true)
  [[ "$out" == *"not implemented"* ]]
}
capture=record
if stub record; then
  capture=tracefs
  stub import && skip "neither fragscope record nor fragscope import is built yet: nothing can capture in the guest"
fi
workload=fragment
stub workload && workload=sh-fill

STATIC=${FRAGSCOPE_STATIC_BIN:-$ROOT/fragscope-static}
if [ ! -x "$STATIC" ]; then
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory static >"$TMP/make-static.log" 2>&1 || { cat "$TMP/make-static.log"; fail "make static failed"; }
fi

run_lab() {	# run_lab NAME
  "$FRAGSCOPE" lab run --kernel 6.12 --mem 256M --deterministic --workload "$workload" --capture "$capture" \
    --static "$STATIC" --workdir "$TMP/wd-$1" --timeout 300 -o "$TMP/$1.fst" >"$TMP/$1.out" 2>"$TMP/$1.err"
  local rc=$?
  [ $rc = 0 ] || { cat "$TMP/$1.out" "$TMP/$1.err"; fail "fragscope lab run ($1) exited $rc"; }
  [ -s "$TMP/$1.fst" ] || fail "lab run ($1) wrote no trace"
  [ -s "$TMP/$1.fst.provenance" ] || fail "lab run ($1) wrote no provenance file"
}
run_lab a
run_lab b
cat "$TMP/a.out"

# the provenance names the kernel package, qemu, the workload and the compaction setting
for k in kernel.package: kernel.package_version: qemu.version: qemu.command: workload: compaction: date: fragscope.host:; do
  grep -q "^$k " "$TMP/a.fst.provenance" || fail "provenance lacks '$k'"
done
grep -q '^kernel.package: linux-image-6.12' "$TMP/a.fst.provenance" || fail "provenance names another kernel"
grep -q -- '-icount shift=0,sleep=off,align=off' "$TMP/a.fst.provenance" || fail "not a deterministic run"
grep -q '^compaction: off' "$TMP/a.fst.provenance" || fail "compaction not recorded as off"
grep -q 'release 6\.12\|6\.12\.' "$TMP/wd-a/out/uname.txt" || fail "the guest did not run 6.12: $(cat "$TMP/wd-a/out/uname.txt")"

# determinism: the two event streams are identical
if "$FRAGSCOPE" export "$TMP/a.fst" --format csv -o "$TMP/a.csv" 2>"$TMP/export.err"; then
  "$FRAGSCOPE" export "$TMP/b.fst" --format csv -o "$TMP/b.csv" || fail "export of b failed"
  n=$(wc -l < "$TMP/a.csv")
  [ "$n" -gt 1000 ] || fail "only $n exported lines: the workload made (almost) no events"
  cmp -s "$TMP/a.csv" "$TMP/b.csv" || { diff "$TMP/a.csv" "$TMP/b.csv" | head -5; fail "two deterministic runs differ"; }
  echo "deterministic: $n identical exported lines"
else
  grep -q 'not implemented' "$TMP/export.err" || { cat "$TMP/export.err"; fail "export failed"; }
  cmp -s "$TMP/a.fst" "$TMP/b.fst" || fail "two deterministic runs gave different trace files"
  echo "deterministic: identical trace files ($(wc -c < "$TMP/a.fst") bytes)"
fi

# the capture is a readable trace that says how it was made (lab.* header keys)
if ! "$FRAGSCOPE" info --json "$TMP/a.fst" >"$TMP/info.json" 2>"$TMP/info.err"; then
  grep -q 'not implemented' "$TMP/info.err" || { cat "$TMP/info.err"; fail "fragscope info failed on the capture"; }
else
  grep -q '"lab.compaction": *"off"' "$TMP/info.json" || { cat "$TMP/info.json"; fail "the trace header lacks lab.compaction=off"; }
  grep -q '"lab.kernel.package": *"linux-image-6.12' "$TMP/info.json" || fail "the trace header lacks lab.kernel.package"
  grep -q '"kernel_release": *"6.12' "$TMP/info.json" || fail "the trace is not from a 6.12 kernel"
fi
if "$FRAGSCOPE" replay --json "$TMP/a.fst" >"$TMP/replay.json" 2>"$TMP/replay.err"; then
  head -c 600 "$TMP/replay.json"; echo
  # follow mode on a compaction-quiet lab capture: the model should agree almost everywhere
  python3 - "$TMP/replay.json" <<'PY' || fail "replay of the lab capture is far from the kernel (see above)"
import json, sys
r = json.load(open(sys.argv[1]))
ok = r.get("invariants_ok") is True and r.get("decision_agreement", 0) >= 0.99 and r.get("placement_agreement", 0) >= 0.99
print("replay: decision %s placement %s invariants %s" % (r.get("decision_agreement"), r.get("placement_agreement"), r.get("invariants_ok")))
sys.exit(0 if ok else 1)
PY
elif ! grep -q 'not implemented' "$TMP/replay.err"; then
  cat "$TMP/replay.err"; fail "fragscope replay failed on the capture"
fi

# a workload that fails in the guest fails lab run: one line naming it and its status, the
# capture and its provenance kept for inspection (about 10 s: not deterministic, exits early)
if [ "$workload" = fragment ]; then
  "$FRAGSCOPE" lab run --kernel 6.12 --mem 256M --workload fragment --workload-args --no-such-option \
    --capture "$capture" --static "$STATIC" --workdir "$TMP/wd-bad" --timeout 300 -o "$TMP/bad.fst" >"$TMP/bad.out" 2>"$TMP/bad.err"
  rc=$?
  [ $rc = 1 ] || { cat "$TMP/bad.out" "$TMP/bad.err"; fail "lab run with a failing guest workload exited $rc, expected 1"; }
  grep -q "^fragscope lab: the guest's .*fragment --no-such-option.* exited with status 2" "$TMP/bad.err" ||
    { cat "$TMP/bad.err"; fail "no error naming the failed guest workload and its status"; }
  grep -q "^failed: .*exited with status 2" "$TMP/bad.fst.provenance" || fail "the provenance does not say the capture failed"
  [ ! -s "$TMP/bad.out" ] || { cat "$TMP/bad.out"; fail "a failed lab run printed its success line"; }
  grep -q "work folder kept: $TMP/wd-bad" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "the failed run does not say where its work folder is"; }
fi
echo "ok: lab 6.12 256M deterministic, capture=$capture workload=$workload"
