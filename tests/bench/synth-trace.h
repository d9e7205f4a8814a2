/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A model-generated trace of any length, for the seek benchmark and the timeline tests: the
 * allocator model is seeded from a real trace's header and start snapshot, driven in simulate
 * mode by a random allocation workload (buddy_alloc()/buddy_free()), and what the kernel's
 * tracepoints would show of it (mm_page_alloc, mm_page_free, mm_page_alloc_zone_locked,
 * mm_page_pcpu_drain, mm_page_alloc_extfrag, from the model's observer) is written with the
 * trace writer, followed by the model's own state as an exact end snapshot. Follow-mode
 * replay of the result starts from the same state, so it should need no resync.
 *
 * The workload: allocations of order 0 (most), 1-3 and pageblock order (THP), movable,
 * unmovable or reclaimable, on random CPUs; most frees release one of the latest 256
 * allocations (short-lived pages, as page cache and anonymous churn), the others a random
 * older one; the number of live pages follows a slow triangle wave so that memory fills,
 * fragments and empties again. Deterministic for a seed.
 *
 * Header-only (static functions): included by tests/bench/bench-seek.c and a unit test.
 */
#ifndef FRAGSCOPE_TESTS_SYNTH_TRACE_H
#define FRAGSCOPE_TESTS_SYNTH_TRACE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allocator/buddy.h"
#include "replay/engine.h"
#include "traces/trace.h"
#include "util/errors.h"

struct synth_opts {
	uint64_t nr_events;		/* at least this many events (the last operation completes) */
	uint64_t seed;			/* 0 = a fixed default */
	uint64_t live_pages_max;	/* peak of the live-page wave; 0 = seven eighths of the free pages */
	uint32_t chunk_events;		/* writer chunk size; 0 = default */
};

struct synth_stats {
	uint64_t events, allocs, frees, alloc_failures;
};

struct synth_ctx {
	const struct trace_header *h;
	struct buddy_model *m;
	struct trace_writer *w;
	uint64_t ts, gfp;		/* the current request's raw (kernel) gfp */
	unsigned cpu;
	int err;
};

static inline uint64_t synth_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int synth_kernel_mt(struct buddy_model *m, int role)
{
	return role >= 0 ? buddy_mt_to_kernel(m, role) : -1;
}

/* The model's tracepoint-like events, as the kernel would have written them. */
static void synth_observe(void *ctx, const struct buddy_event *be)
{
	struct synth_ctx *c = ctx;
	struct trace_event ev = { .cpu = be->cpu >= 0 ? (uint32_t)be->cpu : c->cpu, .mt = -1, .fallback_mt = -1 };

	switch (be->kind) {
	case BUDDY_EV_PAGE_ALLOC:
		ev.kind = TEV_PAGE_ALLOC;
		ev.gfp = c->gfp;
		ev.mt = (int8_t)synth_kernel_mt(c->m, be->mt);
		break;
	case BUDDY_EV_PAGE_FREE:
		ev.kind = TEV_PAGE_FREE;
		break;
	case BUDDY_EV_ZONE_LOCKED:
		ev.kind = TEV_PAGE_ALLOC_ZONE_LOCKED;
		ev.mt = (int8_t)synth_kernel_mt(c->m, be->mt);
		ev.flags = be->percpu_refill ? TEVF_PERCPU_REFILL : 0;
		break;
	case BUDDY_EV_PCPU_DRAIN:
		ev.kind = TEV_PAGE_PCPU_DRAIN;
		ev.mt = (int8_t)synth_kernel_mt(c->m, be->mt);
		break;
	case BUDDY_EV_EXTFRAG:
		ev.kind = TEV_PAGE_ALLOC_EXTFRAG;
		ev.mt = (int8_t)synth_kernel_mt(c->m, be->mt);
		ev.fallback_mt = (int8_t)synth_kernel_mt(c->m, be->fallback_mt);
		ev.fallback_order = (uint8_t)be->fallback_order;
		ev.flags = be->change_ownership > 0 ? TEVF_CHANGE_OWNERSHIP : 0;
		break;
	default:
		return;
	}
	if (c->err)
		return;
	ev.ts_ns = c->ts += 97;
	ev.pid = 1000 + ev.cpu;
	ev.order = (uint8_t)be->order;
	ev.pfn = be->pfn == BUDDY_PFN_NONE ? TRACE_PFN_NONE : be->pfn;
	ev.zone = ev.pfn == TRACE_PFN_NONE ? TRACE_ZONE_UNKNOWN : trace_header_zone_of(c->h, ev.pfn);
	c->err = trace_writer_event(c->w, &ev);
}

/* The raw gfp of the OR of the trace's flags named in names (NULL-terminated), or 0 with
 * *missing set to a name the trace lacks. */
static uint64_t synth_gfp(const struct trace_header *h, const char *const *names, const char **missing)
{
	uint64_t g = 0;

	for (; *names; names++) {
		uint32_t i;

		for (i = 0; i < h->nr_gfp_flags; i++)
			if (!strcmp(h->gfp_flags[i].name, *names))
				break;
		if (i == h->nr_gfp_flags) {
			*missing = *names;
			return 0;
		}
		g |= h->gfp_flags[i].mask;
	}
	return g;
}

/* Writes a model-generated trace of at least o->nr_events events to out, seeded from the
 * trace `from`. 0 or a negative error with errbuf set. */
static int synth_trace(const char *from, const char *out, const struct synth_opts *o, struct synth_stats *st,
		       char *errbuf, size_t len)
{
	static const char *const movable[] = { "GFP_HIGHUSER_MOVABLE", NULL };
	static const char *const unmovable[] = { "GFP_KERNEL", NULL };
	static const char *const reclaimable[] = { "GFP_KERNEL", "__GFP_RECLAIMABLE", NULL };
	static const char *const thp[] = { "GFP_TRANSHUGE", NULL };
	const char *missing = NULL;
	struct replay_opts ro = { .sz = sizeof(ro), .mode = REPLAY_FOLLOW };
	struct trace_writer_opts wo = { .sz = sizeof(wo), .chunk_events = o->chunk_events };
	struct trace_reader *rd;
	struct trace_header h2;
	struct trace_snapshot start, end;
	struct trace_kv *kv = NULL;
	struct replay *r = NULL;
	struct synth_ctx c = { 0 };
	struct buddy_gfp_map map = { 0 };
	uint64_t raw[4], model[4], x = o->seed ? o->seed : 0x2545f4914f6cdd1dULL;
	uint64_t *lpfn = NULL, nlive = 0, cap = 0, live_pages = 0, wave_max, free_pages = 0;
	uint8_t *lorder = NULL;
	int err;

	memset(st, 0, sizeof(*st));
	rd = trace_reader_open(from, &err, errbuf, len);
	if (!rd)
		return err;
	c.h = trace_reader_header(rd);
	if (!trace_reader_snapshot(rd, TRACE_SNAP_START)) {
		snprintf(errbuf, len, "'%.200s': no start snapshot", from);
		trace_reader_close(rd);
		return FS_ERRNO__NO_SNAPSHOT;
	}
	start = *trace_reader_snapshot(rd, TRACE_SNAP_START);
	raw[0] = synth_gfp(c.h, movable, &missing);
	raw[1] = synth_gfp(c.h, unmovable, &missing);
	raw[2] = synth_gfp(c.h, reclaimable, &missing);
	raw[3] = synth_gfp(c.h, thp, &missing);
	if (missing) {
		snprintf(errbuf, len, "'%.200s': no gfp flag '%s' in the header", from, missing);
		trace_reader_close(rd);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c.h->nr_gfp_flags; i++)
		buddy_gfp_map_add(&map, c.h->gfp_flags[i].name, c.h->gfp_flags[i].mask);
	for (int i = 0; i < 4; i++)
		model[i] = buddy_gfp_translate(&map, raw[i]);
	r = replay_new(c.h, &start, &ro, &err, errbuf, len);
	if (!r) {
		trace_reader_close(rd);
		return err;
	}
	c.m = replay_model(r);
	for (unsigned z = 0; z < buddy_nr_zones(c.m); z++) {
		struct buddy_zone_stats zs;

		if (!buddy_zone_stats(c.m, (int)z, &zs))
			free_pages += zs.nr_free_pages;
	}
	wave_max = o->live_pages_max ? o->live_pages_max : free_pages - free_pages / 8;
	/* the header says what made this file */
	h2 = *c.h;
	kv = malloc((h2.nr_kv + 1) * sizeof(*kv));
	if (!kv) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(kv, c.h->kv, h2.nr_kv * sizeof(*kv));
	kv[h2.nr_kv++] = (struct trace_kv){ .key = "capture.synthetic",
					    .value = "model-generated (tests/bench/synth-trace.h): the allocator model "
						     "seeded from a real trace, driven by a random workload" };
	h2.kv = kv;
	c.w = trace_writer_open(out, &wo, &err);
	if (!c.w) {
		snprintf(errbuf, len, "cannot create '%.200s': %s", out, fragscope_strerror(err));
		goto out;
	}
	start.event_seq = 0;
	err = trace_writer_header(c.w, &h2);
	if (!err)
		err = trace_writer_snapshot(c.w, &start);
	if (err) {
		snprintf(errbuf, len, "'%.200s': %s", out, fragscope_strerror(err));
		goto out;
	}
	c.ts = start.ts_ns + start.duration_ns + 1000;
	buddy_set_observer(c.m, synth_observe, &c);
	for (uint64_t step = 0; !c.err && trace_writer_events(c.w) < o->nr_events; step++) {
		/* live-page target: a triangle wave over 2^22 operations */
		uint64_t ph = step & ((1ULL << 22) - 1), target;
		uint64_t rnd = synth_rand(&x);
		bool do_alloc;

		target = ph < (1ULL << 21) ? ph : (1ULL << 22) - ph;
		target = wave_max / 8 + (wave_max - wave_max / 8) * target / (1ULL << 21);
		do_alloc = !nlive || (rnd & 0xff) < (live_pages < target ? 160 : 96);
		c.cpu = (unsigned)((rnd >> 8) % buddy_nr_cpus(c.m));
		if (do_alloc) {
			struct buddy_alloc_req req = { .mt = BUDDY_MT_NONE, .highest_zone_type = -1, .nid = -1,
						       .cpu = c.cpu };
			struct buddy_alloc_res res;
			unsigned k = (unsigned)((rnd >> 16) % 100), t;

			req.order = k < 85 ? 0 : k < 97 ? 1 + k % 3 : c.h->pageblock_order;
			t = req.order == c.h->pageblock_order ? 3 : (rnd >> 24) % 10 < 7 ? 0 : (rnd >> 24) % 10 < 9 ? 1 : 2;
			req.gfp = (uint32_t)model[t];
			c.gfp = raw[t];
			err = buddy_alloc(c.m, &req, &res);
			st->allocs++;
			if (err == -ENOMEM) {
				st->alloc_failures++;
				continue;
			}
			if (err) {
				snprintf(errbuf, len, "model: %s", buddy_last_error(c.m));
				goto out;
			}
			if (nlive == cap) {
				uint64_t ncap = cap ? cap * 2 : 65536;
				uint64_t *a = realloc(lpfn, ncap * sizeof(*a));
				uint8_t *b;

				if (!a) {
					err = -ENOMEM;
					goto out;
				}
				lpfn = a;
				b = realloc(lorder, ncap);
				if (!b) {
					err = -ENOMEM;
					goto out;
				}
				lorder = b;
				cap = ncap;
			}
			lpfn[nlive] = res.pfn;
			lorder[nlive++] = (uint8_t)req.order;
			live_pages += 1ULL << req.order;
		} else {
			/* most frees: one of the latest 256 allocations; else any */
			uint64_t i = (rnd >> 32) % 8 ? nlive - 1 - (rnd >> 40) % (nlive < 256 ? nlive : 256)
						    : (rnd >> 20) % nlive;

			err = buddy_free(c.m, lpfn[i], lorder[i], c.cpu, BUDDY_FPI_NONE);
			if (err) {
				snprintf(errbuf, len, "model: %s", buddy_last_error(c.m));
				goto out;
			}
			st->frees++;
			live_pages -= 1ULL << lorder[i];
			lpfn[i] = lpfn[nlive - 1];
			lorder[i] = lorder[--nlive];
		}
	}
	err = c.err;
	if (!err) {
		/* the model's own state is the exact end snapshot */
		err = replay_snapshot_model(r, trace_writer_events(c.w), &end);
		if (!err) {
			end.which = TRACE_SNAP_END;
			end.ts_ns = c.ts + 1000;
			err = trace_writer_snapshot(c.w, &end);
			trace_snapshot_release(&end);
		}
	}
	st->events = trace_writer_events(c.w);
	if (err)
		snprintf(errbuf, len, "'%.200s': %s", out, fragscope_strerror(err));
out:
	if (c.w) {
		int e = trace_writer_close(c.w);

		if (!err && e) {
			err = e;
			snprintf(errbuf, len, "'%.200s': %s", out, fragscope_strerror(err));
		}
	}
	free(kv);
	free(lpfn);
	free(lorder);
	replay_free(r);
	trace_reader_close(rd);
	return err;
}

#endif
