// SPDX-License-Identifier: GPL-2.0-only
/*
 * traces/: the reader against a damaged real trace (tests/data/traces/kmem-small.fst, a
 * trace-cmd capture of this VM, see the README there). Cut at every byte, the file must open
 * with a clean error or read a prefix of whole chunks, never more than the byte before; with
 * random bytes flipped, every event that still reads must be the original event at its seq
 * (everything but the file header's reserved bytes is checksummed).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "traces/trace.h"
#include "traces/trace-local.h"
#include "util/errors.h"

#define FIXTURE "tests/data/traces/kmem-small.fst"

static struct trace_event *orig;
static uint64_t nr_orig;
static uint8_t *bytes;
static size_t nr_bytes;
static char work[300];

static int setup(void **state)
{
	struct trace_reader *r;
	struct trace_event e;
	char eb[512];
	int err, fd;
	uint64_t cap = 4096;

	r = trace_reader_open(FIXTURE, &err, eb, sizeof(eb));
	if (!r) {
		fprintf(stderr, "cannot open the fixture: %s\n", eb);
		return -1;
	}
	orig = malloc(cap * sizeof(*orig));
	while (trace_reader_next(r, &e) > 0) {
		if (nr_orig == cap) {
			cap *= 2;
			orig = realloc(orig, cap * sizeof(*orig));
		}
		orig[nr_orig++] = e;
	}
	trace_reader_close(r);
	fd = open(FIXTURE, O_RDONLY);
	nr_bytes = (size_t)lseek(fd, 0, SEEK_END);
	bytes = malloc(nr_bytes);
	if (pread(fd, bytes, nr_bytes, 0) != (ssize_t)nr_bytes)
		return -1;
	close(fd);
	snprintf(work, sizeof(work), "%s/robust-%d.fst", getenv("FRAGSCOPE_TMP") ? getenv("FRAGSCOPE_TMP") : "/tmp",
		 (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	unlink(work);
	free(orig);
	free(bytes);
	return 0;
}

static void write_work(size_t n)
{
	int fd = open(work, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

struct outcome {
	bool opened;
	bool truncated;
	uint64_t events, errors, corrupt;
	char msg[512];
};

/* Reads everything; every event must be the original one at its seq. */
static void read_work(struct outcome *o)
{
	struct trace_reader *r;
	struct trace_event e;
	int err = 0, got;

	memset(o, 0, sizeof(*o));
	r = trace_reader_open(work, &err, o->msg, sizeof(o->msg));
	if (!r) {
		assert_true(err < 0);
		assert_true(o->msg[0] != '\0');
		assert_non_null(strstr(o->msg, work));	/* names the file */
		return;
	}
	o->opened = true;
	trace_reader_snapshot(r, TRACE_SNAP_START);
	trace_reader_snapshot(r, TRACE_SNAP_END);
	trace_reader_loss(r);
	while ((got = trace_reader_next(r, &e)) != 0) {
		if (got < 0) {
			assert_true(++o->errors < 1000);
			continue;
		}
		assert_true(e.seq < nr_orig);
		if (!trace_event_equal(&e, &orig[e.seq]))
			fail_msg("event %llu read back wrong", (unsigned long long)e.seq);
		o->events++;
	}
	o->truncated = trace_reader_status(r)->truncated;
	o->corrupt = trace_reader_status(r)->corrupt_chunks;
	if (o->errors || o->corrupt)
		assert_true(trace_reader_status(r)->first_problem[0] != '\0');
	trace_reader_close(r);
}

static void test_fixture_reads(void **state)
{
	struct trace_reader *r;
	const struct trace_snapshot *s;
	int err;

	assert_true(nr_orig == 2825);
	r = trace_reader_open(FIXTURE, &err, NULL, 0);
	assert_non_null(r);
	assert_string_equal(trace_reader_header(r)->kernel_release, "6.18.44-fc-v657");
	assert_true(trace_reader_header(r)->nr_gfp_flags > 10);
	s = trace_reader_snapshot(r, TRACE_SNAP_END);
	assert_non_null(s);
	assert_int_equal(s->method, TRACE_SNAP_PAGETYPEINFO);
	assert_false(s->flags & TRACE_SNAPF_EXACT);
	assert_null(trace_reader_snapshot(r, TRACE_SNAP_START));
	assert_true(trace_reader_nr_events(r) == 2825);
	assert_false(trace_reader_status(r)->truncated);
	trace_reader_close(r);
}

static void test_every_truncation_point(void **state)
{
	uint64_t prev = 0;
	int fd;

	write_work(nr_bytes);
	fd = open(work, O_WRONLY);
	assert_true(fd >= 0);
	/* from the whole file down to nothing: each shorter file reads no more than the longer */
	for (size_t n = nr_bytes + 1; n-- > 0;) {
		struct outcome o;

		assert_int_equal(ftruncate(fd, (off_t)n), 0);
		read_work(&o);
		if (n == nr_bytes) {
			assert_true(o.opened && !o.truncated && o.events == nr_orig);
			prev = o.events;
			continue;
		}
		if (!o.opened)
			continue;
		assert_true(o.truncated);
		assert_true(o.events <= prev);
		assert_true(o.events % 256 == 0 || o.events == nr_orig);	/* whole chunks only */
		assert_int_equal(o.corrupt, 0);
		prev = o.events;
	}
	close(fd);
}

static void test_random_byte_flips(void **state)
{
	uint64_t rng = 0x5eed;
	int fd, opened = 0, damaged = 0;

	write_work(nr_bytes);
	fd = open(work, O_RDWR);
	assert_true(fd >= 0);
	for (int i = 0; i < 3000; i++) {
		size_t pos[4];
		int nflip;
		struct outcome o;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		nflip = 1 + (int)((rng >> 40) % 4);
		for (int j = 0; j < nflip; j++) {
			uint8_t b;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			pos[j] = (size_t)((rng >> 20) % nr_bytes);
			b = bytes[pos[j]] ^ (uint8_t)(1 + (rng >> 56) % 255);
			assert_int_equal(pwrite(fd, &b, 1, (off_t)pos[j]), 1);
		}
		read_work(&o);
		opened += o.opened;
		damaged += o.opened && (o.corrupt || o.errors || o.events < nr_orig);
		for (int j = 0; j < nflip; j++)
			assert_int_equal(pwrite(fd, &bytes[pos[j]], 1, (off_t)pos[j]), 1);
	}
	close(fd);
	/* most flips land in event chunks: the file opens and the damage is reported */
	assert_true(opened > 2000);
	assert_true(damaged > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_reads),
		cmocka_unit_test(test_every_truncation_point),
		cmocka_unit_test(test_random_byte_flips),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
