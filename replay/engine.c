// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay engine.
 *
 * follow: the kernel's buddy-level events (free-path.md §6) drive the model through the
 * allocator's follow primitives. Events are grouped into "takes" (one __rmqueue() outcome:
 * a zone_locked; zone_locked+extfrag for a 6.10+ claim below pageblock order; extfrag alone
 * for a 6.10+ steal or whole-block claim; extfrag+zone_locked in 6.1) and "runs" (the takes
 * of one rmqueue_bulk refill, or one direct rmqueue_buddy), found with a small lookahead
 * window over the CPU's next events. Before each take the model predicts what it would have
 * taken (buddy_predict_rmqueue) and the prediction is scored; then what the kernel did is
 * applied. Events the model's state cannot explain are repaired and counted by cause.
 *
 * simulate: only mm_page_alloc (request: order, gfp, migratetype, cpu) and mm_page_free
 * (matched to the allocation it frees) drive the model, which decides everything.
 */
#include "replay/engine.h"
#include "replay/replay-local.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "allocator/buddy.h"
#include "util/errors.h"
#include "util/jsonw.h"
#include "util/log.h"

#define WINDOW REPLAY_WINDOW	/* lookahead events (power of two) */
#define LOOKAHEAD_CPU 4096	/* same-CPU events examined when grouping */

static const char *const cause_names[RC_NR] = {
	[RC_SNAPSHOT_PCP] = "snapshot_pcp",
	[RC_UNTRACED_FREE] = "untraced_free",
	[RC_BULK_ALLOC] = "bulk_alloc",
	[RC_CAPTURE] = "compaction_capture",
	[RC_COMPACTION] = "compaction_isolate",
	[RC_SPLIT] = "split_mismatch",
	[RC_LIST] = "list_mismatch",
	[RC_PCP] = "pcp_mismatch",
	[RC_ALLOCATED] = "allocated_mismatch",
	[RC_FALLBACK] = "fallback_mismatch",
	[RC_OUTSIDE] = "outside_zones",
	[RC_PCP_SILENT] = "pcp_silent_alloc",
	[RC_LOST] = "lost_events",
	[RC_SNAPSHOT_RACE] = "snapshot_race",
	[RC_PCP_BYPASS] = "pcp_bypass",
	[RC_PCP_NESTED] = "pcp_free_nested",
	[RC_FREE_MISSING] = "free_missing",
	[RC_LIST_ORDER] = "list_order",
};

static const char *const cause_help[RC_NR] = {
	[RC_SNAPSHOT_PCP] = "a page was on a pcp list at snapshot time but the snapshot did not list it",
	[RC_UNTRACED_FREE] = "the kernel took a block the model holds allocated since the snapshot: memory "
			     "freed without an event (lazy memory init growing the zone, page reporting "
			     "putback, isolation undo) or a snapshot race",
	[RC_BULK_ALLOC] = "a page the model holds on a pcp list was freed: it left the list through the "
			  "bulk allocator, which emits no mm_page_alloc",
	[RC_CAPTURE] = "mm_page_alloc of a block the model holds free, with no take: compaction capture",
	[RC_COMPACTION] = "a free of a block the model holds free (taken silently by the compaction free "
			  "scanner), or a block isolated by compaction",
	[RC_SPLIT] = "the kernel took a block the model holds inside a larger free block or split otherwise",
	[RC_LIST] = "the kernel took the block from another free list than the model's",
	[RC_PCP] = "a page the model holds on a pcp list was taken from the buddy, or a drained page the "
		   "model does not hold on a pcp list",
	[RC_ALLOCATED] = "an allocation or take of a page the model holds allocated in the trace",
	[RC_FALLBACK] = "an extfrag event the model could not apply (its found block is not where the "
			"kernel found it)",
	[RC_OUTSIDE] = "an event for a pfn outside every zone of the model (zone grew, hotplug)",
	[RC_PCP_SILENT] = "pages ahead of an allocated page on its pcp list left the list with no event: "
			  "the bulk allocator (alloc_pages_bulk) or lost events",
	[RC_LOST] = "the event that would explain it is missing, and the trace reports lost events",
	[RC_SNAPSHOT_RACE] = "the page changed while the unlocked start snapshot was being taken (the event "
			     "falls in the snapshot's walk)",
	[RC_PCP_BYPASS] = "the kernel took from the buddy a page whose last event was a free the model had put on a "
			  "pcp list (still there, or dropped as silently allocated): the free had bypassed the pcp "
			  "(trylock failure: a free from an interrupt while the CPU's pcp lock was held), which no "
			  "event shows; or (6.1) an order 1-3 free with free_factor > 0 that no drain followed at "
			  "once",
	[RC_PCP_NESTED] = "the kernel allocated from a pcp list a page that the model holds just below the pages "
			  "freed right after it: an interrupt came between that free's mm_page_free and its pcp "
			  "insertion, and the interrupt's frees reached the list first",
	[RC_FREE_MISSING] = "a page allocated again with no free between, in a trace that counts no loss: its "
			    "mm_page_free is missing from the capture (recorded alongside ftrace, such frees were "
			    "softirq frees that ftrace has and the kernel did not deliver to BPF; captures "
			    "made since count them as lost: 'not delivered')",
	[RC_LIST_ORDER] = "the kernel took a block the model holds free on the same list but not at its head: "
			  "the blocks ahead are not at the head of the kernel's list (placed otherwise, or not "
			  "free at that order: a free that bypassed the pcp merged in the kernel); they are "
			  "moved to the list's tail, one per block",
};

static const char *const path_names[RP_NR] = {
	[RP_NONE] = "none", [RP_NORMAL] = "normal", [RP_HIGHATOMIC] = "highatomic",
	[RP_CLAIM] = "claim", [RP_STEAL] = "steal",
};

const char *replay_cause_name(enum replay_cause c)
{
	return c < RC_NR ? cause_names[c] : "?";
}

const char *replay_cause_help(enum replay_cause c)
{
	return c < RC_NR ? cause_help[c] : "?";
}

const char *replay_path_name(enum replay_path p)
{
	return p < RP_NR ? path_names[p] : "?";
}

struct slot {
	struct trace_event ev;
	bool consumed;		/* applied together with an earlier event */
	bool has_batched;	/* mm_page_free whose mm_page_free_batched is in the window */
};

#define PUSHED_RING 64

struct bigmap {			/* a side array from bigmap_zalloc() */
	void *raw;		/* the mapping, NULL if calloc'd */
	size_t len;
};

/* A CPU's latest mm_page_free events in the window, by feed position: a batched free finds the
 * free it belongs to here rather than by scanning every CPU's events back. */
#define FEED_RING 32
struct feed_cpu {
	uint64_t pos[FEED_RING];
	unsigned head;
};

struct cpu_state {
	bool run_open;
	bool run_refill;	/* the run's takes go to this CPU's pcp list (rmqueue_bulk) */
	int run_start;		/* requested migratetype (role) */
	struct buddy_rmqueue_ctx ctx;
	uint64_t last_direct_pfn;	/* the page a direct take just allocated */
	unsigned batch_pending;	/* frees of a batch waiting for their mm_page_free_batched */
	bool in_loop2;		/* between two batched events of one batch: its pcp lock is held */
	uint64_t pushed[PUSHED_RING];	/* the latest pages this CPU freed onto its pcp lists */
	uint64_t pushed_seq[PUSHED_RING];
	unsigned pushed_head;
	uint64_t last_alloc_seq;	/* this CPU's latest mm_page_alloc */
	bool in_refill;		/* a refill took pages, its mm_page_alloc is still to come */
	/* 6.1 free_factor: prev_seq1 is this CPU's latest kmem page event (seq + 1), pcp_free_seq1
	 * the latest free the model put on its pcp (seq + 1, order, list); ff_zone1 is the model
	 * zone + 1 whose pcp a commit drained with no allocation on this CPU since (0: none) */
	uint64_t prev_seq1, pcp_free_seq1;
	unsigned pcp_free_order;
	int pcp_free_list;
	int ff_zone1;
	/* 6.1: extfrag seen, the retried zone_locked to come */
	bool fb_pending;
	struct buddy_take fb_pred;
	bool fb_pred_ok;
	enum replay_path fb_path;
	int fb_mt, fb_own;
	unsigned fb_order;
};

struct replay {
	struct replay_opts o;
	const struct trace_header *h;
	struct buddy_model *m;
	struct buddy_profile prof;
	struct replay_result res;
	unsigned nr_orders, pbo;

	/* trace zone index -> model zone; model zone -> trace zone */
	int *zone_map;
	int model_to_trace[BUDDY_MAX_ZONES];

	struct slot win[WINDOW];
	unsigned win_head, win_nr;
	uint64_t fed;			/* events fed so far: event k sits in win[k % WINDOW] */
	struct feed_cpu *feed_cpus;	/* per CPU: where its latest mm_page_free events sit */
	unsigned nr_feed_cpus;
	uint64_t start_seq;		/* first event not reflected in the start snapshot */
	bool started;

	struct cpu_state *cpus;
	unsigned nr_cpus;

	struct pfnmap silent;		/* pages taken off pcp lists as silently allocated */
	uint64_t silent_filter[1024];	/* a bit per pfn mod 65536 ever put in silent: most look-ups end here */
	struct pfnmap pending_batched;	/* pfn -> order: freed, waiting for its mm_page_free_batched */
	struct pfnmap seen;		/* pfns touched by the trace outside the zones' span */
	uint64_t *seen_bits;		/* ... inside it */
	struct pfnmap sim_map;		/* simulate: kernel pfn -> (model pfn << 8 | order) */

	/* compaction windows: [start, end) isolated recently */
	uint64_t compact_start, compact_end, compact_seq;

	/* extfrag tallies for simulate: [alloc role][fb role][own] */
	uint64_t k_xf[BUDDY_MT_NR][BUDDY_MT_NR][2], m_xf[BUDDY_MT_NR][BUDDY_MT_NR][2];

	/* per-pageblock allocated pages by owner role (mixed pageblocks) */
	uint64_t pb_base;		/* lowest pageblock index */
	uint64_t nr_pb;
	uint16_t (*pb_owned)[BUDDY_MT_PCPTYPES];
	uint8_t *owner;			/* per pfn - pfn_base: owner role + 1, 0 unknown */
	struct bigmap owner_map, seen_map;	/* how owner and seen_bits were allocated */
	uint64_t *pb_absent;		/* pageblocks the start snapshot had no memory for (lazy init) */
	uint64_t pfn_base, nr_pfns;

	int (*ckpt_cb)(void *ctx, uint64_t next_seq);
	void *ckpt_ctx;
	uint64_t next_ckpt;
	void (*take_cb)(void *ctx, const struct replay_take_record *t);
	void *take_ctx;
	struct buddy_event sim_xf;	/* simulate: the first fallback of the allocation in hand */
	bool sim_xf_have;
	int (*sample_cb)(void *ctx, const struct replay_sample *s);
	void *sample_ctx;
	uint64_t next_sample, next_check;

	struct replay_log_entry *log;
	unsigned nr_log;

	struct buddy_gfp_map gfp_map;	/* the trace's gfp names -> model bits */

	const struct trace_event *cur;	/* event being applied (for logs) */
	uint64_t last_seq, last_ts;
	bool has_losses;
	uint64_t snap_end_ts;		/* events before this may race with the start snapshot's walk */
	char errbuf[256];
};

static void sim_observer(void *ctx, const struct buddy_event *e);

/* ---- small helpers ---------------------------------------------------------------------------- */

