// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragscope stat: what `perf kmem stat --page` reports (allocation and free requests, alloc+freed
 * matching by pfn, order x migratetype, gfp, callers), with the trace's own migratetype and gfp
 * names, plus the extfrag classes of Mel Gorman's trace-pagealloc-postprocess.pl (fragmenting,
 * severe = fallback order <= 3, moderate) per requested x fallback type x ownership change, the
 * buddy-level event counts, and (when follow mode supplied samples) pageblocks per type over
 * time, mixed pageblocks, the kernel's unusable/fragmentation indices and the largest free order.
 */
#include "replay/replay.h"
#include "replay/replay-local.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

struct count {
	uint64_t n, pages;
};

struct keyed {			/* gfp or stack id row */
	uint64_t key;
	int mt;
	struct count c;
};

struct extfrag_cell {
	uint64_t events, fragmenting, severe;
};

struct xf_caller {		/* extfrag events of one stack id, requested and fallback type */
	uint32_t stack_id;
	int mt, fb_mt;
	uint64_t events, fragmenting, severe, change_ownership;
};

struct replay_stat {
	const struct trace_header *h;
	uint32_t nr_orders;	/* rows: header's nr_orders (events beyond go to the last row) */
	uint32_t nr_mt;		/* columns: the header's types, plus one for "other" */

	uint64_t events, by_kind[TEV_KIND_MAX + 1];
	uint64_t first_ts, last_ts;
	bool have_ts;

	/* perf kmem --page */
	struct count alloc, alloc_fail, freed, nomatch;
	uint64_t *alloc_order_mt;	/* [order][mt] successful requests */
	uint64_t *alloc_order_mt_pages;
	uint64_t *free_order;		/* [order] free requests */
	uint64_t *free_order_mt;	/* [order][mt] matched frees, by the type they were allocated as */
	struct pfnmap live;		/* pfn -> (order << 8 | mt+1) of allocations not yet freed */

	struct keyed *gfp;
	size_t nr_gfp, cap_gfp;
	struct keyed *callers;		/* by stack id */
	size_t nr_callers, cap_callers;
	const struct trace_stack *(*stack_lookup)(void *ctx, uint32_t id);
	void *stack_ctx;

	/* buddy-level events */
	uint64_t *zl_order_mt;		/* zone_locked [order][mt] */
	uint64_t zl_refill;		/* percpu_refill=1 */
	uint64_t *drain_order_mt;	/* pcpu_drain [order][mt] */
	uint64_t batched;

	/* extfrag: [alloc mt][fallback mt][change_ownership] and by fallback order */
	struct extfrag_cell *xf;
	uint64_t *xf_fallback_order;
	uint64_t xf_total;
	struct xf_caller *xf_callers;	/* extfrag events with a stack */
	size_t nr_xf_callers, cap_xf_callers;

	/* model samples */
	struct replay_sample *samples;
	size_t nr_samples, cap_samples;
	char *note;
	const struct trace_loss *loss;
};

static uint32_t mt_col(const struct replay_stat *st, int mt)
{
	return (mt >= 0 && (uint32_t)mt < st->nr_mt - 1) ? (uint32_t)mt : st->nr_mt - 1;
}

static uint32_t order_row(const struct replay_stat *st, unsigned int order)
{
	return order < st->nr_orders ? order : st->nr_orders - 1;
}

struct replay_stat *replay_stat_new(const struct trace_header *h)
{
	struct replay_stat *st = calloc(1, sizeof(*st));
	size_t om;

	if (!st)
		return NULL;
	st->h = h;
	st->nr_orders = h && h->nr_orders ? h->nr_orders : 11;
	if (st->nr_orders > REPLAY_MAX_ORDERS)
		st->nr_orders = REPLAY_MAX_ORDERS;
	st->nr_mt = replay_nr_mt(h) + 1;
	om = (size_t)st->nr_orders * st->nr_mt;
	st->alloc_order_mt = calloc(om, sizeof(uint64_t));
	st->alloc_order_mt_pages = calloc(om, sizeof(uint64_t));
	st->free_order = calloc(st->nr_orders, sizeof(uint64_t));
	st->free_order_mt = calloc(om, sizeof(uint64_t));
	st->zl_order_mt = calloc(om, sizeof(uint64_t));
	st->drain_order_mt = calloc(om, sizeof(uint64_t));
	st->xf = calloc((size_t)st->nr_mt * st->nr_mt * 2, sizeof(*st->xf));
	st->xf_fallback_order = calloc(st->nr_orders, sizeof(uint64_t));
	if (!st->alloc_order_mt || !st->alloc_order_mt_pages || !st->free_order || !st->free_order_mt ||
	    !st->zl_order_mt || !st->drain_order_mt || !st->xf || !st->xf_fallback_order ||
	    pfnmap_init(&st->live, 1 << 16)) {
		replay_stat_free(st);
		return NULL;
	}
	return st;
}

static void sample_release(struct replay_sample *s)
{
	for (uint32_t z = 0; z < s->nr_zones; z++)
		free(s->zones[z].blocks_by_mt);
	free(s->zones);
}

void replay_stat_free(struct replay_stat *st)
{
	if (!st)
		return;
	free(st->alloc_order_mt);
	free(st->alloc_order_mt_pages);
	free(st->free_order);
	free(st->free_order_mt);
	free(st->zl_order_mt);
	free(st->drain_order_mt);
	free(st->xf);
	free(st->xf_fallback_order);
	free(st->gfp);
	free(st->callers);
	free(st->xf_callers);
	pfnmap_release(&st->live);
	for (size_t i = 0; i < st->nr_samples; i++)
		sample_release(&st->samples[i]);
	free(st->samples);
	free(st->note);
	free(st);
}

