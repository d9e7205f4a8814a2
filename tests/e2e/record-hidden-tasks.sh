# Frees by tasks that no tracepoint reports. On the development VM every thread of PID 1 (the
# sandbox's agent) runs invisible to tracing: sched_switch shows tasks switching to it, never
# from it, and about once a second one of them frees 25 pages that PGFREE counts and no
# mm_page_free shows (and allocates 25 that PGALLOC counts and no mm_page_alloc shows). record
# follows each CPU's time slices (sched_switch) and counts such pages apart ("freed unseen by
# hidden tasks", "allocated unseen by hidden tasks") instead of calling them frees not
# delivered to BPF, or not counting the allocations at all.
# Checked here on a quiet 2.5 s capture, with an ftrace instance on sched_switch alongside:
#  - the parts of "lost" add up, and no free is "not delivered" on a quiet machine (before the
#    slices were followed, this VM reported 25-75 here);
#  - when pages were freed unseen, the task named is one whose own events ftrace never records
#    either: never as prev_pid or as the current task of a sched_switch (ftrace does record
#    interrupts on top of it; this instance traces none). It usually appears as next_pid, but
#    not always: a switch to it from another hidden thread is unseen too (once in ~15 runs).
# On a machine with no hidden tasks the second part has nothing to check and says so.
. "$(dirname "$0")/lib.sh"
need_root
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null
[ -d "$T/events/sched/sched_switch" ] || skip "no sched_switch tracepoint in tracefs"
I="$T/instances/fragscope-hidden-$$"
mkdir "$I" || skip "cannot create an ftrace instance"
trap 'echo 0 > "$I/tracing_on" 2>/dev/null; rmdir "$I" 2>/dev/null' EXIT
echo 8192 > "$I/buffer_size_kb"
echo 1 > "$I/events/sched/sched_switch/enable"
echo 1 > "$I/tracing_on"
expect_rc 0 $FRAGSCOPE record --json -o "$TMP/h.fst" -- sleep 2.5
echo 0 > "$I/tracing_on"
cat "$I/trace" > "$TMP/ft"
grep -h 'overrun: [1-9]' "$I"/per_cpu/cpu*/stats && skip "the ftrace instance overran"
grep -q '^fragscope record: lost [0-9]* (ring buffer full [0-9]*, recursion [0-9]*, not delivered [0-9]*, freed unseen by hidden tasks [0-9]*, allocated unseen by hidden tasks [0-9]*)$' "$TMP/err" ||
  { cat "$TMP/err"; fail "no loss summary with its five parts"; }
python3 - "$TMP/out" "$TMP/ft" <<'PY' || { cat "$TMP/err"; fail "hidden-task accounting"; }
import json, re, sys
d = json.load(open(sys.argv[1]))
parts = d["lost_ring_buffer"] + d["lost_recursion"] + (d["lost_not_delivered"] or 0) + \
        (d["lost_hidden_tasks"] or 0) + (d["lost_hidden_task_allocs"] or 0)
assert d["lost"] == parts, ("lost is not the sum of its parts", d)
assert d["lost_hidden_tasks"] is not None and d["lost_hidden_task_allocs"] is not None, "the slices were not followed"
print("lost %d: not delivered %d, freed unseen by hidden tasks %d, allocated unseen %d (tid %s)" %
      (d["lost"], d["lost_not_delivered"], d["lost_hidden_tasks"], d["lost_hidden_task_allocs"], d["hidden_task_tid"]))
assert d["lost_not_delivered"] == 0, "frees counted as not delivered on a quiet machine"
if not d["lost_hidden_tasks"] and not d["lost_hidden_task_allocs"]:
    print("no pages freed by hidden tasks in this capture: nothing more to check")
    sys.exit(0)
tid = d["hidden_task_tid"]
switched_to = seen_running = 0
for line in open(sys.argv[2]):
    if line.startswith("#"):
        continue
    m = re.search(r"-(\d+)\s+\[\d+\]", line)
    if m and int(m.group(1)) == tid:
        seen_running += 1
    if re.search(r"prev_pid=%d " % tid, line):
        seen_running += 1
    if re.search(r"next_pid=%d " % tid, line):
        switched_to += 1
print("ftrace: switched to tid %d %d times, saw it run %d times" % (tid, switched_to, seen_running))
# (a switch to it may itself be unseen: from another hidden thread of the same agent)
assert seen_running == 0, "ftrace saw the task named run: it is not hidden"
PY
exit 0
