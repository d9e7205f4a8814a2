// SPDX-License-Identifier: GPL-2.0-only
/*
 * The streaming trace reader (traces/FORMAT.md). Memory stays bounded by one chunk plus the
 * header, the section list and whatever snapshot the caller asks for. Every length read from
 * the file is checked against the file size and the limits of FORMAT.md §8 before it is used.
 *
 * Open finds the sections through the footer's index; when the footer is missing or does not
 * check out (a collector killed mid-write, a damaged file) it walks the section headers from the
 * start instead, resynchronising on the next valid section header after a damaged one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "traces/trace.h"
#include "traces/trace-local.h"
#include "util/errors.h"

#define META_UNKNOWN UINT64_MAX

struct secbuf {				/* where a section is read and decompressed */
	uint8_t *stored, *raw;
	size_t stored_cap, raw_cap;
};

struct sec {
	uint32_t type;
	uint64_t off;
	uint64_t first_seq, nr, first_ts;	/* chunks: META_UNKNOWN until seen */
	uint64_t len;				/* bytes in the file, section header included */
};

struct trace_reader {
	int fd;
	char *path;
	uint64_t size;
	struct trace_header hdr;
	struct sec *secs;
	size_t nr_secs, cap_secs;
	size_t *chunks;			/* indices into secs of the event chunks, in file order */
	size_t nr_chunks;
	size_t next_chunk;		/* the chunk to load next */
	size_t cur_chunk;		/* the chunk being decoded (valid while fst_chunk_left(dec)) */
	struct fst_chunk_dec dec;	/* decodes the current chunk, a batch at a time */
	struct trace_event *ev;		/* the current batch: FST_BATCH events */
	uint32_t nr_ev, pos;
	bool from_index;
	int snap_loaded;
	bool have_snap[TRACE_SNAP_MAX];
	struct trace_snapshot snap[TRACE_SNAP_MAX];
	bool have_loss;
	struct trace_loss loss;
	bool stacks_loaded;
	struct trace_stack *stacks;
	size_t nr_stacks;
	struct trace_read_status st;
	struct secbuf meta;		/* header, snapshots, losses, stacks, index */
	struct secbuf chunk;		/* event chunks: stays valid while the chunk is decoded */
	ZSTD_DCtx *zd;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct trace_reader *r, uint64_t off, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (r->st.first_problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->st.first_problem, sizeof(r->st.first_problem), "'%s': offset %llu: %s", r->path,
		 (unsigned long long)off, msg);
}

static int pread_all(struct trace_reader *r, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(r->fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return FS_ERRNO__TRUNCATED;
		done += (size_t)k;
	}
	return 0;
}

static uint32_t crc(const void *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);

	while (n) {	/* zlib takes uInt lengths */
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;

		c = crc32(c, p, k);
		p = (const uint8_t *)p + k;
		n -= k;
	}
	return (uint32_t)c;
}

struct sec_hdr {
	uint32_t type, flags;
	uint64_t stored, raw;
	uint32_t pcrc;
};

/* Parses and checks a 32-byte section header; false when it is not one. */
static bool parse_sec_hdr(const uint8_t *b, struct sec_hdr *h)
{
	if (fst_le32(b) != FST_SECTION_SYNC || fst_le32(b + 28) != crc(b, 28))
		return false;
	h->type = (uint32_t)b[4] | (uint32_t)b[5] << 8;
	h->flags = (uint32_t)b[6] | (uint32_t)b[7] << 8;
	h->stored = fst_le64(b + 8);
	h->raw = fst_le64(b + 16);
	h->pcrc = fst_le32(b + 24);
	return true;
}

static uint64_t raw_limit(uint32_t type)
{
	return type == FST_SEC_CHUNK ? FST_MAX_CHUNK_RAW : FST_MAX_SECTION_RAW;
}

