# The trace-cmd pipeline, live: scripts/tracecmd-capture.sh runs `trace-cmd record -C mono` in the
# background, takes fragscope's start and end snapshots (`record --snapshot-only`) around a
# fragmenting workload and imports with --start-snapshot/--end-snapshot; the result must replay in
# follow mode as our own captures do (decision agreement >= 99%, pageblocks equal at the end).
# Then the refusals, each a one-line error naming the file: a snapshot taken before the capture,
# end before start, a 'local'-clock capture, another machine, another boot, a snapshot whose
# process is not in the capture, an imported trace as a snapshot, a text capture.
. "$(dirname "$0")/lib.sh"
[ -n "$TMP" ] && [ -d "$TMP" ] || fail "no scratch folder (FRAGSCOPE_TMP)"
need_root "trace-cmd and the BPF snapshot"
command -v trace-cmd >/dev/null || skip "trace-cmd is not installed"
TFS=/sys/kernel/tracing
[ -d $TFS/events ] || mount -t tracefs nodev $TFS 2>/dev/null || skip "tracefs cannot be mounted"
[ -d $TFS/events/kmem/mm_page_alloc ] || skip "no kmem tracepoints"
grep -qw mono $TFS/trace_clock || skip "no mono trace clock"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export FRAGSCOPE
# every trace-cmd here records in a tracefs instance of its own (-B): the top instance's
# settings stay as they were, and other tracers on this machine do not stop ours
INST=fragscope-test-$$
trap 'for i in $TFS/instances/$INST-*; do [ -d "$i" ] && rmdir "$i"; done' EXIT
CAP=$TMP/cap

# a snapshot taken before any capture: outside it
expect_rc 0 "$FRAGSCOPE" record --snapshot-only -o "$TMP/early.fst"
grep -q "start snapshot:" "$TMP/err" || fail "record --snapshot-only printed no snapshot summary"
expect_rc 0 "$FRAGSCOPE" info --json "$TMP/early.fst"
python3 - "$TMP/out" <<'PY' || fail "record --snapshot-only: no identity keys in the header"
import json, sys
kv = json.load(open(sys.argv[1]))["kv"]
assert kv["capture.snapshot_only"] == "1" and kv["capture.clock"] == "mono", kv
assert len(kv["capture.boot_id"]) > 8 and int(kv["capture.pid"]) > 0 and int(kv["capture.process_start_mono_ns"]) > 0, kv
PY
expect_rc 0 "$FRAGSCOPE" info "$TMP/early.fst"
grep -q "start  bpf-walk" "$TMP/out" || fail "no BPF-walk start snapshot in the --snapshot-only file"
grep -q "end    none" "$TMP/out" || fail "a --snapshot-only file with an end snapshot"
expect_rc 2 "$FRAGSCOPE" record --snapshot-only -o "$TMP/x.fst" -- true

# the pipeline; the workload also takes an uncompressed snapshot (A) for the forged cases below
WORK="'$FRAGSCOPE' record --snapshot-only --no-compress -o '$TMP/A.fst' 2>/dev/null &&
      '$FRAGSCOPE' workload fragment --mem 64M --pipes 128M --duration 10 -q"
ok=
# twice at most: trace-cmd gives up when /proc/kallsyms changes size under it (a BPF program
# loaded elsewhere), and another trace-cmd on this shared machine can stop the top instance's
# tracing under ours
for try in 1 2; do
  rm -rf "$CAP"
  if timeout 300 "$ROOT/scripts/tracecmd-capture.sh" -k "$CAP" -o "$TMP/imp.fst" -- sh -c "$WORK" \
     >"$TMP/cap.out" 2>"$TMP/cap.err"; then ok=1; break; fi
  cat "$TMP/cap.err"
done
[ -n "$ok" ] || { cat "$TMP/cap.out" "$TMP/cap.err" "$CAP/trace-cmd.log"; fail "tracecmd-capture.sh failed"; }
grep -q "^start snapshot from '.*start.fst': before event [0-9]" "$TMP/cap.out" || { cat "$TMP/cap.out"; fail "import did not place the start snapshot"; }
grep -q "^end snapshot from '.*end.fst': before event [0-9]" "$TMP/cap.out" || fail "import did not place the end snapshot"
expect_rc 0 "$FRAGSCOPE" info "$TMP/imp.fst"
grep -q "capture:    import-trace-cmd" "$TMP/out" || fail "info: not an import"
grep -q "header:     snapshot file '.*start.fst'" "$TMP/out" || fail "info: header not from the snapshot file"
grep -q "start  bpf-walk" "$TMP/out" && grep -q "end    bpf-walk" "$TMP/out" || fail "info: snapshots missing"
expect_rc 0 "$FRAGSCOPE" info --json "$TMP/imp.fst"
python3 -c 'import json,sys; kv=json.load(open(sys.argv[1]))["kv"]; assert kv["import.buffer"].startswith("fragscope-capture-") and kv["capture.clock"] == "mono", kv' "$TMP/out" ||
  fail "the import does not say it read the capture's tracefs instance with the mono clock"

