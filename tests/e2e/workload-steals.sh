# `fragscope workload fragment` makes this kernel fall back: its pipe phase must produce
# kmem:mm_page_alloc_extfrag events, counted with a tracefs instance of our own (root only).
. "$(dirname "$0")/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
need_root "tracefs"

T=/sys/kernel/tracing
mounted=0
if [ ! -d $T/instances ]; then
  mount -t tracefs nodev $T 2>/dev/null || skip "tracefs is not mounted and cannot be mounted"
  mounted=1
fi
[ -d $T/events/kmem/mm_page_alloc_extfrag ] || skip "no kmem:mm_page_alloc_extfrag tracepoint"
I=$T/instances/fragscope-test-$$
mkdir $I || skip "cannot create a tracefs instance"
cleanup() {
  echo 0 >$I/tracing_on 2>/dev/null
  rmdir $I 2>/dev/null
  # tracefs stays mounted: others may be using it by now
  rm -rf "$TMP"
}
trap cleanup EXIT
echo mono >$I/trace_clock || fail "no mono trace clock"
echo 4096 >$I/buffer_size_kb
echo 1 >$I/events/kmem/mm_page_alloc_extfrag/enable
echo 1 >$I/tracing_on

# A modest budget; the pipe pressure is automatic: enough to use up the free space of the
# unmovable pageblocks (read from /proc/pagetypeinfo, again after each round) plus a margin.
expect_rc 0 $FRAGSCOPE workload fragment --mem 256M --duration 50 --json
echo 0 >$I/tracing_on
cp "$TMP/out" "$TMP/run.json"
cp $I/trace "$TMP/trace"

$PY - "$TMP/run.json" "$TMP/trace" <<'EOF'
import json, re, sys
j = json.load(open(sys.argv[1]))
pid = j["pid"]
pipes = next(p for p in j["phases"] if p["name"] == "pipes")
t0 = j["start_mono_ns"] / 1e9
p0, p1 = pipes["start_mono_ns"] / 1e9, t0 + pipes["end"]
total = ours = in_pipes = 0
first = None
kinds = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*.+?-(\d+)\s+\[\d+\].*?\s(\d+\.\d+): mm_page_alloc_extfrag: (.*)", line)
    if not m:
        continue
    total += 1
    if int(m.group(1)) != pid:
        continue
    ours += 1
    ts = float(m.group(2))
    if p0 <= ts <= p1:
        in_pipes += 1
        first = ts if first is None else first
        f = dict(kv.split("=") for kv in m.group(3).split() if "=" in kv)
        k = "alloc_mt=%s fallback_mt=%s fallback_order=%s change_ownership=%s" % (
            f["alloc_migratetype"], f["fallback_migratetype"], f["fallback_order"], f["change_ownership"])
        kinds[k] = kinds.get(k, 0) + 1
plan = j["plan"]
mb = lambda v: None if v is None else v >> 20
print("plan: mem %d MiB, unmovable free %s MiB, pipes %d MiB first; held %d MiB in %d rounds, "
      "unmovable free then %s MiB; elapsed %.2f s" % (
    plan["mem"] >> 20, mb(plan["unmovable_free"]), plan["pipe_bytes"] >> 20, j["pipe_bytes"] >> 20,
    j["pipe_rounds"], mb(j["unmovable_free_end"]), j["elapsed"]))
print("extfrag events: %d in the window, %d by the workload, %d during its pipe phase" % (total, ours, in_pipes))
for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
    print("  %6d  %s" % (v, k))
if first is not None:
    print("first during the pipe phase: %.3f s after it began" % (first - p0))
if in_pipes == 0:
    if j["note"] and "(the cap)" in j["note"]:
        print("SKIP: " + j["note"])
        sys.exit(77)
    print("FAIL: no mm_page_alloc_extfrag event from the pipe phase")
    sys.exit(1)
if not j["cleaned_up"]:
    print("FAIL: not cleaned up")
    sys.exit(1)
EOF
