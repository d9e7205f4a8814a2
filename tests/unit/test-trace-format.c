// SPDX-License-Identifier: GPL-2.0-only
/*
 * traces/: the trace file round trip. Seeded random headers, snapshots, losses, stacks and event
 * streams are written and read back field by field; then every truncation point and random byte
 * flips of a small generated file must give a clean error or a clean partial read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "traces/trace.h"
#include "traces/trace-local.h"
#include "util/errors.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t rndn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void rnd_name(char *dst, size_t cap)
{
	size_t n = rndn(cap - 1);

	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(' ' + rndn(95));
	dst[n] = '\0';
}

static char *rnd_str(void)
{
	char buf[80];

	rnd_name(buf, sizeof(buf));
	return strdup(buf);
}

static const char *tmpdir(void)
{
	const char *d = getenv("FRAGSCOPE_TMP");

	return d && *d ? d : "/tmp";
}

static void gen_header(struct trace_header *h)
{
	memset(h, 0, sizeof(*h));
	rnd_name(h->kernel_release, sizeof(h->kernel_release));
	rnd_name(h->kernel_version, sizeof(h->kernel_version));
	rnd_name(h->arch, sizeof(h->arch));
	h->page_size = (uint32_t)rnd();
	h->pageblock_order = (uint32_t)rndn(12);
	h->nr_orders = (uint32_t)rndn(16);
	h->nr_cpus = (uint32_t)rndn(4096);
	h->nr_pageblock_bits = (uint32_t)rndn(9);
	h->nr_migratetypes = (uint32_t)rndn(8);
	h->migratetypes = calloc(h->nr_migratetypes + 1, sizeof(*h->migratetypes));
	for (uint32_t i = 0; i < h->nr_migratetypes; i++) {
		rnd_name(h->migratetypes[i].name, sizeof(h->migratetypes[i].name));
		h->migratetypes[i].value = (int64_t)rnd();
	}
	h->nr_gfp_flags = (uint32_t)rndn(40);
	h->gfp_flags = calloc(h->nr_gfp_flags + 1, sizeof(*h->gfp_flags));
	for (uint32_t i = 0; i < h->nr_gfp_flags; i++) {
		h->gfp_flags[i].mask = rnd() >> rndn(64);
		rnd_name(h->gfp_flags[i].name, sizeof(h->gfp_flags[i].name));
	}
	h->nr_zones = (uint32_t)rndn(5);
	h->zones = calloc(h->nr_zones + 1, sizeof(*h->zones));
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		struct trace_zone *z = &h->zones[i];

		z->node = (uint32_t)rnd();
		z->zone_idx = (uint32_t)rndn(5);
		rnd_name(z->name, sizeof(z->name));
		z->start_pfn = rnd() >> 20;
		z->spanned = rnd() >> 30;
		z->present = rnd();
		z->managed = rnd();
		z->wmark_min = rnd();
		z->wmark_low = rnd();
		z->wmark_high = rnd();
		z->wmark_promo = rnd();
		z->watermark_boost = rnd();
		z->nr_free_pages = rnd();
		z->nr_lowmem_reserve = (uint32_t)rndn(6);
		z->lowmem_reserve = calloc(z->nr_lowmem_reserve + 1, sizeof(uint64_t));
		for (uint32_t j = 0; j < z->nr_lowmem_reserve; j++)
			z->lowmem_reserve[j] = rnd();
		z->nr_pcp = (uint32_t)rndn(9);
		z->pcp = calloc(z->nr_pcp + 1, sizeof(*z->pcp));
		for (uint32_t j = 0; j < z->nr_pcp; j++) {
			z->pcp[j].cpu = (uint32_t)rnd();
			z->pcp[j].count = (uint32_t)rnd();
			z->pcp[j].high = (uint32_t)rnd();
			z->pcp[j].batch = (uint32_t)rnd();
			z->pcp[j].high_min = (uint32_t)rnd();
			z->pcp[j].high_max = (uint32_t)rnd();
		}
	}
	for (int i = (int)rndn(10); i > 0; i--) {
		char *k = rnd_str(), *v = rnd_str();

		trace_header_set(h, k, v);
		free(k);
		free(v);
	}
}

static void check_header(const struct trace_header *a, const struct trace_header *b)
{
	assert_string_equal(a->kernel_release, b->kernel_release);
	assert_string_equal(a->kernel_version, b->kernel_version);
	assert_string_equal(a->arch, b->arch);
	assert_int_equal(a->page_size, b->page_size);
	assert_int_equal(a->pageblock_order, b->pageblock_order);
	assert_int_equal(a->nr_orders, b->nr_orders);
	assert_int_equal(a->nr_cpus, b->nr_cpus);
	assert_int_equal(a->nr_pageblock_bits, b->nr_pageblock_bits);
	assert_int_equal(a->nr_migratetypes, b->nr_migratetypes);
	for (uint32_t i = 0; i < a->nr_migratetypes; i++) {
		assert_string_equal(a->migratetypes[i].name, b->migratetypes[i].name);
		assert_true(a->migratetypes[i].value == b->migratetypes[i].value);
	}
	assert_int_equal(a->nr_gfp_flags, b->nr_gfp_flags);
	for (uint32_t i = 0; i < a->nr_gfp_flags; i++) {
		assert_true(a->gfp_flags[i].mask == b->gfp_flags[i].mask);
		assert_string_equal(a->gfp_flags[i].name, b->gfp_flags[i].name);
	}
	assert_int_equal(a->nr_zones, b->nr_zones);
	for (uint32_t i = 0; i < a->nr_zones; i++) {
		const struct trace_zone *x = &a->zones[i], *y = &b->zones[i];

		assert_int_equal(x->node, y->node);
		assert_int_equal(x->zone_idx, y->zone_idx);
		assert_string_equal(x->name, y->name);
		assert_true(x->start_pfn == y->start_pfn && x->spanned == y->spanned);
		assert_true(x->present == y->present && x->managed == y->managed);
		assert_true(x->wmark_min == y->wmark_min && x->wmark_low == y->wmark_low);
		assert_true(x->wmark_high == y->wmark_high && x->wmark_promo == y->wmark_promo);
		assert_true(x->watermark_boost == y->watermark_boost && x->nr_free_pages == y->nr_free_pages);
		assert_int_equal(x->nr_lowmem_reserve, y->nr_lowmem_reserve);
		for (uint32_t j = 0; j < x->nr_lowmem_reserve; j++)
			assert_true(x->lowmem_reserve[j] == y->lowmem_reserve[j]);
		assert_int_equal(x->nr_pcp, y->nr_pcp);
		assert_memory_equal(x->pcp, y->pcp, x->nr_pcp * sizeof(*x->pcp));
	}
	assert_int_equal(a->nr_kv, b->nr_kv);
	for (uint32_t i = 0; i < a->nr_kv; i++) {
		assert_string_equal(a->kv[i].key, b->kv[i].key);
		assert_string_equal(a->kv[i].value, b->kv[i].value);
	}
}

static void gen_snapshot(struct trace_snapshot *s, enum trace_snapshot_which which)
{
	uint64_t pfn = rnd() >> 30;

	memset(s, 0, sizeof(*s));
	s->which = which;
	s->method = (enum trace_snapshot_method)rndn(6);
	s->flags = (uint32_t)rndn(128);
	s->ts_ns = rnd();
	s->event_seq = rnd();
	s->duration_ns = rnd();
	s->nr_pageblock_zones = (uint32_t)rndn(4);
	s->pageblocks = calloc(s->nr_pageblock_zones + 1, sizeof(*s->pageblocks));
	for (uint32_t i = 0; i < s->nr_pageblock_zones; i++) {
		struct trace_pageblocks *pb = &s->pageblocks[i];

		pb->zone = (uint16_t)rnd();
		pb->first_pfn = rnd() >> 8;
		pb->nr = rndn(3000);
		pb->types = malloc(pb->nr + 1);
		for (uint64_t j = 0; j < pb->nr; j++)
			pb->types[j] = (uint8_t)rndn(rndn(2) ? 4 : 256);
	}
	s->nr_free_blocks = rndn(5000);
	s->free_blocks = calloc(s->nr_free_blocks + 1, sizeof(*s->free_blocks));
	for (uint64_t i = 0; i < s->nr_free_blocks; i++) {
		struct trace_free_block *f = &s->free_blocks[i];

		pfn += rndn(2) ? rndn(1024) : (uint64_t)-(int64_t)rndn(1 << 20);
		f->pfn = rndn(100) ? pfn : rnd();
		f->zone = (uint16_t)rnd();
		f->order = (uint8_t)rnd();
		f->mt = (int8_t)rnd();
	}
	s->nr_pcp_pages = rndn(300);
	s->pcp_pages = calloc(s->nr_pcp_pages + 1, sizeof(*s->pcp_pages));
	for (uint64_t i = 0; i < s->nr_pcp_pages; i++) {
		struct trace_pcp_page *p = &s->pcp_pages[i];

		p->pfn = rnd();
		p->cpu = (uint32_t)rnd();
		p->zone = (uint16_t)rnd();
		p->order = (uint8_t)rnd();
		p->pindex = (uint8_t)rnd();
	}
	s->nr_counts = (uint32_t)rndn(3);
	s->counts = calloc(s->nr_counts + 1, sizeof(*s->counts));
	for (uint32_t i = 0; i < s->nr_counts; i++) {
		struct trace_zone_counts *c = &s->counts[i];

		c->zone = (uint16_t)rnd();
		c->nr_orders = (uint32_t)rndn(12);
		c->nr_migratetypes = (uint32_t)rndn(7);
		c->nr_free = calloc(c->nr_orders * c->nr_migratetypes + 1, sizeof(uint64_t));
		c->nr_blocks = calloc(c->nr_migratetypes + 1, sizeof(uint64_t));
		for (uint32_t j = 0; j < c->nr_orders * c->nr_migratetypes; j++)
			c->nr_free[j] = rnd() >> rndn(64);
		for (uint32_t j = 0; j < c->nr_migratetypes; j++)
			c->nr_blocks[j] = rnd() >> rndn(64);
	}
	s->note = rndn(2) ? rnd_str() : NULL;
}

static void check_snapshot(const struct trace_snapshot *a, const struct trace_snapshot *b)
{
	assert_non_null(b);
	assert_int_equal(a->which, b->which);
	assert_int_equal(a->method, b->method);
	assert_int_equal(a->flags, b->flags);
	assert_true(a->ts_ns == b->ts_ns && a->event_seq == b->event_seq && a->duration_ns == b->duration_ns);
	assert_int_equal(a->nr_pageblock_zones, b->nr_pageblock_zones);
	for (uint32_t i = 0; i < a->nr_pageblock_zones; i++) {
		assert_int_equal(a->pageblocks[i].zone, b->pageblocks[i].zone);
		assert_true(a->pageblocks[i].first_pfn == b->pageblocks[i].first_pfn);
		assert_true(a->pageblocks[i].nr == b->pageblocks[i].nr);
		assert_memory_equal(a->pageblocks[i].types, b->pageblocks[i].types, a->pageblocks[i].nr);
	}
	assert_true(a->nr_free_blocks == b->nr_free_blocks);
	for (uint64_t i = 0; i < a->nr_free_blocks; i++) {
		assert_true(a->free_blocks[i].pfn == b->free_blocks[i].pfn);
		assert_int_equal(a->free_blocks[i].zone, b->free_blocks[i].zone);
		assert_int_equal(a->free_blocks[i].order, b->free_blocks[i].order);
		assert_int_equal(a->free_blocks[i].mt, b->free_blocks[i].mt);
	}
	assert_true(a->nr_pcp_pages == b->nr_pcp_pages);
	for (uint64_t i = 0; i < a->nr_pcp_pages; i++) {
		assert_true(a->pcp_pages[i].pfn == b->pcp_pages[i].pfn);
		assert_int_equal(a->pcp_pages[i].cpu, b->pcp_pages[i].cpu);
		assert_int_equal(a->pcp_pages[i].zone, b->pcp_pages[i].zone);
		assert_int_equal(a->pcp_pages[i].order, b->pcp_pages[i].order);
		assert_int_equal(a->pcp_pages[i].pindex, b->pcp_pages[i].pindex);
	}
	assert_int_equal(a->nr_counts, b->nr_counts);
	for (uint32_t i = 0; i < a->nr_counts; i++) {
		const struct trace_zone_counts *x = &a->counts[i], *y = &b->counts[i];

		assert_int_equal(x->zone, y->zone);
		assert_int_equal(x->nr_orders, y->nr_orders);
		assert_int_equal(x->nr_migratetypes, y->nr_migratetypes);
		assert_memory_equal(x->nr_free, y->nr_free, x->nr_orders * x->nr_migratetypes * sizeof(uint64_t));
		assert_memory_equal(x->nr_blocks, y->nr_blocks, x->nr_migratetypes * sizeof(uint64_t));
	}
	if (a->note)
		assert_string_equal(a->note, b->note);
	else
		assert_null(b->note);
}

/* Events shaped like kmem streams (so the encoder's deltas get exercised both ways) with
 * fully random fields mixed in. */
