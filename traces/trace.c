// SPDX-License-Identifier: GPL-2.0-only
/* traces/: event kind names, header look-ups, gfp decoding and the release functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "traces/trace.h"
#include "traces/trace-local.h"

static const char *const kind_names[TEV_KIND_MAX + 1] = {
	[TEV_PAGE_ALLOC] = "mm_page_alloc",
	[TEV_PAGE_ALLOC_ZONE_LOCKED] = "mm_page_alloc_zone_locked",
	[TEV_PAGE_FREE] = "mm_page_free",
	[TEV_PAGE_FREE_BATCHED] = "mm_page_free_batched",
	[TEV_PAGE_PCPU_DRAIN] = "mm_page_pcpu_drain",
	[TEV_PAGE_ALLOC_EXTFRAG] = "mm_page_alloc_extfrag",
	[TEV_COMPACT_ISOLATE_FREE] = "mm_compaction_isolate_freepages",
	[TEV_COMPACT_BEGIN] = "mm_compaction_begin",
	[TEV_COMPACT_END] = "mm_compaction_end",
	[TEV_MARKER] = "marker",
};

const char *trace_event_kind_name(enum trace_event_kind kind)
{
	if ((unsigned int)kind > TEV_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

enum trace_event_kind trace_event_kind_from_name(const char *name)
{
	if (!name)
		return TEV_NONE;
	if (!strncmp(name, "kmem:", 5))
		name += 5;
	else if (!strncmp(name, "compaction:", 11))
		name += 11;
	if (!strcmp(name, "mm_compaction_fast_isolate_freepages"))
		return TEV_COMPACT_ISOLATE_FREE;
	for (int k = 1; k <= TEV_KIND_MAX; k++)
		if (kind_names[k] && !strcmp(kind_names[k], name))
			return (enum trace_event_kind)k;
	return TEV_NONE;
}

const char *trace_header_get(const struct trace_header *h, const char *key)
{
	for (uint32_t i = 0; i < h->nr_kv; i++)
		if (h->kv[i].key && !strcmp(h->kv[i].key, key))
			return h->kv[i].value;
	return NULL;
}

int trace_header_set(struct trace_header *h, const char *key, const char *value)
{
	char *v = strdup(value ? value : "");
	struct trace_kv *kv;

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nr_kv; i++) {
		if (h->kv[i].key && !strcmp(h->kv[i].key, key)) {
			free(h->kv[i].value);
			h->kv[i].value = v;
			return 0;
		}
	}
	kv = realloc(h->kv, (h->nr_kv + 1) * sizeof(*kv));
	if (!kv) {
		free(v);
		return -ENOMEM;
	}
	h->kv = kv;
	kv[h->nr_kv].key = strdup(key);
	kv[h->nr_kv].value = v;
	if (!kv[h->nr_kv].key) {
		free(v);
		return -ENOMEM;
	}
	h->nr_kv++;
	return 0;
}

const char *trace_header_mt_name(const struct trace_header *h, int mt)
{
	for (uint32_t i = 0; i < h->nr_migratetypes; i++)
		if (h->migratetypes[i].value == mt)
			return h->migratetypes[i].name;
	return NULL;
}

int trace_header_mt_value(const struct trace_header *h, const char *name)
{
	for (uint32_t i = 0; i < h->nr_migratetypes; i++)
		if (!strcasecmp(h->migratetypes[i].name, name))
			return (int)h->migratetypes[i].value;
	return -1;
}

/* As the kernel's trace_print_flags_seq(): table entries in order, each whose whole mask is set
 * is printed and its bits cleared; what is left is printed in hex. 0 prints as "none". */
size_t trace_header_gfp_str(const struct trace_header *h, uint64_t gfp, char *buf, size_t len)
{
	size_t n = 0;
	bool first = true;
	uint64_t left = gfp;

#define APPEND(...) do { \
		int _w = snprintf(buf ? buf + (n < len ? n : len) : NULL, n < len ? len - n : 0, __VA_ARGS__); \
		if (_w > 0) n += (size_t)_w; \
	} while (0)

	if (len)
		buf[0] = '\0';
	if (!gfp) {
		APPEND("none");
		return n;
	}
	for (uint32_t i = 0; i < h->nr_gfp_flags && left; i++) {
		uint64_t m = h->gfp_flags[i].mask;

		if (!m || (left & m) != m)
			continue;
		APPEND("%s%s", first ? "" : "|", h->gfp_flags[i].name);
		first = false;
		left &= ~m;
	}
	if (left)
		APPEND("%s0x%llx", first ? "" : "|", (unsigned long long)left);
