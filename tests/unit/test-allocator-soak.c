// SPDX-License-Identifier: GPL-2.0-only
/*
 * allocator/: the scripted scenario whose tracepoint-like events must come out in each
 * kernel's order (alloc-path.md §11 with spec-review W1), and a seeded randomized soak with
 * the invariant checker every N steps, predictions checked against real runs, and the same
 * result hash for the same seed.
 */
#include "tests/unit/allocator-test.h"

#include <errno.h>

/* ---- scripted scenario ------------------------------------------------------------------------- */

static void scn_alloc(struct buddy_model *m, unsigned order, uint32_t gfp, uint64_t want)
{
	struct buddy_alloc_req r = { .order = order, .gfp = gfp | BUDDY_GFP_KSWAPD_RECLAIM | BUDDY_GFP_DIRECT_RECLAIM,
				     .mt = BUDDY_MT_NONE, .highest_zone_type = -1, .nid = -1 };
	struct buddy_alloc_res res;

	assert_int_equal(buddy_alloc(m, &r, &res), 0);
	assert_int_equal(res.pfn, want);
	check_ok(m);
}

static void test_event_order(void **state)
{
	/* hand-computed per profile; Z = mm_page_alloc_zone_locked, E = mm_page_alloc_extfrag,
	 * D = mm_page_pcpu_drain. The pcp is disabled (high 0, batch 1) so every page passes
	 * through a refill of one and every free drains at once. */
	static const char *const want[4] = {
		/* 6.1: extfrag (found buddy) before the retry's zone_locked */
		"E8/0/3/U/M/1 Z8/0/U/1 Z9/0/U/1 D8/0/U Z4/2/M/1 Z10/1/U/1 E12/0/2/R/U/1 Z8/0/R/1 Z12/0/R/1 "
		"Z14/1/R/1 D9/0/R",
		/* 6.12e, 6.12l, 6.18: whole block -> extfrag only; claim -> zone_locked then extfrag */
		"E8/0/3/U/M/1 Z9/0/U/1 D8/0/U Z4/2/M/1 Z10/1/U/1 Z8/0/R/1 E8/0/2/R/U/1 Z12/0/R/1 Z14/1/R/1 D9/0/R",
		"E8/0/3/U/M/1 Z9/0/U/1 D8/0/U Z4/2/M/1 Z10/1/U/1 Z8/0/R/1 E8/0/2/R/U/1 Z12/0/R/1 Z14/1/R/1 D9/0/R",
		"E8/0/3/U/M/1 Z9/0/U/1 D8/0/U Z4/2/M/1 Z10/1/U/1 Z8/0/R/1 E8/0/2/R/U/1 Z12/0/R/1 Z14/1/R/1 D9/0/R",
	};
	struct tzone t = { .pb = "MMMMMMMM", .free = "M2@4 M3@8" };

	for (int p = 0; p < 4; p++) {
		struct buddy_model *m = tzone_new(&t, p);
		struct evlog log = { .off = 0 };

		print_message("  [%s] scripted scenario\n", prof_names[p]);
		buddy_set_observer(m, evlog_cb, &log);
		scn_alloc(m, 0, 0, 8);				/* Unmovable: NOFRAGMENT claims block 1 whole */
		scn_alloc(m, 0, 0, 9);
		assert_int_equal(buddy_free(m, 8, 0, 0, 0), 0);	/* pcp commit, high 0: drained at once */
		scn_alloc(m, 2, BUDDY_GFP_MOVABLE, 4);
		scn_alloc(m, 1, 0, 10);
		scn_alloc(m, 0, BUDDY_GFP_RECLAIMABLE, 8);	/* NOFRAGMENT pass fails, then a claim below pageblock */
		scn_alloc(m, 0, BUDDY_GFP_RECLAIMABLE, 12);
		scn_alloc(m, 1, BUDDY_GFP_RECLAIMABLE, 14);
		assert_int_equal(buddy_free(m, 9, 0, 0, 0), 0);
		check_ok(m);
		assert_string_equal(log.buf, want[p]);
		buddy_free_model(m);
	}
}