expect_rc 0 "$FRAGSCOPE" replay --json "$TMP/imp.fst"
cp "$TMP/out" "$TMP/replay.json"
python3 - "$TMP/replay.json" <<'PY' || { cat "$TMP/replay.json"; fail "the imported capture does not replay like our own"; }
import json, sys
r = json.load(open(sys.argv[1]))
print("takes %d decision %.4f placement %.4f resyncs %s end %s" % (r["takes"], r["decision_agreement"],
      r["placement_agreement"], r["resyncs"], r["end_state"]))
assert r["mode"] == "follow" and r["takes"] > 2000, r	# 7998 under make check's ASan build
assert r["decision_agreement"] >= 0.99, "decision agreement %.4f" % r["decision_agreement"]
# placement depends on the run (other jobs share the traced machine; 99.83% to 100% over 20
# captures, README import): the side-by-side run below checks it against record's for the same events
assert 0 < r["placement_agreement"] <= 1, r
# the whole machine is traced: other jobs' allocations, and under ASan a slow end walk (more
# events inside it), cost some end-state agreement (98.4% measured so); placement itself is
# checked against record below
assert r["end_state"]["pageblocks_equal"] >= 0.95, r["end_state"]
res = r["resyncs"]
assert isinstance(res, dict) and all(isinstance(v, int) for v in res.values()), res
assert sum(res.values()) < 0.01 * r["events"], "resyncs %d of %d events" % (sum(res.values()), r["events"])
PY

# side by side: fragscope record and trace-cmd -C mono record one workload at once; the trace.dat
# imported with record's own snapshots must replay as the recording does
TCDIR=$TMP/both
mkdir -p "$TCDIR"
EV=""
for e in mm_page_alloc mm_page_alloc_zone_locked mm_page_free mm_page_free_batched mm_page_pcpu_drain mm_page_alloc_extfrag; do
  EV="$EV -e kmem:$e"
done
for try in 1 2; do	# see the note above
  rm -f "$TCDIR"/trace.dat*
  I=$TFS/instances/$INST-both-$try
  ( cd "$TCDIR" && exec trace-cmd record -d --no-filter -B "${I##*/}" -C mono -b 16384 $EV -o "$TCDIR/trace.dat" ) >"$TCDIR/log" 2>&1 &
  tc=$!
  for _ in $(seq 300); do
    compgen -G "$TCDIR/trace.dat*.cpu0" >/dev/null && [ -d "$I" ] && [ "$(cat $I/tracing_on)" = 1 ] &&
      grep -q '\[mono\]' $I/trace_clock && [ "$(cat $I/events/kmem/mm_page_alloc_extfrag/enable)" = 1 ] && break
    sleep 0.1
  done
  sleep 0.2
  "$FRAGSCOPE" record -o "$TMP/rec.fst" -- "$FRAGSCOPE" workload fragment --mem 64M --pipes 128M --duration 10 -q \
    >"$TMP/rec.out" 2>"$TMP/rec.err"
  rrc=$?
  sleep 1	# record's BPF programs are freed: /proc/kallsyms settles before trace-cmd reads it
  kill -INT $tc; wait $tc
  [ $rrc = 0 ] || { cat "$TMP/rec.err"; fail "fragscope record failed"; }
  [ -s "$TCDIR/trace.dat" ] && break
