// SPDX-License-Identifier: GPL-2.0-only
/* The timeline index: full and delta model checkpoints for seeking (see timeline.h). */
#include "replay/timeline.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/errors.h"

#define TL_NONE UINT64_MAX
#define TL_PCP 0x80		/* list: 0x80 | pindex for a pcp page, else the free list's (kernel) mt */
#define TL_GONE 0xff		/* in a delta: the entry left every list */

/* One list entry: a free block or a pcp page, with its list and its successor there. */
struct tl_rec {
	uint64_t pfn;
	uint64_t next;		/* pfn of the next entry on the same list, TL_NONE at the tail */
	uint32_t cpu;		/* pcp pages; 0 for free blocks */
	uint16_t zone;		/* trace zone index */
	uint8_t order;
	uint8_t list;
};

struct tl_ck {
	uint64_t seq;		/* event_seq: the first event not applied */
	bool full;
	void *rec;		/* zstd of the records in columns (see pack_records()), sorted by pfn:
				 * full, every entry; delta, the changed ones */
	size_t nr, rec_len;
	uint8_t *pb;		/* full: every pageblock type (flat over tl->layout); delta: new values */
	uint32_t *pb_idx;	/* delta: flat indices of the changed pageblocks */
	size_t nr_pb;		/* delta: number of changed pageblocks */
	size_t pb_len;		/* full: zstd of the types, pb_len bytes */
	void *aux;		/* zstd of the replay_save_aux() blob; a delta's with its full's blob as
				 * prefix (the blobs differ little) */
	size_t aux_len, aux_raw;
};

struct replay_timeline {
	struct replay_opts opts;
	unsigned full_every;
	const struct trace_header *h;
	const struct trace_snapshot *start;
	struct tl_ck *ck;
	size_t nr, cap;
	/* pageblock layout (zones, first pfn, count), the same in every checkpoint */
	struct trace_pageblocks *layout;
	uint32_t nr_layout;
	uint64_t nr_pb_total;
	struct replay_timeline_stats st;
	/* while building */
	struct replay *building;
	struct tl_rec *prev, *cur, *tmp;
	size_t nr_prev, cap_rec;
	uint8_t *prev_pb, *cur_pb;
	size_t *cnt;		/* radix sort counts */
	uint64_t max_bytes;	/* memory budget (0 = none) */
	uint64_t stride, ncb;	/* a checkpoint every stride-th engine callback; callbacks so far */
	void *full_aux;		/* raw aux blob of the latest full checkpoint */
	size_t full_aux_len;
	ZSTD_CCtx *zc;
};

static unsigned window_log(size_t n)
{
	unsigned w = 10;

	while (w < 27 && ((size_t)1 << w) < n)
		w++;
	return w;
}

