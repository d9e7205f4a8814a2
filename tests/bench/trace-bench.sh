# The trace file against trace-cmd on one live capture of at least a million kmem events:
# bytes per event of the .fst against the trace.dat holding the same events, and full decode
# speed of our reader (fragscope info reads and decodes every event) against
# `trace-cmd report > /dev/null`. Needs root, tracefs and trace-cmd; otherwise says why and
# prints no figure.
set -uo pipefail
FRAGSCOPE=${FRAGSCOPE:?}
note() { echo "trace-bench: $*" >&2; }
[ "$(id -u)" = 0 ] || { note "skipped: needs root for tracefs"; exit 0; }
command -v trace-cmd >/dev/null || { note "skipped: trace-cmd is not installed"; exit 0; }
[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || { note "skipped: no tracefs"; exit 0; }
T=$(mktemp -d "${FRAGSCOPE_TMP:-/tmp}/trace-bench.XXXX")
trap 'rm -rf "$T"' EXIT
MB=${TRACE_BENCH_MB:-2400}	# ~490 events per MB piped through cat on this VM
. "$(dirname "$0")/lib.sh"
( cd "$T" && timeout 300 trace-cmd record -d --no-filter -b 65536 -o "$T/trace.dat" $KMEM_ARGS -- \
    sh -c "dd if=/dev/zero bs=1M count=$MB 2>/dev/null | cat > /dev/null" ) >"$T/record.log" 2>&1
[ -s "$T/trace.dat" ] || { note "trace-cmd record failed:"; tail -5 "$T/record.log" >&2; exit 1; }
"$FRAGSCOPE" import "$T/trace.dat" -o "$T/t.fst" >/dev/null || exit 1
"$FRAGSCOPE" info "$T/t.fst" --json > "$T/info.json" || exit 1
read -r events lost <<<"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["events_total"], j["lost_total"])' "$T/info.json")"
[ "$events" -ge 1000000 ] || note "only $events events captured (wanted >= 1000000; raise TRACE_BENCH_MB)"
[ "$lost" = 0 ] || note "the capture lost $lost events"
fst=$(stat -c %s "$T/t.fst"); dat=$(stat -c %s "$T/trace.dat")
note "$events events ($lost lost): .fst $fst bytes, trace.dat $dat bytes (trace.dat includes ~1 MB of kallsyms and formats)"
python3 -c "import sys; e,f,d=map(int,sys.argv[1:]); print('bench trace_bytes_per_event %.3f B vs trace.dat %.3f' % (f/e, (f/e)/(d/e)))" "$events" "$fst" "$dat"
note "trace.dat: $(python3 -c "print('%.3f' % ($dat/$events))") B/event"

ours=$(best_cpu "$FRAGSCOPE" info "$T/t.fst")
peer=$(best_cpu sh -c "trace-cmd report '$T/trace.dat' > /dev/null")
note "full decode (CPU s, best of 3): fragscope info ${ours}s, trace-cmd report ${peer}s"
python3 -c "import sys; e=int(sys.argv[1]); o=float(sys.argv[2]); p=float(sys.argv[3]); print('bench trace_read_rate %.0f events/s vs trace-cmd-report %.1f' % (e/o, (e/o)/(e/p)))" "$events" "$ours" "$peer"
