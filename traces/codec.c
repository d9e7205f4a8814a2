// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section payload codecs of the trace file (traces/FORMAT.md §4-§7): machine header, snapshots,
 * losses, stacks, event chunks. Pure byte work: no I/O, no compression, no checksums.
 *
 * Non-chunk payloads are a sequence of blocks (tag, length, body); a decoder skips tags it does
 * not know and ignores bytes at the end of a body it does not understand, so fields can be added
 * at the end of a block without a new format version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace-local.h"
#include "util/errors.h"

bool fst_obuf_grow(struct obuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (b->oom)
		return false;
	while (cap < b->len + n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void obuf_release(struct obuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

bool ibuf_str_fixed(struct ibuf *b, char *dst, size_t cap)
{
	uint64_t n = ibuf_uv(b);

	if (b->bad || n >= cap || n > ibuf_left(b)) {
		b->bad = true;
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, b->p, n);
	dst[n] = '\0';
	b->p += n;
	return true;
}

char *ibuf_str_dup(struct ibuf *b)
{
	uint64_t n = ibuf_uv(b);
	char *s;

	if (b->bad || n > ibuf_left(b)) {
		b->bad = true;
		return NULL;
	}
	s = malloc(n + 1);
	if (!s) {
		b->bad = true;
		return NULL;
	}
	memcpy(s, b->p, n);
	s[n] = '\0';
	b->p += n;
	return s;
}

/* ---- blocks ------------------------------------------------------------------------------------ */

/* Emits tag + length + body, where body was built in *tmp (then reset). */
static void put_block(struct obuf *b, uint32_t tag, struct obuf *tmp)
{
	obuf_uv(b, tag);
	obuf_uv(b, tmp->len);
	obuf_bytes(b, tmp->p, tmp->len);
	if (tmp->oom)
		b->oom = true;
	tmp->len = 0;
}

/* Reads the next block: 1 = got one (body in *body), 0 = end, -1 = corrupt. */
static int next_block(struct ibuf *b, uint32_t *tag, struct ibuf *body)
{
	uint64_t t, len;

	if (b->p == b->end)
		return 0;
	t = ibuf_uv(b);
	len = ibuf_uv(b);
	if (b->bad || t > UINT32_MAX || len > ibuf_left(b)) {
		b->bad = true;
		return -1;
	}
	*tag = (uint32_t)t;
	body->p = b->p;
	body->end = b->p + len;
	body->bad = false;
	b->p += len;
	return 1;
}

/* Grows *arr (of *nr elements of size sz) by one zeroed element; NULL on ENOMEM. */
static void *grow_one(void **arr, uint32_t *nr, uint32_t *cap, size_t sz)
{
	if (*nr == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 8;
		void *p;

		if (*cap > UINT32_MAX / 4)
			return NULL;
		p = realloc(*arr, (size_t)ncap * sz);
		if (!p)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	memset((char *)*arr + (size_t)*nr * sz, 0, sz);
	return (char *)*arr + (size_t)(*nr)++ * sz;
}

/* ---- machine header (FORMAT.md §4) ----------------------------------------------------------- */
enum { HB_IDENT = 1, HB_MIGRATETYPE = 2, HB_GFP_FLAG = 3, HB_ZONE = 4, HB_KV = 5 };

int fst_encode_header(struct obuf *b, const struct trace_header *h)
{
	struct obuf t = { 0 };

	obuf_str(&t, h->kernel_release);
	obuf_str(&t, h->kernel_version);
	obuf_str(&t, h->arch);
	obuf_uv(&t, h->page_size);
	obuf_uv(&t, h->pageblock_order);
	obuf_uv(&t, h->nr_orders);
	obuf_uv(&t, h->nr_cpus);
	obuf_uv(&t, h->nr_pageblock_bits);
	put_block(b, HB_IDENT, &t);
	for (uint32_t i = 0; i < h->nr_migratetypes; i++) {
		obuf_str(&t, h->migratetypes[i].name);
		obuf_sv(&t, h->migratetypes[i].value);
		put_block(b, HB_MIGRATETYPE, &t);
	}
	for (uint32_t i = 0; i < h->nr_gfp_flags; i++) {
		obuf_uv(&t, h->gfp_flags[i].mask);
		obuf_str(&t, h->gfp_flags[i].name);
		put_block(b, HB_GFP_FLAG, &t);
	}
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		const struct trace_zone *z = &h->zones[i];

		obuf_uv(&t, z->node);
		obuf_uv(&t, z->zone_idx);
		obuf_str(&t, z->name);
		obuf_uv(&t, z->start_pfn);
		obuf_uv(&t, z->spanned);
		obuf_uv(&t, z->present);
		obuf_uv(&t, z->managed);
		obuf_uv(&t, z->wmark_min);
		obuf_uv(&t, z->wmark_low);
		obuf_uv(&t, z->wmark_high);
		obuf_uv(&t, z->wmark_promo);
		obuf_uv(&t, z->watermark_boost);
		obuf_uv(&t, z->nr_free_pages);
		obuf_uv(&t, z->nr_lowmem_reserve);
		for (uint32_t j = 0; j < z->nr_lowmem_reserve; j++)
			obuf_uv(&t, z->lowmem_reserve[j]);
		obuf_uv(&t, z->nr_pcp);
		for (uint32_t j = 0; j < z->nr_pcp; j++) {
			const struct trace_pcp_config *p = &z->pcp[j];

			obuf_uv(&t, p->cpu);
			obuf_uv(&t, p->count);
			obuf_uv(&t, p->high);
			obuf_uv(&t, p->batch);
			obuf_uv(&t, p->high_min);
			obuf_uv(&t, p->high_max);
		}
		put_block(b, HB_ZONE, &t);
	}
	for (uint32_t i = 0; i < h->nr_kv; i++) {
		obuf_str(&t, h->kv[i].key);
		obuf_str(&t, h->kv[i].value);
		put_block(b, HB_KV, &t);
	}
	obuf_release(&t);
	return b->oom ? -ENOMEM : 0;
}

static int decode_zone(struct ibuf *t, struct trace_zone *z)
{
	z->node = ibuf_u32(t);
	z->zone_idx = ibuf_u32(t);
	ibuf_str_fixed(t, z->name, sizeof(z->name));
	z->start_pfn = ibuf_uv(t);
	z->spanned = ibuf_uv(t);
	z->present = ibuf_uv(t);
	z->managed = ibuf_uv(t);
	z->wmark_min = ibuf_uv(t);
	z->wmark_low = ibuf_uv(t);
	z->wmark_high = ibuf_uv(t);
	z->wmark_promo = ibuf_uv(t);
	z->watermark_boost = ibuf_uv(t);
	z->nr_free_pages = ibuf_uv(t);
	z->nr_lowmem_reserve = (uint32_t)ibuf_count(t, 1);
	if (t->bad)
		return FS_ERRNO__CORRUPT;
	if (z->nr_lowmem_reserve) {
		z->lowmem_reserve = calloc(z->nr_lowmem_reserve, sizeof(*z->lowmem_reserve));
		if (!z->lowmem_reserve) {
			z->nr_lowmem_reserve = 0;
			return -ENOMEM;
		}
	}
	for (uint32_t j = 0; j < z->nr_lowmem_reserve; j++)
		z->lowmem_reserve[j] = ibuf_uv(t);
	z->nr_pcp = (uint32_t)ibuf_count(t, 6);
	if (t->bad)
		return FS_ERRNO__CORRUPT;
	if (z->nr_pcp) {
		z->pcp = calloc(z->nr_pcp, sizeof(*z->pcp));
		if (!z->pcp) {
			z->nr_pcp = 0;
			return -ENOMEM;
		}
	}
	for (uint32_t j = 0; j < z->nr_pcp; j++) {
		struct trace_pcp_config *p = &z->pcp[j];

		p->cpu = ibuf_u32(t);
		p->count = ibuf_u32(t);
		p->high = ibuf_u32(t);
		p->batch = ibuf_u32(t);
		p->high_min = ibuf_u32(t);
		p->high_max = ibuf_u32(t);
	}
	return t->bad ? FS_ERRNO__CORRUPT : 0;
}

int fst_decode_header(struct ibuf *b, struct trace_header *h)
{
	uint32_t cap_mt = 0, cap_gfp = 0, cap_zone = 0, cap_kv = 0;
	bool have_ident = false;
	struct ibuf t;
	uint32_t tag;
	int r, err = 0;

	memset(h, 0, sizeof(*h));
	while (!err && (r = next_block(b, &tag, &t)) > 0) {
		switch (tag) {
		case HB_IDENT:
			ibuf_str_fixed(&t, h->kernel_release, sizeof(h->kernel_release));
			ibuf_str_fixed(&t, h->kernel_version, sizeof(h->kernel_version));
			ibuf_str_fixed(&t, h->arch, sizeof(h->arch));
			h->page_size = ibuf_u32(&t);
			h->pageblock_order = ibuf_u32(&t);
			h->nr_orders = ibuf_u32(&t);
			h->nr_cpus = ibuf_u32(&t);
			h->nr_pageblock_bits = ibuf_u32(&t);
			have_ident = true;
			break;
		case HB_MIGRATETYPE: {
			struct trace_name_value *m = grow_one((void **)&h->migratetypes, &h->nr_migratetypes,
							      &cap_mt, sizeof(*m));
			if (!m) {
				err = -ENOMEM;
				break;
			}
			ibuf_str_fixed(&t, m->name, sizeof(m->name));
			m->value = ibuf_sv(&t);
			break;
		}
		case HB_GFP_FLAG: {
			struct trace_flag_name *g = grow_one((void **)&h->gfp_flags, &h->nr_gfp_flags,
							     &cap_gfp, sizeof(*g));
			if (!g) {
				err = -ENOMEM;
				break;
			}
			g->mask = ibuf_uv(&t);
			ibuf_str_fixed(&t, g->name, sizeof(g->name));
			break;
		}
		case HB_ZONE: {
			struct trace_zone *z = grow_one((void **)&h->zones, &h->nr_zones, &cap_zone, sizeof(*z));

			if (!z) {
				err = -ENOMEM;
				break;
			}
			err = decode_zone(&t, z);
			break;
		}
		case HB_KV: {
			struct trace_kv *kv = grow_one((void **)&h->kv, &h->nr_kv, &cap_kv, sizeof(*kv));

			if (!kv) {
				err = -ENOMEM;
				break;
			}
			kv->key = ibuf_str_dup(&t);
			kv->value = ibuf_str_dup(&t);
			break;
		}
		default:
			break;	/* a future block: skipped */
		}
		if (!err && t.bad)
			err = FS_ERRNO__CORRUPT;
	}
	if (!err && (r < 0 || !have_ident))
		err = FS_ERRNO__CORRUPT;
	if (err)
		trace_header_release(h);
	return err;
}

/* ---- snapshots (FORMAT.md §5) ------------------------------------------------------------------ */
enum { SB_INFO = 1, SB_PAGEBLOCKS = 2, SB_FREE_BLOCKS = 3, SB_PCP_PAGES = 4, SB_COUNTS = 5, SB_NOTE = 6 };

int fst_encode_snapshot(struct obuf *b, const struct trace_snapshot *s)
{
	struct obuf t = { 0 };
	uint64_t prev;

	obuf_uv(&t, s->which);
	obuf_uv(&t, s->method);
	obuf_uv(&t, s->flags);
	obuf_uv(&t, s->ts_ns);
	obuf_uv(&t, s->event_seq);
	obuf_uv(&t, s->duration_ns);
	put_block(b, SB_INFO, &t);
	for (uint32_t i = 0; i < s->nr_pageblock_zones; i++) {
		const struct trace_pageblocks *pb = &s->pageblocks[i];

		obuf_uv(&t, pb->zone);
		obuf_uv(&t, pb->first_pfn);
		obuf_uv(&t, pb->nr);
		obuf_bytes(&t, pb->types, pb->nr);
		put_block(b, SB_PAGEBLOCKS, &t);
	}
	if (s->nr_free_blocks) {
		prev = 0;
		obuf_uv(&t, s->nr_free_blocks);
		for (uint64_t i = 0; i < s->nr_free_blocks; i++) {
			const struct trace_free_block *f = &s->free_blocks[i];

			obuf_uv(&t, f->zone);
			obuf_u8(&t, f->order);
			obuf_sv(&t, f->mt);
			obuf_sv(&t, (int64_t)(f->pfn - prev));
			prev = f->pfn;
		}
		put_block(b, SB_FREE_BLOCKS, &t);
	}
	if (s->nr_pcp_pages) {
		prev = 0;
		obuf_uv(&t, s->nr_pcp_pages);
		for (uint64_t i = 0; i < s->nr_pcp_pages; i++) {
			const struct trace_pcp_page *p = &s->pcp_pages[i];

			obuf_uv(&t, p->cpu);
			obuf_uv(&t, p->zone);
			obuf_u8(&t, p->order);
			obuf_u8(&t, p->pindex);
			obuf_sv(&t, (int64_t)(p->pfn - prev));
			prev = p->pfn;
		}
		put_block(b, SB_PCP_PAGES, &t);
	}
	for (uint32_t i = 0; i < s->nr_counts; i++) {
		const struct trace_zone_counts *c = &s->counts[i];
		uint64_t n = (uint64_t)c->nr_orders * c->nr_migratetypes;

		obuf_uv(&t, c->zone);
		obuf_uv(&t, c->nr_orders);
		obuf_uv(&t, c->nr_migratetypes);
		for (uint64_t j = 0; j < n; j++)
			obuf_uv(&t, c->nr_free ? c->nr_free[j] : 0);
		for (uint32_t j = 0; j < c->nr_migratetypes; j++)
			obuf_uv(&t, c->nr_blocks ? c->nr_blocks[j] : 0);
		put_block(b, SB_COUNTS, &t);
	}
	if (s->note) {
		obuf_str(&t, s->note);
		put_block(b, SB_NOTE, &t);
	}
	obuf_release(&t);
	return b->oom ? -ENOMEM : 0;
}

static uint16_t u16_or_bad(struct ibuf *t)
{
	uint64_t v = ibuf_uv(t);

	if (v > UINT16_MAX)
		t->bad = true;
	return (uint16_t)v;
}

static int8_t s8_or_bad(struct ibuf *t)
{
	int64_t v = ibuf_sv(t);

	if (v < INT8_MIN || v > INT8_MAX)
		t->bad = true;
	return (int8_t)v;
}

static int decode_counts(struct ibuf *t, struct trace_zone_counts *c)
{
	uint64_t n;

	c->zone = u16_or_bad(t);
	c->nr_orders = ibuf_u32(t);
	c->nr_migratetypes = ibuf_u32(t);
	n = (uint64_t)c->nr_orders * c->nr_migratetypes;
	if (t->bad || n > ibuf_left(t) || c->nr_migratetypes > ibuf_left(t))
		return FS_ERRNO__CORRUPT;
	c->nr_free = calloc(n ? n : 1, sizeof(*c->nr_free));
	c->nr_blocks = calloc(c->nr_migratetypes ? c->nr_migratetypes : 1, sizeof(*c->nr_blocks));
	if (!c->nr_free || !c->nr_blocks)
		return -ENOMEM;
	for (uint64_t j = 0; j < n; j++)
		c->nr_free[j] = ibuf_uv(t);
	for (uint32_t j = 0; j < c->nr_migratetypes; j++)
		c->nr_blocks[j] = ibuf_uv(t);
	return t->bad ? FS_ERRNO__CORRUPT : 0;
}

int fst_decode_snapshot(struct ibuf *b, struct trace_snapshot *s)
{
	uint32_t cap_pb = 0, cap_c = 0;
	bool have_info = false;
	struct ibuf t;
	uint32_t tag;
	int r, err = 0;
	uint64_t prev;

	memset(s, 0, sizeof(*s));
	while (!err && (r = next_block(b, &tag, &t)) > 0) {
		switch (tag) {
		case SB_INFO: {
			uint64_t which = ibuf_uv(&t), method = ibuf_uv(&t);

			if (which >= TRACE_SNAP_MAX || method > 255)
				t.bad = true;
			s->which = (enum trace_snapshot_which)which;
			s->method = (enum trace_snapshot_method)method;
			s->flags = ibuf_u32(&t);
			s->ts_ns = ibuf_uv(&t);
			s->event_seq = ibuf_uv(&t);
			s->duration_ns = ibuf_uv(&t);
			have_info = true;
			break;
		}
		case SB_PAGEBLOCKS: {
			struct trace_pageblocks *pb = grow_one((void **)&s->pageblocks, &s->nr_pageblock_zones,
							       &cap_pb, sizeof(*pb));
			if (!pb) {
				err = -ENOMEM;
				break;
			}
			pb->zone = u16_or_bad(&t);
			pb->first_pfn = ibuf_uv(&t);
			pb->nr = ibuf_uv(&t);
			if (t.bad || pb->nr > ibuf_left(&t)) {
				t.bad = true;
				pb->nr = 0;
				break;
			}
			pb->types = malloc(pb->nr ? pb->nr : 1);
			if (!pb->types) {
				pb->nr = 0;
				err = -ENOMEM;
				break;
			}
			memcpy(pb->types, t.p, pb->nr);
			t.p += pb->nr;
			break;
		}
		case SB_FREE_BLOCKS: {
			uint64_t n = ibuf_count(&t, 4);

			if (t.bad || s->free_blocks)
				{ t.bad = true; break; }
			s->free_blocks = calloc(n ? n : 1, sizeof(*s->free_blocks));
			if (!s->free_blocks) {
				err = -ENOMEM;
				break;
			}
			s->nr_free_blocks = n;
			prev = 0;
			for (uint64_t i = 0; i < n && !t.bad; i++) {
				struct trace_free_block *f = &s->free_blocks[i];

				f->zone = u16_or_bad(&t);
				f->order = ibuf_u8(&t);
				f->mt = s8_or_bad(&t);
				f->pfn = prev + (uint64_t)ibuf_sv(&t);
				prev = f->pfn;
			}
			break;
		}
		case SB_PCP_PAGES: {
			uint64_t n = ibuf_count(&t, 5);

			if (t.bad || s->pcp_pages)
				{ t.bad = true; break; }
			s->pcp_pages = calloc(n ? n : 1, sizeof(*s->pcp_pages));
			if (!s->pcp_pages) {
				err = -ENOMEM;
				break;
			}
			s->nr_pcp_pages = n;
			prev = 0;
			for (uint64_t i = 0; i < n && !t.bad; i++) {
				struct trace_pcp_page *p = &s->pcp_pages[i];

				p->cpu = ibuf_u32(&t);
				p->zone = u16_or_bad(&t);
				p->order = ibuf_u8(&t);
				p->pindex = ibuf_u8(&t);
				p->pfn = prev + (uint64_t)ibuf_sv(&t);
				prev = p->pfn;
			}
			break;
		}
		case SB_COUNTS: {
			struct trace_zone_counts *c = grow_one((void **)&s->counts, &s->nr_counts, &cap_c, sizeof(*c));

			if (!c) {
				err = -ENOMEM;
				break;
			}
			err = decode_counts(&t, c);
			break;
		}
		case SB_NOTE:
			free(s->note);
			s->note = ibuf_str_dup(&t);
			break;
		default:
			break;
		}
		if (!err && t.bad)
			err = FS_ERRNO__CORRUPT;
	}
	if (!err && (r < 0 || !have_info))
		err = FS_ERRNO__CORRUPT;
	if (err)
		trace_snapshot_release(s);
	return err;
}

/* ---- losses (FORMAT.md §7.1) ------------------------------------------------------------------- */
int fst_encode_loss(struct obuf *b, const struct trace_loss *l)
{
	struct obuf t = { 0 };

	obuf_uv(&t, l->nr_cpus);
	for (uint32_t i = 0; i < l->nr_cpus; i++)
		obuf_uv(&t, l->lost_per_cpu ? l->lost_per_cpu[i] : 0);
	obuf_uv(&t, TEV_KIND_MAX + 1);
	for (int i = 0; i <= TEV_KIND_MAX; i++)
		obuf_uv(&t, l->lost_per_kind[i]);
	obuf_uv(&t, l->recursion_misses);
	obuf_uv(&t, l->total);
	put_block(b, 1, &t);
	obuf_release(&t);
	return b->oom ? -ENOMEM : 0;
}

int fst_decode_loss(struct ibuf *b, struct trace_loss *l)
{
	struct ibuf t;
	uint32_t tag;
	bool have = false;
	int r, err = 0;

	memset(l, 0, sizeof(*l));
	while (!err && (r = next_block(b, &tag, &t)) > 0) {
		uint64_t nk;

		if (tag != 1 || have)
			continue;
		have = true;
		l->nr_cpus = (uint32_t)ibuf_count(&t, 1);
		if (t.bad) {
			err = FS_ERRNO__CORRUPT;
			break;
		}
		l->lost_per_cpu = calloc(l->nr_cpus ? l->nr_cpus : 1, sizeof(uint64_t));
		if (!l->lost_per_cpu) {
			err = -ENOMEM;
			break;
		}
		for (uint32_t i = 0; i < l->nr_cpus; i++)
			l->lost_per_cpu[i] = ibuf_uv(&t);
		nk = ibuf_count(&t, 1);
		for (uint64_t i = 0; i < nk; i++) {
			uint64_t v = ibuf_uv(&t);

			if (i <= TEV_KIND_MAX)
				l->lost_per_kind[i] = v;
		}
		l->recursion_misses = ibuf_uv(&t);
		l->total = ibuf_uv(&t);
		if (t.bad)
			err = FS_ERRNO__CORRUPT;
	}
	if (!err && (r < 0 || !have))
		err = FS_ERRNO__CORRUPT;
	if (err)
		trace_loss_release(l);
	return err;
}

/* ---- stacks (FORMAT.md §7.2): one block per stack ------------------------------------------- */
int fst_encode_stack(struct obuf *b, const struct trace_stack *st)
{
	struct obuf t = { 0 };

	obuf_uv(&t, st->id);
	obuf_uv(&t, st->nr);
	for (uint32_t i = 0; i < st->nr; i++)
		obuf_uv(&t, st->ips[i]);
	obuf_u8(&t, st->syms ? 1 : 0);
	if (st->syms)
		for (uint32_t i = 0; i < st->nr; i++)
			obuf_str(&t, st->syms[i]);
	put_block(b, 1, &t);
	obuf_release(&t);
	return b->oom ? -ENOMEM : 0;
}

void fst_stack_release(struct trace_stack *st)
{
	if (!st)
		return;
	if (st->syms)
		for (uint32_t i = 0; i < st->nr; i++)
			free(st->syms[i]);
	free(st->syms);
	free(st->ips);
	memset(st, 0, sizeof(*st));
}

/* Decodes one stack block from b (the section holds many). 1 = got one, 0 = end, <0 error. */
int fst_decode_stack(struct ibuf *b, struct trace_stack *st)
{
	struct ibuf t;
	uint32_t tag;
	int r;

	memset(st, 0, sizeof(*st));
	while ((r = next_block(b, &tag, &t)) > 0) {
		if (tag != 1)
			continue;
		st->id = ibuf_u32(&t);
		st->nr = (uint32_t)ibuf_count(&t, 1);
		if (t.bad || st->nr > FST_MAX_STACK_DEPTH)
			return FS_ERRNO__CORRUPT;
		st->ips = calloc(st->nr ? st->nr : 1, sizeof(*st->ips));
		if (!st->ips)
			return -ENOMEM;
		for (uint32_t i = 0; i < st->nr; i++)
			st->ips[i] = ibuf_uv(&t);
		if (ibuf_u8(&t) == 1) {
			st->syms = calloc(st->nr ? st->nr : 1, sizeof(*st->syms));
			if (!st->syms) {
				fst_stack_release(st);
				return -ENOMEM;
			}
			for (uint32_t i = 0; i < st->nr && !t.bad; i++)
				st->syms[i] = ibuf_str_dup(&t);
		}
		if (t.bad) {
			fst_stack_release(st);
			return FS_ERRNO__CORRUPT;
		}
		return 1;
	}
	return r < 0 ? FS_ERRNO__CORRUPT : 0;
}

/* ---- event chunks (FORMAT.md §6) --------------------------------------------------------------- */
enum { COL_HEAD, COL_MASK, COL_TS, COL_PID, COL_PFN, COL_SMALL, COL_GFP, COL_WIDE, NR_COLS };
_Static_assert(NR_COLS == FST_NR_COLS, "the batch decoder's columns (trace-local.h)");

#define NR_SLOTS FST_NR_SLOTS

struct slot {
	uint64_t pfn;
	uint32_t pid;
};

static uint32_t event_mask(const struct trace_event *e)
{
	uint32_t m = 0;

	if (e->order)
		m |= FST_EV_ORDER;
	if (e->fallback_order)
		m |= FST_EV_FALLBACK_ORDER;
	if (e->flags)
		m |= FST_EV_FLAGS;
	if (e->mt != -1)
		m |= FST_EV_MT;
	if (e->fallback_mt != -1)
		m |= FST_EV_FALLBACK_MT;
	if (e->zone != TRACE_ZONE_UNKNOWN)
		m |= FST_EV_ZONE;
	if (e->gfp)
		m |= FST_EV_GFP;
	if (e->aux)
		m |= FST_EV_AUX;
	if (e->aux2)
		m |= FST_EV_AUX2;
	if (e->stack_id)
		m |= FST_EV_STACK;
	return m;
}

int fst_encode_chunk(struct obuf *b, const struct trace_event *ev, uint32_t n, uint64_t first_seq)
{
	struct obuf col[NR_COLS] = { 0 };
	struct slot *slots = calloc(NR_SLOTS, sizeof(*slots));
	uint64_t prev_ts = n ? ev[0].ts_ns : 0;
	bool oom = false;

	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct trace_event *e = &ev[i];
		struct slot *s = &slots[e->cpu & (NR_SLOTS - 1)];
		uint32_t m = event_mask(e);

		obuf_uv(&col[COL_HEAD], (uint64_t)e->cpu << 5 | (e->kind & 31));
		obuf_uv(&col[COL_MASK], m);
		obuf_sv(&col[COL_TS], (int64_t)(e->ts_ns - prev_ts));
		prev_ts = e->ts_ns;
		obuf_sv(&col[COL_PID], (int64_t)e->pid - (int64_t)s->pid);
		s->pid = e->pid;
		obuf_sv(&col[COL_PFN], (int64_t)(e->pfn - s->pfn));
		s->pfn = e->pfn;
		if (m & FST_EV_ORDER)
			obuf_u8(&col[COL_SMALL], e->order);
		if (m & FST_EV_FALLBACK_ORDER)
			obuf_u8(&col[COL_SMALL], e->fallback_order);
		if (m & FST_EV_FLAGS)
			obuf_u8(&col[COL_SMALL], e->flags);
		if (m & FST_EV_MT)
			obuf_u8(&col[COL_SMALL], (uint8_t)e->mt);
		if (m & FST_EV_FALLBACK_MT)
			obuf_u8(&col[COL_SMALL], (uint8_t)e->fallback_mt);
		if (m & FST_EV_GFP)
			obuf_uv(&col[COL_GFP], e->gfp);
		if (m & FST_EV_ZONE)
			obuf_uv(&col[COL_WIDE], e->zone);
		if (m & FST_EV_AUX)
			obuf_uv(&col[COL_WIDE], e->aux);
		if (m & FST_EV_AUX2)
			obuf_uv(&col[COL_WIDE], e->aux2);
		if (m & FST_EV_STACK)
			obuf_uv(&col[COL_WIDE], e->stack_id);
	}
	obuf_uv(b, first_seq);
	obuf_uv(b, n);
	obuf_uv(b, n ? ev[0].ts_ns : 0);
	obuf_uv(b, NR_COLS);
	for (int c = 0; c < NR_COLS; c++) {
		obuf_uv(b, col[c].len);
		obuf_bytes(b, col[c].p, col[c].len);
		oom |= col[c].oom;
		obuf_release(&col[c]);
	}
	free(slots);
	return (oom || b->oom) ? -ENOMEM : 0;
}

/* ---- the batch decoder ------------------------------------------------------------------------ */

/* A LEB128 value of three bytes or more at p, which has at least 10 readable bytes: its length,
 * the value in *v; 0 for a value beyond 64 bits. Accepts and rejects what ibuf_uv_slow() does. */
static __attribute__((noinline)) unsigned int uv_pad_slow(const uint8_t *p, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned int i = 0; i < 10; i++) {
		uint8_t c = p[i];

		if (i == 9 && (c & 0x7e))
			break;	/* more than 64 bits */
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	*v = 0;
	return 0;
}

/* A LEB128 value at *pp, which has at least 10 readable bytes (the payload's padding). */
static inline __attribute__((always_inline)) uint64_t uv_pad(const uint8_t **pp, bool *bad)
{
	const uint8_t *p = *pp;
	uint64_t v;
	unsigned int n;

	if (__builtin_expect(p[0] < 0x80, 1)) {
		*pp = p + 1;
		return p[0];
	}
	if (__builtin_expect(p[1] < 0x80, 1)) {
		*pp = p + 2;
		return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
	}
	if (p[2] < 0x80) {
		*pp = p + 3;
		return (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7 | (uint64_t)p[2] << 14;
	}
	if (p[3] < 0x80) {	/* gfp masks */
		*pp = p + 4;
		return (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7 | (uint64_t)(p[2] & 0x7f) << 14 |
		       (uint64_t)p[3] << 21;
	}
	n = uv_pad_slow(p, &v);
	if (!n) {
		*bad = true;
		n = 10;
	}
	*pp = p + n;
	return v;
}

/* unzigzag() of the one-byte values 0..127: 0, -1, 1, -2 ... 63, -64 */
static const int8_t unzigzag1[128] = {
#define ZZ(v) (int8_t)((v) & 1 ? -(((v) + 1) / 2) : (v) / 2)
#define ZZ8(v) ZZ(v), ZZ((v) + 1), ZZ((v) + 2), ZZ((v) + 3), ZZ((v) + 4), ZZ((v) + 5), ZZ((v) + 6), ZZ((v) + 7)
	ZZ8(0), ZZ8(8), ZZ8(16), ZZ8(24), ZZ8(32), ZZ8(40), ZZ8(48), ZZ8(56),
	ZZ8(64), ZZ8(72), ZZ8(80), ZZ8(88), ZZ8(96), ZZ8(104), ZZ8(112), ZZ8(120),
#undef ZZ8
#undef ZZ
};

/* A zigzag delta (sv) at *pp, as uv_pad(). */
static inline __attribute__((always_inline)) int64_t sv_pad(const uint8_t **pp, bool *bad)
{
	const uint8_t *p = *pp;

	if (__builtin_expect(p[0] < 0x80, 1)) {
		*pp = p + 1;
		return unzigzag1[p[0]];
	}
	return unzigzag(uv_pad(pp, bad));
}

/* A zigzag delta that is usually two bytes long (timestamps: 128 ns to 16 us apart). */
static inline __attribute__((always_inline)) int64_t sv_pad2(const uint8_t **pp, bool *bad)
{
	const uint8_t *p = *pp;

	if (__builtin_expect((p[0] & 0x80) && !(p[1] & 0x80), 1)) {
		*pp = p + 2;
		return unzigzag((uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7);
	}
	return sv_pad(pp, bad);
}

/* Eight bytes at p, none with the continuation bit: eight one-byte varints. */
static inline bool eight_small(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return !(w & 0x8080808080808080ull);
}

int fst_chunk_begin(struct fst_chunk_dec *d, struct ibuf *b)
{
	uint64_t n, ncols;

	d->n = d->next = 0;
	d->first_seq = ibuf_uv(b);
	n = ibuf_uv(b);
	d->first_ts = ibuf_uv(b);
	ncols = ibuf_uv(b);
	if (b->bad || ncols < NR_COLS || ncols > 64)
		return FS_ERRNO__CORRUPT;
	if (n > FST_MAX_CHUNK_EVENTS)
		return FS_ERRNO__TOO_LARGE;
	/* each event takes at least one byte in each of the first five columns */
	if (n > ibuf_left(b) / 5)
		return FS_ERRNO__CORRUPT;
	for (uint64_t c = 0; c < ncols; c++) {
		uint64_t len = ibuf_uv(b);

		if (b->bad || len > ibuf_left(b))
			return FS_ERRNO__CORRUPT;
		if (c < NR_COLS) {
			/* a value of each event in each of the first five: a shorter one ends early */
			if (c <= COL_PFN && len < n)
				return FS_ERRNO__CORRUPT;
			d->col[c].p = b->p;
			d->col[c].end = b->p + len;
			d->col[c].bad = false;
		}
		b->p += len;	/* columns beyond NR_COLS come from a newer writer: skipped */
	}
	d->n = (uint32_t)n;
	d->ts = d->first_ts;
	memset(d->last_pfn, 0, sizeof(d->last_pfn));
	memset(d->last_pid, 0, sizeof(d->last_pid));
	return 0;
}

/* The optional fields of one event of mask m, in the order of FORMAT.md §6 (SMALL, GFP, WIDE).
 * Inlined with a constant m for the common masks, where it becomes straight-line code. */
static inline __attribute__((always_inline)) void
decode_optional(struct trace_event *e, unsigned int m, const uint8_t **ps, const uint8_t **pg,
		const uint8_t **pw, bool *bad)
{
	uint64_t v;

	e->order = m & FST_EV_ORDER ? *(*ps)++ : 0;
	e->fallback_order = m & FST_EV_FALLBACK_ORDER ? *(*ps)++ : 0;
	e->flags = m & FST_EV_FLAGS ? *(*ps)++ : 0;
	e->mt = m & FST_EV_MT ? (int8_t)*(*ps)++ : -1;
	e->fallback_mt = m & FST_EV_FALLBACK_MT ? (int8_t)*(*ps)++ : -1;
	e->gfp = m & FST_EV_GFP ? uv_pad(pg, bad) : 0;
	/* the wide column holds zone, aux, aux2, stack in that order */
	e->zone = TRACE_ZONE_UNKNOWN;
	if (m & FST_EV_ZONE) {
		if (__builtin_expect(**pw < 0x80, 1)) {
			e->zone = *(*pw)++;
		} else {
			v = uv_pad(pw, bad);
			*bad |= v > UINT16_MAX;
			e->zone = (uint16_t)v;
		}
	}
	e->aux = m & FST_EV_AUX ? uv_pad(pw, bad) : 0;
	e->aux2 = 0;
	if (m & FST_EV_AUX2) {
		v = uv_pad(pw, bad);
		*bad |= v > UINT32_MAX;
		e->aux2 = (uint32_t)v;
	}
	e->stack_id = 0;
	if (m & FST_EV_STACK) {
		v = uv_pad(pw, bad);
		*bad |= v > UINT32_MAX;
		e->stack_id = (uint32_t)v;
	}
}

/* The kmem page events' masks: a zone, and any of order, flags, mt and gfp (FORMAT.md §6.3). */
#define OPT_CASE(m) case FST_EV_ZONE | (m): decode_optional(e, FST_EV_ZONE | (m), &p0, &p1, &p2, &bad); break
#define OPT_CASES_MT_GFP(m) OPT_CASE(m); OPT_CASE((m) | FST_EV_MT); OPT_CASE((m) | FST_EV_GFP); \
			    OPT_CASE((m) | FST_EV_MT | FST_EV_GFP)

int fst_chunk_decode(struct fst_chunk_dec *d, struct trace_event *ev, uint32_t max)
{
	uint16_t mask[FST_BATCH];
	uint32_t k = d->n - d->next, i;
	const uint8_t *p0, *p1, *p2, *p3, *p4;
	uint64_t ts, seq;
	bool bad = false;

	if (k > max)
		k = max;
	if (k > FST_BATCH)
		k = FST_BATCH;
	if (!k)
		return 0;

	/* HEAD, MASK, TS, PID, PFN: one value per event each. Eight events at a time where HEAD,
	 * MASK and PID hold one-byte values (cpu < 8, mask < 0x80, a small pid change: nearly
	 * always); pid and pfn are deltas from the last of the event's slot. */
	p0 = d->col[COL_HEAD].p;
	p1 = d->col[COL_MASK].p;
	p2 = d->col[COL_TS].p;
	p3 = d->col[COL_PID].p;
	p4 = d->col[COL_PFN].p;
	ts = d->ts;
	seq = d->first_seq + d->next;
	for (i = 0; i < k;) {
		struct trace_event *e = &ev[i];
		uint16_t *mk = &mask[i];

		if (i + 8 <= k && eight_small(p0) && eight_small(p1) && eight_small(p3)) {
#pragma GCC unroll 8
			for (unsigned int j = 0; j < 8; j++) {
				unsigned int cpu = p0[j] >> 5;

				e[j].seq = seq + j;
				e[j].cpu = cpu;
				e[j].kind = p0[j] & 31;
				mk[j] = p1[j];
				ts += (uint64_t)sv_pad2(&p2, &bad);
				e[j].ts_ns = ts;
				e[j].pid = d->last_pid[cpu] += (uint32_t)unzigzag1[p3[j]];
				e[j].pfn = d->last_pfn[cpu] += (uint64_t)sv_pad(&p4, &bad);
			}
			p0 += 8;
			p1 += 8;
			p3 += 8;
			seq += 8;
			i += 8;
		} else {
			uint64_t head = uv_pad(&p0, &bad);
			uint32_t s = (uint32_t)(head >> 5) & (NR_SLOTS - 1);

			bad |= (head >> 5) > UINT32_MAX;
			e->seq = seq++;
			e->cpu = (uint32_t)(head >> 5);
			e->kind = head & 31;
			*mk = (uint16_t)(uv_pad(&p1, &bad) & 0x3ff);	/* bits 10 and up are reserved */
			ts += (uint64_t)sv_pad2(&p2, &bad);
			e->ts_ns = ts;
			e->pid = d->last_pid[s] += (uint32_t)sv_pad(&p3, &bad);
			e->pfn = d->last_pfn[s] += (uint64_t)sv_pad(&p4, &bad);
			i++;
		}
	}
	d->col[COL_HEAD].p = p0;
	d->col[COL_MASK].p = p1;
	d->col[COL_TS].p = p2;
	d->col[COL_PID].p = p3;
	d->col[COL_PFN].p = p4;
	d->ts = ts;

	/* SMALL, GFP, WIDE: only the fields the mask has */
	p0 = d->col[COL_SMALL].p;
	p1 = d->col[COL_GFP].p;
	p2 = d->col[COL_WIDE].p;
	for (i = 0; i < k; i++) {
		struct trace_event *e = &ev[i];

		switch (mask[i]) {
		OPT_CASES_MT_GFP(0);
		OPT_CASES_MT_GFP(FST_EV_ORDER);
		OPT_CASES_MT_GFP(FST_EV_FLAGS);
		OPT_CASES_MT_GFP(FST_EV_ORDER | FST_EV_FLAGS);
		default:
			decode_optional(e, mask[i], &p0, &p1, &p2, &bad);
			break;
		}
	}
	d->col[COL_SMALL].p = p0;
	d->col[COL_GFP].p = p1;
	d->col[COL_WIDE].p = p2;

	for (int c = 0; c < NR_COLS; c++)
		bad |= d->col[c].p > d->col[c].end;	/* ran past the column's end */
	if (bad) {
		d->next = d->n;	/* nothing more from this chunk */
		return FS_ERRNO__CORRUPT;
	}
	d->next += k;
	return (int)k;
}

int fst_decode_chunk(struct ibuf *b, struct trace_event **evp, uint32_t *capp, uint32_t *np,
		     uint64_t *first_seq)
{
	size_t len = ibuf_left(b);
	struct fst_chunk_dec *d = malloc(sizeof(*d));
	uint8_t *buf = malloc(len + FST_DECODE_PAD);
	struct trace_event *ev;
	struct ibuf in;
	int err;

	*np = 0;
	if (!d || !buf) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(buf, b->p, len);
	memset(buf + len, 0, FST_DECODE_PAD);
	in.p = buf;
	in.end = buf + len;
	in.bad = false;
	err = fst_chunk_begin(d, &in);
	*first_seq = d->first_seq;
	if (err)
		goto out;
	b->p += in.p - buf;
	if (d->n > *capp) {
		ev = realloc(*evp, (size_t)d->n * sizeof(*ev));
		if (!ev) {
			err = -ENOMEM;
			goto out;
		}
		*evp = ev;
		*capp = d->n;
	}
	while (fst_chunk_left(d)) {
		int got = fst_chunk_decode(d, *evp + d->next, FST_BATCH);

		if (got < 0) {
			err = got;
			goto out;
		}
	}
	*np = d->n;
out:
	free(buf);
	free(d);
	return err;
}
