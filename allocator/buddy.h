/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * allocator/: a deterministic user-space model of the kernel's zoned buddy allocator
 * (mm/page_alloc.c), with per-version behaviour in profiles (linux-6.1, linux-6.12e,
 * linux-6.12, linux-6.18). Pure C: no I/O, no globals with state, no dependence on pointer
 * values, hashing or time.
 *
 * Two ways to drive it:
 *  - simulate: buddy_alloc() / buddy_free() make every decision as the kernel would
 *    (watermarks, zonelist, pcp or buddy, refill, __rmqueue and its fallbacks, drains).
 *  - follow:   the kernel's own events drive buddy-level primitives (buddy_take_block(),
 *    buddy_free_block(), buddy_pcp_add()/buddy_pcp_remove(), buddy_set_pageblock_type(),
 *    buddy_move_freepages_block(), buddy_resync_*()); buddy_predict_rmqueue() says, without
 *    changing anything, what the model would have taken for the same request.
 *
 * Migratetypes. The model works with ROLES (enum buddy_mt), not with the kernel's numbers:
 * the configuration maps each of the trace's migratetype values (by name) to a role, and
 * buddy_mt_from_kernel()/buddy_mt_to_kernel() convert. Every mt argument and every mt field of
 * struct buddy_event below is a role. Roles 0..2 are the "pcp types" (MIGRATE_PCPTYPES).
 *
 * Pfns are absolute (as the kernel prints them). Zones are indexed 0..nr_zones-1 in the
 * order of buddy_config.zones; a zone's kernel zone type (DMA, DMA32, Normal, Movable) is
 * buddy_zone_config.zone_type and indexes lowmem_reserve.
 *
 * Errors: 0 or a negative value: -errno (-EINVAL, -ENOMEM ...) or FS_ERRNO__* from
 * util/errors.h. FS_ERRNO__CONTRADICTION means "the kernel's event contradicts the model's
 * state"; FS_ERRNO__INVARIANT a broken model invariant; FS_ERRNO__BAD_CONFIG and
 * FS_ERRNO__UNKNOWN_PROFILE configuration problems. After an error, buddy_last_error() holds
 * a one-line message with pfn/order/zone context and what the model holds, e.g.
 * "zone Normal: pfn 0x12345 order 2: the model holds it on cpu 1's pcp list (order 0, Movable)".
 * A failed primitive changes nothing.
 *
 * Memory: 16 bytes per page frame of each zone's span (rounded out to max-order blocks),
 * plus one byte per pageblock and per-cpu list heads.
 */
#ifndef FRAGSCOPE_BUDDY_H
#define FRAGSCOPE_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUDDY_PFN_NONE UINT64_MAX
#define BUDDY_MAX_ORDERS 16		/* upper bound on nr_orders the model accepts */
#define BUDDY_MAX_ZONES 16
#define BUDDY_NAME_MAX 32

/* ---- migratetype roles ---------------------------------------------------------------------- */

enum buddy_mt {
	BUDDY_MT_UNMOVABLE = 0,
	BUDDY_MT_MOVABLE = 1,
	BUDDY_MT_RECLAIMABLE = 2,
	BUDDY_MT_PCPTYPES = 3,		/* roles below this are mergeable and have pcp lists */
	BUDDY_MT_HIGHATOMIC = 3,
	BUDDY_MT_CMA = 4,		/* accepted in the mapping; no CMA behaviour is modelled */
	BUDDY_MT_ISOLATE = 5,
	BUDDY_MT_NR = 6,
	BUDDY_MT_ANY = -1,		/* "whichever list the model has it on" (follow primitives) */
	BUDDY_MT_NONE = -2,		/* no / unknown migratetype */
};

/* Role of a migratetype name as /proc/pagetypeinfo or BTF spells it ("Unmovable",
 * "MIGRATE_MOVABLE", "HighAtomic", "Isolate", case-insensitive), or BUDDY_MT_NONE. */
int buddy_mt_role_from_name(const char *name);
/* "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate" or "?" */
const char *buddy_mt_name(int role);

/* ---- gfp and alloc flags ---------------------------------------------------------------------- */

/* The model's own gfp bits; the trace's raw gfp is translated with a struct buddy_gfp_map
 * built from the trace's flag-name table (never from hard-coded kernel values). */
enum buddy_gfp {
	BUDDY_GFP_DMA = 1u << 0,
	BUDDY_GFP_HIGHMEM = 1u << 1,
	BUDDY_GFP_DMA32 = 1u << 2,
	BUDDY_GFP_MOVABLE = 1u << 3,
	BUDDY_GFP_RECLAIMABLE = 1u << 4,
	BUDDY_GFP_HIGH = 1u << 5,
	BUDDY_GFP_IO = 1u << 6,
	BUDDY_GFP_FS = 1u << 7,
	BUDDY_GFP_ATOMIC = 1u << 8,		/* 6.1 only */
	BUDDY_GFP_DIRECT_RECLAIM = 1u << 9,
	BUDDY_GFP_KSWAPD_RECLAIM = 1u << 10,
	BUDDY_GFP_WRITE = 1u << 11,
	BUDDY_GFP_NOMEMALLOC = 1u << 12,
	BUDDY_GFP_MEMALLOC = 1u << 13,
	BUDDY_GFP_HARDWALL = 1u << 14,
	BUDDY_GFP_THISNODE = 1u << 15,
	BUDDY_GFP_COMP = 1u << 16,
	BUDDY_GFP_NOFAIL = 1u << 17,
	BUDDY_GFP_NORETRY = 1u << 18,
	BUDDY_GFP_ACCOUNT = 1u << 19,
};

