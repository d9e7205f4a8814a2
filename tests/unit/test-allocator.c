// SPDX-License-Identifier: GPL-2.0-only
/*
 * allocator/: table-driven checks of every decision point of alloc-path.md §13 on tiny
 * hand-computed zones (64 pages, pageblock_order 3 unless stated), per profile where the
 * kernels differ. Each row names the kernel function it checks. The invariant checker runs
 * after every operation; every __rmqueue row is also predicted first (undo journal) and the
 * prediction must equal the real run and leave the state hash unchanged.
 */
#include "tests/unit/allocator-test.h"

#include <errno.h>

struct rmq_case {
	const char *name;
	int profiles;
	struct tzone z;
	enum buddy_rmqueue_kind kind;
	unsigned order;
	char mt;
	uint32_t flags;
	int ctx_mode;
	long long pfn;		/* -1: nothing taken */
	const char *path;
	char fb;		/* '-' none */
	int fo;
	int own;		/* -1 no extfrag */
	const char *events;
	const char *lists;	/* after */
	const char *pb;		/* after */
};

#define NF BUDDY_ALLOC_NOFRAGMENT
#define HA BUDDY_ALLOC_HIGHATOMIC
#define NB BUDDY_ALLOC_NON_BLOCK

static const struct rmq_case rmq_cases[] = {
	/* §13 #6 __rmqueue_smallest: ascending order, list head, expand() upper halves to the heads */
	{ "__rmqueue_smallest+expand: order 0 from an order-4 block", PALL,
	  { .pb = "MMMMMMMM", .free = "M4@0 M4@16" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  0, "normal", '-', 4, -1, "Z0/0/M/1", "M0:1 M1:2 M2:4 M3:8 M4:16", "MMMMMMMM" },
	{ "__rmqueue_smallest: the smallest order that has a page wins, head first", PALL,
	  { .pb = "MMMMMMMM", .free = "M4@16 M1@6 M1@2" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  6, "normal", '-', 1, -1, "Z6/0/M/1", "M0:7 M1:2 M4:16", "MMMMMMMM" },
	{ "__rmqueue_smallest: percpu_refill is 0 for a costly order", PALL,
	  { .pb = "MMMMMMMM", .free = "M4@0" }, BUDDY_RMQ_BUDDY, 4, 'M', 0, 0,
	  0, "normal", '-', 4, -1, "Z0/4/M/0", "", "MMMMMMMM" },
	/* §13 #7/#8/#10: fallback of a whole free pageblock (order >= pageblock_order) */
	{ "__rmqueue_fallback/steal_suitable_fallback (6.1): whole block, extfrag then zone_locked", P61,
	  { .pb = "MMMMMMMM", .free = "M3@8" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  8, "claim", 'M', 3, 1, "E8/0/3/U/M/1 Z8/0/U/1", "U0:9 U1:10 U2:12", "MUMMMMMM" },
	{ "steal_suitable_fallback (6.12e) / try_to_claim_block (6.12l, 6.18): whole block, extfrag only",
	  P612E | P612 | P618,
	  { .pb = "MMMMMMMM", .free = "M3@8" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  8, "claim", 'M', 3, 1, "E8/0/3/U/M/1", "U0:9 U1:10 U2:12", "MUMMMMMM" },
	/* §13 #8 claim threshold met: free 4 + alike 0 >= 4 (half a block) */
	{ "steal_suitable_fallback (6.1): claim below pageblock order, extfrag(found) then zone_locked", P61,
	  { .pb = "MMMMMMMM", .free = "M2@4" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  4, "claim", 'M', 2, 1, "E4/0/2/U/M/1 Z4/0/U/1", "U0:5 U1:6", "UMMMMMMM" },
	{ "claim below pageblock order (6.10+): zone_locked from __rmqueue_smallest, then extfrag (W1)",
	  P612E | P612 | P618,
	  { .pb = "MMMMMMMM", .free = "M2@4" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  4, "claim", 'M', 2, 1, "Z4/0/U/1 E4/0/2/U/M/1", "U0:5 U1:6", "UMMMMMMM" },
	/* §13 #8/#9 threshold missed: free 2, movable 6 (owners Movable), alike 0 */
	{ "steal_suitable_fallback (6.1): failed claim still moves the block's free pages to start (pollution)", P61,
	  { .pb = "MMMMMMMM", .free = "M1@6" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  6, "steal", 'M', 1, 0, "E6/0/1/U/M/0 Z6/0/U/1", "U0:7", "MMMMMMMM" },
	{ "steal_suitable_fallback single (6.12e): remainder stays on the block type's list", P612E,
	  { .pb = "MMMMMMMM", .free = "M1@6" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  6, "steal", 'M', 1, 0, "E6/0/1/U/M/0", "M0:7", "MMMMMMMM" },
	{ "__rmqueue_claim fails, __rmqueue_steal (6.12l, 6.18): remainder on the fallback list", P612 | P618,
	  { .pb = "MMMMMMMM", .free = "M1@6" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  6, "steal", 'M', 1, 0, "E6/0/1/U/M/0", "M0:7", "MMMMMMMM" },
	/* §13 #7 fallback row order: UNMOVABLE tries RECLAIMABLE before MOVABLE */
	{ "fallbacks[UNMOVABLE] = {RECLAIMABLE, MOVABLE}: first non-empty in row order", PALL,
	  { .pb = "MRMMMMMM", .free = "M3@0 R3@8" }, BUDDY_RMQ_BUDDY, 3, 'U', 0, 0,
	  8, "claim", 'R', 3, 1, NULL, "M3:0", "MUMMMMMM" },
	/* §13 #7 MOVABLE below pageblock_order/2: 6.1 find_smallest; 6.12l/6.18 steal smallest */
	{ "__rmqueue_fallback find_smallest (6.1): MOVABLE cannot steal below order 2 (pbo 4)", P61,
	  { .nr_orders = 6, .pbo = 4, .pb = "UUMM", .free = "U1@2 U0@17" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  17, "steal", 'U', 0, 0, "E17/0/0/M/U/0 Z17/0/M/1", "U1:2", "UUMM" },
	{ "__rmqueue_fallback find_smallest (6.12e) / __rmqueue_steal (6.12l, 6.18): smallest buddy", P612E | P612 | P618,
	  { .nr_orders = 6, .pbo = 4, .pb = "UUMM", .free = "U1@2 U0@17" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  17, "steal", 'U', 0, 0, "E17/0/0/M/U/0", "U1:2", "UUMM" },
	{ "find_smallest (6.1): single steal moves the buddy to start's list, retry splits it there", P61,
	  { .nr_orders = 6, .pbo = 4, .pb = "UUMM", .free = "U1@2" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  2, "steal", 'U', 1, 0, "E2/0/1/M/U/0 Z2/0/M/1", "M0:3", "UUMM" },
	{ "__rmqueue_steal (6.12l, 6.18) / single (6.12e): remainder on the fallback type's list", P612E | P612 | P618,
	  { .nr_orders = 6, .pbo = 4, .pb = "UUMM", .free = "U1@2" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  2, "steal", 'U', 1, 0, "E2/0/1/M/U/0", "U0:3", "UUMM" },
	/* §13 #8 whole block in the zone: the zone starts at pfn 4, inside pageblock 0 */
	{ "move_freepages_block (6.1): a block start outside the zone is clamped; claim succeeds", P61,
	  { .start = 4, .span = 60, .pb = "MMMMMMMM", .free = "M2@4" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  4, "claim", 'M', 2, 1, "E4/0/2/U/M/1 Z4/0/U/1", "U0:5 U1:6", "UMMMMMMM" },
	{ "prep_move_freepages_block (6.10+): block not wholly in the zone, no claim, steal", P612E | P612 | P618,
	  { .start = 4, .span = 60, .pb = "MMMMMMMM", .free = "M2@4" }, BUDDY_RMQ_BUDDY, 0, 'U', 0, 0,
	  4, "steal", 'M', 2, 0, "E4/0/2/U/M/0", "M0:5 M1:6", "MMMMMMMM" },
	/* §13 #7 ALLOC_NOFRAGMENT: no fallback below pageblock order */
	{ "__rmqueue_fallback/__rmqueue_claim: ALLOC_NOFRAGMENT sets min_order = pageblock_order", PALL,
	  { .pb = "MMMMMMMM", .free = "M2@4" }, BUDDY_RMQ_BUDDY, 0, 'U', NF, 0,
	  -1, "none", '-', 0, -1, "", "M2:4", "MMMMMMMM" },
	{ "ALLOC_NOFRAGMENT still claims a whole free pageblock", P612E | P612 | P618,
	  { .pb = "MMMMMMMM", .free = "M2@4 M3@8" }, BUDDY_RMQ_BUDDY, 0, 'U', NF, 0,
	  8, "claim", 'M', 3, 1, "E8/0/3/U/M/1", "U0:9 U1:10 U2:12 M2:4", "MUMMMMMM" },
	/* §13 #13 ALLOC_HIGHATOMIC: rmqueue_buddy tries the HIGHATOMIC list first */
	{ "rmqueue_buddy: ALLOC_HIGHATOMIC takes the HIGHATOMIC list first (percpu_refill 0)", PALL,
	  { .pb = "MMHMMMMM", .free = "M1@2 H1@18" }, BUDDY_RMQ_BUDDY, 1, 'M', HA, 0,
	  18, "highatomic", '-', 1, -1, "Z18/1/H/0", "M1:2", "MMHMMMMM" },
	{ "rmqueue_buddy: without ALLOC_HIGHATOMIC the normal list is used", PALL,
	  { .pb = "MMHMMMMM", .free = "M1@2 H1@18" }, BUDDY_RMQ_BUDDY, 1, 'M', 0, 0,
	  2, "normal", '-', 1, -1, "Z2/1/M/1", "H1:18", "MMHMMMMM" },
	{ "rmqueue_buddy: ALLOC_NON_BLOCK falls back to HIGHATOMIC after __rmqueue fails", PALL,
	  { .pb = "HMMMMMMM", .free = "H1@2" }, BUDDY_RMQ_BUDDY, 0, 'M', NB, 0,
	  2, "highatomic", '-', 1, -1, "Z2/0/H/0", "H0:3", "HMMMMMMM" },
	{ "rmqueue_buddy: HIGHATOMIC pages are not used without reserve flags", PALL,
	  { .pb = "HMMMMMMM", .free = "H1@2" }, BUDDY_RMQ_BUDDY, 0, 'M', 0, 0,
	  -1, "none", '-', 0, -1, "", "H1:2", "HMMMMMMM" },
	/* §13 #11 rmqueue_mode: a refill in STEAL mode skips NORMAL and CLAIM (6.12l, 6.18) */
	{ "__rmqueue (6.12l, 6.18): RMQUEUE_STEAL skips the start type's own list", P612 | P618,
	  { .pb = "UMMMMMMM", .free = "U0@3 M0@40" }, BUDDY_RMQ_REFILL, 0, 'M', 0, 3,
	  3, "steal", 'U', 0, 0, "E3/0/0/M/U/0", "M0:40", "UMMMMMMM" },
	{ "__rmqueue: in NORMAL mode the start list comes first", PALL,
	  { .pb = "UMMMMMMM", .free = "U0@3 M0@40" }, BUDDY_RMQ_REFILL, 0, 'M', 0, 0,
	  40, "normal", '-', 0, -1, "Z40/0/M/1", "U0:3", "UMMMMMMM" },
	/* §13 #7 6.12l breaks out of the claim scan at the first order it may not claim */
	{ "__rmqueue_claim (6.12l): !can_steal breaks, then steal takes the smallest", P612 | P618,
	  { .pb = "UUMMMMMM", .free = "U0@3 U1@10" }, BUDDY_RMQ_REFILL, 0, 'M', 0, 0,
	  3, "steal", 'U', 0, 0, "E3/0/0/M/U/0", "U1:10", "UUMMMMMM" },
};

static int path_of(const char *s)
{
	for (int p = BUDDY_PATH_NONE; p <= BUDDY_PATH_PCP; p++)
		if (!strcmp(s, buddy_path_name((enum buddy_path)p)))
			return p;
	return -1;
}

static void events_of_take(const struct buddy_take *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < t->nr_events; k++) {
		char one[96];

		if (fmt_event(&t->events[k], one, sizeof(one)))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", one);
	}
}

static void run_rmq_case(const struct rmq_case *c, int prof)
{
	struct buddy_model *m = tzone_new(&c->z, prof);
	struct buddy_rmqueue_ctx ctx = { .mode = c->ctx_mode };
	struct buddy_take pred, real;
	char ev_pred[512], ev_real[512], lists[512], pb[32];
	uint64_t h0 = buddy_state_hash(m);
	struct evlog log = { .off = 0 };
	int mt = mt_of_char(c->mt);

	print_message("  [%s] %s\n", prof_names[prof], c->name);
	assert_int_equal(buddy_predict_rmqueue(m, 0, c->order, mt, c->flags, c->kind, &ctx, &pred), 0);
	assert_true(buddy_state_hash(m) == h0);	/* the prediction changed nothing */
	check_ok(m);
	buddy_set_observer(m, evlog_cb, &log);
	assert_int_equal(buddy_rmqueue(m, 0, c->order, mt, c->flags, c->kind, &ctx, &real), 0);
	check_ok(m);
	/* the prediction is the real run */
	assert_true(pred.pfn == real.pfn);
	assert_int_equal(pred.path, real.path);
	assert_int_equal(pred.fallback_mt, real.fallback_mt);
	assert_int_equal(pred.change_ownership, real.change_ownership);
	assert_int_equal(pred.ctx_mode_after, ctx.mode);
	events_of_take(&pred, ev_pred, sizeof(ev_pred));
	events_of_take(&real, ev_real, sizeof(ev_real));
	assert_string_equal(ev_pred, ev_real);
	assert_string_equal(ev_real, log.buf);
	/* the hand-computed expectation */
	assert_int_equal((long long)(real.pfn == BUDDY_PFN_NONE ? -1 : (long long)real.pfn), c->pfn);
	assert_int_equal(real.path, path_of(c->path));
	if (c->fb != '-') {
		assert_int_equal(real.fallback_mt, mt_of_char(c->fb));
		assert_int_equal(real.found_order, c->fo);
	} else if (c->pfn >= 0) {
		assert_int_equal(real.fallback_mt, BUDDY_MT_NONE);
		assert_int_equal(real.found_order, c->fo);
	}
	assert_int_equal(real.change_ownership, c->own);
	if (c->events)
		assert_string_equal(log.buf, c->events);
	dump_lists(m, lists, sizeof(lists));
	assert_string_equal(lists, c->lists);
	dump_pb(m, pb, sizeof(pb), (unsigned)strlen(c->pb));
	assert_string_equal(pb, c->pb);
	buddy_free_model(m);
}

static void test_rmqueue_table(void **state)
{
	for (size_t k = 0; k < sizeof(rmq_cases) / sizeof(rmq_cases[0]); k++)
		for (int p = 0; p < 4; p++)
			if (rmq_cases[k].profiles & (1 << p))
				run_rmq_case(&rmq_cases[k], p);
}

/* ---- __free_one_page: merging, retype on merge, head/tail ------------------------------------- */

struct free_case {
	const char *name;
	int profiles;
	struct tzone z;
	uint64_t pfn;
	unsigned order;
	char mt;		/* '-' = the pageblock's type */
	const char *lists;
	const char *pb;
};

static const struct free_case free_cases[] = {
	{ "__free_one_page: order-0 buddies merge up to the largest free block", PALL,
	  { .pb = "MMMMMMMM", .free = "M0@1 M1@2 M2@4 M3@8" }, 0, 0, '-', "M4:0", "MMMMMMMM" },
	{ "__free_one_page (6.1): merges across mergeable types at pageblock order, no retype", P61,
	  { .pb = "UMMMMMMM", .free = "M3@8" }, 0, 3, '-', "U4:0", "UMMMMMMM" },
	{ "__free_one_page (6.12+): change_pageblock_range retypes the buddy's block on a merge",
	  P612E | P612 | P618,
	  { .pb = "UMMMMMMM", .free = "M3@8" }, 0, 3, '-', "U4:0", "UUMMMMMM" },
	{ "__free_one_page: a HIGHATOMIC buddy is not mergeable above pageblock order", PALL,
	  { .pb = "UHMMMMMM", .free = "H3@8" }, 0, 3, '-', "U3:0 H3:8", "UHMMMMMM" },
	{ "buddy_merge_likely: parent's buddy free -> list tail", PALL,
	  { .pb = "MMMMMMMM", .free = "M0@17 M1@2" }, 0, 0, '-', "M0:17,0 M1:2", "MMMMMMMM" },
	{ "buddy_merge_likely: parent's buddy not free -> list head", PALL,
	  { .pb = "MMMMMMMM", .free = "M0@17 M1@4" }, 0, 0, '-', "M0:0,17 M1:4", "MMMMMMMM" },
	{ "__free_one_page: the list is the mt argument (6.1 pcp drain with a cached type)", PALL,
	  { .pb = "UMMMMMMM", .free = "" }, 2, 1, 'R', "R1:2", "UMMMMMMM" },
};

static void test_free_table(void **state)
{
	for (size_t k = 0; k < sizeof(free_cases) / sizeof(free_cases[0]); k++)
		for (int p = 0; p < 4; p++) {
			const struct free_case *c = &free_cases[k];
			struct buddy_model *m;
			char lists[512], pb[32];

			if (!(c->profiles & (1 << p)))
				continue;
			print_message("  [%s] %s\n", prof_names[p], c->name);
			m = tzone_new(&c->z, p);
			assert_int_equal(buddy_free_block(m, c->pfn, c->order, c->mt == '-' ? BUDDY_MT_ANY : mt_of_char(c->mt),
							  BUDDY_FPI_NONE), 0);
			check_ok(m);
			dump_lists(m, lists, sizeof(lists));
			assert_string_equal(lists, c->lists);
			dump_pb(m, pb, sizeof(pb), (unsigned)strlen(c->pb));
			assert_string_equal(pb, c->pb);
			buddy_free_model(m);
		}
}

/* ---- pcp: refill size, LIFO, drains ------------------------------------------------------------ */

static struct buddy_alloc_res alloc1(struct buddy_model *m, unsigned order, int mt, unsigned cpu)
{
	struct buddy_alloc_req r = { .order = order, .mt = mt, .highest_zone_type = -1, .nid = -1, .cpu = cpu,
				     .gfp = BUDDY_GFP_KSWAPD_RECLAIM | BUDDY_GFP_DIRECT_RECLAIM };
	struct buddy_alloc_res res;

	assert_int_equal(buddy_alloc(m, &r, &res), 0);
	check_ok(m);
	return res;
}

/* §13 #5 rmqueue_pcplist refill: 6.1 batch; 6.12+ nr_pcp_alloc doubles with alloc_factor */
static void test_pcp_refill_size(void **state)
{
	static const struct { int prof; uint64_t count2; const char *second; } want[] = {
		{ 0, 3, "Z4/0/M/1 Z5/0/M/1 Z6/0/M/1 Z7/0/M/1" },
		{ 1, 7, "Z4/0/M/1 Z5/0/M/1 Z6/0/M/1 Z7/0/M/1 Z8/0/M/1 Z9/0/M/1 Z10/0/M/1 Z11/0/M/1" },
		{ 2, 7, "Z4/0/M/1 Z5/0/M/1 Z6/0/M/1 Z7/0/M/1 Z8/0/M/1 Z9/0/M/1 Z10/0/M/1 Z11/0/M/1" },
		{ 3, 7, "Z4/0/M/1 Z5/0/M/1 Z6/0/M/1 Z7/0/M/1 Z8/0/M/1 Z9/0/M/1 Z10/0/M/1 Z11/0/M/1" },
	};
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16 M4@32 M4@48", .pcp_batch = 4, .pcp_high = 16 };

	for (size_t k = 0; k < 4; k++) {
		struct buddy_model *m = tzone_new(&t, want[k].prof);
		struct evlog log = { .off = 0 };
		struct buddy_pcp_stats ps;

		print_message("  [%s] rmqueue_pcplist/rmqueue_bulk refill size\n", prof_names[want[k].prof]);
		buddy_set_observer(m, evlog_cb, &log);
		assert_int_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, 0);	/* refill 4: 0..3, returns the first */
		assert_string_equal(log.buf, "Z0/0/M/1 Z1/0/M/1 Z2/0/M/1 Z3/0/M/1");
		for (uint64_t p = 1; p < 4; p++)
			assert_int_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, p);	/* pcp hits: no events */
		log.off = 0;
		log.buf[0] = '\0';
		assert_int_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, 4);
		assert_string_equal(log.buf, want[k].second);
		assert_int_equal(buddy_pcp_stats(m, 0, 0, &ps), 0);
		assert_int_equal(ps.count, want[k].count2);
		/* order 1: max(batch >> 1, 2) = 2 pages of order 1 in every profile */
		log.off = 0;
		log.buf[0] = '\0';
		alloc1(m, 1, BUDDY_MT_UNMOVABLE, 0);
		assert_int_equal(strlen(log.buf) > 0, 1);
		assert_int_equal(buddy_pcp_stats(m, 0, 0, &ps), 0);
		assert_int_equal(ps.count, want[k].count2 + 2);
		buddy_free_model(m);
	}
}

/* §13 #4: frees go to the pcp list head, allocations take the head (LIFO), per CPU */
static void test_pcp_lifo(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16 M4@32 M4@48", .pcp_batch = 4, .pcp_high = 16,
			   .nr_cpus = 2 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		uint64_t a = alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, b = alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn;
		struct evlog log = { .off = 0 };

		assert_int_equal(buddy_free(m, a, 0, 0, 0), 0);
		assert_int_equal(buddy_free(m, b, 0, 0, 0), 0);
		check_ok(m);
		buddy_set_observer(m, evlog_cb, &log);
		assert_int_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, b);
		assert_int_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 0).pfn, a);
		assert_string_equal(log.buf, "");	/* a pcp hit emits no zone_locked */
		/* another CPU refills from the buddy */
		assert_int_not_equal(alloc1(m, 0, BUDDY_MT_MOVABLE, 1).pfn, a);
		assert_int_not_equal(log.off, 0);
		buddy_free_model(m);
	}
}

/* free_pcppages_bulk: count >= high drains the oldest pages (list tail) of the freeing list
 * first, round-robin; 6.1 nr_pcp_free and 6.12 nr_pcp_free both give 2 here */
static void test_pcp_drain_order(void **state)
{
	struct tzone t = { .pb = "UMMMMMMM", .pcp_batch = 2, .pcp_high = 4 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct evlog log = { .off = 0 };

		buddy_set_observer(m, evlog_cb, &log);
		assert_int_equal(buddy_free(m, 9, 0, 0, 0), 0);	/* Movable list */
		assert_int_equal(buddy_free(m, 1, 0, 0, 0), 0);	/* Unmovable list */
		assert_int_equal(buddy_free(m, 11, 0, 0, 0), 0);	/* Movable */
		assert_string_equal(log.buf, "");
		assert_int_equal(buddy_free(m, 13, 0, 0, 0), 0);	/* count 4 >= high 4: drain 2 */
		check_ok(m);
		/* pindex of the freeing list (Movable, 1) first, tail first: 9 then 11 */
		assert_string_equal(log.buf, "D9/0/M D11/0/M");
		log.off = 0;
		log.buf[0] = '\0';
		assert_int_equal(buddy_drain_pcp(m, 0, 0), 0);	/* drain_pages_zone: pindex 0 first */
		assert_string_equal(log.buf, "D1/0/U D13/0/M");
		check_ok(m);
		buddy_free_model(m);
	}
}

/* spec-review W2: the drain's migratetype: 6.1 the cached type from free time, 6.12+ the block
 * type at drain time (free_pcppages_bulk) */
static void test_pcp_drain_migratetype(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .pcp_batch = 2, .pcp_high = 16 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct evlog log = { .off = 0 };
		char lists[256];
		int cpu = -1, mt = -1;

		assert_int_equal(buddy_free(m, 3, 0, 0, 0), 0);
		assert_int_equal(buddy_set_pageblock_type(m, 3, BUDDY_MT_UNMOVABLE), 0);
		buddy_set_observer(m, evlog_cb, &log);
		assert_int_equal(buddy_drain_pcp(m, -1, -1), 0);
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		if (p == 0) {
			assert_string_equal(log.buf, "D3/0/M");
			assert_string_equal(lists, "M0:3");
		} else {
			assert_string_equal(log.buf, "D3/0/U");
			assert_string_equal(lists, "U0:3");
		}
		/* follow mode: the drained pfn is found on the pcp lists, whatever the event's type */
		assert_int_equal(buddy_free(m, 5, 0, 0, 0), 0);
		assert_int_equal(buddy_pcp_remove(m, -1, 5, 0, BUDDY_MT_NONE, &cpu, &mt), 0);
		assert_int_equal(cpu, 0);
		assert_int_equal(mt, BUDDY_MT_UNMOVABLE);	/* the block's type at free time */
		buddy_free_model(m);
	}
}

/* decay_pcp_high (6.7+): high -= high/8 towards high_min, excess drained in batches */
static void test_pcp_decay(void **state)
{
	for (int p = 0; p < 4; p++) {
		struct buddy_config c;
		struct buddy_zone_config zc = { .name = "Normal", .zone_type = BUDDY_ZONE_NORMAL, .spanned = 64 };
		struct buddy_pcp_config pc = { .batch = 2, .high = 16, .high_min = 4, .high_max = 16 };
		struct buddy_model *m;
		struct buddy_pcp_stats ps;
		struct evlog log = { .off = 0 };
		int err;

		buddy_config_init(&c);
		buddy_profile_by_name(prof_names[p], &c.profile);
		c.nr_orders = 5;
		c.pageblock_order = 3;
		c.nr_zones = 1;
		c.zones = &zc;
		zc.pcp = &pc;
		m = buddy_new(&c, &err, NULL, 0);
		assert_non_null(m);
		for (uint64_t pfn = 0; pfn < 12; pfn++)
			assert_int_equal(buddy_pcp_add(m, 0, pfn, 0, BUDDY_MT_MOVABLE, false, -1), 0);
		check_ok(m);
		buddy_set_observer(m, evlog_cb, &log);
		/* 6.12+: high = max(12 - 64, 16 - 2, 4) = 14: nothing to drain; then 13, 12, 11 ... */
		assert_int_equal(buddy_decay_pcp_high(m, 0, 0), p == 0 ? 0 : 1);
		assert_int_equal(buddy_pcp_stats(m, 0, 0, &ps), 0);
		assert_int_equal(ps.high, p == 0 ? 16 : 14);
		assert_string_equal(log.buf, "");
		for (int k = 0; k < 3; k++)
			buddy_decay_pcp_high(m, 0, 0);	/* 13, 12, 11: one page over */
		check_ok(m);
		assert_int_equal(buddy_pcp_stats(m, 0, 0, &ps), 0);
		assert_int_equal(ps.count, p == 0 ? 12 : 11);
		assert_string_equal(log.buf, p == 0 ? "" : "D0/0/M");	/* the oldest page, from the tail */
		buddy_free_model(m);
	}
}

/* ---- watermarks, zones, boost, highatomic ----------------------------------------------------- */

/* §13 #3 zone_watermark_fast: the fast path at low fails, the slow path at min passes */
static void test_watermark_slowpath(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16 M4@32 M4@48", .wmin = 40, .wlow = 62, .whigh = 63 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_alloc_req r = { .order = 0, .gfp = BUDDY_GFP_MOVABLE | BUDDY_GFP_KSWAPD_RECLAIM, .mt = -2,
					     .highest_zone_type = -1, .nid = -1 };
		struct buddy_alloc_res res;

		assert_int_equal(buddy_alloc(m, &r, &res), 0);	/* 64 > 62: fast */
		assert_false(res.slowpath);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);	/* 63 > 62: fast */
		assert_false(res.slowpath);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);	/* 62 <= 62: slow path at min */
		assert_true(res.slowpath);
		r.no_slowpath = true;
		assert_int_equal(buddy_alloc(m, &r, &res), -ENOMEM);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* §13 #1/#2: ALLOC_NOFRAGMENT makes a Normal allocation prefer DMA32 over fragmenting Normal */
static void test_nofragment_zone_preference(void **state)
{
	for (int p = 0; p < 4; p++) {
		struct buddy_config c;
		struct buddy_zone_config zc[2];
		struct buddy_model *m;
		char eb[200];
		int err;
		struct buddy_alloc_req r = { .order = 0, .gfp = BUDDY_GFP_KSWAPD_RECLAIM | BUDDY_GFP_DIRECT_RECLAIM,
					     .mt = -2, .highest_zone_type = -1, .nid = -1 };
		struct buddy_alloc_res res;

		buddy_config_init(&c);
		buddy_profile_by_name(prof_names[p], &c.profile);
		memset(zc, 0, sizeof(zc));
		strcpy(zc[0].name, "DMA32");
		zc[0].zone_type = BUDDY_ZONE_DMA32;
		zc[0].start_pfn = 0;
		zc[0].spanned = 64;
		strcpy(zc[1].name, "Normal");
		zc[1].zone_type = BUDDY_ZONE_NORMAL;
		zc[1].start_pfn = 64;
		zc[1].spanned = 64;
		c.nr_orders = 5;
		c.pageblock_order = 3;
		c.nr_zones = 2;
		c.zones = zc;
		c.no_zone_batchsize_defaults = true;
		m = buddy_new(&c, &err, eb, sizeof(eb));
		assert_non_null(m);
		/* DMA32: an Unmovable block with free pages; Normal: only Movable free pages */
		assert_int_equal(buddy_seed_pageblock(m, 0, BUDDY_MT_UNMOVABLE, false), 0);
		assert_int_equal(buddy_seed_free_block(m, 4, 2, BUDDY_MT_UNMOVABLE), 0);
		assert_int_equal(buddy_seed_free_block(m, 76, 2, BUDDY_MT_MOVABLE), 0);
		assert_int_equal(buddy_seed_free_block(m, 82, 1, BUDDY_MT_MOVABLE), 0);
		check_ok(m);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.zone, 0);		/* DMA32, though Normal has 6 free pages */
		assert_int_equal(res.pfn, 4);
		assert_true(res.alloc_flags & BUDDY_ALLOC_NOFRAGMENT);
		/* GFP_DMA32 never looks at Normal */
		r.gfp |= BUDDY_GFP_DMA32;
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.zone, 0);
		r.gfp &= ~BUDDY_GFP_DMA32;
		assert_int_equal(res.pfn, 5);
		/* DMA32 exhausted: the second pass drops NOFRAGMENT and falls back in Normal */
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.pfn, 6);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.pfn, 7);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.zone, 1);
		assert_false(res.alloc_flags & BUDDY_ALLOC_NOFRAGMENT);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* §13 #2 get_page_from_freelist on two nodes: with ALLOC_NOFRAGMENT, reaching a remote node
 * restarts the walk without it (locality first); 6.18 with vm.defrag_mode does not restart */
