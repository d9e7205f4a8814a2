// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay/ follow mode on a hand-made 6.18 trace: one 32 MiB zone, a snapshot, and event
 * sequences whose outcome is computed by hand in the comments (takes, a whole-block claim
 * inside a pcp refill, pcp allocation, frees and drains with merging), then the end state.
 * Also: a contradiction is counted by cause; the output is deterministic; checkpoints seed an
 * identical model.
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

#include "allocator/buddy.h"
#include "replay/engine.h"
#include "replay/timeline.h"
#include "traces/trace.h"
#include "util/jsonw.h"

#define BASE 0x10000ULL
#define NPB 16			/* pageblocks: 16 x 512 pages */

static struct trace_name_value mts[] = {
	{ "Unmovable", 0 }, { "Movable", 1 }, { "Reclaimable", 2 }, { "HighAtomic", 3 }, { "Isolate", 4 },
};
static uint64_t lowmem[4];
static struct trace_zone zone = {
	.node = 0, .zone_idx = 2, .name = "Normal", .start_pfn = BASE, .spanned = NPB * 512,
	.present = NPB * 512, .managed = NPB * 512, .wmark_min = 16, .wmark_low = 20, .wmark_high = 24,
	.nr_lowmem_reserve = 4, .lowmem_reserve = lowmem,
};

static void header(struct trace_header *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->kernel_release, sizeof(h->kernel_release), "6.18.44-test");
	h->page_size = 4096;
	h->pageblock_order = 9;
	h->nr_orders = 11;
	h->nr_cpus = 2;
	h->nr_pageblock_bits = 8;
	h->nr_migratetypes = 5;
	h->migratetypes = mts;
	h->nr_zones = 1;
	h->zones = &zone;
}

struct snap {
	struct trace_snapshot s;
	struct trace_pageblocks pb;
	uint8_t types[NPB];
	struct trace_free_block fb[32];
};

static void snap_init(struct snap *sn, enum trace_snapshot_which which)
{
	memset(sn, 0, sizeof(*sn));
	sn->s.which = which;
	sn->s.method = TRACE_SNAP_BPF_LOCKED;
	sn->s.flags = TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
		      TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_PCP | TRACE_SNAPF_EXACT;
	sn->pb.zone = 0;
	sn->pb.first_pfn = BASE;
	sn->pb.nr = NPB;
	sn->pb.types = sn->types;
	sn->s.nr_pageblock_zones = 1;
	sn->s.pageblocks = &sn->pb;
	sn->s.free_blocks = sn->fb;
}

static void add_free(struct snap *sn, uint64_t pfn, uint8_t order, int8_t mt)
{
	sn->fb[sn->s.nr_free_blocks++] = (struct trace_free_block){ .pfn = pfn, .zone = 0, .order = order, .mt = mt };
}

/* Start: pageblocks 0..13 Movable, 14..15 Unmovable; free: two order-10 Movable blocks at
 * BASE and BASE+0x400 (that list order), one order-9 Unmovable block at BASE+0x1c00. */
static void start_snapshot(struct snap *sn)
{
	snap_init(sn, TRACE_SNAP_START);
	for (int i = 0; i < NPB; i++)
		sn->types[i] = i < 14 ? 1 : 0;
	add_free(sn, BASE, 10, 1);
	add_free(sn, BASE + 0x400, 10, 1);
	add_free(sn, BASE + 0x1c00, 9, 0);
}

static struct trace_event E[4096];
static unsigned nE;

static void ev(uint8_t kind, uint32_t cpu, uint64_t pfn, uint8_t order, int8_t mt)
{
	E[nE] = (struct trace_event){ .seq = nE, .ts_ns = 1000 + nE * 100, .cpu = cpu, .kind = kind, .pfn = pfn,
				      .order = order, .mt = mt, .fallback_mt = -1 };
	if (kind == TEV_PAGE_ALLOC)
		E[nE].gfp = mt == 1 ? 0x140cca : 0xcc0;
	nE++;
}

static void extfrag(uint32_t cpu, uint64_t pfn, uint8_t order, uint8_t fo, int8_t a, int8_t f, bool own)
{
	ev(TEV_PAGE_ALLOC_EXTFRAG, cpu, pfn, order, a);
	E[nE - 1].fallback_order = fo;
	E[nE - 1].fallback_mt = f;
	E[nE - 1].flags = own ? TEVF_CHANGE_OWNERSHIP : 0;
}

static void zl(uint32_t cpu, uint64_t pfn, uint8_t order, int8_t mt)
{
	ev(TEV_PAGE_ALLOC_ZONE_LOCKED, cpu, pfn, order, mt);
	if (order <= 3 && mt < 3)
		E[nE - 1].flags = TEVF_PERCPU_REFILL;
}