/* The BUDDY_GFP_* bit a kernel flag name stands for ("__GFP_MOVABLE" -> BUDDY_GFP_MOVABLE),
 * or 0 for names that are not single bits the model uses (GFP_KERNEL, __GFP_ZERO ...). */
uint32_t buddy_gfp_bit_from_name(const char *name);

struct buddy_gfp_map {			/* kernel gfp bit -> BUDDY_GFP_* bit */
	uint64_t kernel_mask[32];
	uint32_t model_bit[32];
	unsigned nr;
};
/* Adds one (name, mask) pair of the trace's __print_flags table; ignores names that are not
 * single model bits. */
void buddy_gfp_map_add(struct buddy_gfp_map *map, const char *name, uint64_t mask);
/* The x86-64 values of Linux 6.1..6.18 (bits 0..23 agree across them); for traces that
 * carry no flag table. */
void buddy_gfp_map_linux_default(struct buddy_gfp_map *map);
uint32_t buddy_gfp_translate(const struct buddy_gfp_map *map, uint64_t kernel_gfp);

/* gfp_migratetype(): MOVABLE/RECLAIMABLE bits -> role. */
int buddy_gfp_migratetype(uint32_t gfp);
/* gfp_zone(): highest allowed zone TYPE (BUDDY_ZONE_*). */
int buddy_gfp_zone(uint32_t gfp);

/* The kernel's alloc flags (mm/internal.h ALLOC_*), model values. */
enum buddy_alloc_flags {
	BUDDY_ALLOC_WMARK_MIN = 0,
	BUDDY_ALLOC_WMARK_LOW = 1,
	BUDDY_ALLOC_WMARK_HIGH = 2,
	BUDDY_ALLOC_NO_WATERMARKS = 4,
	BUDDY_ALLOC_WMARK_MASK = 3,		/* ALLOC_NO_WATERMARKS - 1: the WMARK_* index */
	BUDDY_ALLOC_OOM = 1u << 3,
	BUDDY_ALLOC_NON_BLOCK = 1u << 4,
	BUDDY_ALLOC_MIN_RESERVE = 1u << 5,
	BUDDY_ALLOC_CPUSET = 1u << 6,
	BUDDY_ALLOC_CMA = 1u << 7,
	BUDDY_ALLOC_NOFRAGMENT = 1u << 8,
	BUDDY_ALLOC_HIGHATOMIC = 1u << 9,
	BUDDY_ALLOC_KSWAPD = 1u << 11,
	BUDDY_ALLOC_TRYLOCK = 1u << 12,		/* 6.18 alloc_pages_nolock */
};

/* ---- profiles --------------------------------------------------------------------------------- */

enum buddy_fallback_style {
	BUDDY_FB_61 = 0,	/* __rmqueue_fallback(bool) + steal_suitable_fallback moves + retry smallest */
	BUDDY_FB_612E,		/* 6.10..6.12.28: __rmqueue_fallback returns the page (claim or single) */
	BUDDY_FB_612L,		/* 6.12.29+: __rmqueue_claim/__rmqueue_steal, rmqueue_mode, try_to_steal_block */
	BUDDY_FB_618,		/* 6.15+: as 612L, try_to_claim_block(block_type = fb), -2, no HA guard */
};

/* A profile is data: every per-version difference the model knows is one field here.
 * Get one with buddy_profile_by_name() or buddy_profile_from_release(), adjust if wanted,
 * and pass it in buddy_config. */
