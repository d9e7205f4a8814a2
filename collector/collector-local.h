/* SPDX-License-Identifier: GPL-2.0-only */
/* The collector's internals, shared by its .c files and tests. */
#ifndef FRAGSCOPE_COLLECTOR_LOCAL_H
#define FRAGSCOPE_COLLECTOR_LOCAL_H

#include "collector/collector.h"

#include <linux/types.h>
#include <time.h>

#include "collector/record.bpf.h"

struct record_bpf;
struct ring_buffer;
struct btf;

/* What this kernel is, from BTF and VMCOREINFO. */
struct collector_kinfo {
	/* BTF */
	uint32_t nr_migratetypes;		/* MIGRATE_TYPES */
	char mt_names[16][TRACE_NAME_MAX];	/* BTF-derived, e.g. "Unmovable" */
	int mt_pcptypes, mt_isolate, mt_highatomic;
	uint32_t nr_pageblock_bits;
	uint32_t pb_isolate_bit;		/* mask, 0 if isolate is a migratetype value */
	uint32_t pb_skip_bit;			/* mask of the compaction skip bit */
	uint32_t max_nr_zones;
	uint32_t max_numnodes;
	uint32_t zone_shift, zone_mask, node_shift, node_mask;
	uint32_t nr_orders;			/* zone.free_area[] length */
	uint32_t nr_pcp_lists;			/* per_cpu_pages.lists[] length */
	uint32_t buddy_type_mask, buddy_type_value;
	uint32_t section_map_last_bit, section_has_mem_map_bit, section_is_online_bit;
	/* VMCOREINFO */
	char *vmcoreinfo;			/* the note's text */
	uint64_t page_offset;			/* direct map base */
	uint64_t mem_section;			/* value of the mem_section pointer */
	uint64_t node_data;			/* address of node_data[], 0 if !NUMA */
	uint64_t contig_page_data;		/* address of contig_page_data if !NUMA */
	uint32_t page_size, page_shift;
	uint32_t sizeof_page, sizeof_mem_section;
	uint32_t sizeof_page_btf;		/* from BTF, for the calibration fallback */
	uint32_t section_size_bits, pfn_section_shift, sections_per_root;
	uint64_t vmemmap;			/* struct page array base */
	uint32_t pageblock_order;
	uint32_t nr_cpus;			/* possible */
	uint64_t *pcpu_off;			/* [nr_cpus] per-cpu offsets, ~0 if unknown */
	/* PGFREE counter of a CPU = its struct rq + pgfree_from_rq (BTF: per-cpu var offsets) */
	uint64_t pgfree_from_rq;
	bool have_pgfree;
	/* the PGALLOC_<zone> counters: the first at struct rq + pgalloc_from_rq, nr_pgalloc of them
	 * in a row (0 = unknown) */
	uint64_t pgalloc_from_rq;
	uint32_t nr_pgalloc;
};

/* One zone as the collector knows it: header index, kernel address. */
struct collector_zone {
	uint32_t node, zone_idx;
	char name[TRACE_NAME_MAX];
	uint64_t addr;			/* struct zone * */
	uint64_t start_pfn, spanned, present;
};

struct collector_snapinfo {
	bool taken;
	uint64_t begin_id, end_id;	/* marker ids */
	bool begin_seen, end_seen;
	uint64_t begin_seq, end_seq;	/* event positions of the two markers */
	uint64_t begin_ts;
	struct trace_snapshot snap;
	struct collector_snapshot_check check;
	char summary[512];
};