static void logf_entry(struct replay *r, int cause, uint64_t pfn, int order, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void logf_entry(struct replay *r, int cause, uint64_t pfn, int order, const char *fmt, ...)
{
	struct replay_log_entry *e;
	va_list ap;

	if (r->nr_log >= r->o.max_log || (cause == RC_SNAPSHOT_RACE && r->o.log_skip_race))
		return;
	e = &r->log[r->nr_log++];
	e->seq = r->cur ? r->cur->seq : 0;
	e->ts_ns = r->cur ? r->cur->ts_ns : 0;
	e->pfn = pfn;
	e->order = order;
	e->cause = cause;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Counts a resync of cause c and logs it, with why (the model's error) when there is one. */
static void resync_why(struct replay *r, enum replay_cause c, uint64_t pfn, int order, const char *what,
		       const char *why)
{
	/* anything the state cannot explain while the unlocked start snapshot was being walked is
	 * a race with the walk, whatever it looks like */
	if (r->cur && r->cur->ts_ns <= r->snap_end_ts && c != RC_OUTSIDE)
		c = RC_SNAPSHOT_RACE;
	r->res.resyncs[c]++;
	if (why && *why)
		logf_entry(r, (int)c, pfn, order, "%s: %s", what, why);
	else	/* the model raised no error (e.g. a silent pcp take): no empty ": " */
		logf_entry(r, (int)c, pfn, order, "%s (pfn 0x%" PRIx64 " order %d)", what, pfn, order);
}

/* A resync after a model operation failed: its error says why. */
static void resync(struct replay *r, enum replay_cause c, uint64_t pfn, int order, const char *what)
{
	resync_why(r, c, pfn, order, what, buddy_last_error(r->m));
}

/* A resync the engine found itself (the model raised no error; its last one is stale). */
static void resync_engine(struct replay *r, enum replay_cause c, uint64_t pfn, int order, const char *what)
{
	resync_why(r, c, pfn, order, what, NULL);
}

static int role_of(struct replay *r, int kernel_mt)
{
	int role = kernel_mt < 0 ? BUDDY_MT_NONE : buddy_mt_from_kernel(r->m, kernel_mt);

	return role < 0 ? BUDDY_MT_NONE : role;
}

static __attribute__((noinline)) struct cpu_state *cpu_grow(struct replay *r, uint32_t cpu)
{
	unsigned n = cpu + 1;
	struct cpu_state *c = realloc(r->cpus, n * sizeof(*c));

	if (!c)
		return NULL;
	memset(c + r->nr_cpus, 0, (n - r->nr_cpus) * sizeof(*c));
	r->cpus = c;
	r->nr_cpus = n;
	return &r->cpus[cpu];
}

static inline struct cpu_state *cpu_of(struct replay *r, uint32_t cpu)
{
	if (__builtin_expect(cpu < r->nr_cpus, 1))
		return &r->cpus[cpu];
	return cpu_grow(r, cpu);
}

static bool pcp_allowed(struct replay *r, unsigned order)
{
	return buddy_pcp_pindex(r->m, order, BUDDY_MT_MOVABLE) >= 0;
}

/* A set of pfns: a bit per pfn of the zones' span (bits), a map beyond it (rest). */
static inline int pfnset_put(const struct replay *r, uint64_t *bits, struct pfnmap *rest, uint64_t pfn)
{
	uint64_t k = pfn - r->pfn_base;	/* below pfn_base: wraps, >= nr_pfns */

	if (__builtin_expect(bits && k < r->nr_pfns, 1)) {
		bits[k >> 6] |= 1ULL << (k & 63);
		return 0;
	}
	return pfnmap_put(rest, pfn, 1);
}

static inline bool pfnset_has(const struct replay *r, const uint64_t *bits, const struct pfnmap *rest, uint64_t pfn)
{
	uint64_t k = pfn - r->pfn_base;

	if (__builtin_expect(bits && k < r->nr_pfns, 1))
		return bits[k >> 6] & (1ULL << (k & 63));
	return pfnmap_get(rest, pfn) != NULL;
}

/* pfns the trace touched */
static inline void mark_seen(struct replay *r, uint64_t pfn)
{
	(void)pfnset_put(r, r->seen_bits, &r->seen, pfn);
}

static inline bool was_seen(struct replay *r, uint64_t pfn)
{
	return pfnset_has(r, r->seen_bits, &r->seen, pfn);
}

static void silent_put(struct replay *r, uint64_t pfn)
{
	r->silent_filter[(pfn >> 6) & 1023] |= 1ULL << (pfn & 63);
	pfnmap_put(&r->silent, pfn, 1);
}

static bool silent_del(struct replay *r, uint64_t pfn)
{
	if (!(r->silent_filter[(pfn >> 6) & 1023] & (1ULL << (pfn & 63))))
		return false;
	return pfnmap_del(&r->silent, pfn, NULL);
}

static bool pb_was_absent(const struct replay *r, uint64_t pfn)
{
	uint64_t k = (pfn >> r->pbo) - r->pb_base;

	return r->pb_absent && pfn >= r->pfn_base && k < r->nr_pb && (r->pb_absent[k >> 6] & (1ULL << (k & 63)));
}

/* The trace's latest event for pfn was its free (a free clears the owner; allocations and
 * refills set it), as far as the owner map knows. */
static bool freed_last(struct replay *r, uint64_t pfn)
{
	return r->owner && pfn >= r->pfn_base && pfn - r->pfn_base < r->nr_pfns && !r->owner[pfn - r->pfn_base] &&
	       was_seen(r, pfn);
}

/* owner bookkeeping for mixed pageblocks */
static void set_owner_range(struct replay *r, uint64_t pfn, unsigned order, int role)
{
	uint64_t n = 1ULL << order;

	if (!r->owner || pfn < r->pfn_base || pfn + n > r->pfn_base + r->nr_pfns)
		return;
	for (uint64_t p = pfn; p < pfn + n; p++) {
		uint8_t *o = &r->owner[p - r->pfn_base];
		uint64_t pb = (p >> r->pbo) - r->pb_base;

		if (*o && *o - 1 < BUDDY_MT_PCPTYPES && r->pb_owned[pb][*o - 1])
			r->pb_owned[pb][*o - 1]--;
		*o = role >= 0 && role < BUDDY_MT_PCPTYPES ? (uint8_t)(role + 1) : 0;
		if (*o)
			r->pb_owned[pb][role]++;
	}
}

static inline void set_owner(struct replay *r, uint64_t pfn, unsigned order, int role)
{
	uint64_t k = pfn - r->pfn_base;	/* below pfn_base: wraps, >= nr_pfns */
	uint8_t *o, nv;
	uint16_t *owned;

	if (order || !r->owner || k >= r->nr_pfns) {
		set_owner_range(r, pfn, order, role);
		return;
	}
	o = &r->owner[k];	/* one page, the usual case */
	nv = role >= 0 && role < BUDDY_MT_PCPTYPES ? (uint8_t)(role + 1) : 0;
	owned = r->pb_owned[(pfn >> r->pbo) - r->pb_base];
	if (*o && *o - 1 < BUDDY_MT_PCPTYPES && owned[*o - 1])
		owned[*o - 1]--;
	*o = nv;
	if (nv)
		owned[nv - 1]++;
}

/* ---- the model from the header and the snapshot ----------------------------------------------- */

static int zone_type_of(const char *name)
{
	if (!strcasecmp(name, "DMA"))
		return BUDDY_ZONE_DMA;
	if (!strcasecmp(name, "DMA32"))
		return BUDDY_ZONE_DMA32;
	if (!strcasecmp(name, "Normal"))
		return BUDDY_ZONE_NORMAL;
	if (!strcasecmp(name, "Movable"))
		return BUDDY_ZONE_MOVABLE;
	return -1;
}

static long kv_long(const struct trace_header *h, const char *key, long dflt)
{
	for (uint32_t i = 0; i < h->nr_kv; i++)
		if (h->kv[i].key && !strcmp(h->kv[i].key, key) && h->kv[i].value)
			return strtol(h->kv[i].value, NULL, 0);
	return dflt;
}

static int apply_setting(struct buddy_config *c, const struct replay_setting *s, char *errbuf, size_t len)
{
	if (!strcmp(s->name, "pageblock_order"))
		c->tun.pageblock_order = (int)s->value;
	else if (!strcmp(s->name, "watermark_boost_factor"))
		c->tun.watermark_boost_factor = (int)s->value;
	else if (!strcmp(s->name, "pcp_batch") || !strcmp(s->name, "percpu_batch"))
		c->tun.pcp_batch = (int)s->value;
	else if (!strcmp(s->name, "pcp_high") || !strcmp(s->name, "percpu_high"))
		c->tun.pcp_high = (int)s->value;
	else if (!strcmp(s->name, "defrag_mode"))
		c->tun.defrag_mode = s->value != 0;
	else if (!strcmp(s->name, "mobility_disabled") || !strcmp(s->name, "page_group_by_mobility_disabled"))
		c->tun.mobility_disabled = s->value != 0;
	else {
		snprintf(errbuf, len, "unknown setting '%s' (known: pageblock_order, watermark_boost_factor, "
			 "pcp_batch, pcp_high, defrag_mode, mobility_disabled)", s->name);
		return -EINVAL;
	}
	return 0;
}

static int build_model(struct replay *r, char *errbuf, size_t len)
{
	const struct trace_header *h = r->h;
	struct buddy_config c;
	struct buddy_zone_config *zc = NULL;
	struct buddy_pcp_config *pcps = NULL;
	struct buddy_mt_map_entry *mts = NULL;
	unsigned nz = 0;
	int err;

	buddy_config_init(&c);
	if (r->o.profile)
		err = buddy_profile_by_name(r->o.profile, &c.profile);
	else
		err = buddy_profile_from_release(h->kernel_release, h->kernel_version, &c.profile);
	if (err) {
		snprintf(errbuf, len, "no allocator profile %s '%s' (known: linux-6.1, linux-6.12e, linux-6.12, "
			 "linux-6.18)", r->o.profile ? "named" : "for kernel release",
			 r->o.profile ? r->o.profile : h->kernel_release);
		return FS_ERRNO__UNKNOWN_PROFILE;
	}
	c.nr_orders = h->nr_orders ? h->nr_orders : 11;
	c.pageblock_order = h->pageblock_order ? h->pageblock_order : 9;
	c.nr_cpus = h->nr_cpus ? h->nr_cpus : 1;
	r->zone_map = calloc(h->nr_zones ? h->nr_zones : 1, sizeof(int));
	zc = calloc(h->nr_zones ? h->nr_zones : 1, sizeof(*zc));
	pcps = calloc((size_t)(h->nr_zones ? h->nr_zones : 1) * c.nr_cpus, sizeof(*pcps));
	mts = calloc(h->nr_migratetypes ? h->nr_migratetypes : 1, sizeof(*mts));
	if (!r->zone_map || !zc || !pcps || !mts) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		const struct trace_zone *tz = &h->zones[i];
		struct buddy_zone_config *z = &zc[nz];
		int zt = zone_type_of(tz->name);

		r->zone_map[i] = -1;
		if (!tz->spanned || zt < 0 || nz >= BUDDY_MAX_ZONES)
			continue;
		snprintf(z->name, sizeof(z->name), "%s", tz->name);
		z->node = tz->node;
		z->zone_type = (uint32_t)zt;
		z->start_pfn = tz->start_pfn;
		z->spanned = tz->spanned;
		z->managed = tz->managed;
		z->wmark_min = tz->wmark_min;
		z->wmark_low = tz->wmark_low;
		z->wmark_high = tz->wmark_high;
		z->watermark_boost = tz->watermark_boost;
		for (uint32_t k = 0; k < tz->nr_lowmem_reserve && k < BUDDY_ZONE_NR_TYPES; k++)
			z->lowmem_reserve[k] = tz->lowmem_reserve[k];
		if (tz->nr_pcp) {
			struct buddy_pcp_config *p = &pcps[(size_t)nz * c.nr_cpus];

			for (uint32_t k = 0; k < tz->nr_pcp; k++) {
				uint32_t cpu = tz->pcp[k].cpu;

				if (cpu >= c.nr_cpus)
					continue;
				p[cpu].high = tz->pcp[k].high;
				p[cpu].batch = tz->pcp[k].batch;
				p[cpu].high_min = tz->pcp[k].high_min;
				p[cpu].high_max = tz->pcp[k].high_max;
			}
			z->pcp = p;
		}
		r->zone_map[i] = (int)nz;
		r->model_to_trace[nz] = (int)i;
		nz++;
	}
	if (!nz) {
		snprintf(errbuf, len, "the trace header describes no populated zone");
		err = FS_ERRNO__BAD_CONFIG;
		goto out;
	}
	c.nr_zones = nz;
	c.zones = zc;
	for (uint32_t i = 0; i < h->nr_migratetypes; i++) {
		snprintf(mts[i].name, sizeof(mts[i].name), "%s", h->migratetypes[i].name);
		mts[i].value = (int)h->migratetypes[i].value;
		mts[i].role = BUDDY_MT_NONE;
	}
	c.nr_mt = h->nr_migratetypes;
	c.mt = h->nr_migratetypes ? mts : NULL;
	c.tun.watermark_boost_factor = (int)kv_long(h, "vm.watermark_boost_factor", -1);
	c.tun.defrag_mode = kv_long(h, "vm.defrag_mode", 0) != 0;
	for (unsigned i = 0; i < r->o.nr_settings; i++) {
		err = apply_setting(&c, &r->o.settings[i], errbuf, len);
		if (err)
			goto out;
	}
	r->m = buddy_new(&c, &err, errbuf, len);
	if (!r->m)
		goto out;
	r->prof = *buddy_profile(r->m);
	snprintf(r->res.profile, sizeof(r->res.profile), "%s", r->prof.name);
	r->nr_orders = buddy_nr_orders(r->m);
	r->pbo = buddy_pageblock_order(r->m);
	err = 0;
out:
	free(zc);
	free(pcps);
	free(mts);
	return err;
}

/* The snapshot's pageblock byte: the 3-bit type, and on kernels with the standalone isolate
 * bit (8 pageblock bits, 6.16+) bit 4 set while isolated. */
static void decode_pb(const struct replay *r, uint8_t raw, int *mt, bool *isolate)
{
	*isolate = r->h->nr_pageblock_bits >= 8 && (raw & 0x10);
	*mt = raw & 7;
}

static int seed(struct replay *r, const struct trace_snapshot *s, char *errbuf, size_t len)
{
	int err;

	if (!s || !(s->flags & TRACE_SNAPF_FREE_BLOCKS)) {
		snprintf(errbuf, len, "the trace has no start snapshot with free blocks, which replay seeds the "
			 "model from (imports carry at most a counts-only end snapshot): record the trace with "
			 "'fragscope record' or 'fragscope lab run'");
		return FS_ERRNO__NO_SNAPSHOT;
	}
	for (uint32_t z = 0; z < s->nr_pageblock_zones; z++) {
		const struct trace_pageblocks *pb = &s->pageblocks[z];

		for (uint64_t i = 0; i < pb->nr; i++) {
			uint64_t pfn = pb->first_pfn + (i << r->pbo);
			int mt;
			bool iso;

			if (buddy_zone_of(r->m, pfn) < 0)
				continue;
			if (pb->types[i] == TRACE_PB_NONE) {
				uint64_t k = (pfn >> r->pbo) - r->pb_base;

				if (r->pb_absent && k < r->nr_pb)
					r->pb_absent[k >> 6] |= 1ULL << (k & 63);
				continue;
			}
			decode_pb(r, pb->types[i], &mt, &iso);
			err = buddy_seed_pageblock(r->m, pfn, role_of(r, mt), iso);
			if (err) {
				snprintf(errbuf, len, "start snapshot: pageblock at pfn 0x%" PRIx64 ": %s", pfn,
					 buddy_last_error(r->m));
				return err;
			}
		}
	}
	for (uint64_t i = 0; i < s->nr_free_blocks; i++) {
		const struct trace_free_block *fb = &s->free_blocks[i];
		int mt = fb->mt >= 0 ? role_of(r, fb->mt) : buddy_pageblock_type(r->m, fb->pfn);

		if (buddy_zone_of(r->m, fb->pfn) < 0) {
			r->res.resyncs[RC_OUTSIDE]++;
			continue;
		}
		err = buddy_seed_free_block(r->m, fb->pfn, fb->order, mt);
		if (err) {
			snprintf(errbuf, len, "start snapshot: free block pfn 0x%" PRIx64 " order %u: %s", fb->pfn,
				 fb->order, buddy_last_error(r->m));
			return err;
		}
	}
	for (uint64_t i = 0; i < s->nr_pcp_pages; i++) {
		const struct trace_pcp_page *pp = &s->pcp_pages[i];
		int mt = pp->pindex < 12 ? pp->pindex % 3 : (pp->pindex == 13 ? BUDDY_MT_MOVABLE : BUDDY_MT_UNMOVABLE);

		if (buddy_zone_of(r->m, pp->pfn) < 0)
			continue;
		err = buddy_seed_pcp_page(r->m, pp->cpu, pp->pfn, pp->order, mt);
		if (err) {
			/* a racy walk can list a page twice; count it, do not fail */
			r->res.resyncs[RC_SNAPSHOT_PCP]++;
			continue;
		}
	}
	r->start_seq = s->event_seq;
	if (!(s->flags & TRACE_SNAPF_EXACT) && s->ts_ns)
		r->snap_end_ts = s->ts_ns + s->duration_ns;
	return 0;
}

/* Zeroed per-pfn side arrays, 2 MiB aligned and backed by transparent huge pages where the
 * system allows (a hint): each event looks them up at a random pfn, next to the model's page
 * array, and with 4 KiB pages most of those lookups would also miss the TLB. */
#define BIGMAP_ALIGN ((size_t)2 << 20)

static void *bigmap_zalloc(struct bigmap *b, size_t bytes)
{
	uint8_t *p;

	b->raw = NULL;
	b->len = 0;
	if (bytes < BIGMAP_ALIGN)
		return calloc(bytes ? bytes : 1, 1);
	b->len = bytes + BIGMAP_ALIGN;
	b->raw = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->raw == MAP_FAILED) {
		b->raw = NULL;
		return NULL;
	}
	p = (uint8_t *)(((uintptr_t)b->raw + BIGMAP_ALIGN - 1) & ~(uintptr_t)(BIGMAP_ALIGN - 1));
	(void)madvise(p, (bytes + BIGMAP_ALIGN - 1) & ~(BIGMAP_ALIGN - 1), MADV_HUGEPAGE);
	return p;
}

static void bigmap_free(struct bigmap *b, void *p)
{
	if (b->raw)
		munmap(b->raw, b->len);
	else
		free(p);
	b->raw = NULL;
}

static int alloc_owner_maps(struct replay *r)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned z = 0; z < buddy_nr_zones(r->m); z++) {
		struct buddy_zone_stats zs;

		if (buddy_zone_stats(r->m, (int)z, &zs))
			continue;
		if (zs.start_pfn < lo)
			lo = zs.start_pfn;
		if (zs.end_pfn > hi)
			hi = zs.end_pfn;
	}
	if (lo >= hi)
		return 0;
	lo &= ~((1ULL << r->pbo) - 1);
	r->pfn_base = lo;
	r->nr_pfns = hi - lo;
	r->pb_base = lo >> r->pbo;
	r->nr_pb = ((hi - 1) >> r->pbo) - r->pb_base + 1;
	r->owner = bigmap_zalloc(&r->owner_map, r->nr_pfns);
	r->seen_bits = bigmap_zalloc(&r->seen_map, (r->nr_pfns + 63) / 64 * sizeof(uint64_t));
	r->pb_absent = calloc((r->nr_pb + 63) / 64, sizeof(uint64_t));
	r->pb_owned = calloc(r->nr_pb, sizeof(*r->pb_owned));
	if (!r->owner || !r->pb_owned || !r->seen_bits || !r->pb_absent)
		return -ENOMEM;
	return 0;
}

