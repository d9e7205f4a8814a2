// SPDX-License-Identifier: GPL-2.0-only
/* workload/: sizes, names, /proc parsing, the PRNG and the plans (pure parts, no memory used). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "workload/workload-local.h"
#include "workload/workload.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void test_parse_size(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "4096", 4096 }, { "64K", 64 << 10 }, { "64M", 64 * MiB }, { "64m", 64 * MiB },
		{ "1.5G", 3 * GiB / 2 }, { "2GiB", 2 * GiB }, { "2GB", 2 * GiB }, { "1T", 1024 * GiB },
		{ "0", 0 },
	};
	static const char *const bad[] = { "", "-1", "12Q", "M", "1.5.5G", " 1G", "1G ", "1GiBB", "1e40" };
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		assert_int_equal(workload_parse_size(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(workload_parse_size(bad[i], &v), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(workload_kind_from_name("fragment"), WORKLOAD_FRAGMENT);
	assert_int_equal(workload_kind_from_name("thp"), WORKLOAD_THP);
	assert_int_equal(workload_kind_from_name("forks"), WORKLOAD_FORKS);
	assert_int_equal(workload_kind_from_name("mixed"), WORKLOAD_MIXED);
	assert_int_equal(workload_kind_from_name("frag"), -1);
	assert_string_equal(workload_kind_name(WORKLOAD_MIXED), "mixed");
}

/* The shape of /proc/pagetypeinfo on 6.18 (order list from the header, Unmovable rows summed). */
static const char pti_618[] =
	"Page block order: 9\n"
	"Pages per block:  512\n"
	"\n"
	"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
	"Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      1      0      0 \n"
	"Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      1      3 \n"
	"Node    0, zone    DMA32, type    Unmovable      3      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone   Normal, type    Unmovable    513    689    772    530    326    142     48     11      4      0      2 \n"
	"Node    0, zone   Normal, type      Movable    856    187     53     42     28     18      8     19     52     64    305 \n"
	"Node    0, zone   Normal, type  Reclaimable   1241    209     86    109     76     57     22     12      2      0      0 \n"
	"\n"
	"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
	"Node 0, zone      DMA            1            7            0            0            0 \n"
	"Node 0, zone   Normal           78          865           81            0            0 \n";

static void test_pagetypeinfo(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	int64_t pages = 256 /* DMA order 8 */ + 3 + 513 + 689 * 2 + 772 * 4 + 530 * 8 + 326 * 16 +
			142 * 32 + 48 * 64 + 11 * 128 + 4 * 256 + 2 * 1024;

	(void)state;
	assert_int_equal(workload_pagetypeinfo_unmovable_free(pti_618), pages * page);
	assert_int_equal(workload_pagetypeinfo_unmovable_blocks(pti_618), 1 + 78);
	assert_int_equal(workload_pagetypeinfo_unmovable_blocks("Page block order: 9\n"), -1);
	/* the column is found by its name */
	assert_int_equal(workload_pagetypeinfo_unmovable_blocks(
		"Number of blocks type      Movable    Unmovable\n"
		"Node 0, zone   Normal          865           78 \n"
		"Node 1, zone   Normal          800            2 \n"), 80);
	assert_int_equal(workload_pagetypeinfo_unmovable_free("Page block order: 9\n"), -1);
	assert_int_equal(workload_pagetypeinfo_unmovable_free(
		"Free pages count per migrate type at order 0 1\n"
		"Node 0, zone Normal, type Movable 5 5\n"), -1);
	/* fewer orders (a kernel with MAX_ORDER 8): only the listed ones */
	assert_int_equal(workload_pagetypeinfo_unmovable_free(
		"Free pages count per migrate type at order 0 1 2\n"
		"Node 0, zone Normal, type    Unmovable 1 1 1 \n"), 7 * page);
}

static void test_meminfo(void **state)
{
	(void)state;
	assert_int_equal(wl_meminfo_available("MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable:   24240748 kB\n"),
			 24240748LL * 1024);
	assert_int_equal(wl_meminfo_available("MemTotal: 100 kB\n"), -1);
}

static void test_rng(void **state)
{
	struct wl_rng a = { 42 }, b = { 42 }, c = { 43 };
	int same = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = wl_rng_next(&a);

		assert_int_equal(x, wl_rng_next(&b));
		same += x == wl_rng_next(&c);
	}
	assert_int_equal(same, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(wl_rng_below(&a, 7) < 7);
}

static const struct workload_opts defaults = { .sz = sizeof(defaults), .seed = 1 };

