// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay/timeline: delta checkpoints restore exactly what full checkpoints hold (on a real
 * lab capture), and on a model-generated trace (tests/bench/synth-trace.h) follow replay
 * agrees with the generating model (no resync, equal end state) and a seek through a delta
 * checkpoint gives the model of a straight replay stopped at the same event.
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

#include "replay/engine.h"
#include "replay/timeline.h"
#include "traces/trace.h"
#include "tests/bench/synth-trace.h"

/* Where two snapshots differ, or NULL. Lists are compared in order. */
static const char *snapshot_diff(const struct trace_snapshot *a, const struct trace_snapshot *b)
{
	if (a->nr_free_blocks != b->nr_free_blocks)
		return "number of free blocks";
	if (a->nr_pcp_pages != b->nr_pcp_pages)
		return "number of pcp pages";
	if (a->nr_pageblock_zones != b->nr_pageblock_zones)
		return "pageblock zones";
	for (uint64_t i = 0; i < a->nr_free_blocks; i++) {
		const struct trace_free_block *x = &a->free_blocks[i], *y = &b->free_blocks[i];

		if (x->pfn != y->pfn || x->zone != y->zone || x->order != y->order || x->mt != y->mt)
			return "free list order or contents";
	}
	for (uint64_t i = 0; i < a->nr_pcp_pages; i++) {
		const struct trace_pcp_page *x = &a->pcp_pages[i], *y = &b->pcp_pages[i];

		if (x->pfn != y->pfn || x->cpu != y->cpu || x->zone != y->zone || x->order != y->order ||
		    x->pindex != y->pindex)
			return "pcp list order or contents";
	}
	for (uint32_t z = 0; z < a->nr_pageblock_zones; z++)
		if (a->pageblocks[z].nr != b->pageblocks[z].nr ||
		    memcmp(a->pageblocks[z].types, b->pageblocks[z].types, a->pageblocks[z].nr))
			return "pageblock types";
	return NULL;
}

/* The model of r as a snapshot (lists in the model's own order). */
static void model_snapshot(struct replay *r, uint64_t seq, struct trace_snapshot *s)
{
	assert_int_equal(replay_snapshot_model(r, seq, s), 0);
}

static struct replay_timeline *build_budget(struct trace_reader *rd, uint64_t every, unsigned full_every,
					    uint64_t max_bytes)
{
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	struct replay_timeline_opts t = { .sz = sizeof(t), .every = every, .full_every = full_every,
					  .max_bytes = max_bytes };
	char errbuf[512];
	int err;
	struct replay_timeline *tl = replay_timeline_build_opts(rd, &o, &t, &err, errbuf, sizeof(errbuf));

	if (!tl)
		fail_msg("timeline: %s", errbuf);
	return tl;
}

static struct replay_timeline *build(struct trace_reader *rd, uint64_t every, unsigned full_every)
{
	return build_budget(rd, every, full_every, 0);
}

/* Every checkpoint of a timeline of deltas (one full in 4) equals the same checkpoint of a
 * timeline of full checkpoints only: list order, pcp lists and pageblock types. */
