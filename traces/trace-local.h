/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * traces/ internals that tests may see: the on-disk constants of traces/FORMAT.md, a growable
 * output buffer and a bounds-checked input cursor with LEB128 varints and zigzag.
 */
#ifndef FRAGSCOPE_TRACE_LOCAL_H
#define FRAGSCOPE_TRACE_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "traces/trace.h"

/* ---- file layout (FORMAT.md §2) --------------------------------------------------------------- */
#define FST_MAGIC		"\x89" "FST\r\n\x1a\n"	/* 8 bytes */
#define FST_MAGIC_LEN		8
#define FST_VERSION_MAJOR	1
#define FST_VERSION_MINOR	0
#define FST_FILE_HEADER_LEN	16

#define FST_SECTION_SYNC	0x43455346u	/* "FSEC" little-endian */
#define FST_SECTION_HDR_LEN	32
#define FST_SECTION_F_ZSTD	0x0001

#define FST_TRAILER_MAGIC	"FSTFOOT\0"
#define FST_TRAILER_LEN		32

enum fst_section_type {
	FST_SEC_HEADER = 1,
	FST_SEC_SNAPSHOT = 2,
	FST_SEC_CHUNK = 3,
	FST_SEC_LOSS = 4,
	FST_SEC_STACKS = 5,
	FST_SEC_INDEX = 6,
};

/* Reader limits (FORMAT.md §8): anything beyond is "too large", never allocated. */
#define FST_MAX_CHUNK_EVENTS	(1u << 20)
#define FST_MAX_CHUNK_RAW	(64u << 20)
#define FST_MAX_SECTION_RAW	(1024u << 20)
#define FST_DEFAULT_CHUNK_EVENTS 8192
#define FST_MAX_STACK_DEPTH	512

/* Event field-mask bits (FORMAT.md §6.2). */
enum fst_evmask {
	FST_EV_ORDER = 1 << 0,
	FST_EV_FALLBACK_ORDER = 1 << 1,
	FST_EV_FLAGS = 1 << 2,
	FST_EV_MT = 1 << 3,
	FST_EV_FALLBACK_MT = 1 << 4,
	FST_EV_ZONE = 1 << 5,
	FST_EV_GFP = 1 << 6,
	FST_EV_AUX = 1 << 7,
	FST_EV_AUX2 = 1 << 8,
	FST_EV_STACK = 1 << 9,
};

/* ---- output buffer ---------------------------------------------------------------------------- */
struct obuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

bool fst_obuf_grow(struct obuf *b, size_t n);

static inline bool obuf_reserve(struct obuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return true;
	return fst_obuf_grow(b, n);
}