static void gen_event(struct trace_event *e, uint64_t *ts, int wild)
{
	memset(e, 0, sizeof(*e));
	*ts += rndn(5000);
	if (wild && !rndn(50))
		*ts = rnd();	/* time going backwards or jumping */
	e->ts_ns = *ts;
	e->cpu = wild && !rndn(20) ? (uint32_t)rnd() : (uint32_t)rndn(8);
	e->pid = rndn(4) ? 1000 + (uint32_t)rndn(3) : (uint32_t)rnd();
	e->kind = (uint8_t)(1 + rndn(6));
	e->order = (uint8_t)(rndn(4) ? 0 : rndn(11));
	e->mt = (int8_t)(rndn(3) - 1);
	e->fallback_mt = -1;
	e->zone = rndn(10) ? (uint16_t)rndn(3) : TRACE_ZONE_UNKNOWN;
	e->pfn = rndn(30) ? 0x100000 + rndn(1 << 22) : TRACE_PFN_NONE;
	if (e->kind == TEV_PAGE_ALLOC)
		e->gfp = rndn(2) ? 0xcc0 : 0x140dca;
	if (wild) {
		e->kind = (uint8_t)rndn(32);
		e->fallback_order = (uint8_t)rnd();
		e->flags = (uint8_t)rnd();
		e->mt = (int8_t)rnd();
		e->fallback_mt = (int8_t)rnd();
		e->zone = (uint16_t)rnd();
		e->pfn = rnd();
		e->gfp = rnd() >> rndn(64);
		e->aux = rnd() >> rndn(64);
		e->aux2 = (uint32_t)(rnd() >> rndn(64));
		e->stack_id = (uint32_t)rndn(3);
		e->order = (uint8_t)rnd();
	}
}