static void test_numa_nofragment_restart(void **state)
{
	for (int p = 0; p < 5; p++) {
		int prof = p < 4 ? p : 3;
		bool defrag = p == 4;
		struct buddy_config c;
		struct buddy_zone_config zc[3];
		struct buddy_model *m;
		int err;
		struct buddy_alloc_req r = { .order = 0, .gfp = BUDDY_GFP_KSWAPD_RECLAIM | BUDDY_GFP_DIRECT_RECLAIM,
					     .mt = -2, .highest_zone_type = -1, .nid = 0 };
		struct buddy_alloc_res res;

		print_message("  [%s%s] remote-node restart\n", prof_names[prof], defrag ? " defrag_mode" : "");
		buddy_config_init(&c);
		buddy_profile_by_name(prof_names[prof], &c.profile);
		memset(zc, 0, sizeof(zc));
		strcpy(zc[0].name, "DMA32");
		zc[0].zone_type = BUDDY_ZONE_DMA32;
		zc[0].spanned = 64;
		strcpy(zc[1].name, "Normal");
		zc[1].zone_type = BUDDY_ZONE_NORMAL;
		zc[1].start_pfn = 64;
		zc[1].spanned = 64;
		strcpy(zc[2].name, "Normal");
		zc[2].node = 1;
		zc[2].zone_type = BUDDY_ZONE_NORMAL;
		zc[2].start_pfn = 128;
		zc[2].spanned = 64;
		c.nr_orders = 5;
		c.pageblock_order = 3;
		c.nr_zones = 3;
		c.zones = zc;
		c.no_zone_batchsize_defaults = true;
		c.tun.defrag_mode = defrag;
		m = buddy_new(&c, &err, NULL, 0);
		assert_non_null(m);
		/* node 0: DMA32 empty, Normal only a sub-pageblock Movable buddy; node 1: a free block */
		assert_int_equal(buddy_seed_free_block(m, 68, 2, BUDDY_MT_MOVABLE), 0);
		assert_int_equal(buddy_seed_free_block(m, 136, 3, BUDDY_MT_MOVABLE), 0);
		check_ok(m);
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		check_ok(m);
		if (defrag) {
			assert_int_equal(res.zone, 2);	/* whole block claimed on node 1 */
			assert_true(res.alloc_flags & BUDDY_ALLOC_NOFRAGMENT);
		} else {
			assert_int_equal(res.zone, 1);	/* fragmenting steal on the local node */
			assert_int_equal(res.pfn, 68);
			assert_false(res.alloc_flags & BUDDY_ALLOC_NOFRAGMENT);
		}
		buddy_free_model(m);
	}
}

