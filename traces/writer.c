// SPDX-License-Identifier: GPL-2.0-only
/*
 * The streaming trace writer (traces/FORMAT.md). Events are buffered into chunks of
 * chunk_events; every other record is written as its own section at once. Each section is
 * self-checking (header CRC, payload CRC), so a writer killed at any point leaves a file that
 * reads up to its last whole section.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "traces/trace.h"
#include "traces/trace-local.h"
#include "util/errors.h"

struct index_entry {
	uint32_t type;
	uint64_t off;
	uint64_t a, b, c, d;	/* chunk: first_seq, nr, first_ts, last_ts; snapshot: which, event_seq */
};

struct trace_writer {
	FILE *f;
	char *path;
	struct trace_writer_opts opts;
	uint64_t off;
	int err;
	bool have_header;
	struct trace_event *ev;
	uint32_t nr_ev, chunk_events;
	uint64_t total_events;
	struct index_entry *idx;
	size_t nr_idx, cap_idx;
	struct obuf stacks;		/* pending stack blocks */
	struct obuf payload, packed;
	ZSTD_CCtx *zc;
};

static int set_err(struct trace_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return err;
}

static int add_index(struct trace_writer *w, const struct index_entry *e)
{
	if (w->nr_idx == w->cap_idx) {
		size_t cap = w->cap_idx ? w->cap_idx * 2 : 64;
		struct index_entry *p = realloc(w->idx, cap * sizeof(*p));

		if (!p)
			return set_err(w, -ENOMEM);
		w->idx = p;
		w->cap_idx = cap;
	}
	w->idx[w->nr_idx++] = *e;
	return 0;
}

static int write_all(struct trace_writer *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		return set_err(w, -(errno ? errno : EIO));
	w->off += n;
	return 0;
}

/* Writes one section (FORMAT.md §3) holding raw; compresses when asked and worth it. */
static int write_section(struct trace_writer *w, uint32_t type, const struct obuf *raw, uint64_t *offp)
{
	const uint8_t *data = raw->p;
	size_t len = raw->len;
	uint16_t flags = 0;
	struct obuf h = { 0 };
	int err;

	if (w->err)
		return w->err;
	if (raw->oom)
		return set_err(w, -ENOMEM);
	if (!w->opts.no_compress && raw->len >= 64) {
		size_t bound = ZSTD_compressBound(raw->len);

		w->packed.len = 0;
		if (!obuf_reserve(&w->packed, bound))
			return set_err(w, -ENOMEM);
		size_t z = ZSTD_compressCCtx(w->zc, w->packed.p, bound, raw->p, raw->len,
					     w->opts.zstd_level ? w->opts.zstd_level : 3);

		if (!ZSTD_isError(z) && z < raw->len) {
			data = w->packed.p;
			len = z;
			flags |= FST_SECTION_F_ZSTD;
		}
	}
	if (offp)
		*offp = w->off;
	obuf_le32(&h, FST_SECTION_SYNC);
	obuf_u8(&h, (uint8_t)type);
	obuf_u8(&h, (uint8_t)(type >> 8));
	obuf_u8(&h, (uint8_t)flags);
	obuf_u8(&h, (uint8_t)(flags >> 8));
	obuf_le64(&h, len);
	obuf_le64(&h, raw->len);
	obuf_le32(&h, (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len));
	if (h.oom) {
		obuf_release(&h);
		return set_err(w, -ENOMEM);
	}
	obuf_le32(&h, (uint32_t)crc32(crc32(0L, Z_NULL, 0), h.p, 28));
	err = write_all(w, h.p, h.len);
	obuf_release(&h);
	if (!err)
		err = write_all(w, data, len);
	return err;
}

