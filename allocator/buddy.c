// SPDX-License-Identifier: GPL-2.0-only
/*
 * allocator/: the buddy model's core: state, free lists, __rmqueue and its fallbacks per
 * profile, expand, __free_one_page, pcp lists, watermarks, get_page_from_freelist.
 *
 * Each function that mirrors a kernel function keeps its name and says where it comes from.
 * Line references are mm/page_alloc.c of Debian 6.1.192 ("6.1:"), Debian 6.12.117 ("6.12:")
 * and 6.18.35 ("6.18:"). Version differences are fields of struct buddy_profile.
 */
#include "allocator/buddy-local.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/errors.h"

/* ---- small helpers ------------------------------------------------------------------------------ */

static inline struct bpage *PG(struct bzone *z, uint32_t i)
{
	return &z->pages[i];
}

static inline uint64_t PFN(const struct bzone *z, uint32_t i)
{
	return z->base + i;
}

static inline struct flist *FL(struct bzone *z, unsigned order, int mt)
{
	return &z->free[order * BUDDY_MT_NR + mt];
}

static inline bool mt_mergeable(int mt)
{
	return mt >= 0 && mt < BUDDY_MT_PCPTYPES;
}

__attribute__((format(printf, 2, 3)))
int buddy_set_err(struct buddy_model *m, const char *fmt, ...);
int buddy_set_err(struct buddy_model *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return 0;
}

const char *buddy_last_error(const struct buddy_model *m)
{
	return m ? m->err : "";
}

/* ---- undo journal (prediction) ------------------------------------------------------------------ */

static void jsave(struct buddy_model *m, void *addr, size_t size)
{
	struct jrec *r;

	if (m->jr_nr == m->jr_cap) {
		size_t cap = m->jr_cap ? m->jr_cap * 2 : 1024;
		struct jrec *n = realloc(m->jr, cap * sizeof(*n));

		if (!n) {
			m->jr_oom = true;
			return;
		}
		m->jr = n;
		m->jr_cap = cap;
	}
	r = &m->jr[m->jr_nr++];
	r->addr = addr;
	r->size = (uint8_t)size;
	memcpy(r->old, addr, size);
}

#define JS(m, p) do { if (__builtin_expect((m)->journaling, 0)) jsave((m), (p), sizeof(*(p))); } while (0)

static void journal_rollback(struct buddy_model *m)
{
	while (m->jr_nr) {
		struct jrec *r = &m->jr[--m->jr_nr];

		memcpy(r->addr, r->old, r->size);
	}
}

/* ---- events --------------------------------------------------------------------------------------- */

static inline bool ev_on(const struct buddy_model *m)
{
	return m->obs || m->capture;
}

static void emit(struct buddy_model *m, struct buddy_event *ev)
{
	if (m->capture) {
		struct buddy_take *t = m->capture;

		if ((ev->kind == BUDDY_EV_ZONE_LOCKED || ev->kind == BUDDY_EV_EXTFRAG) &&
		    t->nr_events < BUDDY_PREDICT_MAX_EVENTS)
			t->events[t->nr_events++] = *ev;
	}
	if (m->obs && !m->silent)
		m->obs(m->obs_ctx, ev);
}

static inline void ev_init(struct buddy_event *ev, enum buddy_event_kind kind, const struct buddy_model *m,
			   const struct bzone *z)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->zone = (int)(z - m->zones);
	ev->cpu = -1;
	ev->mt = ev->fallback_mt = ev->old_mt = BUDDY_MT_NONE;
	ev->change_ownership = -1;
}

/* ---- zones and pfns --------------------------------------------------------------------------------- */

#define ZONE_LUT_NONE 0xff

static __attribute__((noinline)) struct bzone *zone_search(const struct buddy_model *m, uint64_t pfn, uint32_t *idx)
{
	*idx = 0;
	for (unsigned k = 0; k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[k];

		if (pfn >= z->start_pfn && pfn < z->end_pfn) {
			*idx = (uint32_t)(pfn - z->base);
			return z;
		}
	}
	return NULL;
}

static inline struct bzone *zone_of(const struct buddy_model *m, uint64_t pfn, uint32_t *idx)
{
	/* zones are disjoint (buddy_new checks): one table look-up, a search at zone edges */
	uint64_t u = (pfn - m->lut_base) >> m->lut_shift;	/* below lut_base: wraps, >= lut_n */
	unsigned k;

	if (__builtin_expect(u < m->lut_n && (k = m->zone_lut[u]) != ZONE_LUT_NONE, 1)) {
		struct bzone *z = &m->zones[k];

		*idx = (uint32_t)(pfn - z->base);
		return z;
	}
	return zone_search(m, pfn, idx);
}

/* fills zone_of()'s table: units of 2^(max_order) pfns, for the pfns the zones span */
static int build_zone_lut(struct buddy_model *m)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	m->lut_shift = m->max_order;
	for (unsigned k = 0; k < m->nr_zones; k++) {
		if (m->zones[k].start_pfn < lo)
			lo = m->zones[k].start_pfn;
		if (m->zones[k].end_pfn > hi)
			hi = m->zones[k].end_pfn;
	}
	if (!m->nr_zones || lo >= hi || m->nr_zones >= ZONE_LUT_NONE)
		return 0;	/* lut_n 0: every look-up searches */
	m->lut_base = lo & ~((1ULL << m->lut_shift) - 1);
	m->lut_n = ((hi - 1 - m->lut_base) >> m->lut_shift) + 1;
	m->zone_lut = malloc(m->lut_n);
	if (!m->zone_lut) {
		m->lut_n = 0;
		return -ENOMEM;
	}
	memset(m->zone_lut, ZONE_LUT_NONE, m->lut_n);
	for (unsigned k = 0; k < m->nr_zones; k++) {
		const struct bzone *z = &m->zones[k];

		for (uint64_t u = 0; u < m->lut_n; u++) {
			uint64_t a = m->lut_base + (u << m->lut_shift), b = a + (1ULL << m->lut_shift);

			if (a >= z->start_pfn && b <= z->end_pfn)
				m->zone_lut[u] = (uint8_t)k;
		}
	}
	return 0;
}

int buddy_zone_of(const struct buddy_model *m, uint64_t pfn)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);

	return z ? (int)(z - m->zones) : -1;
}

static inline bool zone_spans(const struct bzone *z, uint64_t i)
{
	uint64_t pfn = z->base + i;

	return pfn >= z->start_pfn && pfn < z->end_pfn;
}

/* ---- pageblock bitmap -------------------------------------------------------------------------------- */

/* mirrors get_pfnblock_migratetype() (6.1, 6.12: 3-bit type; 6.18: isolate bit first) */
static inline int pb_get(const struct buddy_model *m, const struct bzone *z, uint32_t i)
{
	uint8_t v = z->pb[i >> m->pbo];

	if (v & PB_ISOLATE_BIT)
		return BUDDY_MT_ISOLATE;
	return v;
}

static void pb_store(struct buddy_model *m, struct bzone *z, uint32_t i, uint8_t nv, int reason)
{
	uint8_t *p = &z->pb[i >> m->pbo];
	int old = pb_get(m, z, i);
	int now;

	if (*p == nv)
		return;
	JS(m, p);
	*p = nv;
	now = pb_get(m, z, i);
	if (old != now) {
		if (old == BUDDY_MT_ISOLATE || now == BUDDY_MT_ISOLATE) {
			JS(m, &z->nr_isolate_pageblock);
			z->nr_isolate_pageblock += now == BUDDY_MT_ISOLATE ? 1 : -1;
		}
		if (ev_on(m)) {
			struct buddy_event ev;

			ev_init(&ev, BUDDY_EV_RETYPE, m, z);
			ev.pfn = PFN(z, i & ~(uint32_t)(m->pb_nr - 1));
			ev.old_mt = old;
			ev.mt = now;
			ev.aux = (uint64_t)reason;
			emit(m, &ev);
		}
	}
}

/* mirrors set_pageblock_migratetype() (6.1, 6.12; 6.18 clears the isolate bit) */
static void set_pageblock_migratetype(struct buddy_model *m, struct bzone *z, uint32_t i, int mt, int reason)
{
	if (m->mobility_disabled && mt < BUDDY_MT_PCPTYPES)
		mt = BUDDY_MT_UNMOVABLE;
	if (m->prof.pageblock_isolate_bit && mt == BUDDY_MT_ISOLATE) {
		pb_store(m, z, i, z->pb[i >> m->pbo] | PB_ISOLATE_BIT, reason);
		return;
	}
	pb_store(m, z, i, (uint8_t)mt, reason);
}

/* mirrors change_pageblock_range() (6.1, 6.12, 6.18) */
static void change_pageblock_range(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int mt,
				   int reason)
{
	uint64_t nr = order >= m->pbo ? (1ull << (order - m->pbo)) : 1;

	for (uint64_t k = 0; k < nr; k++)
		set_pageblock_migratetype(m, z, (uint32_t)(i + k * m->pb_nr), mt, reason);
}

/* ---- intrusive lists --------------------------------------------------------------------------------- */

static inline __attribute__((always_inline)) void l_add(struct buddy_model *m, struct bzone *z, struct flist *fl, uint32_t i, bool tail)
{
	struct bpage *pg = PG(z, i);

	JS(m, pg);
	JS(m, fl);
	if (tail) {
		bp_set_next(pg, NIL);
		bp_set_prev(pg, fl->tail);
		if (fl->tail != NIL) {
			struct bpage *p = PG(z, fl->tail);

			JS(m, p);
			bp_set_next(p, i);
		} else {
			fl->head = i;
		}
		fl->tail = i;
	} else {
		bp_set_prev(pg, NIL);
		bp_set_next(pg, fl->head);
		if (fl->head != NIL) {
			struct bpage *n = PG(z, fl->head);

			JS(m, n);
			bp_set_prev(n, i);
		} else {
			fl->tail = i;
		}
		fl->head = i;
	}
	fl->nr++;
}

static inline __attribute__((always_inline)) void l_del(struct buddy_model *m, struct bzone *z, struct flist *fl, uint32_t i)
{
	struct bpage *pg = PG(z, i);

	JS(m, pg);
	JS(m, fl);
	if (bp_prev(pg) != NIL) {
		struct bpage *p = PG(z, bp_prev(pg));

		JS(m, p);
		bp_set_next(p, bp_next(pg));
	} else {
		fl->head = bp_next(pg);
	}
	if (bp_next(pg) != NIL) {
		struct bpage *n = PG(z, bp_next(pg));

		JS(m, n);
		bp_set_prev(n, bp_prev(pg));
	} else {
		fl->tail = bp_prev(pg);
	}
	bp_set_next(pg, NIL);
	bp_set_prev(pg, NIL);
	fl->nr--;
}

/* ---- free lists -------------------------------------------------------------------------------------- */

/* mirrors __add_to_free_list() + account_freepages() (6.12, 6.18; 6.1 add_to_free_list*) */
static inline __attribute__((always_inline)) void free_add(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int mt, bool tail)
{
	struct bpage *pg = PG(z, i);

	JS(m, pg);
	pg->state = PS_FREE;
	pg->order = (uint8_t)order;
	bp_set_mt(pg, (uint8_t)mt);
	l_add(m, z, FL(z, order, mt), i, tail);
	JS(m, &z->nr_free[order]);
	z->nr_free[order]++;
	JS(m, &z->free_pages_mt[mt]);
	z->free_pages_mt[mt] += 1ll << order;
	if (mt != BUDDY_MT_ISOLATE) {
		JS(m, &z->nr_free_pages);
		z->nr_free_pages += 1ll << order;
	}
}

/* mirrors del_page_from_free_list(): the page leaves the list it is actually on */
static inline __attribute__((always_inline)) void free_del(struct buddy_model *m, struct bzone *z, uint32_t i)
{
	struct bpage *pg = PG(z, i);
	unsigned order = pg->order;
	int mt = bp_mt(pg);

	l_del(m, z, FL(z, order, mt), i);
	JS(m, &z->nr_free[order]);
	z->nr_free[order]--;
	JS(m, &z->free_pages_mt[mt]);
	z->free_pages_mt[mt] -= 1ll << order;
	if (mt != BUDDY_MT_ISOLATE) {
		JS(m, &z->nr_free_pages);
		z->nr_free_pages -= 1ll << order;
	}
	pg->state = PS_NONE;
}

/* mirrors move_to_free_list(): list_move_tail to new_mt's list (6.1, 6.12, 6.18) */
static void move_to_free_list(struct buddy_model *m, struct bzone *z, uint32_t i, int new_mt)
{
	unsigned order = PG(z, i)->order;

	free_del(m, z, i);
	free_add(m, z, i, order, new_mt, true);
}

static inline __attribute__((always_inline)) void mark_alloc(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int owner)
{
	struct bpage *pg = PG(z, i);

	JS(m, pg);
	pg->state = PS_ALLOC;
	pg->order = (uint8_t)order;
	bp_set_mt(pg, owner < 0 ? MT_UNKNOWN : (uint8_t)owner);
	bp_set_next(pg, NIL);
	bp_set_prev(pg, NIL);
}

static inline uint64_t nr_free_pages(const struct bzone *z)
{
	/* NR_FREE_PAGES: every list but ISOLATE (account_freepages skips it; 6.1 the same) */
	return z->nr_free_pages < 0 ? 0 : (uint64_t)z->nr_free_pages;
}

/* ---- pcp helpers ---------------------------------------------------------------------------------- */

/* mirrors pcp_allowed_order() (6.1: THP order = pageblock_order; 6.12+: HPAGE_PMD_ORDER) */
static inline bool pcp_allowed_order(const struct buddy_model *m, unsigned order)
{
	return order <= m->costly || order == m->thp_order;
}

/* mirrors order_to_pindex() (mm/page_alloc.c, 6.1.97+, 6.12, 6.18) */
static inline int order_to_pindex(const struct buddy_model *m, int mt, unsigned order)
{
	if (order > m->costly) {
		if (order != m->thp_order)
			return -1;
		return (int)m->nr_low_pcp_lists + ((m->nr_pcp_lists - m->nr_low_pcp_lists) > 1 && mt == BUDDY_MT_MOVABLE);
	}
	return (int)(BUDDY_MT_PCPTYPES * order) + mt;
}

/* The pcp list of (order, mt) with mt folded as free_frozen_pages() does (HIGHATOMIC, CMA:
 * MOVABLE), or -1 when there is none (no pcp for the order, mt out of range). */
static inline int pcp_pindex(const struct buddy_model *m, unsigned order, int mt)
{
	if (order >= m->nr_orders || !pcp_allowed_order(m, order) || mt < 0 || mt >= BUDDY_MT_NR)
		return -1;
	return order_to_pindex(m, mt >= BUDDY_MT_PCPTYPES ? BUDDY_MT_MOVABLE : mt, order);
}

static inline unsigned pindex_to_order(const struct buddy_model *m, unsigned pindex)
{
	if (pindex >= m->nr_low_pcp_lists)
		return m->thp_order;
	return pindex / BUDDY_MT_PCPTYPES;
}

static inline __attribute__((always_inline)) void pcp_add(struct buddy_model *m, struct bzone *z, unsigned cpu, uint32_t i, unsigned order, int list_mt,
		    bool tail, int cmt)
{
	struct bpcp *pcp = &z->pcp[cpu];
	struct bpage *pg = PG(z, i);
	int pindex = order_to_pindex(m, list_mt, order);

	JS(m, pg);
	pg->state = PS_PCP;
	pg->order = (uint8_t)order;
	bp_set_mt(pg, (uint8_t)list_mt);
	pg->cmt = (uint8_t)(cmt < 0 ? list_mt : cmt);
	pg->cpu = (uint16_t)cpu;
	l_add(m, z, &pcp->lists[pindex], i, tail);
	JS(m, &pcp->count);
	pcp->count += 1ll << order;
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PCP_ADD, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.mt = list_mt;
		ev.cpu = (int)cpu;
		ev.to_tail = tail;
		emit(m, &ev);
	}
}

static inline __attribute__((always_inline)) void pcp_del(struct buddy_model *m, struct bzone *z, uint32_t i)
{
	struct bpage *pg = PG(z, i);
	struct bpcp *pcp = &z->pcp[pg->cpu];
	int pindex = order_to_pindex(m, bp_mt(pg), pg->order);

	l_del(m, z, &pcp->lists[pindex], i);
	JS(m, &pcp->count);
	pcp->count -= 1ll << pg->order;
	pg->state = PS_NONE;
}

/* ---- block lookup ------------------------------------------------------------------------------------ */

/* The block holding index i: its head and order, or false for a hole / inconsistent state. */
static bool find_block(const struct buddy_model *m, struct bzone *z, uint32_t i, uint32_t *head, unsigned *order)
{
	for (unsigned o = 0; o < m->nr_orders; o++) {
		uint32_t h = i & ~((1u << o) - 1);
		struct bpage *pg = PG(z, h);

		if (pg->state == PS_NONE)
			continue;
		if (pg->state == PS_HOLE)
			return o == 0 ? (*head = h, *order = 0, true) : false;
		if (pg->order >= o && h + (1u << pg->order) > i) {
			*head = h;
			*order = pg->order;
			return true;
		}
		return false;
	}
	return false;
}

/* "pfn 0x.. is the head of a free order-3 block on the Movable list" etc. */
static void describe(const struct buddy_model *m, struct bzone *z, uint32_t i, char *buf, size_t len)
{
	uint32_t h;
	unsigned o;

	if (!find_block(m, z, i, &h, &o)) {
		snprintf(buf, len, "the model has pfn %#llx inside no block", (unsigned long long)PFN(z, i));
		return;
	}
	struct bpage *pg = PG(z, h);

	if (pg->state == PS_HOLE) {
		snprintf(buf, len, "the model has pfn %#llx as a hole", (unsigned long long)PFN(z, i));
	} else if (pg->state == PS_FREE) {
		snprintf(buf, len, "the model holds %s%#llx free, order %u, on the %s list", h == i ? "it at " : "it inside ",
			 (unsigned long long)PFN(z, h), o, buddy_mt_name(bp_mt(pg)));
	} else if (pg->state == PS_PCP) {
		snprintf(buf, len, "the model holds %s%#llx on cpu %u's pcp list (order %u, %s)",
			 h == i ? "it at " : "it inside ", (unsigned long long)PFN(z, h), pg->cpu, o, buddy_mt_name(bp_mt(pg)));
	} else {
		snprintf(buf, len, "the model holds %s%#llx allocated (order %u, owner %s)", h == i ? "it at " : "it inside ",
			 (unsigned long long)PFN(z, h), o, bp_mt(pg) == MT_UNKNOWN ? "unknown" : buddy_mt_name(bp_mt(pg)));
	}
}

static int contradiction(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, const char *what)
{
	char d[200];

	describe(m, z, i, d, sizeof(d));
	buddy_set_err(m, "zone %s: pfn %#llx order %u: %s, but %s", z->name, (unsigned long long)PFN(z, i), order,
		      what, d);
	return FS_ERRNO__CONTRADICTION;
}

/* ---- expand, __rmqueue_smallest ------------------------------------------------------------------- */

