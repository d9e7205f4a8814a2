// SPDX-License-Identifier: GPL-2.0-only
/* util/: the JSON writer and fragscope_strerror. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/errors.h"
#include "util/jsonw.h"

static char *render(void (*fill)(struct jsonw *w), bool pretty)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonw *w = jsonw_new(f);

	jsonw_pretty(w, pretty);
	fill(w);
	jsonw_free(w);
	fclose(f);
	return buf;
}

static void fill_nested(struct jsonw *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "kernel_release", "6.18.44 \"fc\"\n");
	jsonw_uint_field(w, "events_total", 18446744073709551615ULL);
	jsonw_int_field(w, "neg", -3);
	jsonw_float_field(w, "frac", 0.125);
	jsonw_name(w, "events");
	jsonw_start_object(w);
	jsonw_uint_field(w, "mm_page_alloc", 2);
	jsonw_end_object(w);
	jsonw_name(w, "list");
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_bool(w, true);
	jsonw_null(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void test_jsonw_compact(void **state)
{
	char *s = render(fill_nested, false);

	assert_string_equal(s, "{\"kernel_release\":\"6.18.44 \\\"fc\\\"\\n\","
			       "\"events_total\":18446744073709551615,\"neg\":-3,\"frac\":0.125,"
			       "\"events\":{\"mm_page_alloc\":2},\"list\":[1,true,null,[]]}\n");
	free(s);
}

static void test_jsonw_pretty(void **state)
{
	char *s = render(fill_nested, true);

	assert_non_null(strstr(s, "{\n  \"kernel_release\": \"6.18.44"));
	assert_non_null(strstr(s, "\n  \"events\": {\n    \"mm_page_alloc\": 2\n  },"));
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
}

static void fill_unclosed(struct jsonw *w)
{
	jsonw_start_object(w);
	jsonw_name(w, "a");
	jsonw_start_array(w);
	jsonw_float(w, 1.0 / 0.0);
}

static void test_jsonw_closes_and_nan(void **state)
{
	char *s = render(fill_unclosed, false);

	assert_string_equal(s, "{\"a\":[null]}\n");
	free(s);
}

static void test_strerror(void **state)
{
	assert_string_equal(fragscope_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(fragscope_strerror(FS_ERRNO__CHECKSUM), "checksum mismatch");
	assert_string_equal(fragscope_strerror(FS_ERRNO__TRUNCATED), "file is truncated");
	for (int e = FS_ERRNO__FIRST + 1; e < FS_ERRNO__LAST; e++)
		assert_string_not_equal(fragscope_strerror(e), "unknown fragscope error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonw_compact),
		cmocka_unit_test(test_jsonw_pretty),
		cmocka_unit_test(test_jsonw_closes_and_nan),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