static void script(void)
{
	nE = 0;
	/* 1. direct order-4 Unmovable: smallest(Unmovable) finds the order-9 block at 0x11c00 */
	zl(0, BASE + 0x1c00, 4, 0);
	ev(TEV_PAGE_ALLOC, 0, BASE + 0x1c00, 4, 0);
	/* 2. freed directly (order 4 has no pcp list): merges back into the order-9 block */
	ev(TEV_PAGE_FREE, 0, BASE + 0x1c00, 4, -1);
	/* 3. direct order-9 Unmovable: the whole block (one take, then the allocation of it) */
	zl(1, BASE + 0x1c00, 9, 0);
	ev(TEV_PAGE_ALLOC, 1, BASE + 0x1c00, 9, 0);
	/* 4. order-0 Unmovable refill of 3 with no Unmovable page left: 6.18 __rmqueue_claim at
	 * order 10 claims the whole Movable block at BASE (extfrag only, ownership changed, both
	 * pageblocks retyped) and expands onto Unmovable lists; the refill then takes BASE+1
	 * (order-0 remainder) and BASE+2 (order-1 remainder split); the allocation gets BASE, the
	 * pcp list head. */
	extfrag(0, BASE, 0, 10, 0, 1, true);
	zl(0, BASE + 1, 0, 0);
	zl(0, BASE + 2, 0, 0);
	ev(TEV_PAGE_ALLOC, 0, BASE, 0, 0);
	/* 5. BASE freed to cpu 0's Unmovable pcp list (its block is Unmovable now), drained: its
	 * buddy BASE+1 sits on the pcp list, so BASE becomes an order-0 block */
	ev(TEV_PAGE_FREE, 0, BASE, 0, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, BASE, 0, 0);
	/* 6. BASE+2, on the pcp list since the refill, drained by cpu 1: merges with BASE+3 into
	 * an order-1 block (BASE is free at order 0 only) */
	ev(TEV_PAGE_PCPU_DRAIN, 1, BASE + 2, 0, 0);
	/* 7. BASE+1 drained: merges with BASE, then BASE+2 (order 1), the remainders of orders
	 * 2..8, and at order 9 with BASE+0x200 (both pageblocks Unmovable): order 10 at BASE */
	ev(TEV_PAGE_PCPU_DRAIN, 1, BASE + 1, 0, 0);
}

/* The end state worked out above. */
static void end_snapshot(struct snap *sn)
{
	snap_init(sn, TRACE_SNAP_END);
	for (int i = 0; i < NPB; i++)
		sn->types[i] = (i < 2 || i >= 14) ? 0 : 1;
	add_free(sn, BASE, 10, 0);
	add_free(sn, BASE + 0x400, 10, 1);
	sn->s.event_seq = UINT64_MAX;
}

static struct replay *run_script(const struct trace_header *h, const struct trace_snapshot *start,
				 const struct trace_snapshot *end, const struct replay_opts *o)
{
	char errbuf[256];
	int err;
	struct replay *r = replay_new(h, start, o, &err, errbuf, sizeof(errbuf));

	if (!r)
		fail_msg("replay_new: %s", errbuf);
	for (unsigned i = 0; i < nE; i++)
		assert_int_equal(replay_feed(r, &E[i]), 0);
	assert_int_equal(replay_finish(r, end), 0);
	return r;
}

static char *json_of(struct replay *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonw *w = jsonw_new(f);

	replay_json_result(r, w, true);
	jsonw_free(w);
	fclose(f);
	return buf;
}

static void test_follow_script(void **state)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .check_every = 1,
				 .max_log = 100 };
	struct replay *r;
	const struct replay_result *res;
	unsigned nlog;
	const struct replay_log_entry *log;

	(void)state;
	header(&h);
	start_snapshot(&start);
	end_snapshot(&end);
	script();
	r = run_script(&h, &start.s, &end.s, &o);
	res = replay_get_result(r);
	log = replay_log(r, &nlog);
	for (unsigned i = 0; i < nlog; i++)
		print_message("log: #%llu %s\n", (unsigned long long)log[i].seq, log[i].msg);
	assert_string_equal(res->profile, "linux-6.18");
	assert_int_equal(res->events, nE);
	assert_int_equal(res->takes, 5);
	assert_int_equal(res->paths[RP_NORMAL][RP_NORMAL], 4);
	assert_int_equal(res->paths[RP_CLAIM][RP_CLAIM], 1);
	assert_int_equal(res->decision_agree, 5);
	assert_int_equal(res->placement_agree, 5);
	assert_int_equal(res->pcp_allocs, 1);
	assert_int_equal(res->pcp_agree, 1);
	for (int c = 0; c < RC_NR; c++)
		assert_int_equal(res->resyncs[c], 0);
	assert_true(res->have_end);
	assert_int_equal(res->pb_compared, NPB);
	assert_int_equal(res->pb_equal, NPB);
	assert_int_equal(res->fc_equal, res->fc_compared);
	assert_int_equal(res->fc_compared, 2);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

static void test_follow_contradiction(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nE = 0;
	/* the kernel takes a page of pageblock 5, which the snapshot holds allocated: memory freed
	 * with no event (untraced_free), repaired; the allocation then follows without a resync */
	zl(0, BASE + 5 * 512 + 8, 3, 1);
	ev(TEV_PAGE_ALLOC, 0, BASE + 5 * 512 + 8, 3, 1);
	/* a drain of a page the model never had on a pcp list: the snapshot missed it */
	ev(TEV_PAGE_PCPU_DRAIN, 1, BASE + 7 * 512, 0, 1);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->takes, 1);
	assert_int_equal(res->resyncs[RC_UNTRACED_FREE], 1);
	assert_int_equal(res->resyncs[RC_SNAPSHOT_PCP], 1);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