/* mirrors expand() (6.1:2375, 6.12:1438, 6.18:1740): upper halves to the list HEAD, largest first */
static void expand(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned low, unsigned high, int mt)
{
	while (high > low) {
		high--;
		uint32_t s = 1u << high;

		free_add(m, z, i + s, high, mt, false);
		if (ev_on(m)) {
			struct buddy_event ev;

			ev_init(&ev, BUDDY_EV_SPLIT, m, z);
			ev.pfn = PFN(z, i + s);
			ev.order = high;
			ev.mt = mt;
			emit(m, &ev);
		}
	}
}

static void emit_zone_locked(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int mt)
{
	struct buddy_event ev;

	ev_init(&ev, BUDDY_EV_ZONE_LOCKED, m, z);
	ev.pfn = PFN(z, i);
	ev.order = order;
	ev.mt = mt;
	ev.percpu_refill = pcp_allowed_order(m, order) && mt < BUDDY_MT_PCPTYPES;
	emit(m, &ev);
}

static void emit_extfrag(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned fo, int start,
			 int fb, struct buddy_take *t)
{
	int own = start == pb_get(m, z, i);

	t->change_ownership = own;
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_EXTFRAG, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.fallback_order = fo;
		ev.mt = start;
		ev.fallback_mt = fb;
		ev.change_ownership = own;
		emit(m, &ev);
	}
}

static void take_record(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned from_order,
			int list_mt, struct buddy_take *t)
{
	t->pfn = PFN(z, i);
	t->order = order;
	t->list_mt = list_mt;
	if (t->path == BUDDY_PATH_NONE)
		t->path = BUDDY_PATH_NORMAL;
	if (t->found_pfn == BUDDY_PFN_NONE) {
		t->found_pfn = t->pfn;
		t->found_order = from_order;
	}
}

/* mirrors __rmqueue_smallest() (6.1:2588, 6.12:1630, 6.18) */
static uint32_t rmqueue_smallest(struct buddy_model *m, struct bzone *z, unsigned order, int mt, struct buddy_take *t)
{
	for (unsigned o = order; o < m->nr_orders; o++) {
		struct flist *fl = FL(z, o, mt);
		uint32_t i = fl->head;

		if (i == NIL)
			continue;
		free_del(m, z, i);
		expand(m, z, i, order, o, mt);
		mark_alloc(m, z, i, order, MT_UNKNOWN);
		if (m->prof.pcppage_mt_cache)
			PG(z, i)->cmt = (uint8_t)mt;	/* 6.1 set_pcppage_migratetype */
		if (ev_on(m))
			emit_zone_locked(m, z, i, order, mt);
		take_record(m, z, i, order, o, mt, t);
		return i;
	}
	return NIL;
}

/* del + expand without __rmqueue_smallest (6.10+ page_del_and_expand and the whole-block take) */
static void take_direct(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned co, int exp_mt,
			struct buddy_take *t)
{
	int list_mt = bp_mt(PG(z, i));

	free_del(m, z, i);
	expand(m, z, i, order, co, exp_mt);
	mark_alloc(m, z, i, order, MT_UNKNOWN);
	t->pfn = PFN(z, i);
	t->order = order;
	t->list_mt = list_mt;
}

/* ---- boost -------------------------------------------------------------------------------------------- */

/* mirrors boost_watermark() (6.1, 6.12:1900, 6.18) */
static bool boost_watermark(struct buddy_model *m, struct bzone *z)
{
	uint64_t max_boost;

	if (!m->boost_factor)
		return false;
	if (m->pb_nr * 4 > z->managed)
		return false;
	/* mult_frac(x, n, d) = (x / d) * n + ((x % d) * n) / d */
	max_boost = (z->wmark[2] / 10000) * (uint64_t)m->boost_factor +
		    ((z->wmark[2] % 10000) * (uint64_t)m->boost_factor) / 10000;
	if (!max_boost)
		return false;
	if (max_boost < m->pb_nr)
		max_boost = m->pb_nr;
	JS(m, &z->boost);
	z->boost = z->boost + m->pb_nr < max_boost ? z->boost + m->pb_nr : max_boost;
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_BOOST, m, z);
		ev.count = z->boost;
		emit(m, &ev);
	}
	return true;
}

static void boost_and_flag(struct buddy_model *m, struct bzone *z, uint32_t alloc_flags)
{
	if (boost_watermark(m, z) && (alloc_flags & BUDDY_ALLOC_KSWAPD)) {
		JS(m, &z->boosted);
		z->boosted = true;
	}
}

/* ---- block walks: move_freepages ------------------------------------------------------------------------ */

static inline bool owner_movable(const struct buddy_model *m, struct bzone *z, uint32_t i, const struct bpage *pg)
{
	if (bp_mt(pg) == MT_UNKNOWN)
		return pb_get(m, z, i) == BUDDY_MT_MOVABLE;
	return bp_mt(pg) == BUDDY_MT_MOVABLE;
}

/*
 * Walks [s, e) as the kernel's loops do: free heads are moved (if new_mt >= 0) and counted,
 * other pfns counted as "movable" when PageLRU/__PageMovable would say so -- approximated by
 * the owner migratetype of the allocated block (DEVIATIONS.md). Returns pages moved/free.
 */
static uint64_t walk_block(struct buddy_model *m, struct bzone *z, uint32_t s, uint32_t e, int new_mt,
			   uint64_t *movable)
{
	uint64_t freep = 0, mov = 0;
	uint32_t pos = s;

	if (PG(z, pos)->state == PS_NONE) {
		uint32_t h;
		unsigned o;

		/* the range lies inside one larger block */
		if (find_block(m, z, pos, &h, &o) && PG(z, h)->state == PS_ALLOC && owner_movable(m, z, h, PG(z, h)))
			mov = e - s;
		if (movable)
			*movable = mov;
		return 0;
	}
	while (pos < e) {
		struct bpage *pg = PG(z, pos);
		uint32_t n = 1u << pg->order;

		switch (pg->state) {
		case PS_FREE:
			freep += n;
			if (new_mt >= 0)
				move_to_free_list(m, z, pos, new_mt);
			pos += n;
			break;
		case PS_ALLOC:
			if (owner_movable(m, z, pos, pg))
				mov += (pos + n > e) ? e - pos : n;
			pos += n;
			break;
		case PS_PCP:
			pos += n;
			break;
		default:
			pos++;
			break;
		}
	}
	if (movable)
		*movable = mov;
	return freep;
}

/* mirrors 6.1 move_freepages_block() (6.1:2680): clamped start, 0 if the end leaves the zone,
 * every free buddy in the range goes to the tail of mt's lists whatever list it was on */
static uint64_t move_freepages_block_61(struct buddy_model *m, struct bzone *z, uint32_t i, int mt, uint64_t *movable)
{
	uint32_t s = i & ~(uint32_t)(m->pb_nr - 1);
	uint32_t e = s + (uint32_t)m->pb_nr;	/* kernel: inclusive end e - 1 */
	uint64_t moved;

	if (movable)
		*movable = 0;
	if (!zone_spans(z, s))
		s = i;
	if (!zone_spans(z, e - 1))
		return 0;
	moved = walk_block(m, z, s, e, mt, movable);
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_MOVE_FREEPAGES, m, z);
		ev.pfn = PFN(z, s);
		ev.mt = mt;
		ev.nr_free = moved;
		emit(m, &ev);
	}
	return moved;
}

/* mirrors prep_move_freepages_block() (6.12:1719, 6.18:2013): whole block inside the zone */
static bool prep_move_freepages_block(struct buddy_model *m, struct bzone *z, uint32_t i, uint32_t *start,
				      uint64_t *nfree, uint64_t *nmovable)
{
	uint32_t s = i & ~(uint32_t)(m->pb_nr - 1);
	uint32_t e = s + (uint32_t)m->pb_nr;

	if (!zone_spans(z, s) || !zone_spans(z, e - 1))
		return false;
	*start = s;
	if (nfree)
		*nfree = walk_block(m, z, s, e, -1, nmovable);
	return true;
}

/* mirrors __move_freepages_block() (6.12:1684 sets the type; 6.18:1980 does not) */
static uint64_t move_freepages_block_610(struct buddy_model *m, struct bzone *z, uint32_t start, int old_mt,
					 int new_mt, bool set_type, int reason)
{
	uint64_t moved = walk_block(m, z, start, start + (uint32_t)m->pb_nr, new_mt, NULL);

	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_MOVE_FREEPAGES, m, z);
		ev.pfn = PFN(z, start);
		ev.old_mt = old_mt;
		ev.mt = new_mt;
		ev.nr_free = moved;
		emit(m, &ev);
	}
	if (set_type)
		set_pageblock_migratetype(m, z, start, new_mt, reason);
	return moved;
}

static void emit_claim(struct buddy_model *m, struct bzone *z, uint32_t i, int start, int old, uint64_t nfree,
		       uint64_t alike, bool ok)
{
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_CLAIM, m, z);
		ev.pfn = PFN(z, i & ~(uint32_t)(m->pb_nr - 1));
		ev.mt = start;
		ev.old_mt = old;
		ev.nr_free = nfree;
		ev.nr_alike = alike;
		ev.success = ok;
		emit(m, &ev);
	}
}

static void emit_fallback(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned co, int start,
			  int fb)
{
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_FALLBACK, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.fallback_order = co;
		ev.mt = start;
		ev.fallback_mt = fb;
		emit(m, &ev);
	}
}

static void emit_steal(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned co, int start,
		       int fb, int rem_mt)
{
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_STEAL, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.fallback_order = co;
		ev.mt = rem_mt;
		ev.old_mt = start;
		ev.fallback_mt = fb;
		emit(m, &ev);
	}
}

static inline uint64_t alike_pages(const struct buddy_model *m, int start, int block_type, uint64_t nfree,
				   uint64_t movable)
{
	if (start == BUDDY_MT_MOVABLE)
		return movable;
	if (block_type == BUDDY_MT_MOVABLE)
		return m->pb_nr - (nfree + movable);
	return 0;
}

/* ---- fallback selection ----------------------------------------------------------------------------- */

/* mirrors can_steal_fallback() (6.1:2725, 6.12:1879) and should_try_claim_block() (6.18:2243) */
static inline bool can_steal_fallback(const struct buddy_model *m, unsigned order, int start)
{
	return order >= m->pbo || order >= m->pbo / 2 || start == BUDDY_MT_RECLAIMABLE ||
	       start == BUDDY_MT_UNMOVABLE || m->mobility_disabled;
}

/* mirrors find_suitable_fallback() (6.1:2873, 6.12:2033 with only_stealable=false; 6.18:2291) */
static int find_suitable_fallback(struct buddy_model *m, struct bzone *z, unsigned o, int start, bool claimable,
				  bool *can)
{
	if (claimable && !can_steal_fallback(m, o, start))
		return -2;
	if (z->nr_free[o] == 0)
		return -1;
	if (can)
		*can = false;
	if (start < 0 || start >= BUDDY_MT_PCPTYPES)
		return -1;
	for (int k = 0; k < BUDDY_MT_PCPTYPES - 1; k++) {
		int fb = m->fallbacks[start][k];

		if (fb < 0)
			break;
		if (FL(z, o, fb)->head == NIL)
			continue;
		if (can)
			*can = can_steal_fallback(m, o, start);
		return fb;
	}
	return -1;
}

/* ---- 6.1 ------------------------------------------------------------------------------------------------ */

/* mirrors 6.1 steal_suitable_fallback() (6.1:2791) */
static void steal_suitable_fallback_61(struct buddy_model *m, struct bzone *z, uint32_t i, uint32_t alloc_flags,
				       int start, bool whole_block, bool force, bool force_claim)
{
	unsigned co = PG(z, i)->order;
	int old = pb_get(m, z, i);
	uint64_t nfree, movable, alike;

	if (old == BUDDY_MT_HIGHATOMIC)
		goto single;
	if (co >= m->pbo) {
		change_pageblock_range(m, z, i, co, start, BUDDY_RETYPE_WHOLE_BLOCK);
		goto single;
	}
	boost_and_flag(m, z, alloc_flags);
	if (!whole_block)
		goto single;
	nfree = move_freepages_block_61(m, z, i, start, &movable);
	alike = alike_pages(m, start, old, nfree, movable);
	if (!nfree)
		goto single;
	{
		bool ok = force ? force_claim : (nfree + alike >= (m->pb_nr >> 1) || m->mobility_disabled);

		emit_claim(m, z, i, start, old, nfree, alike, ok);
		if (ok)
			set_pageblock_migratetype(m, z, i, start, BUDDY_RETYPE_CLAIM);
	}
	return;
single:
	move_to_free_list(m, z, i, start);
}

/*
 * The buddy search shared by 6.1 and 6.12.0-28 __rmqueue_fallback() (6.1:3033, 6.12.0:2182):
 * the largest order with a fallback list, except that MOVABLE that may not steal the whole block
 * takes the smallest instead. False if none; else *co, *fb and *can (whole-block steal allowed).
 */
static bool find_fallback_largest(struct buddy_model *m, struct bzone *z, unsigned order, int start,
				  uint32_t alloc_flags, int *cop, int *fbp, bool *canp)
{
	unsigned min_order = (order < m->pbo && (alloc_flags & BUDDY_ALLOC_NOFRAGMENT)) ? m->pbo : order;
	int co, fb;

	for (co = (int)m->max_order; co >= (int)min_order; co--) {
		fb = find_suitable_fallback(m, z, (unsigned)co, start, false, canp);
		if (fb == -1)
			continue;
		if (!*canp && start == BUDDY_MT_MOVABLE && co > (int)order)
			goto find_smallest;
		goto found;
	}
	return false;
find_smallest:
	for (co = (int)order; co < (int)m->nr_orders; co++) {
		fb = find_suitable_fallback(m, z, (unsigned)co, start, false, canp);
		if (fb != -1)
			goto found;
	}
	return false;
found:
	*cop = co;
	*fbp = fb;
	return true;
}

/* mirrors 6.1 __rmqueue_fallback() (6.1:3033): true if pages were moved to start's lists */
static bool rmqueue_fallback_61(struct buddy_model *m, struct bzone *z, unsigned order, int start,
				uint32_t alloc_flags, struct buddy_take *t)
{
	int co, fb = -1;
	bool can = false;
	uint32_t i;

	if (!find_fallback_largest(m, z, order, start, alloc_flags, &co, &fb, &can))
		return false;
	i = FL(z, (unsigned)co, fb)->head;
	emit_fallback(m, z, i, order, (unsigned)co, start, fb);
	steal_suitable_fallback_61(m, z, i, alloc_flags, start, can, false, false);
	t->found_pfn = PFN(z, i);
	t->found_order = (unsigned)co;
	t->fallback_mt = fb;
	emit_extfrag(m, z, i, order, (unsigned)co, start, fb, t);
	return true;
}

/* mirrors 6.1 __rmqueue() (6.1:3115), CMA off */
static uint32_t rmqueue_61(struct buddy_model *m, struct bzone *z, unsigned order, int mt, uint32_t alloc_flags,
			   struct buddy_take *t)
{
	bool fell_back = false;
	uint32_t i;

	for (int guard = 0; guard < 4; guard++) {
		i = rmqueue_smallest(m, z, order, mt, t);
		if (i != NIL) {
			if (fell_back)
				t->path = t->change_ownership > 0 ? BUDDY_PATH_CLAIM : BUDDY_PATH_STEAL;
			return i;
		}
		if (!rmqueue_fallback_61(m, z, order, mt, alloc_flags, t))
			return NIL;
		fell_back = true;
	}
	return NIL;
}

/* ---- 6.10 .. 6.12.28 ------------------------------------------------------------------------------------ */

/*
 * A fallback buddy of pageblock order or more is taken whole: every block it covers becomes
 * start, the remainders go to start's lists (6.10+ steal_suitable_fallback(), try_to_claim_block()).
 */
static uint32_t claim_whole_blocks(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned co, unsigned order,
				   int start, int bt, struct buddy_take *t)
{
	free_del(m, z, i);
	change_pageblock_range(m, z, i, co, start, BUDDY_RETYPE_WHOLE_BLOCK);
	expand(m, z, i, order, co, start);
	mark_alloc(m, z, i, order, MT_UNKNOWN);
	t->pfn = PFN(z, i);
	t->order = order;
	t->list_mt = bt;
	t->path = BUDDY_PATH_CLAIM;
	return i;
}

/* mirrors 6.12.0 steal_suitable_fallback() (6.12.0:1912) */
static uint32_t steal_suitable_fallback_612e(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned co,
					     unsigned order, int start, uint32_t alloc_flags, bool whole_block,
					     bool force, bool force_claim, struct buddy_take *t)
{
	int bt = pb_get(m, z, i);
	uint32_t s;
	uint64_t nfree, movable, alike;

	if (bt == BUDDY_MT_HIGHATOMIC)
		goto single;
	if (co >= m->pbo)
		return claim_whole_blocks(m, z, i, co, order, start, bt, t);
	boost_and_flag(m, z, alloc_flags);
	if (!whole_block)
		goto single;
	if (!prep_move_freepages_block(m, z, i, &s, &nfree, &movable))
		goto single;
	alike = alike_pages(m, start, bt, nfree, movable);
	{
		bool ok = force ? force_claim : (nfree + alike >= (m->pb_nr >> 1) || m->mobility_disabled);

		emit_claim(m, z, i, start, bt, nfree, alike, ok);
		if (ok) {
			uint32_t r;

			move_freepages_block_610(m, z, s, bt, start, true, BUDDY_RETYPE_CLAIM);
			r = rmqueue_smallest(m, z, order, start, t);
			t->path = BUDDY_PATH_CLAIM;
			return r;
		}
	}
single:
	take_direct(m, z, i, order, co, bt, t);
	emit_steal(m, z, i, order, co, start, t->list_mt, bt);
	t->path = BUDDY_PATH_STEAL;
	return i;
}

/* mirrors 6.12.0 __rmqueue_fallback() (6.12.0:2182) */
static uint32_t rmqueue_fallback_612e(struct buddy_model *m, struct bzone *z, unsigned order, int start,
				      uint32_t alloc_flags, struct buddy_take *t)
{
	int co, fb = -1;
	bool can = false;
	uint32_t i, r;

	if (!find_fallback_largest(m, z, order, start, alloc_flags, &co, &fb, &can))
		return NIL;
	i = FL(z, (unsigned)co, fb)->head;
	emit_fallback(m, z, i, order, (unsigned)co, start, fb);
	t->found_pfn = PFN(z, i);
	t->found_order = (unsigned)co;
	t->fallback_mt = fb;
	r = steal_suitable_fallback_612e(m, z, i, (unsigned)co, order, start, alloc_flags, can, false, false, t);
	if (r == NIL)
		return NIL;
	emit_extfrag(m, z, r, order, (unsigned)co, start, fb, t);
	return r;
}

/* ---- 6.12.29+ and 6.18: claim / steal ----------------------------------------------------------------- */

