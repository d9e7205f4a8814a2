// SPDX-License-Identifier: GPL-2.0-only
/* traces/procfs: /proc/zoneinfo, /proc/pagetypeinfo and format-file parsers, on text taken from
 * the team VM (6.18) and trimmed, and on the running machine. */
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

#include "traces/procfs.h"
#include "traces/trace.h"
#include "util/errors.h"

static const char zoneinfo[] =
	"Node 0, zone      DMA\n"
	"  per-node stats\n"
	"      nr_inactive_anon 588512\n"
	"      nr_free_pages_blocks 3584\n"
	"  pages free     3840\n"
	"        boost    0\n"
	"        min      29\n"
	"        low      36\n"
	"        high     43\n"
	"        promo    50\n"
	"        spanned  4095\n"
	"        present  3998\n"
	"        managed  3840\n"
	"        cma      0\n"
	"        protection: (0, 3019, 8651, 8651, 8651)\n"
	"      nr_free_pages 3840\n"
	"  pagesets\n"
	"    cpu: 0\n"
	"              count:    0\n"
	"              high:     0\n"
	"              batch:    1\n"
	"              high_min: 16\n"
	"              high_max: 240\n"
	"  vm stats threshold: 4\n"
	"    cpu: 1\n"
	"              count:    3\n"
	"              high:     5\n"
	"              batch:    1\n"
	"              high_min: 16\n"
	"              high_max: 240\n"
	"  vm stats threshold: 4\n"
	"  node_unreclaimable:  0\n"
	"  start_pfn:           1\n"
	"Node 0, zone   Normal\n"
	"  pages free     463557\n"
	"        boost    100\n"
	"        min      11000\n"
	"        low      14000\n"
	"        high     17000\n"
	"        promo    20000\n"
	"        spanned  5505024\n"
	"        present  5505024\n"
	"        managed  786432\n"
	"        cma      0\n"
	"        protection: (0, 0, 0, 0, 0)\n"
	"  pagesets\n"
	"    cpu: 0\n"
	"              count:    83351\n"
	"              high:     98304\n"
	"              batch:    63\n"
	"  vm stats threshold: 28\n"
	"  node_unreclaimable:  0\n"
	"  start_pfn:           1048576\n"
	"Node 1, zone  Movable\n"
	"  pages free     0\n"
	"        boost    0\n"
	"        min      32\n"
	"        spanned  0\n"
	"        present  0\n"
	"        managed  0\n"
	"        protection: (0, 0, 0, 0, 0)\n";

static const char pagetypeinfo[] =
	"Page block order: 9\n"
	"Pages per block:  512\n"
	"\n"
	"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
	"Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      1      0      0 \n"
	"Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      1      3 \n"
	"Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone   Normal, type    Unmovable      7      0      0      0      0      0      0      0      0      1      0 \n"
	"Node    0, zone   Normal, type      Movable  35510  31476  27233  25147   2202      0      0      1      0      0      5 \n"
	"Node    0, zone   Normal, type  Reclaimable      0      1      0      0      1      1      1      0      0      0      0 \n"
	"Node    0, zone   Normal, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone   Normal, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	"\n"
	"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
	"Node 0, zone      DMA            1            7            0            0            0 \n"
	"Node 0, zone   Normal          274         2425          117            0            0 \n";