struct trace_writer *trace_writer_open(const char *path, const struct trace_writer_opts *opts, int *err)
{
	struct trace_writer *w = calloc(1, sizeof(*w));
	uint8_t fh[FST_FILE_HEADER_LEN] = { 0 };

	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	if (opts) {
		size_t n = opts->sz && opts->sz < sizeof(w->opts) ? opts->sz : sizeof(w->opts);

		memcpy(&w->opts, opts, n);
	}
	w->chunk_events = w->opts.chunk_events ? w->opts.chunk_events : FST_DEFAULT_CHUNK_EVENTS;
	if (w->chunk_events > FST_MAX_CHUNK_EVENTS)
		w->chunk_events = FST_MAX_CHUNK_EVENTS;
	w->ev = calloc(w->chunk_events, sizeof(*w->ev));
	w->path = strdup(path);
	w->zc = ZSTD_createCCtx();
	if (!w->ev || !w->path || !w->zc) {
		*err = -ENOMEM;
		goto fail;
	}
	w->f = fopen(path, "wb");
	if (!w->f) {
		*err = -errno;
		goto fail;
	}
	memcpy(fh, FST_MAGIC, FST_MAGIC_LEN);
	fh[8] = FST_VERSION_MAJOR;
	fh[10] = FST_VERSION_MINOR;
	if (write_all(w, fh, sizeof(fh))) {
		*err = w->err;
		fclose(w->f);
		goto fail;
	}
	return w;
fail:
	ZSTD_freeCCtx(w->zc);
	free(w->path);
	free(w->ev);
	free(w);
	return NULL;
}

int trace_writer_header(struct trace_writer *w, const struct trace_header *h)
{
	struct index_entry e = { .type = FST_SEC_HEADER };
	int err;

	if (w->err)
		return w->err;
	if (w->have_header)
		return -EINVAL;
	w->payload.len = 0;
	err = fst_encode_header(&w->payload, h);
	if (err)
		return set_err(w, err);
	err = write_section(w, FST_SEC_HEADER, &w->payload, &e.off);
	if (err)
		return err;
	w->have_header = true;
	return add_index(w, &e);
}

static int flush_chunk(struct trace_writer *w)
{
	struct index_entry e = { .type = FST_SEC_CHUNK };
	int err;

	if (!w->nr_ev)
		return 0;
	w->payload.len = 0;
	err = fst_encode_chunk(&w->payload, w->ev, w->nr_ev, w->total_events - w->nr_ev);
	if (err)
		return set_err(w, err);
	e.a = w->total_events - w->nr_ev;
	e.b = w->nr_ev;
	e.c = w->ev[0].ts_ns;
	e.d = w->ev[w->nr_ev - 1].ts_ns;
	err = write_section(w, FST_SEC_CHUNK, &w->payload, &e.off);
	w->nr_ev = 0;
	if (err)
		return err;
	return add_index(w, &e);
}

int trace_writer_snapshot(struct trace_writer *w, const struct trace_snapshot *s)
{
	struct index_entry e = { .type = FST_SEC_SNAPSHOT, .a = s->which, .b = s->event_seq };
	int err;

	if (w->err)
		return w->err;
	if (!w->have_header)
		return -EINVAL;
	if ((unsigned int)s->which >= TRACE_SNAP_MAX)
		return -EINVAL;
	w->payload.len = 0;
	err = fst_encode_snapshot(&w->payload, s);
	if (err)
		return set_err(w, err);
	err = write_section(w, FST_SEC_SNAPSHOT, &w->payload, &e.off);
	return err ? err : add_index(w, &e);
}

int trace_writer_event(struct trace_writer *w, const struct trace_event *ev)
{
	if (w->err)
		return w->err;
	if (!w->have_header)
		return -EINVAL;
	w->ev[w->nr_ev] = *ev;
	w->ev[w->nr_ev].seq = w->total_events;
	w->nr_ev++;
	w->total_events++;
	if (w->nr_ev == w->chunk_events)
		return flush_chunk(w);
	return 0;
}

