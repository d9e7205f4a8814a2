#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Capture the kmem page events with trace-cmd, with fragscope's start and end snapshots of the
# allocator around COMMAND, and import the lot into a trace file that replays in follow mode:
#
#   trace-cmd record -B NAME -C mono ... &   (a tracefs instance of its own; all tasks;
#                                         trace clock = CLOCK_MONOTONIC)
#   wait until it traces
#   fragscope record --snapshot-only -o start.fst
#   COMMAND
#   fragscope record --snapshot-only -o end.fst
#   stop trace-cmd (SIGINT)
#   fragscope import trace.dat --start-snapshot start.fst --end-snapshot end.fst -o OUT.fst
#
# Needs root, trace-cmd and tracefs (mounted if it is not). FRAGSCOPE names the fragscope binary
# (default: the one in PATH).
set -uo pipefail
prog=$(basename "$0")
usage() {
	cat <<EOF
usage: $prog -o OUT.fst [-b KB] [-k DIR] -- COMMAND [ARGS...]
  -o OUT.fst   the imported trace to write
  -b KB        trace-cmd's ring buffer per CPU, in KiB (default 16384)
  -k DIR       keep trace.dat, start.fst, end.fst and trace-cmd's log in DIR
               (default: a temporary folder, removed at the end)
EOF
	exit 2
}
die() { echo "$prog: $*" >&2; exit 1; }

out= buf=16384 keep=
while getopts "o:b:k:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	b) buf=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] && [ $# -gt 0 ] || usage
[[ $buf =~ ^[0-9]+$ ]] || die "-b wants KiB, not '$buf'"
FRAGSCOPE=${FRAGSCOPE:-fragscope}
command -v "$FRAGSCOPE" >/dev/null || die "cannot find fragscope ('$FRAGSCOPE'); set FRAGSCOPE"
command -v trace-cmd >/dev/null || die "trace-cmd is not installed (apt-get install trace-cmd)"
[ "$(id -u)" = 0 ] || die "needs root (trace-cmd and the BPF snapshot)"
TFS=/sys/kernel/tracing
[ -d $TFS/events ] || mount -t tracefs nodev $TFS || die "tracefs is not mounted and cannot be mounted on $TFS"
grep -qw mono $TFS/trace_clock || die "this kernel has no 'mono' trace clock ($TFS/trace_clock)"
[ -d $TFS/instances ] || die "tracefs has no instances folder ($TFS/instances)"

if [ -n "$keep" ]; then
	mkdir -p "$keep" || die "cannot create '$keep'"
	dir=$keep
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tracecmd-capture.XXXXXX") || die "cannot create a temporary folder"
fi
tc=
# a tracefs instance of our own: other tracers' settings (events, clock, tracing_on) and ours do
# not meet; trace-cmd leaves it behind when it exits with an error, as it does here
inst=fragscope-capture-$$
I=$TFS/instances/$inst
cleanup() {
	[ -n "$tc" ] && kill -INT "$tc" 2>/dev/null && wait "$tc" 2>/dev/null
	[ -d "$I" ] && rmdir "$I" 2>/dev/null
	[ -z "$keep" ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

names="mm_page_alloc mm_page_alloc_zone_locked mm_page_free mm_page_free_batched mm_page_pcpu_drain mm_page_alloc_extfrag"
events=""
for e in $names; do
	events="$events -e kmem:$e"
done
# -C mono: the snapshots' clock. -d --no-filter: no function tracer (blocked on some VMs) and
# trace-cmd's own pids traced too (the snapshots' allocations tie them to this capture).
trace-cmd record -d --no-filter -B "$inst" -C mono -b "$buf" $events -o "$dir/trace.dat" >"$dir/trace-cmd.log" 2>&1 &
tc=$!
# trace-cmd's "Hit Ctrl^C" line is buffered when its output is a file: watch tracefs instead,
# until our instance traces with the mono clock, our six events enabled and a recorder file per CPU
tracing() {
	[ -d "$I" ] && [ "$(cat $I/tracing_on)" = 1 ] && grep -q '\[mono\]' $I/trace_clock || return 1
	for e in $names; do
		[ "$(cat "$I/events/kmem/$e/enable")" = 1 ] || return 1
	done
	for c in /sys/devices/system/cpu/cpu[0-9]*; do
		[ -e "$c/online" ] && [ "$(cat "$c/online")" = 0 ] && continue
		compgen -G "$dir/trace.dat*.cpu${c##*cpu}" >/dev/null || return 1	# trace.dat.NAME.cpuN
	done
}
for _ in $(seq 300); do
	tracing && break
	kill -0 "$tc" 2>/dev/null || { cat "$dir/trace-cmd.log" >&2; tc=; die "trace-cmd record failed"; }
	sleep 0.1
done
tracing || die "trace-cmd did not start tracing in instance $inst within 30 s"
sleep 0.2

"$FRAGSCOPE" record --snapshot-only -o "$dir/start.fst" 2>"$dir/start.log" ||
	{ cat "$dir/start.log" >&2; die "the start snapshot failed"; }
"$@"
status=$?
[ $status = 0 ] || echo "$prog: '$1' exited with status $status" >&2
"$FRAGSCOPE" record --snapshot-only -o "$dir/end.fst" 2>"$dir/end.log" ||
	{ cat "$dir/end.log" >&2; die "the end snapshot failed"; }
# trace-cmd writes /proc/kallsyms into trace.dat when it stops and gives up if its size changes
# meanwhile, as it does while the snapshot's BPF programs are being freed: let that finish
sleep 1
kill -INT "$tc"
wait "$tc"	# exits 1 where it cannot reset set_ftrace_filter; the trace.dat is complete
tc=
if [ ! -s "$dir/trace.dat" ]; then
	cat "$dir/trace-cmd.log" >&2
	grep -q kallsyms "$dir/trace-cmd.log" &&
		die "trace-cmd wrote no trace.dat: /proc/kallsyms changed size while it read it (a BPF program loaded or freed meanwhile): run again"
	die "trace-cmd wrote no trace.dat"
fi
if ! "$FRAGSCOPE" import "$dir/trace.dat" --chunk-events 65536 --start-snapshot "$dir/start.fst" --end-snapshot "$dir/end.fst" -o "$out"; then
	[ -n "$keep" ] && die "import failed (the capture is in '$keep')"
	die "import failed (-k DIR keeps the capture)"
fi
exit $status