static void test_zoneinfo(void **state)
{
	struct trace_header h = { 0 };
	const struct trace_zone *z;

	assert_int_equal(trace_procfs_zoneinfo_text(&h, zoneinfo), 0);
	assert_int_equal(h.nr_zones, 3);
	z = &h.zones[0];
	assert_string_equal(z->name, "DMA");
	assert_int_equal(z->node, 0);
	assert_int_equal(z->zone_idx, 0);
	assert_int_equal(z->start_pfn, 1);
	assert_int_equal(z->spanned, 4095);
	assert_int_equal(z->present, 3998);
	assert_int_equal(z->managed, 3840);
	assert_int_equal(z->wmark_min, 29);
	assert_int_equal(z->wmark_high, 43);
	assert_int_equal(z->wmark_promo, 50);
	assert_int_equal(z->nr_free_pages, 3840);
	assert_int_equal(z->nr_lowmem_reserve, 5);
	assert_int_equal(z->lowmem_reserve[1], 3019);
	assert_int_equal(z->lowmem_reserve[4], 8651);
	assert_int_equal(z->nr_pcp, 2);
	assert_int_equal(z->pcp[1].cpu, 1);
	assert_int_equal(z->pcp[1].count, 3);
	assert_int_equal(z->pcp[1].high, 5);
	assert_int_equal(z->pcp[1].batch, 1);
	assert_int_equal(z->pcp[1].high_min, 16);
	assert_int_equal(z->pcp[1].high_max, 240);
	z = &h.zones[1];
	assert_string_equal(z->name, "Normal");
	assert_int_equal(z->zone_idx, 1);
	assert_int_equal(z->watermark_boost, 100);
	assert_int_equal(z->wmark_min, 10900);	/* zoneinfo adds the boost; the header does not */
	assert_int_equal(z->wmark_low, 13900);
	assert_int_equal(z->start_pfn, 1048576);
	assert_int_equal(z->nr_pcp, 1);
	assert_int_equal(z->pcp[0].high, 98304);
	assert_int_equal(z->pcp[0].high_min, 0);	/* not shown: 0 */
	z = &h.zones[2];
	assert_int_equal(z->node, 1);
	assert_int_equal(z->zone_idx, 0);
	assert_int_equal(trace_header_zone_of(&h, 1048576 + 5), 1);
	assert_int_equal(trace_procfs_zoneinfo_text(&h, "nothing here\n"), FS_ERRNO__KERNEL_LAYOUT);
	assert_int_equal(h.nr_zones, 3);	/* unchanged on failure */
	trace_header_release(&h);
}

static void test_pagetypeinfo(void **state)
{
	struct trace_header h = { 0 };
	struct trace_snapshot s;
	const struct trace_zone_counts *c;

	assert_int_equal(trace_procfs_zoneinfo_text(&h, zoneinfo), 0);
	assert_int_equal(trace_procfs_pagetypeinfo_header_text(&h, pagetypeinfo), 0);
	assert_int_equal(h.pageblock_order, 9);
	assert_int_equal(h.nr_orders, 11);
	assert_int_equal(h.nr_migratetypes, 5);
	assert_string_equal(h.migratetypes[3].name, "HighAtomic");
	assert_int_equal(trace_header_mt_value(&h, "Isolate"), 4);
	assert_int_equal(trace_procfs_pagetypeinfo_snapshot_text(&h, pagetypeinfo, TRACE_SNAP_END, &s), 0);
	assert_int_equal(s.method, TRACE_SNAP_PAGETYPEINFO);
	assert_int_equal(s.flags, TRACE_SNAPF_COUNTS);
	assert_int_equal(s.which, TRACE_SNAP_END);
	assert_int_equal(s.nr_counts, 2);
	c = &s.counts[1];
	assert_int_equal(c->zone, 1);	/* Normal is zone 1 of this header */
	assert_int_equal(c->nr_orders, 11);
	assert_int_equal(c->nr_migratetypes, 5);
	assert_int_equal(c->nr_free[0 * 5 + 1], 35510);	/* order 0 Movable */
	assert_int_equal(c->nr_free[10 * 5 + 1], 5);	/* order 10 Movable */
	assert_int_equal(c->nr_free[0 * 5 + 0], 7);
	assert_int_equal(c->nr_blocks[0], 274);
	assert_int_equal(c->nr_blocks[2], 117);
	assert_int_equal(s.counts[0].nr_free[10 * 5 + 1], 3);
	assert_non_null(s.note);
	trace_snapshot_release(&s);
	trace_header_release(&h);
}

