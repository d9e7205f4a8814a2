/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * allocator/ internals: the model's state layout, shared by buddy*.c and visible to tests.
 * Not part of the public API (allocator/buddy.h is).
 */
#ifndef FRAGSCOPE_BUDDY_LOCAL_H
#define FRAGSCOPE_BUDDY_LOCAL_H

#include "allocator/buddy.h"
#include <string.h>

#define NIL UINT32_MAX

/* Per page frame state: 12 bytes (the model's working set: ~75 MB for 24 GiB). Only block heads
 * carry a state; pages inside a block are PS_NONE (so a split or merge touches only heads, as
 * the kernel's PageBuddy does). A page of all zero bytes is buddy_new()'s state, an allocated
 * order-0 block of unknown owner with no links: a fresh array needs no writes, and the kernel
 * never has to provide (zero) the parts of it that nothing writes. */
enum page_state {
	PS_ALLOC = 0,	/* head of an allocated block: order, mt = owner's migratetype (or MT_UNKNOWN) */
	PS_NONE,	/* inside a block whose head is elsewhere */
	PS_HOLE,	/* no memory (outside the zone span, or a hole) */
	PS_FREE,	/* head of a free buddy block: order, mt = the list it is on */
	PS_PCP,		/* head of a block on a pcp list: order, mt = list mt, cpu, cmt = 6.1 cached mt */
};

/* an owner's migratetype not known (mt is 4 bits: roles are below BUDDY_MT_NR) */
#define MT_UNKNOWN 0xf

/* The links and mt are stored encoded so that zero bytes mean NIL and MT_UNKNOWN: use the
 * accessors below. */
struct bpage {
	uint32_t next_x, prev_x;	/* intrusive list links (zone-relative indices) + 1: 0 = NIL */
	/* bit-fields of one 32-bit word rather than uint8_t: stores through a char type alias
	 * everything and would make the compiler reload the model's fields after each one.
	 * order < BUDDY_MAX_ORDERS, mt and cmt < BUDDY_MT_NR or MT_UNKNOWN, cpu < 65536 (buddy_new
	 * checks nr_cpus). */
	uint32_t state : 3;
	uint32_t order : 5;
	uint32_t mt_x : 4;	/* mt ^ MT_UNKNOWN */
	uint32_t cmt : 4;
	uint32_t cpu : 16;
};

static inline uint32_t bp_next(const struct bpage *pg)
{
	return pg->next_x - 1;	/* 0 - 1 = NIL */
}

static inline uint32_t bp_prev(const struct bpage *pg)
{
	return pg->prev_x - 1;
}

static inline void bp_set_next(struct bpage *pg, uint32_t i)
{
	pg->next_x = i + 1;	/* NIL + 1 = 0 */
}

static inline void bp_set_prev(struct bpage *pg, uint32_t i)
{
	pg->prev_x = i + 1;
}

static inline int bp_mt(const struct bpage *pg)
{
	return (int)(pg->mt_x ^ MT_UNKNOWN);
}

static inline void bp_set_mt(struct bpage *pg, int mt)
{
	pg->mt_x = ((unsigned)mt ^ MT_UNKNOWN) & MT_UNKNOWN;	/* the low 4 bits, as a 4-bit field keeps */
}

/* initialiser of a template page's mt */
#define BP_MT(mt) .mt_x = ((mt) ^ MT_UNKNOWN) & MT_UNKNOWN

_Static_assert(BUDDY_MT_NR < MT_UNKNOWN && BUDDY_MAX_ORDERS <= 32, "struct bpage fields too narrow");
_Static_assert(sizeof(struct bpage) == 12, "struct bpage: two links and one word of fields");

/* The fields' word as one value, for whole-array passes (seeding): compared and stored against
 * words made from template pages, so the bit-fields' layout stays the compiler's business. */
static inline uint32_t bpage_word(const struct bpage *pg)
{
	uint32_t w;

	memcpy(&w, (const char *)pg + 2 * sizeof(uint32_t), sizeof(w));
	return w;
}

static inline void bpage_set_word(struct bpage *pg, uint32_t w)
{
	memcpy((char *)pg + 2 * sizeof(uint32_t), &w, sizeof(w));
}

