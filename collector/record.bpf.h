/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the record programs (collector/record.bpf.c) and their loader (collector/bpf.c) share:
 * the ring-buffer record and the walkers' argument and output layouts. Included from BPF code
 * (with vmlinux.h) and from user space (with linux/types.h).
 */
#ifndef FRAGSCOPE_COLLECTOR_RECORD_BPF_H
#define FRAGSCOPE_COLLECTOR_RECORD_BPF_H

/* Record kinds: the same numbers as enum trace_event_kind (user space checks it at compile time). */
#define CREC_PAGE_ALLOC			1
#define CREC_PAGE_ALLOC_ZONE_LOCKED	2
#define CREC_PAGE_FREE			3
#define CREC_PAGE_FREE_BATCHED		4
#define CREC_PAGE_PCPU_DRAIN		5
#define CREC_PAGE_ALLOC_EXTFRAG		6
#define CREC_COUNTER			29	/* a CPU's free counter at a cut (not an event): page =
						 * PGFREE, gfp = pages freed unseen (low 32 bits, see
						 * track_slices), pid = the last task that freed them,
						 * mt = the cut (0 start, 1 end); followed by one with
						 * mt = 2 + the cut and page = pages allocated unseen */
#define CREC_MARKER			30
#define CREC_NR_KINDS			32	/* size of the per-cpu loss array */
#define CREC_PGALLOC_MAX		6	/* PGALLOC_<zone> counters the programs add up */

/* flags, in the top 3 bits of struct crec.kind */
#define CRECF_PERCPU_REFILL	(1 << 5)	/* zone_locked: percpu_refill was 1 */
#define CRECF_CHANGE_OWNERSHIP	(1 << 6)	/* extfrag: alloc_mt == pageblock type at trace time */
#define CRECF_NO_PAGE		(1 << 7)	/* page pointer was NULL (failed allocation) */
#define CREC_KIND_MASK		0x1f

#define CREC_ZONE_UNKNOWN	0xff

/*
 * One event, 32 bytes (40 with a stack id). The page travels as the raw struct page pointer
 * and becomes a pfn in user space (vmemmap base from VMCOREINFO): the verifier allows no
 * arithmetic on the trusted pointer, and user space does it for free. The zone is decoded
 * from page->flags here (shifts computed by user space from BTF): zone id =
 * node * nr_zone_types + zone index, CREC_ZONE_UNKNOWN when there is no page.
 */
struct crec {
	__u64 ts;		/* bpf_ktime_get_ns(), taken before the reserve */
	__u64 page;		/* struct page *; for markers the marker id */
	__u32 pid;		/* thread id */
	__u32 gfp;		/* mm_page_alloc: gfp_flags */
	__u16 cpu;
	__u8 kind;		/* CREC_* | CRECF_* */
	__u8 order;		/* order; alloc_order for extfrag */
	__s8 mt;		/* migratetype argument; alloc_migratetype for extfrag; -1 none */
	__u8 fallback_order;	/* extfrag */
	__s8 fallback_mt;	/* extfrag; -1 otherwise */
	__u8 zone;		/* zone id, see above */
};

struct crec_stack {		/* with --stacks, for allocations and extfrag events */
	struct crec r;
	__s32 stack_id;		/* bpf_get_stackid(), < 0 when none */
	__u32 pad;
};

/* ---- snapshot walkers (raw_tp programs run with BPF_PROG_TEST_RUN) ----------------------- */

/* Output buffer of the walkers: an mmapable array of u64 of this many entries (per call). */
#define SNAP_BUF_ENTRIES	(1u << 21)

/* Pageblock walker output, one u64 per pageblock: */
#define SNAP_PB_NOT_ONLINE	(1ull << 62)	/* pfn_to_online_page() would be NULL */
#define SNAP_PB_OTHER_ZONE	(1ull << 61)	/* the block's first page belongs to another zone */
/* low 8 bits: the block's flag bits (NR_PAGEBLOCK_BITS wide); bits 8..23: the page's zone id */

/* Free-list walker result codes (snap_status) */
#define SNAP_OK			0
#define SNAP_BAD_ENTRY		1	/* an entry was not a free buddy page of the list's order */
#define SNAP_TOO_LONG		2	/* more entries than the buffer or the bound */
#define SNAP_READ_FAULT		3	/* a kernel read failed */

#endif