struct buddy_profile {
	char name[BUDDY_NAME_MAX];	/* "linux-6.1", "linux-6.12e", "linux-6.12", "linux-6.18" */
	char release[64];		/* what it was derived from ("6.12.117"), or "" */
	enum buddy_fallback_style fallback;
	bool pcppage_mt_cache;		/* 6.1: pcp pages cache a migratetype (page->index) used at drain */
	bool pcp_thp_is_pageblock;	/* 6.1: THP pcp order = pageblock_order; else HPAGE_PMD_ORDER (9) */
	unsigned nr_pcp_thp_lists;	/* 2 (1 before 6.1.97) */
	bool adaptive_pcp;		/* 6.12+: nr_pcp_alloc/alloc_factor, free_count, high_min/high_max */
	bool free_high_half_high_min;	/* 6.18: free_high needs free_count >= batch + high_min/2 */
	bool wmark_free_highatomic;	/* 6.12+: watermark subtracts nr_free_highatomic (6.1: nr_reserved) */
	bool boost_relax_on_min_reserve;/* 6.12+: boosted-min relaxation keyed on ALLOC_MIN_RESERVE (6.1: __GFP_ATOMIC) */
	bool zone_below_high_check;	/* 6.12+: ZONE_BELOW_HIGH pre-check in get_page_from_freelist */
	bool boost_wake_needs_kswapd;	/* 6.12+: ZONE_BOOSTED_WATERMARK wake needs ALLOC_KSWAPD */
	bool retype_on_merge;		/* 6.12+: __free_one_page retypes the buddy's blocks at >= pageblock_order */
	bool split_large_buddy;		/* 6.12+: direct frees above pageblock_order go in per-block pieces */
	bool highatomic_needs_gfp_high;	/* 6.1.157+, 6.12.54+, 6.18: ALLOC_HIGHATOMIC only with __GFP_HIGH */
	bool highatomic_reserve_612;	/* 6.12+: limit ALIGN(managed/100, pb) and >=pageblock handling */
	int unreserve_style;		/* 0 = 6.1, 1 = 6.12, 2 = 6.18 (see alloc-path.md §9) */
	bool pageblock_isolate_bit;	/* 6.18: ISOLATE is a separate bit over the kept type */
	bool defrag_mode_supported;	/* 6.18: vm.defrag_mode */
};

/* Known names: "linux-6.1", "linux-6.12e" (6.12.0-6.12.28), "linux-6.12" (= "linux-6.12l",
 * 6.12.29+), "linux-6.18"; also "6.1", "6.12", "6.18". 0 or FS_ERRNO__UNKNOWN_PROFILE. */
int buddy_profile_by_name(const char *name, struct buddy_profile *out);
/* From uname -r, and optionally uname -v (Debian's "6.1.0-28-amd64" release hides the real
 * sublevel, which uname -v carries as "Debian 6.1.119-1"). Picks the series (6.1, 6.12, 6.18;
 * other 6.x map to the nearest older series with a warning-free best guess) and the
 * sublevel-dependent fields (6.12.0-28 -> linux-6.12e; 6.12.29+ -> linux-6.12; 6.12.54 for
 * highatomic_needs_gfp_high; 6.1.97 for the THP pcp lists; 6.1.157). 0 or
 * FS_ERRNO__UNKNOWN_PROFILE (not a 6.x release the model knows). */
int buddy_profile_from_release(const char *release, const char *version, struct buddy_profile *out);
/* Names of the built-in profiles, NULL-terminated. */
const char *const *buddy_profile_names(void);

/* ---- configuration ---------------------------------------------------------------------------- */

enum buddy_zone_type { BUDDY_ZONE_DMA = 0, BUDDY_ZONE_DMA32 = 1, BUDDY_ZONE_NORMAL = 2,
		       BUDDY_ZONE_MOVABLE = 3, BUDDY_ZONE_NR_TYPES = 4 };

struct buddy_pcp_config {		/* one CPU's pageset of one zone (/proc/zoneinfo "pagesets") */
	uint32_t high, batch;
	uint32_t high_min, high_max;	/* 0 = derive: high_min = high_max = high (6.1) or as the kernel */
};

struct buddy_pfn_range { uint64_t start, end; };	/* [start, end) */

struct buddy_zone_config {
	char name[BUDDY_NAME_MAX];	/* "Normal" */
	uint32_t node;
	uint32_t zone_type;		/* enum buddy_zone_type: indexes lowmem_reserve */
	uint64_t start_pfn, spanned;	/* the span [start_pfn, start_pfn + spanned) */
	uint64_t managed;		/* managed pages (batch/high/boost/reserve arithmetic) */
	uint32_t nr_holes;
	const struct buddy_pfn_range *holes;	/* pfns inside the span that have no memory */
	uint64_t wmark_min, wmark_low, wmark_high;	/* _watermark[], without boost */
	uint64_t watermark_boost;
	uint64_t lowmem_reserve[BUDDY_ZONE_NR_TYPES];	/* protection[], by zone type */
	const struct buddy_pcp_config *pcp;	/* nr_cpus entries, or NULL = zone_batchsize defaults */
};

struct buddy_mt_map_entry {		/* one of the trace's migratetypes */
	char name[BUDDY_NAME_MAX];	/* "Unmovable" */
	int value;			/* the kernel's number */
	int role;			/* enum buddy_mt; BUDDY_MT_NONE = derive from name */
};

struct buddy_tunables {			/* what-if overrides; 0 / -1 = keep */
	int pageblock_order;		/* 0 = from config */
	bool override_fallbacks;
	int fallbacks[BUDDY_MT_PCPTYPES][BUDDY_MT_PCPTYPES - 1];	/* roles; -1 ends a row early */
	int watermark_boost_factor;	/* -1 = 15000 */
	int pcp_batch;			/* 0 = keep */
	int pcp_high;			/* 0 = keep (sets high, high_min and high_max) */
	bool defrag_mode;		/* 6.18 vm.defrag_mode */
	bool mobility_disabled;		/* page_group_by_mobility_disabled */
};

