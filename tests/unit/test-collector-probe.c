// SPDX-License-Identifier: GPL-2.0-only
/* The BPF build chain: the embedded object opens; as root it loads, attaches and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/probe.h"

static void test_open(void **state)
{
	assert_int_equal(collector_probe_open_only(), 0);
}

static void touch_pages(void *ctx)
{
	size_t len = 4u << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
}

static void test_load_attach_count(void **state)
{
	uint64_t n = 0;

	if (geteuid() != 0)
		skip();	/* loading needs CAP_BPF + CAP_PERFMON */
	assert_int_equal(collector_probe_run(touch_pages, NULL, &n), 0);
	/* 1024 pages were faulted in: each is one mm_page_alloc at least. */
	assert_true(n >= 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_load_attach_count),
	};
	return cmocka_run_group_tests_name("collector-probe", tests, NULL, NULL);
}