/* Room for n bytes and FST_DECODE_PAD more, which the chunk decoder may read (zeroed). */
static bool grow_buf(uint8_t **buf, size_t *cap, uint64_t n)
{
	uint8_t *p;

	if (n + FST_DECODE_PAD > *cap) {
		p = realloc(*buf, n + FST_DECODE_PAD);
		if (!p)
			return false;
		*buf = p;
		*cap = n + FST_DECODE_PAD;
	}
	memset(*buf + n, 0, FST_DECODE_PAD);
	return true;
}

/*
 * Reads, checks and decompresses the section at off, which must be of type want.
 * On success *out covers the raw payload (valid until the next load).
 */
static int load_section_into(struct trace_reader *r, uint64_t off, uint32_t want, struct ibuf *out,
			     struct secbuf *sb)
{
	uint8_t hb[FST_SECTION_HDR_LEN];
	struct sec_hdr h;
	int err;

	if (off > r->size || r->size - off < FST_SECTION_HDR_LEN) {
		problem(r, off, "section beyond the end of the file");
		return FS_ERRNO__TRUNCATED;
	}
	err = pread_all(r, hb, sizeof(hb), off);
	if (err)
		return err;
	if (!parse_sec_hdr(hb, &h) || h.type != want) {
		problem(r, off, "expected a section header of type %u", want);
		return FS_ERRNO__CORRUPT;
	}
	if (h.stored > r->size - off - FST_SECTION_HDR_LEN) {
		problem(r, off, "section of %llu bytes runs past the end of the file",
			(unsigned long long)h.stored);
		return FS_ERRNO__TRUNCATED;
	}
	if (h.raw > raw_limit(h.type) || h.stored > raw_limit(h.type) ||
	    (!(h.flags & FST_SECTION_F_ZSTD) && h.raw != h.stored)) {
		problem(r, off, "section length %llu beyond the reader's limit", (unsigned long long)h.raw);
		return FS_ERRNO__TOO_LARGE;
	}
	if (!grow_buf(&sb->stored, &sb->stored_cap, h.stored))
		return -ENOMEM;
	err = pread_all(r, sb->stored, h.stored, off + FST_SECTION_HDR_LEN);
	if (err)
		return err;
	if (crc(sb->stored, h.stored) != h.pcrc) {
		problem(r, off, "section checksum mismatch");
		return FS_ERRNO__CHECKSUM;
	}
	if (h.flags & FST_SECTION_F_ZSTD) {
		unsigned long long fcs = ZSTD_getFrameContentSize(sb->stored, h.stored);
		size_t z;

		if (fcs != h.raw) {
			problem(r, off, "compressed size does not match the section header");
			return FS_ERRNO__DECOMPRESS;
		}
		if (!grow_buf(&sb->raw, &sb->raw_cap, h.raw))
			return -ENOMEM;
		z = ZSTD_decompressDCtx(r->zd, sb->raw, h.raw, sb->stored, h.stored);
		if (ZSTD_isError(z) || z != h.raw) {
			problem(r, off, "zstd: %s", ZSTD_isError(z) ? ZSTD_getErrorName(z) : "short output");
			return FS_ERRNO__DECOMPRESS;
		}
		out->p = sb->raw;
	} else {
		out->p = sb->stored;
	}
	out->end = out->p + h.raw;
	out->bad = false;
	return 0;
}

/* Any section but an event chunk: into r->meta, valid until the next such load. */
static int load_section(struct trace_reader *r, uint64_t off, uint32_t want, struct ibuf *out)
{
	return load_section_into(r, off, want, out, &r->meta);
}