struct buddy_config {
	size_t sz;			/* sizeof(struct buddy_config) */
	struct buddy_profile profile;
	unsigned nr_orders;		/* NR_PAGE_ORDERS (11) */
	unsigned pageblock_order;	/* 9 */
	unsigned nr_cpus;
	unsigned nr_nodes;		/* online nodes; 0 = count from zones */
	unsigned nr_zones;
	const struct buddy_zone_config *zones;
	unsigned nr_mt;			/* the trace's migratetypes; 0 = the CMA-off default 0..4 */
	const struct buddy_mt_map_entry *mt;
	struct buddy_tunables tun;
	bool no_zone_batchsize_defaults;	/* keep pcp NULL meaning "pcp disabled" (high 0, batch 1) */
};

/* Fills defaults: 11 orders, pageblock_order 9, 1 cpu, boost factor 15000, CMA-off mt map. */
void buddy_config_init(struct buddy_config *c);

/* ---- observer --------------------------------------------------------------------------------- */

enum buddy_event_kind {
	/* what the kernel's tracepoints would show (fields as the tracepoint's) */
	BUDDY_EV_ZONE_LOCKED = 1,	/* mm_page_alloc_zone_locked: pfn, order (requested), mt (list), percpu_refill */
	BUDDY_EV_EXTFRAG,		/* mm_page_alloc_extfrag: pfn, order (alloc), fallback_order, mt (alloc),
					 * fallback_mt, change_ownership */
	BUDDY_EV_PCPU_DRAIN,		/* mm_page_pcpu_drain: pfn, order, mt (the __free_one_page mt), cpu */
	BUDDY_EV_PAGE_ALLOC,		/* mm_page_alloc (simulate only): pfn or BUDDY_PFN_NONE, order, mt (requested) */
	BUDDY_EV_PAGE_FREE,		/* mm_page_free (simulate only): pfn, order */
	/* the model's own steps */
	BUDDY_EV_SPLIT,			/* expand(): upper half pfn, order, to list mt (head) */
	BUDDY_EV_MERGE,			/* __free_one_page merged pfn (head after merge) to order; aux = buddy pfn */
	BUDDY_EV_FREE_INSERT,		/* a block entered a free list: pfn, order, mt, to_tail */
	BUDDY_EV_FALLBACK,		/* fallback buddy found: pfn (found head), order (alloc), fallback_order,
					 * mt (start), fallback_mt; aux = path (enum buddy_path) */
	BUDDY_EV_CLAIM,			/* claim attempt on a pageblock: pfn (block start), mt (start), old_mt,
					 * nr_free, nr_alike, success */
	BUDDY_EV_STEAL,			/* single steal: pfn, order (alloc), fallback_order, mt (remainder list), fallback_mt */
	BUDDY_EV_RETYPE,		/* pageblock pfn: old_mt -> mt; aux = enum buddy_retype_reason */
	BUDDY_EV_MOVE_FREEPAGES,	/* move_freepages_block: pfn (block), old_mt (-1 = any), mt, nr_free moved */
	BUDDY_EV_PCP_REFILL,		/* rmqueue_bulk for cpu: order, mt, count (asked), nr_free (got, pages of order) */
	BUDDY_EV_PCP_DRAIN,		/* free_pcppages_bulk start: cpu, count (base pages asked), aux = start pindex */
	BUDDY_EV_PCP_ADD,		/* page onto a pcp list: pfn, order, mt (list), cpu, to_tail */
	BUDDY_EV_PCP_TAKE,		/* page taken off a pcp list by an allocation: pfn, order, mt, cpu */
	BUDDY_EV_BOOST,			/* boost_watermark: count = new watermark_boost */
	BUDDY_EV_HIGHATOMIC_RESERVE,	/* pfn (block), count = nr_reserved_highatomic after */
	BUDDY_EV_HIGHATOMIC_UNRESERVE,	/* pfn (block), mt (new), count = nr_reserved_highatomic after */
};

enum buddy_retype_reason {
	BUDDY_RETYPE_SET = 0,		/* buddy_set_pageblock_type() / seeding */
	BUDDY_RETYPE_CLAIM,		/* claim threshold met (below pageblock order) */
	BUDDY_RETYPE_WHOLE_BLOCK,	/* fallback at order >= pageblock_order */
	BUDDY_RETYPE_MERGE,		/* __free_one_page merge (6.12+) */
	BUDDY_RETYPE_HIGHATOMIC,	/* reserve_highatomic_pageblock */
	BUDDY_RETYPE_UNRESERVE,		/* unreserve_highatomic_pageblock */
	BUDDY_RETYPE_ISOLATE,
};

