/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live collector behind `fragscope record`: BPF programs on the six kmem page tracepoints
 * streaming into one ring buffer, drained on a timer into a trace file, plus BPF walks of the
 * allocator's state (pageblock bitmap, free lists in list order, per-cpu lists) for the start
 * and end snapshots.
 *
 * Order of use: collector_check_privileges(), collector_new() (loads the programs, locates
 * VMCOREINFO, derives the kernel's constants from BTF), collector_header(), then with a trace
 * writer: collector_start() (attach), collector_snapshot(START), collector_poll() until done,
 * collector_snapshot(END), collector_stop(), collector_free().
 */
#ifndef FRAGSCOPE_COLLECTOR_H
#define FRAGSCOPE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

struct collector_opts {
	size_t sz;			/* sizeof(struct collector_opts) */
	uint64_t buffer_bytes;		/* ring buffer size; 0 = 64 MiB */
	bool stacks;			/* kernel stack ids for allocations and extfrag events */
	bool no_snapshot;		/* skip the BPF snapshot walks (pagetypeinfo counts only) */
	bool kpageflags_snapshot;	/* force the /proc/kpageflags fallback snapshot */
	bool no_rescue;			/* no recursion-rescue programs: cheaper, skipped events are lost */
	uint32_t ts_sparse;		/* read the clock on 1 event in ts_sparse per CPU (power of two); 0/1 = all */
};

struct collector_stats {
	uint64_t events;		/* events written (without markers) */
	uint64_t per_kind[TEV_KIND_MAX + 1];
	uint64_t lost;			/* ring-buffer reserve failures */
	uint64_t recursion_misses;	/* events the kernel skipped for recursion, not rescued */
	uint64_t rescued;		/* events the rescue programs recorded instead */
	/* pages the kernel freed (its per-cpu PGFREE counters, between the capture's cuts) that no
	 * mm_page_free event reported: events that never reached the programs */
	uint64_t undelivered;
	/* of those, pages freed in time slices that no tracepoint reported at all (a task whose
	 * execution is invisible to tracing: neither BPF nor ftrace sees it), with the last such
	 * task's thread id; undelivered is the rest */
	uint64_t hidden_frees;
	uint32_t hidden_pid;
	bool hidden_known;		/* the slices were followed (else hidden_frees is unknown) */
	/* pages allocated in such slices (the PGALLOC_<zone> counters' growth there): lost
	 * mm_page_alloc events, which no other check sees */
	uint64_t hidden_allocs;
	bool hidden_allocs_known;
	bool free_check;		/* the PGFREE cross-check ran (else undelivered is unknown) */
	uint64_t free_check_kernel;	/* pages the counters grew by */
	uint64_t free_check_seen;	/* pages in the captured mm_page_free events */
	uint64_t bad_records;		/* records that could not be decoded (unknown zone/page) */
	uint64_t first_ts, last_ts;
};

struct collector;

/*
 * 0 if this process may load tracing BPF programs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN),
 * else FS_ERRNO__NO_PRIV. Checked with capget() before libbpf runs, so the user sees one clear
 * line instead of libbpf's memlock hint.
 */
int collector_check_privileges(void);

/* Routes libbpf's messages into util/log.h (warnings at -v, debug at -vv). */
void collector_setup_libbpf_log(void);

struct collector *collector_new(const struct collector_opts *opts, int *err);
void collector_free(struct collector *c);	/* NULL-safe; detaches */

/* Adds the collector's own facts to a header (pageblock bits, migratetypes from BTF,
 * provenance keys). The /proc parts are filled by the caller. */
int collector_header(struct collector *c, struct trace_header *h);

/* Attaches the six programs; events flow into w from the next collector_poll(). */
int collector_start(struct collector *c, struct trace_writer *w);
/* Drains the ring buffer into the writer. Returns events drained or < 0. */
int collector_poll(struct collector *c);
/* Takes a snapshot with a marker cut and writes it to the writer. */
int collector_snapshot(struct collector *c, enum trace_snapshot_which which);
/* How a snapshot compared with /proc/pagetypeinfo (read just before and just after it). */
struct collector_snapshot_check {
	bool taken;
	enum trace_snapshot_method method;
	uint64_t free_blocks, pcp_pages;
	uint32_t lists, lists_equal;		/* (zone, order, type) free lists, and equal ones */
	uint64_t lists_absdiff;			/* sum over lists of |walked - pagetypeinfo| */
	uint32_t block_counts, block_counts_equal;	/* (zone, type) pageblock counts */
	uint64_t blocks_absdiff;
	uint64_t events_during;			/* events between the snapshot's two markers */
	uint64_t duration_ns;
};
void collector_snapshot_get_check(const struct collector *c, enum trace_snapshot_which which,
				  struct collector_snapshot_check *chk);
/* The one-line summary of the last snapshot's cross-check ("" if none). */
const char *collector_snapshot_summary(const struct collector *c, enum trace_snapshot_which which);
/* Writes new stack traces and the pending chunk: the file is readable up to here. */
int collector_flush(struct collector *c);
/* Writes the current loss counters (cumulative) as a loss record. */
int collector_write_loss(struct collector *c);
/* Detaches, drains the rest, writes the loss record. */
int collector_stop(struct collector *c);
void collector_get_stats(const struct collector *c, struct collector_stats *st);

/* ---- internals shared with tests -------------------------------------------------------- */

/* Parses a VMCOREINFO text ("KEY=value\n" lines); value of KEY as a number (hex for SYMBOL,
 * decimal otherwise), or false. */
bool collector_vmcoreinfo_get(const char *text, const char *key, uint64_t *val);

/* /proc/pagetypeinfo, parsed */
struct pti_zone {
	uint32_t node;
	char name[TRACE_NAME_MAX];
	uint32_t nr_types, nr_orders;
	char (*type_names)[TRACE_NAME_MAX];	/* as pagetypeinfo rows name them */
	uint64_t *nr_free;	/* [type * nr_orders + order]; UINT64_MAX where capped ">100000" */
	uint64_t *nr_blocks;	/* [type], by the "Number of blocks type" column names */
};
struct pti {
	uint32_t pageblock_order;
	uint32_t nr_zones;
	struct pti_zone *zones;
};
int collector_pti_parse(const char *text, struct pti *p);
int collector_pti_read(struct pti *p);
void collector_pti_release(struct pti *p);
const struct pti_zone *collector_pti_zone(const struct pti *p, uint32_t node, const char *name);

#endif
