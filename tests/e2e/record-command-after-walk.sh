# record -- COMMAND starts COMMAND only once the start snapshot's walk is over (its end marker
# is in the trace), so the command's own allocations never race the walk: no event of the
# command's pid comes before that marker, and its first one comes after it. COMMAND (python)
# writes its pid; it allocates pages from its first instruction on (exec, page faults).
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "python3 missing"
expect_rc 0 $FRAGSCOPE record -o "$TMP/c.fst" -- \
  python3 -c 'import os, sys; open(sys.argv[1], "w").write(str(os.getpid()))' "$TMP/child_pid"
[ -s "$TMP/child_pid" ] || fail "COMMAND did not run"
expect_rc 0 $FRAGSCOPE export "$TMP/c.fst" --format jsonl
# marker ids: 1, 2 = the start snapshot's walk begins, ends; 3, 4 = the end snapshot's
python3 - "$TMP/out" "$(cat "$TMP/child_pid")" <<'PY' || fail "COMMAND ran before the start walk ended"
import json, sys
pid = int(sys.argv[2])
evs = [json.loads(l) for l in open(sys.argv[1])]
ends = [e["seq"] for e in evs if e["event"] == "marker" and e.get("aux") == 2]
assert len(ends) == 1, "expected one start-walk end marker, got %d" % len(ends)
mine = [e["seq"] for e in evs if e["pid"] == pid and e["event"] != "marker"]
assert mine, "no event of COMMAND (pid %d) in the trace" % pid
print("start walk ended at event %d; COMMAND (pid %d) has %d events, the first at %d" % (ends[0], pid, len(mine), mine[0]))
sys.exit(0 if mine[0] > ends[0] else 1)
PY