static void test_delta_equals_full(void **state)
{
	const char *path = "traces/golden/fragment-6.18.fst";
	char errbuf[512];
	int err;
	struct trace_reader *rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	struct replay_timeline *full, *delta;
	struct replay_timeline_stats fs, ds;

	(void)state;
	if (!rd)
		skip();
	full = build(rd, 20000, 1);
	delta = build(rd, 20000, 4);
	replay_timeline_get_stats(full, &fs);
	replay_timeline_get_stats(delta, &ds);
	assert_int_equal(fs.nr_delta, 0);
	assert_true(ds.nr_delta >= 10);
	assert_int_equal(ds.nr_full + ds.nr_delta, replay_timeline_count(delta));
	assert_int_equal(replay_timeline_count(full), replay_timeline_count(delta));
	/* deltas are smaller than the full checkpoints they replace */
	assert_true(ds.full_bytes + ds.delta_bytes < fs.full_bytes);
	for (size_t i = 0; i < replay_timeline_count(full); i++) {
		struct trace_snapshot a, b;
		const char *d;

		assert_int_equal(replay_timeline_seq(full, i), replay_timeline_seq(delta, i));
		assert_int_equal(replay_timeline_checkpoint(full, i, &a), 0);
		assert_int_equal(replay_timeline_checkpoint(delta, i, &b), 0);
		assert_true(a.nr_free_blocks + a.nr_pcp_pages > 0);
		d = snapshot_diff(&a, &b);
		if (d)
			fail_msg("checkpoint %zu (event %llu): %s differ", i,
				 (unsigned long long)replay_timeline_seq(full, i), d);
		trace_snapshot_release(&a);
		trace_snapshot_release(&b);
	}
	{
		struct trace_snapshot s;

		assert_int_equal(replay_timeline_checkpoint(delta, replay_timeline_count(delta), &s), -ERANGE);
	}
	replay_timeline_free(full);
	replay_timeline_free(delta);
	trace_reader_close(rd);
}

/* A seek gives, through a checkpoint restored from deltas, the model state of a replay from
 * the start stopped at the same event: every list in order, pageblock types. */
static void seek_matches(struct replay_timeline *tl, struct trace_reader *rd, uint64_t at)
{
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW, .stop_at = at };
	struct replay *a, *b;
	struct trace_snapshot sa, sb;
	struct trace_event ev;
	char errbuf[512];
	const char *d;
	int err;

	assert_int_equal(replay_timeline_seek(tl, rd, at, &a, errbuf, sizeof(errbuf)), 0);
	b = replay_new(trace_reader_header(rd), trace_reader_snapshot(rd, TRACE_SNAP_START), &o, &err, errbuf,
		       sizeof(errbuf));
	assert_non_null(b);
	assert_int_equal(trace_reader_seek(rd, 0), 0);
	while (trace_reader_next(rd, &ev) > 0 && ev.seq < at + REPLAY_WINDOW)
		assert_int_equal(replay_feed(b, &ev), 0);
	assert_int_equal(replay_finish(b, NULL), 0);
	model_snapshot(a, at, &sa);
	model_snapshot(b, at, &sb);
	d = snapshot_diff(&sa, &sb);
	if (d)
		fail_msg("seek to %llu: %s differ from a replay stopped there", (unsigned long long)at, d);
	trace_snapshot_release(&sa);
	trace_snapshot_release(&sb);
	replay_free(a);
	replay_free(b);
}