static void test_follow_deterministic(void **state)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .max_log = 100 };
	char *a, *b;
	struct replay *r;

	(void)state;
	header(&h);
	start_snapshot(&start);
	end_snapshot(&end);
	script();
	r = run_script(&h, &start.s, &end.s, &o);
	a = json_of(r);
	replay_free(r);
	r = run_script(&h, &start.s, &end.s, &o);
	b = json_of(r);
	replay_free(r);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"decision_agreement\":1,"));
	free(a);
	free(b);
}

/* A model snapshot taken after the script seeds a model with the same state hash. */
static void test_checkpoint_roundtrip(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	struct trace_snapshot ck;
	struct replay *r, *r2;
	char errbuf[256];
	int err;

	(void)state;
	header(&h);
	start_snapshot(&start);
	script();
	r = run_script(&h, &start.s, NULL, &o);
	assert_int_equal(replay_snapshot_model(r, nE, &ck), 0);
	r2 = replay_new(&h, &ck, &o, &err, errbuf, sizeof(errbuf));
	assert_non_null(r2);
	/* free lists, pcp lists and pageblock types alike (owners of allocated pages are not kept) */
	for (unsigned ord = 0; ord < 11; ord++)
		for (int mt = 0; mt < BUDDY_MT_NR; mt++)
			assert_int_equal(buddy_nr_free(replay_model(r), 0, ord, mt), buddy_nr_free(replay_model(r2), 0, ord, mt));
	for (int i = 0; i < NPB; i++)
		assert_int_equal(buddy_pageblock_type(replay_model(r), BASE + i * 512ULL),
				 buddy_pageblock_type(replay_model(r2), BASE + i * 512ULL));
	assert_int_equal(buddy_check(replay_model(r2)), 0);
	trace_snapshot_release(&ck);
	replay_free(r);
	replay_free(r2);
}

/* 6.1: __rmqueue_fallback takes the largest Movable buddy (order 10) for an order-4 Unmovable
 * request, steal_suitable_fallback retypes both pageblocks (order >= pageblock order) and moves
 * the buddy to the Unmovable list; extfrag(found buddy) comes first, then the retried
 * __rmqueue_smallest's zone_locked takes the same page. */
static void test_follow_61_fallback(void **state)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .profile = "linux-6.1",
				 .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;

	(void)state;
	header(&h);
	snap_init(&start, TRACE_SNAP_START);
	for (int i = 0; i < NPB; i++)
		start.types[i] = 1;
	add_free(&start, BASE, 10, 1);
	add_free(&start, BASE + 0x400, 10, 1);
	nE = 0;
	extfrag(0, BASE, 4, 10, 0, 1, true);
	zl(0, BASE, 4, 0);
	ev(TEV_PAGE_ALLOC, 0, BASE, 4, 0);
	snap_init(&end, TRACE_SNAP_END);
	for (int i = 0; i < NPB; i++)
		end.types[i] = i < 2 ? 0 : 1;
	for (unsigned ord = 4; ord <= 9; ord++)
		add_free(&end, BASE + (1ULL << ord), (uint8_t)ord, 0);
	add_free(&end, BASE + 0x400, 10, 1);
	end.s.event_seq = UINT64_MAX;
	r = run_script(&h, &start.s, &end.s, &o);
	res = replay_get_result(r);
	assert_string_equal(res->profile, "linux-6.1");
	assert_int_equal(res->takes, 1);
	assert_int_equal(res->paths[RP_CLAIM][RP_CLAIM], 1);
	assert_int_equal(res->decision_agree, 1);
	assert_int_equal(res->placement_agree, 1);
	for (int c = 0; c < RC_NR; c++)
		assert_int_equal(res->resyncs[c], 0);
	assert_int_equal(res->pb_equal, NPB);
	assert_int_equal(res->fc_equal, res->fc_compared);
	assert_int_equal(res->fb_equal, res->fb_compared);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

/*
 * 6.1 pcp bypass: with free_factor > 0 an order-1 free drains the pcp at once (free_high), so
 * an order-1 single free that no drain follows never reached the pcp (its trylock failed: a
 * free from an interrupt while the pcp lock is held) and sits in the buddy. Three order-1
 * Unmovable pages A, B, C come from the order-9 Unmovable block at 0x11c00. A is freed and
 * drained by its own commit (so free_factor > 0 from then on); B is freed and no drain follows;
 * C is freed and drained. In the kernel all three are back in the buddy: the order-9 block is
 * whole again. With an allocation between A's drain and B's free (interrupt = true), free_factor
 * may be 0 again and B cannot be told from a free that stayed on the pcp: the model keeps it
 * there, and the end state names it as a pcp page the kernel holds free.
 */