struct replay *replay_new(const struct trace_header *h, const struct trace_snapshot *start,
			  const struct replay_opts *o, int *err, char *errbuf, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	char dummy[8];

	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	if (o)
		memcpy(&r->o, o, o->sz && o->sz < sizeof(r->o) ? o->sz : sizeof(r->o));
	r->h = h;
	r->res.mode = r->o.mode;
	r->has_losses = r->o.trace_has_losses;
	*err = build_model(r, errbuf, errlen);
	if (*err)
		goto fail;
	*err = -ENOMEM;
	if (pfnmap_init(&r->pending_batched, 1024) || pfnmap_init(&r->silent, 1024) || pfnmap_init(&r->seen, 1 << 16) ||
	    pfnmap_init(&r->sim_map, r->o.mode == REPLAY_SIMULATE ? 1 << 16 : 16) || alloc_owner_maps(r))
		goto fail;
	*err = seed(r, start, errbuf, errlen);
	if (*err)
		goto fail;
	r->nr_cpus = buddy_nr_cpus(r->m);
	r->cpus = calloc(r->nr_cpus ? r->nr_cpus : 1, sizeof(*r->cpus));
	if (r->o.max_log)
		r->log = calloc(r->o.max_log, sizeof(*r->log));
	if (!r->cpus || (r->o.max_log && !r->log))
		goto fail;
	if (h->nr_gfp_flags)
		for (uint32_t i = 0; i < h->nr_gfp_flags; i++)
			buddy_gfp_map_add(&r->gfp_map, h->gfp_flags[i].name, h->gfp_flags[i].mask);
	else
		buddy_gfp_map_linux_default(&r->gfp_map);
	if (r->o.mode == REPLAY_SIMULATE)
		buddy_set_observer(r->m, sim_observer, r);
	r->next_sample = r->o.sample_every;
	r->next_check = r->o.check_every;
	*err = 0;
	return r;
fail:
	if (!errbuf[0] && *err)
		snprintf(errbuf, errlen, "%s", fragscope_strerror(*err));
	replay_free(r);
	return NULL;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	buddy_free_model(r->m);
	free(r->zone_map);
	free(r->cpus);
	free(r->feed_cpus);
	pfnmap_release(&r->pending_batched);
	pfnmap_release(&r->silent);
	pfnmap_release(&r->seen);
	pfnmap_release(&r->sim_map);
	bigmap_free(&r->owner_map, r->owner);
	bigmap_free(&r->seen_map, r->seen_bits);
	free(r->pb_absent);
	free(r->pb_owned);
	free(r->log);
	free(r);
}

struct buddy_model *replay_model(struct replay *r)
{
	return r->m;
}

const struct replay_result *replay_get_result(const struct replay *r)
{
	return &r->res;
}

const struct replay_log_entry *replay_log(const struct replay *r, unsigned *nr)
{
	*nr = r->nr_log;
	return r->log;
}

void replay_set_checkpoint_cb(struct replay *r, int (*cb)(void *ctx, uint64_t next_seq), void *ctx)
{
	r->ckpt_cb = cb;
	r->ckpt_ctx = ctx;
	r->next_ckpt = r->o.checkpoint_every;
}

static bool quiescent(const struct replay *r)
{
	if (r->pending_batched.nr)
		return false;
	/* not waited for: cross-event per-CPU hints (pushed ring, in_loop2, 6.1 ff_zone1) that a
	 * checkpoint does not carry; waiting for ff_zone1 could stop checkpoints for good on a CPU
	 * that never allocates again */
	for (unsigned c = 0; c < r->nr_cpus; c++)
		if (r->cpus[c].run_open || r->cpus[c].fb_pending)
			return false;
	return true;
}

int replay_snapshot_model(struct replay *r, uint64_t event_seq, struct trace_snapshot *out)
{
	const struct trace_header *h = r->h;
	unsigned nz = buddy_nr_zones(r->m), npl = buddy_nr_pcp_lists(r->m), ncpu = buddy_nr_cpus(r->m);
	size_t cap_fb = 1024, cap_pcp = 256;

	memset(out, 0, sizeof(*out));
	out->which = TRACE_SNAP_START;
	out->method = TRACE_SNAP_MODULE;
	out->flags = TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
		     TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_PCP | TRACE_SNAPF_EXACT;
	out->event_seq = event_seq;
	out->pageblocks = calloc(nz ? nz : 1, sizeof(*out->pageblocks));
	out->free_blocks = malloc(cap_fb * sizeof(*out->free_blocks));
	out->pcp_pages = malloc(cap_pcp * sizeof(*out->pcp_pages));
	if (!out->pageblocks || !out->free_blocks || !out->pcp_pages)
		goto nomem;
	for (unsigned z = 0; z < nz; z++) {
		struct buddy_zone_stats st;
		struct trace_pageblocks *pb = &out->pageblocks[out->nr_pageblock_zones];
		uint16_t tz = (uint16_t)r->model_to_trace[z];

		if (buddy_zone_stats(r->m, (int)z, &st))
			continue;
		pb->zone = tz;
		pb->first_pfn = st.start_pfn & ~((1ULL << r->pbo) - 1);
		pb->nr = st.end_pfn > pb->first_pfn ? ((st.end_pfn - 1 - pb->first_pfn) >> r->pbo) + 1 : 0;
		pb->types = malloc(pb->nr ? pb->nr : 1);
		if (!pb->types)
			goto nomem;
		out->nr_pageblock_zones++;
		for (uint64_t i = 0; i < pb->nr; i++) {
			int role = buddy_pageblock_type(r->m, pb->first_pfn + (i << r->pbo));
			int k = role >= 0 ? buddy_mt_to_kernel(r->m, role) : -1;

			pb->types[i] = k >= 0 ? (uint8_t)k : TRACE_PB_NONE;
		}
		for (unsigned o = 0; o < r->nr_orders; o++)
			for (int mt = 0; mt < BUDDY_MT_NR; mt++) {
				int k = buddy_mt_to_kernel(r->m, mt);

				if (k < 0)
					continue;
				for (uint64_t p = buddy_free_list_first(r->m, (int)z, o, mt); p != BUDDY_PFN_NONE;
				     p = buddy_free_list_next(r->m, p)) {
					if (out->nr_free_blocks == cap_fb) {
						struct trace_free_block *n;

						cap_fb *= 2;
						n = realloc(out->free_blocks, cap_fb * sizeof(*n));
						if (!n)
							goto nomem;
						out->free_blocks = n;
					}
					out->free_blocks[out->nr_free_blocks++] = (struct trace_free_block){
						.pfn = p, .zone = tz, .order = (uint8_t)o, .mt = (int8_t)k };
				}
			}
		for (unsigned c = 0; c < ncpu; c++)
			for (unsigned pi = 0; pi < npl; pi++)
				for (uint64_t p = buddy_pcp_list_first(r->m, (int)z, c, pi); p != BUDDY_PFN_NONE;
				     p = buddy_pcp_list_next(r->m, p)) {
					struct buddy_pfn_info info;

					if (out->nr_pcp_pages == cap_pcp) {
						struct trace_pcp_page *n;

						cap_pcp *= 2;
						n = realloc(out->pcp_pages, cap_pcp * sizeof(*n));
						if (!n)
							goto nomem;
						out->pcp_pages = n;
					}
					buddy_pfn_info(r->m, p, &info);
					out->pcp_pages[out->nr_pcp_pages++] = (struct trace_pcp_page){
						.pfn = p, .cpu = c, .zone = tz, .order = (uint8_t)info.order,
						.pindex = (uint8_t)pi };
				}
	}
	(void)h;
	return 0;
nomem:
	trace_snapshot_release(out);
	return -ENOMEM;
}

int replay_save_aux(const struct replay *r, void **buf, size_t *len)
{
	uint64_t nw = r->seen_bits ? (r->nr_pfns + 63) / 64 : 0, runs = 0;
	size_t cap, off = 0;
	uint8_t *b;

	for (uint64_t i = 0; i < nw; i++)
		if (!i || r->seen_bits[i] != r->seen_bits[i - 1])
			runs++;
	cap = 4 + (size_t)r->nr_cpus * sizeof(struct cpu_state) + 8 + runs * 16;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	memcpy(b, &r->nr_cpus, 4);
	off = 4;
	memcpy(b + off, r->cpus, (size_t)r->nr_cpus * sizeof(struct cpu_state));
	off += (size_t)r->nr_cpus * sizeof(struct cpu_state);
	memcpy(b + off, &runs, 8);
	off += 8;
	for (uint64_t i = 0; i < nw;) {	/* runs of equal words: (count, word) */
		uint64_t j = i + 1;

		while (j < nw && r->seen_bits[j] == r->seen_bits[i])
			j++;
		uint64_t n = j - i;

		memcpy(b + off, &n, 8);
		memcpy(b + off + 8, &r->seen_bits[i], 8);
		off += 16;
		i = j;
	}
	*buf = b;
	*len = off;
	return 0;
}

int replay_restore_aux(struct replay *r, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t nc;
	uint64_t runs, w = 0, nw = r->seen_bits ? (r->nr_pfns + 63) / 64 : 0;
	size_t off = 4;

	if (len < 4)
		return -EINVAL;
	memcpy(&nc, b, 4);
	if (len < 4 + (size_t)nc * sizeof(struct cpu_state) + 8 || !cpu_of(r, nc ? nc - 1 : 0))
		return -EINVAL;
	memcpy(r->cpus, b + off, (size_t)nc * sizeof(struct cpu_state));
	off += (size_t)nc * sizeof(struct cpu_state);
	memcpy(&runs, b + off, 8);
	off += 8;
	if (len < off + runs * 16)
		return -EINVAL;
	for (uint64_t i = 0; i < runs; i++, off += 16) {
		uint64_t n, word;

		memcpy(&n, b + off, 8);
		memcpy(&word, b + off + 8, 8);
		for (uint64_t k = 0; k < n && w < nw; k++)
			r->seen_bits[w++] = word;
	}
	return 0;
}

void replay_set_take_cb(struct replay *r, void (*cb)(void *ctx, const struct replay_take_record *t), void *ctx)
{
	r->take_cb = cb;
	r->take_ctx = ctx;
}

void replay_set_sample_cb(struct replay *r, int (*cb)(void *ctx, const struct replay_sample *s), void *ctx)
{
	r->sample_cb = cb;
	r->sample_ctx = ctx;
}

/* ---- lookahead window ------------------------------------------------------------------------- */

static struct slot *win_at(struct replay *r, unsigned i)	/* i = 0: the event being applied */
{
	return &r->win[(r->win_head + i) & (WINDOW - 1)];
}

/* Iterates the CPU's next events in the window (after the one being applied). */
struct cursor {
	unsigned i, seen;
	uint32_t cpu;
};

static struct slot *cursor_next(struct replay *r, struct cursor *c)
{
	while (++c->i < r->win_nr) {
		struct slot *s = win_at(r, c->i);

		if (s->ev.cpu != c->cpu || s->consumed)
			continue;
		if (++c->seen > LOOKAHEAD_CPU)
			return NULL;
		return s;
	}
	return NULL;
}

static struct slot *next_on_cpu(struct replay *r, uint32_t cpu)
{
	struct cursor c = { .i = 0, .cpu = cpu };

	return cursor_next(r, &c);
}

static bool is_take_event(const struct trace_event *ev)
{
	return ev->kind == TEV_PAGE_ALLOC_ZONE_LOCKED || ev->kind == TEV_PAGE_ALLOC_EXTFRAG;
}

/* ---- scoring ---------------------------------------------------------------------------------- */

static enum replay_path path_of_take(const struct buddy_take *t)
{
	switch (t->path) {
	case BUDDY_PATH_NORMAL:
		return RP_NORMAL;
	case BUDDY_PATH_HIGHATOMIC:
		return RP_HIGHATOMIC;
	case BUDDY_PATH_CLAIM:
		return RP_CLAIM;
	case BUDDY_PATH_STEAL:
		return RP_STEAL;
	default:
		return RP_NONE;
	}
}

struct ktake {			/* what the kernel did in one take */
	enum replay_path path;
	uint64_t pfn;		/* page taken */
	unsigned order;
	int fb_mt;		/* role, BUDDY_MT_NONE if no fallback */
	unsigned fb_order;
	int own;		/* -1 if no extfrag */
	int start;		/* requested type (role) */
};

static void score(struct replay *r, const struct buddy_take *pred, bool pred_ok, const struct ktake *k)
{
	struct replay_take_record t;

	enum replay_path mp = pred_ok ? path_of_take(pred) : RP_NONE;
	bool place = pred_ok && pred->pfn == k->pfn;
	bool decide = pred_ok && mp == k->path;

	/* a take inside the unlocked start snapshot's walk: the walk may have seen the lists
	 * before or after it, so the model's state is not defined there; followed, not scored */
	if (r->cur && r->cur->ts_ns <= r->snap_end_ts) {
		r->res.takes_in_start_walk++;
		return;
	}
	if (decide && (k->path == RP_CLAIM || k->path == RP_STEAL))
		decide = pred->fallback_mt == k->fb_mt && pred->found_order == k->fb_order &&
			 pred->change_ownership == k->own;
	r->res.takes++;
	r->res.paths[k->path][mp]++;
	if (r->take_cb) {
		memset(&t, 0, sizeof(t));
		t.seq = r->cur ? r->cur->seq : 0;
		t.ts_ns = r->cur ? r->cur->ts_ns : 0;
		t.cpu = r->cur ? r->cur->cpu : 0;
		t.zone = buddy_zone_of(r->m, k->pfn);
		t.order = k->order;
		t.start_mt = k->start >= 0 ? buddy_mt_to_kernel(r->m, k->start) : -1;
		t.k_path = k->path;
		t.k_pfn = k->pfn;
		t.k_fb_mt = k->fb_mt >= 0 ? buddy_mt_to_kernel(r->m, k->fb_mt) : -1;
		t.k_fb_order = k->fb_order;
		t.k_own = k->own;
		t.m_ok = pred_ok;
		t.m_path = mp;
		t.m_pfn = pred_ok ? pred->pfn : UINT64_MAX;
		t.m_fb_mt = pred_ok && pred->fallback_mt >= 0 ? buddy_mt_to_kernel(r->m, pred->fallback_mt) : -1;
		t.m_fb_order = pred_ok ? pred->found_order : 0;
		t.m_own = pred_ok ? pred->change_ownership : -1;
		t.placement_agree = place;
		t.decision_agree = decide;
		r->take_cb(r->take_ctx, &t);
	}
	if (place)
		r->res.placement_agree++;
	if (decide)
		r->res.decision_agree++;
	if (!place || !decide)
		logf_entry(r, -1, k->pfn, (int)k->order,
			   "take: kernel %s pfn 0x%" PRIx64 " (fallback %s order %u own %d), model %s pfn 0x%" PRIx64
			   " (fallback %s order %u own %d)", replay_path_name(k->path), k->pfn,
			   k->fb_mt >= 0 ? buddy_mt_name(k->fb_mt) : "-", k->fb_order, k->own,
			   replay_path_name(mp), pred_ok ? pred->pfn : UINT64_MAX,
			   pred_ok && pred->fallback_mt >= 0 ? buddy_mt_name(pred->fallback_mt) : "-",
			   pred_ok ? pred->found_order : 0, pred_ok ? pred->change_ownership : -1);
}

/* ---- applying takes ----------------------------------------------------------------------------- */