void replay_stat_set_stacks(struct replay_stat *st,
			    const struct trace_stack *(*lookup)(void *ctx, uint32_t id), void *ctx)
{
	st->stack_lookup = lookup;
	st->stack_ctx = ctx;
}

void replay_stat_set_note(struct replay_stat *st, const char *note)
{
	free(st->note);
	st->note = note ? strdup(note) : NULL;
}

void replay_stat_set_loss(struct replay_stat *st, const struct trace_loss *loss)
{
	st->loss = loss;
}

/* Counts an extfrag event under its stack id (linear, like keyed_add: tens of stacks). */
static int xf_caller_add(struct replay_stat *st, const struct trace_event *ev, bool fragmenting, bool severe)
{
	struct xf_caller *c = NULL;

	for (size_t i = st->nr_xf_callers; i-- > 0;)
		if (st->xf_callers[i].stack_id == ev->stack_id && st->xf_callers[i].mt == ev->mt &&
		    st->xf_callers[i].fb_mt == ev->fallback_mt) {
			c = &st->xf_callers[i];
			break;
		}
	if (!c) {
		if (st->nr_xf_callers == st->cap_xf_callers) {
			size_t ncap = st->cap_xf_callers ? st->cap_xf_callers * 2 : 32;
			struct xf_caller *n = realloc(st->xf_callers, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			st->xf_callers = n;
			st->cap_xf_callers = ncap;
		}
		c = &st->xf_callers[st->nr_xf_callers++];
		*c = (struct xf_caller){ .stack_id = ev->stack_id, .mt = ev->mt, .fb_mt = ev->fallback_mt };
	}
	c->events++;
	c->fragmenting += fragmenting;
	c->severe += severe;
	c->change_ownership += !!(ev->flags & TEVF_CHANGE_OWNERSHIP);
	return 0;
}

/* Finds or adds the row (key, mt) of a small table; linear, tables stay small (tens of rows). */
static int keyed_add(struct keyed **tab, size_t *nr, size_t *cap, uint64_t key, int mt, uint64_t pages)
{
	for (size_t i = *nr; i-- > 0;)
		if ((*tab)[i].key == key && (*tab)[i].mt == mt) {
			(*tab)[i].c.n++;
			(*tab)[i].c.pages += pages;
			return 0;
		}
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct keyed *n = realloc(*tab, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*tab = n;
		*cap = ncap;
	}
	(*tab)[(*nr)++] = (struct keyed){ .key = key, .mt = mt, .c = { 1, pages } };
	return 0;
}

int replay_stat_add(struct replay_stat *st, const struct trace_event *ev)
{
	uint64_t pages = 1ULL << (ev->order < 63 ? ev->order : 0);
	uint32_t o = order_row(st, ev->order), m = mt_col(st, ev->mt);
	int err = 0;

	st->events++;
	st->by_kind[ev->kind <= TEV_KIND_MAX ? ev->kind : 0]++;
	if (!st->have_ts) {
		st->first_ts = ev->ts_ns;
		st->have_ts = true;
	}
	st->last_ts = ev->ts_ns;

	switch (ev->kind) {
	case TEV_PAGE_ALLOC:
		st->alloc.n++;
		st->alloc.pages += pages;
		if (ev->pfn == TRACE_PFN_NONE) {
			st->alloc_fail.n++;
			st->alloc_fail.pages += pages;
			break;
		}
		st->alloc_order_mt[o * st->nr_mt + m]++;
		st->alloc_order_mt_pages[o * st->nr_mt + m] += pages;
		err = pfnmap_put(&st->live, ev->pfn, ((uint64_t)ev->order << 8) | (uint8_t)(ev->mt + 1));
		if (!err)
			err = keyed_add(&st->gfp, &st->nr_gfp, &st->cap_gfp, ev->gfp, ev->mt, pages);
		if (!err && ev->stack_id)
			err = keyed_add(&st->callers, &st->nr_callers, &st->cap_callers, ev->stack_id, ev->mt,
					pages);
		break;
	case TEV_PAGE_FREE: {
		uint64_t v;

		st->freed.n++;
		st->freed.pages += pages;
		st->free_order[o]++;
		if (!pfnmap_del(&st->live, ev->pfn, &v)) {
			st->nomatch.n++;
			st->nomatch.pages += pages;
			st->free_order_mt[o * st->nr_mt + st->nr_mt - 1]++;	/* type unknown */
		} else {
			st->free_order_mt[o * st->nr_mt + mt_col(st, (int)(v & 0xff) - 1)]++;
		}
		break;
	}
	case TEV_PAGE_FREE_BATCHED:
		st->batched++;
		break;
	case TEV_PAGE_ALLOC_ZONE_LOCKED:
		st->zl_order_mt[o * st->nr_mt + m]++;
		if (ev->flags & TEVF_PERCPU_REFILL)
			st->zl_refill++;
		break;
	case TEV_PAGE_PCPU_DRAIN:
		st->drain_order_mt[o * st->nr_mt + m]++;
		break;
	case TEV_PAGE_ALLOC_EXTFRAG: {
		uint32_t f = mt_col(st, ev->fallback_mt);
		struct extfrag_cell *c = &st->xf[(m * st->nr_mt + f) * 2 + !!(ev->flags & TEVF_CHANGE_OWNERSHIP)];
		uint32_t pbo = st->h && st->h->pageblock_order ? st->h->pageblock_order : 9;

		st->xf_total++;
		c->events++;
		/* the printk's fragmenting = fallback_order < pageblock_order; Mel Gorman's
		 * postprocess script calls a fragmenting fallback at order <= 3 severe */
		if (ev->fallback_order < pbo) {
			c->fragmenting++;
			if (ev->fallback_order <= 3)
				c->severe++;
		}
		st->xf_fallback_order[order_row(st, ev->fallback_order)]++;
		if (ev->stack_id)
			err = xf_caller_add(st, ev, ev->fallback_order < pbo, ev->fallback_order < pbo &&
					    ev->fallback_order <= 3);
		break;
	}
	default:
		break;
	}
	return err;
}

int replay_stat_add_sample(struct replay_stat *st, const struct replay_sample *s)
{
	struct replay_sample *d;

	if (st->nr_samples == st->cap_samples) {
		size_t ncap = st->cap_samples ? st->cap_samples * 2 : 64;
		struct replay_sample *n = realloc(st->samples, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->samples = n;
		st->cap_samples = ncap;
	}
	d = &st->samples[st->nr_samples];
	*d = *s;
	d->zones = calloc(s->nr_zones ? s->nr_zones : 1, sizeof(*d->zones));
	if (!d->zones)
		return -ENOMEM;
	for (uint32_t z = 0; z < s->nr_zones; z++) {
		d->zones[z] = s->zones[z];
		d->zones[z].blocks_by_mt = calloc(st->nr_mt, sizeof(uint64_t));
		if (!d->zones[z].blocks_by_mt) {
			d->nr_zones = z;
			sample_release(d);
			return -ENOMEM;
		}
		if (s->zones[z].blocks_by_mt)
			memcpy(d->zones[z].blocks_by_mt, s->zones[z].blocks_by_mt,
			       (st->nr_mt - 1) * sizeof(uint64_t));
	}
	st->nr_samples++;
	return 0;
}

uint64_t replay_stat_allocs_of_order(const struct replay_stat *st, unsigned int order)
{
	uint64_t n = 0;

	if (order >= st->nr_orders)
		return 0;
	for (uint32_t m = 0; m < st->nr_mt; m++)
		n += st->alloc_order_mt[order * st->nr_mt + m];
	return n;
}

/* ---- the kernel's extfrag indices --------------------------------------------------------------- */

struct contig_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};

/* mirrors mm/vmstat.c fill_contig_page_info() (6.1, 6.12, 6.18) */
static void fill_contig_page_info(const uint64_t *nr_free, unsigned int nr_orders, unsigned int order,
				  struct contig_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	for (unsigned int o = 0; o < nr_orders; o++) {
		ci->free_blocks_total += nr_free[o];
		ci->free_pages += nr_free[o] << o;
		if (o >= order)
			ci->free_blocks_suitable += nr_free[o] << (o - order);
	}
}

/* mirrors mm/vmstat.c unusable_free_index() (6.1, 6.12, 6.18) */
int replay_unusable_index(const uint64_t *nr_free, unsigned int nr_orders, unsigned int order)
{
	struct contig_info ci;

	fill_contig_page_info(nr_free, nr_orders, order, &ci);
	if (!ci.free_pages)
		return 1000;
	return (int)((ci.free_pages - (ci.free_blocks_suitable << order)) * 1000ULL / ci.free_pages);
}

/* mirrors mm/vmstat.c __fragmentation_index() (6.1, 6.12, 6.18) */
int replay_fragmentation_index(const uint64_t *nr_free, unsigned int nr_orders, unsigned int order)
{
	struct contig_info ci;

	fill_contig_page_info(nr_free, nr_orders, order, &ci);
	if (!ci.free_blocks_total)
		return 0;
	if (ci.free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + ci.free_pages * 1000ULL / (1ULL << order)) / ci.free_blocks_total);
}