static void run_61_bypass(bool alloc_between)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .profile = "linux-6.1",
				 .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	const uint64_t A = BASE + 0x1c00, B = BASE + 0x1c02, C = BASE + 0x1c04;

	header(&h);
	start_snapshot(&start);
	nE = 0;
	zl(0, A, 1, 0);
	ev(TEV_PAGE_ALLOC, 0, A, 1, 0);
	zl(0, B, 1, 0);
	ev(TEV_PAGE_ALLOC, 0, B, 1, 0);
	zl(0, C, 1, 0);
	ev(TEV_PAGE_ALLOC, 0, C, 1, 0);
	ev(TEV_PAGE_FREE, 0, A, 1, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, A, 1, 0);
	if (alloc_between)
		ev(TEV_PAGE_ALLOC, 0, TRACE_PFN_NONE, 1, 0);	/* a failed allocation: rmqueue_pcplist ran */
	ev(TEV_PAGE_FREE, 0, B, 1, -1);
	ev(TEV_PAGE_FREE, 0, C, 1, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, C, 1, 0);
	snap_init(&end, TRACE_SNAP_END);
	for (int i = 0; i < NPB; i++)
		end.types[i] = i < 14 ? 1 : 0;
	add_free(&end, BASE, 10, 1);
	add_free(&end, BASE + 0x400, 10, 1);
	add_free(&end, A, 9, 0);
	end.s.event_seq = UINT64_MAX;
	r = run_script(&h, &start.s, &end.s, &o);
	res = replay_get_result(r);
	assert_string_equal(res->profile, "linux-6.1");
	assert_int_equal(res->invariant_err, 0);
	assert_int_equal(res->pb_equal, NPB);
	if (!alloc_between) {
		assert_int_equal(res->resyncs[RC_PCP_BYPASS], 1);
		assert_int_equal(res->fc_equal, res->fc_compared);
		assert_int_equal(res->fb_equal, res->fb_compared);
		assert_int_equal(res->fc_abs_diff, 0);
		assert_int_equal(res->pcp_free_in_kernel, 0);
	} else {
		assert_int_equal(res->resyncs[RC_PCP_BYPASS], 0);
		assert_true(res->fc_abs_diff > 0);
		assert_int_equal(res->pcp_free_in_kernel, 1);
	}
	replay_free(r);
}

static void test_follow_61_pcp_bypass(void **state)
{
	(void)state;
	run_61_bypass(false);
}

static void test_follow_61_pcp_bypass_unproven(void **state)
{
	(void)state;
	run_61_bypass(true);
}

/*
 * A free that bypassed the pcp can also surface as a pcp_silent_alloc: X (0x11c00) is freed
 * onto the model's pcp list above P1 and P2 (a refill's rest); the kernel put it in the buddy.
 * The allocation of P1 comes right after X's free (a reordering, X stays); the allocation of P2
 * finds X ahead and drops it as silently allocated. The end snapshot has X free: the end state
 * names it.
 */
static void test_follow_silent_drop_free_in_kernel(void **state)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	const uint64_t X = BASE + 0x1c00, P1 = BASE + 0x1c01, P2 = BASE + 0x1c02;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nE = 0;
	zl(0, X, 0, 0);
	zl(0, P1, 0, 0);
	zl(0, P2, 0, 0);
	ev(TEV_PAGE_ALLOC, 0, X, 0, 0);
	ev(TEV_PAGE_FREE, 0, X, 0, -1);
	ev(TEV_PAGE_ALLOC, 0, P1, 0, 0);
	ev(TEV_PAGE_ALLOC, 0, P2, 0, 0);
	snap_init(&end, TRACE_SNAP_END);
	for (int i = 0; i < NPB; i++)
		end.types[i] = i < 14 ? 1 : 0;
	add_free(&end, BASE, 10, 1);
	add_free(&end, BASE + 0x400, 10, 1);
	add_free(&end, X, 0, 0);
	add_free(&end, BASE + 0x1c03, 0, 0);
	for (unsigned ord = 2; ord <= 8; ord++)
		add_free(&end, X + (1ULL << ord), (uint8_t)ord, 0);
	end.s.event_seq = UINT64_MAX;
	r = run_script(&h, &start.s, &end.s, &o);
	res = replay_get_result(r);
	assert_int_equal(res->invariant_err, 0);
	assert_int_equal(res->resyncs[RC_PCP_SILENT], 1);
	assert_int_equal(res->pcp_free_in_kernel, 1);
	assert_int_equal(res->fb_compared - res->fb_equal, 1);	/* X: free in the kernel only */
	replay_free(r);
}

/* Garbage in: random kinds, pfns in and out of the zone, orders beyond the largest, unknown
 * migratetypes and CPUs. The replay must not crash, every event is applied or counted, and
 * the model's invariants still hold at the end (resyncs repair, never corrupt). */