/* The run (rmqueue_bulk refill or one rmqueue_buddy) that ev opens on its CPU: its takes are
 * the zone_locked events (in 6.1 every take ends with one, fallbacks included), plus in 6.10+
 * the extfrag events not right after the zone_locked of the same page (steals, whole-block
 * claims); the run ends at the CPU's first other event. */
static void open_run(struct replay *r, struct cpu_state *cs, const struct trace_event *ev)
{
	unsigned takes = 0;
	struct slot *term = NULL, *s;
	uint64_t first_pfn = TRACE_PFN_NONE, prev_zl = TRACE_PFN_NONE;
	const struct trace_event *e = ev;
	struct cursor c = { .i = 0, .cpu = ev->cpu };
	bool v61 = r->prof.fallback == BUDDY_FB_61;

	for (;;) {
		if (e->kind == TEV_PAGE_ALLOC_ZONE_LOCKED) {
			takes++;
			if (first_pfn == TRACE_PFN_NONE)
				first_pfn = e->pfn;
			prev_zl = e->pfn;
		} else {
			if (!v61 && e->pfn != prev_zl) {
				takes++;
				if (first_pfn == TRACE_PFN_NONE)
					first_pfn = e->pfn;
			}
			prev_zl = TRACE_PFN_NONE;
		}
		s = cursor_next(r, &c);
		if (!s)
			break;
		e = &s->ev;
		if (!is_take_event(e)) {
			term = s;
			break;
		}
	}
	cs->run_open = true;
	cs->ctx.mode = 0;
	cs->run_start = BUDDY_MT_NONE;
	if (term && term->ev.kind == TEV_PAGE_ALLOC && term->ev.pfn != TRACE_PFN_NONE)
		cs->run_start = role_of(r, term->ev.mt);
	/* direct: one take followed by the allocation of that page, or any order without pcp lists */
	cs->run_refill = pcp_allowed(r, ev->order) &&
			 !(takes <= 1 && term && term->ev.kind == TEV_PAGE_ALLOC && term->ev.pfn == first_pfn);
}

static void close_run(struct replay *r, struct cpu_state *cs)
{
	if (cs->fb_pending) {
		cs->fb_pending = false;
		r->res.resyncs[RC_FALLBACK]++;
		logf_entry(r, RC_FALLBACK, 0, -1, "6.1 extfrag with no zone_locked retry");
	}
	cs->run_open = false;
}

static uint32_t take_flags(int list_role)
{
	uint32_t f = BUDDY_ALLOC_WMARK_LOW;

	/* slowpath state is invisible: a take from the HIGHATOMIC list says the request had
	 * ALLOC_HIGHATOMIC (or the OOM/NON_BLOCK retry) */
	if (list_role == BUDDY_MT_HIGHATOMIC)
		f = BUDDY_ALLOC_WMARK_MIN | BUDDY_ALLOC_HIGHATOMIC | BUDDY_ALLOC_NON_BLOCK;
	return f;
}

static void predict(struct replay *r, struct cpu_state *cs, int zone, unsigned order, int start,
		    uint32_t flags, struct buddy_take *pred, bool *ok)
{
	int err;

	/* the fields; events[] is only read below nr_events (8 events: clearing them cost more
	 * than the prediction) */
	memset(pred, 0, offsetof(struct buddy_take, events));
	if (start < 0 || start >= BUDDY_MT_PCPTYPES) {
		*ok = false;
		return;
	}
	err = buddy_predict_rmqueue(r->m, zone, order, start, flags,
				    cs->run_refill ? BUDDY_RMQ_REFILL : BUDDY_RMQ_BUDDY, &cs->ctx, pred);
	*ok = !err;
}

/* Puts a taken page where the run sends it: this CPU's pcp list (refill) or allocated. */
static void after_take(struct replay *r, struct cpu_state *cs, const struct trace_event *ev, uint64_t pfn,
		       unsigned order, int start, int list_role)
{
	mark_seen(r, pfn);
	set_owner(r, pfn, order, start);
	if (cs->run_refill) {
		cs->in_refill = true;
		int err = buddy_pcp_add(r->m, ev->cpu, pfn, order, start >= 0 ? start : list_role, true,
					r->prof.pcppage_mt_cache ? list_role : BUDDY_MT_NONE);

		if (err)
			resync(r, RC_PCP, pfn, (int)order, "refill pcp add");
	} else {
		cs->last_direct_pfn = pfn;
	}
}

/* Take [pfn, 2^order) off list_role as the kernel did; repair what the model cannot explain. */
static void take_block(struct replay *r, const struct trace_event *ev, uint64_t pfn, unsigned order,
		       int list_role, int rem_role, int owner)
{
	struct buddy_pfn_info info;
	unsigned fo;
	enum replay_cause c;

	if (!buddy_take_block(r->m, pfn, order, list_role, rem_role, owner, &fo))
		return;
	if (buddy_pfn_info(r->m, pfn, &info)) {
		resync(r, RC_OUTSIDE, pfn, (int)order, "take");
		return;
	}
	switch (info.state) {
	case BUDDY_PFN_FREE_HEAD:
		if (info.order >= order && !buddy_take_block(r->m, pfn, order, BUDDY_MT_ANY, rem_role, owner, &fo)) {
			resync(r, RC_LIST, pfn, (int)order, "take from another list");
			return;
		}
		c = RC_SPLIT;
		break;
	case BUDDY_PFN_FREE_TAIL:
		c = RC_SPLIT;
		break;
	case BUDDY_PFN_PCP_HEAD:
	case BUDDY_PFN_PCP_TAIL:
		/* on the model's pcp list since its free, yet in the kernel's buddy: that free had
		 * bypassed the pcp, unless a drain event is missing */
		c = freed_last(r, pfn) ? (r->has_losses ? RC_LOST : RC_PCP_BYPASS) : RC_PCP;
		break;
	case BUDDY_PFN_ALLOCATED:
		if (silent_del(r, pfn))
			c = RC_PCP_BYPASS;	/* taken off a pcp list as silently allocated, but it was free */
		else if (r->compact_end && pfn >= r->compact_start && pfn < r->compact_end)
			c = RC_COMPACTION;
		else
			c = !was_seen(r, pfn) ? RC_UNTRACED_FREE : r->has_losses ? RC_LOST : RC_ALLOCATED;
		break;
	default:
		c = RC_OUTSIDE;
		break;
	}
	resync(r, c, pfn, (int)order, "take");
	if (c != RC_OUTSIDE && buddy_resync_allocated(r->m, pfn, order, owner, NULL))
		resync(r, RC_OUTSIDE, pfn, (int)order, "take repair");
	(void)ev;
}

/* The free block of order fo on list fb inside pfn's pageblock(s): what the kernel found. */
static uint64_t find_found_block(struct replay *r, uint64_t pfn, unsigned fo, int fb)
{
	unsigned span = fo > r->pbo ? fo : r->pbo;
	uint64_t start = pfn & ~((1ULL << span) - 1), end = start + (1ULL << span);
	struct buddy_pfn_info info;

	for (uint64_t p = start; p < end; p += 1ULL << fo)
		if (!buddy_pfn_info(r->m, p, &info) && info.state == BUDDY_PFN_FREE_HEAD && info.order == fo &&
		    info.mt == fb)
			return p;
	return BUDDY_PFN_NONE;
}

/* A normal or HIGHATOMIC take: zone_locked with no extfrag. */
#define LIST_ORDER_MAX 64

/*
 * The kernel took the head of its (zone, order, list) free list; the model holds the block on
 * that same list, but with other blocks ahead of it. Left there, the first of them would be
 * every later prediction from the list until the kernel happens to take it, so one misplaced
 * block (typically a page the kernel had merged with a buddy the model still holds on a pcp
 * list: an interrupt's free whose pcp trylock failed, which no event shows) turns hundreds of
 * takes into disagreements. The kernel's list has them behind: they go to the tail, in their
 * order, each counted. Only for up to LIST_ORDER_MAX blocks ahead.
 */
static void fix_list_order(struct replay *r, int zone, const struct trace_event *ev, int list)
{
	struct buddy_pfn_info info;
	uint64_t ahead[LIST_ORDER_MAX], p;
	unsigned n = 0;

	if (buddy_pfn_info(r->m, ev->pfn, &info) || info.state != BUDDY_PFN_FREE_HEAD || info.head != ev->pfn ||
	    info.order != ev->order || info.mt != list)
		return;
	for (p = buddy_free_list_first(r->m, zone, ev->order, list); p != BUDDY_PFN_NONE && p != ev->pfn;
	     p = buddy_free_list_next(r->m, p)) {
		if (n == LIST_ORDER_MAX)
			return;
		ahead[n++] = p;
	}
	if (p != ev->pfn)
		return;
	for (unsigned i = 0; i < n; i++) {
		resync_engine(r, RC_LIST_ORDER, ahead[i], (int)ev->order,
			      "free block ahead of the one the kernel took from the list head");
		buddy_resync_free(r->m, ahead[i], ev->order, list, true);
	}
}

static void apply_zone_locked(struct replay *r, struct cpu_state *cs, const struct trace_event *ev)
{
	int list = role_of(r, ev->mt);
	int start = list < BUDDY_MT_PCPTYPES ? list : (cs->run_start >= 0 ? cs->run_start : BUDDY_MT_MOVABLE);
	int zone = buddy_zone_of(r->m, ev->pfn);
	struct buddy_take pred;
	bool ok;
	struct ktake k = { .start = start, .pfn = ev->pfn, .order = ev->order, .fb_mt = BUDDY_MT_NONE, .own = -1,
			   .path = list == BUDDY_MT_HIGHATOMIC ? RP_HIGHATOMIC : RP_NORMAL };

	if (zone < 0) {
		resync(r, RC_OUTSIDE, ev->pfn, ev->order, "zone_locked");
		return;
	}
	if (cs->fb_pending) {	/* 6.1: the retry after the fallback moves */
		cs->fb_pending = false;
		k.path = cs->fb_path;
		k.fb_mt = cs->fb_mt;
		k.fb_order = cs->fb_order;
		k.own = cs->fb_own;
		start = list;
		score(r, &cs->fb_pred, cs->fb_pred_ok, &k);
	} else {
		predict(r, cs, zone, ev->order, start, take_flags(list), &pred, &ok);
		score(r, &pred, ok, &k);
		if (ok && pred.pfn != ev->pfn && list >= 0)
			fix_list_order(r, zone, ev, list);
	}
	take_block(r, ev, ev->pfn, ev->order, list, list, start);
	after_take(r, cs, ev, ev->pfn, ev->order, start, list);
}

static void set_blocks_type(struct replay *r, uint64_t pfn, unsigned order, int mt)
{
	uint64_t n = order > r->pbo ? 1ULL << (order - r->pbo) : 1;
	uint64_t b = pfn & ~((1ULL << r->pbo) - 1);

	for (uint64_t i = 0; i < n; i++)
		buddy_set_pageblock_type(r->m, b + (i << r->pbo), mt);
}

/* 6.10+ claim below pageblock order: zone_locked(page, start) then extfrag(page, own=1). */
static void apply_claim_610(struct replay *r, struct cpu_state *cs, const struct trace_event *zl,
			    const struct trace_event *xf)
{
	int start = role_of(r, xf->mt), fb = role_of(r, xf->fallback_mt);
	int zone = buddy_zone_of(r->m, zl->pfn);
	struct buddy_take pred;
	bool ok;
	struct ktake k = { .start = start, .path = RP_CLAIM, .pfn = zl->pfn, .order = zl->order, .fb_mt = fb,
			   .fb_order = xf->fallback_order, .own = !!(xf->flags & TEVF_CHANGE_OWNERSHIP) };
	uint64_t found;

	if (zone < 0) {
		resync(r, RC_OUTSIDE, zl->pfn, zl->order, "claim");
		return;
	}
	predict(r, cs, zone, zl->order, start, take_flags(start), &pred, &ok);
	score(r, &pred, ok, &k);
	found = find_found_block(r, zl->pfn, xf->fallback_order, fb);
	if (found == BUDDY_PFN_NONE) {
		r->res.resyncs[RC_FALLBACK]++;
		logf_entry(r, RC_FALLBACK, zl->pfn, zl->order, "claim: no order-%u %s block in the pageblock",
			   xf->fallback_order, buddy_mt_name(fb));
	}
	/* try_to_claim_block(): the block's free pages move to start's lists (tail), retype */
	buddy_move_freepages_block(r->m, zl->pfn, fb, start, BUDDY_MOVE_PROFILE, NULL, NULL);
	buddy_set_pageblock_type(r->m, zl->pfn, start);
	take_block(r, zl, zl->pfn, zl->order, start, start, start);
	after_take(r, cs, zl, zl->pfn, zl->order, start, start);
	cs->ctx.mode = 0;	/* a claim leaves rmqueue_mode NORMAL */
}

/* 6.10+ extfrag alone: a steal, or a claim at or above pageblock order. */
static void apply_extfrag_610(struct replay *r, struct cpu_state *cs, const struct trace_event *xf)
{
	int start = role_of(r, xf->mt), fb = role_of(r, xf->fallback_mt);
	int zone = buddy_zone_of(r->m, xf->pfn);
	bool own = xf->flags & TEVF_CHANGE_OWNERSHIP;
	bool whole = own && xf->fallback_order >= r->pbo;
	struct buddy_take pred;
	bool ok;
	struct ktake k = { .start = start, .path = whole ? RP_CLAIM : RP_STEAL, .pfn = xf->pfn, .order = xf->order, .fb_mt = fb,
			   .fb_order = xf->fallback_order, .own = own };

	if (zone < 0) {
		resync(r, RC_OUTSIDE, xf->pfn, xf->order, "extfrag");
		return;
	}
	predict(r, cs, zone, xf->order, start, take_flags(start), &pred, &ok);
	score(r, &pred, ok, &k);
	if (whole) {
		/* del from fb's list, change_pageblock_range(start), expand onto start's lists */
		take_block(r, xf, xf->pfn, xf->order, fb, start, start);
		set_blocks_type(r, xf->pfn, xf->fallback_order, start);
		cs->ctx.mode = 0;
	} else {
		/* __rmqueue_steal(): page_del_and_expand(..., fb); remainders stay on fb's lists */
		take_block(r, xf, xf->pfn, xf->order, fb,
			   r->prof.fallback == BUDDY_FB_612E ? BUDDY_MT_ANY : fb, start);
		if (ok && pred.path == BUDDY_PATH_STEAL)
			cs->ctx.mode = pred.ctx_mode_after;
		else
			cs->ctx.mode = 3;	/* RMQUEUE_STEAL in the kernel's enum order */
	}
	after_take(r, cs, xf, xf->pfn, xf->order, start, fb);
}

/* 6.1 extfrag: steal_suitable_fallback moved (and maybe retyped); the take is the next zone_locked. */
static void apply_extfrag_61(struct replay *r, struct cpu_state *cs, const struct trace_event *xf)
{
	int start = role_of(r, xf->mt), fb = role_of(r, xf->fallback_mt);
	int zone = buddy_zone_of(r->m, xf->pfn);
	bool own = xf->flags & TEVF_CHANGE_OWNERSHIP;
	struct buddy_take t;
	int err;

	if (zone < 0) {
		resync(r, RC_OUTSIDE, xf->pfn, xf->order, "extfrag");
		return;
	}
	predict(r, cs, zone, xf->order, start, take_flags(start), &cs->fb_pred, &cs->fb_pred_ok);
	cs->fb_pending = true;
	cs->fb_path = own ? RP_CLAIM : RP_STEAL;
	cs->fb_mt = fb;
	cs->fb_order = xf->fallback_order;
	cs->fb_own = own;
	err = buddy_apply_fallback(r->m, xf->pfn, xf->fallback_order, xf->order, start, fb, take_flags(start),
				   own, &t);
	if (err) {
		r->res.resyncs[RC_FALLBACK]++;
		logf_entry(r, RC_FALLBACK, xf->pfn, xf->order, "6.1 fallback: %s", buddy_last_error(r->m));
		/* force the found block onto start's list so that the retry can find it */
		buddy_resync_free(r->m, xf->pfn, xf->fallback_order, start, true);
		if (own)
			set_blocks_type(r, xf->pfn, xf->fallback_order, start);
	}
}