/* ---- output -------------------------------------------------------------------------------------- */

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->c.pages != y->c.pages)
		return x->c.pages > y->c.pages ? -1 : 1;
	if (x->c.n != y->c.n)
		return x->c.n > y->c.n ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->mt - y->mt;
}

static struct keyed *sorted_copy(const struct keyed *tab, size_t nr)
{
	struct keyed *c = malloc((nr ? nr : 1) * sizeof(*c));

	if (!c)
		return NULL;
	if (nr) {
		memcpy(c, tab, nr * sizeof(*c));
		qsort(c, nr, sizeof(*c), cmp_keyed);
	}
	return c;
}

/* Allocator entry points skipped when naming the caller of a page allocation (compared
 * without a "_noprof" suffix, which allocation profiling added in 6.10). */
static const char *const alloc_frames[] = {
	"__alloc_pages", "alloc_pages", "__alloc_frozen_pages", "alloc_frozen_pages", "__folio_alloc",
	"folio_alloc", "__get_free_pages", "get_zeroed_page", "get_page_from_freelist", "rmqueue",
	"__rmqueue", "alloc_pages_mpol", "folio_alloc_mpol", "alloc_slab_page", "alloc_pages_exact",
	"__alloc_pages_slowpath", "__alloc_pages_direct_compact", "__alloc_pages_direct_reclaim",
	"vma_alloc_folio", "alloc_pages_node", "__alloc_pages_node", "alloc_pages_bulk", "__alloc_pages_bulk",
	"alloc_pages_bulk_noprof", "alloc_pages_nolock", "__alloc_pages_may_oom", "alloc_pages_vma",
	"folio_alloc_noprof", "alloc_frozen_pages_nolock", "get_free_pages",
	/* the fallback path, under which mm_page_alloc_extfrag fires */
	"__rmqueue_fallback", "__rmqueue_claim", "__rmqueue_steal", "try_to_claim_block", "try_to_steal_block",
	"steal_suitable_fallback", "rmqueue_bulk", "rmqueue_pcplist", "rmqueue_buddy", "__rmqueue_pcplist",
	"move_freepages_block", "unreserve_highatomic_pageblock", "__rmqueue_smallest",
};