static void test_follow_random_events(void **state)
{
	static const uint8_t kinds[] = { TEV_PAGE_ALLOC, TEV_PAGE_ALLOC_ZONE_LOCKED, TEV_PAGE_FREE,
					 TEV_PAGE_FREE_BATCHED, TEV_PAGE_PCPU_DRAIN, TEV_PAGE_ALLOC_EXTFRAG,
					 TEV_COMPACT_ISOLATE_FREE, TEV_MARKER };
	static struct trace_event rnd[20000];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct trace_header h;
	struct snap start;
	const char *profiles[] = { "linux-6.1", "linux-6.12e", "linux-6.12", "linux-6.18" };

	(void)state;
	header(&h);
	start_snapshot(&start);
	for (unsigned i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++) {
		struct trace_event *e = &rnd[i];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memset(e, 0, sizeof(*e));
		e->seq = i;
		e->ts_ns = 1000 + i;
		e->kind = kinds[x % sizeof(kinds)];
		e->cpu = (uint32_t)((x >> 8) % 4);
		e->pfn = (x >> 12) % 16 == 0 ? TRACE_PFN_NONE : BASE - 64 + ((x >> 16) % (NPB * 512 + 128));
		e->order = (uint8_t)((x >> 32) % 13);
		e->fallback_order = (uint8_t)((x >> 36) % 12);
		e->mt = (int8_t)((int)((x >> 40) % 8) - 1);
		e->fallback_mt = (int8_t)((int)((x >> 44) % 8) - 1);
		e->flags = (uint8_t)((x >> 48) & 3);
		e->gfp = (x >> 50) & 0xfffff;
		e->aux = e->pfn + 512;
	}
	for (unsigned p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
		struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .check_every = 5000,
					 .profile = profiles[p], .max_log = 4 };
		char errbuf[256];
		int err;
		struct replay *r = replay_new(&h, &start.s, &o, &err, errbuf, sizeof(errbuf));
		const struct replay_result *res;

		assert_non_null(r);
		for (unsigned i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++)
			assert_int_equal(replay_feed(r, &rnd[i]), 0);
		assert_int_equal(replay_finish(r, &start.s), 0);
		res = replay_get_result(r);
		if (res->invariant_err)
			print_message("%s: %s\n", profiles[p], res->invariant_msg);
		assert_int_equal(res->invariant_err, 0);
		assert_int_equal(res->events, sizeof(rnd) / sizeof(rnd[0]));
		replay_free(r);
		/* simulate on the same garbage */
		o.mode = REPLAY_SIMULATE;
		r = replay_new(&h, &start.s, &o, &err, errbuf, sizeof(errbuf));
		assert_non_null(r);
		for (unsigned i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++)
			assert_int_equal(replay_feed(r, &rnd[i]), 0);
		assert_int_equal(replay_finish(r, &start.s), 0);
		if (replay_get_result(r)->invariant_err)
			print_message("%s simulate: %s\n", profiles[p], replay_get_result(r)->invariant_msg);
		assert_int_equal(replay_get_result(r)->invariant_err, 0);
		replay_free(r);
	}
}

/* Lazy memory init: pageblocks the start snapshot had no memory for (TRACE_PB_NONE) come in
 * through __free_pages_core: a free of never-seen pages there goes straight to the TAIL of
 * the buddy list (not the pcp, not the head), and is counted as zone growth, not a resync. */
static void test_follow_zone_growth(void **state)
{
	struct trace_header h;
	struct snap start, end;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;

	(void)state;
	header(&h);
	start_snapshot(&start);
	for (int i = 8; i < 12; i++)
		start.types[i] = TRACE_PB_NONE;		/* 4 pageblocks not initialised yet */
	nE = 0;
	ev(TEV_PAGE_FREE, 1, BASE + 8 * 512, 10, -1);	/* deferred init hands over 2 of them */
	ev(TEV_PAGE_FREE, 0, BASE + 10 * 512 + 7, 0, -1);	/* and a single page (order 0: still direct) */
	snap_init(&end, TRACE_SNAP_END);
	for (int i = 0; i < NPB; i++)
		end.types[i] = i < 14 ? 1 : 0;
	add_free(&end, BASE, 10, 1);
	add_free(&end, BASE + 0x400, 10, 1);
	add_free(&end, BASE + 8 * 512, 10, 1);		/* at the tail */
	add_free(&end, BASE + 10 * 512 + 7, 0, 1);
	add_free(&end, BASE + 0x1c00, 9, 0);
	end.s.event_seq = UINT64_MAX;
	r = run_script(&h, &start.s, &end.s, &o);
	res = replay_get_result(r);
	assert_int_equal(res->zone_growth_frees, 2);
	for (int c = 0; c < RC_NR; c++)
		assert_int_equal(res->resyncs[c], 0);
	assert_int_equal(res->fb_equal, res->fb_compared);
	assert_int_equal(buddy_free_list_first(replay_model(r), 0, 10, BUDDY_MT_MOVABLE), BASE);
	assert_int_equal(buddy_nr_pcp_lists(replay_model(r)) > 0, 1);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

/* An interrupt between a free's mm_page_free and its pcp insertion (pcp_free_nested,
 * replay/RESYNCS.md): P is traced first, the interrupt's frees A and B reach the list first,
 * P lands on top, then the task frees C. The kernel then allocates C, P, B, A from the head.
 * With bulk = true, A and B are freed again instead (the bulk allocator took them): the same
 * allocation of P is then pcp_silent_alloc for A and B, not a nested free. */
static void nested_free_script(bool bulk)
{
	uint64_t p = BASE + 5 * 512 + 8, a = BASE + 5 * 512 + 20, b = BASE + 5 * 512 + 21;
	uint64_t c = BASE + 5 * 512 + 30;

	nE = 0;
	ev(TEV_PAGE_FREE, 0, p, 0, -1);
	ev(TEV_PAGE_FREE, 0, a, 0, -1);
	ev(TEV_PAGE_FREE, 0, b, 0, -1);
	ev(TEV_PAGE_FREE, 0, c, 0, -1);
	ev(TEV_PAGE_ALLOC, 0, c, 0, 1);
	ev(TEV_PAGE_ALLOC, 0, p, 0, 1);
	if (bulk) {
		ev(TEV_PAGE_FREE, 1, b, 0, -1);
		ev(TEV_PAGE_FREE, 1, a, 0, -1);
	} else {
		ev(TEV_PAGE_ALLOC, 0, b, 0, 1);
		ev(TEV_PAGE_ALLOC, 0, a, 0, 1);
	}
}

static void test_follow_nested_free(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .check_every = 1,
				 .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nested_free_script(false);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->resyncs[RC_PCP_NESTED], 1);
	for (int c = 0; c < RC_NR; c++)
		if (c != RC_PCP_NESTED)
			assert_int_equal(res->resyncs[c], 0);
	assert_int_equal(res->pcp_allocs, 4);
	assert_int_equal(res->pcp_agree, 3);	/* C, B and A were at the head */
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);

	nested_free_script(true);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->resyncs[RC_PCP_NESTED], 0);
	assert_int_equal(res->resyncs[RC_PCP_SILENT], 2);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