struct buddy_event {
	enum buddy_event_kind kind;
	int zone;
	int cpu;			/* -1 if none */
	uint64_t pfn;
	unsigned order;
	unsigned fallback_order;
	int mt, fallback_mt, old_mt;	/* roles */
	int change_ownership;
	int percpu_refill;
	int success;
	int to_tail;
	uint64_t count;
	uint64_t nr_free, nr_alike;
	uint64_t aux;
};

typedef void (*buddy_observer_fn)(void *ctx, const struct buddy_event *ev);

/* ---- lifecycle and seeding -------------------------------------------------------------------- */

struct buddy_model;

/* Builds an empty model: every present pfn allocated (owner unknown), every pageblock
 * MOVABLE (as memmap_init does), no free pages, empty pcp lists. NULL with *err set
 * (FS_ERRNO__BAD_CONFIG, -ENOMEM) and, if errbuf, a message. */
struct buddy_model *buddy_new(const struct buddy_config *c, int *err, char *errbuf, size_t errlen);
/* NULL-safe. Page arrays of 2 MiB and more (up to four) are kept for the next buddy_new() of
 * the same zone size rather than returned: the process keeps that memory (~100 MB per 24 GiB
 * zone) until it exits. */
void buddy_free_model(struct buddy_model *m);
const struct buddy_profile *buddy_profile(const struct buddy_model *m);
void buddy_set_observer(struct buddy_model *m, buddy_observer_fn fn, void *ctx);
/* One-line message of the last error (or ""). */
const char *buddy_last_error(const struct buddy_model *m);

/* Kernel migratetype number <-> role, by the configured map (-1 / BUDDY_MT_NONE if unknown). */
int buddy_mt_from_kernel(const struct buddy_model *m, int kernel_mt);
int buddy_mt_to_kernel(const struct buddy_model *m, int role);

/* Seeding from a snapshot. Pageblock types first, then free blocks in list order (each is
 * appended at the TAIL of its list, no merging), then pcp pages in list order (tail). */
int buddy_seed_pageblock(struct buddy_model *m, uint64_t pfn, int mt, bool isolate);
int buddy_seed_free_block(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt);
int buddy_seed_pcp_page(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt);
/* Frees every present pfn of every zone as boot does (__free_pages_core: largest aligned
 * blocks, to the tail, merging); pageblocks keep their types. For tests and fresh models. */
int buddy_seed_all_free(struct buddy_model *m);

/* ---- simulate mode ---------------------------------------------------------------------------- */

struct buddy_alloc_req {
	unsigned order;
	uint32_t gfp;			/* BUDDY_GFP_* */
	int mt;				/* role; BUDDY_MT_NONE = gfp_migratetype(gfp) */
	int highest_zone_type;		/* -1 = gfp_zone(gfp) */
	int nid;			/* preferred node; -1 = node 0 */
	unsigned cpu;
	uint32_t alloc_flags;		/* 0 = the kernel's flags: fast path, then slow path;
					 * else exactly these BUDDY_ALLOC_* for one get_page_from_freelist */
	bool no_slowpath;		/* stop after the fast path */
	bool bulk;			/* alloc_pages_bulk: WMARK_LOW only, no mm_page_alloc event */
};

struct buddy_alloc_res {
	uint64_t pfn;			/* BUDDY_PFN_NONE on failure */
	int zone;
	uint32_t alloc_flags;		/* of the successful attempt */
	bool from_pcp;
	bool slowpath;
};

/* __alloc_pages(): 0 with res->pfn set, or -ENOMEM when no zone could give the page (the
 * model does no reclaim or compaction: see DEVIATIONS.md), or another error. Emits events. */
int buddy_alloc(struct buddy_model *m, const struct buddy_alloc_req *req, struct buddy_alloc_res *res);

enum buddy_fpi { BUDDY_FPI_NONE = 0, BUDDY_FPI_TO_TAIL = 1, BUDDY_FPI_NO_PCP = 2 };
/* free_the_page()/__free_pages_ok(): pcp (with drain on high) or direct, per profile. The
 * pfn must be an allocated block of that order (or inside one). */
int buddy_free(struct buddy_model *m, uint64_t pfn, unsigned order, unsigned cpu, unsigned fpi);

/* drain_pages_zone(): drain cpu's pcp of zone completely (pindex 0 first, batch<<5 passes);
 * cpu -1 = every CPU (drain_all_pages). */
int buddy_drain_pcp(struct buddy_model *m, int zone, int cpu);
/* free_pcppages_bulk(zone, count, pcp, pindex) exactly. */
int buddy_free_pcppages_bulk(struct buddy_model *m, int zone, unsigned cpu, uint64_t count, unsigned pindex);
/* decay_pcp_high() (6.7+; vmstat worker, about once a second per CPU): lowers pcp->high by
 * 1/8 towards high_min and drains the excess in batch-sized free_pcppages_bulk() calls from
 * pindex 0. 1 if there is more to do (the kernel then re-arms), 0 if not; a no-op returning 0
 * in profiles without pcp->high tuning (6.1). zone/cpu must be valid. */
