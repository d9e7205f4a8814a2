// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay/: stat counts on hand-made event arrays (perf kmem --page semantics, extfrag classes),
 * the kernel's extfrag indices on hand-computed free counts, and the pfn map.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replay/replay.h"
#include "replay/replay-local.h"
#include "traces/trace.h"
#include "util/jsonw.h"

/* A 6.18-like header whose migratetype numbering is NOT the pre-4.4 one perf hard-codes. */
static struct trace_name_value mts[] = {
	{ "Unmovable", 0 }, { "Movable", 1 }, { "Reclaimable", 2 }, { "HighAtomic", 3 }, { "Isolate", 4 },
};

static void header(struct trace_header *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->kernel_release, sizeof(h->kernel_release), "6.18.44-test");
	h->page_size = 4096;
	h->pageblock_order = 9;
	h->nr_orders = 11;
	h->nr_cpus = 2;
	h->nr_migratetypes = 5;
	h->migratetypes = mts;
}

static struct trace_event ev(uint8_t kind, uint64_t pfn, uint8_t order, int8_t mt)
{
	static uint64_t seq;
	struct trace_event e = { .seq = seq, .ts_ns = 1000 * seq, .kind = kind, .pfn = pfn, .order = order,
				 .mt = mt, .fallback_mt = -1 };

	seq++;
	return e;
}

static char *render(struct replay_stat *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonw *w = jsonw_new(f);

	replay_stat_json(st, w, NULL);
	jsonw_free(w);
	fclose(f);
	return buf;
}

static void test_stat_perf_summary(void **state)
{
	struct trace_header h;
	struct replay_stat *st;
	struct trace_event e;
	char *json;

	(void)state;
	header(&h);
	st = replay_stat_new(&h);
	assert_non_null(st);
	/* 3 allocations (order 0 movable, order 2 unmovable, one failure at order 9), 3 frees:
	 * one matches, one frees a page allocated before the trace, one is a partial (other pfn) */
	e = ev(TEV_PAGE_ALLOC, 0x1000, 0, 1);
	e.gfp = 0x140cca;
	assert_int_equal(replay_stat_add(st, &e), 0);
	e = ev(TEV_PAGE_ALLOC, 0x2000, 2, 0);
	e.gfp = 0xcc0;
	assert_int_equal(replay_stat_add(st, &e), 0);
	e = ev(TEV_PAGE_ALLOC, TRACE_PFN_NONE, 9, 1);
	assert_int_equal(replay_stat_add(st, &e), 0);
	e = ev(TEV_PAGE_FREE, 0x2000, 2, -1);
	assert_int_equal(replay_stat_add(st, &e), 0);
	e = ev(TEV_PAGE_FREE, 0x9000, 0, -1);
	assert_int_equal(replay_stat_add(st, &e), 0);
	e = ev(TEV_PAGE_FREE, 0x1001, 0, -1);
	assert_int_equal(replay_stat_add(st, &e), 0);
	assert_int_equal(replay_stat_allocs_of_order(st, 0), 1);
	assert_int_equal(replay_stat_allocs_of_order(st, 2), 1);
	assert_int_equal(replay_stat_allocs_of_order(st, 9), 0);	/* failures excluded, as perf */
	json = render(st);
	/* requests 3 (1+4+512 pages = 2068 KB), frees 3 (4+1+1 pages), 1 alloc+freed (16 KB),
	 * 2 alloc-only, 2 free-only, 1 failure of 2048 KB */
	assert_non_null(strstr(json, "\"alloc_requests\":3,\"alloc_kb\":2068,"));
	assert_non_null(strstr(json, "\"free_requests\":3,\"free_kb\":24,"));
	assert_non_null(strstr(json, "\"alloc_freed_requests\":1,\"alloc_freed_kb\":16,"));
	assert_non_null(strstr(json, "\"alloc_only_requests\":2,\"alloc_only_kb\":2052,"));
	assert_non_null(strstr(json, "\"free_only_requests\":2,\"free_only_kb\":8,"));
	assert_non_null(strstr(json, "\"alloc_failures\":1,\"alloc_failures_kb\":2048"));
	/* names from the header, in the trace's numbering: order 0 is Movable (perf says RECLAIM) */
	assert_non_null(strstr(json, "{\"order\":0,\"Unmovable\":0,\"Movable\":1,\"Reclaimable\":0"));
	assert_non_null(strstr(json, "{\"order\":2,\"Unmovable\":1,\"Movable\":0"));
	free(json);
	replay_stat_free(st);
}