struct fixture {
	char path[256];
	struct trace_header h;
	struct trace_snapshot snap[2];
	bool have_snap[2];
	struct trace_loss loss;
	bool have_loss;
	struct trace_event *ev;
	uint64_t nr_ev;
	uint32_t nr_stacks;
};

static void fixture_release(struct fixture *f)
{
	trace_header_release(&f->h);
	trace_snapshot_release(&f->snap[0]);
	trace_snapshot_release(&f->snap[1]);
	trace_loss_release(&f->loss);
	free(f->ev);
}

static void write_fixture(struct fixture *f, uint64_t seed, uint64_t max_events)
{
	struct trace_writer_opts o = { .sz = sizeof(o) };
	struct trace_writer *w;
	uint64_t ts = rnd() >> 8;
	int wild, err = 0;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s/rt-%d-%llu.fst", tmpdir(), (int)getpid(), (unsigned long long)seed);
	o.no_compress = rndn(3) == 0;
	o.chunk_events = (uint32_t)(1 + rndn(3) * rndn(3000));
	o.zstd_level = (int)rndn(6);
	wild = (int)rndn(3) == 0;
	gen_header(&f->h);
	f->nr_ev = rndn(max_events);
	f->ev = calloc(f->nr_ev + 1, sizeof(*f->ev));
	for (uint64_t i = 0; i < f->nr_ev; i++) {
		gen_event(&f->ev[i], &ts, wild);
		f->ev[i].seq = i;
	}
	w = trace_writer_open(f->path, &o, &err);
	assert_non_null(w);
	assert_int_equal(trace_writer_header(w, &f->h), 0);
	f->have_snap[0] = rndn(4) != 0;
	if (f->have_snap[0]) {
		gen_snapshot(&f->snap[0], TRACE_SNAP_START);
		assert_int_equal(trace_writer_snapshot(w, &f->snap[0]), 0);
	}
	for (uint64_t i = 0; i < f->nr_ev; i++) {
		assert_int_equal(trace_writer_event(w, &f->ev[i]), 0);
		if (!rndn(5000))
			assert_int_equal(trace_writer_flush(w), 0);
	}
	f->nr_stacks = (uint32_t)rndn(4);
	for (uint32_t i = 0; i < f->nr_stacks; i++) {
		uint64_t ips[3] = { rnd(), rnd(), rnd() };
		char *syms[3] = { "a+0x1", "b", "c+0x3" };
		struct trace_stack st = { .id = i + 1, .nr = (uint32_t)rndn(4), .ips = ips,
					  .syms = rndn(2) ? syms : NULL };

		assert_int_equal(trace_writer_stack(w, &st), 0);
	}
	f->have_loss = rndn(2);
	if (f->have_loss) {
		f->loss.nr_cpus = (uint32_t)rndn(5);
		f->loss.lost_per_cpu = calloc(f->loss.nr_cpus + 1, sizeof(uint64_t));
		for (uint32_t i = 0; i < f->loss.nr_cpus; i++)
			f->loss.lost_per_cpu[i] = rnd() >> rndn(64);
		for (int k = 0; k <= TEV_KIND_MAX; k++)
			f->loss.lost_per_kind[k] = rndn(3) ? 0 : rnd();
		f->loss.recursion_misses = rnd();
		f->loss.total = rnd();
		assert_int_equal(trace_writer_loss(w, &f->loss), 0);
	}
	f->have_snap[1] = rndn(2);
	if (f->have_snap[1]) {
		gen_snapshot(&f->snap[1], TRACE_SNAP_END);
		f->snap[1].event_seq = f->nr_ev;
		assert_int_equal(trace_writer_snapshot(w, &f->snap[1]), 0);
	}
	assert_true(trace_writer_events(w) == f->nr_ev);
	assert_int_equal(trace_writer_close(w), 0);
}