/* ---- randomized soak --------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: deterministic, no libc rand() */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct live {
	uint64_t pfn;
	unsigned order;
};

struct soak_stats {
	uint64_t allocs, fails, frees, predicts, drains, claims, steals;
};

static void count_cb(void *ctx, const struct buddy_event *ev)
{
	struct soak_stats *st = ctx;

	if (ev->kind == BUDDY_EV_EXTFRAG) {
		if (ev->change_ownership)
			st->claims++;
		else
			st->steals++;
	}
}

static uint64_t soak(int prof, uint64_t seed, unsigned steps, struct soak_stats *st)
{
	struct buddy_config c;
	struct buddy_zone_config zc[2];
	struct buddy_model *m;
	struct live *live;
	unsigned nlive = 0, cap = 1u << 15;
	char eb[200];
	int err;
	uint64_t h;

	buddy_config_init(&c);
	buddy_profile_by_name(prof_names[prof], &c.profile);
	memset(zc, 0, sizeof(zc));
	strcpy(zc[0].name, "DMA32");
	zc[0].zone_type = BUDDY_ZONE_DMA32;
	zc[0].start_pfn = 0;
	zc[0].spanned = 4096;
	zc[0].wmark_min = 32;
	zc[0].wmark_low = 40;
	zc[0].wmark_high = 48;
	zc[0].lowmem_reserve[BUDDY_ZONE_NORMAL] = 64;
	strcpy(zc[1].name, "Normal");
	zc[1].zone_type = BUDDY_ZONE_NORMAL;
	zc[1].start_pfn = 4096 + 512;	/* a gap between the zones */
	zc[1].spanned = 16384 - 300;	/* ends inside a pageblock */
	{
		static const struct buddy_pfn_range holes[] = { { 9000, 9100 } };

		zc[1].holes = holes;
		zc[1].nr_holes = 1;
	}
	zc[1].managed = 20000;		/* > 4 pageblocks * 100: highatomic reserves possible */
	zc[1].wmark_min = 128;
	zc[1].wmark_low = 160;
	zc[1].wmark_high = 192;
	c.nr_orders = 11;
	c.pageblock_order = 9;
	c.nr_cpus = 2;
	c.nr_zones = 2;
	c.zones = zc;
	m = buddy_new(&c, &err, eb, sizeof(eb));
	if (!m)
		fail_msg("buddy_new: %s", eb);
	buddy_set_observer(m, count_cb, st);
	assert_int_equal(buddy_seed_all_free(m), 0);
	check_ok(m);
	live = calloc(cap, sizeof(*live));
	assert_non_null(live);
	for (unsigned s = 0; s < steps; s++) {
		uint64_t r = rng_next(&seed);
		unsigned op = r % 100;

		if (op < 52 && nlive < cap) {
			struct buddy_alloc_req q = { .highest_zone_type = -1, .nid = -1, .mt = BUDDY_MT_NONE };
			struct buddy_alloc_res res;
			unsigned x = (unsigned)(r >> 8) % 100;

			q.order = x < 70 ? 0 : x < 85 ? (unsigned)(r >> 16) % 4 : x < 92 ? 9 : (unsigned)(r >> 20) % 11;
			switch ((r >> 24) % 8) {
			case 0: case 1: case 2: q.gfp = BUDDY_GFP_MOVABLE | BUDDY_GFP_HIGHMEM; break;
			case 3: q.gfp = BUDDY_GFP_RECLAIMABLE; break;
			case 4: q.gfp = BUDDY_GFP_DMA32; break;
			default: q.gfp = 0; break;
			}
			q.gfp |= BUDDY_GFP_KSWAPD_RECLAIM | ((r >> 28) % 5 ? BUDDY_GFP_DIRECT_RECLAIM : BUDDY_GFP_HIGH);
			q.cpu = (r >> 32) & 1;
			if ((r >> 44) % 16 == 0) {
				/* the whole allocation predicted first: same answer, nothing changed */
				struct buddy_alloc_res pres;
				struct buddy_take ptake;
				uint64_t h0 = (r >> 48) % 8 == 0 ? buddy_state_hash(m) : 0;
				int perr = buddy_predict_alloc(m, &q, &pres, &ptake);

				if (h0)
					assert_true(buddy_state_hash(m) == h0);
				err = buddy_alloc(m, &q, &res);
				assert_int_equal(perr, err);
				assert_true(pres.pfn == res.pfn);
				assert_int_equal(pres.from_pcp, res.from_pcp);
				if (!err)
					assert_true(ptake.pfn == res.pfn);
				st->predicts++;
			} else {
				err = buddy_alloc(m, &q, &res);
			}
			if (!err) {
				live[nlive].pfn = res.pfn;
				live[nlive++].order = q.order;
				st->allocs++;
			} else {
				assert_int_equal(err, -ENOMEM);
				st->fails++;
			}
		} else if (op < 97 && nlive) {
			unsigned k = (unsigned)((r >> 8) % nlive);

			err = buddy_free(m, live[k].pfn, live[k].order, (r >> 40) & 1, 0);
			if (err)
				fail_msg("free: %s", buddy_last_error(m));
			live[k] = live[--nlive];
			st->frees++;
		} else if (op < 99) {
			/* prediction against the real step, then give the page back */
			struct buddy_take pred, real;
			unsigned order = (unsigned)(r >> 8) % 11;
			int mt = (int)((r >> 16) % 3), zone = (int)((r >> 20) & 1);
			uint32_t flags = (r >> 24) & 1 ? BUDDY_ALLOC_NOFRAGMENT : 0;
			bool hash = (st->predicts & 31) == 0;	/* hashing the state is O(pages) */
			uint64_t h0 = hash ? buddy_state_hash(m) : 0;

			assert_int_equal(buddy_predict_rmqueue(m, zone, order, mt, flags, BUDDY_RMQ_BUDDY, NULL, &pred), 0);
			if (hash)
				assert_true(buddy_state_hash(m) == h0);
			assert_int_equal(buddy_rmqueue(m, zone, order, mt, flags, BUDDY_RMQ_BUDDY, NULL, &real), 0);
			assert_true(pred.pfn == real.pfn);
			assert_int_equal(pred.path, real.path);
			assert_int_equal(pred.change_ownership, real.change_ownership);
			if (real.pfn != BUDDY_PFN_NONE && nlive < cap) {
				live[nlive].pfn = real.pfn;
				live[nlive++].order = order;
			}
			st->predicts++;
		} else {
			assert_int_equal(buddy_drain_pcp(m, -1, (int)((r >> 8) & 1)), 0);
			st->drains++;
		}
		if (s % 4096 == 0)
			check_ok(m);
	}
	check_ok(m);
	h = buddy_state_hash(m);
	free(live);
	buddy_free_model(m);
	return h;
}