/* A 256 MiB guest: MemAvailable about 176 MiB, 3 MiB free in unmovable pageblocks. */
static void test_plan_guest(void **state)
{
	struct workload_plan p;
	char err[200];

	(void)state;
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &defaults, 176 * MiB, 3 * MiB, &p, err, sizeof(err)), 0);
	assert_true(p.mem_default);
	assert_int_equal(p.mem, 138280960);			/* 75%, in 128 KiB steps */
	assert_int_equal(p.file_bytes, 103677952);		/* 3/4 */
	assert_int_equal(p.anon_bytes, 33 * MiB);
	assert_int_equal(p.pipe_bytes, 66 * MiB);		/* 3M + 64M, capped at mem/2, rounded up */
	assert_true(p.pipes_auto);
	assert_int_equal(p.pipe_cap, 66 * MiB);			/* 25% of 176M = 44M < mem/2 */
	assert_int_equal(p.forks, 32);
	assert_int_equal(p.thp_bytes, 0);
}

/* This 24 GiB machine: the default budget is capped at 2 GiB. */
static void test_plan_big(void **state)
{
	struct workload_plan p;
	struct workload_opts o = defaults;
	char err[200];

	(void)state;
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &o, 23 * GiB, 600 * MiB, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mem, 2 * GiB);
	assert_int_equal(p.file_bytes, 3 * GiB / 2);
	assert_int_equal(p.pipe_bytes, 1 * GiB);		/* mem/2 > 600M + 64M */
	assert_int_equal(p.pipe_cap, 23 * GiB / 100 * 25);	/* 25% of MemAvailable */
	/* much free space in unmovable blocks: the first round covers it */
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &o, 23 * GiB, 3 * GiB, &p, err, sizeof(err)), 0);
	assert_int_equal(p.pipe_bytes, 3 * GiB + 64 * MiB);
	/* unknown (not root): half the budget, fixed */
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &o, 23 * GiB, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.pipe_bytes, 1 * GiB);
	assert_false(p.pipes_auto);
	/* explicit sizes are taken as they are */
	o.mem = 64 * MiB;
	o.pipes = 32 * MiB;
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &o, 23 * GiB, 3 * GiB, &p, err, sizeof(err)), 0);
	assert_false(p.mem_default);
	assert_int_equal(p.mem, 64 * MiB);
	assert_int_equal(p.file_bytes, 48 * MiB);
	assert_int_equal(p.anon_bytes, 16 * MiB);
	assert_int_equal(p.pipe_bytes, 32 * MiB);
	assert_false(p.pipes_auto);
}

static void test_plan_refused(void **state)
{
	struct workload_plan p;
	struct workload_opts o = defaults;
	char err[200];

	(void)state;
	o.mem = 100 * GiB;
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &o, 23 * GiB, 0, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 90% of MemAvailable"));
	o.mem = 1 * MiB;
	assert_int_equal(workload_plan_for(WORKLOAD_THP, &o, 23 * GiB, 0, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "below the minimum"));
	assert_int_equal(workload_plan_for(WORKLOAD_FRAGMENT, &defaults, 2 * MiB, 0, &p, err, sizeof(err)), -EINVAL);
}

static void test_plan_others(void **state)
{
	struct workload_plan p;
	struct workload_opts o = defaults;
	char err[200];

	(void)state;
	o.mem = 64 * MiB;
	assert_int_equal(workload_plan_for(WORKLOAD_THP, &o, 23 * GiB, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(p.thp_bytes, 32 * MiB);
	assert_int_equal(p.anon_bytes, 32 * MiB);
	assert_int_equal(p.pipe_bytes, 0);
	assert_int_equal(p.forks, 0);
	assert_int_equal(workload_plan_for(WORKLOAD_FORKS, &o, 23 * GiB, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(p.forks, 256);				/* mem / 256K */
	assert_int_equal(p.fork_batch, 64);
	o.forks = 10;
	assert_int_equal(workload_plan_for(WORKLOAD_FORKS, &o, 23 * GiB, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(p.forks, 16);				/* at least 16 */
	assert_int_equal(p.fork_batch, 16);
	o.forks = 0;
	o.pipes = 16 * MiB;
	assert_int_equal(workload_plan_for(WORKLOAD_MIXED, &o, 23 * GiB, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(p.file_bytes, 24 * MiB);
	assert_int_equal(p.anon_bytes, 8 * MiB);
	assert_int_equal(p.thp_bytes, 16 * MiB);
	assert_int_equal(p.pipe_bytes, 16 * MiB);
	assert_int_equal(p.forks, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pagetypeinfo),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_plan_guest),
		cmocka_unit_test(test_plan_big),
		cmocka_unit_test(test_plan_refused),
		cmocka_unit_test(test_plan_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