static int add_sec(struct trace_reader *r, uint32_t type, uint64_t off)
{
	struct sec *s;

	if (r->nr_secs == r->cap_secs) {
		size_t cap = r->cap_secs ? r->cap_secs * 2 : 64;

		s = realloc(r->secs, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		r->secs = s;
		r->cap_secs = cap;
	}
	s = &r->secs[r->nr_secs++];
	s->type = type;
	s->off = off;
	s->first_seq = s->nr = s->first_ts = META_UNKNOWN;
	return 0;
}

/* Uses the footer's index; false (and no sections) if it is absent or does not check out. */
static bool read_index(struct trace_reader *r)
{
	uint8_t tb[FST_TRAILER_LEN];
	uint64_t idx_off, prev_off = 0;
	struct ibuf b, t;
	char saved[sizeof(r->st.first_problem)];

	if (r->size < FST_FILE_HEADER_LEN + FST_SECTION_HDR_LEN + FST_TRAILER_LEN)
		return false;
	if (pread_all(r, tb, sizeof(tb), r->size - FST_TRAILER_LEN))
		return false;
	if (memcmp(tb, FST_TRAILER_MAGIC, 8) || fst_le32(tb + 28) != crc(tb, 28))
		return false;
	idx_off = fst_le64(tb + 8);
	if (idx_off < FST_FILE_HEADER_LEN || idx_off > r->size - FST_TRAILER_LEN - FST_SECTION_HDR_LEN)
		return false;
	memcpy(saved, r->st.first_problem, sizeof(saved));
	if (load_section(r, idx_off, FST_SEC_INDEX, &b)) {
		memcpy(r->st.first_problem, saved, sizeof(saved));	/* the walk will say what is wrong */
		return false;
	}
	while (b.p < b.end) {
		uint64_t tag = ibuf_uv(&b), len = ibuf_uv(&b);
		uint64_t type, off;

		if (b.bad || len > ibuf_left(&b))
			goto bad;
		t.p = b.p;
		t.end = b.p + len;
		t.bad = false;
		b.p += len;
		if (tag != 1)
			continue;
		type = ibuf_uv(&t);
		off = ibuf_uv(&t);
		/* offsets strictly increase and each section fits before the index */
		if (t.bad || type > UINT16_MAX || off < FST_FILE_HEADER_LEN || off >= idx_off ||
		    (r->nr_secs && off < prev_off + FST_SECTION_HDR_LEN))
			goto bad;
		prev_off = off;
		if (add_sec(r, (uint32_t)type, off))
			goto bad;
		if (type == FST_SEC_CHUNK) {
			struct sec *s = &r->secs[r->nr_secs - 1];

			s->first_seq = ibuf_uv(&t);
			s->nr = ibuf_uv(&t);
			s->first_ts = ibuf_uv(&t);
			if (t.bad || s->nr > FST_MAX_CHUNK_EVENTS)
				goto bad;
		}
	}
	for (size_t i = 0; i < r->nr_secs; i++)
		r->secs[i].len = (i + 1 < r->nr_secs ? r->secs[i + 1].off : idx_off) - r->secs[i].off;
	r->from_index = true;
	return true;
bad:
	r->nr_secs = 0;
	return false;
}

/* Finds the next offset >= from that holds a valid section header, or r->size. */
static uint64_t resync(struct trace_reader *r, uint64_t from)
{
	uint8_t buf[65536];
	uint64_t off = from;

	while (off + FST_SECTION_HDR_LEN <= r->size) {
		size_t n = r->size - off < sizeof(buf) ? (size_t)(r->size - off) : sizeof(buf);
		struct sec_hdr h;

		if (pread_all(r, buf, n, off))
			break;
		for (size_t i = 0; i + 4 <= n; i++) {
			if (fst_le32(buf + i) != FST_SECTION_SYNC)
				continue;
			if (i + FST_SECTION_HDR_LEN <= n) {
				if (parse_sec_hdr(buf + i, &h))
					return off + i;
			} else {
				uint8_t hb[FST_SECTION_HDR_LEN];

				if (off + i + FST_SECTION_HDR_LEN <= r->size &&
				    !pread_all(r, hb, sizeof(hb), off + i) && parse_sec_hdr(hb, &h))
					return off + i;
			}
		}
		if (n < sizeof(buf))
			break;
		off += n - 3;	/* the sync word may straddle the block boundary */
	}
	return r->size;
}

/* Walks the section headers from the start (no usable footer). */
static int walk_sections(struct trace_reader *r)
{
	uint64_t off = FST_FILE_HEADER_LEN;
	bool complete = false;
	int err;

	r->nr_secs = 0;
	while (off < r->size) {
		uint8_t hb[FST_SECTION_HDR_LEN];
		struct sec_hdr h;
		uint64_t left = r->size - off;

		if (left == FST_TRAILER_LEN && !pread_all(r, hb, FST_TRAILER_LEN, off) &&
		    !memcmp(hb, FST_TRAILER_MAGIC, 8) && fst_le32(hb + 28) == crc(hb, 28)) {
			complete = true;
			break;
		}
		if (left < FST_SECTION_HDR_LEN) {
			r->st.truncated = true;
			r->st.bytes_unreadable = left;
			problem(r, off, "file ends inside a section header (%llu bytes left)",
				(unsigned long long)left);
			break;
		}
		err = pread_all(r, hb, sizeof(hb), off);
		if (err)
			return err;
		if (!parse_sec_hdr(hb, &h)) {
			uint64_t next = resync(r, off + 1);

			problem(r, off, "bad section header; %llu bytes skipped",
				(unsigned long long)(next - off));
			r->st.corrupt_chunks++;
			if (next >= r->size) {
				r->st.bytes_unreadable += next - off;
				r->st.truncated = true;
				break;
			}
			r->st.bytes_unreadable += next - off;
			off = next;
			continue;
		}
		if (h.stored > left - FST_SECTION_HDR_LEN) {
			r->st.truncated = true;
			r->st.bytes_unreadable += left;
			problem(r, off, "file ends inside a section (%llu of %llu bytes present)",
				(unsigned long long)(left - FST_SECTION_HDR_LEN), (unsigned long long)h.stored);
			break;
		}
		if (h.type != FST_SEC_INDEX) {
			err = add_sec(r, h.type, off);
			if (err)
				return err;
			r->secs[r->nr_secs - 1].len = FST_SECTION_HDR_LEN + h.stored;
		}
		off += FST_SECTION_HDR_LEN + h.stored;
	}
	if (!complete && !r->st.truncated) {
		r->st.truncated = true;	/* ends on a section boundary but without footer */
		problem(r, r->size, "no footer: the writer did not finish");
	}
	return 0;
}

static int open_fail(struct trace_reader *r, int err, int *errp, char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int open_fail(struct trace_reader *r, int err, int *errp, char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	*errp = err;
	if (errbuf && errlen) {
		int n = snprintf(errbuf, errlen, "'%s': ", r->path);

		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < errlen)
			vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	trace_reader_close(r);
	return err;
}

struct trace_reader *trace_reader_open(const char *path, int *errp, char *errbuf, size_t errlen)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	uint8_t fh[FST_FILE_HEADER_LEN];
	struct stat sb;
	struct ibuf b;
	int dummy, err;

	if (!errp)
		errp = &dummy;
	if (!r) {
		*errp = -ENOMEM;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "'%s': %s", path, strerror(ENOMEM));
		return NULL;
	}
	r->fd = -1;
	r->path = strdup(path);
	r->zd = ZSTD_createDCtx();
	r->ev = aligned_alloc(64, FST_BATCH * sizeof(*r->ev));
	if (!r->path || !r->zd || !r->ev) {
		if (!r->path)
			r->path = NULL;
		*errp = -ENOMEM;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "'%s': %s", path, strerror(ENOMEM));
		trace_reader_close(r);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &sb) < 0) {
		err = -errno;
		open_fail(r, err, errp, errbuf, errlen, "%s", strerror(-err));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		open_fail(r, -EINVAL, errp, errbuf, errlen, "not a regular file");
		return NULL;
	}
	r->size = (uint64_t)sb.st_size;
	err = r->size >= FST_FILE_HEADER_LEN ? pread_all(r, fh, sizeof(fh), 0) : FS_ERRNO__TRUNCATED;
	if (err || memcmp(fh, FST_MAGIC, FST_MAGIC_LEN)) {
		bool prefix = r->size < FST_FILE_HEADER_LEN && r->size &&
			      !pread_all(r, fh, r->size, 0) &&
			      !memcmp(fh, FST_MAGIC, r->size < FST_MAGIC_LEN ? r->size : FST_MAGIC_LEN);

		if (prefix)
			open_fail(r, FS_ERRNO__TRUNCATED, errp, errbuf, errlen,
				  "offset 0: file ends inside the file header (%llu bytes)",
				  (unsigned long long)r->size);
		else
			open_fail(r, FS_ERRNO__BAD_MAGIC, errp, errbuf, errlen,
				  "offset 0: not a fragscope trace (bad magic)");
		return NULL;
	}
	if (fh[8] != FST_VERSION_MAJOR || fh[9]) {
		open_fail(r, FS_ERRNO__VERSION, errp, errbuf, errlen,
			  "offset 8: format version %u.%u, this build reads %u.x",
			  fh[8] | fh[9] << 8, fh[10] | fh[11] << 8, FST_VERSION_MAJOR);
		return NULL;
	}
	if (!read_index(r)) {
		err = walk_sections(r);
		if (err) {
			open_fail(r, err, errp, errbuf, errlen, "%s", fragscope_strerror(err));
			return NULL;
		}
	}
	/* the machine header: the first header section */
	err = FS_ERRNO__NO_HEADER;
	for (size_t i = 0; i < r->nr_secs; i++) {
		if (r->secs[i].type != FST_SEC_HEADER)
			continue;
		err = load_section(r, r->secs[i].off, FST_SEC_HEADER, &b);
		if (!err)
			err = fst_decode_header(&b, &r->hdr);
		if (err) {
			if (err == FS_ERRNO__CORRUPT)
				problem(r, r->secs[i].off, "machine header does not parse");
			open_fail(r, err, errp, errbuf, errlen, "%s",
				  r->st.first_problem[0] ? r->st.first_problem + strlen(r->path) + 4
							 : fragscope_strerror(err));
			return NULL;
		}
		break;
	}
	if (err) {
		open_fail(r, err, errp, errbuf, errlen, "offset %d: no machine header%s%s",
			  FST_FILE_HEADER_LEN, r->st.first_problem[0] ? "; " : "",
			  r->st.first_problem[0] ? r->st.first_problem + strlen(r->path) + 4 : "");
		return NULL;
	}
	/* chunks, and the last loss record that reads */
	r->chunks = calloc(r->nr_secs ? r->nr_secs : 1, sizeof(*r->chunks));
	if (!r->chunks) {
		open_fail(r, -ENOMEM, errp, errbuf, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	for (size_t i = 0; i < r->nr_secs; i++)
		if (r->secs[i].type == FST_SEC_CHUNK)
			r->chunks[r->nr_chunks++] = i;
	for (size_t i = r->nr_secs; i-- > 0;) {
		struct trace_loss l;

		if (r->secs[i].type != FST_SEC_LOSS)
			continue;
		if (load_section(r, r->secs[i].off, FST_SEC_LOSS, &b) || fst_decode_loss(&b, &l)) {
			problem(r, r->secs[i].off, "loss record does not parse");
			continue;
		}
		r->loss = l;
		r->have_loss = true;
		break;
	}
	*errp = 0;
	return r;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	trace_header_release(&r->hdr);
	for (int i = 0; i < TRACE_SNAP_MAX; i++)
		trace_snapshot_release(&r->snap[i]);
	trace_loss_release(&r->loss);
	for (size_t i = 0; i < r->nr_stacks; i++)
		fst_stack_release(&r->stacks[i]);
	free(r->stacks);
	free(r->secs);
	free(r->chunks);
	free(r->ev);
	free(r->meta.stored);
	free(r->meta.raw);
	free(r->chunk.stored);
	free(r->chunk.raw);
	ZSTD_freeDCtx(r->zd);
	free(r->path);
	free(r);
}

const struct trace_header *trace_reader_header(const struct trace_reader *r)
{
	return &r->hdr;
}

const struct trace_snapshot *trace_reader_snapshot(struct trace_reader *r, enum trace_snapshot_which which)
{
	if ((unsigned int)which >= TRACE_SNAP_MAX)
		return NULL;
	if (!r->snap_loaded) {
		r->snap_loaded = 1;
		for (size_t i = 0; i < r->nr_secs; i++) {
			struct trace_snapshot s;
			struct ibuf b;
			int err;

			if (r->secs[i].type != FST_SEC_SNAPSHOT)
				continue;
			err = load_section(r, r->secs[i].off, FST_SEC_SNAPSHOT, &b);
			if (!err)
				err = fst_decode_snapshot(&b, &s);
			if (err) {
				problem(r, r->secs[i].off, "snapshot does not parse: %s", fragscope_strerror(err));
				continue;
			}
			trace_snapshot_release(&r->snap[s.which]);
			r->snap[s.which] = s;	/* the last of each kind wins */
			r->have_snap[s.which] = true;
		}
	}
	return r->have_snap[which] ? &r->snap[which] : NULL;
}

const struct trace_loss *trace_reader_loss(struct trace_reader *r)
{
	return r->have_loss ? &r->loss : NULL;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct trace_stack *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

const struct trace_stack *trace_reader_stack(struct trace_reader *r, uint32_t id)
{
	size_t lo = 0, hi;

	if (!r->stacks_loaded) {
		size_t cap = 0;

		r->stacks_loaded = true;
		for (size_t i = 0; i < r->nr_secs; i++) {
			struct ibuf b;
			struct trace_stack st;
			int got;

			if (r->secs[i].type != FST_SEC_STACKS)
				continue;
			if (load_section(r, r->secs[i].off, FST_SEC_STACKS, &b))
				continue;
			while ((got = fst_decode_stack(&b, &st)) > 0) {
				if (r->nr_stacks == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					struct trace_stack *p = realloc(r->stacks, ncap * sizeof(*p));

					if (!p) {
						fst_stack_release(&st);
						break;
					}
					r->stacks = p;
					cap = ncap;
				}
				r->stacks[r->nr_stacks++] = st;
			}
			if (got < 0)
				problem(r, r->secs[i].off, "stack table does not parse");
		}
		if (r->nr_stacks)
			qsort(r->stacks, r->nr_stacks, sizeof(*r->stacks), cmp_stack);
	}
	hi = r->nr_stacks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->stacks[mid].id == id)
			return &r->stacks[mid];
		if (r->stacks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t trace_reader_nr_events(struct trace_reader *r)
{
	uint64_t known = 0, nknown = 0;

	for (size_t i = 0; i < r->nr_chunks; i++) {
		const struct sec *s = &r->secs[r->chunks[i]];

		if (s->nr != META_UNKNOWN) {
			known += s->nr;
			nknown++;
		}
	}
	if (nknown == r->nr_chunks || !nknown)
		return nknown ? known : 0;
	return known + known / nknown * (r->nr_chunks - nknown);
}

/* Counts the current chunk as corrupt after its decoder failed with err. */
static int chunk_failed(struct trace_reader *r, size_t i, int err)
{
	problem(r, r->secs[r->chunks[i]].off, "event chunk does not decode: %s", fragscope_strerror(err));
	r->nr_ev = r->pos = 0;
	r->dec.next = r->dec.n;
	if (err != -ENOMEM)
		r->st.corrupt_chunks++;
	return err;
}

/* Loads chunk i and starts decoding it (no event decoded yet); on failure counts it as corrupt. */
static int load_chunk(struct trace_reader *r, size_t i)
{
	struct sec *s = &r->secs[r->chunks[i]];
	struct ibuf b;
	int err;

	r->nr_ev = r->pos = 0;
	r->dec.n = r->dec.next = 0;
	r->cur_chunk = i;
	err = load_section_into(r, s->off, FST_SEC_CHUNK, &b, &r->chunk);
	if (err) {
		if (err != -ENOMEM)
			r->st.corrupt_chunks++;
		return err;
	}
	err = fst_chunk_begin(&r->dec, &b);
	if (err)
		return chunk_failed(r, i, err);
	if (r->from_index && s->first_seq != META_UNKNOWN &&
	    (s->first_seq != r->dec.first_seq || s->nr != r->dec.n)) {
		problem(r, s->off, "event chunk disagrees with the index");
		r->st.corrupt_chunks++;
		r->dec.n = 0;
		return FS_ERRNO__CORRUPT;
	}
	s->first_seq = r->dec.first_seq;
	s->nr = r->dec.n;
	s->first_ts = r->dec.first_ts;
	return 0;
}

/* Decodes the next batch of the current chunk, or of the chunks after it: 1 = r->ev holds
 * events, 0 = end of stream, < 0 = error (the next call goes on with the following chunk). */
static int refill(struct trace_reader *r)
{
	for (;;) {
		if (fst_chunk_left(&r->dec)) {
			int got = fst_chunk_decode(&r->dec, r->ev, FST_BATCH);

			if (got < 0)
				return chunk_failed(r, r->cur_chunk, got);
			r->nr_ev = (uint32_t)got;
			r->pos = 0;
			return 1;
		}
		if (r->next_chunk >= r->nr_chunks)
			return 0;
		{
			int err = load_chunk(r, r->next_chunk++);

			if (err)
				return err;
		}
	}
}

int trace_reader_next_ref(struct trace_reader *r, const struct trace_event **ev)
{
	if (__builtin_expect(r->pos >= r->nr_ev, 0)) {
		int ret = refill(r);

		if (ret <= 0)
			return ret;
	}
	*ev = &r->ev[r->pos++];
	return 1;
}

int trace_reader_next_batch(struct trace_reader *r, const struct trace_event **evs)
{
	uint32_t n;

	if (r->pos >= r->nr_ev) {
		int ret = refill(r);

		if (ret <= 0)
			return ret;
	}
	n = r->nr_ev - r->pos;
	*evs = &r->ev[r->pos];
	r->pos = r->nr_ev;
	return (int)n;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *ev)
{
	const struct trace_event *e = NULL;
	int ret = trace_reader_next_ref(r, &e);

	if (ret == 1)
		*ev = *e;
	return ret;
}

int trace_reader_seek(struct trace_reader *r, uint64_t seq)
{
	for (size_t i = 0; i < r->nr_chunks; i++) {
		struct sec *s = &r->secs[r->chunks[i]];
		bool loaded = false;

		if (s->nr == META_UNKNOWN) {
			if (load_chunk(r, i))
				continue;
			loaded = true;
		}
		if (seq >= s->first_seq + s->nr)
			continue;
		if (!loaded) {
			int err = load_chunk(r, i);

			if (err) {
				r->next_chunk = i + 1;
				return err;
			}
		}
		r->next_chunk = i + 1;
		/* decode batches until the one that holds seq */
		while (fst_chunk_left(&r->dec)) {
			int got = fst_chunk_decode(&r->dec, r->ev, FST_BATCH);

			if (got < 0)
				return chunk_failed(r, i, got);
			r->nr_ev = (uint32_t)got;
			if (s->first_seq + r->dec.next > seq)
				break;
		}
		r->pos = 0;
		while (r->pos < r->nr_ev && r->ev[r->pos].seq < seq)
			r->pos++;
		return 0;
	}
	r->next_chunk = r->nr_chunks;
	r->nr_ev = r->pos = 0;
	r->dec.n = r->dec.next = 0;
	return 0;
}

const struct trace_read_status *trace_reader_status(const struct trace_reader *r)
{
	return &r->st;
}

uint64_t trace_reader_file_size(const struct trace_reader *r)
{
	return r->size;
}

uint64_t trace_reader_event_bytes(const struct trace_reader *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nr_chunks; i++)
		n += r->secs[r->chunks[i]].len;
	return n;
}