/* §13 #3 __zone_watermark_unusable_free: 6.1 subtracts nr_reserved_highatomic (8), 6.12+ only
 * the free HIGHATOMIC pages (6) */
static void test_watermark_highatomic_term(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16 M4@32 M4@48", .wmin = 8, .wlow = 55, .whigh = 55,
			   .managed = 1000 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_alloc_req r = { .order = 1, .mt = BUDDY_MT_UNMOVABLE, .highest_zone_type = -1, .nid = -1,
					     .alloc_flags = BUDDY_ALLOC_WMARK_MIN | BUDDY_ALLOC_MIN_RESERVE |
							    BUDDY_ALLOC_NON_BLOCK | BUDDY_ALLOC_HIGHATOMIC };
		struct buddy_alloc_res res;
		struct buddy_zone_stats st;

		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		check_ok(m);
		assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
		assert_int_equal(st.nr_reserved_highatomic, 8);
		assert_int_equal(st.nr_free_highatomic, 6);
		assert_int_equal(st.nr_free_pages, 62);
		r.order = 0;
		r.alloc_flags = BUDDY_ALLOC_WMARK_LOW;
		assert_int_equal(buddy_alloc(m, &r, &res), p == 0 ? -ENOMEM : 0);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* §13 #12 boost_watermark: 6.1/6.12e once per fallback; 6.12l/6.18 once per claim attempt */
static void test_boost(void **state)
{
	/* max_boost = max(8, 8 * 15000 / 10000 = 12) = 12 */
	struct tzone t = { .pb = "MMMMMMMM", .free = "M1@6 M0@9", .whigh = 8 };
	static const uint64_t want[4] = { 8, 8, 12, 12 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_take tk;
		struct buddy_zone_stats st;

		print_message("  [%s] boost_watermark\n", prof_names[p]);
		assert_int_equal(buddy_rmqueue(m, 0, 0, BUDDY_MT_UNMOVABLE, BUDDY_ALLOC_KSWAPD, BUDDY_RMQ_BUDDY, NULL,
					       &tk), 0);
		check_ok(m);
		assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
		assert_int_equal(st.watermark_boost, want[p]);
		assert_true(st.boosted_flag);
		/* 6.12l/6.18: two failed claims (orders 1, 0), then the smallest steal */
		assert_int_equal(tk.pfn, p >= 2 ? 9 : 6);
		buddy_free_model(m);
	}
}

/* §13 #13 reserve_highatomic_pageblock: 6.1 limit managed/100 + pageblock; 6.12+ none when
 * managed/100 < pageblock_nr_pages, else ALIGN(managed/100, pageblock) */
static void test_highatomic_reserve(void **state)
{
	for (int p = 0; p < 4; p++)
		for (int big = 0; big < 2; big++) {
			struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16 M4@32 M4@48", .wmin = 8, .wlow = 63,
					   .whigh = 63, .managed = big ? 1000 : 64 };
			struct buddy_model *m = tzone_new(&t, p);
			struct buddy_alloc_req r = { .order = 1, .gfp = BUDDY_GFP_HIGH | BUDDY_GFP_KSWAPD_RECLAIM,
						     .mt = BUDDY_MT_UNMOVABLE, .highest_zone_type = -1, .nid = -1 };
			struct buddy_alloc_res res;
			struct buddy_zone_stats st;
			bool reserves = p == 0 || big;

			print_message("  [%s] reserve_highatomic_pageblock, managed %d\n", prof_names[p], big ? 1000 : 64);
			assert_int_equal(buddy_alloc(m, &r, &res), 0);
			check_ok(m);
			assert_true(res.slowpath);
			assert_true(res.alloc_flags & BUDDY_ALLOC_HIGHATOMIC);
			assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
			assert_int_equal(st.nr_reserved_highatomic, reserves ? 8 : 0);
			assert_int_equal(buddy_pageblock_type(m, res.pfn), reserves ? BUDDY_MT_HIGHATOMIC : BUDDY_MT_UNMOVABLE);
			if (reserves) {
				/* unreserve: back to the requester's type, one block per call */
				assert_int_equal(buddy_unreserve_highatomic(m, BUDDY_MT_MOVABLE, BUDDY_ZONE_NORMAL, true), 1);
				check_ok(m);
				assert_int_equal(buddy_pageblock_type(m, res.pfn), BUDDY_MT_MOVABLE);
				assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
				assert_int_equal(st.nr_reserved_highatomic, 0);
			}
			buddy_free_model(m);
		}
}