static void on_take_event(struct replay *r, struct slot *sl)
{
	const struct trace_event *ev = &sl->ev;
	struct cpu_state *cs = cpu_of(r, ev->cpu);

	if (!cs)
		return;
	cs->batch_pending = 0;
	cs->in_loop2 = false;
	if (!cs->run_open)
		open_run(r, cs, ev);
	if (ev->kind == TEV_PAGE_ALLOC_ZONE_LOCKED) {
		if (r->prof.fallback != BUDDY_FB_61 && !cs->fb_pending) {
			struct slot *nx = next_on_cpu(r, ev->cpu);

			if (nx && nx->ev.kind == TEV_PAGE_ALLOC_EXTFRAG && nx->ev.pfn == ev->pfn) {
				nx->consumed = true;
				apply_claim_610(r, cs, ev, &nx->ev);
				return;
			}
		}
		apply_zone_locked(r, cs, ev);
	} else if (r->prof.fallback == BUDDY_FB_61) {
		apply_extfrag_61(r, cs, ev);
	} else {
		apply_extfrag_610(r, cs, ev);
	}
}

/* ---- allocations and frees ---------------------------------------------------------------------- */

/* Every page in ahead[] was freed onto this CPU's pcp after its previous allocation event. */
static bool recently_pushed(struct replay *r, const struct cpu_state *cs, const uint64_t *ahead, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool found = false;

		for (unsigned k = 0; k < PUSHED_RING && k < cs->pushed_head; k++) {
			unsigned at = (cs->pushed_head - 1 - k) % PUSHED_RING;

			if (cs->pushed[at] == ahead[i]) {
				found = cs->pushed_seq[at] > cs->last_alloc_seq;
				break;
			}
		}
		if (!found)
			return false;
	}
	(void)r;
	return true;
}

/*
 * __free_frozen_pages() traces mm_page_free before it takes the pcp lock: an interrupt in
 * between (an RCU callback freeing page tables or slab pages) frees onto the same list first,
 * and the interrupted free's page lands above them. The model, which pushes in trace order,
 * then holds that page just below the interrupt's pages: ahead[] (head first) are exactly the
 * pages this CPU pushed right after pfn, in reverse. True if so.
 */
static bool nested_after(const struct cpu_state *cs, uint64_t pfn, const uint64_t *ahead, unsigned n)
{
	unsigned back = cs->pushed_head < PUSHED_RING ? cs->pushed_head : PUSHED_RING;

	for (unsigned k = n + 1; k <= back; k++) {	/* pfn pushed k pushes ago */
		unsigned at = (cs->pushed_head - k) % PUSHED_RING;

		if (cs->pushed[at] != pfn)
			continue;
		for (unsigned i = 0; i < n; i++)	/* ahead[i] pushed n - i pushes after pfn */
			if (cs->pushed[(cs->pushed_head - k + n - i) % PUSHED_RING] != ahead[i])
				return false;
		return true;
	}
	return false;
}

/* The pages' next events in the lookahead window show them still on a pcp list (allocated or
 * drained, none freed first, which would mean the bulk allocator took them), for at least one. */
static bool still_on_pcp(struct replay *r, const uint64_t *pfns, unsigned n)
{
	unsigned confirmed = 0;

	for (unsigned k = 0; k < n; k++)
		for (unsigned i = 1; i < r->win_nr; i++) {
			const struct trace_event *e = &win_at(r, i)->ev;

			if (e->pfn != pfns[k] || e->kind == TEV_PAGE_FREE_BATCHED || e->kind == TEV_MARKER)
				continue;
			if (e->kind == TEV_PAGE_ALLOC || e->kind == TEV_PAGE_PCPU_DRAIN)
				confirmed++;
			else
				return false;
			break;
		}
	return confirmed > 0;
}

static void on_page_alloc(struct replay *r, const struct trace_event *ev)
{
	struct cpu_state *cs = cpu_of(r, ev->cpu);
	struct buddy_pfn_info info;
	int owner = role_of(r, ev->mt);

	if (!cs)
		return;
	cs->batch_pending = 0;
	cs->in_loop2 = false;
	cs->in_refill = false;
	if (cs->run_open)
		close_run(r, cs);
	if (ev->pfn == TRACE_PFN_NONE) {
		r->res.alloc_failures++;
		return;
	}
	if (buddy_pcp_take_head(r->m, ev->cpu, ev->pfn, ev->order, owner)) {
		/* the usual case: the head of this CPU's list, as the model has it */
		r->res.pcp_allocs++;
		r->res.pcp_agree++;
		goto taken;
	}
	if (buddy_pfn_info(r->m, ev->pfn, &info)) {
		resync(r, RC_OUTSIDE, ev->pfn, ev->order, "mm_page_alloc");
		return;
	}
	switch (info.state) {
	case BUDDY_PFN_ALLOCATED:
		if (cs->last_direct_pfn != ev->pfn) {
			/* a page the snapshot missed on a pcp list, or a model error */
			resync(r, !was_seen(r, ev->pfn) ? RC_SNAPSHOT_PCP : r->has_losses ? RC_LOST : RC_FREE_MISSING,
			       ev->pfn, ev->order, "mm_page_alloc of an allocated page");
		}
		break;
	case BUDDY_PFN_PCP_HEAD: {
		int pidx_req = buddy_pcp_pindex(r->m, ev->order, owner);
		int pidx = buddy_pcp_pindex(r->m, info.order, info.mt);
		uint64_t ahead[64];
		unsigned pos = 0, nahead = 0;
		uint64_t p = BUDDY_PFN_NONE;

		/* the kernel takes the head: pages ahead of this one left the list with no event
		 * (the bulk allocator, or lost events) */
		if (pidx >= 0 && info.cpu >= 0)
			for (p = buddy_pcp_list_first(r->m, info.zone, (unsigned)info.cpu, (unsigned)pidx);
			     p != BUDDY_PFN_NONE && p != ev->pfn; p = buddy_pcp_list_next(r->m, p)) {
				if (nahead < 64)
					ahead[nahead++] = p;
				pos++;
			}
		r->res.pcp_allocs++;
		if (p == ev->pfn && pos == 0 && info.cpu == (int)ev->cpu && pidx == pidx_req)
			r->res.pcp_agree++;
		else if (info.cpu != (int)ev->cpu)
			r->res.pcp_other_cpu++;
		/* mm_page_alloc fires at the end of __alloc_pages, after prep_new_page: frees on the
		 * same CPU (softirq, RCU callbacks) can come between the pcp take and the event, and
		 * push pages above the taken one. Pages ahead that were all pushed by this CPU's
		 * latest frees are such a reordering, not silent allocations. */
		if (p == ev->pfn && pos > 0 && pos <= 64 && info.cpu == (int)ev->cpu && recently_pushed(r, cs, ahead, nahead)) {
			r->res.pcp_reordered++;
			r->res.pcp_agree++;
		} else if (p == ev->pfn && pos > 0 && pos < PUSHED_RING && info.cpu == (int)ev->cpu &&
			   nested_after(cs, ev->pfn, ahead, nahead) && still_on_pcp(r, ahead, nahead)) {
			/* the pages ahead stay: the kernel has them below this one */
			resync_engine(r, RC_PCP_NESTED, ev->pfn, ev->order,
				      "pcp allocation of a page freed before an interrupt's frees");
		} else if (p == ev->pfn && pos > 0 && pos <= 64) {
			for (unsigned i = 0; i < nahead; i++) {
				struct buddy_pfn_info ai;

				if (buddy_pfn_info(r->m, ahead[i], &ai))
					continue;
				resync_engine(r, RC_PCP_SILENT, ahead[i], (int)ai.order, "pcp page ahead of the allocated one");
				buddy_pcp_remove(r->m, info.cpu, ahead[i], ai.order, BUDDY_MT_NONE, NULL, NULL);
				silent_put(r, ahead[i]);
			}
		}
		if (buddy_pcp_remove(r->m, info.cpu, ev->pfn, info.order, owner, NULL, NULL)) {
			resync(r, RC_PCP, ev->pfn, ev->order, "pcp allocation");
			buddy_resync_allocated(r->m, ev->pfn, ev->order, owner, NULL);
		}
		break;
	}
	case BUDDY_PFN_FREE_HEAD:
	case BUDDY_PFN_FREE_TAIL:
		resync(r, RC_CAPTURE, ev->pfn, ev->order, "mm_page_alloc of a free block");
		buddy_resync_allocated(r->m, ev->pfn, ev->order, owner, NULL);
		break;
	case BUDDY_PFN_PCP_TAIL:
		resync(r, RC_PCP, ev->pfn, ev->order, "mm_page_alloc inside a pcp block");
		buddy_resync_allocated(r->m, ev->pfn, ev->order, owner, NULL);
		break;
	default:
		resync(r, RC_OUTSIDE, ev->pfn, ev->order, "mm_page_alloc");
		return;
	}
taken:
	cs->last_direct_pfn = TRACE_PFN_NONE;
	cs->last_alloc_seq = ev->seq;
	silent_del(r, ev->pfn);
	mark_seen(r, ev->pfn);
	set_owner(r, ev->pfn, ev->order, owner);
}

/* Makes [pfn, 2^order) allocated if the model holds it otherwise, counting why. */
static bool ensure_allocated(struct replay *r, uint64_t pfn, unsigned order, const char *what)
{
	struct buddy_pfn_info info;
	enum replay_cause c;

	if (buddy_pfn_info(r->m, pfn, &info) || info.state == BUDDY_PFN_OUTSIDE || info.state == BUDDY_PFN_HOLE) {
		resync(r, RC_OUTSIDE, pfn, (int)order, what);
		return false;
	}
	if (info.state == BUDDY_PFN_ALLOCATED)
		return true;
	switch (info.state) {
	case BUDDY_PFN_FREE_HEAD:
	case BUDDY_PFN_FREE_TAIL:
		c = RC_COMPACTION;
		break;
	default:
		c = RC_BULK_ALLOC;
		break;
	}
	resync(r, c, pfn, (int)order, what);
	buddy_resync_allocated(r->m, pfn, order, BUDDY_MT_NONE, NULL);
	return true;
}

static void free_direct(struct replay *r, uint64_t pfn, unsigned order, unsigned fpi)
{
	int err;

	if (order > r->pbo && r->prof.split_large_buddy) {
		/* split_large_buddy(): pageblock-sized pieces, each with its own block type */
		for (uint64_t p = pfn; p < pfn + (1ULL << order); p += 1ULL << r->pbo) {
			err = buddy_free_block(r->m, p, r->pbo, BUDDY_MT_ANY, fpi);
			if (err)
				resync(r, RC_ALLOCATED, p, (int)r->pbo, "direct free");
		}
		return;
	}
	err = buddy_free_block(r->m, pfn, order, BUDDY_MT_ANY, fpi);
	if (err)
		resync(r, RC_ALLOCATED, pfn, (int)order, "direct free");
}

/* bt: the pageblock type of pfn */
static void pcp_free(struct replay *r, uint32_t cpu, uint64_t pfn, unsigned order, int bt)
{
	int list = bt >= BUDDY_MT_PCPTYPES ? BUDDY_MT_MOVABLE : bt;
	struct cpu_state *cs = cpu_of(r, cpu);

	if (cs) {
		cs->pushed[cs->pushed_head % PUSHED_RING] = pfn;
		cs->pushed_seq[cs->pushed_head % PUSHED_RING] = r->cur ? r->cur->seq : 0;
		cs->pushed_head++;
		cs->pcp_free_seq1 = r->cur ? r->cur->seq + 1 : 0;
		cs->pcp_free_order = order;
		cs->pcp_free_list = list;
	}

	if (cpu >= buddy_nr_cpus(r->m) || buddy_pcp_add(r->m, cpu, pfn, order, list, false, bt)) {
		resync(r, RC_PCP, pfn, (int)order, "pcp free");
		free_direct(r, pfn, order, BUDDY_FPI_NONE);
	}
}

/*
 * 6.1 free_unref_page_commit(): while pcp->free_factor > 0, an order 1..PAGE_ALLOC_COSTLY_ORDER
 * free is "free_high": high is 0, so the commit drains the whole pcp at once, starting with the
 * list the page was just added to. A count-based drain (nr_pcp_free) raises free_factor when
 * high > 2 * batch and only a pcp allocation (rmqueue_pcplist) lowers it again; so after a
 * commit drained the zone's pcp on this CPU, with no allocation on it since, such a free is
 * always followed by a drain on this CPU. When the CPU's next page event is something else,
 * the page never reached the pcp: pcp_spin_trylock() failed and free_one_page() put it in the
 * buddy with no event. This is how a free from an interrupt looks (pcp locks leave interrupts
 * on): an RCU softirq freeing slab pages on the zone->lock irqrestore that ends a drain,
 * while the task that drained still holds the pcp lock (the 6.1 lab captures).
 */
static bool free_high_undrained(struct replay *r, const struct cpu_state *cs, const struct trace_event *ev)
{
	struct cursor c = { .i = 0, .cpu = ev->cpu };
	struct slot *n;

	if (r->prof.adaptive_pcp || !ev->order || ev->order >= r->pbo)
		return false;
	if (!cs->ff_zone1 || cs->ff_zone1 != buddy_zone_of(r->m, ev->pfn) + 1)
		return false;
	while ((n = cursor_next(r, &c)) && (n->ev.kind < TEV_PAGE_ALLOC || n->ev.kind >= TEV_NR_KERNEL_KINDS))
		;
	return n && n->ev.kind != TEV_PAGE_PCPU_DRAIN;
}

/* 6.1 (no adaptive pcp): on a drain, did a commit (the free just before it on this CPU, to the
 * same list) start it? */
static void note_commit_drain(struct replay *r, const struct trace_event *ev)
{
	struct cpu_state *cs = cpu_of(r, ev->cpu);
	struct buddy_pfn_info info;
	struct buddy_pcp_stats st;
	int z;

	if (!cs || !cs->pcp_free_seq1 || cs->prev_seq1 != cs->pcp_free_seq1)
		return;
	if (buddy_pfn_info(r->m, ev->pfn, &info) || info.state != BUDDY_PFN_PCP_HEAD ||
	    info.order != cs->pcp_free_order || info.mt != cs->pcp_free_list)
		return;
	z = buddy_zone_of(r->m, ev->pfn);
	if (z < 0 || buddy_pcp_stats(r->m, z, ev->cpu, &st) || st.high <= 2 * st.batch)
		return;
	cs->ff_zone1 = z + 1;
}

/* 6.1 (no adaptive pcp): after each kernel page event, this CPU's latest one; rmqueue_pcplist()
 * halves free_factor, so any allocation forgets a commit's drain */
static void note_free_factor(struct replay *r, const struct trace_event *ev)
{
	struct cpu_state *cs;

	if (ev->kind < TEV_PAGE_ALLOC || ev->kind >= TEV_NR_KERNEL_KINDS || !(cs = cpu_of(r, ev->cpu)))
		return;
	cs->prev_seq1 = ev->seq + 1;
	if (ev->kind == TEV_PAGE_ALLOC || is_take_event(ev))
		cs->ff_zone1 = 0;
}