static bool is_alloc_frame(const char *sym)
{
	char name[128];
	size_t n = strcspn(sym, "+. ");

	if (n >= sizeof(name))
		return false;
	memcpy(name, sym, n);
	name[n] = '\0';
	if (n > 7 && !strcmp(name + n - 7, "_noprof"))
		name[n - 7] = '\0';
	for (size_t i = 0; i < sizeof(alloc_frames) / sizeof(alloc_frames[0]); i++)
		if (!strcmp(name, alloc_frames[i]))
			return true;
	return false;
}

/* The caller of an allocation: the first frame outside the page allocator. */
static const char *caller_of(const struct replay_stat *st, uint32_t id, char *buf, size_t len)
{
	const struct trace_stack *s = st->stack_lookup ? st->stack_lookup(st->stack_ctx, id) : NULL;

	if (!s || !s->nr) {
		snprintf(buf, len, "stack#%u", id);
		return buf;
	}
	for (uint32_t i = 0; i < s->nr; i++) {
		if (s->syms && s->syms[i] && s->syms[i][0]) {
			if (!is_alloc_frame(s->syms[i]))
				return s->syms[i];
		} else {
			snprintf(buf, len, "0x%" PRIx64, s->ips[i]);
			if (i > 0 || s->nr == 1)
				return buf;
		}
	}
	snprintf(buf, len, "0x%" PRIx64, s->ips[s->nr - 1]);
	return buf;
}

struct caller_row {
	char name[160];
	int mt;
	struct count c;
};

static int cmp_caller(const void *a, const void *b)
{
	const struct caller_row *x = a, *y = b;

	if (x->c.pages != y->c.pages)
		return x->c.pages > y->c.pages ? -1 : 1;
	if (x->c.n != y->c.n)
		return x->c.n > y->c.n ? -1 : 1;
	if (x->mt != y->mt)
		return x->mt - y->mt;
	return strcmp(x->name, y->name);
}

struct xf_caller_row {
	char name[160];
	int mt, fb_mt;
	uint64_t events, fragmenting, severe, change_ownership;
};

static int cmp_xf_caller(const void *a, const void *b)
{
	const struct xf_caller_row *x = a, *y = b;

	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	if (x->mt != y->mt)
		return x->mt - y->mt;
	if (x->fb_mt != y->fb_mt)
		return x->fb_mt - y->fb_mt;
	return strcmp(x->name, y->name);
}

/* extfrag stacks grouped by their caller, requested and fallback type, most events first. */
static struct xf_caller_row *xf_caller_rows(const struct replay_stat *st, size_t *nr)
{
	struct xf_caller_row *rows = calloc(st->nr_xf_callers ? st->nr_xf_callers : 1, sizeof(*rows));
	char buf[160];

	*nr = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < st->nr_xf_callers; i++) {
		const struct xf_caller *x = &st->xf_callers[i];
		const char *name = caller_of(st, x->stack_id, buf, sizeof(buf));
		size_t j;

		for (j = 0; j < *nr; j++)
			if (rows[j].mt == x->mt && rows[j].fb_mt == x->fb_mt && !strcmp(rows[j].name, name))
				break;
		if (j == *nr) {
			snprintf(rows[j].name, sizeof(rows[j].name), "%s", name);
			rows[j].mt = x->mt;
			rows[j].fb_mt = x->fb_mt;
			(*nr)++;
		}
		rows[j].events += x->events;
		rows[j].fragmenting += x->fragmenting;
		rows[j].severe += x->severe;
		rows[j].change_ownership += x->change_ownership;
	}
	qsort(rows, *nr, sizeof(*rows), cmp_xf_caller);
	return rows;
}

/* Stacks grouped by their caller and migratetype, biggest first (perf kmem --caller). */
static struct caller_row *caller_rows(const struct replay_stat *st, size_t *nr)
{
	struct caller_row *rows = calloc(st->nr_callers ? st->nr_callers : 1, sizeof(*rows));
	char buf[160];

	*nr = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < st->nr_callers; i++) {
		const char *name = caller_of(st, (uint32_t)st->callers[i].key, buf, sizeof(buf));
		size_t j;

		for (j = 0; j < *nr; j++)
			if (rows[j].mt == st->callers[i].mt && !strcmp(rows[j].name, name))
				break;
		if (j == *nr) {
			snprintf(rows[j].name, sizeof(rows[j].name), "%s", name);
			rows[j].mt = st->callers[i].mt;
			(*nr)++;
		}
		rows[j].c.n += st->callers[i].c.n;
		rows[j].c.pages += st->callers[i].c.pages;
	}
	qsort(rows, *nr, sizeof(*rows), cmp_caller);
	return rows;
}

