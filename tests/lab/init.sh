#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the fragscope lab initramfs (busybox sh). Reads its settings from the kernel command
# line (fslab_*=...), captures a workload's page-allocator events, and sends /out back to the host
# as a gzip'ed tar over the second UART (/dev/ttyS1): no kernel modules are needed.
#   fslab_capture=record|tracefs|both|none  record: fragscope record (BPF) around the workload;
#                                      tracefs: the six kmem events through tracefs (text trace);
#                                      both: the two at once (a cross-check of record)
#   fslab_workload=NAME                fragscope workload NAME (or sh-fill, a busybox-only filler)
#   fslab_wargs=a,b,c                  extra workload arguments (commas become spaces)
#   fslab_compaction=off|on            off: vm.compaction_proactiveness=0, vm.extfrag_threshold=1000
#   fslab_buf=KB                       tracefs buffer per CPU (tracefs capture only)
#   fslab_rbuf=SIZE                    fragscope record --buffer (its 64M default is a quarter of
#                                      a 256M guest)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=50% tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

say() { echo "fslab: $* (uptime $(cut -d' ' -f1 /proc/uptime))"; }
finish() {
	rc=$1
	say "capture finished rc=$rc"
	echo "$rc" > /out/rc
	dmesg > /out/dmesg.txt
	(cd /out && tar c . | gzip -1 > /tmp/out.tgz)
	size=$(wc -c < /tmp/out.tgz)
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	cat /tmp/out.tgz > /dev/ttyS1
	say "output $size bytes"
	sync
	poweroff -f
	sleep 5
}

capture=record workload=fragment wargs= compaction=off buf=16384 rbuf=8M
for a in $(cat /proc/cmdline); do
	case "$a" in
	fslab_capture=*) capture=${a#*=} ;;
	fslab_workload=*) workload=${a#*=} ;;
	fslab_wargs=*) wargs=$(echo "${a#*=}" | tr , ' ') ;;
	fslab_compaction=*) compaction=${a#*=} ;;
	fslab_buf=*) buf=${a#*=} ;;
	fslab_rbuf=*) rbuf=${a#*=} ;;
	esac
done
mkdir -p /out /work
say "init: capture=$capture workload=$workload compaction=$compaction kernel $(uname -r)"
uname -a > /out/uname.txt

if [ "$compaction" = off ]; then
	# Compaction takes pages from the free lists without any kmem event: keep it quiet for
	# exact replay (the trace header records the sysctls, the lab records this setting).
	sysctl -qw vm.compaction_proactiveness=0 vm.extfrag_threshold=1000
fi
for k in compaction_proactiveness extfrag_threshold watermark_boost_factor watermark_scale_factor \
	 percpu_pagelist_high_fraction min_free_kbytes; do
	[ -r /proc/sys/vm/$k ] && echo "vm.$k=$(cat /proc/sys/vm/$k)"
done > /out/sysctl.txt
for f in pagetypeinfo zoneinfo buddyinfo meminfo vmstat; do cat /proc/$f > /out/$f.before; done

run_workload() {
	if [ "$workload" = sh-fill ]; then
		# busybox-only filler: page cache in 64 KiB tmpfs files, every other one freed
		i=0
		while dd if=/dev/zero of=/work/f$i bs=64k count=1 2>/dev/null && [ $i -lt 1500 ]; do i=$((i + 1)); done
		while [ $i -gt 0 ]; do rm -f /work/f$i; i=$((i - 2)); done
	else
		fragscope workload "$workload" $wargs
	fi
}

t=/sys/kernel/tracing
tracefs_setup() {	# the six kmem events into the ring buffer, mono clock (as bpf_ktime_get_ns)
	echo 0 > $t/tracing_on
	echo mono > $t/trace_clock
	echo "$buf" > $t/buffer_size_kb
	echo > $t/trace
	mkdir -p /out/format
	for e in mm_page_alloc mm_page_alloc_zone_locked mm_page_free mm_page_free_batched \
		 mm_page_pcpu_drain mm_page_alloc_extfrag; do
		echo 1 > $t/events/kmem/$e/enable || rc=65
		cat $t/events/kmem/$e/format > /out/format/$e.format
	done
}
tracefs_dump() {
	cat $t/per_cpu/cpu*/stats > /out/trace_stats.txt
	cat $t/trace > /out/trace.txt
	say "tracefs text written ($(wc -l < /out/trace.txt) lines)"
}
# failed WHAT STATUS: the guest's capture failed; /out/failure says what for the host
failed() {
	[ -s /out/failure ] || echo "$1 exited with status $2" > /out/failure
	say "$1 exited with status $2"
	[ "$rc" != 0 ] || rc=$2
}
record() {
	say "record start"
	r=0
	fragscope record --buffer "$rbuf" -o /out/trace.fst -- fragscope workload "$workload" $wargs \
		> /out/record.log 2>&1 || r=$?
	cat /out/record.log
	# record may exit 0 after its command failed: it then says "'fragscope' exited with status N"
	st=$(sed -n "s/.*'fragscope' exited with status \([0-9][0-9]*\).*/\1/p" /out/record.log | tail -n 1)
	[ -z "$st" ] || failed "the guest's 'fragscope workload $workload${wargs:+ $wargs}'" "$st"
	[ "$r" = 0 ] || failed "the guest's 'fragscope record'" "$r"
}

rc=0
case "$capture" in
record)
	record
	;;
tracefs)
	# the machine header (zones, migratetypes, sysctls) of this kernel for the host's import
	fragscope record -d 20ms -o /out/header.fst > /out/header.log 2>&1 || say "no header.fst (see header.log)"
	tracefs_setup
	say "tracefs start"
	echo 1 > $t/tracing_on
	r=0
	run_workload > /out/workload.log 2>&1 || r=$?
	[ "$r" = 0 ] || failed "the guest's workload '$workload${wargs:+ $wargs}'" "$r"
	echo 0 > $t/tracing_on
	say "tracefs stop"
	tracefs_dump
	;;
both)	# record and tracefs over the same run: a cross-check of the collector
	tracefs_setup
	echo 1 > $t/tracing_on
	record
	echo 0 > $t/tracing_on
	tracefs_dump
	;;
none)
	r=0
	run_workload > /out/workload.log 2>&1 || r=$?
	[ "$r" = 0 ] || failed "the guest's workload '$workload${wargs:+ $wargs}'" "$r"
	;;
*)
	say "unknown capture '$capture'"; rc=66 ;;
esac
for f in pagetypeinfo zoneinfo buddyinfo meminfo vmstat; do cat /proc/$f > /out/$f.after; done
finish $rc
