/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trace file (.fst): the one contract between the collector, the importers and replay.
 * This header is the in-memory, decoded view; traces/FORMAT.md is the byte-level spec.
 *
 * A file holds: one machine header; snapshots (start, end) with the event position they cut
 * at; events in checksummed, optionally zstd-compressed chunks; loss counters; an index.
 * Readers stream: memory stays bounded by one chunk plus the header and snapshots.
 *
 * Nothing here hard-codes migratetype numbers, the number of orders or pageblock_order:
 * the header carries this kernel's own values and names.
 */
#ifndef FRAGSCOPE_TRACE_H
#define FRAGSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_PFN_NONE UINT64_MAX	/* mm_page_alloc that failed (the kernel's -1UL) */
#define TRACE_NAME_MAX 32

/* ---- events --------------------------------------------------------------------------------- */

enum trace_event_kind {
	TEV_NONE = 0,
	TEV_PAGE_ALLOC = 1,		/* kmem:mm_page_alloc: pfn, order, gfp, mt (requested) */
	TEV_PAGE_ALLOC_ZONE_LOCKED = 2,	/* kmem:mm_page_alloc_zone_locked: pfn, order, mt (list), percpu_refill */
	TEV_PAGE_FREE = 3,		/* kmem:mm_page_free: pfn, order */
	TEV_PAGE_FREE_BATCHED = 4,	/* kmem:mm_page_free_batched: pfn */
	TEV_PAGE_PCPU_DRAIN = 5,	/* kmem:mm_page_pcpu_drain: pfn, order, mt */
	TEV_PAGE_ALLOC_EXTFRAG = 6,	/* kmem:mm_page_alloc_extfrag: pfn, order (alloc_order), fallback_order,
					 * mt (alloc_migratetype), fallback_mt, change_ownership */
	/* Optional context events (a collector may record them; replay uses them to explain resyncs). */
	TEV_COMPACT_ISOLATE_FREE = 16,	/* compaction:mm_compaction_(fast_)isolate_freepages:
					 * pfn = start_pfn, aux = end_pfn, nr_scanned, nr_taken */
	TEV_COMPACT_BEGIN = 17,		/* compaction:mm_compaction_begin */
	TEV_COMPACT_END = 18,		/* compaction:mm_compaction_end */
	TEV_MARKER = 30,		/* collector marker (e.g. snapshot cut); aux = marker id */
	TEV_KIND_MAX = 31,
};

#define TEV_NR_KERNEL_KINDS 7	/* kinds 1..6 are the six kmem page tracepoints */

/* The tracepoint name of a kind ("mm_page_alloc"), or NULL. */
const char *trace_event_kind_name(enum trace_event_kind kind);
/* The kind of a tracepoint name, or TEV_NONE. */
enum trace_event_kind trace_event_kind_from_name(const char *name);

struct trace_event {
	uint64_t seq;		/* position in the file's event stream, from 0 (set by the reader) */
	uint64_t ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns / trace_clock=mono) */
	uint32_t cpu;
	uint32_t pid;		/* task; 0 for idle/irq on an idle CPU */
	uint8_t kind;		/* enum trace_event_kind */
	uint8_t order;		/* order; alloc_order for extfrag */
	uint8_t fallback_order;	/* extfrag only */
	uint8_t flags;		/* TEVF_* */
	int8_t mt;		/* migratetype as the kernel printed it; -1 if none */
	int8_t fallback_mt;	/* extfrag only; -1 otherwise */
	uint16_t zone;		/* index into trace_header.zones, or TRACE_ZONE_UNKNOWN */
	uint64_t pfn;		/* TRACE_PFN_NONE for a failed allocation */
	uint64_t gfp;		/* mm_page_alloc only: raw gfp_flags */
	uint64_t aux;		/* kind-specific (see enum) */
	uint32_t aux2;		/* kind-specific: nr_scanned for compaction */
	uint32_t stack_id;	/* 0 = no stack; else an id into the file's stack table */
};

#define TRACE_ZONE_UNKNOWN 0xffff