/* mirrors try_to_steal_block() (6.12:1952) and try_to_claim_block() (6.18:2320) */
static uint32_t try_to_claim_block(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned co, unsigned order,
				   int start, int fb, uint32_t alloc_flags, bool force, struct buddy_take *t)
{
	int bt;
	uint32_t s;
	uint64_t nfree, movable, alike;

	if (m->prof.fallback == BUDDY_FB_618) {
		bt = fb;
	} else {
		bt = pb_get(m, z, i);
		if (bt == BUDDY_MT_HIGHATOMIC && !force)
			return NIL;
	}
	if (co >= m->pbo)
		return claim_whole_blocks(m, z, i, co, order, start, bt, t);
	boost_and_flag(m, z, alloc_flags);
	if (!prep_move_freepages_block(m, z, i, &s, &nfree, &movable)) {
		if (!force)
			return NIL;
		/* the kernel claimed: the block must have been whole in its zone */
		s = i & ~(uint32_t)(m->pb_nr - 1);
		nfree = movable = 0;
	}
	alike = alike_pages(m, start, bt, nfree, movable);
	{
		bool ok = force || nfree + alike >= (m->pb_nr >> 1) || m->mobility_disabled;
		uint32_t r;

		emit_claim(m, z, i, start, bt, nfree, alike, ok);
		if (!ok)
			return NIL;
		move_freepages_block_610(m, z, s, bt, start, true, BUDDY_RETYPE_CLAIM);
		r = rmqueue_smallest(m, z, order, start, t);
		t->path = BUDDY_PATH_CLAIM;
		return r;
	}
}

/* mirrors __rmqueue_claim() (6.12:2214, 6.18:2395) */
static uint32_t rmqueue_claim(struct buddy_model *m, struct bzone *z, unsigned order, int start, uint32_t alloc_flags,
			      struct buddy_take *t)
{
	unsigned min_order = (order < m->pbo && (alloc_flags & BUDDY_ALLOC_NOFRAGMENT)) ? m->pbo : order;
	bool is618 = m->prof.fallback == BUDDY_FB_618;

	for (int co = (int)m->max_order; co >= (int)min_order; co--) {
		bool can = false;
		int fb = find_suitable_fallback(m, z, (unsigned)co, start, is618, &can);
		uint32_t i, r;

		if (fb == -1)
			continue;
		if (fb == -2 || (!is618 && !can))
			break;
		i = FL(z, (unsigned)co, fb)->head;
		emit_fallback(m, z, i, order, (unsigned)co, start, fb);
		r = try_to_claim_block(m, z, i, (unsigned)co, order, start, fb, alloc_flags, false, t);
		if (r != NIL) {
			t->found_pfn = PFN(z, i);
			t->found_order = (unsigned)co;
			t->fallback_mt = fb;
			t->path = BUDDY_PATH_CLAIM;
			emit_extfrag(m, z, r, order, (unsigned)co, start, fb, t);
			return r;
		}
	}
	return NIL;
}

/* mirrors __rmqueue_steal() (6.12:2266, 6.18:2450) */
static uint32_t rmqueue_steal(struct buddy_model *m, struct bzone *z, unsigned order, int start, struct buddy_take *t)
{
	for (unsigned co = order; co < m->nr_orders; co++) {
		int fb = find_suitable_fallback(m, z, co, start, false, NULL);
		uint32_t i;

		if (fb == -1)
			continue;
		i = FL(z, co, fb)->head;
		emit_fallback(m, z, i, order, co, start, fb);
		take_direct(m, z, i, order, co, fb, t);
		t->found_pfn = PFN(z, i);
		t->found_order = co;
		t->fallback_mt = fb;
		t->path = BUDDY_PATH_STEAL;
		emit_steal(m, z, i, order, co, start, fb, fb);
		emit_extfrag(m, z, i, order, co, start, fb, t);
		return i;
	}
	return NIL;
}

enum { RMQ_NORMAL = 0, RMQ_CMA = 1, RMQ_CLAIM = 2, RMQ_STEAL = 3 };

/* mirrors __rmqueue() (6.12:2303, 6.18:2486) with *mode */
static uint32_t rmqueue_612l(struct buddy_model *m, struct bzone *z, unsigned order, int mt, uint32_t alloc_flags,
			     int *mode, struct buddy_take *t)
{
	uint32_t i;

	switch (*mode) {
	case RMQ_NORMAL:
		i = rmqueue_smallest(m, z, order, mt, t);
		if (i != NIL)
			return i;
		/* fallthrough */
	case RMQ_CMA:
		/* CMA off */
		/* fallthrough */
	case RMQ_CLAIM:
		i = rmqueue_claim(m, z, order, mt, alloc_flags, t);
		if (i != NIL) {
			*mode = RMQ_NORMAL;
			return i;
		}
		/* fallthrough */
	case RMQ_STEAL:
		if (!(alloc_flags & BUDDY_ALLOC_NOFRAGMENT)) {
			i = rmqueue_steal(m, z, order, mt, t);
			if (i != NIL) {
				*mode = RMQ_STEAL;
				return i;
			}
		}
		break;
	default:
		break;
	}
	return NIL;
}

/* The profile's __rmqueue(). */
static uint32_t rmqueue_profile(struct buddy_model *m, struct bzone *z, unsigned order, int mt, uint32_t alloc_flags,
				int *mode, struct buddy_take *t)
{
	uint32_t i;

	switch (m->prof.fallback) {
	case BUDDY_FB_61:
		return rmqueue_61(m, z, order, mt, alloc_flags, t);
	case BUDDY_FB_612E:
		i = rmqueue_smallest(m, z, order, mt, t);
		if (i != NIL)
			return i;
		return rmqueue_fallback_612e(m, z, order, mt, alloc_flags, t);
	default:
		return rmqueue_612l(m, z, order, mt, alloc_flags, mode, t);
	}
}

static void take_reset(struct buddy_take *t, unsigned order)
{
	t->pfn = BUDDY_PFN_NONE;
	t->order = order;
	t->path = BUDDY_PATH_NONE;
	t->list_mt = BUDDY_MT_NONE;
	t->found_pfn = BUDDY_PFN_NONE;
	t->found_order = 0;
	t->fallback_mt = BUDDY_MT_NONE;
	t->change_ownership = -1;
}

/* mirrors rmqueue_buddy()'s locked part (6.1:3745, 6.12:2977, 6.18:3217) */
static uint32_t rmqueue_buddy_locked(struct buddy_model *m, struct bzone *z, unsigned order, uint32_t alloc_flags,
				     int mt, struct buddy_take *t)
{
	uint32_t i = NIL;

	if (alloc_flags & BUDDY_ALLOC_HIGHATOMIC) {
		i = rmqueue_smallest(m, z, order, BUDDY_MT_HIGHATOMIC, t);
		if (i != NIL)
			t->path = BUDDY_PATH_HIGHATOMIC;
	}
	if (i == NIL) {
		int mode = RMQ_NORMAL;

		i = rmqueue_profile(m, z, order, mt, alloc_flags, &mode, t);
		if (i == NIL && (alloc_flags & (BUDDY_ALLOC_OOM | BUDDY_ALLOC_NON_BLOCK))) {
			i = rmqueue_smallest(m, z, order, BUDDY_MT_HIGHATOMIC, t);
			if (i != NIL)
				t->path = BUDDY_PATH_HIGHATOMIC;
		}
	}
	return i;
}

/* ---- __free_one_page -------------------------------------------------------------------------------- */

/* mirrors buddy_merge_likely() (6.1:1082, 6.12:759, 6.18:927) */
static bool buddy_merge_likely(struct buddy_model *m, struct bzone *z, uint32_t i, uint32_t bi, unsigned order)
{
	uint32_t hi, hb;

	if (order + 2 > m->max_order)	/* order >= MAX_PAGE_ORDER - 1 */
		return false;
	hi = bi & i;
	hb = hi ^ (1u << (order + 1));
	if ((uint64_t)hb >= z->n)
		return false;
	return PG(z, hb)->state == PS_FREE && PG(z, hb)->order == order + 1;
}

/* mirrors __free_one_page() (6.1:1124, 6.12:810, 6.18:978), no compaction capture, no guards */
static void free_one_page_core(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int mt,
			       unsigned fpi)
{
	uint32_t bi = i;	/* the kernel's buddy_pfn, starts 0: only read when the loop ran */
	bool to_tail;

	{
		struct bpage *pg = PG(z, i);

		JS(m, pg);
		pg->state = PS_NONE;
	}
	while (order < m->max_order) {
		int bmt = mt;
		struct bpage *b;

		bi = i ^ (1u << order);
		if ((uint64_t)bi >= z->n)
			break;
		b = PG(z, bi);
		if (b->state != PS_FREE || b->order != order)
			break;
		if (order >= m->pbo) {
			bmt = pb_get(m, z, bi);
			if (mt != bmt && (!mt_mergeable(mt) || !mt_mergeable(bmt)))
				break;
		}
		free_del(m, z, bi);
		if (m->prof.retype_on_merge && bmt != mt)
			change_pageblock_range(m, z, bi, order, mt, BUDDY_RETYPE_MERGE);
		i &= bi;
		order++;
		if (ev_on(m)) {
			struct buddy_event ev;

			ev_init(&ev, BUDDY_EV_MERGE, m, z);
			ev.pfn = PFN(z, i);
			ev.order = order;
			ev.mt = mt;
			ev.aux = PFN(z, bi);
			emit(m, &ev);
		}
	}
	if (fpi & BUDDY_FPI_TO_TAIL)
		to_tail = true;
	else
		to_tail = bi != i && buddy_merge_likely(m, z, i, bi, order);
	free_add(m, z, i, order, mt, to_tail);
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_FREE_INSERT, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.mt = mt;
		ev.to_tail = to_tail;
		emit(m, &ev);
	}
}

/* mirrors free_one_page(): 6.12+ split_large_buddy() (6.12:1272); 6.1 the head block's type */
static void free_one_page(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, unsigned fpi)
{
	if (m->prof.split_large_buddy) {
		unsigned o = order > m->pbo ? m->pbo : order;
		uint32_t end = i + (1u << order);

		for (uint32_t p = i; p < end; p += 1u << o) {
			if (p != i)
				mark_alloc(m, z, p, o, MT_UNKNOWN);
			free_one_page_core(m, z, p, o, pb_get(m, z, p), fpi);
		}
		return;
	}
	free_one_page_core(m, z, i, order, pb_get(m, z, i), fpi);
}

/* ---- pcp: refill, take, commit, drain ------------------------------------------------------------ */

/* mirrors free_pcppages_bulk() (6.1:1574, 6.12:1218, 6.18:1494) */
static void free_pcppages_bulk(struct buddy_model *m, struct bzone *z, unsigned cpu, int64_t count, int pindex)
{
	struct bpcp *pcp = &z->pcp[cpu];

	if (count > pcp->count)
		count = pcp->count;
	if (count <= 0)
		return;
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PCP_DRAIN, m, z);
		ev.cpu = (int)cpu;
		ev.count = (uint64_t)count;
		ev.aux = (uint64_t)pindex;
		emit(m, &ev);
	}
	pindex = pindex - 1;
	while (count > 0) {
		struct flist *list;
		unsigned order;

		do {
			if (++pindex > (int)m->nr_pcp_lists - 1)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (list->head == NIL);
		order = pindex_to_order(m, (unsigned)pindex);
		do {
			uint32_t i = list->tail;
			int mt;

			if (m->prof.pcppage_mt_cache && !z->nr_isolate_pageblock)
				mt = PG(z, i)->cmt;		/* 6.1 get_pcppage_migratetype */
			else
				mt = pb_get(m, z, i);
			pcp_del(m, z, i);
			count -= 1ll << order;
			free_one_page_core(m, z, i, order, mt, BUDDY_FPI_NONE);
			if (ev_on(m)) {
				struct buddy_event ev;

				ev_init(&ev, BUDDY_EV_PCPU_DRAIN, m, z);
				ev.pfn = PFN(z, i);
				ev.order = order;
				ev.mt = mt;
				ev.cpu = (int)cpu;
				emit(m, &ev);
			}
		} while (count > 0 && list->head != NIL);
	}
}

/* A prediction of a whole allocation reports the __rmqueue step that gave the page. */
static void capture_step(struct buddy_model *m, const struct buddy_take *t)
{
	struct buddy_take *c = m->capture;

	if (!c || c == t)
		return;
	c->pfn = t->pfn;
	c->order = t->order;
	c->path = t->path;
	c->list_mt = t->list_mt;
	c->found_pfn = t->found_pfn;
	c->found_order = t->found_order;
	c->fallback_mt = t->fallback_mt;
	c->change_ownership = t->change_ownership;
}

/* mirrors rmqueue_bulk() (6.1:3161, 6.12:2373, 6.18:2555): pages appended at the list tail */
static int rmqueue_bulk(struct buddy_model *m, struct bzone *z, unsigned order, int count, unsigned cpu, int mt,
			uint32_t alloc_flags)
{
	int mode = RMQ_NORMAL, n;
	struct buddy_take t;

	for (n = 0; n < count; n++) {
		uint32_t i;

		take_reset(&t, order);
		i = rmqueue_profile(m, z, order, mt, alloc_flags, &mode, &t);
		if (i == NIL)
			break;
		if (n == 0 && m->capture)
			capture_step(m, &t);
		pcp_add(m, z, cpu, i, order, mt, true, m->prof.pcppage_mt_cache ? PG(z, i)->cmt : mt);
	}
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PCP_REFILL, m, z);
		ev.cpu = (int)cpu;
		ev.order = order;
		ev.mt = mt;
		ev.count = (uint64_t)count;
		ev.nr_free = (uint64_t)n;
		emit(m, &ev);
	}
	return n;
}

static inline int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* mirrors nr_pcp_alloc() (6.12:3018, 6.18:3244) */
static int nr_pcp_alloc(struct buddy_model *m, struct bzone *z, struct bpcp *pcp, unsigned order)
{
	int base = pcp->batch, high, batch;

	JS(m, &pcp->high);
	JS(m, &pcp->alloc_factor);
	high = pcp->high = clampi(pcp->high, pcp->high_min, pcp->high_max);
	if (high < base)
		return 1;
	batch = order ? base : base << pcp->alloc_factor;
	if (pcp->high_min != pcp->high_max && !z->below_high)
		high = pcp->high = high + batch < pcp->high_max ? high + batch : pcp->high_max;
	if (!order) {
		int max_nr = high - (int)pcp->count - base;

		if (max_nr < base)
			max_nr = base;
		if (batch <= max_nr && pcp->alloc_factor < 5)
			pcp->alloc_factor++;
		if (batch > max_nr)
			batch = max_nr;
	}
	if (batch > 1) {
		batch >>= order;
		if (batch < 2)
			batch = 2;
	}
	return batch;
}

/* mirrors rmqueue_pcplist() + __rmqueue_pcplist() (6.1:3793, 6.12:3069, 6.18) */
static inline __attribute__((always_inline)) uint32_t rmqueue_pcplist(struct buddy_model *m, struct bzone *z, unsigned cpu, unsigned order, int mt,
				uint32_t alloc_flags)
{
	struct bpcp *pcp = &z->pcp[cpu];
	int pindex = order_to_pindex(m, mt, order);
	struct flist *list;
	uint32_t i;

	if (m->prof.adaptive_pcp) {
		JS(m, &pcp->free_count);
		pcp->free_count >>= 1;
	} else {
		JS(m, &pcp->free_factor);
		pcp->free_factor >>= 1;
	}
	list = &pcp->lists[pindex];
	if (list->head == NIL) {
		int batch;

		if (m->prof.adaptive_pcp) {
			batch = nr_pcp_alloc(m, z, pcp, order);
		} else {
			batch = pcp->batch;
			if (batch > 1) {
				batch >>= order;
				if (batch < 2)
					batch = 2;
			}
		}
		rmqueue_bulk(m, z, order, batch, cpu, mt, alloc_flags);
		if (list->head == NIL)
			return NIL;
	}
	i = list->head;
	pcp_del(m, z, i);
	mark_alloc(m, z, i, order, mt);
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PCP_TAKE, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.mt = mt;
		ev.cpu = (int)cpu;
		emit(m, &ev);
	}
	return i;
}

/* ---- watermarks --------------------------------------------------------------------------------------- */

#define ALLOC_RESERVES (BUDDY_ALLOC_NON_BLOCK | BUDDY_ALLOC_MIN_RESERVE | BUDDY_ALLOC_HIGHATOMIC | BUDDY_ALLOC_OOM)

/* mirrors __zone_watermark_unusable_free() (6.1: nr_reserved_highatomic; 6.12+: nr_free_highatomic) */
static int64_t zone_unusable_free(const struct buddy_model *m, const struct bzone *z, unsigned order, uint32_t flags)
{
	int64_t u = (1ll << order) - 1;

	if (!(flags & ALLOC_RESERVES))
		u += m->prof.wmark_free_highatomic ? z->free_pages_mt[BUDDY_MT_HIGHATOMIC]
						    : (int64_t)z->nr_reserved_highatomic;
	return u;
}

/* mirrors __zone_watermark_ok() (6.1:4029, 6.12:3204, 6.18) */
static bool zone_watermark_ok_free(const struct buddy_model *m, struct bzone *z, unsigned order, uint64_t mark,
				   int hz, uint32_t flags, int64_t free_pages)
{
	int64_t min = (int64_t)mark;

	free_pages -= zone_unusable_free(m, z, order, flags);
	if (flags & ALLOC_RESERVES) {
		if (flags & BUDDY_ALLOC_MIN_RESERVE) {
			min -= min / 2;
			if (flags & BUDDY_ALLOC_NON_BLOCK)
				min -= min / 4;
		}
		if (flags & BUDDY_ALLOC_OOM)
			min -= min / 2;
	}
	if (free_pages <= min + (int64_t)z->lowmem_reserve[hz])
		return false;
	if (!order)
		return true;
	for (unsigned o = order; o < m->nr_orders; o++) {
		if (!z->nr_free[o])
			continue;
		for (int mt = 0; mt < BUDDY_MT_PCPTYPES; mt++)
			if (FL(z, o, mt)->head != NIL)
				return true;
		if ((flags & (BUDDY_ALLOC_HIGHATOMIC | BUDDY_ALLOC_OOM)) && FL(z, o, BUDDY_MT_HIGHATOMIC)->head != NIL)
			return true;
	}
	return false;
}

/* mirrors zone_watermark_fast() (6.1:4114, 6.12:3289, 6.18) */
static inline __attribute__((always_inline)) bool zone_watermark_fast(const struct buddy_model *m, struct bzone *z, unsigned order, uint64_t mark, int hz,
				uint32_t flags, uint32_t gfp)
{
	int64_t free_pages = (int64_t)nr_free_pages(z);
	bool relax;

	if (!order) {
		int64_t usable = free_pages, reserved = zone_unusable_free(m, z, 0, flags);

		usable -= usable < reserved ? usable : reserved;
		if (usable > (int64_t)(mark + z->lowmem_reserve[hz]))
			return true;
	}
	if (zone_watermark_ok_free(m, z, order, mark, hz, flags, free_pages))
		return true;
	relax = m->prof.boost_relax_on_min_reserve ? (flags & BUDDY_ALLOC_MIN_RESERVE) : (gfp & BUDDY_GFP_ATOMIC);
	if (!order && relax && z->boost && (flags & BUDDY_ALLOC_WMARK_MASK) == BUDDY_ALLOC_WMARK_MIN)
		return zone_watermark_ok_free(m, z, order, z->wmark[0], hz, flags, free_pages);
	return false;
}

static inline uint64_t wmark_pages(const struct bzone *z, unsigned idx)
{
	return (idx < 3 ? z->wmark[idx] : z->wmark[2]) + z->boost;
}

/* ---- highatomic reserve ----------------------------------------------------------------------------- */