/* A free that bypassed the pcp (pcp_bypass): traced on cpu 0, put on cpu 0's pcp list by the
 * model, then taken from the buddy by a refill. The kernel's pcp trylock had failed (an
 * interrupt's free while the CPU held its pcp lock); the take says so. A page put on the pcp
 * list by a refill and taken again is no bypass (pcp_mismatch). */
static void test_follow_pcp_bypass(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	uint64_t p = BASE + 5 * 512 + 9;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nE = 0;
	ev(TEV_PAGE_FREE, 0, p, 0, -1);
	zl(1, p, 0, 1);
	ev(TEV_PAGE_ALLOC, 1, p, 0, 1);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->resyncs[RC_PCP_BYPASS], 1);
	assert_int_equal(res->resyncs[RC_PCP], 0);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);

	/* refill of BASE (cpu 0), allocation of BASE; BASE+1 stays on cpu 0's list; then a take
	 * of BASE+1 from the buddy: the model's refill disagrees, no free is involved */
	nE = 0;
	zl(0, BASE, 0, 1);
	zl(0, BASE + 1, 0, 1);
	ev(TEV_PAGE_ALLOC, 0, BASE, 0, 1);
	zl(1, BASE + 1, 0, 1);
	ev(TEV_PAGE_ALLOC, 1, BASE + 1, 0, 1);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->resyncs[RC_PCP_BYPASS], 0);
	assert_int_equal(res->resyncs[RC_PCP], 1);
	replay_free(r);
}

/* A free traced between a refill's takes and its mm_page_alloc on the same CPU came from an
 * interrupt that rmqueue_bulk() let in with the pcp lock held: its trylock failed and the page
 * went to the buddy (refill_irq_frees). The same free after the mm_page_alloc goes to the pcp. */
static void test_follow_refill_irq_free(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .check_every = 1,
				 .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	struct buddy_pfn_info info;
	uint64_t p = BASE + 5 * 512 + 9;

	(void)state;
	header(&h);
	start_snapshot(&start);
	for (int after = 0; after < 2; after++) {
		nE = 0;
		zl(0, BASE, 0, 1);
		zl(0, BASE + 1, 0, 1);
		if (!after)
			ev(TEV_PAGE_FREE, 0, p, 0, -1);
		ev(TEV_PAGE_ALLOC, 0, BASE, 0, 1);
		if (after)
			ev(TEV_PAGE_FREE, 0, p, 0, -1);
		r = run_script(&h, &start.s, NULL, &o);
		res = replay_get_result(r);
		for (int c = 0; c < RC_NR; c++)
			assert_int_equal(res->resyncs[c], 0);
		assert_int_equal(res->refill_irq_frees, after ? 0 : 1);
		assert_int_equal(buddy_pfn_info(replay_model(r), p, &info), 0);
		if (after)
			assert_int_equal(info.state, BUDDY_PFN_PCP_HEAD);
		else
			assert_true(info.state == BUDDY_PFN_FREE_HEAD || info.state == BUDDY_PFN_FREE_TAIL);
		assert_int_equal(res->pcp_agree, 1);
		assert_int_equal(res->invariant_err, 0);
		replay_free(r);
	}
}

/* A page allocated twice with no free between, in a trace without losses: its free is missing
 * from the capture (free_missing); with losses reported it is lost_events. */
static void test_follow_free_missing(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	uint64_t p = BASE + 5 * 512 + 9;

	(void)state;
	header(&h);
	start_snapshot(&start);
	for (int losses = 0; losses < 2; losses++) {
		nE = 0;
		ev(TEV_PAGE_FREE, 0, p, 0, -1);
		ev(TEV_PAGE_ALLOC, 0, p, 0, 1);
		ev(TEV_PAGE_ALLOC, 0, p, 0, 1);
		o.trace_has_losses = losses;
		r = run_script(&h, &start.s, NULL, &o);
		res = replay_get_result(r);
		assert_int_equal(res->resyncs[RC_FREE_MISSING], losses ? 0 : 1);
		assert_int_equal(res->resyncs[RC_LOST], losses ? 1 : 0);
		assert_int_equal(res->resyncs[RC_ALLOCATED], 0);
		replay_free(r);
	}
}