/* zstd (level 1) of src with prefix (may be NULL) as raw-content history. */
static int zpack(struct replay_timeline *tl, const void *src, size_t n, const void *prefix, size_t plen,
		 void **out, size_t *olen)
{
	size_t cap = ZSTD_compressBound(n), z;
	void *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	if (!tl->zc && !(tl->zc = ZSTD_createCCtx())) {
		free(b);
		return -ENOMEM;
	}
	ZSTD_CCtx_reset(tl->zc, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(tl->zc, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(tl->zc, ZSTD_c_windowLog, (int)window_log(n + plen));
	if (prefix)
		ZSTD_CCtx_refPrefix(tl->zc, prefix, plen);
	z = ZSTD_compress2(tl->zc, b, cap, src, n);
	if (ZSTD_isError(z)) {
		free(b);
		return -EIO;
	}
	*out = realloc(b, z ? z : 1);
	if (!*out)
		*out = b;
	*olen = z;
	return 0;
}

/* Inverse of zpack() into dst (exactly n bytes). */
static int zunpack(ZSTD_DCtx *zd, const void *src, size_t len, const void *prefix, size_t plen, void *dst, size_t n)
{
	size_t z;

	ZSTD_DCtx_reset(zd, ZSTD_reset_session_and_parameters);
	if (prefix)
		ZSTD_DCtx_refPrefix(zd, prefix, plen);
	z = ZSTD_decompressDCtx(zd, dst, n, src, len);
	return ZSTD_isError(z) || z != n ? -EINVAL : 0;
}

/* Records in columns (pfn as the gap from the one before, next as a zigzag distance from
 * pfn + 1 or 0 at the tail, then cpu, zone, order, list), which zstd packs several times
 * better than the structs; then zstd. */
static int pack_records(struct replay_timeline *tl, const struct tl_rec *r, size_t n, void **out, size_t *olen)
{
	uint8_t *b = malloc(n * sizeof(*r) + 1);
	uint64_t *pfn = (uint64_t *)b, *next = pfn + n, last = 0;
	uint32_t *cpu = (uint32_t *)(next + n);
	uint16_t *zone = (uint16_t *)(cpu + n);
	uint8_t *order = (uint8_t *)(zone + n), *list = order + n;
	int err;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int64_t d = (int64_t)(r[i].next - r[i].pfn);

		pfn[i] = r[i].pfn - last;
		last = r[i].pfn;
		next[i] = r[i].next == TL_NONE ? 0 : (((uint64_t)d << 1) ^ (uint64_t)(d >> 63)) + 1;
		cpu[i] = r[i].cpu;
		zone[i] = r[i].zone;
		order[i] = r[i].order;
		list[i] = r[i].list;
	}
	err = zpack(tl, b, n * sizeof(*r), NULL, 0, out, olen);
	free(b);
	return err;
}

static int unpack_records(ZSTD_DCtx *zd, const struct tl_ck *c, struct tl_rec *r)
{
	size_t n = c->nr;
	uint8_t *b = malloc(n * sizeof(*r) + 1);
	const uint64_t *pfn = (const uint64_t *)b, *next = pfn + n;
	const uint32_t *cpu = (const uint32_t *)(next + n);
	const uint16_t *zone = (const uint16_t *)(cpu + n);
	const uint8_t *order = (const uint8_t *)(zone + n), *list = order + n;
	uint64_t last = 0;
	int err;

	if (!b)
		return -ENOMEM;
	err = n ? zunpack(zd, c->rec, c->rec_len, NULL, 0, b, n * sizeof(*r)) : 0;
	for (size_t i = 0; !err && i < n; i++) {
		uint64_t z = next[i] - 1;

		r[i].pfn = last += pfn[i];
		r[i].next = next[i] ? r[i].pfn + (uint64_t)((int64_t)(z >> 1) ^ -(int64_t)(z & 1)) : TL_NONE;
		r[i].cpu = cpu[i];
		r[i].zone = zone[i];
		r[i].order = order[i];
		r[i].list = list[i];
	}
	free(b);
	return err;
}

static bool same_rec(const struct tl_rec *a, const struct tl_rec *b)
{
	return a->pfn == b->pfn && a->next == b->next && a->cpu == b->cpu && a->zone == b->zone &&
	       a->order == b->order && a->list == b->list;
}

/* LSD radix sort by pfn, 16 bits a pass, as many passes as the largest pfn needs. */
static void sort_records(struct tl_rec *a, struct tl_rec *tmp, size_t n, size_t *cnt)
{
	uint64_t max = 0;
	struct tl_rec *src = a, *dst = tmp;

	for (size_t i = 0; i < n; i++)
		if (a[i].pfn > max)
			max = a[i].pfn;
	for (unsigned sh = 0; sh < 64 && (sh == 0 || (max >> sh)); sh += 16) {
		size_t sum = 0;

		memset(cnt, 0, ((size_t)1 << 16) * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(src[i].pfn >> sh) & 0xffff]++;
		for (size_t d = 0; d < (1 << 16); d++) {
			size_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i].pfn >> sh) & 0xffff]++] = src[i];
		struct tl_rec *t = src;

		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* The snapshot's lists as records (into tl->cur, sorted by pfn). */