static void emit_ha(struct buddy_model *m, struct bzone *z, enum buddy_event_kind kind, uint32_t i, int mt)
{
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, kind, m, z);
		ev.pfn = PFN(z, i & ~(uint32_t)(m->pb_nr - 1));
		ev.mt = mt;
		ev.count = z->nr_reserved_highatomic;
		emit(m, &ev);
	}
}

/* mirrors reserve_highatomic_pageblock() (6.1:2908, 6.12:2066, 6.18:3408) */
static void reserve_highatomic_pageblock(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order)
{
	uint64_t max_managed;
	int mt;

	if (m->prof.highatomic_reserve_612) {
		if (z->managed / 100 < m->pb_nr)
			return;
		max_managed = (z->managed / 100 + m->pb_nr - 1) & ~(m->pb_nr - 1);
	} else {
		max_managed = z->managed / 100 + m->pb_nr;
	}
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	mt = pb_get(m, z, i);
	if (!mt_mergeable(mt))
		return;
	JS(m, &z->nr_reserved_highatomic);
	if (!m->prof.highatomic_reserve_612) {
		z->nr_reserved_highatomic += m->pb_nr;
		set_pageblock_migratetype(m, z, i, BUDDY_MT_HIGHATOMIC, BUDDY_RETYPE_HIGHATOMIC);
		move_freepages_block_61(m, z, i, BUDDY_MT_HIGHATOMIC, NULL);
	} else if (order < m->pbo) {
		uint32_t s;

		if (!prep_move_freepages_block(m, z, i, &s, NULL, NULL))
			return;
		move_freepages_block_610(m, z, s, mt, BUDDY_MT_HIGHATOMIC, true, BUDDY_RETYPE_HIGHATOMIC);
		z->nr_reserved_highatomic += m->pb_nr;
	} else {
		change_pageblock_range(m, z, i, order, BUDDY_MT_HIGHATOMIC, BUDDY_RETYPE_HIGHATOMIC);
		z->nr_reserved_highatomic += 1ull << order;
	}
	emit_ha(m, z, BUDDY_EV_HIGHATOMIC_RESERVE, i, BUDDY_MT_HIGHATOMIC);
}

/* mirrors unreserve_highatomic_pageblock() for one zone (6.1:2950, 6.12:2118, 6.18:3460) */
static bool unreserve_highatomic_zone(struct buddy_model *m, struct bzone *z, int acmt, bool force)
{
	if (!force && z->nr_reserved_highatomic <= m->pb_nr)
		return false;
	for (unsigned o = 0; o < m->nr_orders; o++) {
		uint32_t i = FL(z, o, BUDDY_MT_HIGHATOMIC)->head;
		int64_t ret;
		int bmt;

		if (i == NIL)
			continue;
		bmt = pb_get(m, z, i);
		JS(m, &z->nr_reserved_highatomic);
		if (m->prof.unreserve_style == 0) {
			if (bmt == BUDDY_MT_HIGHATOMIC)
				z->nr_reserved_highatomic -= z->nr_reserved_highatomic < m->pb_nr ? z->nr_reserved_highatomic
												  : m->pb_nr;
			set_pageblock_migratetype(m, z, i, acmt, BUDDY_RETYPE_UNRESERVE);
			ret = (int64_t)move_freepages_block_61(m, z, i, acmt, NULL);
		} else {
			uint64_t size = m->pb_nr > (1ull << o) ? m->pb_nr : (1ull << o);

			if (m->prof.unreserve_style == 2 || bmt == BUDDY_MT_HIGHATOMIC) {
				if (size > z->nr_reserved_highatomic)
					size = z->nr_reserved_highatomic;
				z->nr_reserved_highatomic -= size;
			}
			if (o < m->pbo) {
				uint32_t s;

				if (prep_move_freepages_block(m, z, i, &s, NULL, NULL))
					ret = (int64_t)move_freepages_block_610(m, z, s, bmt, acmt, true,
										BUDDY_RETYPE_UNRESERVE);
				else
					ret = -1;
			} else {
				move_to_free_list(m, z, i, acmt);
				change_pageblock_range(m, z, i, o, acmt, BUDDY_RETYPE_UNRESERVE);
				ret = 1;
			}
		}
		if (ret > 0) {
			emit_ha(m, z, BUDDY_EV_HIGHATOMIC_UNRESERVE, i, acmt);
			return true;
		}
	}
	return false;
}

/* ---- zonelist, get_page_from_freelist, __alloc_pages ------------------------------------------------- */

struct alloc_ctx {
	int mt, hz, nid;
	unsigned cpu;
	uint32_t gfp;
	int pref;		/* preferred zone index, -1 if none */
};

static int preferred_zone(const struct buddy_model *m, int nid, int hz)
{
	return m->pref[nid * BUDDY_ZONE_NR_TYPES + hz];
}

static int preferred_zone_slow(const struct buddy_model *m, int nid, int hz)
{
	const int *zl = &m->zonelist[(size_t)nid * m->nr_zones];

	for (unsigned k = 0; k < m->nr_zones; k++)
		if ((int)m->zones[zl[k]].zone_type <= hz)
			return zl[k];
	return -1;
}

/* mirrors alloc_flags_nofragment() (6.1:4194, 6.12:3370, 6.18:3720) */
static uint32_t alloc_flags_nofragment(const struct buddy_model *m, int pref, uint32_t gfp)
{
	uint32_t f = (gfp & BUDDY_GFP_KSWAPD_RECLAIM) ? BUDDY_ALLOC_KSWAPD : 0;
	const struct bzone *z;

	if (m->prof.defrag_mode_supported && m->defrag_mode)
		f |= BUDDY_ALLOC_NOFRAGMENT;
	if (pref < 0)
		return f;
	z = &m->zones[pref];
	if (z->zone_type != BUDDY_ZONE_NORMAL)
		return f;
	if (m->nr_nodes > 1) {
		bool dma32 = false;

		for (unsigned k = 0; k < m->nr_zones; k++)
			if (m->zones[k].node == z->node && m->zones[k].zone_type == BUDDY_ZONE_DMA32 &&
			    m->zones[k].present)
				dma32 = true;
		if (!dma32)
			return f;
	}
	return f | BUDDY_ALLOC_NOFRAGMENT;
}

/* mirrors rmqueue() (6.1:3879, 6.12:3147, 6.18) */
static inline __attribute__((always_inline)) uint32_t rmqueue(struct buddy_model *m, struct bzone *z, unsigned order, uint32_t flags,
			const struct alloc_ctx *ac, bool *from_pcp)
{
	uint32_t i = NIL;

	*from_pcp = false;
	if (pcp_allowed_order(m, order)) {
		i = rmqueue_pcplist(m, z, ac->cpu, order, ac->mt, flags);
		if (i != NIL)
			*from_pcp = true;
	}
	if (i == NIL) {
		struct buddy_take t;

		take_reset(&t, order);
		i = rmqueue_buddy_locked(m, z, order, flags, ac->mt, &t);
		if (i != NIL) {
			mark_alloc(m, z, i, order, ac->mt);
			if (m->capture)
				capture_step(m, &t);
		}
	}
	if (z->boosted && (!m->prof.boost_wake_needs_kswapd || (flags & BUDDY_ALLOC_KSWAPD))) {
		JS(m, &z->boosted);
		z->boosted = false;	/* wakeup_kswapd(): kswapd's work is not modelled */
	}
	return i;
}

/* mirrors get_page_from_freelist() (6.1:4241, 6.12:3417, 6.18:3772); UMA-first, no cpusets,
 * no dirty limits, node_reclaim off */
static uint32_t get_page_from_freelist(struct buddy_model *m, unsigned order, uint32_t *flags_io,
				       const struct alloc_ctx *ac, int *zone_out, bool *from_pcp)
{
	uint32_t flags = *flags_io;
	const int *zl = &m->zonelist[(size_t)ac->nid * m->nr_zones];
	bool defrag = m->prof.defrag_mode_supported && m->defrag_mode;

retry:;
	bool no_fallback = flags & BUDDY_ALLOC_NOFRAGMENT;

	for (unsigned k = 0; k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[zl[k]];
		uint64_t mark;
		uint32_t i;

		if ((int)z->zone_type > ac->hz)
			continue;
		if (no_fallback && m->nr_nodes > 1 && zl[k] != ac->pref && z->node != m->zones[ac->pref].node &&
		    !defrag) {
			flags &= ~BUDDY_ALLOC_NOFRAGMENT;
			goto retry;
		}
		if (m->prof.zone_below_high_check) {
			if (!z->below_high) {
				if (zone_watermark_fast(m, z, order, wmark_pages(z, 2), ac->hz, flags, ac->gfp))
					goto try_this_zone;
				JS(m, &z->below_high);
				z->below_high = true;
			}
		}
		mark = wmark_pages(z, flags & BUDDY_ALLOC_WMARK_MASK);
		if (!zone_watermark_fast(m, z, order, mark, ac->hz, flags, ac->gfp)) {
			if (flags & BUDDY_ALLOC_NO_WATERMARKS)
				goto try_this_zone;
			continue;
		}
try_this_zone:
		i = rmqueue(m, z, order, flags, ac, from_pcp);
		if (i != NIL) {
			if (flags & BUDDY_ALLOC_HIGHATOMIC)
				reserve_highatomic_pageblock(m, z, i, order);
			*zone_out = zl[k];
			*flags_io = flags;
			return i;
		}
	}
	if (no_fallback && !defrag) {
		flags &= ~BUDDY_ALLOC_NOFRAGMENT;
		goto retry;
	}
	return NIL;
}

/* mirrors gfp_to_alloc_flags() (6.1:4891, 6.12, 6.18) */
static uint32_t gfp_to_alloc_flags(const struct buddy_model *m, uint32_t gfp, unsigned order)
{
	uint32_t f = BUDDY_ALLOC_WMARK_MIN | BUDDY_ALLOC_CPUSET;

	if (gfp & BUDDY_GFP_HIGH)
		f |= BUDDY_ALLOC_MIN_RESERVE;
	if (gfp & BUDDY_GFP_KSWAPD_RECLAIM)
		f |= BUDDY_ALLOC_KSWAPD;
	if (!(gfp & BUDDY_GFP_DIRECT_RECLAIM)) {
		if (!(gfp & BUDDY_GFP_NOMEMALLOC)) {
			f |= BUDDY_ALLOC_NON_BLOCK;
			if (order > 0 && (!m->prof.highatomic_needs_gfp_high || (f & BUDDY_ALLOC_MIN_RESERVE)))
				f |= BUDDY_ALLOC_HIGHATOMIC;
		}
		if (f & BUDDY_ALLOC_MIN_RESERVE)
			f &= ~BUDDY_ALLOC_CPUSET;
	}
	if (m->prof.defrag_mode_supported && m->defrag_mode)
		f |= BUDDY_ALLOC_NOFRAGMENT;
	return f;
}

static void drain_all(struct buddy_model *m, int zone, int cpu);

static bool unreserve_all(struct buddy_model *m, const struct alloc_ctx *ac, bool force)
{
	const int *zl = &m->zonelist[(size_t)ac->nid * m->nr_zones];

	for (unsigned k = 0; k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[zl[k]];

		if ((int)z->zone_type > ac->hz)
			continue;
		if (unreserve_highatomic_zone(m, z, ac->mt, force))
			return true;
	}
	return false;
}

int buddy_alloc(struct buddy_model *m, const struct buddy_alloc_req *req, struct buddy_alloc_res *res)
{
	struct alloc_ctx ac;
	uint32_t flags, i = NIL;
	int zone = -1;
	bool from_pcp = false, slow = false;

	res->pfn = BUDDY_PFN_NONE;
	res->zone = -1;
	res->alloc_flags = 0;
	res->from_pcp = false;
	res->slowpath = false;
	if (req->order >= m->nr_orders) {
		buddy_set_err(m, "allocation of order %u: the model has orders 0..%u", req->order, m->max_order);
		return -EINVAL;
	}
	if (req->cpu >= m->nr_cpus) {
		buddy_set_err(m, "allocation on cpu %u: the model has %u cpus", req->cpu, m->nr_cpus);
		return -EINVAL;
	}
	ac.gfp = req->gfp;
	ac.mt = req->mt >= 0 ? req->mt : buddy_gfp_migratetype(req->gfp);
	if (m->mobility_disabled)
		ac.mt = BUDDY_MT_UNMOVABLE;
	if (ac.mt < 0 || ac.mt >= BUDDY_MT_PCPTYPES) {
		buddy_set_err(m, "allocation with migratetype %s: only Unmovable, Movable, Reclaimable requests exist",
			      buddy_mt_name(ac.mt));
		return -EINVAL;
	}
	ac.hz = req->highest_zone_type >= 0 ? req->highest_zone_type : buddy_gfp_zone(req->gfp);
	if (ac.hz >= BUDDY_ZONE_NR_TYPES)
		ac.hz = BUDDY_ZONE_NR_TYPES - 1;
	ac.nid = req->nid >= 0 && (unsigned)req->nid < m->nr_nodes ? req->nid : 0;
	ac.cpu = req->cpu;
	ac.pref = preferred_zone(m, ac.nid, ac.hz);
	if (ac.pref < 0)
		goto out;
	if (req->alloc_flags) {
		flags = req->alloc_flags;
		i = get_page_from_freelist(m, req->order, &flags, &ac, &zone, &from_pcp);
		goto out;
	}
	flags = req->bulk ? BUDDY_ALLOC_WMARK_LOW
			  : BUDDY_ALLOC_WMARK_LOW | alloc_flags_nofragment(m, ac.pref, req->gfp);
	i = get_page_from_freelist(m, req->order, &flags, &ac, &zone, &from_pcp);
	if (i != NIL || req->no_slowpath || req->bulk)
		goto out;
	/* __alloc_pages_slowpath(): no reclaim or compaction is modelled (DEVIATIONS.md) */
	slow = true;
	flags = gfp_to_alloc_flags(m, req->gfp, req->order);
	i = get_page_from_freelist(m, req->order, &flags, &ac, &zone, &from_pcp);
	if (i == NIL && (req->gfp & BUDDY_GFP_DIRECT_RECLAIM)) {
		/* __alloc_pages_direct_reclaim() after a reclaim that freed nothing */
		unreserve_all(m, &ac, false);
		drain_all(m, -1, -1);
		i = get_page_from_freelist(m, req->order, &flags, &ac, &zone, &from_pcp);
		/* should_reclaim_retry() gives up: unreserve with force */
		if (i == NIL && unreserve_all(m, &ac, true))
			i = get_page_from_freelist(m, req->order, &flags, &ac, &zone, &from_pcp);
	}
out:
	if (i != NIL) {
		struct bzone *z = &m->zones[zone];

		res->pfn = PFN(z, i);
		res->zone = zone;
		res->alloc_flags = flags;
		res->from_pcp = from_pcp;
		res->slowpath = slow;
	}
	if (!req->bulk && ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PAGE_ALLOC, m, zone >= 0 ? &m->zones[zone] : &m->zones[0]);
		ev.zone = zone;
		ev.pfn = res->pfn;
		ev.order = req->order;
		ev.mt = ac.mt;
		ev.cpu = (int)req->cpu;
		emit(m, &ev);
	}
	if (i == NIL) {
		buddy_set_err(m, "allocation of order %u (%s) failed: no zone could give it", req->order,
			      buddy_mt_name(ac.mt));
		return -ENOMEM;
	}
	return 0;
}

/* ---- free ------------------------------------------------------------------------------------------ */

/* Makes [i, i + 2^order) exactly one allocated block with head i, splitting or joining the
 * model's allocated records. Checks first; changes nothing on error. */
static inline __attribute__((always_inline)) int carve_alloc(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, const char *what)
{
	uint32_t h;
	unsigned k;

	if ((i & ((1u << order) - 1)) || (uint64_t)i + (1u << order) > z->n) {
		buddy_set_err(m, "zone %s: pfn %#llx order %u: %s: not aligned to its order or beyond the zone",
			      z->name, (unsigned long long)PFN(z, i), order, what);
		return -EINVAL;
	}
	if (PG(z, i)->state == PS_ALLOC && PG(z, i)->order == order)
		return 0;
	if (!find_block(m, z, i, &h, &k) || PG(z, h)->state != PS_ALLOC)
		return contradiction(m, z, i, order, what);
	if (k >= order) {
		int owner = bp_mt(PG(z, h));
		uint32_t cur = h;

		if (h == i && k == order)
			return 0;
		while (k > order) {
			uint32_t half;

			k--;
			half = 1u << k;
			if (i >= cur + half) {
				mark_alloc(m, z, cur, k, owner);
				cur += half;
			} else {
				mark_alloc(m, z, cur + half, k, owner);
			}
		}
		mark_alloc(m, z, i, order, owner);
		return 0;
	}
	/* several allocated blocks inside the range: all must be allocated */
	for (uint32_t p = i; p < i + (1u << order);) {
		struct bpage *pg = PG(z, p);

		if (pg->state != PS_ALLOC)
			return contradiction(m, z, p, order, what);
		p += 1u << pg->order;
	}
	{
		int owner = bp_mt(PG(z, i));

		for (uint32_t p = i + (1u << PG(z, i)->order); p < i + (1u << order);) {
			struct bpage *pg = PG(z, p);
			uint32_t n = 1u << pg->order;

			JS(m, pg);
			pg->state = PS_NONE;
			p += n;
		}
		mark_alloc(m, z, i, order, owner);
	}
	return 0;
}

/* free_unref_page_commit() of 6.1 (6.1:3469) */
static void commit_61(struct buddy_model *m, struct bzone *z, unsigned cpu, uint32_t i, unsigned order, int mt,
		      int cmt)
{
	struct bpcp *pcp = &z->pcp[cpu];
	int pindex = order_to_pindex(m, mt, order);
	bool free_high;
	int high;

	pcp_add(m, z, cpu, i, order, mt, false, cmt);
	free_high = pcp->free_factor && order && order <= m->costly;
	if (!pcp->high || free_high)
		high = 0;
	else if (z->reclaim_active)
		high = pcp->batch << 2 < pcp->high ? pcp->batch << 2 : pcp->high;
	else
		high = pcp->high;
	if (pcp->count >= high) {
		int64_t n;

		/* nr_pcp_free() (6.1:3422) */
		if (free_high) {
			n = pcp->count;
		} else if (high < pcp->batch) {
			n = 1;
		} else {
			int b = pcp->batch << pcp->free_factor, lo = pcp->batch, hi = high - pcp->batch;

			if (b < hi && pcp->free_factor < 5) {
				JS(m, &pcp->free_factor);
				pcp->free_factor++;
			}
			n = clampi(b, lo, hi);
		}
		free_pcppages_bulk(m, z, cpu, n, pindex);
	}
}