static const char *mtn(const struct replay_stat *st, uint32_t col, char *buf, size_t len)
{
	if (col == st->nr_mt - 1) {
		snprintf(buf, len, "other");
		return buf;
	}
	return replay_mt_name(st->h, (int)col, buf, len);
}

static const char *gfp_str(const struct replay_stat *st, uint64_t gfp, char *buf, size_t len)
{
	if (!st->h || !st->h->nr_gfp_flags) {
		snprintf(buf, len, "0x%" PRIx64, gfp);
		return buf;
	}
	trace_header_gfp_str(st->h, gfp, buf, len);
	return buf;
}

static double secs(const struct replay_stat *st)
{
	return st->have_ts ? (double)(st->last_ts - st->first_ts) / 1e9 : 0.0;
}

static uint64_t kb(const struct replay_stat *st, uint64_t pages)
{
	uint32_t ps = st->h && st->h->page_size ? st->h->page_size : 4096;

	return pages * ps / 1024;
}

static const char *zone_name(const struct replay_stat *st, uint16_t z, char *buf, size_t len)
{
	if (st->h && z < st->h->nr_zones)
		snprintf(buf, len, "%u/%s", st->h->zones[z].node, st->h->zones[z].name);
	else
		snprintf(buf, len, "zone%u", z);
	return buf;
}

static void print_order_mt(const struct replay_stat *st, FILE *f, const char *title, const uint64_t *tab)
{
	char b[32];
	uint32_t rows = st->nr_orders;

	fprintf(f, "\n%s\n%5s", title, "Order");
	for (uint32_t m = 0; m < st->nr_mt; m++)
		fprintf(f, "  %12s", mtn(st, m, b, sizeof(b)));
	fprintf(f, "  %12s\n", "total");
	for (uint32_t o = 0; o < rows; o++) {
		uint64_t t = 0;

		fprintf(f, "%5u", o);
		for (uint32_t m = 0; m < st->nr_mt; m++) {
			uint64_t v = tab[o * st->nr_mt + m];

			t += v;
			if (v)
				fprintf(f, "  %12" PRIu64, v);
			else
				fprintf(f, "  %12s", ".");
		}
		fprintf(f, "  %12" PRIu64 "\n", t);
	}
}