static void on_page_free(struct replay *r, struct slot *sl)
{
	const struct trace_event *ev = &sl->ev;
	struct cpu_state *cs = cpu_of(r, ev->cpu);
	bool unseen = !was_seen(r, ev->pfn);
	int bt;

	if (!cs)
		return;
	if (cs->run_open)
		close_run(r, cs);
	bt = buddy_allocated_pb_type(r->m, ev->pfn, ev->order);	/* the usual case in one look-up */
	if (bt < 0 && !ensure_allocated(r, ev->pfn, ev->order, "mm_page_free"))
		return;
	silent_del(r, ev->pfn);
	mark_seen(r, ev->pfn);
	set_owner(r, ev->pfn, ev->order, BUDDY_MT_NONE);
	if (bt < 0)
		bt = buddy_pageblock_type(r->m, ev->pfn);
	if (unseen && pb_was_absent(r, ev->pfn)) {
		/* memory the start snapshot had not got yet: lazy init growing the zone (or
		 * hotplug) hands it over through __free_pages_core, straight to the tail of the
		 * buddy lists, never through the pcp */
		r->res.zone_growth_frees++;
		free_direct(r, ev->pfn, ev->order, BUDDY_FPI_TO_TAIL);
		return;
	}
	if (!pcp_allowed(r, ev->order) || bt == BUDDY_MT_ISOLATE) {
		/* __free_pages_core (boot, lazy init, hotplug) inserts max-order blocks at the tail */
		free_direct(r, ev->pfn, ev->order,
			    unseen && (unsigned)ev->order + 1 == r->nr_orders ? BUDDY_FPI_TO_TAIL : BUDDY_FPI_NONE);
		return;
	}
	/* batch path (free_unref_folios): loop 1 traces every page's mm_page_free, loop 2 commits
	 * them to the pcp under its lock, each after an mm_page_free_batched, so a batch page
	 * reaches the pcp at its batched event. A free with no batched event of its own is a
	 * single free (free_frozen_pages: pcp) -- also in the middle of a batch's loop 1, where an
	 * interrupt's frees find the pcp unlocked -- except while loop 2 holds the pcp lock: then
	 * it can only come from an interrupt, whose trylock fails, and it goes to the buddy. */
	if (sl->has_batched) {
		pfnmap_put(&r->pending_batched, ev->pfn, ev->order);
		cs->batch_pending++;
		cs->in_loop2 = false;
		return;
	}
	if (cs->in_loop2 && cs->batch_pending) {
		free_direct(r, ev->pfn, ev->order, BUDDY_FPI_NONE);
		return;
	}
	/* traced after a refill's takes and before its mm_page_alloc: rmqueue_bulk() turned
	 * interrupts back on with the pcp lock still held, and a pending interrupt freed; its
	 * pcp trylock failed, so the page went to the buddy */
	if (cs->in_refill) {
		r->res.refill_irq_frees++;
		free_direct(r, ev->pfn, ev->order, BUDDY_FPI_NONE);
		return;
	}
	if (free_high_undrained(r, cs, ev)) {
		resync_engine(r, RC_PCP_BYPASS, ev->pfn, ev->order, "6.1: a free with free_factor > 0 that no "
			      "drain follows at once went to the buddy (pcp trylock failed)");
		free_direct(r, ev->pfn, ev->order, BUDDY_FPI_NONE);
		return;
	}
	pcp_free(r, ev->cpu, ev->pfn, ev->order, bt);
}

static void on_free_batched(struct replay *r, const struct trace_event *ev)
{
	uint64_t order;
	struct cpu_state *cs = cpu_of(r, ev->cpu);

	if (cs)
		cs->in_refill = false;	/* a batch reached the pcp: its lock was free */
	if (cs && cs->batch_pending)
		cs->batch_pending--;
	if (cs)
		cs->in_loop2 = cs->batch_pending > 0;

	if (!pfnmap_del(&r->pending_batched, ev->pfn, &order)) {
		struct buddy_pfn_info info;

		/* its mm_page_free left the lookahead window before this event came in (a
		 * batch whose commits drained thousands of pages in between): the free was
		 * applied as a single one, onto the pcp. The page reaches the pcp only now:
		 * move it to the head. */
		if (!buddy_pfn_info(r->m, ev->pfn, &info) && info.state == BUDDY_PFN_PCP_HEAD && info.cpu >= 0 &&
		    freed_last(r, ev->pfn) &&
		    !buddy_pcp_remove(r->m, info.cpu, ev->pfn, info.order, BUDDY_MT_NONE, NULL, NULL)) {
			r->res.batched_late++;
			set_owner(r, ev->pfn, info.order, BUDDY_MT_NONE);
			pcp_free(r, ev->cpu, ev->pfn, info.order, buddy_pageblock_type(r->m, ev->pfn));
			return;
		}
		resync(r, r->has_losses ? RC_LOST : RC_PCP, ev->pfn, 0, "mm_page_free_batched with no mm_page_free before it");
		return;
	}
	pcp_free(r, ev->cpu, ev->pfn, (unsigned)order, buddy_pageblock_type(r->m, ev->pfn));
}

static void on_drain(struct replay *r, const struct trace_event *ev)
{
	struct buddy_pfn_info info;
	int mt = role_of(r, ev->mt);
	struct cpu_state *cs = cpu_of(r, ev->cpu);

	if (cs)
		cs->in_refill = false;	/* a drain of this CPU's pcp: its lock was free */

	if (!buddy_pcp_drain_page(r->m, -1, ev->pfn, ev->order, mt))
		return;
	if (buddy_pfn_info(r->m, ev->pfn, &info)) {
		resync(r, RC_OUTSIDE, ev->pfn, ev->order, "drain");
		return;
	}
	if (info.state == BUDDY_PFN_ALLOCATED) {
		/* allocated in the trace and drained with no free: its mm_page_free is missing */
		resync(r, !was_seen(r, ev->pfn) ? RC_SNAPSHOT_PCP : r->has_losses ? RC_LOST : RC_PCP, ev->pfn, ev->order,
		       "drain");
		if (buddy_free_block(r->m, ev->pfn, ev->order, mt, BUDDY_FPI_NONE)) {
			buddy_resync_allocated(r->m, ev->pfn, ev->order, BUDDY_MT_NONE, NULL);
			buddy_free_block(r->m, ev->pfn, ev->order, mt, BUDDY_FPI_NONE);
		}
	} else if (info.state == BUDDY_PFN_FREE_HEAD || info.state == BUDDY_PFN_FREE_TAIL) {
		/* the model routed this free to the buddy directly; the kernel had it on a pcp */
		resync(r, RC_PCP, ev->pfn, ev->order, "drain of a page the model holds free");
	} else {
		resync(r, RC_PCP, ev->pfn, ev->order, "drain");
		buddy_resync_allocated(r->m, ev->pfn, ev->order, BUDDY_MT_NONE, NULL);
		buddy_free_block(r->m, ev->pfn, ev->order, mt, BUDDY_FPI_NONE);
	}
	mark_seen(r, ev->pfn);
}

/* mm_compaction_isolate_freepages: the free scanner took nr_taken pages of [start, end). */
static void on_compact_isolate(struct replay *r, const struct trace_event *ev)
{
	r->compact_start = ev->pfn;
	r->compact_end = ev->aux;
	r->compact_seq = ev->seq;
}

/* ---- simulate ---------------------------------------------------------------------------------- */

static void sim_observer(void *ctx, const struct buddy_event *e)
{
	struct replay *r = ctx;

	if (e->kind == BUDDY_EV_EXTFRAG && e->mt >= 0 && e->mt < BUDDY_MT_NR && e->fallback_mt >= 0 &&
	    e->fallback_mt < BUDDY_MT_NR)
		r->m_xf[e->mt][e->fallback_mt][!!e->change_ownership]++;
	if (e->kind == BUDDY_EV_EXTFRAG && !r->sim_xf_have) {
		r->sim_xf = *e;
		r->sim_xf_have = true;
	}
}

/* simulate: one allocation as diff sees it (the kernel's page, the model's page and fallback) */
static void sim_report(struct replay *r, const struct trace_event *ev, bool ok, uint64_t pfn)
{
	struct replay_take_record t = { .seq = ev->seq, .ts_ns = ev->ts_ns, .cpu = ev->cpu, .order = ev->order,
					.start_mt = ev->mt, .k_path = RP_NONE, .k_pfn = ev->pfn, .k_fb_mt = -1,
					.k_own = -1, .m_ok = ok, .m_path = ok ? RP_NORMAL : RP_NONE,
					.m_pfn = ok ? pfn : UINT64_MAX, .m_fb_mt = -1, .m_own = -1 };

	t.zone = ok ? buddy_zone_of(r->m, pfn) : -1;
	if (ok && r->sim_xf_have) {
		t.m_path = r->sim_xf.change_ownership ? RP_CLAIM : RP_STEAL;
		t.m_fb_mt = r->sim_xf.fallback_mt >= 0 ? buddy_mt_to_kernel(r->m, r->sim_xf.fallback_mt) : -1;
		t.m_fb_order = r->sim_xf.fallback_order;
		t.m_own = !!r->sim_xf.change_ownership;
	}
	t.placement_agree = ok && pfn == ev->pfn;
	r->take_cb(r->take_ctx, &t);
}

static uint32_t gfp_to_model(const struct replay *r, uint64_t gfp)
{
	return buddy_gfp_translate(&r->gfp_map, gfp);
}

static void sim_alloc(struct replay *r, const struct trace_event *ev)
{
	struct buddy_alloc_req req = { .order = ev->order, .gfp = gfp_to_model(r, ev->gfp),
				       .mt = role_of(r, ev->mt), .highest_zone_type = -1, .nid = -1,
				       .cpu = ev->cpu < buddy_nr_cpus(r->m) ? ev->cpu : 0 };
	struct buddy_alloc_res res;
	int err;

	if (ev->pfn == TRACE_PFN_NONE)
		return;		/* the kernel failed; the model is not asked */
	r->res.sim_allocs++;
	r->sim_xf_have = false;
	err = buddy_alloc(r->m, &req, &res);
	if (r->take_cb)
		sim_report(r, ev, !err && res.pfn != BUDDY_PFN_NONE, res.pfn);
	if (err || res.pfn == BUDDY_PFN_NONE) {
		r->res.sim_failed++;
		logf_entry(r, -1, ev->pfn, ev->order, "allocation: the kernel gave pfn 0x%" PRIx64 ", the model failed",
			   ev->pfn);
		return;
	}
	if (res.pfn == ev->pfn)
		r->res.sim_same_pfn++;
	else
		logf_entry(r, -1, ev->pfn, ev->order, "allocation: kernel pfn 0x%" PRIx64 ", model pfn 0x%" PRIx64
			   " (zone %s%s)", ev->pfn, res.pfn, buddy_zone_name(r->m, res.zone),
			   res.from_pcp ? ", from a pcp list" : "");
	pfnmap_put(&r->sim_map, ev->pfn, (res.pfn << 8) | ev->order);
}

static void sim_free(struct replay *r, const struct trace_event *ev)
{
	uint64_t *v = pfnmap_get(&r->sim_map, ev->pfn);
	uint64_t mpfn = BUDDY_PFN_NONE;
	struct buddy_pfn_info info;

	if (v) {
		mpfn = *v >> 8;
		if ((*v & 0xff) == ev->order)
			pfnmap_del(&r->sim_map, ev->pfn, NULL);
	} else {
		/* a tail chunk of a larger allocation (alloc_pages_exact, non-compound frees) */
		for (unsigned o = ev->order + 1; o < r->nr_orders && mpfn == BUDDY_PFN_NONE; o++) {
			uint64_t head = ev->pfn & ~((1ULL << o) - 1);

			v = pfnmap_get(&r->sim_map, head);
			if (v && (*v & 0xff) >= o)
				mpfn = (*v >> 8) + (ev->pfn - head);
		}
		/* allocated before the trace: the model holds the kernel's page itself */
		if (mpfn == BUDDY_PFN_NONE && !buddy_pfn_info(r->m, ev->pfn, &info) &&
		    info.state == BUDDY_PFN_ALLOCATED && !was_seen(r, ev->pfn))
			mpfn = ev->pfn;
	}
	mark_seen(r, ev->pfn);
	if (mpfn == BUDDY_PFN_NONE) {
		r->res.sim_unmatched_frees++;
		return;
	}
	r->res.sim_frees++;
	if (buddy_free(r->m, mpfn, ev->order, ev->cpu < buddy_nr_cpus(r->m) ? ev->cpu : 0, BUDDY_FPI_NONE))
		r->res.sim_unmatched_frees++;
}

/* ---- dispatch ----------------------------------------------------------------------------------- */

static int take_sample(struct replay *r, uint64_t seq, uint64_t ts_ns)
{
	struct replay_sample s = { .seq = seq, .ts_ns = ts_ns };
	struct replay_zone_sample zs[BUDDY_MAX_ZONES];
	uint64_t counts[BUDDY_MAX_ZONES][BUDDY_MT_NR];
	uint64_t by_kernel_mt[BUDDY_MAX_ZONES][16];
	unsigned nz = buddy_nr_zones(r->m);

	memset(zs, 0, sizeof(zs));
	memset(by_kernel_mt, 0, sizeof(by_kernel_mt));
	for (unsigned z = 0; z < nz && z < BUDDY_MAX_ZONES; z++) {
		struct buddy_zone_stats st;

		zs[z].zone = (uint16_t)r->model_to_trace[z];
		for (unsigned o = 0; o < r->nr_orders && o < REPLAY_MAX_ORDERS; o++)
			zs[z].nr_free[o] = buddy_nr_free(r->m, (int)z, o, BUDDY_MT_ANY);
		buddy_pageblock_counts(r->m, (int)z, counts[z]);
		for (int role = 0; role < BUDDY_MT_NR; role++) {
			int k = buddy_mt_to_kernel(r->m, role);

			if (k >= 0 && k < 16)
				by_kernel_mt[z][k] += counts[z][role];
		}
		zs[z].blocks_by_mt = by_kernel_mt[z];
		zs[z].largest_order = -1;
		if (!buddy_zone_stats(r->m, (int)z, &st)) {
			zs[z].largest_order = st.largest_free_order == -1u ? -1 : (int)st.largest_free_order;
			/* mixed: blocks holding pages allocated (in the trace) as another type */
			if (r->pb_owned)
				for (uint64_t p = st.start_pfn & ~((1ULL << r->pbo) - 1); p < st.end_pfn;
				     p += 1ULL << r->pbo) {
					uint64_t pb = (p >> r->pbo) - r->pb_base;
					int bt = buddy_pageblock_type(r->m, p);

					if (pb >= r->nr_pb || bt < 0)
						continue;
					for (int o = 0; o < BUDDY_MT_PCPTYPES; o++)
						if (o != bt && r->pb_owned[pb][o]) {
							zs[z].mixed++;
							break;
						}
				}
		}
	}
	s.nr_zones = nz;
	s.zones = zs;
	return r->sample_cb(r->sample_ctx, &s);
}

