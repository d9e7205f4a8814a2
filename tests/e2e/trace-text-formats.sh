# Text import takes the field layout and print format from the format files it is given
# (--formats DIR), not from fixed layouts: here made-up formats print the fields in another
# order, with another flag table, and the import must follow them.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/fmt/kmem/mm_page_free" "$TMP/fmt/kmem/mm_page_alloc"
cat > "$TMP/fmt/kmem/mm_page_free/format" <<'FMT'
name: mm_page_free
ID: 901
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned int order;	offset:8;	size:4;	signed:0;
	field:unsigned long pfn;	offset:16;	size:8;	signed:0;

print fmt: "order=%d pfn=0x%lx", REC->order, REC->pfn
FMT
cat > "$TMP/fmt/kmem/mm_page_alloc/format" <<'FMT'
name: mm_page_alloc
ID: 902
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long gfp_flags;	offset:8;	size:8;	signed:0;
	field:unsigned long pfn;	offset:16;	size:8;	signed:0;
	field:unsigned int order;	offset:24;	size:4;	signed:0;
	field:int migratetype;	offset:28;	size:4;	signed:1;

print fmt: "gfp_flags=%s pfn=0x%lx order=%d migratetype=%d", (REC->gfp_flags) ? __print_flags(REC->gfp_flags, "|", {((1UL << 4) | (1UL << 5)), "XY"}, {(1UL << 4), "__X"}, {(1UL << 5), "__Y"}) : "none", REC->pfn != -1UL ? REC->pfn : 0, REC->order, REC->migratetype
FMT
cat > "$TMP/trace.txt" <<'TXT'
# tracer: nop
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
             foo-12      [003] ..s1.   100.000001: mm_page_alloc: gfp_flags=XY|0x100 pfn=0x0 order=2 migratetype=1
         bar baz-13      [000]   100.000002: mm_page_free: order=3 pfn=0x1234
CPU:1 [LOST 5 EVENTS]
this line is not an event
          <idle>-0       [001] d.h2.   100.000003: mm_page_alloc: gfp_flags=none pfn=0x10 order=0 migratetype=0
          <idle>-0       [001] d.h2.   100.000004: sched_switch: prev_comm=x
             qux-14      (     14) [002] .....   100.000005: mm_page_free: order=0 pfn=0x99
TXT
expect_rc 0 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/fmt" -o "$TMP/t.fst"
grep -q "1 lines did not parse; the first: '.*trace.txt': line 6" "$TMP/err" || fail "bad line not reported: $(cat "$TMP/err")"
expect_rc 0 $FRAGSCOPE export "$TMP/t.fst" -f jsonl
python3 - "$TMP/out" <<'PY' || fail "fields not decoded through the given formats"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 4, r
a, f, b, g = r
assert g["pid"] == 14 and g["cpu"] == 2 and g["pfn"] == 0x99, g   # record-tgid column
assert a["event"] == "mm_page_alloc" and a["pfn"] is None and a["order"] == 2 and a["migratetype"] == 1, a
assert a["gfp"] == 0x130 and a["gfp_flags"] == "XY|0x100" and a["cpu"] == 3 and a["pid"] == 12, a
assert a["irq"] is True and a["ts_ns"] == 100000001000, a
assert f["event"] == "mm_page_free" and f["pfn"] == 0x1234 and f["order"] == 3 and f["pid"] == 13 and f["cpu"] == 0, f
assert "irq" not in f
assert b["gfp"] == 0 and b["pfn"] == 16 and b["pid"] == 0 and b["irq"] is True, b
PY
expect_rc 0 $FRAGSCOPE info "$TMP/t.fst" --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["lost_total"] == 5 and j["events_total"] == 4 and j["nr_gfp_flags"] == 3 and j["kv"]["capture.mode"] == "import-tracefs-text" and "tracepoint.mm_page_free.format" in j["kv"], j' "$TMP/out" || fail "info after text import"
# the same from standard input
$FRAGSCOPE import - --formats "$TMP/fmt" -o "$TMP/stdin.fst" < "$TMP/trace.txt" >/dev/null 2>&1 || fail "import from stdin failed"
expect_rc 0 $FRAGSCOPE export "$TMP/stdin.fst" -f jsonl
[ "$(wc -l < "$TMP/out")" = 4 ] || fail "import from stdin: $(wc -l < "$TMP/out") events"
# no formats for any kmem event: nothing could be decoded, an error naming what is missing
mkdir -p "$TMP/empty"
expect_rc 1 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/empty" -o "$TMP/e.fst"
grep -q "no format file for 'kmem:mm_page_alloc'" "$TMP/err" || fail "no error for missing formats: $(cat "$TMP/err")"
[ ! -e "$TMP/e.fst" ] || fail "an import without formats left its output behind"
# formats for some events only: those are imported, the others skipped with a warning
mkdir -p "$TMP/some/kmem/mm_page_free" && cp "$TMP/fmt/kmem/mm_page_free/format" "$TMP/some/kmem/mm_page_free/"
expect_rc 0 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/some" -o "$TMP/e.fst"
grep -q "no format file for 'kmem:mm_page_alloc'" "$TMP/err" || fail "no warning for a missing format: $(cat "$TMP/err")"
grep -q ": 2 events, mm_page_free 2;" "$TMP/out" || fail "not the 2 mm_page_free events: $(cat "$TMP/out")"
# mangled lines (bytes changed, cut, stretched) are counted as bad lines, never a crash
python3 - "$TMP/trace.txt" "$TMP/mangled.txt" <<'PY'
import random, sys
random.seed(7)
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if not l.startswith("#")]
out = []
for i in range(5000):
    l = list(random.choice(lines))
    for _ in range(random.randint(1, 4)):
        op = random.random()
        p = random.randrange(len(l) + 1)
        if op < 0.4 and l:
            l[min(p, len(l) - 1)] = chr(random.choice([0x20, 0x2d, 0x3a, 0x3d, 0x5b, 0x5d, 0x7c, 0x30, 0x78, 0x41, 0xff]))
        elif op < 0.6:
            l = l[:p]
        elif op < 0.8:
            l[p:p] = random.choice(["9" * 600, "|" * 300, "=", " [", "]: ", "0x", "-1"])
        else:
            del l[p:p + random.randint(1, 20)]
    out.append("".join(l))
open(sys.argv[2], "w", encoding="latin-1").write("\n".join(out) + "\n")
PY
expect_rc 0 $FRAGSCOPE import "$TMP/mangled.txt" --formats "$TMP/fmt" -o "$TMP/m.fst"
grep -q "lines did not parse" "$TMP/err" || fail "mangled lines not reported"
expect_rc 0 $FRAGSCOPE info "$TMP/m.fst"

expect_rc 2 $FRAGSCOPE import "$TMP/trace.txt"
expect_rc 1 $FRAGSCOPE import "$TMP/nonexistent.txt" -o "$TMP/n.fst"
[ ! -e "$TMP/n.fst" ] || fail "a failed import left its output behind"
exit 0