#undef APPEND
	return n;
}

uint16_t trace_header_zone_of(const struct trace_header *h, uint64_t pfn)
{
	if (pfn == TRACE_PFN_NONE)
		return TRACE_ZONE_UNKNOWN;
	for (uint32_t i = 0; i < h->nr_zones && i < TRACE_ZONE_UNKNOWN; i++) {
		const struct trace_zone *z = &h->zones[i];

		if (z->spanned && pfn >= z->start_pfn && pfn - z->start_pfn < z->spanned)
			return (uint16_t)i;
	}
	return TRACE_ZONE_UNKNOWN;
}

void trace_header_release(struct trace_header *h)
{
	if (!h)
		return;
	free(h->migratetypes);
	free(h->gfp_flags);
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		free(h->zones[i].lowmem_reserve);
		free(h->zones[i].pcp);
	}
	free(h->zones);
	for (uint32_t i = 0; i < h->nr_kv; i++) {
		free(h->kv[i].key);
		free(h->kv[i].value);
	}
	free(h->kv);
	memset(h, 0, sizeof(*h));
}

void trace_snapshot_release(struct trace_snapshot *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nr_pageblock_zones; i++)
		free(s->pageblocks[i].types);
	free(s->pageblocks);
	free(s->free_blocks);
	free(s->pcp_pages);
	for (uint32_t i = 0; i < s->nr_counts; i++) {
		free(s->counts[i].nr_free);
		free(s->counts[i].nr_blocks);
	}
	free(s->counts);
	free(s->note);
	memset(s, 0, sizeof(*s));
}

void trace_loss_release(struct trace_loss *l)
{
	if (!l)
		return;
	free(l->lost_per_cpu);
	memset(l, 0, sizeof(*l));
}

static void *dup_array(const void *src, size_t n, size_t sz, int *err)
{
	void *p;

	if (!n || !src)
		return NULL;
	p = malloc(n * sz);
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(p, src, n * sz);
	return p;
}

int trace_header_copy(struct trace_header *dst, const struct trace_header *src)
{
	int err = 0;

	*dst = *src;
	dst->migratetypes = dup_array(src->migratetypes, src->nr_migratetypes, sizeof(*src->migratetypes), &err);
	dst->gfp_flags = dup_array(src->gfp_flags, src->nr_gfp_flags, sizeof(*src->gfp_flags), &err);
	dst->zones = dup_array(src->zones, src->nr_zones, sizeof(*src->zones), &err);
	if (!dst->zones)
		dst->nr_zones = 0;
	for (uint32_t i = 0; i < dst->nr_zones; i++) {
		struct trace_zone *z = &dst->zones[i];

		z->lowmem_reserve = dup_array(z->lowmem_reserve, z->nr_lowmem_reserve, sizeof(uint64_t), &err);
		z->pcp = dup_array(z->pcp, z->nr_pcp, sizeof(*z->pcp), &err);
	}
	dst->kv = NULL;
	dst->nr_kv = 0;
	for (uint32_t i = 0; i < src->nr_kv && !err; i++)
		err = trace_header_set(dst, src->kv[i].key, src->kv[i].value);
	if (err)
		trace_header_release(dst);
	return err;
}

bool trace_event_equal(const struct trace_event *a, const struct trace_event *b)
{
	return a->seq == b->seq && a->ts_ns == b->ts_ns && a->cpu == b->cpu && a->pid == b->pid &&
	       a->kind == b->kind && a->order == b->order && a->fallback_order == b->fallback_order &&
	       a->flags == b->flags && a->mt == b->mt && a->fallback_mt == b->fallback_mt &&
	       a->zone == b->zone && a->pfn == b->pfn && a->gfp == b->gfp && a->aux == b->aux &&
	       a->aux2 == b->aux2 && a->stack_id == b->stack_id;
}