void replay_stat_print(const struct replay_stat *st, FILE *f, const struct replay_stat_print_opts *o)
{
	unsigned int max_callers = o && o->max_callers ? o->max_callers : 20;
	unsigned int max_gfp = o && o->max_gfp ? o->max_gfp : UINT32_MAX;
	char b[64], b2[64], gb[512];
	uint64_t alloc_freed = st->freed.n - st->nomatch.n;
	uint64_t alloc_freed_pages = st->freed.pages - st->nomatch.pages;

	fprintf(f, "Trace: %s, %" PRIu64 " events over %.3f s\n",
		st->h && st->h->kernel_release[0] ? st->h->kernel_release : "unknown kernel", st->events,
		secs(st));
	if (st->loss && st->loss->total)
		fprintf(f, "WARNING: the trace lost %" PRIu64 " events; counts below are lower bounds\n",
			st->loss->total);
	fprintf(f, "\nEvents\n");
	for (int k = 1; k <= TEV_KIND_MAX; k++)
		if (st->by_kind[k])
			fprintf(f, "  %-30s %12" PRIu64 "\n", trace_event_kind_name((enum trace_event_kind)k) ?
				trace_event_kind_name((enum trace_event_kind)k) : "?", st->by_kind[k]);

	fprintf(f, "\nSUMMARY (page allocator)\n========================\n");
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n", "Total allocation requests", st->alloc.n,
		kb(st, st->alloc.pages));
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n\n", "Total free requests", st->freed.n,
		kb(st, st->freed.pages));
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n", "Total alloc+freed requests", alloc_freed,
		kb(st, alloc_freed_pages));
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n", "Total alloc-only requests",
		st->alloc.n - alloc_freed, kb(st, st->alloc.pages - alloc_freed_pages));
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n\n", "Total free-only requests", st->nomatch.n,
		kb(st, st->nomatch.pages));
	fprintf(f, "%-30s: %16" PRIu64 "   [ %16" PRIu64 " KB ]\n", "Total allocation failures", st->alloc_fail.n,
		kb(st, st->alloc_fail.pages));

	print_order_mt(st, f, "Allocation requests by order and migratetype (requested type; failures excluded)",
		       st->alloc_order_mt);
	print_order_mt(st, f, "Free requests by order and the type they were allocated as "
		       "(\"other\": allocated before the trace)", st->free_order_mt);

	if (st->nr_gfp) {
		struct keyed *g = sorted_copy(st->gfp, st->nr_gfp);

		fprintf(f, "\nAllocations by gfp flags (%zu combinations)\n%12s %12s %-12s  %s\n", st->nr_gfp,
			"requests", "KB", "migratetype", "gfp flags");
		for (size_t i = 0; g && i < st->nr_gfp && i < max_gfp; i++)
			fprintf(f, "%12" PRIu64 " %12" PRIu64 " %-12s  %s\n", g[i].c.n, kb(st, g[i].c.pages),
				mtn(st, mt_col(st, g[i].mt), b, sizeof(b)), gfp_str(st, g[i].key, gb, sizeof(gb)));
		free(g);
	}
	if (st->nr_callers) {
		size_t nc;
		struct caller_row *c = caller_rows(st, &nc);

		fprintf(f, "\nAllocations by caller (top %u of %zu; from %zu stacks)\n%12s %12s %-12s  %s\n",
			max_callers, nc, st->nr_callers, "requests", "KB", "migratetype", "caller");
		for (size_t i = 0; c && i < nc && i < max_callers; i++)
			fprintf(f, "%12" PRIu64 " %12" PRIu64 " %-12s  %s\n", c[i].c.n, kb(st, c[i].c.pages),
				mtn(st, mt_col(st, c[i].mt), b, sizeof(b)), c[i].name);
		free(c);
	} else {
		fprintf(f, "\n(no callers: the trace has no stacks; record with --stacks)\n");
	}

	print_order_mt(st, f, "Buddy takes (mm_page_alloc_zone_locked) by order and free list", st->zl_order_mt);
	fprintf(f, "  of which percpu_refill=1: %" PRIu64 "\n", st->zl_refill);
	print_order_mt(st, f, "pcp drains (mm_page_pcpu_drain) by order and migratetype", st->drain_order_mt);
	fprintf(f, "\nBatched frees (mm_page_free_batched): %" PRIu64 "\n", st->batched);

	fprintf(f, "\nExternal fragmentation events (mm_page_alloc_extfrag): %" PRIu64 "\n", st->xf_total);
	if (st->xf_total) {
		fprintf(f, "%-12s %-12s %-9s %10s %12s %10s %10s\n", "requested", "fallback", "ownership",
			"events", "fragmenting", "severe", "moderate");
		for (uint32_t a = 0; a < st->nr_mt; a++)
			for (uint32_t fb = 0; fb < st->nr_mt; fb++)
				for (int own = 1; own >= 0; own--) {
					const struct extfrag_cell *c = &st->xf[(a * st->nr_mt + fb) * 2 + own];

					if (!c->events)
						continue;
					fprintf(f, "%-12s %-12s %-9s %10" PRIu64 " %12" PRIu64 " %10" PRIu64
						" %10" PRIu64 "\n", mtn(st, a, b, sizeof(b)),
						mtn(st, fb, b2, sizeof(b2)), own ? "changed" : "kept", c->events,
						c->fragmenting, c->severe, c->fragmenting - c->severe);
				}
		fprintf(f, "(fragmenting: fallback order < pageblock order; severe: fragmenting with fallback "
			"order <= 3, moderate: the rest, as trace-pagealloc-postprocess.pl classes them)\n");
		fprintf(f, "By fallback order:");
		for (uint32_t i = 0; i < st->nr_orders; i++)
			fprintf(f, " %u:%" PRIu64, i, st->xf_fallback_order[i]);
		fprintf(f, "\n");
		if (st->nr_xf_callers) {
			size_t nc;
			struct xf_caller_row *c = xf_caller_rows(st, &nc);

			fprintf(f, "\nFallbacks (steals/claims) by caller (top %u of %zu; from %zu stacks)\n"
				"%10s %12s %10s %16s %-12s %-12s  %s\n", max_callers, nc, st->nr_xf_callers, "events",
				"fragmenting", "severe", "change_ownership", "requested", "fallback", "caller");
			for (size_t i = 0; c && i < nc && i < max_callers; i++)
				fprintf(f, "%10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %16" PRIu64 " %-12s %-12s  %s\n",
					c[i].events, c[i].fragmenting, c[i].severe, c[i].change_ownership,
					mtn(st, mt_col(st, c[i].mt), b, sizeof(b)),
					mtn(st, mt_col(st, c[i].fb_mt), b2, sizeof(b2)), c[i].name);
			free(c);
		} else {
			fprintf(f, "(no fallback callers: the extfrag events carry no stacks; record with --stacks)\n");
		}
	}

	if (!st->nr_samples) {
		fprintf(f, "\nModel state: %s\n", st->note ? st->note : "not available");
		return;
	}
	{
		const struct replay_sample *last = &st->samples[st->nr_samples - 1];

		fprintf(f, "\nModel state (follow-mode replay%s%s)\n", st->note ? ": " : "", st->note ? st->note : "");
		fprintf(f, "Pageblocks per type over time (zone: ");
		for (uint32_t m = 0; m + 1 < st->nr_mt; m++)
			fprintf(f, "%s%s", m ? " " : "", mtn(st, m, b, sizeof(b)));
		fprintf(f, "; mixed; largest free order)\n");
		for (size_t i = 0; i < st->nr_samples; i++) {
			const struct replay_sample *s = &st->samples[i];

			fprintf(f, "  event %10" PRIu64 "  t=%9.3fs", s->seq,
				st->have_ts && s->ts_ns >= st->first_ts ? (double)(s->ts_ns - st->first_ts) / 1e9 : 0.0);
			for (uint32_t z = 0; z < s->nr_zones; z++) {
				fprintf(f, "  %s:", zone_name(st, s->zones[z].zone, b, sizeof(b)));
				for (uint32_t m = 0; m + 1 < st->nr_mt; m++)
					fprintf(f, "%s%" PRIu64, m ? "/" : "", s->zones[z].blocks_by_mt[m]);
				fprintf(f, ";%" PRIu64 ";%d", s->zones[z].mixed, s->zones[z].largest_order);
			}
			fprintf(f, "\n");
		}
		fprintf(f, "\nAt the end, per zone and order (as debugfs extfrag prints them)\n");
		for (uint32_t z = 0; z < last->nr_zones; z++) {
			const struct replay_zone_sample *zs = &last->zones[z];

			fprintf(f, "  %-12s free blocks   ", zone_name(st, zs->zone, b, sizeof(b)));
			for (uint32_t k = 0; k < st->nr_orders; k++)
				fprintf(f, " %6" PRIu64, zs->nr_free[k]);
			fprintf(f, "\n  %-12s unusable      ", "");
			for (uint32_t k = 0; k < st->nr_orders; k++) {
				int v = replay_unusable_index(zs->nr_free, st->nr_orders, k);

				fprintf(f, " %d.%03d", v / 1000, v % 1000);
			}
			fprintf(f, "\n  %-12s fragmentation ", "");
			for (uint32_t k = 0; k < st->nr_orders; k++) {
				int v = replay_fragmentation_index(zs->nr_free, st->nr_orders, k);

				fprintf(f, " %s%d.%03d", v < 0 ? "-" : "", abs(v) / 1000, abs(v) % 1000);
			}
			fprintf(f, "\n");
		}
	}
}

