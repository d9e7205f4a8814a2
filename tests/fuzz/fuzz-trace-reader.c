// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for traces/: `make fuzz` builds it with clang -fsanitize=fuzzer,address,undefined
 * and runs it on a corpus seeded with tests/data/traces/*.fst.
 *
 * The first input byte picks what is fed the rest: 0-127 a whole file to the reader (through a
 * memfd, so open/fstat/pread all run for real); otherwise one section payload straight to a
 * decoder, past the checksums that keep random damage out of the decoders in real files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "traces/trace.h"
#include "traces/trace-local.h"

static void read_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.fst", 0);
	char path[64];
	struct trace_reader *r;
	struct trace_event ev;
	int err, got, errors = 0;

	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = trace_reader_open(path, &err, NULL, 0);
	if (r) {
		trace_reader_snapshot(r, TRACE_SNAP_START);
		trace_reader_snapshot(r, TRACE_SNAP_END);
		trace_reader_loss(r);
		trace_reader_stack(r, 1);
		trace_reader_nr_events(r);
		while ((got = trace_reader_next(r, &ev)) != 0)
			if (got < 0 && ++errors > 100000)
				abort();	/* the reader must not loop on errors */
		trace_reader_seek(r, 3);
		trace_reader_next(r, &ev);
		trace_reader_close(r);
	}
	close(fd);
}

static void decode_payload(uint8_t which, const uint8_t *data, size_t size)
{
	struct ibuf b = { .p = data, .end = data + size };

	switch (which % 5) {
	case 0: {
		struct trace_header h;

		if (!fst_decode_header(&b, &h)) {
			char buf[256];

			trace_header_gfp_str(&h, 0x12345, buf, sizeof(buf));
			trace_header_zone_of(&h, 4096);
			trace_header_release(&h);
		}
		break;
	}
	case 1: {
		struct trace_snapshot s;

		if (!fst_decode_snapshot(&b, &s))
			trace_snapshot_release(&s);
		break;
	}
	case 2: {
		struct trace_loss l;

		if (!fst_decode_loss(&b, &l))
			trace_loss_release(&l);
		break;
	}
	case 3: {
		struct trace_stack st;

		while (fst_decode_stack(&b, &st) > 0)
			fst_stack_release(&st);
		break;
	}
	default: {
		struct trace_event *ev = NULL;
		uint32_t cap = 0, n;
		uint64_t first;

		fst_decode_chunk(&b, &ev, &cap, &n, &first);
		free(ev);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] < 128)
		read_file(data + 1, size - 1);
	else
		decode_payload(data[0], data + 1, size - 1);
	return 0;
}