static void test_stat_extfrag_classes(void **state)
{
	struct trace_header h;
	struct replay_stat *st;
	struct trace_event e;
	char *json;
	static const struct { uint8_t ao, fo; int8_t a, f; bool own; } x[] = {
		{ 0, 0, 0, 1, false },	/* unmovable from movable, order 0: severe */
		{ 0, 3, 0, 1, false },	/* order 3: still severe */
		{ 0, 4, 0, 1, true },	/* order 4: moderate, ownership changed */
		{ 0, 9, 0, 1, true },	/* pageblock order: not fragmenting */
		{ 0, 10, 1, 2, true },	/* movable from reclaimable, order 10 */
	};

	(void)state;
	header(&h);
	st = replay_stat_new(&h);
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		e = ev(TEV_PAGE_ALLOC_EXTFRAG, 0x4000 + i * 512, x[i].ao, x[i].a);
		e.fallback_order = x[i].fo;
		e.fallback_mt = x[i].f;
		e.flags = x[i].own ? TEVF_CHANGE_OWNERSHIP : 0;
		assert_int_equal(replay_stat_add(st, &e), 0);
	}
	json = render(st);
	assert_non_null(strstr(json, "{\"requested\":\"Unmovable\",\"fallback\":\"Movable\",\"change_ownership\":true,"
				     "\"events\":2,\"fragmenting\":1,\"severe\":0,\"moderate\":1}"));
	assert_non_null(strstr(json, "{\"requested\":\"Unmovable\",\"fallback\":\"Movable\",\"change_ownership\":false,"
				     "\"events\":2,\"fragmenting\":2,\"severe\":2,\"moderate\":0}"));
	assert_non_null(strstr(json, "{\"requested\":\"Movable\",\"fallback\":\"Reclaimable\",\"change_ownership\":true,"
				     "\"events\":1,\"fragmenting\":0,\"severe\":0,\"moderate\":0}"));
	assert_non_null(strstr(json, "\"by_fallback_order\":[1,0,0,1,1,0,0,0,0,1,1]"));
	free(json);
	replay_stat_free(st);
}

/* extfrag events carry the stack of the allocation that fell back: grouped by caller (the first
 * frame outside the allocator and its fallback path), requested and fallback type */
static char *xf_syms1[] = { "__rmqueue_claim+0x10", "try_to_claim_block+0x3", "rmqueue_bulk+0x20",
			    "get_page_from_freelist+0x99", "__alloc_pages_noprof+0x1", "anon_pipe_write+0x1a8" };
static char *xf_syms2[] = { "__rmqueue_steal+0x8", "__rmqueue_smallest+0x2", "rmqueue_pcplist+0x4",
			    "get_page_from_freelist+0x99", "alloc_pages_mpol+0x7", "anon_pipe_write+0x1a8" };
static char *xf_syms3[] = { "__rmqueue_steal+0x8", "get_page_from_freelist+0x99", "pte_alloc_one+0x19" };
static uint64_t xf_ips[6] = { 1, 2, 3, 4, 5, 6 };
static struct trace_stack xf_stacks[] = {
	{ 1, 6, xf_ips, xf_syms1 }, { 2, 6, xf_ips, xf_syms2 }, { 3, 3, xf_ips, xf_syms3 },
};

static const struct trace_stack *xf_lookup(void *ctx, uint32_t id)
{
	(void)ctx;
	return id >= 1 && id <= 3 ? &xf_stacks[id - 1] : NULL;
}

static void test_stat_extfrag_callers(void **state)
{
	struct trace_header h;
	struct replay_stat *st;
	struct trace_event e;
	char *json, *text = NULL;
	size_t len = 0;
	FILE *f;
	static const struct { uint32_t stack; uint8_t fo; int8_t a, f; bool own; } x[] = {
		{ 1, 10, 0, 1, true },	/* anon_pipe_write claims a movable block */
		{ 2, 2, 0, 1, false },	/* ... steals order 2: severe */
		{ 2, 5, 0, 1, false },	/* ... order 5: fragmenting, moderate */
		{ 3, 0, 0, 2, false },	/* pte_alloc_one from reclaimable: severe */
		{ 0, 0, 0, 1, false },	/* no stack: counted in the matrix only */
	};

	(void)state;
	header(&h);
	st = replay_stat_new(&h);
	replay_stat_set_stacks(st, xf_lookup, NULL);
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		e = ev(TEV_PAGE_ALLOC_EXTFRAG, 0x8000 + i * 512, 0, x[i].a);
		e.fallback_order = x[i].fo;
		e.fallback_mt = x[i].f;
		e.flags = x[i].own ? TEVF_CHANGE_OWNERSHIP : 0;
		e.stack_id = x[i].stack;
		assert_int_equal(replay_stat_add(st, &e), 0);
	}
	json = render(st);
	assert_non_null(strstr(json, "\"callers\":[{\"caller\":\"anon_pipe_write+0x1a8\",\"requested\":\"Unmovable\","
				     "\"fallback\":\"Movable\",\"events\":3,\"fragmenting\":2,\"severe\":1,"
				     "\"change_ownership\":1},{\"caller\":\"pte_alloc_one+0x19\",\"requested\":\"Unmovable\","
				     "\"fallback\":\"Reclaimable\",\"events\":1,\"fragmenting\":1,\"severe\":1,"
				     "\"change_ownership\":0}]}"));
	f = open_memstream(&text, &len);
	replay_stat_print(st, f, NULL);
	fclose(f);
	assert_non_null(strstr(text, "Fallbacks (steals/claims) by caller (top 20 of 2; from 3 stacks)"));
	assert_non_null(strstr(text, "         3            2          1                1 Unmovable    Movable       "
				     "anon_pipe_write+0x1a8\n"));
	free(text);
	free(json);
	replay_stat_free(st);
}