static void test_soak_deterministic(void **state)
{
	const char *env = getenv("FRAGSCOPE_SOAK_STEPS");
	unsigned steps = env ? (unsigned)strtoul(env, NULL, 10) : 200000;

	for (int p = 0; p < 4; p++) {
		struct soak_stats a = { 0 }, b = { 0 };
		uint64_t h1 = soak(p, 42, steps, &a);
		uint64_t h2 = soak(p, 42, steps, &b);

		print_message("  [%s] %u steps: %llu allocs (%llu failed), %llu frees, %llu predictions, %llu claims, "
			      "%llu steals, hash %016llx\n", prof_names[p], steps, (unsigned long long)a.allocs,
			      (unsigned long long)a.fails, (unsigned long long)a.frees, (unsigned long long)a.predicts,
			      (unsigned long long)a.claims, (unsigned long long)a.steals, (unsigned long long)h1);
		assert_true(h1 == h2);
		assert_memory_equal(&a, &b, sizeof(a));
		/* the soak must reach the fallback paths it is meant to exercise */
		assert_true(a.claims > 0);
		assert_true(a.steals > 0);
		/* another seed gives another run */
		assert_true(soak(p, 43, steps / 10, &b) != soak(p, 42, steps / 10, &a));
	}
}

/* follow-mode primitives driven at random: a failed primitive must leave the state exactly as it
 * was (hash), a successful one must keep the invariants; resyncs always succeed */
