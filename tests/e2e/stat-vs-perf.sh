# stat against perf kmem --page stat on the same events: perf records a short workload, its
# events go through `perf script` into fragscope import, and the two summaries and the
# order x migratetype tables must agree exactly. perf's columns are the kernel's migratetype
# VALUES under pre-4.4 names (its "Reclaimable" column is value 1, Movable since 4.4), so the
# comparison is by value; fragscope names them from the trace. Needs root and perf.
source "$(dirname "$0")/lib.sh"
need_root "perf record -a"
command -v perf >/dev/null || skip "perf is not installed (linux-perf)"
[ -d /sys/kernel/tracing/events/kmem ] || [ -d /sys/kernel/debug/tracing/events/kmem ] || skip "no kmem tracepoints in tracefs"
timeout 60 perf kmem --page record -o "$TMP/pk.data" -- "$FRAGSCOPE" workload forks --mem 16M --duration 3 -q \
  >"$TMP/rec.log" 2>&1 || skip "perf kmem record failed: $(tail -1 "$TMP/rec.log")"
grep -q "lost" "$TMP/rec.log" && echo "note: $(grep lost "$TMP/rec.log" | head -1)"
timeout 60 perf kmem --page -i "$TMP/pk.data" stat >"$TMP/perf.txt" 2>/dev/null || fail "perf kmem stat failed"
# perf script -> ftrace text: "comm-pid [cpu] ts: event: fields"
perf script -i "$TMP/pk.data" -F comm,pid,cpu,time,event,trace 2>/dev/null |
  sed -E 's/^ *(.*[^ ]) +([0-9]+) +\[([0-9]+)\] +([0-9.]+): +kmem:([a-z_]+): /\1-\2 [\3] \4: \5: /' >"$TMP/pk.txt"
expect_rc 0 "$FRAGSCOPE" import --type text "$TMP/pk.txt" -o "$TMP/pk.fst"
grep -q "did not parse" "$TMP/err" && fail "import skipped lines: $(cat "$TMP/err")"
expect_rc 0 "$FRAGSCOPE" stat --no-model --json "$TMP/pk.fst"
python3 - "$TMP/perf.txt" "$TMP/out" <<'PY' || fail "stat disagrees with perf kmem"
import json, re, sys
perf = open(sys.argv[1]).read(); st = json.load(open(sys.argv[2]))
def total(label):
    m = re.search(r"%s\s*:\s*([\d,]+)\s*\[\s*([\d,]+) KB" % re.escape(label), perf)
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
s = st["summary"]
pairs = {"Total allocation requests": ("alloc_requests", "alloc_kb"),
         "Total free requests": ("free_requests", "free_kb"),
         "Total alloc+freed requests": ("alloc_freed_requests", "alloc_freed_kb"),
         "Total alloc-only requests": ("alloc_only_requests", "alloc_only_kb"),
         "Total free-only requests": ("free_only_requests", "free_only_kb"),
         "Total allocation failures": ("alloc_failures", "alloc_failures_kb")}
bad = []
for label, (n, kb) in pairs.items():
    if total(label) != (s[n], s[kb]):
        bad.append("%s: perf %s, fragscope %s" % (label, total(label), (s[n], s[kb])))
names = {}	# value -> our name, from the trace's own table
for row in st["alloc_by_order_migratetype"]:
    keys = [k for k in row if k != "order"]
    break
rows = {r["order"]: r for r in st["alloc_by_order_migratetype"]}
for line in perf.splitlines():
    m = re.match(r"\s*(\d+)((?:\s+(?:[\d,]+|\.))+)\s*$", line)
    if not m:
        continue
    order = int(m.group(1)); cols = m.group(2).split()
    for value, c in enumerate(cols):	# perf's column index is the migratetype value
        want = 0 if c == "." else int(c.replace(",", ""))
        got = rows[order][keys[value]] if order in rows and value < len(keys) else 0
        if want != got:
            bad.append("order %d value %d: perf %d, fragscope %d" % (order, value, want, got))
if bad:
    print("\n".join(bad)); sys.exit(1)
print("perf kmem and fragscope stat agree: %d allocations, %d frees" % (s["alloc_requests"], s["free_requests"]))
PY
exit 0
