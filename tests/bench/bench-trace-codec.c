// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace writer and reader on a synthetic kmem-like stream (2M events: pcp-hit allocations,
 * frees, refills with zone_locked runs, batched frees, drains, on 2 CPUs): how fast the writer
 * (the collector's bottleneck) and the reader go, and how small the file is. No peer: the
 * comparison with trace-cmd on a real capture is tests/bench/trace-bench.sh. The fields here are
 * drawn at random (about 30 bits of entropy per event), so its bytes per event are a worst case,
 * not what real kmem streams cost (1.5-2.8 B/event measured).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "traces/trace.h"

#define NR_EVENTS 2000000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(void)
{
	struct trace_header h = { .page_size = 4096, .pageblock_order = 9, .nr_orders = 11, .nr_cpus = 2 };
	struct trace_event *ev = calloc(NR_EVENTS, sizeof(*ev));
	char path[256];
	const char *tmp = getenv("FRAGSCOPE_TMP");
	struct trace_writer *w;
	struct trace_reader *r;
	struct trace_event e;
	uint64_t ts = 1000000000, pfn[2] = { 0x120000, 0x200000 }, n = 0, sum = 0;
	double t0, t1, t2;
	struct stat st;
	int err;

	snprintf(h.kernel_release, sizeof(h.kernel_release), "synthetic");
	snprintf(path, sizeof(path), "%s/bench-codec-%d.fst", tmp ? tmp : "/tmp", (int)getpid());
	for (uint64_t i = 0; i < NR_EVENTS; i++) {
		struct trace_event *x = &ev[i];
		uint32_t cpu = (uint32_t)(rnd() % 8 == 0);
		uint64_t k = rnd() % 100;

		ts += 200 + rnd() % 3000;
		x->ts_ns = ts;
		x->cpu = cpu;
		x->pid = 4000 + (uint32_t)(rnd() % 4);
		x->mt = -1;
		x->fallback_mt = -1;
		x->zone = 2;
		if (k < 45) {
			x->kind = TEV_PAGE_ALLOC;
			x->pfn = pfn[cpu] + rnd() % 64;
			x->gfp = (k & 1) ? 0x140dca : 0xcc0;
			x->mt = (k & 1) ? 1 : 0;
		} else if (k < 88) {
			x->kind = TEV_PAGE_FREE;
			x->pfn = pfn[cpu] - rnd() % 4096;
		} else if (k < 93) {
			x->kind = TEV_PAGE_ALLOC_ZONE_LOCKED;
			x->pfn = ++pfn[cpu];
			x->mt = 1;
			x->flags = TEVF_PERCPU_REFILL;
		} else if (k < 97) {
			x->kind = TEV_PAGE_FREE_BATCHED;
			x->pfn = pfn[cpu] - rnd() % 512;
		} else {
			x->kind = TEV_PAGE_PCPU_DRAIN;
			x->pfn = 0x100000 + rnd() % 0x400000;
			x->mt = 1;
		}
		if (rnd() % 200 == 0)
			pfn[cpu] = 0x100000 + rnd() % 0x400000;
	}
	t0 = now();
	w = trace_writer_open(path, NULL, &err);
	if (!w || trace_writer_header(w, &h))
		return 1;
	for (uint64_t i = 0; i < NR_EVENTS; i++)
		if (trace_writer_event(w, &ev[i]))
			return 1;
	if (trace_writer_close(w))
		return 1;
	t1 = now();
	r = trace_reader_open(path, &err, NULL, 0);
	if (!r)
		return 1;
	while (trace_reader_next(r, &e) > 0) {
		n++;
		sum += e.pfn;
	}
	t2 = now();
	trace_reader_close(r);
	if (n != NR_EVENTS || stat(path, &st))
		return 1;
	unlink(path);
	printf("bench trace_write_rate %.0f events/s\n", NR_EVENTS / (t1 - t0));
	printf("bench trace_decode_rate %.0f events/s\n", NR_EVENTS / (t2 - t1));
	printf("bench trace_bytes_per_event_random_fields %.3f B\n", (double)st.st_size / NR_EVENTS);
	fprintf(stderr, "bench-trace-codec: checksum %llu\n", (unsigned long long)sum);
	free(ev);
	return 0;
}