static void check_fixture(struct fixture *f)
{
	char eb[512];
	int err = 0;
	struct trace_reader *r = trace_reader_open(f->path, &err, eb, sizeof(eb));
	struct trace_event e;
	uint64_t n = 0;
	int got;

	if (!r)
		fail_msg("open: %s", eb);
	check_header(&f->h, trace_reader_header(r));
	for (int i = 0; i < 2; i++) {
		const struct trace_snapshot *s = trace_reader_snapshot(r, (enum trace_snapshot_which)i);

		if (f->have_snap[i])
			check_snapshot(&f->snap[i], s);
		else
			assert_null(s);
	}
	if (f->have_loss) {
		const struct trace_loss *l = trace_reader_loss(r);

		assert_non_null(l);
		assert_int_equal(l->nr_cpus, f->loss.nr_cpus);
		assert_memory_equal(l->lost_per_cpu, f->loss.lost_per_cpu, l->nr_cpus * sizeof(uint64_t));
		assert_memory_equal(l->lost_per_kind, f->loss.lost_per_kind, sizeof(l->lost_per_kind));
		assert_true(l->recursion_misses == f->loss.recursion_misses && l->total == f->loss.total);
	} else {
		assert_null(trace_reader_loss(r));
	}
	for (uint32_t i = 0; i < f->nr_stacks; i++)
		assert_non_null(trace_reader_stack(r, i + 1));
	assert_null(trace_reader_stack(r, f->nr_stacks + 1));
	assert_true(trace_reader_nr_events(r) == f->nr_ev);
	while ((got = trace_reader_next(r, &e)) > 0) {
		assert_true(n < f->nr_ev);
		if (!trace_event_equal(&e, &f->ev[n]))
			fail_msg("event %llu differs", (unsigned long long)n);
		n++;
	}
	assert_int_equal(got, 0);
	assert_true(n == f->nr_ev);
	assert_false(trace_reader_status(r)->truncated);
	assert_int_equal(trace_reader_status(r)->corrupt_chunks, 0);
	/* seeking */
	for (int i = 0; i < 5 && f->nr_ev; i++) {
		uint64_t s = rndn(f->nr_ev);

		assert_int_equal(trace_reader_seek(r, s), 0);
		assert_int_equal(trace_reader_next(r, &e), 1);
		assert_true(trace_event_equal(&e, &f->ev[s]));
	}
	assert_int_equal(trace_reader_seek(r, f->nr_ev), 0);
	assert_int_equal(trace_reader_next(r, &e), 0);
	trace_reader_close(r);
}

static void test_round_trip_many_seeds(void **state)
{
	for (uint64_t seed = 1; seed <= 150; seed++) {
		struct fixture f;

		write_fixture(&f, seed, seed % 25 == 0 ? 60000 : 3000);
		check_fixture(&f);
		unlink(f.path);
		fixture_release(&f);
	}
}