/* free_unref_page_commit() of 6.12 (6.12:2673) and free_frozen_page_commit() of 6.18 (6.18:2860) */
static inline __attribute__((always_inline)) void commit_612(struct buddy_model *m, struct bzone *z, unsigned cpu, uint32_t i, unsigned order, int mt)
{
	struct bpcp *pcp = &z->pcp[cpu];
	int pindex = order_to_pindex(m, mt, order);
	bool free_high = false;
	int batch = pcp->batch, high;

	JS(m, &pcp->alloc_factor);
	pcp->alloc_factor >>= 1;
	pcp_add(m, z, cpu, i, order, mt, false, mt);
	JS(m, &pcp->flags);
	if (order && order <= m->costly) {
		int thr = batch + (m->prof.free_high_half_high_min ? pcp->high_min / 2 : 0);

		free_high = pcp->free_count >= thr && (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) &&
			    (!(pcp->flags & PCPF_FREE_HIGH_BATCH) || pcp->count >= batch);
		pcp->flags |= PCPF_PREV_FREE_HIGH_ORDER;
	} else {
		pcp->flags &= ~PCPF_PREV_FREE_HIGH_ORDER;
	}
	JS(m, &pcp->free_count);
	if (pcp->free_count < (batch << 5))
		pcp->free_count += 1 << order;
	/* nr_pcp_high() (6.12:2625) */
	JS(m, &pcp->high);
	high = pcp->high = clampi(pcp->high, pcp->high_min, pcp->high_max);
	if (!high) {
		high = 0;
	} else if (free_high) {
		int h = high - (batch << 5);

		pcp->high = h > pcp->high_min ? h : pcp->high_min;
		high = 0;
	} else if (z->reclaim_active) {
		int fc = pcp->free_count > batch ? pcp->free_count : batch;
		int h = high - fc;

		pcp->high = h > pcp->high_min ? h : pcp->high_min;
		high = batch << 2 < pcp->high ? batch << 2 : pcp->high;
	} else if (pcp->high_min == pcp->high_max) {
		/* high stays */
	} else if (z->below_high) {
		int fc = pcp->free_count > batch ? pcp->free_count : batch;
		int h = high - fc;

		pcp->high = h > pcp->high_min ? h : pcp->high_min;
		high = (int)pcp->count > pcp->high_min ? (int)pcp->count : pcp->high_min;
	} else if (pcp->count >= high) {
		int need = pcp->free_count + batch;

		if (pcp->high < need)
			pcp->high = clampi(need, pcp->high_min, pcp->high_max);
	}
	if (pcp->count >= high) {
		int64_t n;

		/* nr_pcp_free() (6.12:2600) */
		if (free_high)
			n = pcp->count < (int64_t)batch << 5 ? pcp->count : (int64_t)batch << 5;
		else if (high < batch)
			n = 1;
		else
			n = clampi(pcp->free_count, batch, high - batch);
		free_pcppages_bulk(m, z, cpu, n, pindex);
		if (z->below_high &&
		    zone_watermark_ok_free(m, z, 0, wmark_pages(z, 2), BUDDY_ZONE_MOVABLE, 0,
					   (int64_t)nr_free_pages(z))) {
			JS(m, &z->below_high);
			z->below_high = false;
		}
	}
}

int buddy_free(struct buddy_model *m, uint64_t pfn, unsigned order, unsigned cpu, unsigned fpi)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);
	int err;

	if (!z) {
		buddy_set_err(m, "free of pfn %#llx order %u: the pfn is in no zone", (unsigned long long)pfn, order);
		return FS_ERRNO__CONTRADICTION;
	}
	if (order >= m->nr_orders || cpu >= m->nr_cpus) {
		buddy_set_err(m, "free of pfn %#llx order %u on cpu %u: out of range", (unsigned long long)pfn, order,
			      cpu);
		return -EINVAL;
	}
	err = carve_alloc(m, z, i, order, "freeing it");
	if (err)
		return err;
	if (ev_on(m)) {
		struct buddy_event ev;

		ev_init(&ev, BUDDY_EV_PAGE_FREE, m, z);
		ev.pfn = pfn;
		ev.order = order;
		ev.cpu = (int)cpu;
		emit(m, &ev);
	}
	if (!(fpi & (BUDDY_FPI_NO_PCP | BUDDY_FPI_TO_TAIL)) && pcp_allowed_order(m, order)) {
		int mt = pb_get(m, z, i), cmt = mt;

		if (mt >= BUDDY_MT_PCPTYPES) {
			if (mt == BUDDY_MT_ISOLATE) {
				free_one_page(m, z, i, order, fpi);
				return 0;
			}
			mt = BUDDY_MT_MOVABLE;
		}
		if (m->prof.adaptive_pcp)
			commit_612(m, z, cpu, i, order, mt);
		else
			commit_61(m, z, cpu, i, order, mt, cmt);
		return 0;
	}
	free_one_page(m, z, i, order, fpi);
	return 0;
}

/* drain_pages_zone() (6.1, 6.12, 6.18): batch << CONFIG_PCP_BATCH_SCALE_MAX per pass, pindex 0 */
static void drain_pages_zone(struct buddy_model *m, struct bzone *z, unsigned cpu)
{
	struct bpcp *pcp = &z->pcp[cpu];

	while (pcp->count > 0) {
		int64_t n = (int64_t)pcp->batch << 5;

		if (n > pcp->count)
			n = pcp->count;
		if (n <= 0)
			n = pcp->count;
		free_pcppages_bulk(m, z, cpu, n, 0);
	}
}

static void drain_all(struct buddy_model *m, int zone, int cpu)
{
	for (unsigned c = 0; c < m->nr_cpus; c++) {
		if (cpu >= 0 && (unsigned)cpu != c)
			continue;
		for (unsigned k = 0; k < m->nr_zones; k++)
			if (zone < 0 || (unsigned)zone == k)
				drain_pages_zone(m, &m->zones[k], c);
	}
}

int buddy_drain_pcp(struct buddy_model *m, int zone, int cpu)
{
	if ((zone >= 0 && (unsigned)zone >= m->nr_zones) || (cpu >= 0 && (unsigned)cpu >= m->nr_cpus)) {
		buddy_set_err(m, "drain of zone %d cpu %d: out of range", zone, cpu);
		return -EINVAL;
	}
	drain_all(m, zone, cpu);
	return 0;
}

int buddy_free_pcppages_bulk(struct buddy_model *m, int zone, unsigned cpu, uint64_t count, unsigned pindex)
{
	if (zone < 0 || (unsigned)zone >= m->nr_zones || cpu >= m->nr_cpus || pindex >= m->nr_pcp_lists) {
		buddy_set_err(m, "free_pcppages_bulk: zone %d cpu %u pindex %u out of range", zone, cpu, pindex);
		return -EINVAL;
	}
	free_pcppages_bulk(m, &m->zones[zone], cpu, (int64_t)count, (int)pindex);
	return 0;
}

/* mirrors decay_pcp_high() (6.12:2409, 6.18:2596) */
int buddy_decay_pcp_high(struct buddy_model *m, int zone, unsigned cpu)
{
	struct bzone *z;
	struct bpcp *pcp;
	int todo = 0;
	int64_t to_drain;

	if (zone < 0 || (unsigned)zone >= m->nr_zones || cpu >= m->nr_cpus) {
		buddy_set_err(m, "decay_pcp_high: zone %d cpu %u out of range", zone, cpu);
		return -EINVAL;
	}
	if (!m->prof.adaptive_pcp)
		return 0;
	z = &m->zones[zone];
	pcp = &z->pcp[cpu];
	if (pcp->high > pcp->high_min) {
		int64_t a = pcp->count - ((int64_t)pcp->batch << 5), b = pcp->high - (pcp->high >> 3);
		int64_t h = a > b ? a : b;

		if (h < pcp->high_min)
			h = pcp->high_min;
		JS(m, &pcp->high);
		pcp->high = (int)h;
		if (pcp->high > pcp->high_min)
			todo = 1;
	}
	to_drain = pcp->count - pcp->high;
	while (to_drain > 0) {
		int64_t n = to_drain < pcp->batch ? to_drain : pcp->batch;

		free_pcppages_bulk(m, z, cpu, n, 0);
		todo = 1;
		to_drain -= n;
	}
	return todo;
}

int buddy_unreserve_highatomic(struct buddy_model *m, int mt, int highest_zone_type, bool force)
{
	struct alloc_ctx ac = { .mt = mt, .hz = highest_zone_type, .nid = 0 };

	if (mt < 0 || mt >= BUDDY_MT_PCPTYPES)
		return -EINVAL;
	return unreserve_all(m, &ac, force) ? 1 : 0;
}

void buddy_clear_boost(struct buddy_model *m, int zone)
{
	for (unsigned k = 0; k < m->nr_zones; k++)
		if (zone < 0 || (unsigned)zone == k) {
			JS(m, &m->zones[k].boost);
			m->zones[k].boost = 0;
		}
}

/* ---- the __rmqueue step, real and predicted ------------------------------------------------------ */

const char *buddy_path_name(enum buddy_path p)
{
	switch (p) {
	case BUDDY_PATH_NONE: return "none";
	case BUDDY_PATH_NORMAL: return "normal";
	case BUDDY_PATH_HIGHATOMIC: return "highatomic";
	case BUDDY_PATH_CLAIM: return "claim";
	case BUDDY_PATH_STEAL: return "steal";
	case BUDDY_PATH_PCP: return "pcp";
	}
	return "?";
}

static int rmqueue_step(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
			enum buddy_rmqueue_kind kind, int *mode, struct buddy_take *take)
{
	struct bzone *z;
	uint32_t i;

	take_reset(take, order);
	take->nr_events = 0;
	take->ctx_mode_after = *mode;
	if (zone < 0 || (unsigned)zone >= m->nr_zones || order >= m->nr_orders || mt < 0 ||
	    mt >= BUDDY_MT_NR || mt == BUDDY_MT_ISOLATE) {
		buddy_set_err(m, "rmqueue: zone %d order %u mt %d out of range", zone, order, mt);
		return -EINVAL;
	}
	z = &m->zones[zone];
	if (kind == BUDDY_RMQ_BUDDY)
		i = rmqueue_buddy_locked(m, z, order, alloc_flags, mt, take);
	else if (mt >= BUDDY_MT_PCPTYPES)
		i = rmqueue_smallest(m, z, order, mt, take);
	else
		i = rmqueue_profile(m, z, order, mt, alloc_flags, mode, take);
	if (i != NIL)
		bp_set_mt(PG(z, i), (uint8_t)(mt < BUDDY_MT_PCPTYPES ? mt : MT_UNKNOWN));
	else
		take_reset(take, order);
	take->ctx_mode_after = *mode;
	return 0;
}

int buddy_rmqueue(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
		  enum buddy_rmqueue_kind kind, struct buddy_rmqueue_ctx *ctx, struct buddy_take *take)
{
	int mode = ctx ? ctx->mode : RMQ_NORMAL, err;
	struct buddy_take *saved = m->capture;

	m->capture = take;
	err = rmqueue_step(m, zone, order, mt, alloc_flags, kind, &mode, take);
	m->capture = saved;
	if (ctx)
		ctx->mode = mode;
	return err;
}

/*
 * The common prediction without the undo journal: when rmqueue_step()'s first move is
 * __rmqueue_smallest(order, mt) and a list of order >= order holds a block, that block's head
 * is the take, and the take record and captured events are exactly what the journaled run
 * leaves (the splits emit no captured event, the rolled-back state changes are not visible).
 * False (nothing written) when the full step must run: HIGHATOMIC first, a 6.12.29+ mode
 * other than NORMAL, nothing on the lists, or bad arguments (the step reports those).
 */
static bool predict_smallest_head(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
				  enum buddy_rmqueue_kind kind, int mode, struct buddy_take *t)
{
	struct bzone *z;

	if (zone < 0 || (unsigned)zone >= m->nr_zones || order >= m->nr_orders || mt < 0 ||
	    mt >= BUDDY_MT_NR || mt == BUDDY_MT_ISOLATE)
		return false;
	if (kind == BUDDY_RMQ_BUDDY) {
		/* rmqueue_buddy_locked(): HIGHATOMIC first, else __rmqueue with a fresh NORMAL mode */
		if (alloc_flags & BUDDY_ALLOC_HIGHATOMIC)
			return false;
	} else if (mt < BUDDY_MT_PCPTYPES && m->prof.fallback != BUDDY_FB_61 &&
		   m->prof.fallback != BUDDY_FB_612E && mode != RMQ_NORMAL) {
		return false;	/* rmqueue_612l() skips __rmqueue_smallest outside NORMAL */
	}
	z = &m->zones[zone];
	for (unsigned o = order; o < m->nr_orders; o++) {
		uint32_t i = FL(z, o, mt)->head;
		struct buddy_event ev;

		if (i == NIL)
			continue;
		take_reset(t, order);
		t->nr_events = 0;
		take_record(m, z, i, order, o, mt, t);
		ev_init(&ev, BUDDY_EV_ZONE_LOCKED, m, z);
		ev.pfn = PFN(z, i);
		ev.order = order;
		ev.mt = mt;
		ev.percpu_refill = pcp_allowed_order(m, order) && mt < BUDDY_MT_PCPTYPES;
		t->events[t->nr_events++] = ev;
		t->ctx_mode_after = mode;
		return true;
	}
	return false;
}

int buddy_predict_rmqueue(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
			  enum buddy_rmqueue_kind kind, const struct buddy_rmqueue_ctx *ctx, struct buddy_take *take)
{
	int mode = ctx ? ctx->mode : RMQ_NORMAL, err;
	struct buddy_take *saved = m->capture;
	bool saved_silent = m->silent;

#ifndef BUDDY_PREDICT_VERIFY
	if (predict_smallest_head(m, zone, order, mt, alloc_flags, kind, mode, take))
		return 0;
#endif
	m->jr_nr = 0;
	m->jr_oom = false;
	m->journaling = true;
	m->silent = true;
	m->capture = take;
	err = rmqueue_step(m, zone, order, mt, alloc_flags, kind, &mode, take);
	m->journaling = false;
	journal_rollback(m);
	m->capture = saved;
	m->silent = saved_silent;
	if (m->jr_oom) {
		buddy_set_err(m, "prediction: out of memory for the undo journal; the model may be damaged");
		return -ENOMEM;
	}
#ifdef BUDDY_PREDICT_VERIFY	/* make CFLAGS=-DBUDDY_PREDICT_VERIFY: the fast path must agree byte for byte */
	{
		static struct buddy_take fast;

		memset(&fast, 0, sizeof(fast));
		if (!err && predict_smallest_head(m, zone, order, mt, alloc_flags, kind,
						   ctx ? ctx->mode : RMQ_NORMAL, &fast) &&
		    memcmp(&fast, take, sizeof(fast)))
			abort();
	}
#endif
	return err;
}

int buddy_predict_alloc(struct buddy_model *m, const struct buddy_alloc_req *req, struct buddy_alloc_res *res,
			struct buddy_take *take)
{
	struct buddy_take local, *saved = m->capture;
	bool saved_silent = m->silent;
	char err_saved[sizeof(m->err)];
	int err;

	if (!take)
		take = &local;
	take_reset(take, req->order);
	take->nr_events = 0;
	take->ctx_mode_after = 0;
	memcpy(err_saved, m->err, sizeof(err_saved));
	m->jr_nr = 0;
	m->jr_oom = false;
	m->journaling = true;
	m->silent = true;
	m->capture = take;
	err = buddy_alloc(m, req, res);
	m->journaling = false;
	journal_rollback(m);
	m->capture = saved;
	m->silent = saved_silent;
	if (res->from_pcp && res->pfn != BUDDY_PFN_NONE && take->pfn != res->pfn) {	/* a pcp hit */
		take->pfn = res->pfn;
		take->path = BUDDY_PATH_PCP;
	}
	if (m->jr_oom) {
		buddy_set_err(m, "prediction: out of memory for the undo journal; the model may be damaged");
		return -ENOMEM;
	}
	if (!err)
		memcpy(m->err, err_saved, sizeof(err_saved));
	return err;
}

/* ---- follow-mode primitives ----------------------------------------------------------------------- */

static __attribute__((noinline)) void no_zone_err(struct buddy_model *m, uint64_t pfn, unsigned order,
						  const char *what)
{
	buddy_set_err(m, "pfn %#llx order %u: %s, but the pfn is in no zone of the model", (unsigned long long)pfn,
		      order, what);
}

static inline struct bzone *zone_or_err(struct buddy_model *m, uint64_t pfn, unsigned order, uint32_t *i,
					const char *what)
{
	struct bzone *z = zone_of(m, pfn, i);

	if (__builtin_expect(!z, 0))
		no_zone_err(m, pfn, order, what);
	return z;
}

static int check_mt(struct buddy_model *m, int mt, bool any_ok)
{
	if ((any_ok && mt == BUDDY_MT_ANY) || (mt >= 0 && mt < BUDDY_MT_NR))
		return 0;
	buddy_set_err(m, "migratetype role %d out of range", mt);
	return -EINVAL;
}

int buddy_take_block(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt, int remainder_mt,
		     int owner_mt, unsigned *found_order)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "the kernel took it from a free list");
	struct bpage *pg;
	unsigned co;
	int lmt;

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (check_mt(m, list_mt, true) || check_mt(m, remainder_mt, true) || order >= m->nr_orders)
		return -EINVAL;
	pg = PG(z, i);
	if (pg->state != PS_FREE)
		return contradiction(m, z, i, order, "the kernel took it from a free list");
	if (pg->order < order)
		return contradiction(m, z, i, order, "the kernel took a block of at least this order");
	if (list_mt != BUDDY_MT_ANY && bp_mt(pg) != list_mt) {
		char what[96];

		snprintf(what, sizeof(what), "the kernel took it from the %s list", buddy_mt_name(list_mt));
		return contradiction(m, z, i, order, what);
	}
	co = pg->order;
	lmt = bp_mt(pg);
	free_del(m, z, i);
	expand(m, z, i, order, co, remainder_mt == BUDDY_MT_ANY ? lmt : remainder_mt);
	mark_alloc(m, z, i, order, owner_mt >= 0 && owner_mt < BUDDY_MT_PCPTYPES ? owner_mt : MT_UNKNOWN);
	if (found_order)
		*found_order = co;
	return 0;
}

int buddy_free_block(struct buddy_model *m, uint64_t pfn, unsigned order, int mt, unsigned fpi)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "the kernel freed it into the buddy");
	int err;

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (check_mt(m, mt, true) || order >= m->nr_orders)
		return -EINVAL;
	err = carve_alloc(m, z, i, order, "the kernel freed it into the buddy");
	if (err)
		return err;
	if (mt == BUDDY_MT_ANY)
		mt = pb_get(m, z, i);
	else if (mt != pb_get(m, z, i))
		m->relaxed_hygiene = true;
	free_one_page_core(m, z, i, order, mt, fpi);
	return 0;
}

static __attribute__((noinline)) int pcp_add_checked(struct buddy_model *m, unsigned cpu, uint64_t pfn,
						      unsigned order, int list_mt, bool to_tail, int cached_mt);

int buddy_pcp_add(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt, bool to_tail,
		  int cached_mt)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);

	/* the usual case: an allocated block of exactly this order, a pcp list that exists */
	if (__builtin_expect(z && cpu < m->nr_cpus && pcp_pindex(m, order, list_mt) >= 0 &&
			     PG(z, i)->state == PS_ALLOC && PG(z, i)->order == order &&
			     !(i & ((1u << order) - 1)) && (uint64_t)i + (1u << order) <= z->n, 1)) {
		if (cached_mt < 0)
			cached_mt = list_mt;
		pcp_add(m, z, cpu, i, order, list_mt >= BUDDY_MT_PCPTYPES ? BUDDY_MT_MOVABLE : list_mt, to_tail,
			cached_mt);
		return 0;
	}
	return pcp_add_checked(m, cpu, pfn, order, list_mt, to_tail, cached_mt);
}