done
[ -s "$TCDIR/trace.dat" ] || { cat "$TCDIR/log"; fail "trace-cmd wrote no trace.dat"; }
expect_rc 0 "$FRAGSCOPE" import "$TCDIR/trace.dat" --start-snapshot "$TMP/rec.fst" --end-snapshot "$TMP/rec.fst" -o "$TMP/both.fst"
# up to the end snapshot: trace-cmd went on for a second after it (other tasks' events)
endseq() { "$FRAGSCOPE" info --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"]["end"]["event_seq"])'; }
expect_rc 0 "$FRAGSCOPE" replay --json --until "$(endseq "$TMP/rec.fst")" "$TMP/rec.fst"
cp "$TMP/out" "$TMP/rec.json"
expect_rc 0 "$FRAGSCOPE" replay --json --until "$(endseq "$TMP/both.fst")" "$TMP/both.fst"
python3 - "$TMP/rec.json" "$TMP/out" <<'PY' || fail "the import does not replay as the recording of the same run"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("record: takes %d decision %.6f placement %.6f; import: takes %d decision %.6f placement %.6f" % (
      a["takes"], a["decision_agreement"], a["placement_agreement"], b["takes"], b["decision_agreement"], b["placement_agreement"]))
assert a["takes"] > 1000 and abs(a["takes"] - b["takes"]) <= 0.001 * a["takes"], "takes differ"
assert abs(a["decision_agreement"] - b["decision_agreement"]) <= 0.001, "decision differs"
assert abs(a["placement_agreement"] - b["placement_agreement"]) <= 0.002, "placement differs"
assert b["decision_agreement"] >= 0.99, b
PY
# ... and each snapshot is placed where record's markers put it: the (up to) 64 events after each cut
# are the same kernel events in both (cpu, tracepoint, pfn, order)
python3 - "$FRAGSCOPE" "$TMP/rec.fst" "$TMP/both.fst" <<'PY' || fail "import placed a snapshot elsewhere than record did"
import json, subprocess, sys
F, rec, imp = sys.argv[1:4]
def cuts(f):
    s = json.loads(subprocess.run([F, "info", "--json", f], capture_output=True, check=True).stdout)["snapshots"]
    return s["start"]["event_seq"], s["end"]["event_seq"]
def windows(f, n=64):
    seqs = cuts(f)
    out = {c: [] for c in seqs}
    p = subprocess.Popen([F, "export", f, "-f", "csv"], stdout=subprocess.PIPE, text=True)
    cols = next(p.stdout).rstrip("\n").split(",")
    ic, ie, ip, io = (cols.index(k) for k in ("cpu", "event", "pfn", "order"))
    for line in p.stdout:
        q = int(line[:line.index(",")])
        want = [c for c in seqs if q >= c and len(out[c]) < n]
        if not want:
            continue
        r = line.split(",")
        if r[ie] == "marker":
            continue
        for c in want:
            out[c].append((r[ic], r[ie], r[ip], r[io]))
    p.wait()
    return [out[c] for c in seqs]
for name, x, y in zip(("start", "end"), windows(rec), windows(imp)):
    common = sum(min(x.count(t), y.count(t)) for t in set(x))
    print("%s cut: %d of %d events after it are the same in both" % (name, common, len(x)))
    # record stops soon after its end cut: as few as 21 events follow it on a quiet machine
    assert len(x) >= 16 and common >= 0.8 * len(x), name
PY

# refusals: each names the file and what is wrong, exit 1, OUT not written
refuse() {	# refuse FILE-NAMED PATTERN import-args...
  local named=$1 pat=$2; shift 2
  rm -f "$TMP/no.fst"
  expect_rc 1 "$FRAGSCOPE" import "$@" -o "$TMP/no.fst"
  [ "$(wc -l <"$TMP/err")" = 1 ] || { cat "$TMP/err"; fail "not a one-line error: $*"; }
  grep -q "'$named'" "$TMP/err" || { cat "$TMP/err"; fail "the error does not name '$named'"; }
  grep -q "$pat" "$TMP/err" || { cat "$TMP/err"; fail "the error does not say '$pat'"; }
  [ ! -e "$TMP/no.fst" ] || fail "a refused import left its output"
}
D=$CAP/trace.dat
refuse "$TMP/early.fst" "outside the capture" "$D" --start-snapshot "$TMP/early.fst"
refuse "$CAP/start.fst" "before the start snapshot" "$D" --start-snapshot "$CAP/end.fst" --end-snapshot "$CAP/start.fst"
refuse "$TMP/imp.fst" "an imported trace" "$D" --start-snapshot "$TMP/imp.fst"
# the uncompressed snapshot A placed as the start snapshot works ...
expect_rc 0 "$FRAGSCOPE" import "$D" --start-snapshot "$TMP/A.fst" -o "$TMP/a.fst"
# ... and forged copies of it do not: same-length values, checksums redone
cat > "$TMP/forge.py" <<'PY'
import struct, sys, zlib
src, dst, key, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
b = bytearray(open(src, "rb").read())
off = 16
sync, typ, flags, slen, rlen = struct.unpack_from("<IHHQQ", b, off)
assert sync == 0x43455346 and typ == 1 and not flags & 1, "first section is not an uncompressed HEADER"
p, end = off + 32, off + 32 + slen
def uv(i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80: return v, i
def enc(v):
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0)); v >>= 7
        if not out[-1] & 0x80: return bytes(out)
