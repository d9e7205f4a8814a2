# info and export on the committed real capture (tests/data/traces/kmem-small.fst); damaged files.
. "$(dirname "$0")/lib.sh"
FIX=tests/data/traces/kmem-small.fst
[ -r "$FIX" ] || fail "fixture $FIX missing"

expect_rc 0 $FRAGSCOPE info "$FIX" --json
python3 - "$TMP/out" <<'PY' || fail "info --json does not describe the fixture"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["kernel_release"] == "6.18.44-fc-v657", j["kernel_release"]
ev = j["events"]
assert ev["mm_page_alloc"] == 1894 and ev["mm_page_free"] == 785 and ev["mm_page_free_batched"] == 146, ev
assert ev["mm_page_alloc_extfrag"] == 0 and ev["mm_page_pcpu_drain"] == 0, ev
assert j["events_total"] == 2825 and j["lost_total"] == 0
assert 0 < j["bytes_per_event"] < 8, j["bytes_per_event"]
assert 0 < j["event_bytes"] < j["file_size"] and j["event_bytes_per_event"] < j["bytes_per_event"]
s = j["snapshots"]
assert s["start"]["present"] is False and s["start"]["method"] == "none"
assert s["end"]["method"] == "pagetypeinfo" and s["end"]["exact"] is False
assert j["truncated"] is False and j["corrupt_chunks"] == 0
assert j["migratetypes"]["Movable"] == 1 and j["pageblock_order"] == 9
PY
# options after or before the file
expect_rc 0 $FRAGSCOPE info --json "$FIX"
expect_rc 0 $FRAGSCOPE info "$FIX"
grep -q '^events:     2825' "$TMP/out" || fail "text info lacks the event count"
grep -q 'mm_page_free_batched  *146' "$TMP/out" || fail "text info lacks per-kind counts"
grep -q 'end    pagetypeinfo, not exact' "$TMP/out" || fail "text info lacks the snapshot"

# export: CSV with a header, one row per event, decoded names
expect_rc 0 $FRAGSCOPE export "$FIX"
[ "$(wc -l < "$TMP/out")" = 2826 ] || fail "csv has $(wc -l < "$TMP/out") lines, expected 2826"
head -1 "$TMP/out" | grep -q '^seq,ts_ns,cpu,pid,event,pfn,order,gfp,gfp_flags,migratetype,migratetype_name' || fail "csv header"
grep -q ',mm_page_alloc,.*,GFP_[A-Z_|]*,[0-9],\(Unmovable\|Movable\|Reclaimable\),' "$TMP/out" || fail "csv lacks decoded names"
expect_rc 0 $FRAGSCOPE export "$FIX" --format jsonl -o "$TMP/x.jsonl"
[ ! -s "$TMP/out" ] || fail "export -o wrote to stdout"
python3 - "$TMP/x.jsonl" <<'PY' || fail "jsonl export"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2825
assert [r["seq"] for r in rows] == list(range(2825))
a = [r for r in rows if r["event"] == "mm_page_alloc"]
assert len(a) == 1894 and all("gfp_flags" in r and "migratetype_name" in r for r in a)
assert all(r["ts_ns"] <= s["ts_ns"] for r, s in zip(rows, rows[1:]))
PY

# damage: not a trace, missing, truncated
printf 'hello' > "$TMP/bad.fst"
expect_rc 1 $FRAGSCOPE info "$TMP/bad.fst"
grep -q "fragscope info: '.*bad.fst': offset 0: not a fragscope trace" "$TMP/err" || fail "bad magic message: $(cat "$TMP/err")"
expect_rc 1 $FRAGSCOPE export "$TMP/none.fst"
grep -q "No such file or directory" "$TMP/err" || fail "missing file message"
head -c 7000 "$FIX" > "$TMP/cut.fst"
expect_rc 0 $FRAGSCOPE info "$TMP/cut.fst" --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["truncated"] and 0 < j["events_total"] < 2825 and j["events_total"] % 256 == 0, j["events_total"]' "$TMP/out" || fail "truncated file info"
expect_rc 0 $FRAGSCOPE export "$TMP/cut.fst"
grep -q "truncated" "$TMP/err" || fail "export does not warn about truncation"

# usage
expect_rc 2 $FRAGSCOPE info
expect_rc 2 $FRAGSCOPE export "$FIX" --format xml
expect_rc 2 $FRAGSCOPE info "$FIX" --bogus
exit 0