static void test_primitives_random(void **state)
{
	for (int p = 0; p < 4; p++) {
		struct tzone t = { .nr_orders = 6, .pbo = 3, .span = 256, .pcp_batch = 3, .pcp_high = 12, .nr_cpus = 2,
				   .pb = "MMUURRMMHMMUMMMMMMMMMMMMMMMMMMMM" };
		struct buddy_model *m = tzone_new(&t, p);
		uint64_t seed = 7 + (uint64_t)p, ok = 0, refused = 0;

		assert_int_equal(buddy_seed_all_free(m), 0);
		check_ok(m);
		for (int s = 0; s < 60000; s++) {
			uint64_t r = rng_next(&seed), h = buddy_state_hash(m);
			uint64_t pfn = (r >> 8) % 256;
			unsigned order = (unsigned)((r >> 20) % 4);
			int mt = (int)((r >> 24) % 3), cpu = (int)((r >> 28) & 1), err = 0;
			struct buddy_take tk;

			pfn &= ~((1ull << order) - 1);
			switch ((r >> 32) % 12) {
			case 0: case 1:
				err = buddy_take_block(m, pfn, order, (r >> 40) & 1 ? BUDDY_MT_ANY : mt, BUDDY_MT_ANY, mt, NULL);
				break;
			case 2: case 3:
				err = buddy_free_block(m, pfn, order, BUDDY_MT_ANY, (r >> 40) & 1 ? BUDDY_FPI_TO_TAIL : 0);
				break;
			case 4:
				err = buddy_pcp_add(m, (unsigned)cpu, pfn, order, mt, (r >> 40) & 1, -1);
				break;
			case 5:
				err = buddy_pcp_remove(m, (r >> 40) & 1 ? -1 : cpu, pfn, order, mt, NULL, NULL);
				break;
			case 6:
				err = buddy_pcp_drain_page(m, -1, pfn, order, BUDDY_MT_ANY);
				break;
			case 7:
				err = buddy_apply_fallback(m, pfn, order + 1, order, mt, (mt + 1) % 3, 0, (r >> 40) & 1, &tk);
				break;
			case 8:
				err = buddy_move_freepages_block(m, pfn, BUDDY_MT_ANY, mt, BUDDY_MOVE_PROFILE, NULL, NULL);
				break;
			case 9:
				assert_int_equal(buddy_resync_allocated(m, pfn, order, mt, NULL), 0);
				break;
			case 10:
				assert_int_equal(buddy_resync_free(m, pfn, order, mt, (r >> 40) & 1), 0);
				break;
			default:
				assert_int_equal(buddy_resync_pcp(m, (unsigned)cpu, pfn, order, mt, (r >> 40) & 1), 0);
				break;
			}
			if (err) {
				assert_true(err == FS_ERRNO__CONTRADICTION || err == -ERANGE);
				assert_true(buddy_state_hash(m) == h);
				assert_true(buddy_last_error(m)[0] != '\0');
				refused++;
			} else {
				ok++;
			}
			if (s % 64 == 0)
				check_ok(m);
		}
		check_ok(m);
		print_message("  [%s] %llu primitives applied, %llu refused with a contradiction\n", prof_names[p],
			      (unsigned long long)ok, (unsigned long long)refused);
		assert_true(ok > 1000 && refused > 1000);
		buddy_free_model(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_order),
		cmocka_unit_test(test_soak_deterministic),
		cmocka_unit_test(test_primitives_random),
	};
	return cmocka_run_group_tests_name("allocator-soak", tests, NULL, NULL);
}