enum trace_event_flags {
	TEVF_PERCPU_REFILL = 1 << 0,	/* zone_locked: percpu_refill field was 1 */
	TEVF_CHANGE_OWNERSHIP = 1 << 1,	/* extfrag: change_ownership field was 1 */
	TEVF_IRQ = 1 << 2,		/* hard or soft irq context, where known */
};

/* ---- machine header ---------------------------------------------------------------------- */

struct trace_pcp_config {		/* one CPU's per-cpu pageset of one zone */
	uint32_t cpu;
	uint32_t count, high, batch;
	uint32_t high_min, high_max;	/* 0 where the kernel does not show them (before 6.7/6.18) */
};

struct trace_zone {
	uint32_t node;
	uint32_t zone_idx;		/* index within the node: 0 DMA, 1 DMA32, 2 Normal, 3 Movable... */
	char name[TRACE_NAME_MAX];	/* "DMA32" as /proc/zoneinfo names it */
	uint64_t start_pfn, spanned, present, managed;
	uint64_t wmark_min, wmark_low, wmark_high, wmark_promo;	/* without boost */
	uint64_t watermark_boost;
	uint64_t nr_free_pages;		/* NR_FREE_PAGES at header time */
	uint32_t nr_lowmem_reserve;
	uint64_t *lowmem_reserve;	/* protection: (...) of /proc/zoneinfo, one per zone index */
	uint32_t nr_pcp;
	struct trace_pcp_config *pcp;	/* per CPU */
};

struct trace_name_value {
	char name[TRACE_NAME_MAX];
	int64_t value;
};

struct trace_flag_name {		/* one entry of the gfp_flags __print_flags table */
	uint64_t mask;
	char name[48];
};

struct trace_kv {			/* free-form provenance and sysctls, e.g. "vm.watermark_boost_factor" */
	char *key;
	char *value;
};

struct trace_header {
	char kernel_release[65];	/* uname -r */
	char kernel_version[256];	/* uname -v */
	char arch[16];			/* "x86_64" */
	uint32_t page_size;
	uint32_t pageblock_order;
	uint32_t nr_orders;		/* NR_PAGE_ORDERS (11 on x86-64): orders 0..nr_orders-1 */
	uint32_t nr_cpus;		/* possible CPUs seen */
	uint32_t nr_pageblock_bits;	/* NR_PAGEBLOCK_BITS: 4 (6.1, 6.12) or 8 (6.18) */
	/* Migratetypes as this kernel defines them: names[value]. e.g. Unmovable=0 ... Isolate=4. */
	uint32_t nr_migratetypes;
	struct trace_name_value *migratetypes;
	uint32_t nr_gfp_flags;
	struct trace_flag_name *gfp_flags;
	uint32_t nr_zones;
	struct trace_zone *zones;
	uint32_t nr_kv;
	struct trace_kv *kv;		/* sysctls ("vm.watermark_boost_factor"), provenance ("tool.version",
					 * "capture.mode", "capture.command", "capture.start_time", ...) */
};

/* Value of key in h->kv, or NULL. */
const char *trace_header_get(const struct trace_header *h, const char *key);
/* Adds or replaces a key (copies both strings). 0 or -ENOMEM. */
int trace_header_set(struct trace_header *h, const char *key, const char *value);
/* The name of migratetype value mt in this trace ("Movable"), or NULL. */
const char *trace_header_mt_name(const struct trace_header *h, int mt);
/* The value of a migratetype by name (case-insensitive), or -1. */
int trace_header_mt_value(const struct trace_header *h, const char *name);
/* Decodes gfp into "GFP_KERNEL|__GFP_COMP" style text using the trace's own table. */
size_t trace_header_gfp_str(const struct trace_header *h, uint64_t gfp, char *buf, size_t len);
/* The zone index of pfn by the header's spans, or TRACE_ZONE_UNKNOWN. */
uint16_t trace_header_zone_of(const struct trace_header *h, uint64_t pfn);
void trace_header_release(struct trace_header *h);	/* frees the arrays; NULL-safe */

/* ---- snapshots ----------------------------------------------------------------------------- */

enum trace_snapshot_which { TRACE_SNAP_START = 0, TRACE_SNAP_END = 1, TRACE_SNAP_MAX };