static int pcp_add_checked(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt,
			   bool to_tail, int cached_mt)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "the kernel put it on a pcp list");
	int err;

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (cpu >= m->nr_cpus || pcp_pindex(m, order, list_mt) < 0) {
		buddy_set_err(m, "pcp add of pfn %#llx order %u cpu %u: no such pcp list", (unsigned long long)pfn,
			      order, cpu);
		return -EINVAL;
	}
	err = carve_alloc(m, z, i, order, "the kernel put it on a pcp list");
	if (err)
		return err;
	if (cached_mt < 0)
		cached_mt = list_mt;	/* 6.1: page->index keeps HIGHATOMIC while the list is Movable */
	if (list_mt >= BUDDY_MT_PCPTYPES)
		list_mt = BUDDY_MT_MOVABLE;
	pcp_add(m, z, cpu, i, order, list_mt, to_tail, cached_mt);
	return 0;
}

static inline __attribute__((always_inline)) int pcp_remove_at(struct buddy_model *m, struct bzone *z, uint32_t i,
								 int cpu, unsigned order, int owner_mt, int *where_cpu,
								 int *where_mt)
{
	struct bpage *pg = PG(z, i);

	if (pg->state != PS_PCP || pg->order != order)
		return contradiction(m, z, i, order, "the kernel took it off a pcp list");
	if (cpu >= 0 && pg->cpu != (unsigned)cpu) {
		char what[80];

		snprintf(what, sizeof(what), "the kernel took it off cpu %d's pcp list", cpu);
		return contradiction(m, z, i, order, what);
	}
	if (where_cpu)
		*where_cpu = pg->cpu;
	if (where_mt)
		*where_mt = bp_mt(pg);
	pcp_del(m, z, i);
	mark_alloc(m, z, i, order, owner_mt >= 0 && owner_mt < BUDDY_MT_PCPTYPES ? owner_mt : MT_UNKNOWN);
	return 0;
}

int buddy_pcp_remove(struct buddy_model *m, int cpu, uint64_t pfn, unsigned order, int owner_mt, int *where_cpu,
		     int *where_mt)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "the kernel took it off a pcp list");

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	return pcp_remove_at(m, z, i, cpu, order, owner_mt, where_cpu, where_mt);
}

int buddy_pcp_drain_page(struct buddy_model *m, int cpu, uint64_t pfn, unsigned order, int mt)
{
	uint32_t i;
	struct bzone *z;
	int err;

	if (check_mt(m, mt, true))
		return -EINVAL;
	z = zone_or_err(m, pfn, order, &i, "the kernel took it off a pcp list");
	if (!z)
		return FS_ERRNO__CONTRADICTION;
	err = pcp_remove_at(m, z, i, cpu, order, BUDDY_MT_NONE, NULL, NULL);
	if (err)
		return err;
	if (mt == BUDDY_MT_ANY)
		mt = m->prof.pcppage_mt_cache && !z->nr_isolate_pageblock ? PG(z, i)->cmt : pb_get(m, z, i);
	free_one_page_core(m, z, i, order, mt, BUDDY_FPI_NONE);
	return 0;
}

bool buddy_pcp_take_head(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int owner_mt)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);
	const struct bpage *pg;
	int want;

	if (!z || cpu >= m->nr_cpus || (want = pcp_pindex(m, order, owner_mt)) < 0)
		return false;
	pg = PG(z, i);
	if (pg->state != PS_PCP || pg->order != order || pg->cpu != cpu ||
	    order_to_pindex(m, bp_mt(pg), order) != want || z->pcp[cpu].lists[want].head != i)
		return false;
	pcp_del(m, z, i);
	mark_alloc(m, z, i, order, owner_mt < BUDDY_MT_PCPTYPES ? owner_mt : MT_UNKNOWN);
	return true;
}

int buddy_set_pageblock_type(struct buddy_model *m, uint64_t pfn, int mt)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, 0, &i, "retyping its pageblock");

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (check_mt(m, mt, false))
		return -EINVAL;
	set_pageblock_migratetype(m, z, i, mt, BUDDY_RETYPE_SET);
	if (mt >= BUDDY_MT_PCPTYPES || m->prof.fallback == BUDDY_FB_61)
		m->relaxed_hygiene = true;
	return 0;
}

int buddy_set_pageblock_isolate(struct buddy_model *m, uint64_t pfn, bool isolate)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, 0, &i, "isolating its pageblock");

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	m->relaxed_hygiene = true;
	if (m->prof.pageblock_isolate_bit) {
		uint8_t v = z->pb[i >> m->pbo];

		pb_store(m, z, i, isolate ? (v | PB_ISOLATE_BIT) : (v & ~PB_ISOLATE_BIT), BUDDY_RETYPE_ISOLATE);
		return 0;
	}
	if (isolate)
		pb_store(m, z, i, BUDDY_MT_ISOLATE, BUDDY_RETYPE_ISOLATE);
	else if (pb_get(m, z, i) == BUDDY_MT_ISOLATE)
		pb_store(m, z, i, BUDDY_MT_MOVABLE, BUDDY_RETYPE_ISOLATE);
	return 0;
}

int buddy_move_freepages_block(struct buddy_model *m, uint64_t pfn, int old_mt, int new_mt,
			       enum buddy_move_style style, uint64_t *moved, uint64_t *movable)
{
	uint32_t i, s;
	struct bzone *z = zone_or_err(m, pfn, 0, &i, "moving its pageblock's free pages");
	uint64_t mv = 0, mo = 0;

	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (check_mt(m, old_mt, true) || check_mt(m, new_mt, false))
		return -EINVAL;
	if (style == BUDDY_MOVE_PROFILE)
		style = m->prof.fallback == BUDDY_FB_61 ? BUDDY_MOVE_61 : BUDDY_MOVE_610;
	if (style == BUDDY_MOVE_61) {
		uint32_t e = (i & ~(uint32_t)(m->pb_nr - 1)) + (uint32_t)m->pb_nr;

		if (!zone_spans(z, e - 1)) {
			buddy_set_err(m, "zone %s: pageblock of pfn %#llx ends outside the zone", z->name,
				      (unsigned long long)pfn);
			return -ERANGE;
		}
		mv = move_freepages_block_61(m, z, i, new_mt, &mo);
		m->relaxed_hygiene = true;
	} else {
		uint64_t nfree;

		if (!prep_move_freepages_block(m, z, i, &s, &nfree, &mo)) {
			buddy_set_err(m, "zone %s: pageblock of pfn %#llx is not entirely in the zone", z->name,
				      (unsigned long long)pfn);
			return -ERANGE;
		}
		mv = move_freepages_block_610(m, z, s, old_mt, new_mt, m->prof.fallback != BUDDY_FB_618,
					      BUDDY_RETYPE_SET);
		if (m->prof.fallback == BUDDY_FB_618)
			m->relaxed_hygiene = true;
	}
	if (moved)
		*moved = mv;
	if (movable)
		*movable = mo;
	return 0;
}

/* A free block of fallback order on fb's list inside pfn's pageblock: the one holding pfn, or
 * else the first (lowest) one. */
static uint32_t find_fallback_buddy(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned fo, int fb)
{
	uint32_t s = i & ~(uint32_t)(m->pb_nr - 1), h;
	unsigned o;

	if (find_block(m, z, i, &h, &o) && PG(z, h)->state == PS_FREE && bp_mt(PG(z, h)) == fb && o == fo)
		return h;
	for (uint32_t p = s; p < s + m->pb_nr && p < z->n;) {
		struct bpage *pg = PG(z, p);

		if (pg->state == PS_FREE && pg->order == fo && bp_mt(pg) == fb)
			return p;
		p += (pg->state == PS_NONE || pg->state == PS_HOLE) ? 1 : 1u << pg->order;
	}
	return NIL;
}

int buddy_apply_fallback(struct buddy_model *m, uint64_t pfn, unsigned found_order, unsigned alloc_order,
			 int start_mt, int fb_mt, uint32_t alloc_flags, bool claim, struct buddy_take *take)
{
	uint32_t i, f, r;
	struct bzone *z = zone_or_err(m, pfn, alloc_order, &i, "the kernel fell back into it");
	struct buddy_take *saved = m->capture;

	take_reset(take, alloc_order);
	take->nr_events = 0;
	if (!z)
		return FS_ERRNO__CONTRADICTION;
	if (start_mt < 0 || start_mt >= BUDDY_MT_PCPTYPES || check_mt(m, fb_mt, false) ||
	    found_order >= m->nr_orders || alloc_order > found_order) {
		buddy_set_err(m, "fallback at pfn %#llx: orders %u/%u or types %d/%d out of range",
			      (unsigned long long)pfn, alloc_order, found_order, start_mt, fb_mt);
		return -EINVAL;
	}
	m->relaxed_hygiene |= m->prof.fallback == BUDDY_FB_61;
	if (m->prof.fallback == BUDDY_FB_61 || found_order >= m->pbo || !claim) {
		/* the extfrag pfn is the found buddy's head (6.1 always; 6.10+ when no zone_locked came first) */
		struct bpage *pg = PG(z, i);

		if (pg->state != PS_FREE || pg->order != found_order)
			return contradiction(m, z, i, found_order, "the kernel found a free fallback block here");
		f = i;
	} else {
		f = find_fallback_buddy(m, z, i, found_order, fb_mt);
		if (f == NIL)
			return contradiction(m, z, i, found_order,
					     "the kernel claimed this pageblock from a free block on the fallback list");
	}
	m->capture = take;
	take->found_pfn = PFN(z, f);
	take->found_order = found_order;
	take->fallback_mt = fb_mt;
	emit_fallback(m, z, f, alloc_order, found_order, start_mt, fb_mt);
	switch (m->prof.fallback) {
	case BUDDY_FB_61:
		steal_suitable_fallback_61(m, z, f, alloc_flags, start_mt, claim || can_steal_fallback(m, found_order, start_mt),
					   true, claim);
		emit_extfrag(m, z, f, alloc_order, found_order, start_mt, fb_mt, take);
		take->path = take->change_ownership > 0 ? BUDDY_PATH_CLAIM : BUDDY_PATH_STEAL;
		break;
	case BUDDY_FB_612E:
		r = steal_suitable_fallback_612e(m, z, f, found_order, alloc_order, start_mt, alloc_flags, claim, true,
						 claim, take);
		if (r != NIL) {
			bp_set_mt(PG(z, r), (uint8_t)start_mt);
			emit_extfrag(m, z, r, alloc_order, found_order, start_mt, fb_mt, take);
		}
		break;
	default:
		if (claim) {
			r = try_to_claim_block(m, z, f, found_order, alloc_order, start_mt, fb_mt, alloc_flags, true, take);
		} else {
			take_direct(m, z, f, alloc_order, found_order, fb_mt, take);
			take->path = BUDDY_PATH_STEAL;
			r = f;
		}
		if (r != NIL) {
			bp_set_mt(PG(z, r), (uint8_t)start_mt);
			emit_extfrag(m, z, r, alloc_order, found_order, start_mt, fb_mt, take);
		}
		break;
	}
	m->capture = saved;
	return 0;
}

/* ---- resync ------------------------------------------------------------------------------------------ */

/* Whatever the model holds in [i, i + 2^order), make it one allocated block. */
static int resync_allocated_core(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int owner,
				 int *was, bool holes_checked)
{
	uint32_t h;
	unsigned k;
	uint32_t end = i + (1u << order);

	if ((i & ((1u << order) - 1)) || (uint64_t)end > z->n) {
		buddy_set_err(m, "zone %s: pfn %#llx order %u: not aligned or beyond the zone", z->name,
			      (unsigned long long)PFN(z, i), order);
		return -EINVAL;
	}
	for (uint32_t p = i; !holes_checked && p < end; p++)
		if (PG(z, p)->state == PS_HOLE) {
			buddy_set_err(m, "zone %s: pfn %#llx is a hole", z->name, (unsigned long long)PFN(z, p));
			return -EINVAL;
		}
	if (!find_block(m, z, i, &h, &k)) {
		buddy_set_err(m, "zone %s: pfn %#llx: the model's state is inconsistent", z->name,
			      (unsigned long long)PFN(z, i));
		return FS_ERRNO__INVARIANT;
	}
	if (was) {
		int st = PG(z, h)->state;

		*was = st == PS_FREE ? (h == i ? BUDDY_PFN_FREE_HEAD : BUDDY_PFN_FREE_TAIL)
		     : st == PS_PCP ? (h == i ? BUDDY_PFN_PCP_HEAD : BUDDY_PFN_PCP_TAIL)
				    : BUDDY_PFN_ALLOCATED;
	}
	if (k >= order) {
		struct bpage *pg = PG(z, h);
		int st = pg->state, lmt = bp_mt(pg), own = bp_mt(pg);
		uint32_t cur = h;

		if (st == PS_FREE)
			free_del(m, z, h);
		else if (st == PS_PCP)
			pcp_del(m, z, h);
		if (st != PS_ALLOC)
			own = MT_UNKNOWN;
		while (k > order) {
			uint32_t half, piece;

			k--;
			half = 1u << k;
			if (i >= cur + half) {
				piece = cur;
				cur += half;
			} else {
				piece = cur + half;
			}
			if (st == PS_FREE)
				free_add(m, z, piece, k, lmt, false);
			else
				mark_alloc(m, z, piece, k, own);
		}
		mark_alloc(m, z, i, order, owner);
		return 0;
	}
	for (uint32_t p = i; p < end;) {
		struct bpage *pg = PG(z, p);
		uint32_t n = 1u << pg->order;

		if (pg->state == PS_FREE)
			free_del(m, z, p);
		else if (pg->state == PS_PCP)
			pcp_del(m, z, p);
		JS(m, pg);
		pg->state = PS_NONE;
		p += n;
	}
	mark_alloc(m, z, i, order, owner);
	return 0;
}

static int resync_allocated(struct buddy_model *m, struct bzone *z, uint32_t i, unsigned order, int owner, int *was)
{
	return resync_allocated_core(m, z, i, order, owner, was, false);
}

int buddy_resync_allocated(struct buddy_model *m, uint64_t pfn, unsigned order, int owner_mt, int *was)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "resync");

	if (!z)
		return -EINVAL;
	if (order >= m->nr_orders)
		return -EINVAL;
	return resync_allocated(m, z, i, order,
				owner_mt >= 0 && owner_mt < BUDDY_MT_PCPTYPES ? owner_mt : MT_UNKNOWN, was);
}

int buddy_resync_free(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt, bool to_tail)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "resync");
	int err;

	if (!z)
		return -EINVAL;
	if (order >= m->nr_orders || check_mt(m, list_mt, false))
		return -EINVAL;
	err = resync_allocated(m, z, i, order, MT_UNKNOWN, NULL);
	if (err)
		return err;
	PG(z, i)->state = PS_NONE;
	free_add(m, z, i, order, list_mt, to_tail);
	m->relaxed_merge = true;
	if (list_mt != pb_get(m, z, i))
		m->relaxed_hygiene = true;
	return 0;
}

int buddy_resync_pcp(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt, bool to_tail)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "resync");
	int err;

	if (!z)
		return -EINVAL;
	if (cpu >= m->nr_cpus || pcp_pindex(m, order, list_mt) < 0) {
		buddy_set_err(m, "pcp resync of pfn %#llx order %u cpu %u: no such pcp list", (unsigned long long)pfn,
			      order, cpu);
		return -EINVAL;
	}
	err = resync_allocated(m, z, i, order, MT_UNKNOWN, NULL);
	if (err)
		return err;
	if (list_mt >= BUDDY_MT_PCPTYPES)
		list_mt = BUDDY_MT_MOVABLE;
	pcp_add(m, z, cpu, i, order, list_mt, to_tail, list_mt);
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------------------------------------- */

void buddy_config_init(struct buddy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->sz = sizeof(*c);
	buddy_profile_by_name("linux-6.12", &c->profile);
	c->nr_orders = 11;
	c->pageblock_order = 9;
	c->nr_cpus = 1;
	c->tun.watermark_boost_factor = -1;
}

static const int default_fallbacks[BUDDY_MT_PCPTYPES][BUDDY_MT_PCPTYPES - 1] = {
	[BUDDY_MT_UNMOVABLE] = { BUDDY_MT_RECLAIMABLE, BUDDY_MT_MOVABLE },
	[BUDDY_MT_MOVABLE] = { BUDDY_MT_RECLAIMABLE, BUDDY_MT_UNMOVABLE },
	[BUDDY_MT_RECLAIMABLE] = { BUDDY_MT_UNMOVABLE, BUDDY_MT_MOVABLE },
};

static int bad_config(int *err, char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad_config(int *err, char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	if (err)
		*err = FS_ERRNO__BAD_CONFIG;
	return 0;
}

/* The per-pfn array is the model's working set (100 MB for 24 GiB): 2 MiB aligned and, for
 * big ones, backed by transparent huge pages when the system allows it (a hint, no I/O),
 * which removes most TLB misses on random pfns. */
/*
 * Page arrays come zeroed (an all-zero page is buddy_new()'s state, struct bpage): fresh
 * anonymous memory, whose parts nothing writes (memory the snapshot had not initialised, say)
 * the kernel never has to zero. Large arrays freed with a model are kept (a few, by size) for
 * the next model of the same shape, zeroed again: a seek through the timeline builds one model
 * per call.
 */
#define PAGES_ALIGN ((size_t)2 << 20)
#define PAGES_CACHE_NR 4

static struct {
	void *p;
	size_t bytes;
} pages_cache[PAGES_CACHE_NR];
static pthread_mutex_t pages_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void *alloc_pages_array(size_t bytes)
{
	void *p = NULL;
	uint8_t *map;
	uintptr_t a;
	size_t len;

	if (bytes < PAGES_ALIGN)
		return calloc(1, bytes);
	bytes = (bytes + PAGES_ALIGN - 1) & ~(PAGES_ALIGN - 1);
	pthread_mutex_lock(&pages_cache_lock);
	for (int k = 0; k < PAGES_CACHE_NR; k++)
		if (pages_cache[k].p && pages_cache[k].bytes == bytes) {
			p = pages_cache[k].p;
			pages_cache[k].p = NULL;
			break;
		}
	pthread_mutex_unlock(&pages_cache_lock);
	if (p)
		return memset(p, 0, bytes);
	/* fresh anonymous memory (zero), 2 MiB aligned: map more, unmap the ends */
	len = bytes + PAGES_ALIGN;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)map + PAGES_ALIGN - 1) & ~(uintptr_t)(PAGES_ALIGN - 1);
	if (a > (uintptr_t)map)
		munmap(map, a - (uintptr_t)map);
	if ((uintptr_t)map + len > a + bytes)
		munmap((void *)(a + bytes), (uintptr_t)map + len - (a + bytes));
	p = (void *)a;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void free_pages_array(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes >= PAGES_ALIGN) {
		bytes = (bytes + PAGES_ALIGN - 1) & ~(PAGES_ALIGN - 1);
		pthread_mutex_lock(&pages_cache_lock);
		for (int k = 0; k < PAGES_CACHE_NR; k++)
			if (!pages_cache[k].p) {
				pages_cache[k].p = p;
				pages_cache[k].bytes = bytes;
				p = NULL;
				break;
			}
		pthread_mutex_unlock(&pages_cache_lock);
		if (p)
			munmap(p, bytes);
		return;
	}
	free(p);
}