/* ---- follow-mode primitives ----------------------------------------------------------------------- */

static void test_follow_primitives(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16", .pcp_batch = 2, .pcp_high = 8, .nr_cpus = 2 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		unsigned fo = 0;
		char lists[256];
		struct buddy_pfn_info info;
		uint64_t h;

		/* take_block checks the model: the block at pfn 1 is a tail, not a head */
		h = buddy_state_hash(m);
		assert_int_equal(buddy_take_block(m, 1, 0, BUDDY_MT_MOVABLE, BUDDY_MT_ANY, BUDDY_MT_MOVABLE, &fo),
				 FS_ERRNO__CONTRADICTION);
		assert_non_null(strstr(buddy_last_error(m), "pfn 0x1 order 0"));
		assert_non_null(strstr(buddy_last_error(m), "inside 0 free, order 4, on the Movable list"));
		assert_true(buddy_state_hash(m) == h);
		assert_int_equal(buddy_take_block(m, 0, 0, BUDDY_MT_UNMOVABLE, BUDDY_MT_ANY, BUDDY_MT_MOVABLE, &fo),
				 FS_ERRNO__CONTRADICTION);
		assert_int_equal(buddy_take_block(m, 0, 0, BUDDY_MT_MOVABLE, BUDDY_MT_ANY, BUDDY_MT_MOVABLE, &fo), 0);
		assert_int_equal(fo, 4);
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		assert_string_equal(lists, "M0:1 M1:2 M2:4 M3:8 M4:16");
		/* onto cpu 1's pcp (a refill appends at the tail), then the pcp take */
		assert_int_equal(buddy_pcp_add(m, 1, 0, 0, BUDDY_MT_MOVABLE, true, BUDDY_MT_NONE), 0);
		check_ok(m);
		assert_int_equal(buddy_pfn_info(m, 0, &info), 0);
		assert_int_equal(info.state, BUDDY_PFN_PCP_HEAD);
		assert_int_equal(info.cpu, 1);
		assert_int_equal(buddy_pcp_remove(m, 0, 0, 0, BUDDY_MT_MOVABLE, NULL, NULL), FS_ERRNO__CONTRADICTION);
		assert_int_equal(buddy_pcp_drain_page(m, 1, 0, 0, BUDDY_MT_ANY), 0);
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		assert_string_equal(lists, "M4:0,16");
		/* freeing a free block contradicts */
		assert_int_equal(buddy_free_block(m, 16, 4, BUDDY_MT_ANY, 0), FS_ERRNO__CONTRADICTION);
		assert_int_equal(buddy_pfn_info(m, 21, &info), 0);
		assert_int_equal(info.state, BUDDY_PFN_FREE_TAIL);
		assert_int_equal(info.head, 16);
		/* resync: force pfn 21 allocated, then insert it free without merging */
		assert_int_equal(buddy_resync_allocated(m, 21, 0, BUDDY_MT_MOVABLE, NULL), 0);
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		assert_string_equal(lists, "M0:20 M1:22 M2:16 M3:24 M4:0");
		assert_int_equal(buddy_resync_free(m, 21, 0, BUDDY_MT_MOVABLE, true), 0);
		check_ok(m);
		/* a partial free of an allocated block splits the model's record (alloc_pages_exact) */
		assert_int_equal(buddy_take_block(m, 0, 2, BUDDY_MT_MOVABLE, BUDDY_MT_ANY, BUDDY_MT_UNMOVABLE, NULL), 0);
		assert_int_equal(buddy_free_block(m, 3, 0, BUDDY_MT_ANY, BUDDY_FPI_TO_TAIL), 0);
		check_ok(m);
		assert_int_equal(buddy_pfn_info(m, 2, &info), 0);
		assert_int_equal(info.state, BUDDY_PFN_ALLOCATED);
		assert_int_equal(info.head, 2);
		assert_int_equal(info.mt, BUDDY_MT_UNMOVABLE);
		buddy_free_model(m);
	}
}