static void test_varints(void **state)
{
	static const int64_t sv[] = { 0, 1, -1, 63, -64, 64, INT64_MAX, INT64_MIN, 1234567890123LL };
	struct obuf b = { 0 };
	struct ibuf in;

	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++) {
		obuf_sv(&b, sv[i]);
		obuf_uv(&b, (uint64_t)sv[i]);
	}
	in.p = b.p;
	in.end = b.p + b.len;
	in.bad = false;
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++) {
		assert_true(ibuf_sv(&in) == sv[i]);
		assert_true(ibuf_uv(&in) == (uint64_t)sv[i]);
	}
	assert_false(in.bad);
	assert_int_equal(ibuf_left(&in), 0);
	ibuf_uv(&in);
	assert_true(in.bad);
	/* an 11-byte varint is corrupt, not a wrap-around */
	{
		uint8_t over[11];

		memset(over, 0xff, sizeof(over));
		over[10] = 0x01;
		in.p = over;
		in.end = over + sizeof(over);
		in.bad = false;
		ibuf_uv(&in);
		assert_true(in.bad);
	}
	obuf_release(&b);
}

static void test_header_helpers(void **state)
{
	struct trace_header h = { 0 };
	struct trace_name_value mts[] = { { "Unmovable", 0 }, { "Movable", 1 }, { "Reclaimable", 2 } };
	struct trace_flag_name flags[] = { { 0xcc0, "GFP_KERNEL" }, { 0x40000, "__GFP_COMP" }, { 0x400, "__GFP_IO" } };
	struct trace_zone zones[2] = { { .start_pfn = 1, .spanned = 4095 }, { .start_pfn = 4096, .spanned = 100 } };
	char buf[128];

	h.migratetypes = mts;
	h.nr_migratetypes = 3;
	h.gfp_flags = flags;
	h.nr_gfp_flags = 3;
	h.zones = zones;
	h.nr_zones = 2;
	assert_string_equal(trace_header_mt_name(&h, 1), "Movable");
	assert_null(trace_header_mt_name(&h, 7));
	assert_int_equal(trace_header_mt_value(&h, "reclaimable"), 2);
	assert_int_equal(trace_header_mt_value(&h, "Isolate"), -1);
	trace_header_gfp_str(&h, 0xcc0 | 0x40000 | 0x3, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_KERNEL|__GFP_COMP|0x3");
	trace_header_gfp_str(&h, 0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	assert_true(trace_header_gfp_str(&h, 0xcc0 | 0x40000, buf, 5) == strlen("GFP_KERNEL|__GFP_COMP"));
	assert_string_equal(buf, "GFP_");
	assert_int_equal(trace_header_zone_of(&h, 0), TRACE_ZONE_UNKNOWN);
	assert_int_equal(trace_header_zone_of(&h, 1), 0);
	assert_int_equal(trace_header_zone_of(&h, 4095), 0);
	assert_int_equal(trace_header_zone_of(&h, 4096), 1);
	assert_int_equal(trace_header_zone_of(&h, 4196), TRACE_ZONE_UNKNOWN);
	assert_int_equal(trace_header_zone_of(&h, TRACE_PFN_NONE), TRACE_ZONE_UNKNOWN);
	assert_int_equal(trace_event_kind_from_name("kmem:mm_page_free"), TEV_PAGE_FREE);
	assert_int_equal(trace_event_kind_from_name("mm_page_alloc_extfrag"), TEV_PAGE_ALLOC_EXTFRAG);
	assert_int_equal(trace_event_kind_from_name("nope"), TEV_NONE);
	assert_string_equal(trace_event_kind_name(TEV_PAGE_PCPU_DRAIN), "mm_page_pcpu_drain");
	assert_null(trace_event_kind_name((enum trace_event_kind)99));
}

/* Reads everything a file has; returns events read, -1 if open failed. Must never crash. */
static int64_t read_all(const char *path, bool *truncated)
{
	struct trace_reader *r;
	struct trace_event e;
	int err, got, errors = 0;
	int64_t n = 0;

	r = trace_reader_open(path, &err, NULL, 0);
	if (!r)
		return -1;
	trace_reader_snapshot(r, TRACE_SNAP_START);
	trace_reader_snapshot(r, TRACE_SNAP_END);
	trace_reader_loss(r);
	trace_reader_stack(r, 1);
	trace_reader_nr_events(r);
	while ((got = trace_reader_next(r, &e)) != 0) {
		if (got > 0)
			n++;
		else if (++errors > 100000)
			fail_msg("reader loops on errors");
	}
	if (truncated)
		*truncated = trace_reader_status(r)->truncated;
	trace_reader_close(r);
	return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_truncation_every_point(void **state)
{
	struct fixture f;
	char cut[300];
	uint8_t *buf;
	size_t len;
	int64_t prev = -1;

	write_fixture(&f, 4242, 0);
	/* a stream with several small chunks */
	{
		struct trace_writer_opts o = { .sz = sizeof(o), .chunk_events = 50 };
		struct trace_writer *w;
		uint64_t ts = 1000;
		int err;

		w = trace_writer_open(f.path, &o, &err);
		assert_non_null(w);
		assert_int_equal(trace_writer_header(w, &f.h), 0);
		for (int i = 0; i < 400; i++) {
			struct trace_event e;

			gen_event(&e, &ts, 0);
			assert_int_equal(trace_writer_event(w, &e), 0);
		}
		assert_int_equal(trace_writer_close(w), 0);
	}
	buf = slurp(f.path, &len);
	snprintf(cut, sizeof(cut), "%s.cut", f.path);
	for (size_t n = 0; n <= len; n++) {
		bool trunc = false;
		int64_t got;

		spit(cut, buf, n);
		got = read_all(cut, &trunc);
		if (n == len) {
			assert_int_equal(got, 400);
			assert_false(trunc);
		} else if (got >= 0) {
			assert_true(trunc);
			assert_true(got % 50 == 0);	/* whole chunks only */
			assert_true(got >= prev);	/* a longer prefix never reads less */
			prev = got;
		}
	}
	assert_true(prev == 400);	/* cut just before the index: every event still reads */
	unlink(cut);
	unlink(f.path);
	free(buf);
	fixture_release(&f);
}

static void test_random_byte_flips(void **state)
{
	struct fixture f;
	char bad[300];
	uint8_t *buf;
	size_t len;

	write_fixture(&f, 77, 3000);
	buf = slurp(f.path, &len);
	snprintf(bad, sizeof(bad), "%s.bad", f.path);
	rng_state = 12345;
	for (int i = 0; i < 2000; i++) {
		uint8_t *copy = malloc(len);
		int nflips = 1 + (int)rndn(4);

		memcpy(copy, buf, len);
		for (int j = 0; j < nflips; j++)
			copy[rndn(len)] ^= (uint8_t)(1 + rndn(255));
		spit(bad, copy, len);
		read_all(bad, NULL);
		free(copy);
	}
	unlink(bad);
	unlink(f.path);
	free(buf);
	fixture_release(&f);
}

static void test_open_errors(void **state)
{
	char path[300], eb[512];
	int err = 0;

	snprintf(path, sizeof(path), "%s/none-%d.fst", tmpdir(), (int)getpid());
	assert_null(trace_reader_open(path, &err, eb, sizeof(eb)));
	assert_int_equal(err, -ENOENT);
	assert_non_null(strstr(eb, "No such file"));
	spit(path, (const uint8_t *)"hello world, this is not a trace", 32);
	assert_null(trace_reader_open(path, &err, eb, sizeof(eb)));
	assert_int_equal(err, FS_ERRNO__BAD_MAGIC);
	assert_non_null(strstr(eb, "offset 0"));
	spit(path, (const uint8_t *)FST_MAGIC "\x02\0\0\0\0\0\0\0", 16);
	assert_null(trace_reader_open(path, &err, eb, sizeof(eb)));
	assert_int_equal(err, FS_ERRNO__VERSION);
	spit(path, (const uint8_t *)FST_MAGIC "\x01\0\0\0\0\0\0\0", 16);
	assert_null(trace_reader_open(path, &err, eb, sizeof(eb)));
	assert_int_equal(err, FS_ERRNO__NO_HEADER);
	unlink(path);
}

/* A section of a type this build does not know is skipped. */
static void test_unknown_section_skipped(void **state)
{
	struct fixture f;
	uint8_t *buf, *out;
	size_t len;
	struct obuf sec = { 0 };
	const char junk[] = "a section from the future";
	uint32_t c;

	write_fixture(&f, 9, 500);
	buf = slurp(f.path, &len);
	/* insert an unknown section right after the file header; the index offsets would be
	 * stale, so drop the footer: the reader walks the sections */
	obuf_le32(&sec, FST_SECTION_SYNC);
	obuf_u8(&sec, 0x77);
	obuf_u8(&sec, 0);
	obuf_u8(&sec, 0);
	obuf_u8(&sec, 0);
	obuf_le64(&sec, sizeof(junk));
	obuf_le64(&sec, sizeof(junk));
	c = (uint32_t)crc32(0, (const unsigned char *)junk, sizeof(junk));
	obuf_le32(&sec, c);
	obuf_le32(&sec, (uint32_t)crc32(0, sec.p, 28));
	obuf_bytes(&sec, junk, sizeof(junk));
	out = malloc(len + sec.len);
	memcpy(out, buf, FST_FILE_HEADER_LEN);
	memcpy(out + FST_FILE_HEADER_LEN, sec.p, sec.len);
	memcpy(out + FST_FILE_HEADER_LEN + sec.len, buf + FST_FILE_HEADER_LEN, len - FST_FILE_HEADER_LEN - FST_TRAILER_LEN);
	spit(f.path, out, len + sec.len - FST_TRAILER_LEN);
	{
		bool trunc;

		assert_true(read_all(f.path, &trunc) == (int64_t)f.nr_ev);
		assert_true(trunc);	/* no footer */
	}
	free(out);
	free(buf);
	obuf_release(&sec);
	unlink(f.path);
	fixture_release(&f);
}

/* Decoders get hostile payloads with valid checksums in the real world (a buggy writer):
 * mutated and cut encodings must decode or fail cleanly, never crash or over-allocate. */
static void test_decoders_on_mutated_payloads(void **state)
{
	rng_state = 99;
	for (int i = 0; i < 3000; i++) {
		struct obuf b = { 0 };
		int which = (int)rndn(4);
		struct trace_header h;
		struct trace_snapshot s;
		struct trace_loss l = { 0 };
		struct trace_event ev[64], *out = NULL;
		uint64_t ts = 0, first;
		uint32_t cap = 0, n;
		struct ibuf in;
		size_t len;

		switch (which) {
		case 0:
			gen_header(&h);
			fst_encode_header(&b, &h);
			trace_header_release(&h);
			break;
		case 1:
			gen_snapshot(&s, TRACE_SNAP_START);
			fst_encode_snapshot(&b, &s);
			trace_snapshot_release(&s);
			break;
		case 2:
			l.nr_cpus = 2;
			l.lost_per_cpu = calloc(2, sizeof(uint64_t));
			fst_encode_loss(&b, &l);
			trace_loss_release(&l);
			break;
		default:
			for (int j = 0; j < 64; j++)
				gen_event(&ev[j], &ts, (int)rndn(2));
			fst_encode_chunk(&b, ev, 64, rnd());
			break;
		}
		len = b.len;
		for (int j = (int)rndn(6); j >= 0 && len; j--)
			b.p[rndn(len)] ^= (uint8_t)(1 + rndn(255));
		if (rndn(2))
			len = rndn(len + 1);
		in.p = b.p;
		in.end = b.p + len;
		in.bad = false;
		switch (which) {
		case 0:
			if (!fst_decode_header(&in, &h))
				trace_header_release(&h);
			break;
		case 1:
			if (!fst_decode_snapshot(&in, &s))
				trace_snapshot_release(&s);
			break;
		case 2:
			if (!fst_decode_loss(&in, &l))
				trace_loss_release(&l);
			break;
		default:
			if (!fst_decode_chunk(&in, &out, &cap, &n, &first))
				assert_true(n <= FST_MAX_CHUNK_EVENTS && n <= len);
			free(out);
			break;
		}
		obuf_release(&b);
	}
}

/* Encodes n events (wild or not) into a chunk payload with FST_DECODE_PAD zero bytes after it. */
static uint8_t *encode_padded(struct trace_event *ev, uint32_t n, int wild, size_t *len)
{
	struct obuf b = { 0 };
	uint64_t ts = 1000;
	uint8_t *p;

	for (uint32_t i = 0; i < n; i++) {
		gen_event(&ev[i], &ts, wild);
		ev[i].seq = 77 + i;
	}
	assert_int_equal(fst_encode_chunk(&b, ev, n, 77), 0);
	p = calloc(1, b.len + FST_DECODE_PAD);
	memcpy(p, b.p, b.len);
	*len = b.len;
	obuf_release(&b);
	return p;
}

/* The batch decoder returns every event of a chunk, whatever batch sizes it is asked for. */
static void test_chunk_batches(void **state)
{
	const uint32_t n = 3 * FST_BATCH + 17;
	struct trace_event *ev = calloc(n, sizeof(*ev)), out[FST_BATCH];
	static const uint32_t sizes[] = { 1, 7, 8, 9, FST_BATCH - 1, FST_BATCH, 100000 };

	rng_state = 42;
	for (int wild = 0; wild < 2; wild++) {
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			struct fst_chunk_dec d;
			size_t len;
			uint8_t *p = encode_padded(ev, n, wild, &len);
			struct ibuf b = { p, p + len, false };
			uint32_t got = 0;
			int k;

			assert_int_equal(fst_chunk_begin(&d, &b), 0);
			assert_int_equal(d.n, n);
			while ((k = fst_chunk_decode(&d, out, sizes[z])) > 0) {
				assert_true((uint32_t)k <= sizes[z] && k <= FST_BATCH);
				for (int i = 0; i < k; i++)
					if (!trace_event_equal(&out[i], &ev[got + i]) || out[i].seq != ev[got + i].seq)
						fail_msg("wild %d batch %u: event %u read back wrong", wild, sizes[z], got + i);
				got += (uint32_t)k;
			}
			assert_int_equal(k, 0);
			assert_int_equal(got, n);
			free(p);
		}
	}
	free(ev);
}

/* A column whose last value runs past the column's end: the batches before it decode, the
 * one holding it fails, and nothing is returned after that. Then the same through the reader:
 * a one-line problem naming the file, the chunk counted corrupt, the next chunk read. */
static void test_chunk_column_ends_early(void **state)
{
	const uint32_t n = 3 * FST_BATCH + 17;
	struct trace_event *ev = calloc(n, sizeof(*ev)), out[FST_BATCH];

	rng_state = 7;
	for (int col = 0; col < FST_NR_COLS; col++) {
		struct fst_chunk_dec d;
		size_t len;
		uint8_t *p = encode_padded(ev, n, col == 7, &len);
		struct ibuf b = { p, p + len, false };
		uint32_t got = 0;
		int k, err;

		assert_int_equal(fst_chunk_begin(&d, &b), 0);
		if (d.col[col].p == d.col[col].end)
			fail_msg("column %d is empty", col);
		/* the column's last byte gets the continuation bit: its last value runs past the end
		 * (for SMALL, a byte value, make the column look one value short instead) */
		if (col == 5)
			d.col[col].end--;
		else
			((uint8_t *)d.col[col].end)[-1] |= 0x80;
		while ((k = fst_chunk_decode(&d, out, FST_BATCH)) > 0) {
			for (int i = 0; i < k; i++)
				assert_true(trace_event_equal(&out[i], &ev[got + i]));
			got += (uint32_t)k;
		}
		err = k;
		assert_int_equal(err, FS_ERRNO__CORRUPT);
		assert_true(got < n);
		assert_int_equal(fst_chunk_decode(&d, out, FST_BATCH), 0);	/* nothing more */
		assert_int_equal(fst_chunk_left(&d), 0);
		free(p);
	}
	free(ev);
}

/* Finds the first CHUNK section of an uncompressed file in p[0..n): its offset, or 0. */
static size_t first_chunk(const uint8_t *p, size_t n)
{
	size_t off = FST_FILE_HEADER_LEN;

	while (off + FST_SECTION_HDR_LEN <= n) {
		uint16_t type = (uint16_t)(p[off + 4] | p[off + 5] << 8);
		uint64_t stored;

		memcpy(&stored, p + off + 8, 8);
		if (type == FST_SEC_CHUNK)
			return off;
		off += FST_SECTION_HDR_LEN + stored;
	}
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* path: a header and n generated events (rng seed), nothing else; the events into out if given */
static void write_generated(const char *path, const struct trace_writer_opts *o, uint64_t seed, int n,
			    struct trace_event *out)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_event e;
	uint64_t ts = 5000;
	int err;

	rng_state = seed;
	gen_header(&h);
	w = trace_writer_open(path, o, &err);
	assert_non_null(w);
	assert_int_equal(trace_writer_header(w, &h), 0);
	for (int i = 0; i < n; i++) {
		gen_event(&e, &ts, 0);
		e.seq = (uint64_t)i;
		if (out)
			out[i] = e;
		assert_int_equal(trace_writer_event(w, &e), 0);
	}
	assert_int_equal(trace_writer_close(w), 0);
	trace_header_release(&h);
}

static void test_reader_chunk_ends_early(void **state)
{
	struct trace_writer_opts o = { .sz = sizeof(o), .no_compress = true, .chunk_events = 1000 };
	char path[300];
	struct trace_reader *r;
	struct trace_event e;
	struct fst_chunk_dec d;
	uint64_t read = 0, errors = 0, first_bad = UINT64_MAX, last_seq = 0;
	uint8_t *p;
	size_t n, off;
	struct ibuf b;
	int err, got;

	snprintf(path, sizeof(path), "%s/early-%d.fst", tmpdir(), (int)getpid());
	write_generated(path, &o, 99, 2000, NULL);

	/* the first chunk's PFN column: its last value made to run past the column's end, the
	 * checksums recomputed (a writer bug, not damage on disk) */
	p = slurp(path, &n);
	off = first_chunk(p, n);
	assert_true(off > 0);
	b.p = p + off + FST_SECTION_HDR_LEN;
	b.end = b.p + (p[off + 8] | p[off + 9] << 8 | p[off + 10] << 16);
	b.bad = false;
	assert_int_equal(fst_chunk_begin(&d, &b), 0);
	((uint8_t *)d.col[4].end)[-1] |= 0x80;
	put_le32(p + off + 24, (uint32_t)crc32(0, p + off + FST_SECTION_HDR_LEN, (uInt)(b.end - (p + off + FST_SECTION_HDR_LEN))));
	put_le32(p + off + 28, (uint32_t)crc32(0, p + off, 28));
	spit(path, p, n);
	free(p);

	r = trace_reader_open(path, &err, NULL, 0);
	assert_non_null(r);
	while ((got = trace_reader_next(r, &e)) != 0) {
		if (got < 0) {
			errors++;
			first_bad = last_seq + 1;
			continue;
		}
		last_seq = e.seq;
		read++;
	}
	assert_int_equal(errors, 1);
	assert_int_equal(trace_reader_status(r)->corrupt_chunks, 1);
	assert_non_null(strstr(trace_reader_status(r)->first_problem, path));
	assert_non_null(strstr(trace_reader_status(r)->first_problem, "event chunk does not decode"));
	assert_null(strchr(trace_reader_status(r)->first_problem, '\n'));
	/* the batches of the first chunk before the bad value, then all of the second chunk */
	assert_true(first_bad < 1000 && first_bad % FST_BATCH == 0);
	assert_int_equal(read, first_bad + 1000);
	assert_int_equal(last_seq, 1999);
	trace_reader_close(r);
	unlink(path);
}

/* trace_reader_next_batch() returns the stream trace_reader_next() does, in runs of at most a
 * batch, and after a seek the run starts at the event asked for. */
static void test_reader_next_batch(void **state)
{
	struct trace_writer_opts o = { .sz = sizeof(o), .chunk_events = 1000 };
	const struct trace_event *evs;
	struct trace_event *ev = calloc(3000, sizeof(*ev));
	struct trace_reader *r;
	char path[300];
	uint64_t seen = 0;
	int err, n;

	snprintf(path, sizeof(path), "%s/batch-%d.fst", tmpdir(), (int)getpid());
	write_generated(path, &o, 5, 3000, ev);
	r = trace_reader_open(path, &err, NULL, 0);
	assert_non_null(r);
	while ((n = trace_reader_next_batch(r, &evs)) > 0) {
		assert_true(n <= FST_BATCH);
		for (int i = 0; i < n; i++) {
			assert_int_equal(evs[i].seq, seen);
			assert_true(trace_event_equal(&evs[i], &ev[seen]));
			seen++;
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(seen, 3000);
	assert_int_equal(trace_reader_seek(r, 1777), 0);
	assert_true(trace_reader_next_batch(r, &evs) > 0);
	assert_int_equal(evs[0].seq, 1777);
	trace_reader_close(r);
	unlink(path);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_header_helpers),
		cmocka_unit_test(test_round_trip_many_seeds),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_unknown_section_skipped),
		cmocka_unit_test(test_truncation_every_point),
		cmocka_unit_test(test_random_byte_flips),
		cmocka_unit_test(test_decoders_on_mutated_payloads),
		cmocka_unit_test(test_chunk_batches),
		cmocka_unit_test(test_chunk_column_ends_early),
		cmocka_unit_test(test_reader_chunk_ends_early),
		cmocka_unit_test(test_reader_next_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