int buddy_decay_pcp_high(struct buddy_model *m, int zone, unsigned cpu);
/* unreserve_highatomic_pageblock(ac, force) for the zones up to highest_zone_type. 1 if one
 * block was converted, 0 if none. */
int buddy_unreserve_highatomic(struct buddy_model *m, int mt, int highest_zone_type, bool force);
/* kswapd's end of boost (balance_pgdat resets it): zone -1 = all. */
void buddy_clear_boost(struct buddy_model *m, int zone);

/* ---- the __rmqueue step: real and predicted --------------------------------------------------- */

enum buddy_path {
	BUDDY_PATH_NONE = 0,		/* nothing taken */
	BUDDY_PATH_NORMAL,		/* __rmqueue_smallest(start) */
	BUDDY_PATH_HIGHATOMIC,		/* __rmqueue_smallest(HIGHATOMIC) */
	BUDDY_PATH_CLAIM,		/* fallback that claimed the block (or whole block >= pageblock) */
	BUDDY_PATH_STEAL,		/* fallback that stole without claiming */
	BUDDY_PATH_PCP,			/* pcp list head (buddy_predict_alloc only) */
};
const char *buddy_path_name(enum buddy_path p);

/* rmqueue_mode of 6.12l/6.18, carried across one rmqueue_bulk; NORMAL = 0. */
struct buddy_rmqueue_ctx { int mode; };

#define BUDDY_PREDICT_MAX_EVENTS 8
struct buddy_take {			/* what one __rmqueue() did or would do */
	uint64_t pfn;			/* head of the page taken, BUDDY_PFN_NONE if none */
	unsigned order;			/* requested */
	enum buddy_path path;
	int list_mt;			/* list the taken page came off (for zone_locked: the mt field) */
	uint64_t found_pfn;		/* fallback: the buddy found (6.1 extfrag pfn); else = pfn */
	unsigned found_order;		/* order of the free block the page came from */
	int fallback_mt;		/* fallback type; BUDDY_MT_NONE if no fallback */
	int change_ownership;		/* extfrag's value, -1 if no extfrag */
	int ctx_mode_after;		/* rmqueue_mode after the call */
	unsigned nr_events;		/* tracepoint-like events, in order (ZONE_LOCKED, EXTFRAG) */
	struct buddy_event events[BUDDY_PREDICT_MAX_EVENTS];
};

enum buddy_rmqueue_kind {
	BUDDY_RMQ_BUDDY = 0,		/* rmqueue_buddy(): HIGHATOMIC first with ALLOC_HIGHATOMIC, then __rmqueue,
					 * then HIGHATOMIC again with OOM/NON_BLOCK */
	BUDDY_RMQ_REFILL = 1,		/* one __rmqueue() iteration of rmqueue_bulk (ctx carries the mode) */
};

/* Runs the step for real: the model changes, observers fire. ctx may be NULL (fresh NORMAL).
 * 0 (take->pfn may be BUDDY_PFN_NONE when nothing could be taken) or an error. The taken
 * page is left "allocated" (owner mt); a refill caller puts it on a pcp list. */
int buddy_rmqueue(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
		  enum buddy_rmqueue_kind kind, struct buddy_rmqueue_ctx *ctx, struct buddy_take *take);
/* The same on the same state with an undo journal: observers are not called (the events are
 * in take->events), ctx is not updated (take->ctx_mode_after says what it would be), and the
 * model is left exactly as it was. When the step would start with a successful
 * __rmqueue_smallest, the answer is read off the list head without running the step
 * (build with -DBUDDY_PREDICT_VERIFY to have both paths compared on every call). */
int buddy_predict_rmqueue(struct buddy_model *m, int zone, unsigned order, int mt, uint32_t alloc_flags,
			  enum buddy_rmqueue_kind kind, const struct buddy_rmqueue_ctx *ctx,
			  struct buddy_take *take);

/* buddy_alloc() on the same state under the undo journal: observers are not called and the
 * model is left exactly as it was; *res says what buddy_alloc() would return (res->from_pcp:
 * a pcp list head). take (may be NULL) receives the first tracepoint-like events it would emit
 * (zone_locked, extfrag) and, for the last __rmqueue step, its path and fallback. */
int buddy_predict_alloc(struct buddy_model *m, const struct buddy_alloc_req *req, struct buddy_alloc_res *res,
			struct buddy_take *take);

/* ---- follow-mode primitives (each checks the model's state; a failure changes nothing) ---------- */

/* Take the free block whose HEAD is pfn off list list_mt (BUDDY_MT_ANY = whichever list
 * holds it), with buddy order >= order; split the remainder as expand() does onto
 * remainder_mt's lists (BUDDY_MT_ANY = the list it came from). The first 2^order pages
 * become allocated with owner owner_mt. *found_order (may be NULL) gets the block's order.
 * FS_ERRNO__CONTRADICTION if the model does not hold such a block. */
int buddy_take_block(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt,
		     int remainder_mt, int owner_mt, unsigned *found_order);