static int to_records(struct replay_timeline *tl, const struct trace_snapshot *s, size_t *nr)
{
	size_t n = s->nr_free_blocks + s->nr_pcp_pages, k = 0;

	if (n > tl->cap_rec) {
		size_t ncap = n + n / 4 + 1024;
		struct tl_rec *a = realloc(tl->cur, ncap * sizeof(*a)), *b;

		if (!a)
			return -ENOMEM;
		tl->cur = a;
		b = realloc(tl->tmp, ncap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		tl->tmp = b;
		b = realloc(tl->prev, ncap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		tl->prev = b;
		tl->cap_rec = ncap;
	}
	for (uint64_t i = 0; i < s->nr_free_blocks; i++) {
		const struct trace_free_block *f = &s->free_blocks[i], *g = f + 1;
		bool more = i + 1 < s->nr_free_blocks && g->zone == f->zone && g->order == f->order && g->mt == f->mt;

		if (f->mt < 0)
			return -ERANGE;
		tl->cur[k++] = (struct tl_rec){ .pfn = f->pfn, .next = more ? g->pfn : TL_NONE, .zone = f->zone,
						.order = f->order, .list = (uint8_t)f->mt };
	}
	for (uint64_t i = 0; i < s->nr_pcp_pages; i++) {
		const struct trace_pcp_page *p = &s->pcp_pages[i], *q = p + 1;
		bool more = i + 1 < s->nr_pcp_pages && q->zone == p->zone && q->cpu == p->cpu && q->pindex == p->pindex;

		if (p->pindex >= TL_GONE - TL_PCP)
			return -ERANGE;
		tl->cur[k++] = (struct tl_rec){ .pfn = p->pfn, .next = more ? q->pfn : TL_NONE, .cpu = p->cpu,
						.zone = p->zone, .order = p->order,
						.list = (uint8_t)(TL_PCP | p->pindex) };
	}
	if (!tl->cnt) {
		tl->cnt = malloc(((size_t)1 << 16) * sizeof(*tl->cnt));
		if (!tl->cnt)
			return -ENOMEM;
	}
	sort_records(tl->cur, tl->tmp, n, tl->cnt);
	*nr = n;
	return 0;
}

/* The flat pageblock types of s (into tl->cur_pb); the first call fixes the layout. */
static int flat_pageblocks(struct replay_timeline *tl, const struct trace_snapshot *s)
{
	uint64_t off = 0;

	if (!tl->layout) {
		tl->layout = calloc(s->nr_pageblock_zones ? s->nr_pageblock_zones : 1, sizeof(*tl->layout));
		if (!tl->layout)
			return -ENOMEM;
		tl->nr_layout = s->nr_pageblock_zones;
		for (uint32_t z = 0; z < s->nr_pageblock_zones; z++) {
			tl->layout[z] = s->pageblocks[z];
			tl->layout[z].types = NULL;
			tl->nr_pb_total += s->pageblocks[z].nr;
		}
		if (tl->nr_pb_total >= UINT32_MAX)
			return -ERANGE;
		tl->cur_pb = malloc(tl->nr_pb_total ? tl->nr_pb_total : 1);
		tl->prev_pb = malloc(tl->nr_pb_total ? tl->nr_pb_total : 1);
		if (!tl->cur_pb || !tl->prev_pb)
			return -ENOMEM;
	}
	if (s->nr_pageblock_zones != tl->nr_layout)
		return -EINVAL;
	for (uint32_t z = 0; z < s->nr_pageblock_zones; z++) {
		const struct trace_pageblocks *pb = &s->pageblocks[z];

		if (pb->zone != tl->layout[z].zone || pb->first_pfn != tl->layout[z].first_pfn ||
		    pb->nr != tl->layout[z].nr)
			return -EINVAL;
		memcpy(tl->cur_pb + off, pb->types, pb->nr);
		off += pb->nr;
	}
	return 0;
}

static int grow(struct replay_timeline *tl)
{
	size_t ncap = tl->cap ? tl->cap * 2 : 16;
	struct tl_ck *n;

	if (tl->nr < tl->cap)
		return 0;
	n = realloc(tl->ck, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	tl->ck = n;
	tl->cap = ncap;
	return 0;
}

/* Delta of cur against prev (both sorted by pfn; pageblock types likewise), into c. */
static int make_delta(struct replay_timeline *tl, const struct tl_rec *prev, size_t np, const struct tl_rec *cur,
		      size_t nr, const uint8_t *prev_pb, const uint8_t *cur_pb, struct tl_ck *c)
{
	size_t i = 0, j = 0, k = 0, npb = 0;
	struct tl_rec *out = malloc((np + nr) * sizeof(*out) + 1);
	int err;

	if (!out)
		return -ENOMEM;
	while (i < np || j < nr) {
		if (j == nr || (i < np && prev[i].pfn < cur[j].pfn)) {
			out[k++] = (struct tl_rec){ .pfn = prev[i].pfn, .next = TL_NONE, .list = TL_GONE };
			i++;
		} else if (i == np || cur[j].pfn < prev[i].pfn) {
			out[k++] = cur[j++];
		} else {
			if (!same_rec(&prev[i], &cur[j]))
				out[k++] = cur[j];
			i++;
			j++;
		}
	}
	c->nr = k;
	err = k ? pack_records(tl, out, k, &c->rec, &c->rec_len) : 0;
	free(out);
	if (err)
		return err;
	for (uint64_t p = 0; p < tl->nr_pb_total; p++)
		npb += cur_pb[p] != prev_pb[p];
	if (npb) {
		c->pb = malloc(npb);
		c->pb_idx = malloc(npb * sizeof(*c->pb_idx));
		if (!c->pb || !c->pb_idx)
			return -ENOMEM;
		for (uint64_t p = 0, q = 0; p < tl->nr_pb_total; p++)
			if (cur_pb[p] != prev_pb[p]) {
				c->pb[q] = cur_pb[p];
				c->pb_idx[q++] = (uint32_t)p;
			}
	}
	c->nr_pb = npb;
	return 0;
}

static void ck_release(struct tl_ck *c)
{
	free(c->rec);
	free(c->pb);
	free(c->pb_idx);
	free(c->aux);
	memset(c, 0, sizeof(*c));
}

static int apply_delta(const struct tl_rec *cur, size_t n, const struct tl_rec *d, size_t nd, struct tl_rec *out,
		       size_t *nout);

/* Over the memory budget: keep every other checkpoint (the even ones, so that the kept ones
 * sit at multiples of the doubled stride), re-encoded as fulls and deltas against the kept
 * checkpoint before, and take checkpoints half as often from now on. One pass over the
 * checkpoints in order, holding the state of one. */
static int thin(struct replay_timeline *tl)
{
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	struct tl_ck *nk = calloc(tl->nr / 2 + 1, sizeof(*nk));
	struct tl_rec *cur = NULL, *kept = NULL;
	uint8_t *pb = malloc(tl->nr_pb_total + 1), *kept_pb = malloc(tl->nr_pb_total + 1);
	void *old_full_aux = NULL, *new_full_aux = NULL;
	size_t n = 0, nkept_rec = 0, m = 0, old_full_len = 0, new_full_len = 0;
	struct replay_timeline_stats st = tl->st;
	int err = 0;

	if (!zd || !nk || !pb || !kept_pb) {
		err = -ENOMEM;
		goto out;
	}
	st.nr_full = st.nr_delta = 0;
	st.full_bytes = st.delta_bytes = st.aux_bytes = 0;
	for (size_t i = 0; i < tl->nr && !err; i++) {
		struct tl_ck *c = &tl->ck[i];
		void *aux = NULL;

		if (c->full) {
			free(cur);
			cur = malloc(c->nr * sizeof(*cur) + 1);
			n = c->nr;
			free(old_full_aux);
			old_full_aux = malloc(c->aux_raw + 1);
			old_full_len = c->aux_raw;
			err = !cur || !old_full_aux ? -ENOMEM : unpack_records(zd, c, cur);
			if (!err)
				err = zunpack(zd, c->pb, c->pb_len, NULL, 0, pb, tl->nr_pb_total);
			if (!err)
				err = zunpack(zd, c->aux, c->aux_len, NULL, 0, old_full_aux, c->aux_raw);
		} else {
			struct tl_rec *d = malloc(c->nr * sizeof(*d) + 1), *nxt = malloc((n + c->nr) * sizeof(*nxt) + 1);
			size_t nn = 0;

			err = !d || !nxt ? -ENOMEM : unpack_records(zd, c, d);
			if (!err)
				err = apply_delta(cur, n, d, c->nr, nxt, &nn);
			free(d);
			free(cur);
			cur = nxt;
			n = nn;
			for (size_t q = 0; !err && q < c->nr_pb; q++)
				pb[c->pb_idx[q]] = c->pb[q];
		}
		if (err || i % 2) {
			ck_release(c);
			continue;
		}
		/* kept: re-encode against the kept checkpoint before it */
		aux = malloc(c->aux_raw + 1);
		if (!aux)
			err = -ENOMEM;
		else if (c->full)
			memcpy(aux, old_full_aux, c->aux_raw);
		else
			err = zunpack(zd, c->aux, c->aux_len, old_full_aux, old_full_len, aux, c->aux_raw);
		if (!err) {
			struct tl_ck *k = &nk[m];

			k->seq = c->seq;
			k->aux_raw = c->aux_raw;
			k->full = m % tl->full_every == 0;
			if (k->full) {
				k->nr = n;
				err = n ? pack_records(tl, cur, n, &k->rec, &k->rec_len) : 0;
				if (!err)
					err = zpack(tl, pb, tl->nr_pb_total, NULL, 0, (void **)&k->pb, &k->pb_len);
				if (!err)
					err = zpack(tl, aux, c->aux_raw, NULL, 0, &k->aux, &k->aux_len);
				free(new_full_aux);
				new_full_aux = aux;
				new_full_len = c->aux_raw;
				aux = NULL;
				st.nr_full++;
				st.full_bytes += k->rec_len + k->pb_len;
			} else {
				err = make_delta(tl, kept, nkept_rec, cur, n, kept_pb, pb, k);
				if (!err)
					err = zpack(tl, aux, c->aux_raw, new_full_aux, new_full_len, &k->aux, &k->aux_len);
				st.nr_delta++;
				st.delta_bytes += k->rec_len + k->nr_pb * 5;
			}
			st.aux_bytes += k->aux_len;
			m++;
			free(kept);
			kept = malloc(n * sizeof(*kept) + 1);
			if (!kept)
				err = -ENOMEM;
			else
				memcpy(kept, cur, n * sizeof(*kept));
			nkept_rec = n;
			memcpy(kept_pb, pb, tl->nr_pb_total);
		}
		free(aux);
		ck_release(c);
	}
	if (err) {
		/* the old checkpoints are partly released: nothing usable is left */
		for (size_t i = 0; i < tl->nr; i++)
			ck_release(&tl->ck[i]);
		for (size_t i = 0; i < m; i++)
			ck_release(&nk[i]);
		free(nk);
		tl->nr = 0;
		goto out;
	}
	free(tl->ck);
	tl->ck = nk;
	tl->cap = tl->nr / 2 + 1;
	tl->nr = m;
	nk = NULL;
	/* the base of the next delta: the last kept checkpoint */
	if (nkept_rec > tl->cap_rec) {
		err = -ENOMEM;	/* cannot happen: kept states were all taken into these buffers */
		goto out;
	}
	memcpy(tl->prev, kept, nkept_rec * sizeof(*kept));
	tl->nr_prev = nkept_rec;
	memcpy(tl->prev_pb, kept_pb, tl->nr_pb_total);
	free(tl->full_aux);
	tl->full_aux = new_full_aux;
	tl->full_aux_len = new_full_len;
	new_full_aux = NULL;
	tl->stride *= 2;
	tl->st.nr_full = st.nr_full;
	tl->st.nr_delta = st.nr_delta;
	tl->st.full_bytes = st.full_bytes;
	tl->st.delta_bytes = st.delta_bytes;
	tl->st.aux_bytes = st.aux_bytes;
	tl->st.thinned++;
out:
	ZSTD_freeDCtx(zd);
	free(nk);
	free(cur);
	free(kept);
	free(pb);
	free(kept_pb);
	free(old_full_aux);
	free(new_full_aux);
	return err;
}

static int take_checkpoint(void *ctx, uint64_t next_seq)
{
	struct replay_timeline *tl = ctx;
	struct trace_snapshot s;
	struct tl_ck *c;
	void *aux;
	size_t nr, aux_len;
	int err;

	if (tl->ncb++ % tl->stride)
		return 0;
	err = grow(tl);
	if (err)
		return err;
	c = &tl->ck[tl->nr];
	memset(c, 0, sizeof(*c));
	c->seq = next_seq;
	err = replay_snapshot_model(tl->building, next_seq, &s);
	if (err)
		return err;
	err = to_records(tl, &s, &nr);
	if (!err)
		err = flat_pageblocks(tl, &s);
	trace_snapshot_release(&s);
	if (err)
		return err;
	err = replay_save_aux(tl->building, &aux, &aux_len);
	if (err)
		return err;
	c->full = tl->nr % tl->full_every == 0;
	c->aux_raw = aux_len;
	if (c->full) {
		c->nr = nr;
		err = nr ? pack_records(tl, tl->cur, nr, &c->rec, &c->rec_len) : 0;
		if (!err)
			err = zpack(tl, tl->cur_pb, tl->nr_pb_total, NULL, 0, (void **)&c->pb, &c->pb_len);
		if (!err)
			err = zpack(tl, aux, aux_len, NULL, 0, &c->aux, &c->aux_len);
		free(tl->full_aux);
		tl->full_aux = aux;
		tl->full_aux_len = aux_len;
		if (err) {
			ck_release(c);
			return err;
		}
		tl->st.nr_full++;
		tl->st.full_bytes += c->rec_len + c->pb_len;
	} else {
		err = make_delta(tl, tl->prev, tl->nr_prev, tl->cur, nr, tl->prev_pb, tl->cur_pb, c);
		if (!err)
			err = zpack(tl, aux, aux_len, tl->full_aux, tl->full_aux_len, &c->aux, &c->aux_len);
		free(aux);
		if (err) {
			ck_release(c);
			return err;
		}
		tl->st.nr_delta++;
		tl->st.delta_bytes += c->rec_len + c->nr_pb * 5;
	}
	tl->st.aux_bytes += c->aux_len;
	if (nr > tl->st.max_records)
		tl->st.max_records = nr;
	tl->nr++;
	/* this checkpoint is the base of the next delta */
	struct tl_rec *t = tl->prev;
	uint8_t *tp = tl->prev_pb;

	tl->prev = tl->cur;
	tl->cur = t;
	tl->nr_prev = nr;
	tl->prev_pb = tl->cur_pb;
	tl->cur_pb = tp;
	while (!err && tl->max_bytes && replay_timeline_bytes(tl) > tl->max_bytes && tl->nr >= 2)
		err = thin(tl);
	return err;
}

/* The build's working state (the previous and current checkpoint images, counts, the
 * latest full checkpoint's aux blob, the compressor); NULL-safe, leaves them NULL. */
static void release_build_scratch(struct replay_timeline *tl)
{
	free(tl->prev);
	free(tl->cur);
	free(tl->tmp);
	free(tl->prev_pb);
	free(tl->cur_pb);
	free(tl->cnt);
	free(tl->full_aux);
	ZSTD_freeCCtx(tl->zc);
	tl->cnt = NULL;
	tl->full_aux = NULL;
	tl->zc = NULL;
	tl->prev = tl->cur = tl->tmp = NULL;
	tl->prev_pb = tl->cur_pb = NULL;
}

struct replay_timeline *replay_timeline_build_opts(struct trace_reader *rd, const struct replay_opts *ropts,
						   const struct replay_timeline_opts *topts, int *err, char *errbuf,
						   size_t len)
{
	struct replay_timeline *tl = calloc(1, sizeof(*tl));
	struct trace_event ev;
	struct replay *r;

	if (!tl) {
		*err = -ENOMEM;
		snprintf(errbuf, len, "out of memory");
		return NULL;
	}
	tl->opts = *ropts;
	tl->opts.mode = REPLAY_FOLLOW;
	tl->opts.max_log = 0;
	tl->opts.sample_every = 0;
	tl->opts.stop_at = 0;
	tl->opts.checkpoint_every = topts->every ? topts->every : 1;
	tl->full_every = topts->full_every ? topts->full_every : REPLAY_TIMELINE_FULL_EVERY;
	tl->max_bytes = topts->sz >= offsetof(struct replay_timeline_opts, max_bytes) + sizeof(topts->max_bytes)
				? topts->max_bytes : 0;
	tl->stride = 1;
	tl->h = trace_reader_header(rd);
	tl->start = trace_reader_snapshot(rd, TRACE_SNAP_START);
	r = replay_new(tl->h, tl->start, &tl->opts, err, errbuf, len);
	if (!r) {
		free(tl);
		return NULL;
	}
	tl->building = r;
	replay_set_checkpoint_cb(r, take_checkpoint, tl);
	*err = trace_reader_seek(rd, 0);
	while (!*err && (*err = trace_reader_next(rd, &ev)) > 0)
		*err = replay_feed(r, &ev);
	if (*err >= 0)
		*err = replay_finish(r, NULL);
	tl->st.events = replay_get_result(r)->events;
	for (int c = 0; c < RC_NR; c++)
		tl->st.resyncs += replay_get_result(r)->resyncs[c];
	replay_free(r);
	tl->building = NULL;
	release_build_scratch(tl);
	if (*err) {
		snprintf(errbuf, len, "timeline: %s", fragscope_strerror(*err));
		replay_timeline_free(tl);
		return NULL;
	}
	return tl;
}

struct replay_timeline *replay_timeline_build(struct trace_reader *rd, const struct replay_opts *opts,
					      uint64_t every, int *err, char *errbuf, size_t len)
{
	struct replay_timeline_opts t = { .sz = sizeof(t), .every = every };

	return replay_timeline_build_opts(rd, opts, &t, err, errbuf, len);
}

void replay_timeline_free(struct replay_timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->nr; i++)
		ck_release(&tl->ck[i]);
	free(tl->ck);
	free(tl->layout);
	release_build_scratch(tl);
	free(tl);
}

size_t replay_timeline_count(const struct replay_timeline *tl)
{
	return tl->nr;
}

uint64_t replay_timeline_seq(const struct replay_timeline *tl, size_t i)
{
	return i < tl->nr ? tl->ck[i].seq : UINT64_MAX;
}

uint64_t replay_timeline_every(const struct replay_timeline *tl)
{
	return tl->opts.checkpoint_every * tl->stride;
}

uint64_t replay_timeline_bytes(const struct replay_timeline *tl)
{
	return tl->st.full_bytes + tl->st.delta_bytes + tl->st.aux_bytes + tl->nr * sizeof(*tl->ck);
}

void replay_timeline_get_stats(const struct replay_timeline *tl, struct replay_timeline_stats *st)
{
	*st = tl->st;
}

/* cur (n records) with the delta records d (nd) applied, into out (room for n + nd). */
static int apply_delta(const struct tl_rec *cur, size_t n, const struct tl_rec *d, size_t nd, struct tl_rec *out,
		       size_t *nout)
{
	size_t i = 0, j = 0, k = 0;

	while (i < n || j < nd) {
		if (j == nd || (i < n && cur[i].pfn < d[j].pfn)) {
			out[k++] = cur[i++];
		} else {
			if (d[j].list != TL_GONE)
				out[k++] = d[j];
			else if (i == n || cur[i].pfn != d[j].pfn)
				return -EINVAL;		/* removes what is not there */
			if (i < n && cur[i].pfn == d[j].pfn)
				i++;
			j++;
		}
	}
	*nout = k;
	return 0;
}

static inline size_t hash_pfn(uint64_t pfn, unsigned bits)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

/* Rebuilds the lists of rec (sorted by pfn) into s: heads in pfn order, each list whole.
 * Successors are looked up in one pass with independent accesses, then the lists are walked
 * through a compact successor array (a walk over the hash table would wait on a cache miss
 * per entry), then the entries are gathered. */
static int lists_to_snapshot(const struct tl_rec *rec, size_t n, struct trace_snapshot *s)
{
	unsigned bits = 4;
	size_t nfree = 0, npcp = 0, done = 0, mask;
	uint64_t *key;
	uint32_t *val, *succ, *seq;
	uint8_t *has_pred;
	int err = 0;

	while (((size_t)1 << bits) < 2 * n + 2)
		bits++;
	mask = ((size_t)1 << bits) - 1;
	if (n >= UINT32_MAX)
		return -ERANGE;
	key = malloc((mask + 1) * sizeof(*key));
	val = malloc((mask + 1) * sizeof(*val));
	succ = malloc((n + 1) * sizeof(*succ));
	seq = malloc((n + 1) * sizeof(*seq));
	has_pred = calloc(n + 1, 1);
	for (size_t i = 0; i < n; i++)
		(rec[i].list & TL_PCP) ? npcp++ : nfree++;
	s->free_blocks = malloc((nfree + 1) * sizeof(*s->free_blocks));
	s->pcp_pages = malloc((npcp + 1) * sizeof(*s->pcp_pages));
	if (!key || !val || !succ || !seq || !has_pred || !s->free_blocks || !s->pcp_pages) {
		err = -ENOMEM;
		goto out;
	}
	memset(key, 0xff, (mask + 1) * sizeof(*key));
	for (size_t i = 0; i < n; i++) {
		size_t h = hash_pfn(rec[i].pfn, bits);

		while (key[h] != TL_NONE)
			h = (h + 1) & mask;
		key[h] = rec[i].pfn;
		val[h] = (uint32_t)i;
	}
	for (size_t i = 0; i < n; i++) {
		size_t h;

		succ[i] = UINT32_MAX;
		if (rec[i].next == TL_NONE)
			continue;
		for (h = hash_pfn(rec[i].next, bits); key[h] != TL_NONE && key[h] != rec[i].next;)
			h = (h + 1) & mask;
		if (key[h] == TL_NONE || has_pred[val[h]]) {
			err = -EINVAL;		/* a successor that is missing or follows two entries */
			goto out;
		}
		has_pred[val[h]] = 1;
		succ[i] = val[h];
	}
	for (size_t i = 0; i < n; i++) {
		if (has_pred[i])
			continue;
		for (uint32_t x = (uint32_t)i; x != UINT32_MAX; x = succ[x]) {
			if (done == n) {
				err = -EINVAL;
				goto out;
			}
			seq[done++] = x;
		}
	}
	if (done != n) {
		err = -EINVAL;		/* a cycle with no head */
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const struct tl_rec *r = &rec[seq[k]];

		if (r->list & TL_PCP)
			s->pcp_pages[s->nr_pcp_pages++] = (struct trace_pcp_page){
				.pfn = r->pfn, .cpu = r->cpu, .zone = r->zone, .order = r->order,
				.pindex = (uint8_t)(r->list & ~TL_PCP) };
		else
			s->free_blocks[s->nr_free_blocks++] = (struct trace_free_block){
				.pfn = r->pfn, .zone = r->zone, .order = r->order, .mt = (int8_t)r->list };
	}
out:
	free(key);
	free(val);
	free(succ);
	free(seq);
	free(has_pred);
	return err;
}

/* The records and flat pageblock types of checkpoint i (malloc'd). */
static int restore_lists(const struct replay_timeline *tl, ZSTD_DCtx *zd, size_t i, struct tl_rec **rec, size_t *nr,
			 uint8_t **types)
{
	struct tl_rec *cur = NULL, *d = NULL, *nxt;
	uint8_t *pb = NULL;
	size_t f = i, n;
	int err = 0;

	*rec = NULL;
	*types = NULL;
	while (f > 0 && !tl->ck[f].full)
		f--;
	if (!tl->ck[f].full)
		return -EINVAL;
	n = tl->ck[f].nr;
	cur = malloc(n * sizeof(*cur) + 1);
	pb = malloc(tl->nr_pb_total + 1);
	if (!cur || !pb) {
		err = -ENOMEM;
		goto out;
	}
	err = unpack_records(zd, &tl->ck[f], cur);
	if (!err)
		err = zunpack(zd, tl->ck[f].pb, tl->ck[f].pb_len, NULL, 0, pb, tl->nr_pb_total);
	for (size_t k = f + 1; !err && k <= i; k++) {
		const struct tl_ck *c = &tl->ck[k];
		size_t m;

		d = malloc(c->nr * sizeof(*d) + 1);
		nxt = malloc((n + c->nr) * sizeof(*nxt) + 1);
		if (!d || !nxt) {
			free(nxt);
			err = -ENOMEM;
			break;
		}
		err = unpack_records(zd, c, d);
		if (!err)
			err = apply_delta(cur, n, d, c->nr, nxt, &m);
		free(d);
		d = NULL;
		free(cur);
		cur = nxt;
		n = m;
		for (size_t q = 0; !err && q < c->nr_pb; q++)
			pb[c->pb_idx[q]] = c->pb[q];
	}
out:
	if (err) {
		free(cur);
		free(pb);
		return err;
	}
	*rec = cur;
	*nr = n;
	*types = pb;
	return 0;
}

static int checkpoint_snapshot(const struct replay_timeline *tl, ZSTD_DCtx *zd, size_t i, struct trace_snapshot *out)
{
	struct tl_rec *rec;
	uint8_t *pb;
	size_t n;
	uint64_t off = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (i >= tl->nr)
		return -ERANGE;
	err = restore_lists(tl, zd, i, &rec, &n, &pb);
	if (err)
		return err;
	out->which = TRACE_SNAP_START;
	out->method = TRACE_SNAP_MODULE;
	out->flags = TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
		     TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_PCP | TRACE_SNAPF_EXACT;
	out->event_seq = tl->ck[i].seq;
	out->pageblocks = calloc(tl->nr_layout ? tl->nr_layout : 1, sizeof(*out->pageblocks));
	if (!out->pageblocks) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t z = 0; z < tl->nr_layout; z++) {
		struct trace_pageblocks *p = &out->pageblocks[z];

		*p = tl->layout[z];
		p->types = malloc(p->nr + 1);
		if (!p->types) {
			err = -ENOMEM;
			goto out;
		}
		out->nr_pageblock_zones++;
		memcpy(p->types, pb + off, p->nr);
		off += p->nr;
	}
	err = lists_to_snapshot(rec, n, out);
out:
	free(rec);
	free(pb);
	if (err)
		trace_snapshot_release(out);
	return err;
}

int replay_timeline_checkpoint(const struct replay_timeline *tl, size_t i, struct trace_snapshot *out)
{
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	int err;

	if (!zd)
		return -ENOMEM;
	err = checkpoint_snapshot(tl, zd, i, out);
	ZSTD_freeDCtx(zd);
	return err;
}

/* The raw aux blob of checkpoint i (malloc'd). */
static int restore_aux(const struct replay_timeline *tl, ZSTD_DCtx *zd, size_t i, void **out)
{
	size_t f = i;
	uint8_t *full, *b = NULL;
	int err;

	while (f > 0 && !tl->ck[f].full)
		f--;
	full = malloc(tl->ck[f].aux_raw + 1);
	if (!full)
		return -ENOMEM;
	err = zunpack(zd, tl->ck[f].aux, tl->ck[f].aux_len, NULL, 0, full, tl->ck[f].aux_raw);
	if (!err && f != i) {
		b = malloc(tl->ck[i].aux_raw + 1);
		err = b ? zunpack(zd, tl->ck[i].aux, tl->ck[i].aux_len, full, tl->ck[f].aux_raw, b, tl->ck[i].aux_raw)
			: -ENOMEM;
		free(full);
		full = b;
	}
	if (err) {
		free(full);
		return err;
	}
	*out = full;
	return 0;
}

int replay_timeline_seek(struct replay_timeline *tl, struct trace_reader *rd, uint64_t seq, struct replay **out,
			 char *errbuf, size_t len)
{
	const struct trace_snapshot *from = tl->start;
	struct trace_snapshot ck;
	void *aux = NULL;
	struct replay_opts o = tl->opts;
	struct trace_event ev;
	struct replay *r;
	size_t lo = 0, hi = tl->nr;
	int err;

	*out = NULL;
	/* the last checkpoint at or before seq */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tl->ck[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		ZSTD_DCtx *zd = ZSTD_createDCtx();

		err = zd ? checkpoint_snapshot(tl, zd, lo - 1, &ck) : -ENOMEM;
		if (!err) {
			err = restore_aux(tl, zd, lo - 1, &aux);
			if (err)
				trace_snapshot_release(&ck);
		}
		ZSTD_freeDCtx(zd);
		if (err) {
			snprintf(errbuf, len, "seek: checkpoint %zu: %s", lo - 1,
				 err == -EINVAL ? "damaged checkpoint" : fragscope_strerror(err));
			return err;
		}
		from = &ck;
	}
	o.checkpoint_every = 0;
	o.stop_at = seq ? seq : 1;
	if (!seq)
		o.stop_at = UINT64_MAX - REPLAY_WINDOW;	/* nothing to apply: the start state */
	r = replay_new(tl->h, from, &o, &err, errbuf, len);
	if (lo > 0)
		trace_snapshot_release(&ck);
	if (!r) {
		free(aux);
		return err;
	}
	if (lo > 0) {
		err = replay_restore_aux(r, aux, tl->ck[lo - 1].aux_raw);
		free(aux);
		if (err) {
			snprintf(errbuf, len, "seek: damaged checkpoint");
			replay_free(r);
			return err;
		}
	}
	if (seq) {
		uint64_t at = lo > 0 ? tl->ck[lo - 1].seq : (from ? from->event_seq : 0);

		err = trace_reader_seek(rd, at);
		while (!err && (err = trace_reader_next(rd, &ev)) > 0 && ev.seq < seq + REPLAY_WINDOW)
			err = replay_feed(r, &ev);
		if (err > 0)
			err = 0;
	} else {
		err = 0;
	}
	if (!err)
		err = replay_finish(r, NULL);
	if (err) {
		snprintf(errbuf, len, "seek: %s", fragscope_strerror(err));
		replay_free(r);
		return err;
	}
	*out = r;
	return 0;
}