static void test_stat_deterministic(void **state)
{
	struct trace_header h;
	char *out[2];

	(void)state;
	header(&h);
	for (int run = 0; run < 2; run++) {
		struct replay_stat *st = replay_stat_new(&h);

		/* many gfp combinations with equal counts: the order must come from the keys */
		for (int i = 0; i < 200; i++) {
			struct trace_event e = ev(TEV_PAGE_ALLOC, 0x10000 + (uint64_t)i * 8, (uint8_t)(i % 4),
						  (int8_t)(i % 3));

			e.gfp = (uint64_t)((i * 7919) % 37) << 4;
			assert_int_equal(replay_stat_add(st, &e), 0);
		}
		out[run] = render(st);
		replay_stat_free(st);
	}
	assert_string_equal(out[0], out[1]);
	free(out[0]);
	free(out[1]);
}

static void test_indices(void **state)
{
	/* 4 order-0 blocks, 2 order-1, 1 order-3: 4 + 4 + 8 = 16 free pages, 7 blocks */
	uint64_t nr_free[11] = { 4, 2, 0, 1 };

	(void)state;
	/* unusable(k) = (free - suitable<<k) / free, in thousandths */
	assert_int_equal(replay_unusable_index(nr_free, 11, 0), 0);
	assert_int_equal(replay_unusable_index(nr_free, 11, 1), 250);	/* 4 of 16 unusable */
	assert_int_equal(replay_unusable_index(nr_free, 11, 2), 500);	/* only the order-3 block: 8 */
	assert_int_equal(replay_unusable_index(nr_free, 11, 3), 500);
	assert_int_equal(replay_unusable_index(nr_free, 11, 4), 1000);
	/* fragmentation: -1000 while satisfiable; order 4: 1000 - (1000 + 16000/16) / 7 = 715 */
	assert_int_equal(replay_fragmentation_index(nr_free, 11, 3), -1000);
	assert_int_equal(replay_fragmentation_index(nr_free, 11, 4), 715);
	/* order 6: 1000 - (1000 + 16000/64)/7 = 1000 - 178 = 822 */
	assert_int_equal(replay_fragmentation_index(nr_free, 11, 6), 822);
	{
		uint64_t none[11] = { 0 };

		assert_int_equal(replay_unusable_index(none, 11, 0), 1000);
		assert_int_equal(replay_fragmentation_index(none, 11, 5), 0);
	}
}

static void test_pfnmap(void **state)
{
	struct pfnmap m;
	uint64_t v;

	(void)state;
	assert_int_equal(pfnmap_init(&m, 4), 0);
	for (uint64_t i = 0; i < 100000; i++)
		assert_int_equal(pfnmap_put(&m, i * 3, i), 0);
	assert_int_equal(m.nr, 100000);
	for (uint64_t i = 0; i < 100000; i += 2)
		assert_true(pfnmap_del(&m, i * 3, &v) && v == i);
	for (uint64_t i = 0; i < 100000; i++) {
		uint64_t *p = pfnmap_get(&m, i * 3);

		if (i % 2)
			assert_true(p && *p == i);
		else
			assert_null(p);
	}
	assert_false(pfnmap_del(&m, 1, NULL));
	assert_int_equal(m.nr, 50000);
	pfnmap_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_perf_summary),
		cmocka_unit_test(test_stat_extfrag_classes),
		cmocka_unit_test(test_stat_extfrag_callers),
		cmocka_unit_test(test_stat_deterministic),
		cmocka_unit_test(test_indices),
		cmocka_unit_test(test_pfnmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