/* 6.10+ claims below pageblock order: zone_locked(P) comes first, extfrag(P) second; replay
 * applies both at the extfrag with buddy_apply_fallback(claim=true) */
static void test_apply_fallback(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M1@6" };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_take tk;
		char lists[128], pb[16];

		/* the kernel claimed where the model's alike approximation would not */
		assert_int_equal(buddy_apply_fallback(m, p == 0 ? 6 : 6, 1, 0, BUDDY_MT_UNMOVABLE, BUDDY_MT_MOVABLE, 0,
						      true, &tk), 0);
		check_ok(m);
		dump_pb(m, pb, sizeof(pb), 1);
		assert_string_equal(pb, "U");
		if (p == 0) {	/* 6.1: moved and retyped; the page is taken by the next zone_locked */
			assert_true(tk.pfn == BUDDY_PFN_NONE);
			assert_int_equal(buddy_take_block(m, 6, 0, BUDDY_MT_UNMOVABLE, BUDDY_MT_ANY, BUDDY_MT_UNMOVABLE, NULL),
					 0);
		} else {
			assert_int_equal(tk.pfn, 6);
			assert_int_equal(tk.path, BUDDY_PATH_CLAIM);
			assert_int_equal(tk.change_ownership, 1);
		}
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		assert_string_equal(lists, "U0:7");
		buddy_free_model(m);
	}
}