static inline void obuf_bytes(struct obuf *b, const void *p, size_t n)
{
	if (!obuf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void obuf_u8(struct obuf *b, uint8_t v)
{
	if (!obuf_reserve(b, 1))
		return;
	b->p[b->len++] = v;
}

static inline void obuf_uv(struct obuf *b, uint64_t v)
{
	if (!obuf_reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline void obuf_sv(struct obuf *b, int64_t v)
{
	obuf_uv(b, zigzag(v));
}

static inline void obuf_str(struct obuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	obuf_uv(b, n);
	obuf_bytes(b, s, n);
}

static inline void obuf_le32(struct obuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	obuf_bytes(b, x, 4);
}

static inline void obuf_le64(struct obuf *b, uint64_t v)
{
	obuf_le32(b, (uint32_t)v);
	obuf_le32(b, (uint32_t)(v >> 32));
}

void obuf_release(struct obuf *b);

/* ---- input cursor: every read is bounds-checked; a failed read sets bad and returns 0 --------- */
struct ibuf {
	const uint8_t *p, *end;
	bool bad;
};

static inline uint64_t ibuf_uv_slow(struct ibuf *b)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (b->p < b->end) {
		uint8_t c = *b->p++;

		if (shift == 63 && (c & 0x7e)) {
			b->bad = true;	/* more than 64 bits */
			return 0;
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
		if (shift > 63) {
			b->bad = true;
			return 0;
		}
	}
	b->bad = true;
	return 0;
}

/* LEB128: one- and two-byte values (nearly all event fields) without the general loop; the
 * result and the error cases are those of ibuf_uv_slow(). */
static inline uint64_t ibuf_uv(struct ibuf *b)
{
	const uint8_t *p = b->p;
	size_t left = (size_t)(b->end - p);

	if (__builtin_expect(left >= 2, 1)) {
		if (!(p[0] & 0x80)) {
			b->p = p + 1;
			return p[0];
		}
		if (!(p[1] & 0x80)) {
			b->p = p + 2;
			return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		}
	}
	return ibuf_uv_slow(b);
}

static inline int64_t ibuf_sv(struct ibuf *b)
{
	return unzigzag(ibuf_uv(b));
}

static inline uint8_t ibuf_u8(struct ibuf *b)
{
	if (b->p >= b->end) {
		b->bad = true;
		return 0;
	}
	return *b->p++;
}

static inline size_t ibuf_left(const struct ibuf *b)
{
	return (size_t)(b->end - b->p);
}

/* A varint that must fit in 32 bits. */
static inline uint32_t ibuf_u32(struct ibuf *b)
{
	uint64_t v = ibuf_uv(b);

	if (v > UINT32_MAX) {
		b->bad = true;
		return 0;
	}
	return (uint32_t)v;
}

/* A count of items each needing at least min_bytes of the remaining input. */
static inline uint64_t ibuf_count(struct ibuf *b, size_t min_bytes)
{
	uint64_t n = ibuf_uv(b);

	if (b->bad || (min_bytes && n > ibuf_left(b) / min_bytes)) {
		b->bad = true;
		return 0;
	}
	return n;
}

/* Copies a length-prefixed string into dst[cap]; too long for cap is corrupt. */
bool ibuf_str_fixed(struct ibuf *b, char *dst, size_t cap);
/* A length-prefixed string, malloc'd; NULL with b->bad set on a bad length or ENOMEM. */
char *ibuf_str_dup(struct ibuf *b);

static inline uint32_t fst_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fst_le64(const uint8_t *p)
{
	return (uint64_t)fst_le32(p) | (uint64_t)fst_le32(p + 4) << 32;
}

/* ---- section payload codecs (traces/codec.c) ---------------------------------------------- */
int fst_encode_header(struct obuf *b, const struct trace_header *h);
int fst_decode_header(struct ibuf *b, struct trace_header *h);
int fst_encode_snapshot(struct obuf *b, const struct trace_snapshot *s);
int fst_decode_snapshot(struct ibuf *b, struct trace_snapshot *s);
int fst_encode_loss(struct obuf *b, const struct trace_loss *l);
int fst_decode_loss(struct ibuf *b, struct trace_loss *l);
int fst_encode_stack(struct obuf *b, const struct trace_stack *st);
int fst_decode_stack(struct ibuf *b, struct trace_stack *st);
void fst_stack_release(struct trace_stack *st);
/* Event chunk payload: n events starting at first_seq. */
int fst_encode_chunk(struct obuf *b, const struct trace_event *ev, uint32_t n, uint64_t first_seq);
/* Decodes into *evp (grown with realloc up to FST_MAX_CHUNK_EVENTS, *capp its capacity). Any
 * buffer: it copies the payload into a padded one and decodes with the batch decoder below. */
int fst_decode_chunk(struct ibuf *b, struct trace_event **evp, uint32_t *capp, uint32_t *np,
		     uint64_t *first_seq);

/*
 * Batch decoder of one event chunk: column by column, FST_BATCH events at a time, so that the
 * decoded events stay in the cache until they are used. The payload must be followed by at least
 * FST_DECODE_PAD readable bytes (the reader's buffers are): the inner loops then read varints
 * without a bounds check per value, and a column that ran past its end is found after the batch
 * (a batch reads at most 4 varints of 10 bytes per event from any one column). Events of a
 * batch that does not decode are never returned.
 */
#define FST_BATCH		256
#define FST_DECODE_PAD		(40 * FST_BATCH + 16)
#define FST_NR_COLS		8
#define FST_NR_SLOTS		256	/* last_pid / last_pfn slots: cpu & 255 (FORMAT.md §6) */

struct fst_chunk_dec {
	struct ibuf col[FST_NR_COLS];	/* the columns; col[c].p is where the next batch reads */
	uint64_t first_seq, first_ts;
	uint32_t n;			/* events in the chunk */
	uint32_t next;			/* events decoded so far */
	uint64_t ts;			/* the last decoded timestamp */
	uint64_t last_pfn[FST_NR_SLOTS];
	uint32_t last_pid[FST_NR_SLOTS];
};

/* Reads the chunk header from b (which has FST_DECODE_PAD bytes after b->end) and prepares d.
 * 0, FS_ERRNO__CORRUPT or FS_ERRNO__TOO_LARGE. */
int fst_chunk_begin(struct fst_chunk_dec *d, struct ibuf *b);
/* Decodes the next min(max, FST_BATCH, events left) events into ev: their number (0 when the
 * chunk is done) or FS_ERRNO__CORRUPT, after which the chunk decodes nothing more. */
int fst_chunk_decode(struct fst_chunk_dec *d, struct trace_event *ev, uint32_t max);
static inline uint32_t fst_chunk_left(const struct fst_chunk_dec *d)
{
	return d->n - d->next;
}

/* Deep copies, for the writer's users and the tests. */
int trace_header_copy(struct trace_header *dst, const struct trace_header *src);
bool trace_event_equal(const struct trace_event *a, const struct trace_event *b);

#endif