/* __free_one_page(pfn, order, mt, fpi) with the profile's merge, retype and head/tail rules.
 * The range must be allocated in the model. mt BUDDY_MT_ANY = the pageblock's type. */
int buddy_free_block(struct buddy_model *m, uint64_t pfn, unsigned order, int mt, unsigned fpi);
/* Put an allocated block on cpu's pcp list of (order, list_mt) (folded: >= PCPTYPES ->
 * MOVABLE); head (a free) or tail (a refill). cached_mt: 6.1's page->index (BUDDY_MT_NONE =
 * list_mt). */
int buddy_pcp_add(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt,
		  bool to_tail, int cached_mt);
/* Find pfn among cpu's pcp lists of that order (cpu -1: any CPU; spec-review W2) and make it
 * allocated (owner owner_mt). *where_cpu / *where_mt (may be NULL) get where it was. */
int buddy_pcp_remove(struct buddy_model *m, int cpu, uint64_t pfn, unsigned order, int owner_mt,
		     int *where_cpu, int *where_mt);
/* Follow mode's common pcp allocation, checked as rmqueue_pcplist() would take it: when pfn
 * heads an order-`order` block at the head of cpu's pcp list for (order, owner_mt), takes it
 * off (allocated, owner owner_mt) and returns true; otherwise changes nothing, returns false. */
bool buddy_pcp_take_head(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int owner_mt);
/* mm_page_pcpu_drain: buddy_pcp_remove + buddy_free_block(pfn, order, mt). */
int buddy_pcp_drain_page(struct buddy_model *m, int cpu, uint64_t pfn, unsigned order, int mt);
/* set_pageblock_migratetype() of the block holding pfn (6.18: clears the isolate bit). */
int buddy_set_pageblock_type(struct buddy_model *m, uint64_t pfn, int mt);
/* 6.18 set/clear_pageblock_isolate; in other profiles ISOLATE is a type value (old kept by caller). */
int buddy_set_pageblock_isolate(struct buddy_model *m, uint64_t pfn, bool isolate);

enum buddy_move_style {
	BUDDY_MOVE_PROFILE = 0,		/* as the model's profile does it */
	BUDDY_MOVE_61,			/* 6.1 move_freepages_block: every free buddy, any list, clamped start,
					 * 0 if the block end leaves the zone; no retype */
	BUDDY_MOVE_610,			/* 6.10+ __move_freepages_block(old -> new): whole block in the zone,
					 * only buddies on old's lists; retypes in 6.10-6.14 (not 6.18) */
};
/* Move the free pages of pfn's pageblock to the TAIL of new_mt's lists (old_mt BUDDY_MT_ANY =
 * from any list). *moved / *movable (may be NULL): pages moved, movable ("alike") count as
 * the claim test sees them. Returns 0, or -ERANGE when the block is not entirely in the zone
 * (6.10+) / its end leaves the zone (6.1), moving nothing. */
int buddy_move_freepages_block(struct buddy_model *m, uint64_t pfn, int old_mt, int new_mt,
			       enum buddy_move_style style, uint64_t *moved, uint64_t *movable);
/* Apply a fallback the kernel reported (extfrag) through the profile's own code, with the
 * kernel's decision: claim = the extfrag's change_ownership. found_pfn = the extfrag's pfn:
 * in 6.1 the found buddy (steal_suitable_fallback moves/retypes only; the take is the next
 * zone_locked, *take->pfn stays BUDDY_PFN_NONE); in 6.10+ the page __rmqueue returned, which
 * this call takes (*take): a claim below pageblock_order claims that page's pageblock and
 * takes it from start's list (replay skips the zone_locked that came just before the
 * extfrag); otherwise the free block at found_pfn of order found_order is taken whole-block
 * (claim) or stolen. start = alloc mt, fb = fallback mt, found_order = fallback_order. */
int buddy_apply_fallback(struct buddy_model *m, uint64_t found_pfn, unsigned found_order,
			 unsigned alloc_order, int start_mt, int fb_mt, uint32_t alloc_flags,
			 bool claim, struct buddy_take *take);

/* Resync: force the kernel's view. Each succeeds whatever the model held before. */
/* Make [pfn, pfn+2^order) allocated (owner_mt), taking it out of free lists (splitting a
 * containing free block as needed, the rest staying on its list) and pcp lists. *was (may be
 * NULL) gets a BUDDY_PFN_* state the range had (first page). */
int buddy_resync_allocated(struct buddy_model *m, uint64_t pfn, unsigned order, int owner_mt, int *was);
/* Insert [pfn, pfn+2^order) as one free block on list_mt without merging (after making it
 * allocated as above). */
int buddy_resync_free(struct buddy_model *m, uint64_t pfn, unsigned order, int list_mt, bool to_tail);
/* Put it on cpu's pcp list (after making it allocated as above). */
int buddy_resync_pcp(struct buddy_model *m, unsigned cpu, uint64_t pfn, unsigned order, int list_mt, bool to_tail);