static void test_gfp_flags_from_format(void **state)
{
	static const char fmt[] =
		"name: mm_page_alloc\nID: 1\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:unsigned long gfp_flags;\toffset:8;\tsize:8;\tsigned:0;\n\n"
		"print fmt: \"gfp_flags=%s\", (REC->gfp_flags) ? __print_flags(REC->gfp_flags, \"|\", "
		"{( unsigned long)((( gfp_t)((((1UL))) << (10))) | (( gfp_t)((((1UL))) << (6)))), \"GFP_A\"}, "
		"{( unsigned long)(( gfp_t)((((1UL))) << (6))), \"__GFP_IO\"}, { 0, ((void *)0) } ) : \"none\"\n";
	struct trace_header h = { 0 };
	char buf[64];

	assert_int_equal(trace_format_gfp_flags(&h, fmt, strlen(fmt)), 0);
	assert_int_equal(h.nr_gfp_flags, 2);
	assert_true(h.gfp_flags[0].mask == 0x440);
	assert_string_equal(h.gfp_flags[0].name, "GFP_A");
	trace_header_gfp_str(&h, 0x441, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_A|0x1");
	assert_int_equal(trace_format_gfp_flags(&h, "garbage", 7), FS_ERRNO__BAD_FORMAT_FILE);
	trace_header_release(&h);
}

/* events/kmem/mm_page_alloc/format of Debian's 6.1 (x86_64, no KASAN_HW_TAGS): the print fmt is
 * the preprocessor expansion of include/trace/events/mmflags.h show_gfp_flags() with 6.1's
 * include/linux/gfp_types.h, where single flags are "(( gfp_t)0x100u)" literals with a u suffix. */
static const char format_6_1[] =
	"name: mm_page_alloc\n"
	"ID: 1\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:unsigned long pfn;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned int order;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned long gfp_flags;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int migratetype;\toffset:32;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"page=%p pfn=0x%lx order=%d migratetype=%d gfp_flags=%s\", REC->pfn != -1UL ? (("
	"(struct page *)vmemmap_base) + (REC->pfn)) : ((void *)0), REC->pfn != -1UL ? REC->pfn : 0,"
	" REC->order, REC->migratetype, (REC->gfp_flags) ? __print_flags(REC->gfp_flags, \"|\", {( un"
	"signed long)(((((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t"
	")0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)) | (( gfp_t)"
	"0x40000u) | (( gfp_t)0x80000u) | (( gfp_t)0x2000u)) & ~(( gfp_t)(0x400u|0x800u))) | (( gfp"
	"_t)0x400u)), \"GFP_TRANSHUGE\"}, "
	"{( unsigned long)((((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( g"
	"fp_t)0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)) | (( gf"
	"p_t)0x40000u) | (( gfp_t)0x80000u) | (( gfp_t)0x2000u)) & ~(( gfp_t)(0x400u|0x800u))), \"GF"
	"P_TRANSHUGE_LIGHT\"}, "
	"{( unsigned long)((((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp"
	"_t)0x100000u)) | (( gfp_t)0x02u)) | (( gfp_t)0x08u) | (( gfp_t)0) | (( gfp_t)0)), \"GFP_HIG"
	"HUSER_MOVABLE\"}, "
	"{( unsigned long)(((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_"
	"t)0x100000u)) | (( gfp_t)0x02u)), \"GFP_HIGHUSER\"}, "
	"{( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u) | (( gfp_t"
	")0x100000u)), \"GFP_USER\"}, "
	"{( unsigned long)(((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u)) | (( gfp"
	"_t)0x400000u)), \"GFP_KERNEL_ACCOUNT\"}, "
	"{( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u) | (( gfp_t)0x80u)), \"GFP_KER"
	"NEL\"}, "
	"{( unsigned long)((( gfp_t)(0x400u|0x800u)) | (( gfp_t)0x40u)), \"GFP_NOFS\"}, "
	"{( unsigned long)((( gfp_t)0x20u)|(( gfp_t)0x200u)|(( gfp_t)0x800u)), \"GFP_ATOMIC\"}, "
	"{( unsigned long)((( gfp_t)(0x400u|0x800u))), \"GFP_NOIO\"}, "
	"{( unsigned long)((( gfp_t)0x800u)), \"GFP_NOWAIT\"}, "
	"{( unsigned long)(( gfp_t)0x01u), \"GFP_DMA\"}, "
	"{( unsigned long)(( gfp_t)0x02u), \"__GFP_HIGHMEM\"}, "
	"{( unsigned long)(( gfp_t)0x04u), \"GFP_DMA32\"}, "
	"{( unsigned long)(( gfp_t)0x20u), \"__GFP_HIGH\"}, "
	"{( unsigned long)(( gfp_t)0x200u), \"__GFP_ATOMIC\"}, "
	"{( unsigned long)(( gfp_t)0x40u), \"__GFP_IO\"}, "
	"{( unsigned long)(( gfp_t)0x80u), \"__GFP_FS\"}, "
	"{( unsigned long)(( gfp_t)0x2000u), \"__GFP_NOWARN\"}, "
	"{( unsigned long)(( gfp_t)0x4000u), \"__GFP_RETRY_MAYFAIL\"}, "
	"{( unsigned long)(( gfp_t)0x8000u), \"__GFP_NOFAIL\"}, "
	"{( unsigned long)(( gfp_t)0x10000u), \"__GFP_NORETRY\"}, "
	"{( unsigned long)(( gfp_t)0x40000u), \"__GFP_COMP\"}, "
	"{( unsigned long)(( gfp_t)0x100u), \"__GFP_ZERO\"}, "
	"{( unsigned long)(( gfp_t)0x80000u), \"__GFP_NOMEMALLOC\"}, "
	"{( unsigned long)(( gfp_t)0x20000u), \"__GFP_MEMALLOC\"}, "
	"{( unsigned long)(( gfp_t)0x100000u), \"__GFP_HARDWALL\"}, "
	"{( unsigned long)(( gfp_t)0x200000u), \"__GFP_THISNODE\"}, "
	"{( unsigned long)(( gfp_t)0x10u), \"__GFP_RECLAIMABLE\"}, "
	"{( unsigned long)(( gfp_t)0x08u), \"__GFP_MOVABLE\"}, "
	"{( unsigned long)(( gfp_t)0x400000u), \"__GFP_ACCOUNT\"}, "
	"{( unsigned long)(( gfp_t)0x1000u), \"__GFP_WRITE\"}, "
	"{( unsigned long)(( gfp_t)(0x400u|0x800u)), \"__GFP_RECLAIM\"}, "
	"{( unsigned long)(( gfp_t)0x400u), \"__GFP_DIRECT_RECLAIM\"}, "
	"{( unsigned long)(( gfp_t)0x800u), \"__GFP_KSWAPD_RECLAIM\"}, "
	"{( unsigned long)(( gfp_t)0x800000u), \"__GFP_ZEROTAGS\"} ) : \"none\"\n";

static void test_gfp_flags_6_1_format(void **state)
{
	static const struct { const char *name; uint64_t mask; } want[] = {
		{ "GFP_TRANSHUGE", 0x1c24ca }, { "GFP_HIGHUSER_MOVABLE", 0x100cca },
		{ "GFP_KERNEL", 0xcc0 }, { "GFP_ATOMIC", 0xa20 }, { "GFP_NOWAIT", 0x800 },
		{ "GFP_DMA", 0x1 }, { "__GFP_HIGHMEM", 0x2 }, { "GFP_DMA32", 0x4 },
		{ "__GFP_ATOMIC", 0x200 }, { "__GFP_IO", 0x40 }, { "__GFP_FS", 0x80 },
		{ "__GFP_NOWARN", 0x2000 }, { "__GFP_COMP", 0x40000 }, { "__GFP_ZERO", 0x100 },
		{ "__GFP_HARDWALL", 0x100000 }, { "__GFP_MOVABLE", 0x8 }, { "__GFP_ACCOUNT", 0x400000 },
		{ "__GFP_RECLAIM", 0xc00 }, { "__GFP_DIRECT_RECLAIM", 0x400 },
		{ "__GFP_KSWAPD_RECLAIM", 0x800 }, { "__GFP_ZEROTAGS", 0x800000 },
	};
	struct trace_header h = { 0 };
	char buf[128];

	(void)state;
	assert_int_equal(trace_format_gfp_flags(&h, format_6_1, strlen(format_6_1)), 0);
	/* all 36 entries of __def_gfpflag_names (none is 0 on this config) */
	assert_int_equal(h.nr_gfp_flags, 36);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint32_t j;

		for (j = 0; j < h.nr_gfp_flags; j++)
			if (!strcmp(h.gfp_flags[j].name, want[i].name))
				break;
		assert_true(j < h.nr_gfp_flags);
		assert_true(h.gfp_flags[j].mask == want[i].mask);
	}
	/* what `stat` printed as GFP_HIGHUSER_MOVABLE|0x40100 with the truncated table */
	trace_header_gfp_str(&h, 0x100cca | 0x40100, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO");
	trace_header_gfp_str(&h, 0x2800, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_NOWAIT|__GFP_NOWARN");
	trace_header_release(&h);
}

static void test_parse_c_const(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0x100u", 0x100 }, { "0x100U", 0x100 }, { "256", 256 }, { "0x10ul", 0x10 },
		{ "0x10ULL", 0x10 }, { "8l", 8 }, { "(( gfp_t)0x100u)", 0x100 },
		{ "((__force gfp_t)0x100u)", 0x100 }, { "(unsigned long)(( gfp_t)0x20u)", 0x20 },
		{ "(( gfp_t)((((1UL))) << (8)))", 0x100 }, { "(1UL) << 22", 0x400000 },
		{ "(( gfp_t)(0x400u|0x800u))", 0xc00 }, { "((0x1u | 0x2u) & ~(( gfp_t)0x1u))", 0x2 },
		{ " 0x40u + 0x4u ", 0x44 }, { "1 << 3 | 1", 9 }, { "010", 8 }, { "-1", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "u", "0x10q", "(gfp_t)", "1 <<", "(1", "1)", "gfp", "1 || 2", "1 / 0", "0x",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (trace_parse_c_const(ok[i].s, &v) != 0 || v != ok[i].v)
			fail_msg("'%s' gave %#llx, want %#llx", ok[i].s, (unsigned long long)v,
				 (unsigned long long)ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (trace_parse_c_const(bad[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_running_machine(void **state)
{
	struct trace_header h = { 0 };
	int err = trace_header_from_running(&h);

	if (err == -EACCES || err == -ENOENT || err == -EPERM) {
		trace_header_release(&h);
		skip();	/* /proc/pagetypeinfo is root-only */
	}
	assert_int_equal(err, 0);
	assert_true(h.kernel_release[0]);
	assert_true(h.page_size >= 4096);
	assert_true(h.nr_cpus >= 1);
	assert_true(h.nr_zones >= 1);
	assert_true(h.nr_orders >= 1 && h.pageblock_order >= 1);
	assert_true(trace_header_mt_value(&h, "Movable") >= 0);
	assert_non_null(trace_header_get(&h, "vm.watermark_boost_factor"));
	assert_string_equal(trace_header_get(&h, "header.source"), "running-kernel");
	if (trace_tracefs_dir())
		assert_true(h.nr_gfp_flags > 10);
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		assert_true(h.nr_pageblock_bits == 4 || h.nr_pageblock_bits == 8);
	trace_header_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zoneinfo),
		cmocka_unit_test(test_pagetypeinfo),
		cmocka_unit_test(test_gfp_flags_from_format),
		cmocka_unit_test(test_gfp_flags_6_1_format),
		cmocka_unit_test(test_parse_c_const),
		cmocka_unit_test(test_running_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