static int flush_stacks(struct trace_writer *w)
{
	struct index_entry e = { .type = FST_SEC_STACKS };
	int err;

	if (!w->stacks.len)
		return 0;
	err = write_section(w, FST_SEC_STACKS, &w->stacks, &e.off);
	w->stacks.len = 0;
	return err ? err : add_index(w, &e);
}

int trace_writer_stack(struct trace_writer *w, const struct trace_stack *st)
{
	int err;

	if (w->err)
		return w->err;
	if (!w->have_header)
		return -EINVAL;
	if (st->nr > FST_MAX_STACK_DEPTH)
		return -EINVAL;
	err = fst_encode_stack(&w->stacks, st);
	if (err)
		return set_err(w, err);
	if (w->stacks.len >= (1u << 20))
		return flush_stacks(w);
	return 0;
}

int trace_writer_loss(struct trace_writer *w, const struct trace_loss *l)
{
	struct index_entry e = { .type = FST_SEC_LOSS };
	int err;

	if (w->err)
		return w->err;
	if (!w->have_header)
		return -EINVAL;
	w->payload.len = 0;
	err = fst_encode_loss(&w->payload, l);
	if (err)
		return set_err(w, err);
	err = write_section(w, FST_SEC_LOSS, &w->payload, &e.off);
	return err ? err : add_index(w, &e);
}

int trace_writer_flush(struct trace_writer *w)
{
	int err;

	if (w->err)
		return w->err;
	err = flush_chunk(w);
	if (!err)
		err = flush_stacks(w);
	if (!err && fflush(w->f) != 0)
		err = set_err(w, -(errno ? errno : EIO));
	return err;
}

uint64_t trace_writer_events(const struct trace_writer *w)
{
	return w ? w->total_events : 0;
}

uint64_t trace_writer_bytes(const struct trace_writer *w)
{
	return w ? w->off : 0;
}

static int write_index_and_trailer(struct trace_writer *w)
{
	struct obuf t = { 0 }, tr = { 0 };
	uint64_t idx_off;
	int err;

	w->payload.len = 0;
	for (size_t i = 0; i < w->nr_idx; i++) {
		const struct index_entry *e = &w->idx[i];

		obuf_uv(&t, e->type);
		obuf_uv(&t, e->off);
		obuf_uv(&t, e->a);
		obuf_uv(&t, e->b);
		obuf_uv(&t, e->c);
		obuf_uv(&t, e->d);
		obuf_uv(&w->payload, 1);
		obuf_uv(&w->payload, t.len);
		obuf_bytes(&w->payload, t.p, t.len);
		t.len = 0;
	}
	if (t.oom)
		w->payload.oom = true;
	obuf_release(&t);
	err = write_section(w, FST_SEC_INDEX, &w->payload, &idx_off);
	if (err)
		return err;
	obuf_bytes(&tr, FST_TRAILER_MAGIC, 8);
	obuf_le64(&tr, idx_off);
	obuf_le64(&tr, w->total_events);
	obuf_le32(&tr, 0);
	if (tr.oom) {
		obuf_release(&tr);
		return set_err(w, -ENOMEM);
	}
	obuf_le32(&tr, (uint32_t)crc32(crc32(0L, Z_NULL, 0), tr.p, 28));
	err = write_all(w, tr.p, tr.len);
	obuf_release(&tr);
	return err;
}

int trace_writer_close(struct trace_writer *w)
{
	int err;

	if (!w)
		return 0;
	if (!w->err && w->have_header) {
		flush_chunk(w);
		flush_stacks(w);
		write_index_and_trailer(w);
	}
	err = w->err;
	if (fclose(w->f) != 0 && !err)
		err = -(errno ? errno : EIO);
	ZSTD_freeCCtx(w->zc);
	obuf_release(&w->payload);
	obuf_release(&w->packed);
	obuf_release(&w->stacks);
	free(w->idx);
	free(w->ev);
	free(w->path);
	free(w);
	return err;
}
