# record -- COMMAND starts COMMAND only once the start snapshot's walk is over (its end marker
# is in the trace), so the command's own allocations never race the walk. COMMAND writes its
# CLOCK_MONOTONIC start time, which the trace's timestamps share.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "python3 missing"
expect_rc 0 $FRAGSCOPE record -o "$TMP/c.fst" -- \
  python3 -c 'import time, sys; open(sys.argv[1], "w").write(str(time.monotonic_ns()))' "$TMP/child_ns"
[ -s "$TMP/child_ns" ] || fail "COMMAND did not run"
expect_rc 0 $FRAGSCOPE export "$TMP/c.fst" --format jsonl
# marker ids: 1, 2 = the start snapshot's walk begins, ends; 3, 4 = the end snapshot's
python3 - "$TMP/out" "$(cat "$TMP/child_ns")" <<'PY' || fail "COMMAND started before the start walk ended"
import json, sys
child = int(sys.argv[2])
markers = [json.loads(l) for l in open(sys.argv[1]) if '"event":"marker"' in l]
assert len(markers) >= 4, "expected start and end snapshot markers, got %d" % len(markers)
ends = [m["ts_ns"] for m in markers if m.get("aux") == 2]
assert len(ends) == 1, "expected one start-walk end marker, got %d" % len(ends)
walk_end = ends[0]
print("start walk ended at %d, COMMAND started at %d (%.1f ms later)" % (walk_end, child, (child - walk_end) / 1e6))
sys.exit(0 if child > walk_end else 1)
PY