/* zone_batchsize() (6.1, 6.12, 6.18) */
static int zone_batchsize(uint64_t managed)
{
	uint64_t b = managed >> 10;
	int r;

	if (b > 256)
		b = 256;
	b /= 4;
	if (b < 1)
		b = 1;
	b = b + b / 2;
	r = 1;
	while ((uint64_t)r * 2 <= b)
		r *= 2;
	return r - 1 < 1 ? 1 : r - 1;
}

static int setup_zone(struct buddy_model *m, struct bzone *z, const struct buddy_zone_config *zc,
		      const struct buddy_config *c, int *err, char *errbuf, size_t errlen)
{
	uint64_t maxblk = 1ull << m->max_order, end;

	snprintf(z->name, sizeof(z->name), "%s", zc->name[0] ? zc->name : "zone");
	z->node = zc->node;
	z->zone_type = zc->zone_type;
	if (zc->zone_type >= BUDDY_ZONE_NR_TYPES || !zc->spanned)
		return bad_config(err, errbuf, errlen, "zone %s: zone type %u or span %llu out of range", z->name,
				  zc->zone_type, (unsigned long long)zc->spanned), -1;
	z->start_pfn = zc->start_pfn;
	z->end_pfn = zc->start_pfn + zc->spanned;
	z->base = z->start_pfn & ~(maxblk - 1);
	end = (z->end_pfn + maxblk - 1) & ~(maxblk - 1);
	if ((end - z->base) >> m->pbo << m->pbo != end - z->base)
		end = ((end - z->base + m->pb_nr - 1) & ~(m->pb_nr - 1)) + z->base;
	z->n = end - z->base;
	if (z->n >= NIL)
		return bad_config(err, errbuf, errlen, "zone %s: %llu pages is more than the model handles", z->name,
				  (unsigned long long)z->n), -1;
	z->pages = alloc_pages_array(z->n * sizeof(*z->pages));
	z->nr_pb = z->n >> m->pbo;
	z->pb = malloc(z->nr_pb);
	z->free = calloc((size_t)m->nr_orders * BUDDY_MT_NR, sizeof(*z->free));
	z->pcp = calloc(m->nr_cpus, sizeof(*z->pcp));
	if (!z->pages || !z->pb || !z->free || !z->pcp) {
		*err = -ENOMEM;
		return -1;
	}
	memset(z->pb, BUDDY_MT_MOVABLE, z->nr_pb);
	for (size_t k = 0; k < (size_t)m->nr_orders * BUDDY_MT_NR; k++)
		z->free[k].head = z->free[k].tail = NIL;
	/* every page allocated (owner unknown): the zeroed array as it comes (see struct bpage);
	 * then the holes, outside the span and the listed ranges */
	{
		uint64_t lo = z->start_pfn - z->base, hi = z->end_pfn - z->base;

		for (uint64_t i = 0; i < lo; i++)
			z->pages[i].state = PS_HOLE;
		for (uint64_t i = hi; i < z->n; i++)
			z->pages[i].state = PS_HOLE;
		z->present = hi - lo;
		for (uint32_t h = 0; h < zc->nr_holes; h++) {
			uint64_t a = zc->holes[h].start > z->start_pfn ? zc->holes[h].start : z->start_pfn;
			uint64_t b = zc->holes[h].end < z->end_pfn ? zc->holes[h].end : z->end_pfn;

			for (uint64_t pfn = a; pfn < b; pfn++) {
				struct bpage *pg = &z->pages[pfn - z->base];

				if (pg->state != PS_HOLE) {
					pg->state = PS_HOLE;
					z->present--;
				}
			}
		}
	}
	z->managed = zc->managed ? zc->managed : z->present;
	z->wmark[0] = zc->wmark_min;
	z->wmark[1] = zc->wmark_low;
	z->wmark[2] = zc->wmark_high;
	z->boost = zc->watermark_boost;
	memcpy(z->lowmem_reserve, zc->lowmem_reserve, sizeof(z->lowmem_reserve));
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		struct bpcp *pcp = &z->pcp[cpu];

		pcp->lists = calloc(m->nr_pcp_lists, sizeof(*pcp->lists));
		if (!pcp->lists) {
			*err = -ENOMEM;
			return -1;
		}
		for (unsigned p = 0; p < m->nr_pcp_lists; p++)
			pcp->lists[p].head = pcp->lists[p].tail = NIL;
		if (zc->pcp) {
			const struct buddy_pcp_config *pc = &zc->pcp[cpu];

			pcp->batch = (int)pc->batch;
			pcp->high = (int)pc->high;
			pcp->high_min = pc->high_min ? (int)pc->high_min : (int)pc->high;
			pcp->high_max = pc->high_max ? (int)pc->high_max : (int)pc->high;
		} else if (c->no_zone_batchsize_defaults) {
			pcp->batch = 1;
		} else {
			int batch = zone_batchsize(z->managed);
			int hmin = (int)(z->wmark[1] / m->nr_cpus);

			if (hmin < batch * 4)
				hmin = batch * 4;
			pcp->batch = batch;
			pcp->high = pcp->high_min = hmin;
			pcp->high_max = m->prof.adaptive_pcp ? (int)(z->managed / 8 / m->nr_cpus) : hmin;
			if (pcp->high_max < batch * 4)
				pcp->high_max = batch * 4;
		}
		if (c->tun.pcp_batch > 0)
			pcp->batch = c->tun.pcp_batch;
		if (c->tun.pcp_high > 0)
			pcp->high = pcp->high_min = pcp->high_max = c->tun.pcp_high;
		if (pcp->batch < 1)
			pcp->batch = 1;
	}
	return 0;
}

struct buddy_model *buddy_new(const struct buddy_config *c, int *err, char *errbuf, size_t errlen)
{
	struct buddy_model *m;
	int dummy;

	if (!err)
		err = &dummy;
	*err = 0;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!c || c->sz < sizeof(*c)) {
		bad_config(err, errbuf, errlen, "configuration struct too small");
		return NULL;
	}
	if (c->nr_orders < 1 || c->nr_orders > BUDDY_MAX_ORDERS) {
		bad_config(err, errbuf, errlen, "%u orders: the model handles 1..%d", c->nr_orders, BUDDY_MAX_ORDERS);
		return NULL;
	}
	unsigned pbo = c->tun.pageblock_order > 0 ? (unsigned)c->tun.pageblock_order : c->pageblock_order;

	if (pbo > c->nr_orders - 1) {
		bad_config(err, errbuf, errlen, "pageblock_order %u above the highest order %u", pbo, c->nr_orders - 1);
		return NULL;
	}
	if (!c->nr_cpus || c->nr_cpus > 65535 || !c->nr_zones || c->nr_zones > BUDDY_MAX_ZONES || !c->zones) {
		bad_config(err, errbuf, errlen, "%u cpus, %u zones: out of range", c->nr_cpus, c->nr_zones);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	m->prof = c->profile;
	if (!m->prof.name[0])
		buddy_profile_by_name("linux-6.12", &m->prof);
	m->nr_orders = c->nr_orders;
	m->max_order = c->nr_orders - 1;
	m->pbo = pbo;
	m->pb_nr = 1ull << pbo;
	m->costly = 3 < m->max_order ? 3 : m->max_order;
	m->thp_order = m->prof.pcp_thp_is_pageblock ? pbo : 9;
	if (m->thp_order <= m->costly || m->thp_order > m->max_order)
		m->thp_order = 0xff;
	m->nr_low_pcp_lists = BUDDY_MT_PCPTYPES * (m->costly + 1);
	m->nr_pcp_lists = m->nr_low_pcp_lists +
			  (m->thp_order != 0xff ? (m->prof.nr_pcp_thp_lists ? m->prof.nr_pcp_thp_lists : 2) : 0);
	m->nr_cpus = c->nr_cpus;
	m->nr_zones = c->nr_zones;
	m->boost_factor = c->tun.watermark_boost_factor >= 0 ? c->tun.watermark_boost_factor : 15000;
	m->defrag_mode = c->tun.defrag_mode;
	m->mobility_disabled = c->tun.mobility_disabled;
	memcpy(m->fallbacks, c->tun.override_fallbacks ? c->tun.fallbacks : default_fallbacks, sizeof(m->fallbacks));
	for (int r = 0; r < BUDDY_MT_PCPTYPES; r++)
		for (int k = 0; k < BUDDY_MT_PCPTYPES - 1; k++)
			if (m->fallbacks[r][k] >= BUDDY_MT_PCPTYPES || m->fallbacks[r][k] == r)
				m->fallbacks[r][k] = -1;
	for (int k = 0; k < 64; k++)
		m->kmt_to_role[k] = BUDDY_MT_NONE;
	for (int r = 0; r < BUDDY_MT_NR; r++)
		m->role_to_kmt[r] = -1;
	if (!c->nr_mt) {
		static const int roles[] = { BUDDY_MT_UNMOVABLE, BUDDY_MT_MOVABLE, BUDDY_MT_RECLAIMABLE,
					     BUDDY_MT_HIGHATOMIC, BUDDY_MT_ISOLATE };

		for (int k = 0; k < 5; k++) {
			m->kmt_to_role[k] = roles[k];
			m->role_to_kmt[roles[k]] = k;
		}
	} else {
		for (unsigned k = 0; k < c->nr_mt; k++) {
			int role = c->mt[k].role >= 0 ? c->mt[k].role : buddy_mt_role_from_name(c->mt[k].name);

			if (c->mt[k].value < 0 || c->mt[k].value >= 64 || role < 0 || role >= BUDDY_MT_NR) {
				bad_config(err, errbuf, errlen, "migratetype '%s' = %d: unknown role or value",
					   c->mt[k].name, c->mt[k].value);
				buddy_free_model(m);
				return NULL;
			}
			m->kmt_to_role[c->mt[k].value] = role;
			m->role_to_kmt[role] = c->mt[k].value;
		}
	}
	m->zones = calloc(m->nr_zones, sizeof(*m->zones));
	if (!m->zones) {
		*err = -ENOMEM;
		buddy_free_model(m);
		return NULL;
	}
	for (unsigned k = 0; k < m->nr_zones; k++) {
		if (setup_zone(m, &m->zones[k], &c->zones[k], c, err, errbuf, errlen)) {
			if (*err == -ENOMEM && errbuf && errlen)
				snprintf(errbuf, errlen, "out of memory for zone %s", c->zones[k].name);
			buddy_free_model(m);
			return NULL;
		}
		if (m->zones[k].node + 1 > m->nr_nodes)
			m->nr_nodes = m->zones[k].node + 1;
	}
	for (unsigned a = 0; a < m->nr_zones; a++)
		for (unsigned b = a + 1; b < m->nr_zones; b++)
			if (m->zones[a].start_pfn < m->zones[b].end_pfn && m->zones[b].start_pfn < m->zones[a].end_pfn) {
				bad_config(err, errbuf, errlen, "zones %s and %s overlap", m->zones[a].name,
					   m->zones[b].name);
				buddy_free_model(m);
				return NULL;
			}
	if (c->nr_nodes > m->nr_nodes)
		m->nr_nodes = c->nr_nodes;
	if (build_zone_lut(m)) {
		*err = -ENOMEM;
		buddy_free_model(m);
		return NULL;
	}
	/* zonelists: the node's own zones from the highest type down, then the other nodes in order */
	m->zonelist = malloc((size_t)m->nr_nodes * m->nr_zones * sizeof(int));
	if (!m->zonelist) {
		*err = -ENOMEM;
		buddy_free_model(m);
		return NULL;
	}
	for (unsigned nid = 0; nid < m->nr_nodes; nid++) {
		int *zl = &m->zonelist[(size_t)nid * m->nr_zones];
		unsigned n = 0;

		for (unsigned d = 0; d < m->nr_nodes; d++) {
			unsigned node = (nid + d) % m->nr_nodes;

			for (int t = BUDDY_ZONE_NR_TYPES - 1; t >= 0; t--)
				for (unsigned k = 0; k < m->nr_zones; k++)
					if (m->zones[k].node == node && (int)m->zones[k].zone_type == t)
						zl[n++] = (int)k;
		}
	}
	m->pref = malloc((size_t)m->nr_nodes * BUDDY_ZONE_NR_TYPES * sizeof(int));
	if (!m->pref) {
		*err = -ENOMEM;
		buddy_free_model(m);
		return NULL;
	}
	for (unsigned nid = 0; nid < m->nr_nodes; nid++)
		for (int hz = 0; hz < BUDDY_ZONE_NR_TYPES; hz++)
			m->pref[nid * BUDDY_ZONE_NR_TYPES + hz] = preferred_zone_slow(m, (int)nid, hz);
	return m;
}

void buddy_free_model(struct buddy_model *m)
{
	if (!m)
		return;
	for (unsigned k = 0; m->zones && k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[k];

		free_pages_array(z->pages, z->n * sizeof(*z->pages));
		free(z->pb);
		free(z->free);
		for (unsigned c = 0; z->pcp && c < m->nr_cpus; c++)
			free(z->pcp[c].lists);
		free(z->pcp);
	}
	free(m->zones);
	free(m->zonelist);
	free(m->zone_lut);
	free(m->pref);
	free(m->jr);
	free(m);
}

const struct buddy_profile *buddy_profile(const struct buddy_model *m)
{
	return &m->prof;
}

void buddy_set_observer(struct buddy_model *m, buddy_observer_fn fn, void *ctx)
{
	m->obs = fn;
	m->obs_ctx = ctx;
}

int buddy_mt_from_kernel(const struct buddy_model *m, int kernel_mt)
{
	if (kernel_mt < 0 || kernel_mt >= 64)
		return BUDDY_MT_NONE;
	return m->kmt_to_role[kernel_mt];
}

int buddy_mt_to_kernel(const struct buddy_model *m, int role)
{
	if (role < 0 || role >= BUDDY_MT_NR)
		return -1;
	return m->role_to_kmt[role];
}

/* ---- seeding -------------------------------------------------------------------------------------------- */

int buddy_seed_pageblock(struct buddy_model *m, uint64_t pfn, int mt, bool isolate)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, 0, &i, "seeding its pageblock");
	uint32_t s;

	if (!z)
		return -EINVAL;
	if (check_mt(m, mt, false))
		return -EINVAL;
	s = i & ~(uint32_t)(m->pb_nr - 1);
	if (m->prof.pageblock_isolate_bit) {
		uint8_t v = (uint8_t)(mt == BUDDY_MT_ISOLATE ? BUDDY_MT_MOVABLE : mt);

		pb_store(m, z, i, (uint8_t)(v | ((isolate || mt == BUDDY_MT_ISOLATE) ? PB_ISOLATE_BIT : 0)),
			 BUDDY_RETYPE_SET);
	} else {
		pb_store(m, z, i, (uint8_t)(isolate ? BUDDY_MT_ISOLATE : mt), BUDDY_RETYPE_SET);
	}
	/* pages allocated before the snapshot: approximate their owner by the block's type now
	 * (the usual page is buddy_new()'s order-0 allocation: one word compared and stored) */
	if (mt < BUDDY_MT_PCPTYPES) {
		const struct bpage fresh = { .state = PS_ALLOC, BP_MT(MT_UNKNOWN) };
		const struct bpage owned = { .state = PS_ALLOC, BP_MT(mt) };
		uint32_t wf = bpage_word(&fresh), wo = bpage_word(&owned);

		for (uint32_t p = s; p < s + m->pb_nr && p < z->n; p++) {
			struct bpage *pg = PG(z, p);

			if (bpage_word(pg) == wf)
				bpage_set_word(pg, wo);
			else if (pg->state == PS_ALLOC && bp_mt(pg) == MT_UNKNOWN)
				bp_set_mt(pg, (uint8_t)mt);
		}
	}
	return 0;
}

static bool has_mergeable_buddy(struct buddy_model *m, struct bzone *z, uint32_t i)
{
	struct bpage *pg = PG(z, i);
	unsigned o = pg->order;
	uint32_t b;

	if (o >= m->max_order)
		return false;
	b = i ^ (1u << o);
	if ((uint64_t)b >= z->n || PG(z, b)->state != PS_FREE || PG(z, b)->order != o)
		return false;
	if (o < m->pbo)
		return true;
	{
		int a = pb_get(m, z, i), c = pb_get(m, z, b);

		return a == c || (mt_mergeable(a) && mt_mergeable(c));
	}
}

int buddy_seed_free_block(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "seeding a free block");
	int err;

	if (!z)
		return -EINVAL;
	if (order >= m->nr_orders || check_mt(m, list_mt, false))
		return -EINVAL;
	/* every page of the block must still be allocated (not seeded twice) */
	bool base_pages = !m->journaling && (i & ((1u << order) - 1)) == 0 && (uint64_t)i + (1u << order) <= z->n;

	{
		/* order-0 allocated pages pass with one masked compare of their word */
		const struct bpage sel = { .state = 7, .order = 31 }, want = { .state = PS_ALLOC };
		uint32_t ws = bpage_word(&sel), ww = bpage_word(&want);

		for (uint32_t p = i; p < i + (1u << order) && p < z->n; p++) {
			const struct bpage *pg = PG(z, p);
			int st;

			if ((bpage_word(pg) & ws) == ww)
				continue;
			st = pg->state;
			if (st == PS_FREE || st == PS_PCP || st == PS_HOLE)
				return contradiction(m, z, p, order, "the snapshot lists it in a free block");
			base_pages = false;
		}
	}
	if (base_pages) {
		/* the usual case (memory never freed since buddy_new()): order-0 allocations only;
		 * what resync_allocated_core() does with them, in one pass */
		for (uint32_t p = i; p < i + (1u << order); p++)
			PG(z, p)->state = PS_NONE;
		mark_alloc(m, z, i, order, MT_UNKNOWN);
	} else {
		/* the loop above found no hole in the block: no second search */
		err = resync_allocated_core(m, z, i, order, MT_UNKNOWN, NULL, true);
		if (err)
			return err;
	}
	PG(z, i)->state = PS_NONE;
	free_add(m, z, i, order, list_mt, true);
	if (has_mergeable_buddy(m, z, i))
		m->relaxed_merge = true;
	if (list_mt != pb_get(m, z, i))
		m->relaxed_hygiene = true;
	return 0;
}

int buddy_seed_pcp_page(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt)
{
	uint32_t i;
	struct bzone *z = zone_or_err(m, pfn, order, &i, "seeding a pcp page");

	if (!z)
		return -EINVAL;
	for (uint32_t p = i; p < i + (1u << order) && p < z->n; p++) {
		int st = PG(z, p)->state;

		if (st == PS_FREE || st == PS_PCP || st == PS_HOLE)
			return contradiction(m, z, p, order, "the snapshot lists it on a pcp list");
	}
	return buddy_resync_pcp(m, cpu, pfn, order, list_mt, true);
}

