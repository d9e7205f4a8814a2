// SPDX-License-Identifier: GPL-2.0-only
/* The collector's parsers and pure helpers (no privileges needed): /proc/pagetypeinfo, VMCOREINFO
 * text, the cut of free-page runs into buddy blocks used by the kpageflags fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collector/collector-local.h"

static const char pti_text[] =
	"Page block order: 9\n"
	"Pages per block:  512\n"
	"\n"
	"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
	"Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      1      0      0 \n"
	"Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      1      3 \n"
	"Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone   Normal, type    Unmovable     52   1187   1093    689    585    328    157     47     12      0      0 \n"
	"Node    0, zone   Normal, type      Movable >100000      0      1      1      1      1      1      1      1     37    250 \n"
	"Node    0, zone   Normal, type  Reclaimable    909    176     41     30     22     18      8      3      1      1      0 \n"
	"Node    0, zone   Normal, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone   Normal, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	"\n"
	"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
	"Node 0, zone      DMA            1            7            0            0            0 \n"
	"Node 0, zone   Normal          134          788          102            0            0 \n";

static void test_pagetypeinfo(void **state)
{
	struct pti p;
	const struct pti_zone *z;

	assert_int_equal(collector_pti_parse(pti_text, &p), 0);
	assert_int_equal(p.pageblock_order, 9);
	assert_int_equal(p.nr_zones, 2);
	z = collector_pti_zone(&p, 0, "Normal");
	assert_non_null(z);
	assert_int_equal(z->nr_types, 5);
	assert_int_equal(z->nr_orders, 11);
	assert_string_equal(z->type_names[3], "HighAtomic");
	assert_int_equal(z->nr_free[0 * 11 + 1], 1187);		/* Unmovable order 1 */
	assert_true(z->nr_free[1 * 11 + 0] == UINT64_MAX);	/* ">100000" is capped */
	assert_int_equal(z->nr_free[1 * 11 + 10], 250);
	assert_int_equal(z->nr_free[2 * 11 + 9], 1);
	assert_int_equal(z->nr_blocks[0], 134);
	assert_int_equal(z->nr_blocks[2], 102);
	z = collector_pti_zone(&p, 0, "DMA");
	assert_non_null(z);
	assert_int_equal(z->nr_blocks[1], 7);
	assert_int_equal(z->nr_free[0 * 11 + 8], 1);
	assert_null(collector_pti_zone(&p, 1, "DMA"));
	collector_pti_release(&p);
	assert_int_not_equal(collector_pti_parse("nothing useful\n", &p), 0);
	collector_pti_release(&p);
}

static void test_vmcoreinfo(void **state)
{
	const char *t = "OSRELEASE=6.18.44\nPAGESIZE=4096\nSYMBOL(mem_section)=ffff88843ffd3000\n"
			"SIZE(mem_section)=16\nNUMBER(SECTION_SIZE_BITS)=27\nLENGTH(mem_section)=2048\n";
	uint64_t v;

	assert_true(collector_vmcoreinfo_get(t, "PAGESIZE", &v));
	assert_int_equal(v, 4096);
	assert_true(collector_vmcoreinfo_get(t, "SYMBOL(mem_section)", &v));
	assert_true(v == 0xffff88843ffd3000ull);
	assert_true(collector_vmcoreinfo_get(t, "NUMBER(SECTION_SIZE_BITS)", &v));
	assert_int_equal(v, 27);
	assert_false(collector_vmcoreinfo_get(t, "SIZE(page)", &v));
	assert_false(collector_vmcoreinfo_get(t, "SIZE", &v));	/* a prefix is not a key */
}

struct blocks {
	uint64_t pfn[64];
	uint8_t order[64];
	int n;
};

static int collect(void *ctx, uint64_t pfn, uint16_t zone, uint8_t order)
{
	struct blocks *b = ctx;

	if (b->n == 64)
		return -1;
	b->pfn[b->n] = pfn;
	b->order[b->n++] = order;
	return 0;
}

static void test_split_run(void **state)
{
	struct blocks b = {};

	/* [3, 20): 3/0, 4/2, 8/3, 16/2 */
	assert_int_equal(collector_split_run(3, 20, 10, 0, collect, &b), 0);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.pfn[0], 3);
	assert_int_equal(b.order[0], 0);
	assert_int_equal(b.pfn[1], 4);
	assert_int_equal(b.order[1], 2);
	assert_int_equal(b.pfn[2], 8);
	assert_int_equal(b.order[2], 3);
	assert_int_equal(b.pfn[3], 16);
	assert_int_equal(b.order[3], 2);
	/* capped at the highest order: 4096 pages at 0 are four order-10 blocks */
	memset(&b, 0, sizeof(b));
	assert_int_equal(collector_split_run(0, 4096, 10, 0, collect, &b), 0);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.order[3], 10);
	assert_int_equal(b.pfn[3], 3072);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagetypeinfo),
		cmocka_unit_test(test_vmcoreinfo),
		cmocka_unit_test(test_split_run),
	};
	return cmocka_run_group_tests_name("collector-parse", tests, NULL, NULL);
}