static void test_synthetic_trace(void **state)
{
	const char *from = "traces/golden/lab-6.12-256M-fragment.fst";
	const char *tmp = getenv("FRAGSCOPE_TMP");
	char path[256], errbuf[512];
	struct synth_opts so = { .nr_events = 250000, .seed = 42, .chunk_events = 4096 };
	struct synth_stats st;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	struct trace_reader *rd;
	struct replay *r;
	struct replay_timeline *tl;
	struct replay_timeline_stats ts;
	struct trace_event ev;
	const struct replay_result *res;
	uint64_t resyncs = 0, n;
	int err;

	(void)state;
	if (access(from, R_OK))
		skip();
	snprintf(path, sizeof(path), "%s/test-timeline-synth-%d.fst", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	err = synth_trace(from, path, &so, &st, errbuf, sizeof(errbuf));
	if (err)
		fail_msg("synth: %s", errbuf);
	assert_true(st.events >= so.nr_events);
	assert_true(st.allocs > 1000 && st.frees > 1000);
	rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	assert_non_null(rd);
	n = trace_reader_nr_events(rd);
	assert_int_equal(n, st.events);
	assert_non_null(trace_header_get(trace_reader_header(rd), "capture.synthetic"));
	/* follow replay explains every event and ends in the generating model's state */
	r = replay_new(trace_reader_header(rd), trace_reader_snapshot(rd, TRACE_SNAP_START), &o, &err, errbuf,
		       sizeof(errbuf));
	assert_non_null(r);
	while ((err = trace_reader_next(rd, &ev)) > 0)
		assert_int_equal(replay_feed(r, &ev), 0);
	assert_int_equal(err, 0);
	assert_int_equal(replay_finish(r, trace_reader_snapshot(rd, TRACE_SNAP_END)), 0);
	res = replay_get_result(r);
	for (int c = 0; c < RC_NR; c++)
		resyncs += res->resyncs[c];
	assert_int_equal(resyncs, 0);
	assert_true(res->takes > 0);
	assert_int_equal(res->decision_agree, res->takes);
	assert_true(res->have_end);
	assert_int_equal(res->pb_equal, res->pb_compared);
	assert_int_equal(res->fb_equal, res->fb_compared);
	replay_free(r);
	/* seeks through deltas */
	tl = build(rd, 20000, 4);
	replay_timeline_get_stats(tl, &ts);
	assert_true(ts.nr_delta >= 6);
	{
		static const uint64_t at[] = { 1, 29999, 30001, 95000, 123457, 210000 };

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
			seek_matches(tl, rd, at[i] < n ? at[i] : n - 1);
		seek_matches(tl, rd, n - 1);
	}
	replay_timeline_free(tl);
	trace_reader_close(rd);
	unlink(path);
}

/* A memory budget a third of what the index needs: checkpoints are thinned (every other one
 * dropped, the rest re-encoded, the spacing doubled) until it fits; every kept checkpoint
 * still equals the full checkpoint taken at the same event without a budget. */
static void test_budget(void **state)
{
	const char *path = "traces/golden/lab-6.12-512M-fragment.fst";
	char errbuf[512];
	int err;
	struct trace_reader *rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	struct replay_timeline *full, *thin;
	struct replay_timeline_stats ts;
	uint64_t budget;
	size_t j = 0;

	(void)state;
	if (!rd)
		skip();
	full = build(rd, 5000, 1);
	thin = build(rd, 5000, 4);
	budget = replay_timeline_bytes(thin) / 3;
	replay_timeline_free(thin);
	thin = build_budget(rd, 5000, 4, budget);
	replay_timeline_get_stats(thin, &ts);
	assert_true(ts.thinned >= 1);
	assert_true(ts.nr_delta >= 1);
	assert_true(replay_timeline_bytes(thin) <= budget);
	assert_int_equal(replay_timeline_every(thin), 5000ULL << ts.thinned);
	assert_true(replay_timeline_count(thin) >= 4);
	for (size_t i = 0; i < replay_timeline_count(thin); i++) {
		struct trace_snapshot a, b;
		const char *d;

		while (j < replay_timeline_count(full) && replay_timeline_seq(full, j) < replay_timeline_seq(thin, i))
			j++;
		assert_true(j < replay_timeline_count(full));
		assert_int_equal(replay_timeline_seq(full, j), replay_timeline_seq(thin, i));
		if (i)
			assert_true(replay_timeline_seq(thin, i) > replay_timeline_seq(thin, i - 1));
		assert_int_equal(replay_timeline_checkpoint(full, j, &a), 0);
		assert_int_equal(replay_timeline_checkpoint(thin, i, &b), 0);
		d = snapshot_diff(&a, &b);
		if (d)
			fail_msg("thinned checkpoint %zu (event %llu): %s differ", i,
				 (unsigned long long)replay_timeline_seq(thin, i), d);
		trace_snapshot_release(&a);
		trace_snapshot_release(&b);
	}
	seek_matches(thin, rd, replay_timeline_seq(thin, replay_timeline_count(thin) - 1) + 777);
	replay_timeline_free(full);
	replay_timeline_free(thin);
	trace_reader_close(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_equals_full),
		cmocka_unit_test(test_synthetic_trace),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