int buddy_seed_all_free(struct buddy_model *m)
{
	for (unsigned k = 0; k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[k];
		uint32_t p = 0;

		while (p < z->n) {
			uint32_t run;
			unsigned o;

			if (PG(z, p)->state != PS_ALLOC || PG(z, p)->order != 0) {
				p += PG(z, p)->state == PS_HOLE ? 1 : 1u << PG(z, p)->order;
				continue;
			}
			/* the largest aligned block of allocated single pages starting here */
			for (o = m->max_order; o > 0; o--) {
				if (p & ((1u << o) - 1) || (uint64_t)p + (1u << o) > z->n)
					continue;
				run = 1;
				for (uint32_t q = p + 1; q < p + (1u << o); q++)
					if (PG(z, q)->state != PS_ALLOC || PG(z, q)->order != 0) {
						run = 0;
						break;
					}
				if (run)
					break;
			}
			if (o > 0)
				for (uint32_t q = p + 1; q < p + (1u << o); q++)
					PG(z, q)->state = PS_NONE;
			PG(z, p)->order = (uint8_t)o;
			/* __free_pages_core(): FPI_TO_TAIL, the pageblock type of the head */
			free_one_page(m, z, p, o, BUDDY_FPI_TO_TAIL);
			p += 1u << o;
		}
	}
	return 0;
}

/* ---- queries ---------------------------------------------------------------------------------------- */

unsigned buddy_nr_zones(const struct buddy_model *m) { return m->nr_zones; }
unsigned buddy_nr_orders(const struct buddy_model *m) { return m->nr_orders; }
unsigned buddy_pageblock_order(const struct buddy_model *m) { return m->pbo; }
unsigned buddy_nr_cpus(const struct buddy_model *m) { return m->nr_cpus; }
unsigned buddy_nr_pcp_lists(const struct buddy_model *m) { return m->nr_pcp_lists; }

const char *buddy_zone_name(const struct buddy_model *m, int zone)
{
	if (zone < 0 || (unsigned)zone >= m->nr_zones)
		return "?";
	return m->zones[zone].name;
}

int buddy_zone_stats(const struct buddy_model *m, int zone, struct buddy_zone_stats *st)
{
	struct bzone *z;

	if (zone < 0 || (unsigned)zone >= m->nr_zones)
		return -EINVAL;
	z = &m->zones[zone];
	memset(st, 0, sizeof(*st));
	st->start_pfn = z->start_pfn;
	st->end_pfn = z->end_pfn;
	st->present = z->present;
	st->managed = z->managed;
	st->nr_free_pages = nr_free_pages(z);
	st->nr_free_highatomic = (uint64_t)z->free_pages_mt[BUDDY_MT_HIGHATOMIC];
	st->nr_reserved_highatomic = z->nr_reserved_highatomic;
	for (unsigned c = 0; c < m->nr_cpus; c++)
		st->nr_pcp_pages += (uint64_t)z->pcp[c].count;
	st->watermark_boost = z->boost;
	memcpy(st->wmark, z->wmark, sizeof(st->wmark));
	st->boosted_flag = z->boosted;
	st->below_high_flag = z->below_high;
	st->largest_free_order = -1u;
	for (int o = (int)m->max_order; o >= 0; o--)
		if (z->nr_free[o]) {
			st->largest_free_order = (unsigned)o;
			break;
		}
	return 0;
}

uint64_t buddy_nr_free(const struct buddy_model *m, int zone, unsigned order, int mt)
{
	if (zone < 0 || (unsigned)zone >= m->nr_zones || order >= m->nr_orders)
		return 0;
	if (mt == BUDDY_MT_ANY)
		return m->zones[zone].nr_free[order];
	if (mt < 0 || mt >= BUDDY_MT_NR)
		return 0;
	return FL(&m->zones[zone], order, mt)->nr;
}

int buddy_pageblock_type(const struct buddy_model *m, uint64_t pfn)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);

	return z ? pb_get(m, z, i) : BUDDY_MT_NONE;
}

int buddy_allocated_pb_type(const struct buddy_model *m, uint64_t pfn, unsigned order)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);

	if (!z || PG(z, i)->state != PS_ALLOC || PG(z, i)->order != order)
		return -1;
	return pb_get(m, z, i);
}

int buddy_pageblock_counts(const struct buddy_model *m, int zone, uint64_t counts[BUDDY_MT_NR])
{
	struct bzone *z;

	if (zone < 0 || (unsigned)zone >= m->nr_zones)
		return -EINVAL;
	z = &m->zones[zone];
	memset(counts, 0, sizeof(uint64_t) * BUDDY_MT_NR);
	for (uint64_t b = 0; b < z->nr_pb; b++) {
		uint64_t first = z->base + (b << m->pbo);

		/* blocks the zone spans (as pagetypeinfo counts them) */
		if (first + m->pb_nr <= z->start_pfn || first >= z->end_pfn)
			continue;
		counts[pb_get(m, z, (uint32_t)(b << m->pbo))]++;
	}
	return 0;
}

const char *buddy_pfn_state_name(enum buddy_pfn_state_kind s)
{
	static const char *const n[] = { "outside", "hole", "free-head", "free-tail", "pcp-head", "pcp-tail",
					 "allocated" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

int buddy_pfn_info(const struct buddy_model *m, uint64_t pfn, struct buddy_pfn_info *info)
{
	uint32_t i, h;
	unsigned o;
	struct bzone *z = zone_of(m, pfn, &i);
	struct bpage *pg;

	memset(info, 0, sizeof(*info));
	info->zone = -1;
	info->cpu = -1;
	info->mt = info->cached_mt = BUDDY_MT_NONE;
	info->head = pfn;
	if (!z) {
		info->state = BUDDY_PFN_OUTSIDE;
		return 0;
	}
	info->zone = (int)(z - m->zones);
	if (!find_block(m, z, i, &h, &o)) {
		buddy_set_err((struct buddy_model *)m, "zone %s: pfn %#llx lies in no block of the model", z->name,
			      (unsigned long long)pfn);
		return FS_ERRNO__INVARIANT;
	}
	pg = PG(z, h);
	info->head = PFN(z, h);
	info->order = o;
	switch (pg->state) {
	case PS_HOLE:
		info->state = BUDDY_PFN_HOLE;
		break;
	case PS_FREE:
		info->state = h == i ? BUDDY_PFN_FREE_HEAD : BUDDY_PFN_FREE_TAIL;
		info->mt = bp_mt(pg);
		break;
	case PS_PCP:
		info->state = h == i ? BUDDY_PFN_PCP_HEAD : BUDDY_PFN_PCP_TAIL;
		info->mt = bp_mt(pg);
		info->cpu = pg->cpu;
		info->cached_mt = pg->cmt;
		break;
	default:
		info->state = BUDDY_PFN_ALLOCATED;
		info->mt = bp_mt(pg) == MT_UNKNOWN ? BUDDY_MT_NONE : bp_mt(pg);
		break;
	}
	return 0;
}

uint64_t buddy_free_list_first(const struct buddy_model *m, int zone, unsigned order, int mt)
{
	struct bzone *z;
	uint32_t i;

	if (zone < 0 || (unsigned)zone >= m->nr_zones || order >= m->nr_orders || mt < 0 || mt >= BUDDY_MT_NR)
		return BUDDY_PFN_NONE;
	z = &m->zones[zone];
	i = FL(z, order, mt)->head;
	return i == NIL ? BUDDY_PFN_NONE : PFN(z, i);
}

static uint64_t list_next(const struct buddy_model *m, uint64_t pfn, int state)
{
	uint32_t i;
	struct bzone *z = zone_of(m, pfn, &i);

	if (!z || PG(z, i)->state != state || bp_next(PG(z, i)) == NIL)
		return BUDDY_PFN_NONE;
	return PFN(z, bp_next(PG(z, i)));
}

uint64_t buddy_free_list_next(const struct buddy_model *m, uint64_t pfn)
{
	return list_next(m, pfn, PS_FREE);
}

int buddy_pcp_pindex(const struct buddy_model *m, unsigned order, int mt)
{
	return pcp_pindex(m, order, mt);
}

uint64_t buddy_pcp_list_first(const struct buddy_model *m, int zone, unsigned cpu, unsigned pindex)
{
	struct bzone *z;
	uint32_t i;

	if (zone < 0 || (unsigned)zone >= m->nr_zones || cpu >= m->nr_cpus || pindex >= m->nr_pcp_lists)
		return BUDDY_PFN_NONE;
	z = &m->zones[zone];
	i = z->pcp[cpu].lists[pindex].head;
	return i == NIL ? BUDDY_PFN_NONE : PFN(z, i);
}

uint64_t buddy_pcp_list_next(const struct buddy_model *m, uint64_t pfn)
{
	return list_next(m, pfn, PS_PCP);
}

int buddy_pcp_stats(const struct buddy_model *m, int zone, unsigned cpu, struct buddy_pcp_stats *st)
{
	struct bpcp *pcp;

	if (zone < 0 || (unsigned)zone >= m->nr_zones || cpu >= m->nr_cpus)
		return -EINVAL;
	pcp = &m->zones[zone].pcp[cpu];
	st->count = (uint64_t)pcp->count;
	st->high = (uint32_t)pcp->high;
	st->batch = (uint32_t)pcp->batch;
	st->high_min = (uint32_t)pcp->high_min;
	st->high_max = (uint32_t)pcp->high_max;
	return 0;
}

/* ---- invariant checker -------------------------------------------------------------------------------- */

static int bad(struct buddy_model *m, const struct bzone *z, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct buddy_model *m, const struct bzone *z, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buddy_set_err(m, "invariant: zone %s: %s", z->name, msg);
	return FS_ERRNO__INVARIANT;
}

static int check_list(struct buddy_model *m, struct bzone *z, struct flist *fl, int state, unsigned order, int mt,
		      int cpu, uint64_t *pages)
{
	uint32_t prev = NIL, i = fl->head;
	uint64_t n = 0;

	while (i != NIL) {
		struct bpage *pg;

		if ((uint64_t)i >= z->n)
			return bad(m, z, "list link %u beyond the zone", i);
		pg = PG(z, i);
		if (pg->state != state || pg->order != order || (mt >= 0 && bp_mt(pg) != mt) ||
		    (cpu >= 0 && pg->cpu != cpu))
			return bad(m, z, "pfn %#llx on the order-%u %s %s list has state %d order %u mt %u",
				   (unsigned long long)PFN(z, i), order, buddy_mt_name(mt),
				   state == PS_FREE ? "free" : "pcp", pg->state, pg->order, bp_mt(pg));
		if (bp_prev(pg) != prev)
			return bad(m, z, "pfn %#llx: broken prev link", (unsigned long long)PFN(z, i));
		if (++n > z->n)
			return bad(m, z, "a list loops");
		prev = i;
		i = bp_next(pg);
	}
	if (prev != fl->tail)
		return bad(m, z, "order-%u list tail is wrong", order);
	if (n != fl->nr)
		return bad(m, z, "order-%u %s list holds %llu blocks, its count says %llu", order, buddy_mt_name(mt),
			   (unsigned long long)n, (unsigned long long)fl->nr);
	*pages += n << order;
	return 0;
}

int buddy_check(struct buddy_model *m)
{
	for (unsigned k = 0; k < m->nr_zones; k++) {
		struct bzone *z = &m->zones[k];
		uint64_t heads_free[BUDDY_MAX_ORDERS * BUDDY_MT_NR] = { 0 };
		uint64_t pcp_heads = 0, pcp_pages = 0, isol = 0;
		int err;

		/* free lists */
		for (unsigned o = 0; o < m->nr_orders; o++) {
			uint64_t nr = 0;

			for (int mt = 0; mt < BUDDY_MT_NR; mt++) {
				uint64_t pages = 0;

				err = check_list(m, z, FL(z, o, mt), PS_FREE, o, mt, -1, &pages);
				if (err)
					return err;
				nr += FL(z, o, mt)->nr;
			}
			if (nr != z->nr_free[o])
				return bad(m, z, "nr_free[%u] = %llu, the lists hold %llu", o,
					   (unsigned long long)z->nr_free[o], (unsigned long long)nr);
		}
		for (int mt = 0; mt < BUDDY_MT_NR; mt++) {
			int64_t pages = 0;

			for (unsigned o = 0; o < m->nr_orders; o++)
				pages += (int64_t)(FL(z, o, mt)->nr << o);
			if (pages != z->free_pages_mt[mt])
				return bad(m, z, "%s lists hold %lld pages, the counter says %lld", buddy_mt_name(mt),
					   (long long)pages, (long long)z->free_pages_mt[mt]);
		}
		{
			int64_t nf = 0;

			for (int mt = 0; mt < BUDDY_MT_NR; mt++)
				if (mt != BUDDY_MT_ISOLATE)
					nf += z->free_pages_mt[mt];
			if (nf != z->nr_free_pages)
				return bad(m, z, "NR_FREE_PAGES %lld, the lists hold %lld", (long long)z->nr_free_pages,
					   (long long)nf);
		}
		/* pcp lists */
		for (unsigned c = 0; c < m->nr_cpus; c++) {
			uint64_t pages = 0;

			for (unsigned p = 0; p < m->nr_pcp_lists; p++) {
				unsigned o = pindex_to_order(m, p);
				int mt = p < m->nr_low_pcp_lists ? (int)(p % BUDDY_MT_PCPTYPES) : -1;

				err = check_list(m, z, &z->pcp[c].lists[p], PS_PCP, o, mt, (int)c, &pages);
				if (err)
					return err;
				pcp_heads += z->pcp[c].lists[p].nr;
			}
			if ((int64_t)pages != z->pcp[c].count)
				return bad(m, z, "cpu %u pcp count %lld, its lists hold %llu pages", c,
					   (long long)z->pcp[c].count, (unsigned long long)pages);
			pcp_pages += pages;
		}
		/* per-page partition: every pfn in exactly one block, heads aligned, tails PS_NONE */
		for (uint32_t p = 0; p < z->n;) {
			struct bpage *pg = PG(z, p);
			uint32_t n;

			if (pg->state == PS_HOLE) {
				p++;
				continue;
			}
			if (pg->state == PS_NONE)
				return bad(m, z, "pfn %#llx lies in no block", (unsigned long long)PFN(z, p));
			if (pg->order >= m->nr_orders)
				return bad(m, z, "pfn %#llx has order %u", (unsigned long long)PFN(z, p), pg->order);
			n = 1u << pg->order;
			if (p & (n - 1) || (uint64_t)p + n > z->n)
				return bad(m, z, "block %#llx order %u is not aligned", (unsigned long long)PFN(z, p),
					   pg->order);
			for (uint32_t q = p + 1; q < p + n; q++)
				if (PG(z, q)->state != PS_NONE)
					return bad(m, z, "pfn %#llx is marked inside block %#llx order %u",
						   (unsigned long long)PFN(z, q), (unsigned long long)PFN(z, p), pg->order);
			if (pg->state == PS_FREE) {
				heads_free[pg->order * BUDDY_MT_NR + bp_mt(pg)]++;
				/* no buddies left apart that __free_one_page would have merged */
				if (!m->relaxed_merge && pg->order < m->max_order) {
					uint32_t b = p ^ n;
					struct bpage *bp = (uint64_t)b < z->n ? PG(z, b) : NULL;

					if (bp && bp->state == PS_FREE && bp->order == pg->order) {
						int a = pb_get(m, z, p), c = pb_get(m, z, b);

						if (pg->order < m->pbo || a == c || (mt_mergeable(a) && mt_mergeable(c) &&
										     mt_mergeable(bp_mt(pg)) && mt_mergeable(bp_mt(bp))))
							return bad(m, z, "free buddies %#llx and %#llx of order %u were not merged",
								   (unsigned long long)PFN(z, p), (unsigned long long)PFN(z, b),
								   pg->order);
					}
				}
				/* 6.10+ freelist hygiene: a free block sits on its pageblock's list */
				if (!m->relaxed_hygiene && m->prof.fallback != BUDDY_FB_61 && bp_mt(pg) != pb_get(m, z, p))
					return bad(m, z, "free block %#llx order %u is on the %s list in a %s pageblock",
						   (unsigned long long)PFN(z, p), pg->order, buddy_mt_name(bp_mt(pg)),
						   buddy_mt_name(pb_get(m, z, p)));
			} else if (pg->state == PS_PCP) {
				pcp_heads--;
			}
			p += n;
		}
		if (pcp_heads)
			return bad(m, z, "pcp lists and pcp heads disagree");
		for (unsigned o = 0; o < m->nr_orders; o++)
			for (int mt = 0; mt < BUDDY_MT_NR; mt++)
				if (heads_free[o * BUDDY_MT_NR + mt] != FL(z, o, mt)->nr)
					return bad(m, z, "%llu free heads of order %u %s, the list holds %llu",
						   (unsigned long long)heads_free[o * BUDDY_MT_NR + mt], o,
						   buddy_mt_name(mt), (unsigned long long)FL(z, o, mt)->nr);
		for (uint64_t b = 0; b < z->nr_pb; b++)
			if (pb_get(m, z, (uint32_t)(b << m->pbo)) == BUDDY_MT_ISOLATE)
				isol++;
		if ((int64_t)isol != z->nr_isolate_pageblock)
			return bad(m, z, "%llu isolated pageblocks, the counter says %lld", (unsigned long long)isol,
				   (long long)z->nr_isolate_pageblock);
		(void)pcp_pages;
	}
	return 0;
}

/* ---- hash, size ---------------------------------------------------------------------------------------- */

/* FNV-1a style over 64-bit words (byte order of this machine; deterministic for a build) */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t k = 0;

	for (; k + 8 <= n; k += 8) {
		uint64_t w;

		memcpy(&w, b + k, 8);
		h ^= w;
		h *= 0x100000001b3ull;
		h ^= h >> 32;
	}
	for (; k < n; k++) {
		h ^= b[k];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t buddy_state_hash(const struct buddy_model *m)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned k = 0; k < m->nr_zones; k++) {
		const struct bzone *z = &m->zones[k];

		h = fnv(h, z->pages, z->n * sizeof(*z->pages));
		h = fnv(h, z->pb, z->nr_pb);
		for (size_t f = 0; f < (size_t)m->nr_orders * BUDDY_MT_NR; f++)
			h = fnv(h, &z->free[f], sizeof(z->free[f]));
		h = fnv(h, z->nr_free, sizeof(z->nr_free));
		h = fnv(h, &z->boost, sizeof(z->boost));
		h = fnv(h, &z->nr_reserved_highatomic, sizeof(z->nr_reserved_highatomic));
		for (unsigned c = 0; c < m->nr_cpus; c++) {
			const struct bpcp *pcp = &z->pcp[c];
			int v[8] = { pcp->high, pcp->batch, pcp->high_min, pcp->high_max, pcp->free_factor,
				     pcp->free_count, pcp->alloc_factor, pcp->flags };

			h = fnv(h, &pcp->count, sizeof(pcp->count));
			h = fnv(h, v, sizeof(v));
			h = fnv(h, pcp->lists, m->nr_pcp_lists * sizeof(*pcp->lists));
		}
	}
	return h;
}

double buddy_bytes_per_page(const struct buddy_model *m)
{
	uint64_t bytes = sizeof(*m), pages = 0;

	for (unsigned k = 0; k < m->nr_zones; k++) {
		const struct bzone *z = &m->zones[k];

		bytes += z->n * sizeof(*z->pages) + z->nr_pb + (uint64_t)m->nr_orders * BUDDY_MT_NR * sizeof(struct flist);
		bytes += (uint64_t)m->nr_cpus * (sizeof(struct bpcp) + m->nr_pcp_lists * sizeof(struct flist));
		pages += z->end_pfn - z->start_pfn;
	}
	return pages ? (double)bytes / (double)pages : 0;
}
