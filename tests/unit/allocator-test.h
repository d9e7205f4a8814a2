/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the allocator unit tests: tiny zones described as strings, state dumps. */
#ifndef FRAGSCOPE_ALLOCATOR_TEST_H
#define FRAGSCOPE_ALLOCATOR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "allocator/buddy.h"
#include "util/errors.h"

/* profile bits for tables */
#define P61 1
#define P612E 2
#define P612 4
#define P618 8
#define PALL (P61 | P612E | P612 | P618)

static const char *const prof_names[] = { "linux-6.1", "linux-6.12e", "linux-6.12", "linux-6.18" };

static inline int mt_of_char(char c)
{
	switch (c) {
	case 'U': return BUDDY_MT_UNMOVABLE;
	case 'M': return BUDDY_MT_MOVABLE;
	case 'R': return BUDDY_MT_RECLAIMABLE;
	case 'H': return BUDDY_MT_HIGHATOMIC;
	case 'I': return BUDDY_MT_ISOLATE;
	default: return BUDDY_MT_NONE;
	}
}

static inline char char_of_mt(int mt)
{
	return mt >= 0 && mt < BUDDY_MT_NR ? "UMRHCI"[mt] : '?';
}

struct tzone {			/* a tiny zone for a table row */
	unsigned nr_orders;	/* 0 = 5 */
	unsigned pbo;		/* 0 = 3 */
	uint64_t start, span;	/* 0/0 = 0..63 */
	uint64_t managed;	/* 0 = present */
	uint64_t wmin, wlow, whigh;
	const char *pb;		/* one char per pageblock from pfn 0: U M R H I */
	const char *free;	/* "M2@4 U0@17": free blocks in list order (mt, order, pfn) */
	int pcp_batch, pcp_high;	/* 0/0 = pcp disabled (high 0, batch 1) */
	unsigned nr_cpus;
};

static inline void check_ok(struct buddy_model *m)
{
	int err = buddy_check(m);

	if (err)
		fail_msg("%s", buddy_last_error(m));
}

static inline struct buddy_model *tzone_new(const struct tzone *t, int prof)
{
	struct buddy_config c;
	struct buddy_zone_config zc;
	struct buddy_pcp_config pcp[4];
	char eb[256];
	int err;
	struct buddy_model *m;

	buddy_config_init(&c);
	assert_int_equal(buddy_profile_by_name(prof_names[prof], &c.profile), 0);
	memset(&zc, 0, sizeof(zc));
	strcpy(zc.name, "Normal");
	zc.zone_type = BUDDY_ZONE_NORMAL;
	zc.start_pfn = t->start;
	zc.spanned = t->span ? t->span : 64;
	zc.managed = t->managed;
	zc.wmark_min = t->wmin;
	zc.wmark_low = t->wlow;
	zc.wmark_high = t->whigh;
	c.nr_orders = t->nr_orders ? t->nr_orders : 5;
	c.pageblock_order = t->pbo ? t->pbo : 3;
	c.nr_cpus = t->nr_cpus ? t->nr_cpus : 1;
	c.nr_zones = 1;
	c.zones = &zc;
	if (t->pcp_batch) {
		for (unsigned k = 0; k < 4; k++) {
			pcp[k].batch = (uint32_t)t->pcp_batch;
			pcp[k].high = pcp[k].high_min = pcp[k].high_max = (uint32_t)t->pcp_high;
		}
		zc.pcp = pcp;
	} else {
		c.no_zone_batchsize_defaults = true;
	}
	m = buddy_new(&c, &err, eb, sizeof(eb));
	if (!m)
		fail_msg("buddy_new: %s", eb);
	if (t->pb) {
		uint64_t bs = 1ull << c.pageblock_order;

		for (size_t b = 0; t->pb[b]; b++) {
			uint64_t pfn = b * bs;

			if (pfn < zc.start_pfn)
				pfn = zc.start_pfn;
			assert_int_equal(buddy_seed_pageblock(m, pfn, mt_of_char(t->pb[b]), false), 0);
		}
	}
	if (t->free) {
		const char *p = t->free;

		while (*p) {
			char c0;
			unsigned o;
			unsigned long long pfn;
			int n = 0;

			if (*p == ' ') {
				p++;
				continue;
			}
			assert_int_equal(sscanf(p, "%c%u@%llu%n", &c0, &o, &pfn, &n), 3);
			if (buddy_seed_free_block(m, pfn, o, mt_of_char(c0)))
				fail_msg("seed %s: %s", p, buddy_last_error(m));
			p += n;
		}
	}
	check_ok(m);
	return m;
}

/* "U0:5 U1:6 M3:8,16": every non-empty free list, list order */
static inline void dump_lists(struct buddy_model *m, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int mt = 0; mt < BUDDY_MT_NR; mt++)
		for (unsigned o = 0; o < buddy_nr_orders(m); o++) {
			uint64_t pfn = buddy_free_list_first(m, 0, o, mt);

			if (pfn == BUDDY_PFN_NONE)
				continue;
			off += (size_t)snprintf(buf + off, len - off, "%s%c%u:", off ? " " : "", char_of_mt(mt), o);
			for (int k = 0; pfn != BUDDY_PFN_NONE; k++, pfn = buddy_free_list_next(m, pfn))
				off += (size_t)snprintf(buf + off, len - off, "%s%llu", k ? "," : "",
							(unsigned long long)pfn);
		}
}

/* pageblock types of zone 0 from pfn 0: "UMMM" */
static inline void dump_pb(struct buddy_model *m, char *buf, size_t len, unsigned nr_blocks)
{
	unsigned pbo = buddy_pageblock_order(m);
	size_t k;

	for (k = 0; k < nr_blocks && k + 1 < len; k++) {
		int mt = buddy_pageblock_type(m, ((uint64_t)k << pbo) | ((1u << pbo) - 1));

		buf[k] = char_of_mt(mt);
	}
	buf[k] = '\0';
}

/* "Z4/0/U/1" zone_locked pfn/order/mt/percpu_refill; "E4/0/2/U/M/1" extfrag; "D3/0/M" pcpu_drain */
static inline size_t fmt_event(const struct buddy_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case BUDDY_EV_ZONE_LOCKED:
		return (size_t)snprintf(buf, len, "Z%llu/%u/%c/%d", (unsigned long long)ev->pfn, ev->order,
					char_of_mt(ev->mt), ev->percpu_refill);
	case BUDDY_EV_EXTFRAG:
		return (size_t)snprintf(buf, len, "E%llu/%u/%u/%c/%c/%d", (unsigned long long)ev->pfn, ev->order,
					ev->fallback_order, char_of_mt(ev->mt), char_of_mt(ev->fallback_mt),
					ev->change_ownership);
	case BUDDY_EV_PCPU_DRAIN:
		return (size_t)snprintf(buf, len, "D%llu/%u/%c", (unsigned long long)ev->pfn, ev->order,
					char_of_mt(ev->mt));
	default:
		return 0;
	}
}

struct evlog {
	char buf[4096];
	size_t off;
};

static inline void evlog_cb(void *ctx, const struct buddy_event *ev)
{
	struct evlog *l = ctx;
	char one[96];
	size_t n = fmt_event(ev, one, sizeof(one));

	if (!n || l->off + n + 2 >= sizeof(l->buf))
		return;
	l->off += (size_t)snprintf(l->buf + l->off, sizeof(l->buf) - l->off, "%s%s", l->off ? " " : "", one);
}

#endif