enum trace_snapshot_method {
	TRACE_SNAP_NONE = 0,		/* no snapshot */
	TRACE_SNAP_BPF_WALK = 1,	/* BPF walk of pageblock bitmap, free lists, pcp lists (unlocked) */
	TRACE_SNAP_BPF_LOCKED = 2,	/* the same, free lists walked under zone->lock */
	TRACE_SNAP_KPAGEFLAGS = 3,	/* /proc/kpageflags free blocks + pagetypeinfo counts: no types, no order */
	TRACE_SNAP_PAGETYPEINFO = 4,	/* counts only */
	TRACE_SNAP_MODULE = 5,		/* an exact dump from a kernel module, under the locks */
};

enum trace_snapshot_flags {
	TRACE_SNAPF_PAGEBLOCKS = 1 << 0,	/* pageblock types present */
	TRACE_SNAPF_FREE_BLOCKS = 1 << 1,	/* free blocks present */
	TRACE_SNAPF_LIST_ORDER = 1 << 2,	/* free blocks are in list order (head first) */
	TRACE_SNAPF_FREE_LIST_MT = 1 << 3,	/* free blocks carry the list they sit on */
	TRACE_SNAPF_PCP = 1 << 4,		/* pcp contents present */
	TRACE_SNAPF_EXACT = 1 << 5,		/* consistent with the event stream at the cut */
	TRACE_SNAPF_COUNTS = 1 << 6,		/* pagetypeinfo-style counts present */
};

struct trace_free_block {	/* one free buddy block, in list order within (zone, order, mt) */
	uint64_t pfn;
	uint16_t zone;
	uint8_t order;
	int8_t mt;		/* the free list it sits on; -1 if unknown */
};

struct trace_pcp_page {		/* one page (of 2^order) on a per-cpu list, head first */
	uint64_t pfn;
	uint32_t cpu;
	uint16_t zone;
	uint8_t order;
	uint8_t pindex;		/* the kernel's list index: 3*order+mt, or 12/13 for THP */
};

struct trace_zone_counts {	/* /proc/pagetypeinfo view of one zone, for cross-checks */
	uint16_t zone;
	uint32_t nr_orders, nr_migratetypes;
	uint64_t *nr_free;	/* [order * nr_migratetypes + mt]: blocks on each list */
	uint64_t *nr_blocks;	/* [mt]: pageblocks of each type */
};

#define TRACE_PB_NONE 0xff	/* no pageblock of this zone here (offline, a hole, another zone's) */

struct trace_pageblocks {	/* one zone's pageblock types */
	uint16_t zone;
	uint64_t first_pfn;	/* pfn of types[0]; aligned to the pageblock size */
	uint64_t nr;
	uint8_t *types;		/* raw pageblock flag bits for the migratetype (incl. isolate bit),
				 * or TRACE_PB_NONE */
};

struct trace_snapshot {
	enum trace_snapshot_which which;
	enum trace_snapshot_method method;
	uint32_t flags;			/* TRACE_SNAPF_* */
	uint64_t ts_ns;			/* when taken (same clock as events) */
	uint64_t event_seq;		/* events with seq < event_seq happened before the snapshot */
	uint64_t duration_ns;		/* how long taking it took */
	uint32_t nr_pageblock_zones;
	struct trace_pageblocks *pageblocks;
	uint64_t nr_free_blocks;
	struct trace_free_block *free_blocks;
	uint64_t nr_pcp_pages;
	struct trace_pcp_page *pcp_pages;
	uint32_t nr_counts;
	struct trace_zone_counts *counts;
	char *note;			/* how exact, what was cross-checked and how it differed */
};

void trace_snapshot_release(struct trace_snapshot *s);	/* NULL-safe */

/* ---- losses -------------------------------------------------------------------------------- */

struct trace_loss {			/* cumulative; the last one written wins */
	uint32_t nr_cpus;
	uint64_t *lost_per_cpu;		/* ring-buffer reserve failures / overruns, per CPU */
	uint64_t lost_per_kind[TEV_KIND_MAX + 1];
	uint64_t recursion_misses;	/* bpf_prog_info.recursion_misses summed */
	uint64_t total;			/* every lost event, however counted */
};

void trace_loss_release(struct trace_loss *l);

/* ---- stacks (record --stacks) ------------------------------------------------------------------ */