struct collector {
	struct collector_opts opts;
	struct collector_kinfo ki;
	struct record_bpf *skel;
	struct ring_buffer *rb;
	struct trace_writer *w;
	uint32_t nr_zones;
	struct collector_zone *zones;
	uint16_t zone_map[256];		/* record zone id -> header zone index */
	int err;			/* first writer error while draining */
	uint64_t last_ts;		/* the last real timestamp in ring order (sparse timestamps) */
	int pcp_warned;
	bool no_vmcoreinfo;		/* calibrated memmap base, kpageflags snapshots */
	bool attached;
	/* free-count cross-check (cut_pgfree), per CPU: the PGFREE counter at the start [0] and
	 * end [1] cuts, whether each cut's record arrived, pages of mm_page_free events between */
	uint64_t *pgfree_cut[2];
	uint8_t *pgfree_cut_seen[2];
	uint64_t *pgfree_pages;
	/* per CPU at each cut: pages freed in time slices no tracepoint reported (low 32 bits of
	 * track_slices' count) and the last task that freed them */
	uint32_t *hidden_cut[2];
	uint32_t *hidden_pid_cut[2];
	uint64_t *hidden_alloc_cut[2];	/* pages allocated in such slices */
	uint8_t *hidden_alloc_seen[2];
	bool slices_on;			/* track_slices is attached */
	bool pgfree_on;			/* the start cut was taken on every CPU */
	bool pgfree_done;		/* ... and the end cut */
	/* FRAGSCOPE_RECORD_TEST_GAP_MS (for the loss test): the mm_page_free programs are
	 * detached for that long, 100 ms into the capture, so that frees are not delivered */
	uint64_t test_gap_ms, test_gap_at;	/* test_gap_at: CLOCK_MONOTONIC ns */
	bool test_gap_done;
	struct collector_stats st;
	struct collector_snapinfo snaps[TRACE_SNAP_MAX];
	uint64_t next_marker;
	/* --stacks */
	uint8_t *stack_seen;		/* [stack map size]: 1 = referenced, 2 = written */
	uint32_t stack_max;
	void *ksyms;			/* struct ksyms * */
};

/* collector/kinfo.c */
int collector_kinfo_btf(struct collector_kinfo *ki);
int collector_kinfo_vmcoreinfo(struct collector *c);
int collector_kinfo_zones(struct collector *c);
int collector_kinfo_zones_proc(struct collector *c);
void collector_kinfo_release(struct collector_kinfo *ki);

/* collector/bpf.c: run a raw_tp program once, with up to 4 arguments, on a CPU (-1 = any). */
int collector_run_prog(struct collector *c, int prog_fd, int cpu, const uint64_t *args, int nargs,
		       long *retval);
/* The walkers' output buffer (mmapped). */
const volatile uint64_t *collector_snap_buf(struct collector *c);

/* CLOCK_MONOTONIC in ns: the clock of the BPF records' timestamps */
static inline uint64_t collector_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* collector/snapshot.c */
int collector_take_snapshot(struct collector *c, struct collector_snapinfo *si, enum trace_snapshot_which which);
/* s->counts from a /proc/pagetypeinfo read, one per zone found there, in the trace's
 * [order * nr_mt + mt] layout; -ENOMEM (s->counts then partly filled: release s). */
int collector_counts_from_pti(const struct collector_zone *zones, uint32_t nr_zones, const struct pti *p,
			      struct trace_snapshot *s);

uint64_t collector_page_to_pfn(const struct collector *c, uint64_t page);

/* collector/kpageflags.c: the fallback snapshot; summary gets the one-line cross-check */
int collector_kpageflags_snapshot(struct collector *c, const struct collector_zone *zones, uint32_t nr_zones,
				  uint32_t nr_orders, struct trace_snapshot *s, char *summary, size_t summary_len);
/* Cuts a run of free pages into the largest aligned blocks, calling emit for each. */
int collector_split_run(uint64_t s, uint64_t e, uint32_t max_order, uint16_t zone,
			int (*emit)(void *ctx, uint64_t pfn, uint16_t zone, uint8_t order), void *ctx);

/* collector/ksyms.c: /proc/kallsyms text symbols; names are "func+0xoff", caller frees */
void *collector_ksyms_load(void);
char *collector_ksyms_name(void *ks, uint64_t addr);
void collector_ksyms_free(void *ks);

#endif
