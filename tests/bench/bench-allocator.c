// SPDX-License-Identifier: GPL-2.0-only
/*
 * allocator/ throughput and footprint: a mixed workload (orders 0-3, 9 and others; Unmovable,
 * Movable, Reclaimable; two CPUs; pcp refills and drains, fallbacks) on a 24 GiB Normal zone
 * kept about half full. Frees have the temporal locality of real workloads: 95% free one of
 * the 32 most recent live allocations, 5% a random live one (long-lived memory). Throughput is
 * measured in CPU time (CLOCK_PROCESS_CPUTIME_ID): the machine is shared and wall time is noise.
 * Prints:
 *   bench model_ops VALUE ops/s            (allocations + frees per second, simulate mode)
 *   bench model_ops_local_frees VALUE ops/s (the same with every free among the 32 most recent)
 *   bench model_bytes_per_page VALUE B     (model state per page frame)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "allocator/buddy.h"

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* a value in [0, n) from 32 random bits, without a division (Lemire's multiply-shift) */
static inline uint64_t range(uint64_t r, uint64_t n)
{
	return ((r & 0xffffffffull) * n) >> 32;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct live { uint64_t v; };	/* pfn << 8 | order: 8 bytes, the harness's own footprint small */

static int run(uint64_t ops, unsigned local_pct, double *ops_s, double *bpp)
{
	const uint64_t pages = 24ull << 18;	/* 24 GiB of 4 KiB pages */
	struct buddy_config c;
	struct buddy_zone_config zc;
	struct buddy_model *m;
	struct live *live;
	uint64_t nlive = 0, cap = 4000000, seed = 1, done = 0, fails = 0, live_pages = 0;
	char eb[256];
	int err;
	double t0, t1;

	buddy_config_init(&c);
	buddy_profile_by_name(getenv("FRAGSCOPE_BENCH_PROFILE") ? getenv("FRAGSCOPE_BENCH_PROFILE") : "linux-6.12",
			      &c.profile);
	memset(&zc, 0, sizeof(zc));
	strcpy(zc.name, "Normal");
	zc.zone_type = BUDDY_ZONE_NORMAL;
	zc.start_pfn = 1ull << 20;
	zc.spanned = pages;
	zc.wmark_min = 11264;
	zc.wmark_low = 14080;
	zc.wmark_high = 16896;
	c.nr_cpus = 2;
	c.nr_zones = 1;
	c.zones = &zc;
	m = buddy_new(&c, &err, eb, sizeof(eb));
	if (!m) {
		fprintf(stderr, "bench-allocator: %s\n", eb);
		return 1;
	}
	buddy_seed_all_free(m);
	if (posix_memalign((void **)&live, 2 << 20, cap * sizeof(*live)))
		return 1;
	(void)madvise(live, cap * sizeof(*live), MADV_HUGEPAGE);
	t0 = now();
	while (done < ops) {
		uint64_t r = rng(&seed);
		/* keep about half the zone allocated: allocate more often below that, free more above */
		unsigned bias = live_pages < pages / 2 ? 55 : 45;

		if (range(r, 100) < bias && nlive < cap) {
			struct buddy_alloc_req q = { .highest_zone_type = -1, .nid = -1, .mt = BUDDY_MT_NONE };
			struct buddy_alloc_res res;
			unsigned x = (unsigned)range(r >> 8, 1000);

			q.order = x < 900 ? 0 : x < 980 ? 1 + (unsigned)range(r >> 20, 3) : x < 995 ? 9 : (unsigned)range(r >> 20, 11);
			switch ((r >> 24) % 8) {
			case 0: case 1: case 2: case 3: case 4: q.gfp = BUDDY_GFP_MOVABLE | BUDDY_GFP_HIGHMEM; break;
			case 5: q.gfp = BUDDY_GFP_RECLAIMABLE; break;
			default: q.gfp = 0; break;
			}
			q.gfp |= BUDDY_GFP_KSWAPD_RECLAIM | BUDDY_GFP_DIRECT_RECLAIM;
			q.cpu = (r >> 32) & 1;
			if (!buddy_alloc(m, &q, &res)) {
				live[nlive++].v = res.pfn << 8 | q.order;
				live_pages += 1ull << q.order;
			} else {
				fails++;
			}
		} else if (nlive) {
			uint64_t k = range(r >> 8, 100) < local_pct ? nlive - 1 - range(r >> 16, nlive < 32 ? nlive : 32)
							    : range(r >> 24, nlive);

			live_pages -= 1ull << (live[k].v & 0xff);
			if (buddy_free(m, live[k].v >> 8, (unsigned)(live[k].v & 0xff), (r >> 40) & 1, 0)) {
				fprintf(stderr, "bench-allocator: %s\n", buddy_last_error(m));
				return 1;
			}
			live[k] = live[--nlive];
		}
		done++;
	}
	t1 = now();
	if (buddy_check(m)) {
		fprintf(stderr, "bench-allocator: %s\n", buddy_last_error(m));
		return 1;
	}
	fprintf(stderr, "bench-allocator: %u%% local frees: %llu ops in %.2f s of CPU time, %llu live blocks, "
		"%llu failed allocations\n", local_pct, (unsigned long long)done, t1 - t0, (unsigned long long)nlive,
		(unsigned long long)fails);
	*ops_s = (double)done / (t1 - t0);
	*bpp = buddy_bytes_per_page(m);
	free(live);
	buddy_free_model(m);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
	double a, b, bpp;

	if (run(ops, 95, &a, &bpp) || run(ops, 100, &b, &bpp))
		return 1;
	printf("bench model_ops %.0f ops/s\n", a);
	printf("bench model_ops_local_frees %.0f ops/s\n", b);
	printf("bench model_bytes_per_page %.3f B\n", bpp);
	return 0;
}
