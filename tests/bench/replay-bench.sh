#!/usr/bin/env bash
# Follow-mode replay speed on the largest golden trace (events applied per CPU second, best of 3)
# against trace-cmd report decoding a kmem capture of the same six events (a trace.dat recorded
# here around a pipe workload: trace-cmd cannot read our file, so its rate is measured on its
# own capture of the same event stream). Without root/trace-cmd the peer part is skipped.
set -uo pipefail
FRAGSCOPE=${FRAGSCOPE:?}
note() { echo "replay-bench: $*" >&2; }
G=$(ls -S traces/golden/*.fst | head -1)
. "$(dirname "$0")/lib.sh"
events=$("$FRAGSCOPE" replay --json "$G" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
ours=$(best_cpu "$FRAGSCOPE" replay "$G")
fixed=$(best_cpu "$FRAGSCOPE" replay --until 1 "$G")	# reading the header and snapshots, building and seeding the model
note "$G: $events events replayed in ${ours} CPU s (best of 3, includes reading, building the model and seeding it)"
peer_rate=""
if [ "$(id -u)" = 0 ] && command -v trace-cmd >/dev/null && [ -d /sys/kernel/tracing/events/kmem ]; then
  T=$(mktemp -d "${FRAGSCOPE_TMP:-/tmp}/replay-bench.XXXX"); trap 'rm -rf "$T"' EXIT
  ( cd "$T" && timeout 120 trace-cmd record -d --no-filter -b 65536 -o "$T/trace.dat" $KMEM_ARGS -- \
      sh -c "dd if=/dev/zero bs=1M count=${REPLAY_BENCH_MB:-1200} 2>/dev/null | cat > /dev/null" ) >"$T/record.log" 2>&1
  if [ -s "$T/trace.dat" ]; then
    n=$(trace-cmd report "$T/trace.dat" 2>/dev/null | grep -c 'mm_page_')
    peer=$(best_cpu sh -c "trace-cmd report '$T/trace.dat' > /dev/null")
    note "trace-cmd report: $n events in ${peer} CPU s"
    peer_rate=$(python3 -c "import sys; print(int(sys.argv[1])/float(sys.argv[2]))" "$n" "$peer")
  else
    note "trace-cmd record failed; no peer figure"
  fi
else
  note "no peer figure: needs root, trace-cmd and tracefs"
fi
python3 - "$events" "$ours" "$peer_rate" "$fixed" <<'PY'
import sys
e, o, p, fx = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
rate = e / o
if o > fx:
    print("bench replay_follow_event_rate %.0f events/s" % (e / (o - fx)))
if p:
    print("bench replay_follow_rate %.0f events/s vs trace-cmd-report %.2f" % (rate, rate / float(p)))
else:
    print("bench replay_follow_rate %.0f events/s" % rate)
PY