done = False
while p < end:
    tag, p = uv(p); ln, p = uv(p); body = p; p += ln
    if tag == 4 and key.startswith(b"zone:"):	# zone:NAME NEW_SPANNED
        _, q = uv(body); _, q = uv(q); nl, q = uv(q); name = bytes(b[q:q + nl]); q += nl
        _, q = uv(q); old_start = q; _, q = uv(q)
        if name == key[5:]:
            e = enc(int(new))
            assert len(e) == q - old_start, "the new spanned has another length"
            b[old_start:q] = e; done = True
        continue
    if tag != 5: continue
    kl, q = uv(body); k = bytes(b[q:q + kl]); q += kl
    vl, q = uv(q)
    if k == key:
        assert vl == len(new), "%s is %d bytes, not %d" % (key, vl, len(new))
        b[q:q + vl] = new; done = True
assert done, "no key %s" % key
struct.pack_into("<I", b, off + 24, zlib.crc32(bytes(b[off + 32:end])))
struct.pack_into("<I", b, off + 28, zlib.crc32(bytes(b[off:off + 28])))
open(dst, "wb").write(b)
PY
expect_rc 0 "$FRAGSCOPE" info --json "$TMP/A.fst"
read -r host boot pid < <(python3 -c '
import json, sys
kv = json.load(open(sys.argv[1]))["kv"]
print(kv.get("capture.host"), kv.get("capture.boot_id"), kv.get("capture.pid"))' "$TMP/out")
[ -n "$pid" ] && [ "$pid" != None ] || fail "cannot read A.fst's identity keys"
other_host=$(printf '%s' "$host" | tr 'a-zA-Z0-9' 'b-zaB-ZA1-90')
python3 "$TMP/forge.py" "$TMP/A.fst" "$TMP/otherhost.fst" capture.host "$other_host" || fail "forge host"
refuse "$TMP/otherhost.fst" "a snapshot of '$other_host'" "$D" --start-snapshot "$TMP/otherhost.fst"
other_boot=$(printf '%s' "$boot" | tr '0-9a-f' '1-9a-f0')
python3 "$TMP/forge.py" "$CAP/end.fst" "$TMP/otherboot.fst" capture.boot_id "$other_boot" 2>/dev/null ||
  python3 "$TMP/forge.py" "$TMP/A.fst" "$TMP/otherboot.fst" capture.boot_id "$other_boot" || fail "forge boot id"
refuse "$TMP/otherboot.fst" "another boot" "$D" --start-snapshot "$TMP/A.fst" --end-snapshot "$TMP/otherboot.fst"
# a process id of the same length that has no event in the capture: as if taken in another boot
other_pid=$("$FRAGSCOPE" export "$TMP/imp.fst" -f csv | python3 -c '
import csv, sys
pids = {row["pid"] for row in csv.DictReader(sys.stdin)}
n = len(sys.argv[1])
for c in range(10 ** (n - 1), 10 ** n):
    if str(c) not in pids:
        print(c); break' "$pid")
python3 "$TMP/forge.py" "$TMP/A.fst" "$TMP/otherpid.fst" capture.pid "$other_pid" || fail "forge pid"
refuse "$TMP/otherpid.fst" "holds no event of the process that took this snapshot" "$D" --start-snapshot "$TMP/otherpid.fst"

# a snapshot whose zones are not the capture's memory: Normal shrunk to its first 8 GiB
python3 "$TMP/forge.py" "$TMP/A.fst" "$TMP/otherzones.fst" zone:Normal 2097152 || fail "forge zones"
refuse "$TMP/otherzones.fst" "fall outside its zones" "$D" --start-snapshot "$TMP/otherzones.fst"

# a capture with trace-cmd's default clock (local): the snapshots cannot be placed in it
( cd "$TMP" && timeout 60 trace-cmd record -d --no-filter -B $INST-local -C local -e kmem:mm_page_alloc -o "$TMP/local.dat" -- sleep 0.2 ) >"$TMP/local.log" 2>&1
[ -s "$TMP/local.dat" ] || { cat "$TMP/local.log"; fail "trace-cmd record (local clock) wrote nothing"; }
refuse "$TMP/local.dat" "'local' trace clock.*-C mono" "$TMP/local.dat" --start-snapshot "$CAP/start.fst"
# text captures carry no trace clock
printf '# tracer: nop\n' > "$TMP/t.txt"
refuse "$TMP/t.txt" "only be placed in a trace-cmd trace.dat" "$TMP/t.txt" --start-snapshot "$CAP/start.fst"
refuse "$TMP/none.fst" "No such file" "$D" --start-snapshot "$TMP/none.fst"
expect_rc 2 "$FRAGSCOPE" import "$D" --end-snapshot "$CAP/end.fst" --snapshot-proc -o "$TMP/no.fst"
exit 0