struct flist {
	uint32_t head, tail;
	uint64_t nr;
};

/* pcp flags (6.7+) */
#define PCPF_PREV_FREE_HIGH_ORDER 1
#define PCPF_FREE_HIGH_BATCH 2

struct bpcp {
	int64_t count;		/* base pages on all lists */
	int high, batch, high_min, high_max;
	int free_factor;	/* 6.1 */
	int free_count;		/* 6.12+ */
	int alloc_factor;	/* 6.12+ */
	int flags;
	struct flist *lists;	/* nr_pcp_lists */
};

#define PB_ISOLATE_BIT 0x80	/* 6.18: isolate bit kept apart from the type */

struct bzone {
	char name[BUDDY_NAME_MAX];
	uint32_t node, zone_type;
	uint64_t start_pfn, end_pfn;	/* the span */
	uint64_t base;			/* pfn of pages[0]: start aligned down to the max-order block */
	uint64_t n;			/* pages[] length */
	uint64_t present, managed;
	struct bpage *pages;
	uint8_t *pb;			/* pageblock types (roles), index (pfn - base) >> pageblock_order */
	uint64_t nr_pb;
	struct flist *free;		/* [order * BUDDY_MT_NR + mt] */
	uint64_t nr_free[BUDDY_MAX_ORDERS];
	int64_t free_pages_mt[BUDDY_MT_NR];	/* base pages on each type's lists */
	int64_t nr_free_pages;			/* NR_FREE_PAGES: all lists but ISOLATE */
	uint64_t wmark[3];
	uint64_t boost;
	uint64_t lowmem_reserve[BUDDY_ZONE_NR_TYPES];
	uint64_t nr_reserved_highatomic;
	int64_t nr_isolate_pageblock;
	bool boosted, below_high, reclaim_active;
	struct bpcp *pcp;		/* [nr_cpus] */
};

struct jrec {
	void *addr;
	uint8_t size;
	uint8_t old[16];
};

struct buddy_model {
	struct buddy_profile prof;
	unsigned nr_orders, max_order;	/* max_order = nr_orders - 1 (MAX_PAGE_ORDER) */
	unsigned pbo;			/* pageblock_order */
	uint64_t pb_nr;			/* pageblock_nr_pages */
	unsigned costly;		/* PAGE_ALLOC_COSTLY_ORDER, capped to max_order */
	unsigned thp_order;		/* pcp THP order, or 0xff if none */
	unsigned nr_pcp_lists, nr_low_pcp_lists;
	unsigned nr_cpus, nr_nodes, nr_zones;
	struct bzone *zones;
	/* zone_of()'s table: zone_lut[(pfn - lut_base) >> lut_shift] is the zone holding that
	 * whole unit of pfns, ZONE_LUT_NONE where a unit straddles zones, a hole or no zone */
	uint8_t *zone_lut;
	uint64_t lut_base, lut_n;
	unsigned lut_shift;
	int fallbacks[BUDDY_MT_PCPTYPES][BUDDY_MT_PCPTYPES - 1];
	int boost_factor;
	bool defrag_mode, mobility_disabled;
	int kmt_to_role[64];		/* kernel number -> role (-2 unknown) */
	int role_to_kmt[BUDDY_MT_NR];
	/* observers and prediction */
	buddy_observer_fn obs;
	void *obs_ctx;
	struct buddy_take *capture;	/* tracepoint-like events are also recorded here */
	bool silent;			/* predicting: observers are not called */
	int *zonelist;			/* [node * nr_zones + k]: zone indices in zonelist order */
	int *pref;			/* [node * BUDDY_ZONE_NR_TYPES + hz]: preferred zone, -1 none */
	bool journaling;
	struct jrec *jr;
	size_t jr_nr, jr_cap;
	bool jr_oom;
	/* relaxations set by follow-mode/resync operations */
	bool relaxed_merge;		/* a resync/seed may have left mergeable buddies apart */
	bool relaxed_hygiene;		/* free pages may sit on lists not matching their block */
	char err[320];
};

#endif