/* A batched free whose mm_page_free left the lookahead window (REPLAY_WINDOW events) before
 * its mm_page_free_batched came in: the free was applied as a single one (pcp push then), and
 * the batched event moves the page to the list head, where the kernel put it (batched_late). */
static void test_follow_batched_late(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	uint64_t a = BASE + 5 * 512 + 9, b = BASE + 5 * 512 + 10;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nE = 0;
	ev(TEV_PAGE_FREE, 0, a, 0, -1);		/* loop 1 of a batch */
	ev(TEV_PAGE_FREE, 0, b, 0, -1);		/* a single free: pcp */
	while (nE < REPLAY_WINDOW + 100)	/* failed allocations on cpu 1 */
		ev(TEV_PAGE_ALLOC, 1, TRACE_PFN_NONE, 0, 1);
	ev(TEV_PAGE_FREE_BATCHED, 0, a, 0, -1);	/* loop 2: a reaches the pcp now, above b */
	ev(TEV_PAGE_ALLOC, 0, a, 0, 1);
	ev(TEV_PAGE_ALLOC, 0, b, 0, 1);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->batched_late, 1);
	for (int c = 0; c < RC_NR; c++)
		assert_int_equal(res->resyncs[c], 0);
	assert_int_equal(res->pcp_allocs, 2);
	assert_int_equal(res->pcp_agree, 2);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

/* The model holds a free block ahead of the one the kernel takes from the head of the same
 * list: here x, whose buddy x+1 an interrupt freed with its pcp trylock failing (no event shows
 * it), so in the kernel x+1 went to the buddy and merged with x, while the model put x+1 on
 * cpu 1's pcp list and keeps x at the head of its order-0 list. The refill takes y then z.
 * Without a repair the model predicts x for both takes (and for every later take from that
 * list); with it, the first take disagrees, x goes to the tail (list_order), the second
 * agrees. */
static void test_follow_list_order(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .check_every = 1,
				 .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;
	struct buddy_pfn_info info;
	uint64_t x = BASE + 5 * 512 + 0x30, y = BASE + 5 * 512 + 0x20, z = BASE + 5 * 512 + 0x10;

	(void)state;
	header(&h);
	start_snapshot(&start);
	nE = 0;
	/* drained one by one: the order-0 Movable list is x, y, z (none has a free buddy) */
	ev(TEV_PAGE_FREE, 0, z, 0, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, z, 0, 1);
	ev(TEV_PAGE_FREE, 0, y, 0, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, y, 0, 1);
	ev(TEV_PAGE_FREE, 0, x, 0, -1);
	ev(TEV_PAGE_PCPU_DRAIN, 0, x, 0, 1);
	ev(TEV_PAGE_FREE, 1, x + 1, 0, -1);	/* the interrupt's free: the kernel's buddy */
	E[nE - 1].flags = TEVF_IRQ;
	zl(0, y, 0, 1);
	zl(0, z, 0, 1);
	ev(TEV_PAGE_ALLOC, 0, y, 0, 1);
	r = run_script(&h, &start.s, NULL, &o);
	res = replay_get_result(r);
	assert_int_equal(res->takes, 2);
	assert_int_equal(res->placement_agree, 1);
	assert_int_equal(res->decision_agree, 2);
	assert_int_equal(res->resyncs[RC_LIST_ORDER], 1);
	for (int c = 0; c < RC_NR; c++)
		if (c != RC_LIST_ORDER)
			assert_int_equal(res->resyncs[c], 0);
	assert_int_equal(buddy_pfn_info(replay_model(r), x, &info), 0);
	assert_int_equal(info.state, BUDDY_PFN_FREE_HEAD);
	assert_int_equal(info.order, 0);
	assert_int_equal(res->invariant_err, 0);
	replay_free(r);
}

/* An unlocked start walk (not exact) defines the model's state only at its end: a take inside
 * it is followed but not scored (takes_in_start_walk); the first take after it is. The walk
 * runs from ts 900 to 1150: events 0 and 1 (ts 1000, 1100) fall in it, event 2 (1200) not. */
static void test_follow_start_walk_takes(void **state)
{
	struct trace_header h;
	struct snap start;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .check = true, .max_log = 10 };
	struct replay *r;
	const struct replay_result *res;

	(void)state;
	header(&h);
	for (int walk = 0; walk < 2; walk++) {
		start_snapshot(&start);
		if (walk) {
			start.s.flags &= ~TRACE_SNAPF_EXACT;
			start.s.ts_ns = 900;
			start.s.duration_ns = 250;
		}
		nE = 0;
		zl(0, BASE + 0x400, 10, 1);	/* the model's head is BASE: a disagreement */
		ev(TEV_PAGE_ALLOC, 0, BASE + 0x400, 10, 1);
		zl(0, BASE, 10, 1);		/* agrees */
		ev(TEV_PAGE_ALLOC, 0, BASE, 10, 1);
		r = run_script(&h, &start.s, NULL, &o);
		res = replay_get_result(r);
		assert_int_equal(res->takes_in_start_walk, walk ? 1 : 0);
		assert_int_equal(res->takes, walk ? 1 : 2);
		assert_int_equal(res->placement_agree, 1);
		assert_int_equal(res->decision_agree, walk ? 1 : 2);
		assert_int_equal(res->invariant_err, 0);
		replay_free(r);
	}
}

