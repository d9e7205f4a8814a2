// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fallback snapshot, for when BPF cannot read the allocator's state: free blocks from
 * /proc/kpageflags (KPF_BUDDY is set on every page of a free buddy block), cut into the largest
 * aligned blocks, which reproduces the buddy orders; plus /proc/pagetypeinfo counts. It has no
 * migratetypes, no list order and no per-cpu lists, and it is read without locks over about a
 * second, so it is marked as such.
 */
#include "collector/collector-local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define KPF_BUDDY 10
#define KPF_CHUNK (1u << 18)	/* pfns per read */

struct fb_vec {
	struct trace_free_block *v;
	uint64_t n, cap;
};

static int fb_push(struct fb_vec *f, uint64_t pfn, uint16_t zone, uint8_t order)
{
	if (f->n == f->cap) {
		uint64_t cap = f->cap ? f->cap * 2 : 4096;
		struct trace_free_block *p = realloc(f->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->v = p;
		f->cap = cap;
	}
	f->v[f->n].pfn = pfn;
	f->v[f->n].zone = zone;
	f->v[f->n].order = order;
	f->v[f->n].mt = -1;
	f->n++;
	return 0;
}

/* Cuts the free run [s, e) into the largest naturally aligned blocks, as the buddy allocator
 * keeps them merged (mirrors the merging of mm/page_alloc.c __free_one_page(), all versions) */
int collector_split_run(uint64_t s, uint64_t e, uint32_t max_order, uint16_t zone,
			int (*emit)(void *ctx, uint64_t pfn, uint16_t zone, uint8_t order), void *ctx)
{
	while (s < e) {
		uint32_t k = max_order;

		while (k > 0 && ((s & ((1ull << k) - 1)) || s + (1ull << k) > e))
			k--;
		if (emit(ctx, s, zone, (uint8_t)k))
			return -ENOMEM;
		s += 1ull << k;
	}
	return 0;
}

static int emit_fb(void *ctx, uint64_t pfn, uint16_t zone, uint8_t order)
{
	return fb_push(ctx, pfn, zone, order);
}

int collector_kpageflags_snapshot(struct collector *c, const struct collector_zone *zones, uint32_t nr_zones,
				  uint32_t nr_orders, struct trace_snapshot *s, char *summary, size_t summary_len)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	uint64_t *buf = NULL, t0 = collector_now_ns(), agree = 0, lists = 0, absdiff = 0;
	struct fb_vec fb = {};
	struct pti pti = {};
	int err = 0;

	(void)c;
	if (fd < 0) {
		err = -errno;
		pr_err("cannot read '/proc/kpageflags': %s", strerror(errno));
		return err;
	}
	buf = malloc(KPF_CHUNK * sizeof(uint64_t));
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (uint32_t zi = 0; zi < nr_zones && !err; zi++) {
		const struct collector_zone *z = &zones[zi];
		uint64_t pfn = z->start_pfn, end = z->start_pfn + z->spanned, run = UINT64_MAX;

		while (pfn < end && !err) {
			uint64_t n = end - pfn > KPF_CHUNK ? KPF_CHUNK : end - pfn;
			ssize_t got = pread(fd, buf, n * sizeof(uint64_t), (off_t)(pfn * sizeof(uint64_t)));

			if (got <= 0) {
				err = got < 0 ? -errno : -EIO;
				break;
			}
			n = (uint64_t)got / sizeof(uint64_t);
			for (uint64_t i = 0; i < n && !err; i++) {
				bool free_page = (buf[i] >> KPF_BUDDY) & 1;

				if (free_page && run == UINT64_MAX)
					run = pfn + i;
				else if (!free_page && run != UINT64_MAX) {
					err = collector_split_run(run, pfn + i, nr_orders - 1, (uint16_t)zi, emit_fb, &fb);
					run = UINT64_MAX;
				}
			}
			pfn += n;
		}
		if (!err && run != UINT64_MAX)
			err = collector_split_run(run, pfn, nr_orders - 1, (uint16_t)zi, emit_fb, &fb);
	}
	free(buf);
	close(fd);
	if (err) {
		free(fb.v);
		pr_err("cannot read '/proc/kpageflags': %s", strerror(-err));
		return err;
	}
	s->method = TRACE_SNAP_KPAGEFLAGS;
	s->flags = TRACE_SNAPF_FREE_BLOCKS;
	s->duration_ns = collector_now_ns() - t0;
	s->nr_free_blocks = fb.n;
	s->free_blocks = fb.v;

	/* counts from pagetypeinfo, and how the blocks per (zone, order) compare with them */
	if (!collector_pti_read(&pti)) {
		err = collector_counts_from_pti(zones, nr_zones, &pti, s);
		for (uint32_t i = 0; !err && i < s->nr_counts; i++) {
			const struct trace_zone_counts *tc = &s->counts[i];

			for (uint32_t o = 0; o < tc->nr_orders; o++) {
				uint64_t want = 0, have = 0;

				for (uint32_t t = 0; t < tc->nr_migratetypes; t++)
					want += tc->nr_free[o * tc->nr_migratetypes + t];
				for (uint64_t b = 0; b < fb.n; b++)
					if (fb.v[b].zone == tc->zone && fb.v[b].order == o)
						have++;
				lists++;
				if (have == want)
					agree++;
				else
					absdiff += have > want ? have - want : want - have;
			}
		}
		if (err) {
			collector_pti_release(&pti);
			pr_err("cannot keep the /proc/pagetypeinfo counts: %s", strerror(-err));
			return err;
		}
		if (s->nr_counts)
			s->flags |= TRACE_SNAPF_COUNTS;
		collector_pti_release(&pti);
	}
	snprintf(summary, summary_len,
		 "%s snapshot (fallback, /proc/kpageflags): %llu free blocks, no migratetypes, list order or pcp; "
		 "vs /proc/pagetypeinfo: free blocks per order %llu/%llu equal (sum of differences %llu blocks)",
		 s->which == TRACE_SNAP_START ? "start" : "end", (unsigned long long)fb.n, (unsigned long long)agree,
		 (unsigned long long)lists, (unsigned long long)absdiff);
	if (asprintf(&s->note,
		     "/proc/kpageflags fallback, read unlocked in %.0f ms: free blocks are the largest aligned blocks "
		     "of KPF_BUDDY runs (buddies of unmergeable types may appear merged); no migratetypes, no list "
		     "order, no per-cpu lists. Free blocks per (zone, order) vs /proc/pagetypeinfo: %llu/%llu equal, "
		     "sum |diff| %llu.",
		     s->duration_ns / 1e6, (unsigned long long)agree, (unsigned long long)lists,
		     (unsigned long long)absdiff) < 0)
		s->note = NULL;
	return 0;
}