/* ---- queries ---------------------------------------------------------------------------------- */

unsigned buddy_nr_zones(const struct buddy_model *m);
unsigned buddy_nr_orders(const struct buddy_model *m);
unsigned buddy_pageblock_order(const struct buddy_model *m);
unsigned buddy_nr_cpus(const struct buddy_model *m);
const char *buddy_zone_name(const struct buddy_model *m, int zone);
/* Zone index of pfn, or -1 outside every zone. */
int buddy_zone_of(const struct buddy_model *m, uint64_t pfn);

struct buddy_zone_stats {
	uint64_t start_pfn, end_pfn;
	uint64_t present, managed;
	uint64_t nr_free_pages;		/* NR_FREE_PAGES as the model keeps it (no ISOLATE, no pcp) */
	uint64_t nr_free_highatomic;	/* free pages on HIGHATOMIC lists */
	uint64_t nr_reserved_highatomic;
	uint64_t nr_pcp_pages;		/* base pages on all pcp lists */
	uint64_t watermark_boost;
	uint64_t wmark[3];		/* min, low, high (without boost) */
	bool boosted_flag;		/* ZONE_BOOSTED_WATERMARK */
	bool below_high_flag;		/* ZONE_BELOW_HIGH */
	unsigned largest_free_order;	/* -1u if no free block */
};
int buddy_zone_stats(const struct buddy_model *m, int zone, struct buddy_zone_stats *st);
/* Blocks on free_area[order].free_list[mt] (mt BUDDY_MT_ANY: nr_free[order]). */
uint64_t buddy_nr_free(const struct buddy_model *m, int zone, unsigned order, int mt);
/* get_pfnblock_migratetype() (6.18: ISOLATE if the isolate bit is set); BUDDY_MT_NONE outside. */
int buddy_pageblock_type(const struct buddy_model *m, uint64_t pfn);
/* buddy_pageblock_type() when pfn heads an allocated block of exactly `order` in the model,
 * else -1 (a free's usual case in one look-up) */
int buddy_allocated_pb_type(const struct buddy_model *m, uint64_t pfn, unsigned order);
/* Pageblocks per role in zone: counts[BUDDY_MT_NR]. */
int buddy_pageblock_counts(const struct buddy_model *m, int zone, uint64_t counts[BUDDY_MT_NR]);

enum buddy_pfn_state_kind {
	BUDDY_PFN_OUTSIDE = 0,		/* in no zone */
	BUDDY_PFN_HOLE,
	BUDDY_PFN_FREE_HEAD,
	BUDDY_PFN_FREE_TAIL,
	BUDDY_PFN_PCP_HEAD,
	BUDDY_PFN_PCP_TAIL,
	BUDDY_PFN_ALLOCATED,
};
struct buddy_pfn_info {
	enum buddy_pfn_state_kind state;
	int zone;
	uint64_t head;			/* head pfn of the block it belongs to */
	unsigned order;			/* that block's order */
	int mt;				/* free: list; pcp: list mt; allocated: owner (BUDDY_MT_NONE unknown) */
	int cpu;			/* pcp only */
	int cached_mt;			/* pcp, 6.1 profile: page->index */
};
int buddy_pfn_info(const struct buddy_model *m, uint64_t pfn, struct buddy_pfn_info *info);
const char *buddy_pfn_state_name(enum buddy_pfn_state_kind s);

/* Free-list iteration in list order (head first): BUDDY_PFN_NONE at the end. */
uint64_t buddy_free_list_first(const struct buddy_model *m, int zone, unsigned order, int mt);
uint64_t buddy_free_list_next(const struct buddy_model *m, uint64_t pfn);
/* pcp lists: pindex as the kernel's order_to_pindex(); buddy_pcp_pindex() computes it. */
int buddy_pcp_pindex(const struct buddy_model *m, unsigned order, int mt);	/* -1 if no pcp list */
unsigned buddy_nr_pcp_lists(const struct buddy_model *m);
uint64_t buddy_pcp_list_first(const struct buddy_model *m, int zone, unsigned cpu, unsigned pindex);
uint64_t buddy_pcp_list_next(const struct buddy_model *m, uint64_t pfn);
struct buddy_pcp_stats { uint64_t count; uint32_t high, batch, high_min, high_max; };
int buddy_pcp_stats(const struct buddy_model *m, int zone, unsigned cpu, struct buddy_pcp_stats *st);

/* Full invariant check (free lists vs per-page state, counts, no unmerged buddies the profile
 * would have merged, pcp counts, NR_FREE_PAGES). 0 or FS_ERRNO__INVARIANT with the first
 * problem in buddy_last_error(). O(pages). */
int buddy_check(struct buddy_model *m);
/* A hash of the whole state (lists in order, types, counters); equal states hash equal. */
uint64_t buddy_state_hash(const struct buddy_model *m);
/* Bytes of model state per page frame (for the bench). */
double buddy_bytes_per_page(const struct buddy_model *m);

#endif