static bool same_snapshot(const struct trace_snapshot *a, const struct trace_snapshot *b)
{
	if (a->nr_free_blocks != b->nr_free_blocks || a->nr_pcp_pages != b->nr_pcp_pages ||
	    a->nr_pageblock_zones != b->nr_pageblock_zones)
		return false;
	for (uint64_t i = 0; i < a->nr_free_blocks; i++) {
		const struct trace_free_block *x = &a->free_blocks[i], *y = &b->free_blocks[i];

		if (x->pfn != y->pfn || x->zone != y->zone || x->order != y->order || x->mt != y->mt)
			return false;
	}
	for (uint64_t i = 0; i < a->nr_pcp_pages; i++) {
		const struct trace_pcp_page *x = &a->pcp_pages[i], *y = &b->pcp_pages[i];

		if (x->pfn != y->pfn || x->cpu != y->cpu || x->zone != y->zone || x->order != y->order ||
		    x->pindex != y->pindex)
			return false;
	}
	for (uint32_t z = 0; z < a->nr_pageblock_zones; z++)
		if (a->pageblocks[z].nr != b->pageblocks[z].nr ||
		    memcmp(a->pageblocks[z].types, b->pageblocks[z].types, a->pageblocks[z].nr))
			return false;
	return true;
}

/* The timeline on a real lab capture: a seek to event S gives the free lists (in order), pcp
 * lists and pageblock types of a replay stopped at S from the start. */
static void test_timeline_seek(void **state)
{
	const char *path = "traces/golden/lab-6.12-256M-thp.fst";
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	char errbuf[512];
	int err;
	struct trace_reader *rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	struct replay_timeline *tl;
	static const uint64_t at[] = { 1, 9999, 10000, 10001, 54321, 100000, 160000, 165000, 166000, 166500, 167000 };

	(void)state;
	if (!rd)
		skip();
	tl = replay_timeline_build(rd, &o, 10000, &err, errbuf, sizeof(errbuf));
	assert_non_null(tl);
	assert_true(replay_timeline_count(tl) >= 10);
	for (size_t i = 1; i < replay_timeline_count(tl); i++)
		assert_true(replay_timeline_seq(tl, i) > replay_timeline_seq(tl, i - 1));
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct replay *a, *b;
		struct trace_snapshot sa, sb;
		struct trace_event ev;
		struct replay_opts full = o;

		assert_int_equal(replay_timeline_seek(tl, rd, at[i], &a, errbuf, sizeof(errbuf)), 0);
		/* the reference: from the start snapshot, every event before at[i] */
		full.stop_at = at[i];
		b = replay_new(trace_reader_header(rd), trace_reader_snapshot(rd, TRACE_SNAP_START), &full, &err,
			       errbuf, sizeof(errbuf));
		assert_non_null(b);
		assert_int_equal(trace_reader_seek(rd, 0), 0);
		while (trace_reader_next(rd, &ev) > 0 && ev.seq < at[i] + REPLAY_WINDOW)
			assert_int_equal(replay_feed(b, &ev), 0);
		assert_int_equal(replay_finish(b, NULL), 0);
		assert_int_equal(replay_snapshot_model(a, at[i], &sa), 0);
		assert_int_equal(replay_snapshot_model(b, at[i], &sb), 0);
		if (!same_snapshot(&sa, &sb))
			fail_msg("seek to %llu: state differs from a replay stopped there", (unsigned long long)at[i]);
		trace_snapshot_release(&sa);
		trace_snapshot_release(&sb);
		replay_free(a);
		replay_free(b);
	}
	replay_timeline_free(tl);
	trace_reader_close(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow_script),
		cmocka_unit_test(test_follow_contradiction),
		cmocka_unit_test(test_follow_deterministic),
		cmocka_unit_test(test_checkpoint_roundtrip),
		cmocka_unit_test(test_follow_61_fallback),
		cmocka_unit_test(test_follow_61_pcp_bypass),
		cmocka_unit_test(test_follow_61_pcp_bypass_unproven),
		cmocka_unit_test(test_follow_silent_drop_free_in_kernel),
		cmocka_unit_test(test_follow_random_events),
		cmocka_unit_test(test_timeline_seek),
		cmocka_unit_test(test_follow_zone_growth),
		cmocka_unit_test(test_follow_nested_free),
		cmocka_unit_test(test_follow_pcp_bypass),
		cmocka_unit_test(test_follow_refill_irq_free),
		cmocka_unit_test(test_follow_free_missing),
		cmocka_unit_test(test_follow_batched_late),
		cmocka_unit_test(test_follow_list_order),
		cmocka_unit_test(test_follow_start_walk_takes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
