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
#include "util/parse.h"

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

static void test_parse(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("12X", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
	assert_int_equal(parse_duration("30", &v), 0);
	assert_int_equal(v, 30000000000ULL);
	assert_int_equal(parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250000000ULL);
	assert_int_equal(parse_duration("1.5s", &v), 0);
	assert_int_equal(v, 1500000000ULL);
	assert_int_equal(parse_duration("2m", &v), 0);
	assert_int_equal(v, 120000000000ULL);
	assert_int_equal(parse_duration("soon", &v), -EINVAL);
	assert_int_equal(parse_u64("0x10", 0, 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_u64("7z", 0, 100, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonw_compact),
		cmocka_unit_test(test_jsonw_pretty),
		cmocka_unit_test(test_jsonw_closes_and_nan),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