/* pageblock isolation: 6.18 keeps the type under a separate isolate bit (get_pfnblock_migratetype);
 * frees into an isolated block bypass the pcp (free_unref_page) and are not counted free */
static void test_isolate(void **state)
{
	struct tzone t = { .pb = "MURMMMMM", .free = "M3@0", .pcp_batch = 2, .pcp_high = 16 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_zone_stats st;
		char lists[128];
		uint64_t moved = 0, counts[BUDDY_MT_NR];

		assert_int_equal(buddy_set_pageblock_isolate(m, 0, true), 0);
		assert_int_equal(buddy_move_freepages_block(m, 0, BUDDY_MT_ANY, BUDDY_MT_ISOLATE, BUDDY_MOVE_PROFILE, &moved,
							    NULL), 0);
		assert_int_equal(moved, 8);
		assert_int_equal(buddy_set_pageblock_isolate(m, 16, true), 0);
		assert_int_equal(buddy_pageblock_type(m, 16), BUDDY_MT_ISOLATE);
		assert_int_equal(buddy_free(m, 17, 0, 0, 0), 0);
		check_ok(m);
		dump_lists(m, lists, sizeof(lists));
		assert_string_equal(lists, "I0:17 I3:0");
		assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
		assert_int_equal(st.nr_free_pages, 0);
		assert_int_equal(st.nr_pcp_pages, 0);
		assert_int_equal(buddy_pageblock_counts(m, 0, counts), 0);
		assert_int_equal(counts[BUDDY_MT_ISOLATE], 2);
		assert_int_equal(buddy_set_pageblock_isolate(m, 16, false), 0);
		/* 6.18 restores the type kept under the bit; earlier kernels' callers say what to restore */
		assert_int_equal(buddy_pageblock_type(m, 16), p == 3 ? BUDDY_MT_RECLAIMABLE : BUDDY_MT_MOVABLE);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* a whole allocation predicted under the undo journal: a pcp hit and a refill */
static void test_predict_alloc(void **state)
{
	struct tzone t = { .pb = "MMMMMMMM", .free = "M4@0 M4@16", .pcp_batch = 4, .pcp_high = 16 };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct buddy_alloc_req r = { .order = 0, .gfp = BUDDY_GFP_MOVABLE | BUDDY_GFP_KSWAPD_RECLAIM, .mt = -2,
					     .highest_zone_type = -1, .nid = -1 };
		struct buddy_alloc_res pres, res;
		struct buddy_take tk;
		uint64_t h = buddy_state_hash(m);

		assert_int_equal(buddy_predict_alloc(m, &r, &pres, &tk), 0);
		assert_true(buddy_state_hash(m) == h);
		assert_int_equal(pres.pfn, 0);
		assert_true(pres.from_pcp);
		assert_int_equal(tk.path, BUDDY_PATH_NORMAL);	/* the refill's first __rmqueue */
		assert_int_equal(tk.nr_events, 4);		/* four zone_locked of the refill */
		assert_int_equal(buddy_alloc(m, &r, &res), 0);
		assert_int_equal(res.pfn, 0);
		assert_int_equal(buddy_predict_alloc(m, &r, &pres, &tk), 0);
		assert_int_equal(pres.pfn, 1);
		assert_int_equal(tk.path, BUDDY_PATH_PCP);
		assert_int_equal(tk.nr_events, 0);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* what-if tunables: fallback table, pageblock_order, watermark_boost_factor, pcp batch/high */
static void test_tunables(void **state)
{
	for (int p = 0; p < 4; p++) {
		struct buddy_config c;
		struct buddy_zone_config zc = { .name = "Normal", .zone_type = BUDDY_ZONE_NORMAL, .spanned = 64,
						.wmark_high = 8 };
		struct buddy_model *m;
		struct buddy_take tk;
		struct buddy_zone_stats st;
		struct buddy_pcp_stats ps;
		int err;

		buddy_config_init(&c);
		buddy_profile_by_name(prof_names[p], &c.profile);
		c.nr_orders = 5;
		c.pageblock_order = 3;
		c.nr_zones = 1;
		c.zones = &zc;
		c.tun.pageblock_order = 2;		/* 16 blocks of 4 */
		c.tun.override_fallbacks = true;	/* Movable falls back to Unmovable only */
		c.tun.fallbacks[BUDDY_MT_UNMOVABLE][0] = BUDDY_MT_RECLAIMABLE;
		c.tun.fallbacks[BUDDY_MT_UNMOVABLE][1] = BUDDY_MT_MOVABLE;
		c.tun.fallbacks[BUDDY_MT_MOVABLE][0] = BUDDY_MT_UNMOVABLE;
		c.tun.fallbacks[BUDDY_MT_MOVABLE][1] = -1;
		c.tun.fallbacks[BUDDY_MT_RECLAIMABLE][0] = BUDDY_MT_UNMOVABLE;
		c.tun.fallbacks[BUDDY_MT_RECLAIMABLE][1] = BUDDY_MT_MOVABLE;
		c.tun.watermark_boost_factor = 0;
		c.tun.pcp_batch = 5;
		c.tun.pcp_high = 20;
		m = buddy_new(&c, &err, NULL, 0);
		assert_non_null(m);
		assert_int_equal(buddy_pageblock_order(m), 2);
		assert_int_equal(buddy_pcp_stats(m, 0, 0, &ps), 0);
		assert_int_equal(ps.batch, 5);
		assert_int_equal(ps.high, 20);
		assert_int_equal(buddy_seed_pageblock(m, 0, BUDDY_MT_RECLAIMABLE, false), 0);
		assert_int_equal(buddy_seed_pageblock(m, 4, BUDDY_MT_UNMOVABLE, false), 0);
		assert_int_equal(buddy_seed_free_block(m, 0, 2, BUDDY_MT_RECLAIMABLE), 0);
		assert_int_equal(buddy_seed_free_block(m, 4, 2, BUDDY_MT_UNMOVABLE), 0);
		check_ok(m);
		/* with the kernel's table Reclaimable would come first */
		assert_int_equal(buddy_rmqueue(m, 0, 2, BUDDY_MT_MOVABLE, BUDDY_ALLOC_KSWAPD, BUDDY_RMQ_BUDDY, NULL, &tk), 0);
		assert_int_equal(tk.pfn, 4);
		assert_int_equal(tk.fallback_mt, BUDDY_MT_UNMOVABLE);
		assert_int_equal(buddy_zone_stats(m, 0, &st), 0);
		assert_int_equal(st.watermark_boost, 0);
		check_ok(m);
		buddy_free_model(m);
	}
}

/* ---- profiles ------------------------------------------------------------------------------------- */

static void test_profiles(void **state)
{
	struct buddy_profile pr;

	assert_int_equal(buddy_profile_by_name("linux-6.1", &pr), 0);
	assert_int_equal(pr.fallback, BUDDY_FB_61);
	assert_int_equal(buddy_profile_by_name("6.18", &pr), 0);
	assert_int_equal(pr.fallback, BUDDY_FB_618);
	assert_int_equal(buddy_profile_by_name("linux-6.12l", &pr), 0);
	assert_string_equal(pr.name, "linux-6.12");
	assert_int_equal(buddy_profile_by_name("linux-5.4", &pr), FS_ERRNO__UNKNOWN_PROFILE);
	assert_int_equal(buddy_profile_from_release("6.12.0-28-amd64", NULL, &pr), 0);
	assert_string_equal(pr.name, "linux-6.12e");
	assert_int_equal(buddy_profile_from_release("6.12.28", NULL, &pr), 0);
	assert_string_equal(pr.name, "linux-6.12e");
	assert_false(pr.highatomic_needs_gfp_high);
	assert_int_equal(buddy_profile_from_release("6.12.29+deb13-amd64", NULL, &pr), 0);
	assert_string_equal(pr.name, "linux-6.12");
	assert_false(pr.highatomic_needs_gfp_high);
	assert_int_equal(buddy_profile_from_release("6.12.117", NULL, &pr), 0);
	assert_true(pr.highatomic_needs_gfp_high);
	assert_int_equal(buddy_profile_from_release("6.1.0-28-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
						    &pr), 0);
	assert_string_equal(pr.name, "linux-6.1");
	assert_string_equal(pr.release, "6.1.119");
	assert_int_equal(pr.nr_pcp_thp_lists, 2);
	assert_false(pr.highatomic_needs_gfp_high);
	assert_int_equal(buddy_profile_from_release("6.18.44-fc", NULL, &pr), 0);
	assert_string_equal(pr.name, "linux-6.18");
	assert_int_equal(buddy_profile_from_release("5.15.0", NULL, &pr), FS_ERRNO__UNKNOWN_PROFILE);
	assert_int_equal(buddy_mt_role_from_name("HighAtomic"), BUDDY_MT_HIGHATOMIC);
	assert_int_equal(buddy_mt_role_from_name("MIGRATE_ISOLATE"), BUDDY_MT_ISOLATE);
}

/* the trace's migratetype numbering is configuration, not a constant */
static void test_mt_mapping(void **state)
{
	struct buddy_config c;
	struct buddy_zone_config zc = { .name = "Normal", .zone_type = BUDDY_ZONE_NORMAL, .spanned = 64 };
	const struct buddy_mt_map_entry mts[] = {
		{ "Unmovable", 0, BUDDY_MT_NONE }, { "Movable", 1, BUDDY_MT_NONE }, { "Reclaimable", 2, BUDDY_MT_NONE },
		{ "HighAtomic", 3, BUDDY_MT_NONE }, { "CMA", 4, BUDDY_MT_NONE }, { "Isolate", 5, BUDDY_MT_NONE },
	};
	struct buddy_model *m;
	int err;

	buddy_config_init(&c);
	c.nr_orders = 5;
	c.pageblock_order = 3;
	c.nr_zones = 1;
	c.zones = &zc;
	c.nr_mt = 6;
	c.mt = mts;
	m = buddy_new(&c, &err, NULL, 0);
	assert_non_null(m);
	assert_int_equal(buddy_mt_from_kernel(m, 5), BUDDY_MT_ISOLATE);
	assert_int_equal(buddy_mt_to_kernel(m, BUDDY_MT_ISOLATE), 5);
	assert_int_equal(buddy_mt_from_kernel(m, 4), BUDDY_MT_CMA);
	buddy_free_model(m);
	/* a bad configuration is refused with a message */
	c.pageblock_order = 7;
	{
		char eb[128];

		assert_null(buddy_new(&c, &err, eb, sizeof(eb)));
		assert_int_equal(err, FS_ERRNO__BAD_CONFIG);
		assert_non_null(strstr(eb, "pageblock_order 7"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmqueue_table),
		cmocka_unit_test(test_free_table),
		cmocka_unit_test(test_pcp_refill_size),
		cmocka_unit_test(test_pcp_lifo),
		cmocka_unit_test(test_pcp_drain_order),
		cmocka_unit_test(test_pcp_drain_migratetype),
		cmocka_unit_test(test_pcp_decay),
		cmocka_unit_test(test_watermark_slowpath),
		cmocka_unit_test(test_nofragment_zone_preference),
		cmocka_unit_test(test_numa_nofragment_restart),
		cmocka_unit_test(test_watermark_highatomic_term),
		cmocka_unit_test(test_boost),
		cmocka_unit_test(test_highatomic_reserve),
		cmocka_unit_test(test_follow_primitives),
		cmocka_unit_test(test_apply_fallback),
		cmocka_unit_test(test_isolate),
		cmocka_unit_test(test_tunables),
		cmocka_unit_test(test_predict_alloc),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_mt_mapping),
	};
	return cmocka_run_group_tests_name("allocator", tests, NULL, NULL);
}