static void json_order_mt(const struct replay_stat *st, struct jsonw *w, const char *name, const uint64_t *tab,
			  uint32_t rows)
{
	char b[32];

	jsonw_name(w, name);
	jsonw_start_array(w);
	for (uint32_t o = 0; o < rows; o++) {
		jsonw_start_object(w);
		jsonw_uint_field(w, "order", o);
		for (uint32_t m = 0; m < st->nr_mt; m++)
			jsonw_uint_field(w, mtn(st, m, b, sizeof(b)), tab[o * st->nr_mt + m]);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

void replay_stat_json(const struct replay_stat *st, struct jsonw *w, const struct replay_stat_print_opts *o)
{
	unsigned int max_callers = o && o->max_callers ? o->max_callers : 20;
	char b[64], b2[64], gb[512];
	uint64_t alloc_freed = st->freed.n - st->nomatch.n;
	uint64_t alloc_freed_pages = st->freed.pages - st->nomatch.pages;

	jsonw_start_object(w);
	jsonw_string_field(w, "kernel_release", st->h ? st->h->kernel_release : "");
	jsonw_uint_field(w, "events", st->events);
	jsonw_float_field(w, "seconds", secs(st));
	jsonw_uint_field(w, "lost_events", st->loss ? st->loss->total : 0);
	jsonw_name(w, "by_event");
	jsonw_start_object(w);
	for (int k = 1; k <= TEV_KIND_MAX; k++)
		if (st->by_kind[k] && trace_event_kind_name((enum trace_event_kind)k))
			jsonw_uint_field(w, trace_event_kind_name((enum trace_event_kind)k), st->by_kind[k]);
	jsonw_end_object(w);

	jsonw_name(w, "summary");
	jsonw_start_object(w);
	jsonw_uint_field(w, "alloc_requests", st->alloc.n);
	jsonw_uint_field(w, "alloc_kb", kb(st, st->alloc.pages));
	jsonw_uint_field(w, "free_requests", st->freed.n);
	jsonw_uint_field(w, "free_kb", kb(st, st->freed.pages));
	jsonw_uint_field(w, "alloc_freed_requests", alloc_freed);
	jsonw_uint_field(w, "alloc_freed_kb", kb(st, alloc_freed_pages));
	jsonw_uint_field(w, "alloc_only_requests", st->alloc.n - alloc_freed);
	jsonw_uint_field(w, "alloc_only_kb", kb(st, st->alloc.pages - alloc_freed_pages));
	jsonw_uint_field(w, "free_only_requests", st->nomatch.n);
	jsonw_uint_field(w, "free_only_kb", kb(st, st->nomatch.pages));
	jsonw_uint_field(w, "alloc_failures", st->alloc_fail.n);
	jsonw_uint_field(w, "alloc_failures_kb", kb(st, st->alloc_fail.pages));
	jsonw_end_object(w);

	json_order_mt(st, w, "alloc_by_order_migratetype", st->alloc_order_mt, st->nr_orders);
	jsonw_name(w, "free_by_order");
	jsonw_start_array(w);
	for (uint32_t i = 0; i < st->nr_orders; i++)
		jsonw_uint(w, st->free_order[i]);
	jsonw_end_array(w);
	json_order_mt(st, w, "free_by_order_alloc_migratetype", st->free_order_mt, st->nr_orders);

	{
		struct keyed *g = sorted_copy(st->gfp, st->nr_gfp);

		jsonw_name(w, "gfp");
		jsonw_start_array(w);
		for (size_t i = 0; g && i < st->nr_gfp; i++) {
			jsonw_start_object(w);
			snprintf(b, sizeof(b), "0x%" PRIx64, g[i].key);
			jsonw_string_field(w, "gfp", b);
			jsonw_string_field(w, "flags", gfp_str(st, g[i].key, gb, sizeof(gb)));
			jsonw_string_field(w, "migratetype", mtn(st, mt_col(st, g[i].mt), b, sizeof(b)));
			jsonw_uint_field(w, "requests", g[i].c.n);
			jsonw_uint_field(w, "pages", g[i].c.pages);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		free(g);
	}
	{
		size_t nc;
		struct caller_row *c = caller_rows(st, &nc);

		jsonw_name(w, "callers");
		jsonw_start_array(w);
		for (size_t i = 0; c && i < nc && i < max_callers; i++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "caller", c[i].name);
			jsonw_string_field(w, "migratetype", mtn(st, mt_col(st, c[i].mt), b, sizeof(b)));
			jsonw_uint_field(w, "requests", c[i].c.n);
			jsonw_uint_field(w, "pages", c[i].c.pages);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		free(c);
	}
	json_order_mt(st, w, "zone_locked_by_order_migratetype", st->zl_order_mt, st->nr_orders);
	jsonw_uint_field(w, "zone_locked_percpu_refill", st->zl_refill);
	json_order_mt(st, w, "pcpu_drain_by_order_migratetype", st->drain_order_mt, st->nr_orders);
	jsonw_uint_field(w, "free_batched", st->batched);

	jsonw_name(w, "extfrag");
	jsonw_start_object(w);
	jsonw_uint_field(w, "events", st->xf_total);
	jsonw_name(w, "matrix");
	jsonw_start_array(w);
	for (uint32_t a = 0; a < st->nr_mt; a++)
		for (uint32_t fb = 0; fb < st->nr_mt; fb++)
			for (int own = 1; own >= 0; own--) {
				const struct extfrag_cell *c = &st->xf[(a * st->nr_mt + fb) * 2 + own];

				if (!c->events)
					continue;
				jsonw_start_object(w);
				jsonw_string_field(w, "requested", mtn(st, a, b, sizeof(b)));
				jsonw_string_field(w, "fallback", mtn(st, fb, b2, sizeof(b2)));
				jsonw_bool_field(w, "change_ownership", own);
				jsonw_uint_field(w, "events", c->events);
				jsonw_uint_field(w, "fragmenting", c->fragmenting);
				jsonw_uint_field(w, "severe", c->severe);
				jsonw_uint_field(w, "moderate", c->fragmenting - c->severe);
				jsonw_end_object(w);
			}
	jsonw_end_array(w);
	jsonw_name(w, "by_fallback_order");
	jsonw_start_array(w);
	for (uint32_t i = 0; i < st->nr_orders; i++)
		jsonw_uint(w, st->xf_fallback_order[i]);
	jsonw_end_array(w);
	{
		size_t nc;
		struct xf_caller_row *c = xf_caller_rows(st, &nc);

		jsonw_name(w, "callers");	/* empty without stacks */
		jsonw_start_array(w);
		for (size_t i = 0; c && i < nc && i < max_callers; i++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "caller", c[i].name);
			jsonw_string_field(w, "requested", mtn(st, mt_col(st, c[i].mt), b, sizeof(b)));
			jsonw_string_field(w, "fallback", mtn(st, mt_col(st, c[i].fb_mt), b2, sizeof(b2)));
			jsonw_uint_field(w, "events", c[i].events);
			jsonw_uint_field(w, "fragmenting", c[i].fragmenting);
			jsonw_uint_field(w, "severe", c[i].severe);
			jsonw_uint_field(w, "change_ownership", c[i].change_ownership);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		free(c);
	}
	jsonw_end_object(w);

	jsonw_name(w, "model");
	if (!st->nr_samples) {
		jsonw_null(w);
	} else {
		jsonw_start_object(w);
		jsonw_string_field(w, "note", st->note ? st->note : "");
		jsonw_name(w, "samples");
		jsonw_start_array(w);
		for (size_t i = 0; i < st->nr_samples; i++) {
			const struct replay_sample *s = &st->samples[i];
			bool last = i + 1 == st->nr_samples;

			jsonw_start_object(w);
			jsonw_uint_field(w, "event", s->seq);
			jsonw_uint_field(w, "ts_ns", s->ts_ns);
			jsonw_name(w, "zones");
			jsonw_start_array(w);
			for (uint32_t z = 0; z < s->nr_zones; z++) {
				const struct replay_zone_sample *zs = &s->zones[z];

				jsonw_start_object(w);
				jsonw_string_field(w, "zone", zone_name(st, zs->zone, b, sizeof(b)));
				jsonw_name(w, "pageblocks");
				jsonw_start_object(w);
				for (uint32_t m = 0; m + 1 < st->nr_mt; m++)
					jsonw_uint_field(w, mtn(st, m, b, sizeof(b)), zs->blocks_by_mt[m]);
				jsonw_end_object(w);
				jsonw_uint_field(w, "mixed_pageblocks", zs->mixed);
				jsonw_int_field(w, "largest_free_order", zs->largest_order);
				jsonw_name(w, "nr_free");
				jsonw_start_array(w);
				for (uint32_t k = 0; k < st->nr_orders; k++)
					jsonw_uint(w, zs->nr_free[k]);
				jsonw_end_array(w);
				if (last) {
					jsonw_name(w, "unusable_index");
					jsonw_start_array(w);
					for (uint32_t k = 0; k < st->nr_orders; k++)
						jsonw_float(w, replay_unusable_index(zs->nr_free, st->nr_orders, k) / 1000.0);
					jsonw_end_array(w);
					jsonw_name(w, "fragmentation_index");
					jsonw_start_array(w);
					for (uint32_t k = 0; k < st->nr_orders; k++)
						jsonw_float(w, replay_fragmentation_index(zs->nr_free, st->nr_orders, k) /
								       1000.0);
					jsonw_end_array(w);
				}
				jsonw_end_object(w);
			}
			jsonw_end_array(w);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
}