static int apply(struct replay *r, struct slot *sl)
{
	const struct trace_event *ev = &sl->ev;

	if (sl->consumed) {	/* applied with the event before it (a claim's extfrag) */
		r->res.events++;
		return 0;
	}
	if (ev->seq < r->start_seq) {
		r->res.skipped_before_snapshot++;
		return 0;
	}
	if (r->o.stop_at && ev->seq >= r->o.stop_at)
		return 0;
	r->cur = ev;
	r->res.events++;
	/* simulate: the start snapshot is only defined at the end of its (unlocked) walk; the
	 * events during the walk are followed, as the kernel did them, then the model decides */
	if (r->o.mode == REPLAY_SIMULATE && ev->ts_ns > r->snap_end_ts) {
		switch (ev->kind) {
		case TEV_PAGE_ALLOC:
			sim_alloc(r, ev);
			break;
		case TEV_PAGE_FREE:
			sim_free(r, ev);
			break;
		case TEV_PAGE_ALLOC_EXTFRAG: {
			int a = role_of(r, ev->mt), f = role_of(r, ev->fallback_mt);

			if (a >= 0 && f >= 0)
				r->k_xf[a][f][!!(ev->flags & TEVF_CHANGE_OWNERSHIP)]++;
			break;
		}
		default:
			break;
		}
	} else {
		switch (ev->kind) {
		case TEV_PAGE_ALLOC_ZONE_LOCKED:
		case TEV_PAGE_ALLOC_EXTFRAG:
			on_take_event(r, sl);
			break;
		case TEV_PAGE_ALLOC:
			on_page_alloc(r, ev);
			if (r->o.mode == REPLAY_SIMULATE && ev->pfn != TRACE_PFN_NONE)
				pfnmap_put(&r->sim_map, ev->pfn, (ev->pfn << 8) | ev->order);
			break;
		case TEV_PAGE_FREE:
			on_page_free(r, sl);
			break;
		case TEV_PAGE_FREE_BATCHED:
			on_free_batched(r, ev);
			break;
		case TEV_PAGE_PCPU_DRAIN:
			if (!r->prof.adaptive_pcp)
				note_commit_drain(r, ev);
			on_drain(r, ev);
			break;
		case TEV_COMPACT_ISOLATE_FREE:
			on_compact_isolate(r, ev);
			break;
		default:
			break;
		}
		if (!r->prof.adaptive_pcp)
			note_free_factor(r, ev);
	}
	if (r->o.check && r->o.check_every && r->res.events >= r->next_check) {
		r->next_check += r->o.check_every;
		if (!r->res.invariant_err) {
			int err = buddy_check(r->m);

			if (err) {
				r->res.invariant_err = err;
				r->res.invariant_seq = ev->seq;
				snprintf(r->res.invariant_msg, sizeof(r->res.invariant_msg), "%s",
					 buddy_last_error(r->m));
			}
		}
	}
	if (r->ckpt_cb && r->o.checkpoint_every && r->res.events >= r->next_ckpt && quiescent(r)) {
		int err;

		r->next_ckpt = r->res.events + r->o.checkpoint_every;
		err = r->ckpt_cb(r->ckpt_ctx, ev->seq + 1);
		if (err)
			return err;
	}
	if (r->sample_cb && r->o.sample_every && r->res.events >= r->next_sample) {
		r->next_sample += r->o.sample_every;
		return take_sample(r, ev->seq + 1, ev->ts_ns);
	}
	r->last_seq = ev->seq + 1;
	r->last_ts = ev->ts_ns;
	return 0;
}

int replay_sample_now(struct replay *r)
{
	if (!r->sample_cb)
		return 0;
	return take_sample(r, r->last_seq, r->last_ts);
}

static struct feed_cpu *feed_cpu(struct replay *r, uint32_t cpu)
{
	if (cpu >= 1u << 16)
		return NULL;	/* no such CPU: the window scan does without a ring */
	if (cpu >= r->nr_feed_cpus) {
		unsigned n = cpu + 1 > 2 * r->nr_feed_cpus ? cpu + 1 : 2 * r->nr_feed_cpus;
		struct feed_cpu *c = realloc(r->feed_cpus, n * sizeof(*c));

		if (!c)
			return NULL;
		memset(c + r->nr_feed_cpus, 0, (n - r->nr_feed_cpus) * sizeof(*c));
		r->feed_cpus = c;
		r->nr_feed_cpus = n;
	}
	return &r->feed_cpus[cpu];
}

/* The latest mm_page_free of ev's pfn on ev's CPU in the window (at most LOOKAHEAD_CPU + 1
 * events back), or NULL. */
static struct slot *find_batched_free(struct replay *r, const struct trace_event *ev)
{
	struct feed_cpu *fc = feed_cpu(r, ev->cpu);
	uint64_t oldest = r->fed - r->win_nr;	/* feed position of win_at(r, 0) */

	if (r->win_nr <= LOOKAHEAD_CPU + 1 && fc) {
		unsigned k;

		for (k = 0; k < FEED_RING && k < fc->head; k++) {
			uint64_t pos = fc->pos[(fc->head - 1 - k) % FEED_RING];
			struct slot *s;

			if (pos < oldest)
				return NULL;	/* older frees of this CPU left the window */
			s = &r->win[pos & (WINDOW - 1)];
			if (s->ev.pfn == ev->pfn)
				return s;
		}
		if (k < FEED_RING)
			return NULL;	/* every free of this CPU in the window was looked at */
	}
	/* the ring does not reach back far enough: look at the window itself */
	for (unsigned i = r->win_nr; i-- > 0;) {
		struct slot *s = win_at(r, i);

		if (s->ev.kind == TEV_PAGE_FREE && s->ev.cpu == ev->cpu && s->ev.pfn == ev->pfn)
			return s;
		if (r->win_nr - i > LOOKAHEAD_CPU)
			break;
	}
	return NULL;
}

static __attribute__((noinline)) void mark_batched_free(struct replay *r, const struct trace_event *ev)
{
	struct slot *s = find_batched_free(r, ev);

	if (s && !s->has_batched)
		s->has_batched = true;
}

int replay_feed(struct replay *r, const struct trace_event *ev)
{
	int err = 0;
	struct slot *s;

	if (r->win_nr == WINDOW) {
		err = apply(r, win_at(r, 0));
		r->win_head = (r->win_head + 1) & (WINDOW - 1);
		r->win_nr--;
	}
	/* a batched free marks the mm_page_free it belongs to (the latest one of its pfn on the
	 * CPU still in the window), so that the free can go to its batch when applied */
	if (ev->kind == TEV_PAGE_FREE_BATCHED)
		mark_batched_free(r, ev);
	s = win_at(r, r->win_nr);
	s->ev = *ev;
	s->consumed = false;
	s->has_batched = false;
	if (ev->kind == TEV_PAGE_FREE) {
		struct feed_cpu *fc = feed_cpu(r, ev->cpu);

		if (fc)
			fc->pos[fc->head++ % FEED_RING] = r->fed;
	}
	r->win_nr++;
	r->fed++;
	return err;
}

/* ---- end state -------------------------------------------------------------------------------- */

/* the order of the kernel's free block (kfree: head -> order + 1) that holds pfn, or -1 */
static int kernel_free_order(const struct replay *r, const struct pfnmap *kfree, uint64_t pfn)
{
	for (unsigned o = 0; o < r->nr_orders; o++) {
		uint64_t *v = pfnmap_get(kfree, pfn & ~((1ULL << o) - 1));

		if (v && *v == o + 1ULL)
			return (int)o;
	}
	return -1;
}

/*
 * Pages the model holds on a pcp list, or dropped from one as silently allocated
 * (pcp_silent_alloc), that the kernel holds in a free buddy block, and on no pcp list, at the
 * end: no event took them off the pcp and no take of them followed, so their free never
 * reached it. Its pcp trylock failed (a free from an interrupt while the pcp lock was held) and
 * the page went straight to the buddy (README, replay: end state). Regions in mask are left out.
 */
/* The kernel's pcp pages at the end, as a pfn set (800 KB of bits for 24 GiB, touched only
 * where set: a hash of 180 k pages cost 8 MB of fresh memory and a cache miss per look-up). */
struct pcp_set {
	uint64_t *bits;
	struct pfnmap rest;
};

/* Outside mask and the kernel's pcp lists, the order of the kernel's free block holding p; or -1. */
static int free_in_kernel(const struct replay *r, const struct pfnmap *kfree, const struct pcp_set *kpcp,
			  const struct pfnmap *mask, uint64_t p)
{
	if (pfnmap_get(mask, p >> (r->nr_orders - 1)) || pfnset_has(r, kpcp->bits, &kpcp->rest, p))
		return -1;
	return kernel_free_order(r, kfree, p);
}

static void count_pcp_free_in_kernel(struct replay *r, const struct trace_snapshot *s, const struct pfnmap *mask)
{
	struct pfnmap kfree = { 0 };
	struct pcp_set kpcp = { 0 };
	int o;

	if (!(s->flags & TRACE_SNAPF_PCP) || pfnmap_init(&kfree, s->nr_free_blocks + 1) ||
	    pfnmap_init(&kpcp.rest, 16) || !(kpcp.bits = calloc(r->nr_pfns / 64 + 1, sizeof(uint64_t))))
		goto out;
	for (uint64_t i = 0; i < s->nr_free_blocks; i++)
		if (pfnmap_put(&kfree, s->free_blocks[i].pfn, s->free_blocks[i].order + 1ULL))
			goto out;
	for (uint64_t i = 0; i < s->nr_pcp_pages; i++)
		if (pfnset_put(r, kpcp.bits, &kpcp.rest, s->pcp_pages[i].pfn))
			goto out;
	for (unsigned z = 0; z < buddy_nr_zones(r->m); z++)
		for (unsigned c = 0; c < buddy_nr_cpus(r->m); c++)
			for (unsigned pi = 0; pi < buddy_nr_pcp_lists(r->m); pi++)
				for (uint64_t p = buddy_pcp_list_first(r->m, (int)z, c, pi); p != BUDDY_PFN_NONE;
				     p = buddy_pcp_list_next(r->m, p)) {
					if ((o = free_in_kernel(r, &kfree, &kpcp, mask, p)) < 0)
						continue;
					r->res.pcp_free_in_kernel++;
					pr_debug("end: model pcp page 0x%llx (cpu %u) is free in the kernel's buddy "
						 "(order-%d block 0x%llx)", (unsigned long long)p, c, o,
						 (unsigned long long)(p & ~((1ULL << o) - 1)));
				}
	for (size_t i = 0; i < r->silent.cap; i++) {
		uint64_t p = r->silent.keys[i];
		struct buddy_pfn_info bi;

		if (p == UINT64_MAX || buddy_pfn_info(r->m, p, &bi) || bi.state != BUDDY_PFN_ALLOCATED ||
		    (o = free_in_kernel(r, &kfree, &kpcp, mask, p)) < 0)
			continue;
		r->res.pcp_free_in_kernel++;
		pr_debug("end: page 0x%llx, dropped from a pcp list as silently allocated, is free in the "
			 "kernel's buddy (order-%d block 0x%llx)", (unsigned long long)p, o,
			 (unsigned long long)(p & ~((1ULL << o) - 1)));
	}
out:
	pfnmap_release(&kfree);
	pfnmap_release(&kpcp.rest);
	free(kpcp.bits);
}

static void compare_end(struct replay *r, const struct trace_snapshot *s)
{
	unsigned nz = buddy_nr_zones(r->m);
	uint64_t *kc;
	size_t ncell = (size_t)nz * r->nr_orders * BUDDY_MT_NR;
	struct pfnmap mask = { 0 };

	r->res.have_end = true;
	for (uint32_t z = 0; z < s->nr_pageblock_zones; z++) {
		const struct trace_pageblocks *pb = &s->pageblocks[z];

		for (uint64_t i = 0; i < pb->nr; i++) {
			uint64_t pfn = pb->first_pfn + (i << r->pbo);
			int mt;
			bool iso;

			if (pb->types[i] == TRACE_PB_NONE || buddy_zone_of(r->m, pfn) < 0)
				continue;
			decode_pb(r, pb->types[i], &mt, &iso);
			r->res.pb_compared++;
			if (buddy_pageblock_type(r->m, pfn) == (iso ? BUDDY_MT_ISOLATE : role_of(r, mt)))
				r->res.pb_equal++;
		}
	}
	if (!(s->flags & TRACE_SNAPF_FREE_BLOCKS))
		return;
	/* an unlocked walk races with the events during it: leave out the max-order regions those
	 * events touched (merges reach that far), on both sides */
	if (!(s->flags & TRACE_SNAPF_EXACT) && s->duration_ns) {
		pfnmap_init(&mask, 256);
		for (unsigned i = 0; i < r->win_nr; i++) {
			const struct trace_event *e = &win_at(r, i)->ev;

			if (e->seq < s->event_seq || e->ts_ns > s->ts_ns + s->duration_ns || e->pfn == TRACE_PFN_NONE)
				continue;
			pfnmap_put(&mask, e->pfn >> (r->nr_orders - 1), 1);
		}
		r->res.fc_masked_regions = mask.nr;
	}
	kc = calloc(ncell ? ncell : 1, sizeof(*kc) * 2);
	if (!kc) {
		pfnmap_release(&mask);
		return;
	}
	for (uint64_t i = 0; i < s->nr_free_blocks; i++) {
		const struct trace_free_block *fb = &s->free_blocks[i];
		int z = buddy_zone_of(r->m, fb->pfn);
		int mt = fb->mt >= 0 ? role_of(r, fb->mt) : buddy_pageblock_type(r->m, fb->pfn);
		size_t cell;

		if (z < 0 || mt < 0 || mt >= BUDDY_MT_NR || fb->order >= r->nr_orders)
			continue;
		cell = ((size_t)z * r->nr_orders + fb->order) * BUDDY_MT_NR + (unsigned)mt;
		kc[cell]++;
		if (!pfnmap_get(&mask, fb->pfn >> (r->nr_orders - 1)))
			kc[ncell + cell]++;
		{
			struct buddy_pfn_info bi;
			bool same = !buddy_pfn_info(r->m, fb->pfn, &bi) && bi.state == BUDDY_PFN_FREE_HEAD &&
				    bi.order == fb->order && bi.mt == mt;

			/* blocks in regions the unlocked end walk raced with are not compared */
			if (!pfnmap_get(&mask, fb->pfn >> (r->nr_orders - 1))) {
				r->res.fb_compared++;
				r->res.fb_equal += same;
			}
			if (!same && log_get_level() >= LOG_DEBUG)
				pr_debug("end: kernel free 0x%llx o%u %s; model %s head 0x%llx o%u mt %d cpu %d",
					(unsigned long long)fb->pfn, fb->order, buddy_mt_name(mt),
					buddy_pfn_state_name(bi.state), (unsigned long long)bi.head, bi.order, bi.mt,
					bi.cpu);
			if (!same && log_get_level() >= LOG_DEBUG)
				for (uint64_t q = fb->pfn; q < fb->pfn + (1ULL << fb->order); q++) {
					struct buddy_pfn_info qi;

					if (!buddy_pfn_info(r->m, q, &qi) && qi.state != BUDDY_PFN_FREE_HEAD &&
					    qi.state != BUDDY_PFN_FREE_TAIL) {
						pr_debug("end:   first page not free in the model 0x%llx: %s head 0x%llx o%u mt %d cpu %d",
							(unsigned long long)q, buddy_pfn_state_name(qi.state),
							(unsigned long long)qi.head, qi.order, qi.mt, qi.cpu);
						break;
					}
				}
		}
	}
	for (unsigned z = 0; z < nz; z++)
		for (unsigned o = 0; o < r->nr_orders; o++)
			for (int mt = 0; mt < BUDDY_MT_NR; mt++) {
				size_t cell = ((size_t)z * r->nr_orders + o) * BUDDY_MT_NR + (unsigned)mt;
				uint64_t k = kc[cell], m = buddy_nr_free(r->m, (int)z, o, mt);
				uint64_t km = kc[ncell + cell], mm = 0;

				if (k || m) {
					r->res.fc_all_compared++;
					if (k == m)
						r->res.fc_all_equal++;
				}
				if (mask.nr) {
					for (uint64_t p = buddy_free_list_first(r->m, (int)z, o, mt); p != BUDDY_PFN_NONE;
					     p = buddy_free_list_next(r->m, p))
						if (!pfnmap_get(&mask, p >> (r->nr_orders - 1)))
							mm++;
				} else {
					mm = m;
				}
				if (km != mm)
					pr_debug("end: zone %u order %u mt %d: kernel %llu free blocks, model %llu", z, o, mt,
						(unsigned long long)km, (unsigned long long)mm);
				if (!km && !mm)
					continue;
				r->res.fc_compared++;
				if (km == mm)
					r->res.fc_equal++;
				r->res.fc_abs_diff += km > mm ? km - mm : mm - km;
			}
	free(kc);
	if (r->o.mode == REPLAY_FOLLOW)	/* in simulate the model fills its pcp lists itself */
		count_pcp_free_in_kernel(r, s, &mask);
	pfnmap_release(&mask);
}