struct trace_stack {
	uint32_t id;
	uint32_t nr;
	uint64_t *ips;			/* kernel addresses */
	char **syms;			/* symbolized at record time ("func+0x12"), may be NULL */
};

/* ---- writer -------------------------------------------------------------------------------- */

struct trace_writer_opts {
	size_t sz;			/* sizeof(struct trace_writer_opts), as libbpf's opts */
	bool no_compress;		/* zstd is on by default */
	int zstd_level;			/* 0 = default */
	uint32_t chunk_events;		/* events per chunk; 0 = default */
};

struct trace_writer;

/* Creates path (truncating). NULL with *err set on failure. */
struct trace_writer *trace_writer_open(const char *path, const struct trace_writer_opts *opts, int *err);
/* Must come first. */
int trace_writer_header(struct trace_writer *w, const struct trace_header *h);
/* Any time after the header; its event_seq places it in the stream. */
int trace_writer_snapshot(struct trace_writer *w, const struct trace_snapshot *s);
/* Events in stream order; seq is assigned by position. */
int trace_writer_event(struct trace_writer *w, const struct trace_event *ev);
int trace_writer_stack(struct trace_writer *w, const struct trace_stack *st);
int trace_writer_loss(struct trace_writer *w, const struct trace_loss *l);
/* Writes out the pending chunk; the file is then readable up to here. */
int trace_writer_flush(struct trace_writer *w);
uint64_t trace_writer_events(const struct trace_writer *w);
uint64_t trace_writer_bytes(const struct trace_writer *w);
/* Flushes, writes the index and footer, closes. NULL-safe. Returns 0 or the first error. */
int trace_writer_close(struct trace_writer *w);

/* ---- reader -------------------------------------------------------------------------------- */

struct trace_reader;

struct trace_read_status {
	bool truncated;			/* the file ended early (no footer) */
	uint64_t bytes_unreadable;	/* bytes after the last whole chunk */
	uint64_t corrupt_chunks;	/* chunks skipped for a bad checksum or structure */
	char first_problem[256];	/* "'x.fst': offset 1234: chunk checksum mismatch" or "" */
};

/* Opens and validates the header; NULL with *err set, and errbuf (if given) holding a one-line
 * message naming the file, the offset and what was expected. */
struct trace_reader *trace_reader_open(const char *path, int *err, char *errbuf, size_t errlen);
void trace_reader_close(struct trace_reader *r);	/* NULL-safe */
const struct trace_header *trace_reader_header(const struct trace_reader *r);
/* The snapshot, or NULL if the file has none of that kind. */
const struct trace_snapshot *trace_reader_snapshot(struct trace_reader *r, enum trace_snapshot_which which);
const struct trace_loss *trace_reader_loss(struct trace_reader *r);
const struct trace_stack *trace_reader_stack(struct trace_reader *r, uint32_t id);
/* Number of events if known (from the index), else an estimate from chunks seen so far. */
uint64_t trace_reader_nr_events(struct trace_reader *r);
/* Next event: 1 = got one, 0 = end of stream, < 0 = error (see trace_reader_status). */
int trace_reader_next(struct trace_reader *r, struct trace_event *ev);
/* As trace_reader_next(), without the copy: *ev points into the reader's decoded chunk and stays
 * valid until the next call of trace_reader_next*() or trace_reader_seek(). */
int trace_reader_next_ref(struct trace_reader *r, const struct trace_event **ev);
/* The next run of events without copies: *evs points at n >= 1 consecutive events in the
 * reader's buffer, valid until the next call of trace_reader_next*() or trace_reader_seek().
 * Returns n, 0 at the end of the stream, < 0 on error (as trace_reader_next()). */
int trace_reader_next_batch(struct trace_reader *r, const struct trace_event **evs);
/* Positions so that the next event returned has seq == seq (or the first after it). */
int trace_reader_seek(struct trace_reader *r, uint64_t seq);
const struct trace_read_status *trace_reader_status(const struct trace_reader *r);
uint64_t trace_reader_file_size(const struct trace_reader *r);
/* Bytes of the file taken by event chunks (their section headers included). */
uint64_t trace_reader_event_bytes(const struct trace_reader *r);

#endif