static double frac(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 1.0;
}

static void simulate_errors(struct replay *r, const struct trace_snapshot *end)
{
	uint64_t diff = 0, total = 0;

	for (int a = 0; a < BUDDY_MT_NR; a++)
		for (int f = 0; f < BUDDY_MT_NR; f++)
			for (int o = 0; o < 2; o++) {
				uint64_t k = r->k_xf[a][f][o], m = r->m_xf[a][f][o];

				r->res.kernel_extfrag += k;
				r->res.model_extfrag += m;
				diff += k > m ? k - m : m - k;
				total += k;
			}
	r->res.extfrag_rel_error = total ? (double)diff / (double)total : (diff ? 1.0 : 0.0);
	if (end) {
		uint64_t kcount[BUDDY_MT_NR] = { 0 }, mcount[BUDDY_MT_NR] = { 0 }, n = 0, d = 0;

		for (uint32_t z = 0; z < end->nr_pageblock_zones; z++) {
			const struct trace_pageblocks *pb = &end->pageblocks[z];

			for (uint64_t i = 0; i < pb->nr; i++) {
				uint64_t pfn = pb->first_pfn + (i << r->pbo);
				int mt, role, mr;
				bool iso;

				if (pb->types[i] == TRACE_PB_NONE || buddy_zone_of(r->m, pfn) < 0)
					continue;
				decode_pb(r, pb->types[i], &mt, &iso);
				role = iso ? BUDDY_MT_ISOLATE : role_of(r, mt);
				mr = buddy_pageblock_type(r->m, pfn);
				if (role >= 0 && role < BUDDY_MT_NR)
					kcount[role]++;
				if (mr >= 0 && mr < BUDDY_MT_NR)
					mcount[mr]++;
				n++;
			}
		}
		for (int i = 0; i < BUDDY_MT_NR; i++)
			d += kcount[i] > mcount[i] ? kcount[i] - mcount[i] : mcount[i] - kcount[i];
		r->res.pageblock_rel_error = n ? (double)d / (double)n : 0.0;
	}
}

int replay_finish(struct replay *r, const struct trace_snapshot *end)
{
	int err = 0;

	while (r->win_nr) {
		int e;

		if (end && !r->res.have_end && r->o.mode == REPLAY_FOLLOW && win_at(r, 0)->ev.seq >= end->event_seq) {
			compare_end(r, end);
		}
		e = apply(r, win_at(r, 0));
		if (e && !err)
			err = e;
		r->win_head = (r->win_head + 1) & (WINDOW - 1);
		r->win_nr--;
	}
	for (unsigned c = 0; c < r->nr_cpus; c++)
		if (r->cpus[c].run_open)
			close_run(r, &r->cpus[c]);
	if (end && !r->res.have_end && r->o.mode == REPLAY_FOLLOW)
		compare_end(r, end);
	if (r->o.mode == REPLAY_SIMULATE) {
		simulate_errors(r, end);
		if (end)
			compare_end(r, end);
	}
	if (r->o.check && !r->res.invariant_err) {
		int e = buddy_check(r->m);

		if (e) {
			r->res.invariant_err = e;
			r->res.invariant_seq = UINT64_MAX;
			snprintf(r->res.invariant_msg, sizeof(r->res.invariant_msg), "%s", buddy_last_error(r->m));
		}
	}
	return err;
}

/* ---- output ------------------------------------------------------------------------------------- */

static uint64_t total_resyncs(const struct replay_result *res)
{
	uint64_t n = 0;

	for (int c = 0; c < RC_NR; c++)
		n += res->resyncs[c];
	return n;
}

void replay_print_result(const struct replay *r, FILE *f, bool verbose)
{
	const struct replay_result *res = &r->res;

	fprintf(f, "profile %s, %s mode, %" PRIu64 " events", res->profile,
		res->mode == REPLAY_FOLLOW ? "follow" : "simulate", res->events);
	if (res->skipped_before_snapshot)
		fprintf(f, " (%" PRIu64 " before the start snapshot skipped)", res->skipped_before_snapshot);
	fprintf(f, "\n");
	if (res->mode == REPLAY_FOLLOW) {
		fprintf(f, "takes                 %12" PRIu64, res->takes);
		if (res->takes_in_start_walk)
			fprintf(f, "  (and %" PRIu64 " inside the unlocked start walk: followed, not scored)",
				res->takes_in_start_walk);
		fprintf(f, "\n");
		fprintf(f, "decision agreement    %12.4f%%  (%" PRIu64 " of %" PRIu64 ")\n",
			100.0 * frac(res->decision_agree, res->takes), res->decision_agree, res->takes);
		fprintf(f, "placement agreement   %12.4f%%  (%" PRIu64 " of %" PRIu64 ")\n",
			100.0 * frac(res->placement_agree, res->takes), res->placement_agree, res->takes);
		fprintf(f, "pcp head agreement    %12.4f%%  (%" PRIu64 " of %" PRIu64 " pcp allocations; %" PRIu64
			" traced after later frees)\n", 100.0 * frac(res->pcp_agree, res->pcp_allocs), res->pcp_agree,
			res->pcp_allocs, res->pcp_reordered);
		fprintf(f, "takes by path (kernel -> model):");
		for (int k = 0; k < RP_NR; k++)
			for (int m = 0; m < RP_NR; m++)
				if (res->paths[k][m])
					fprintf(f, " %s->%s %" PRIu64, replay_path_name((enum replay_path)k),
						replay_path_name((enum replay_path)m), res->paths[k][m]);
		fprintf(f, "\n");
	} else {
		fprintf(f, "allocations           %12" PRIu64 "  (model failed %" PRIu64 ")\n", res->sim_allocs,
			res->sim_failed);
		fprintf(f, "same page as kernel   %12.4f%%  (%" PRIu64 " of %" PRIu64 ")\n",
			100.0 * frac(res->sim_same_pfn, res->sim_allocs), res->sim_same_pfn, res->sim_allocs);
		fprintf(f, "frees                 %12" PRIu64 "  (unmatched %" PRIu64 ")\n", res->sim_frees,
			res->sim_unmatched_frees);
		fprintf(f, "extfrag events        %12" PRIu64 " kernel, %" PRIu64 " model; relative error %.4f\n",
			res->kernel_extfrag, res->model_extfrag, res->extfrag_rel_error);
		fprintf(f, "pageblock type counts relative error at the end: %.4f\n", res->pageblock_rel_error);
	}
	if (res->zone_growth_frees)
		fprintf(f, "zone growth frees     %12" PRIu64 "  (memory the start snapshot had not got yet: lazy init, "
			"hotplug)\n", res->zone_growth_frees);
	if (res->batched_late)
		fprintf(f, "late batched frees    %12" PRIu64 "  (mm_page_free_batched beyond the lookahead of its free: "
			"moved to the pcp head)\n", res->batched_late);
	if (res->refill_irq_frees)
		fprintf(f, "refill irq frees      %12" PRIu64 "  (traced inside a pcp refill: an interrupt's, to the buddy)\n",
			res->refill_irq_frees);
	fprintf(f, "resyncs               %12" PRIu64 "\n", total_resyncs(res));
	for (int c = 0; c < RC_NR; c++)
		if (res->resyncs[c])
			fprintf(f, "  %-20s %10" PRIu64 "  %s\n", replay_cause_name((enum replay_cause)c), res->resyncs[c],
				replay_cause_help((enum replay_cause)c));
	if (res->have_end) {
		fprintf(f, "end state: pageblocks equal %.4f%% (%" PRIu64 " of %" PRIu64 ")\n",
			100.0 * frac(res->pb_equal, res->pb_compared), res->pb_equal, res->pb_compared);
		fprintf(f, "           free counts equal %.4f%% (%" PRIu64 " of %" PRIu64 " zone/order/type cells, %" PRIu64
			" blocks apart)", 100.0 * frac(res->fc_equal, res->fc_compared), res->fc_equal, res->fc_compared,
			res->fc_abs_diff);
		fprintf(f, "\n           kernel's free blocks the model holds alike %.4f%% (%" PRIu64 " of %" PRIu64 ")",
			100.0 * frac(res->fb_equal, res->fb_compared), res->fb_equal, res->fb_compared);
		if (res->pcp_free_in_kernel)
			fprintf(f, "\n           %" PRIu64 " page(s) the model holds on a pcp list (or dropped from one as "
				"silently allocated) are free in the kernel's buddy and on no pcp list: their free "
				"bypassed the pcp (trylock failure; or, in a trace with lost events, their drain is lost)",
				res->pcp_free_in_kernel);
		if (res->fc_masked_regions)
			fprintf(f, "\n           (blocks and cells counted outside %" PRIu64 " max-order regions that events touched during the unlocked end "
				"walk; %.4f%% with them)", res->fc_masked_regions,
				100.0 * frac(res->fc_all_equal, res->fc_all_compared));
		fprintf(f, "\n");
	} else {
		fprintf(f, "end state: no end snapshot to compare with\n");
	}
	if (res->invariant_err)
		fprintf(f, "INVARIANT BROKEN%s: %s\n", res->invariant_seq == UINT64_MAX ? " at the end" : "",
			res->invariant_msg);
	if (verbose) {
		fprintf(f, "\nlog (%u entries):\n", r->nr_log);
		for (unsigned i = 0; i < r->nr_log; i++) {
			const struct replay_log_entry *e = &r->log[i];

			fprintf(f, "  #%" PRIu64 " %s pfn 0x%" PRIx64 " order %d: %s\n", e->seq,
				e->cause < 0 ? "disagree" : replay_cause_name((enum replay_cause)e->cause), e->pfn,
				e->order, e->msg);
		}
	}
}

void replay_json_result(const struct replay *r, struct jsonw *w, bool verbose)
{
	const struct replay_result *res = &r->res;

	jsonw_start_object(w);
	jsonw_string_field(w, "profile", res->profile);
	jsonw_string_field(w, "mode", res->mode == REPLAY_FOLLOW ? "follow" : "simulate");
	jsonw_uint_field(w, "events", res->events);
	if (res->mode == REPLAY_FOLLOW) {
		jsonw_uint_field(w, "takes", res->takes);
		jsonw_float_field(w, "decision_agreement", frac(res->decision_agree, res->takes));
		jsonw_float_field(w, "placement_agreement", frac(res->placement_agree, res->takes));
		jsonw_uint_field(w, "takes_in_start_walk", res->takes_in_start_walk);
	} else {
		/* simulate: the model decides everything; placement = the allocation got the
		 * kernel's page; decisions are compared in aggregate (extfrag error) */
		jsonw_uint_field(w, "takes", res->sim_allocs);
		jsonw_null_field(w, "decision_agreement");
		jsonw_float_field(w, "placement_agreement", frac(res->sim_same_pfn, res->sim_allocs));
	}
	jsonw_float_field(w, "pcp_head_agreement", frac(res->pcp_agree, res->pcp_allocs));
	jsonw_uint_field(w, "pcp_allocs", res->pcp_allocs);
	jsonw_uint_field(w, "pcp_reordered", res->pcp_reordered);
	jsonw_uint_field(w, "zone_growth_frees", res->zone_growth_frees);
	jsonw_uint_field(w, "refill_irq_frees", res->refill_irq_frees);
	jsonw_uint_field(w, "batched_late", res->batched_late);
	jsonw_name(w, "resyncs");
	jsonw_start_object(w);
	for (int c = 0; c < RC_NR; c++)
		if (res->resyncs[c])
			jsonw_uint_field(w, replay_cause_name((enum replay_cause)c), res->resyncs[c]);
	jsonw_end_object(w);
	jsonw_name(w, "paths");
	jsonw_start_object(w);
	for (int k = 0; k < RP_NR; k++)
		for (int m = 0; m < RP_NR; m++)
			if (res->paths[k][m]) {
				char b[64];

				snprintf(b, sizeof(b), "%s->%s", replay_path_name((enum replay_path)k),
					 replay_path_name((enum replay_path)m));
				jsonw_uint_field(w, b, res->paths[k][m]);
			}
	jsonw_end_object(w);
	jsonw_name(w, "end_state");
	if (res->have_end) {
		jsonw_start_object(w);
		jsonw_float_field(w, "pageblocks_equal", frac(res->pb_equal, res->pb_compared));
		jsonw_float_field(w, "free_counts_equal", frac(res->fc_equal, res->fc_compared));
		jsonw_float_field(w, "free_counts_equal_all", frac(res->fc_all_equal, res->fc_all_compared));
		jsonw_float_field(w, "free_blocks_equal", frac(res->fb_equal, res->fb_compared));
		jsonw_uint_field(w, "regions_racing_end_walk", res->fc_masked_regions);
		jsonw_uint_field(w, "pageblocks_compared", res->pb_compared);
		jsonw_uint_field(w, "free_count_cells", res->fc_compared);
		jsonw_uint_field(w, "free_blocks_apart", res->fc_abs_diff);
		if (res->mode == REPLAY_FOLLOW)
			jsonw_uint_field(w, "pcp_pages_free_in_kernel", res->pcp_free_in_kernel);
		jsonw_end_object(w);
	} else {
		jsonw_null(w);
	}
	if (res->mode == REPLAY_SIMULATE) {
		jsonw_name(w, "simulate");
		jsonw_start_object(w);
		jsonw_uint_field(w, "allocs", res->sim_allocs);
		jsonw_uint_field(w, "model_failed", res->sim_failed);
		jsonw_uint_field(w, "frees", res->sim_frees);
		jsonw_uint_field(w, "unmatched_frees", res->sim_unmatched_frees);
		jsonw_uint_field(w, "kernel_extfrag", res->kernel_extfrag);
		jsonw_uint_field(w, "model_extfrag", res->model_extfrag);
		jsonw_float_field(w, "extfrag_rel_error", res->extfrag_rel_error);
		jsonw_float_field(w, "pageblock_rel_error", res->pageblock_rel_error);
		jsonw_end_object(w);
	}
	jsonw_bool_field(w, "invariants_ok", !res->invariant_err);
	if (res->invariant_err)
		jsonw_string_field(w, "invariant_error", res->invariant_msg);
	if (verbose) {
		jsonw_name(w, "log");
		jsonw_start_array(w);
		for (unsigned i = 0; i < r->nr_log; i++) {
			const struct replay_log_entry *e = &r->log[i];

			jsonw_start_object(w);
			jsonw_uint_field(w, "event", e->seq);
			jsonw_string_field(w, "cause", e->cause < 0 ? "disagreement" :
					   replay_cause_name((enum replay_cause)e->cause));
			jsonw_uint_field(w, "pfn", e->pfn);
			jsonw_int_field(w, "order", e->order);
			jsonw_string_field(w, "message", e->msg);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
	}
	jsonw_end_object(w);
}
