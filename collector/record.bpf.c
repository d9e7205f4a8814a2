// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragscope record, BPF side.
 *
 * Event programs: tp_btf on the six kmem page tracepoints. Each takes its timestamp, reserves
 * a 32-byte record (40 with a stack id) in one shared ring buffer, fills it and submits it
 * without a wakeup; user space drains the buffer on a timer. A failed reserve is counted per
 * CPU and per kind. The zone comes from page->flags; change_ownership of extfrag events is
 * recomputed from the pageblock bits, as the tracepoint's own assignment does.
 *
 * Snapshot programs (raw_tp, run once each through BPF_PROG_TEST_RUN): locate the VMCOREINFO
 * note, emit a marker into the event stream, walk the pageblock bitmap, one free list, one
 * per-cpu list, and find per-cpu offsets. They read kernel memory with bpf_probe_read_kernel
 * and CO-RE offsets, so they work on any layout the BTF describes; lists are walked unlocked,
 * every entry validated, the walk bounded.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "collector/record.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- configuration: rodata is set before load, bss after load (before attach) --------------- */

const volatile bool with_stacks = false;
const volatile __u32 zone_shift = 0, zone_mask = 0;	/* page->flags >> zone_shift & zone_mask */
const volatile __u32 node_shift = 0, node_mask = 0;
const volatile __u32 nr_zone_types = 1;			/* MAX_NR_ZONES */
/* --timestamps=sparse: read the clock on one event in (mask + 1) per CPU, 0 = every event */
const volatile __u32 ts_sparse_mask = 0;
/* distance from a CPU's struct rq to its PGFREE counter (see cut_pgfree); 0 = unknown */
const volatile __u64 pgfree_from_rq = 0;
/* ... to its first PGALLOC_<zone> counter, and how many zones follow (0 = unknown, at most
 * CREC_PGALLOC_MAX) */
const volatile __u64 pgalloc_from_rq = 0;
const volatile __u32 nr_pgalloc = 0;

/* From VMCOREINFO and BTF, filled after load by user space. */
__u64 vmemmap_base = 0;		/* struct page array base (SPARSEMEM_VMEMMAP) */
__u64 mem_section_addr = 0;	/* the value of mem_section (struct mem_section **) */
__u32 sections_per_root = 0;
__u32 pfn_section_shift = 0;	/* SECTION_SIZE_BITS - PAGE_SHIFT */
__u32 pageblock_order = 0;
__u32 pageblock_bits = 0;	/* NR_PAGEBLOCK_BITS */
__u32 pb_isolate_bit = 0;	/* 6.16+: the standalone isolate bit; 0 if none */
__u32 mt_isolate = 0;		/* MIGRATE_ISOLATE */
__u32 buddy_type_mask = 0, buddy_type_value = 0;	/* PageBuddy: (page_type & mask) == value */
__u32 section_has_mem_map = 0, section_is_online = 0;	/* bit masks */

/* VMCOREINFO location output */
__u64 vmci_paddr = 0;		/* in: physical address of the note */
__u64 vmci_page_offset = 0;	/* out: the direct map base that made the note readable */
__u32 vmci_len = 0;		/* out: bytes copied */
char vmci_note[4096] = {};

/*
 * A zero the verifier cannot see through. Kernels before 6.7 verify a bpf_loop callback once,
 * with the state of its first call, and prune the branches that state makes look dead (6.1
 * walked the first per-cpu list forever): walk state that changes between calls starts from it.
 */
__u32 opaque_zero = 0;

/* per-cpu offset probe output */
__u64 pcpu_map_addr = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);	/* resized by user space (--buffer) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CREC_NR_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Recursion rescue. The kernel skips a tp_btf program that fires again on a CPU where it is
 * already running (a softirq freeing pages while on_page_free runs) and only counts a
 * recursion miss. mm_page_free and mm_page_alloc happen in interrupts, so each runs three
 * programs in attach order: mark_* counts the event as pending on this CPU, on_* emits it and
 * clears the count, rescue_* emits it if it is still pending, which happens exactly when the
 * kernel skipped on_* because it was running underneath. (Seen on 6.18 in bursts: an interrupt
 * arriving as on_page_free's wrapper ends, with its softirq freeing a batch of pages.) Checked
 * on the development machine: misses always equal rescues, and no rescued free has a twin.
 */
struct busy {
	__s32 free, alloc;
	__u64 freed;	/* pages of the mm_page_free events emitted on this CPU (for track_slices) */
	__u64 alloced;	/* ... of the successful mm_page_alloc events */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct busy);
} busy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CREC_NR_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} rescued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ts_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);		/* resized to 16384 with --stacks */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 64 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SNAP_BUF_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} snap_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_probe SEC(".maps");

/* ---- helpers -------------------------------------------------------------------------------- */

/* page->flags is memdesc_flags_t from 6.18, unsigned long before */
struct page___pre618 {
	unsigned long flags;
} __attribute__((preserve_access_index));

static __always_inline __u8 zone_of_flags(__u64 f)
{
	__u64 node = (f >> node_shift) & node_mask;
	__u64 zid = node * nr_zone_types + ((f >> zone_shift) & zone_mask);

	return zid < CREC_ZONE_UNKNOWN ? (__u8)zid : CREC_ZONE_UNKNOWN;
}

static __always_inline __u8 page_zone_id(struct page *page)
{
	__u64 f;

	if (!page)
		return CREC_ZONE_UNKNOWN;
	if (bpf_core_type_exists(memdesc_flags_t))
		f = page->flags.f;
	else
		f = ((struct page___pre618 *)page)->flags;
	return zone_of_flags(f);
}

/*
 * The event's timestamp. bpf_ktime_get_ns() is the largest single cost of an event in a VM
 * (a paravirtual clock read); with --timestamps=sparse only every (mask + 1)-th event of a CPU
 * reads it and the others carry 0, which user space replaces by the last timestamp before them
 * in ring order (the ring buffer's order is the global event order either way).
 */
static __always_inline __u64 event_ts(void)
{
	__u32 zero = 0, *n;

	if (!ts_sparse_mask)
		return bpf_ktime_get_ns();
	n = bpf_map_lookup_elem(&ts_count, &zero);
	if (!n || !((*n)++ & ts_sparse_mask))
		return bpf_ktime_get_ns();
	return 0;
}

static __always_inline void count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &kind);

	if (n)
		*n += 1;
}

static __always_inline void fill(struct crec *r, __u64 ts, struct page *page, __u8 kind, __u8 order,
				 __s8 mt, __u32 gfp, __u8 forder, __s8 fmt, __u32 pid)
{
	r->ts = ts;
	r->page = (__u64)page;
	r->pid = pid;
	r->gfp = gfp;
	r->cpu = (__u16)bpf_get_smp_processor_id();
	r->kind = kind;
	r->order = order;
	r->mt = mt;
	r->fallback_order = forder;
	r->fallback_mt = fmt;
	r->zone = page_zone_id(page);
}

static __always_inline struct busy *get_busy(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&busy, &zero);
}

/*
 * Frees that no tracepoint reports. A task whose execution no tracepoint reports (on the
 * development VM: every thread of PID 1, the sandbox's agent; neither BPF nor ftrace ever sees
 * one of them as current, not even in the sched_switch that ends its time slice) frees pages
 * that PGFREE counts and no mm_page_free shows. Each CPU's slices are followed here: a
 * sched_switch notes the task switched to, PGFREE and the pages of the frees emitted so far;
 * when the next event or sched_switch seen on that CPU is not that task's (note_task, or not
 * its own switch-out), its slice ended unseen, and the PGFREE growth since, less the frees
 * emitted meanwhile, was freed without an event; likewise the PGALLOC_<zone> counters' growth
 * less the allocations emitted, allocated without an event. Such pages are added up per CPU;
 * each cut reports them, so that user space tells these apart from events not delivered.
 */
struct slice {
	__u64 pgfree0, freed0;	/* at the start of the current slice */
	__u64 pgalloc0, alloced0;
	__u64 hidden;		/* pages freed in slices that ended unseen */
	__u64 hidden_alloc;	/* pages allocated in them */
	__u32 pid;		/* the task switched to */
	__u32 hidden_pid;	/* the last such slice's task */
	__u32 valid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slice);
} slices SEC(".maps");

/* This CPU's struct rq, read through the current task (0 if that fails) */
static __always_inline __u64 current_rq(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct rq *rq;

	if (!bpf_core_field_exists(struct cfs_rq, rq))
		return 0;
	rq = BPF_CORE_READ(t, se.cfs_rq, rq);
	if (!rq || BPF_CORE_READ(rq, cpu) != (int)bpf_get_smp_processor_id())
		return 0;
	return (__u64)rq;
}

/* This CPU's PGFREE and the sum of its PGALLOC_<zone> counters (0 when unknown). */
static __always_inline int read_counters(__u64 rq, __u64 *pgfree, __u64 *pgalloc)
{
	__u64 a[CREC_PGALLOC_MAX] = {};

	*pgalloc = 0;
	if (!rq || bpf_probe_read_kernel(pgfree, sizeof(*pgfree), (void *)(rq + pgfree_from_rq)))
		return -1;
	if (nr_pgalloc && !bpf_probe_read_kernel(a, sizeof(a), (void *)(rq + pgalloc_from_rq)))
		for (int i = 0; i < CREC_PGALLOC_MAX; i++)
			if (i < nr_pgalloc)
				*pgalloc += a[i];
	return 0;
}

/* Closes the slice in progress as task `now` is seen running (or switching out), and opens one
 * for task `next` (now when not switching). */
static __always_inline struct slice *slice_step(__u32 now, __u32 next, __u64 pgfree, __u64 pgalloc)
{
	__u32 zero = 0;
	struct slice *s = bpf_map_lookup_elem(&slices, &zero);
	struct busy *b = get_busy();

	if (!s || !b)
		return s;
	if (s->valid && now != s->pid) {
		__s64 gap = (__s64)(pgfree - s->pgfree0) - (__s64)(b->freed - s->freed0);
		__s64 agap = (__s64)(pgalloc - s->pgalloc0) - (__s64)(b->alloced - s->alloced0);

		if (gap > 0) {
			s->hidden += (__u64)gap;
			s->hidden_pid = s->pid;
		}
		if (agap > 0 && nr_pgalloc)
			s->hidden_alloc += (__u64)agap;
	}
	s->pid = next;
	s->pgfree0 = pgfree;
	s->freed0 = b->freed;
	s->pgalloc0 = pgalloc;
	s->alloced0 = b->alloced;
	s->valid = 1;
	return s;
}

/* The first event of a task on this CPU since the last switch seen: the slice before it ended
 * unseen (see track_slices); close it. Cheap when nothing changed: one per-cpu lookup.
 * counted: pages of this very event that the kernel has already counted (an mm_page_alloc
 * fires after rmqueue counted PGALLOC; an mm_page_free before PGFREE is counted). */
static __always_inline void note_task(__u32 cur, __u64 counted)
{
	__u32 zero = 0;
	struct slice *s = bpf_map_lookup_elem(&slices, &zero);
	__u64 v, a;

	if (!s || !s->valid || s->pid == cur || !pgfree_from_rq || read_counters(current_rq(), &v, &a))
		return;
	slice_step(cur, cur, v, a - counted);
}

/* Emits one record (a failed reserve is counted as a loss of that kind on this CPU). */
static __always_inline void emit(void *ctx, struct page *page, __u8 kind, __u8 order, __s8 mt,
				 __u32 gfp, __u8 forder, __s8 fmt, bool stack)
{
	__u64 ts = event_ts();
	__u32 cur = (__u32)bpf_get_current_pid_tgid();

	note_task(cur, kind == CREC_PAGE_ALLOC && page ? 1ull << (order & 63) : 0);
	if (!page)
		kind |= CRECF_NO_PAGE;
	if (with_stacks && stack) {
		struct crec_stack *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);

		if (!s) {
			count_loss(kind & CREC_KIND_MASK);
			return;
		}
		fill(&s->r, ts, page, kind, order, mt, gfp, forder, fmt, cur);
		s->stack_id = bpf_get_stackid(ctx, &stacks, 0);
		s->pad = 0;
		bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
		return;
	}
	struct crec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_loss(kind & CREC_KIND_MASK);
		return;
	}
	fill(r, ts, page, kind, order, mt, gfp, forder, fmt, cur);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* ---- pageblock bits: mirrors include/linux/mmzone.h __pfn_to_section() and
 * mm/page_alloc.c get_pfnblock_flags_mask() / get_pfnblock_migratetype() (6.1, 6.12, 6.18) ---- */

/* Returns the block's flag bits, or < 0 when the section has no memmap or cannot be read.
 * *online is set when the section is online. */
static __always_inline long pageblock_bits_of(__u64 pfn, __u32 *online)
{
	__u64 nr = pfn >> pfn_section_shift, root, ms, smm, usage, word, bitidx;
	__u32 spr = sections_per_root;

	if (!spr || !mem_section_addr)
		return -1;
	if (bpf_probe_read_kernel(&root, sizeof(root), (void *)(mem_section_addr + (nr / spr) * 8)) || !root)
		return -1;
	ms = root + (nr % spr) * bpf_core_type_size(struct mem_section);
	if (bpf_probe_read_kernel(&smm, sizeof(smm),
				  (void *)(ms + bpf_core_field_offset(struct mem_section, section_mem_map))))
		return -1;
	if (!(smm & section_has_mem_map))
		return -1;
	*online = (smm & section_is_online) != 0;
	if (bpf_probe_read_kernel(&usage, sizeof(usage),
				  (void *)(ms + bpf_core_field_offset(struct mem_section, usage))) || !usage)
		return -1;
	bitidx = ((pfn & ((1ull << pfn_section_shift) - 1)) >> pageblock_order) * pageblock_bits;
	if (bpf_probe_read_kernel(&word, sizeof(word),
				  (void *)(usage + bpf_core_field_offset(struct mem_section_usage, pageblock_flags) +
					   (bitidx / 64) * 8)))
		return -1;
	return (word >> (bitidx % 64)) & ((1ull << pageblock_bits) - 1);
}

static __always_inline int migratetype_of_bits(long bits)
{
	if (pb_isolate_bit && (bits & pb_isolate_bit))
		return mt_isolate;
	return bits & 7;	/* PB_migrate_0..2 (the 3-bit type field, all versions) */
}

/* ---- event programs ------------------------------------------------------------------------ */

/* per CPU: the probes of one tracepoint hit run one after the other with preemption off, and a
 * nested hit (an interrupt) completes before the interrupted one goes on */
static __always_inline void count_rescue(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&rescued, &kind);

	if (n)
		*n += 1;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(mark_page_alloc)
{
	struct busy *b = get_busy();

	if (b)
		b->alloc++;
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(on_page_alloc, struct page *page, unsigned int order, gfp_t gfp, int mt)
{
	struct busy *b = get_busy();

	emit(ctx, page, CREC_PAGE_ALLOC, order, mt, gfp, 0, -1, true);
	if (b) {
		b->alloc = 0;
		if (page)
			b->alloced += 1ull << (order & 63);
	}
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(rescue_page_alloc, struct page *page, unsigned int order, gfp_t gfp, int mt)
{
	struct busy *b = get_busy();

	if (b && b->alloc > 0) {
		b->alloc--;
		if (page)
			b->alloced += 1ull << (order & 63);
		emit(ctx, page, CREC_PAGE_ALLOC, order, mt, gfp, 0, -1, true);
		count_rescue(CREC_PAGE_ALLOC);
	}
	return 0;
}

SEC("tp_btf/mm_page_alloc_zone_locked")
int BPF_PROG(on_page_alloc_zone_locked, struct page *page, unsigned int order, int mt, int percpu_refill)
{
	emit(ctx, page, CREC_PAGE_ALLOC_ZONE_LOCKED | (percpu_refill ? CRECF_PERCPU_REFILL : 0),
	     order, mt, 0, 0, -1, false);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mark_page_free)
{
	struct busy *b = get_busy();

	if (b)
		b->free++;
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(on_page_free, struct page *page, unsigned int order)
{
	struct busy *b = get_busy();

	emit(ctx, page, CREC_PAGE_FREE, order, -1, 0, 0, -1, false);
	if (b) {
		b->free = 0;
		b->freed += 1ull << (order & 63);
	}
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(rescue_page_free, struct page *page, unsigned int order)
{
	struct busy *b = get_busy();

	if (b && b->free > 0) {
		b->free--;
		b->freed += 1ull << (order & 63);
		emit(ctx, page, CREC_PAGE_FREE, order, -1, 0, 0, -1, false);
		count_rescue(CREC_PAGE_FREE);
	}
	return 0;
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(on_page_free_batched, struct page *page)
{
	emit(ctx, page, CREC_PAGE_FREE_BATCHED, 0, -1, 0, 0, -1, false);
	return 0;
}

SEC("tp_btf/mm_page_pcpu_drain")
int BPF_PROG(on_page_pcpu_drain, struct page *page, unsigned int order, int mt)
{
	emit(ctx, page, CREC_PAGE_PCPU_DRAIN, order, mt, 0, 0, -1, false);
	return 0;
}

/* mirrors include/trace/events/kmem.h mm_page_alloc_extfrag's change_ownership assignment:
 * alloc_migratetype == get_pageblock_migratetype(page) at trace time (6.1, 6.12, 6.18) */
SEC("tp_btf/mm_page_alloc_extfrag")
int BPF_PROG(on_page_alloc_extfrag, struct page *page, int alloc_order, int fallback_order,
	     int alloc_mt, int fallback_mt)
{
	__u8 kind = CREC_PAGE_ALLOC_EXTFRAG;
	__u64 ts = bpf_ktime_get_ns(), addr;
	struct crec_stack *s;
	__u32 online = 0;
	long bits;

	s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);
	if (!s) {
		count_loss(CREC_PAGE_ALLOC_EXTFRAG);
		return 0;
	}
	/* extfrag records always carry the stack slot (they are rare); -1 without --stacks */
	fill(&s->r, ts, page, page ? kind : kind | CRECF_NO_PAGE, alloc_order, alloc_mt, 0,
	     fallback_order, fallback_mt, (__u32)bpf_get_current_pid_tgid());
	/* read the pointer back from the record: a scalar, which the verifier lets us compute with */
	addr = *(volatile __u64 *)&s->r.page;
	if (addr && vmemmap_base && addr >= vmemmap_base) {
		bits = pageblock_bits_of((addr - vmemmap_base) / bpf_core_type_size(struct page), &online);
		if (bits >= 0 && migratetype_of_bits(bits) == alloc_mt)
			s->r.kind |= CRECF_CHANGE_OWNERSHIP;
	}
	s->stack_id = with_stacks ? bpf_get_stackid(ctx, &stacks, 0) : -1;
	s->pad = 0;
	bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
	return 0;
}

/* ---- memmap base calibration, when VMCOREINFO cannot be read ------------------------------- */

/*
 * calib_btf (tp_btf, attached first, so it runs first) keeps the struct page pointer of each
 * mm_page_free hit per CPU; calib_tp (the classic tracepoint, attached after it) sees the pfn
 * the kernel computed for the same hit: pointer - pfn * sizeof(struct page) is the memmap base.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calib_ptr SEC(".maps");

__u64 calib_base = 0;
__u64 calib_agree = 0, calib_disagree = 0;

SEC("tp_btf/mm_page_free")
int BPF_PROG(calib_btf, struct page *page, unsigned int order)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&calib_ptr, &zero);

	if (slot)
		*slot = (__u64)page;	/* read back as a scalar by calib_tp */
	return 0;
}

SEC("tracepoint/kmem/mm_page_free")
int calib_tp(struct trace_event_raw_mm_page_free *ctx)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&calib_ptr, &zero), p, base;

	if (!slot)
		return 1;
	p = *(volatile __u64 *)slot;
	*slot = 0;
	if (!p)
		return 1;
	base = p - BPF_CORE_READ(ctx, pfn) * bpf_core_type_size(struct page);
	if (!calib_base)
		calib_base = base;
	if (base == calib_base)
		__sync_fetch_and_add(&calib_agree, 1);
	else
		__sync_fetch_and_add(&calib_disagree, 1);
	return 1;	/* classic tracepoint programs return 1: 0 would drop the event for perf users */
}

/* ---- snapshot programs (BPF_PROG_TEST_RUN) -------------------------------------------------- */

/* args[0] = marker id. A marker record in the event stream: the cut of a snapshot. */
SEC("raw_tp")
int emit_marker(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 ts = bpf_ktime_get_ns();
	struct crec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		return -1;	/* user space drains the buffer and tries again: not a loss */
	__builtin_memset(r, 0, sizeof(*r));
	r->ts = ts;
	r->page = ctx->args[0];
	r->pid = (__u32)bpf_get_current_pid_tgid();
	r->cpu = (__u16)bpf_get_smp_processor_id();
	r->kind = CREC_MARKER;
	r->mt = -1;
	r->fallback_mt = -1;
	r->zone = CREC_ZONE_UNKNOWN;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(track_slices, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* direct loads through the trusted pointers, not probe reads: this runs on every switch */
	struct rq *rq = prev->se.cfs_rq ? prev->se.cfs_rq->rq : NULL;
	__u64 v, a;

	if (!pgfree_from_rq || !rq || rq->cpu != (int)bpf_get_smp_processor_id() ||
	    read_counters((__u64)rq, &v, &a))
		return 0;
	slice_step((__u32)prev->pid, (__u32)next->pid, v, a);
	return 0;
}

/*
 * The free-count cut, run on each CPU in turn with interrupts off there (test run on that CPU):
 * args[0] = distance from the CPU's struct rq to its PGFREE event counter (both per-cpu
 * variables), args[1] = 0 at the start of the capture, 1 at the end. Writes a CREC_COUNTER
 * record with the counter into the ring, so that it sits exactly between this CPU's events
 * before and after the cut. The kernel counts every page it frees to a per-cpu list or the
 * buddy (mm/page_alloc.c, __count_vm_events(PGFREE, 1 << order), 6.1, 6.12, 6.18) on the CPU
 * that frees it, right after the mm_page_free tracepoint: user space compares the counters'
 * growth between the cuts with the pages of the mm_page_free events it received, which
 * catches events that never reached the programs. Returns -1 if the ring is full (drain and
 * retry), -2 if the CPU's runqueue cannot be read.
 */
SEC("raw_tp")
int cut_pgfree(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 cur = (__u32)bpf_get_current_pid_tgid();
	__u64 rq = current_rq(), v = 0, a = 0;
	struct slice *s = NULL;
	struct crec *r, *r2;

	if (!rq || bpf_probe_read_kernel(&v, sizeof(v), (void *)(rq + ctx->args[0])))
		return -2;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return -1;
	r2 = bpf_ringbuf_reserve(&events, sizeof(*r2), 0);
	if (!r2) {
		bpf_ringbuf_discard(r, 0);
		return -1;
	}
	/* the cut also closes a slice that ended unseen, so that its pages fall on the right side */
	if (pgfree_from_rq && !read_counters(rq, &v, &a))
		s = slice_step(cur, cur, v, a);
	__builtin_memset(r2, 0, sizeof(*r2));
	r2->page = s ? s->hidden_alloc : 0;
	r2->cpu = (__u16)bpf_get_smp_processor_id();
	r2->kind = CREC_COUNTER;
	r2->mt = (__s8)(2 + ctx->args[1]);
	r2->fallback_mt = -1;
	r2->zone = CREC_ZONE_UNKNOWN;
	__builtin_memset(r, 0, sizeof(*r));
	r->ts = bpf_ktime_get_ns();
	r->page = v;
	r->pid = s ? s->hidden_pid : 0;
	r->gfp = s ? (__u32)s->hidden : 0;
	r->cpu = (__u16)bpf_get_smp_processor_id();
	r->kind = CREC_COUNTER;
	r->mt = (__s8)ctx->args[1];
	r->fallback_mt = -1;
	r->zone = CREC_ZONE_UNKNOWN;
	bpf_ringbuf_submit(r, 0);
	bpf_ringbuf_submit(r2, 0);
	return 0;
}

struct vmci_ctx {
	__u64 base;
	__u64 found;
};

static long vmci_probe(__u64 i, struct vmci_ctx *c)
{
	struct {
		__u32 namesz, descsz, type;
		char name[12];
	} hdr;
	__u64 cand = c->base - i * (1ull << 30);

	if (cand < 0xffff800000000000ull)
		return 1;
	if (bpf_probe_read_kernel(&hdr, sizeof(hdr), (void *)(cand + vmci_paddr)))
		return 0;
	if (hdr.namesz == 11 && hdr.type == 0 && hdr.name[0] == 'V' && hdr.name[1] == 'M' &&
	    hdr.name[2] == 'C' && hdr.name[3] == 'O' && hdr.name[4] == 'R' && hdr.name[5] == 'E' &&
	    hdr.name[6] == 'I' && hdr.name[7] == 'N' && hdr.name[8] == 'F' && hdr.name[9] == 'O') {
		c->found = cand;
		return 1;
	}
	return 0;
}

/*
 * Finds the VMCOREINFO note through the direct map: the current task_struct lives there, so
 * the direct map base is at or below it, aligned to 1 GiB; try each candidate downwards until
 * the note's header appears at candidate + the note's physical address.
 */
SEC("raw_tp")
int find_vmcoreinfo(struct bpf_raw_tracepoint_args *ctx)
{
	struct vmci_ctx c = {};
	__u32 hdr[3];
	__u32 n;

	c.base = (__u64)bpf_get_current_task() & ~((1ull << 30) - 1);
	bpf_loop(1 << 20, vmci_probe, &c, 0);
	if (!c.found)
		return -1;
	vmci_page_offset = c.found;
	if (bpf_probe_read_kernel(hdr, sizeof(hdr), (void *)(c.found + vmci_paddr)))
		return -1;
	n = hdr[1];
	if (n > sizeof(vmci_note) - 1)
		n = sizeof(vmci_note) - 1;
	/* the description follows the 12-byte header and the 4-aligned name "VMCOREINFO\0" */
	if (bpf_probe_read_kernel(vmci_note, n & 4095, (void *)(c.found + vmci_paddr + 24)))
		return -1;
	vmci_len = n;
	return 0;
}

struct pcpu_walk {
	__u64 base;
};

static long pcpu_step(__u64 i, struct pcpu_walk *w)
{
	__u32 key = i, zero = 0;
	__u64 *out = bpf_map_lookup_elem(&snap_buf, &key), p;

	if (!out)
		return 1;
	*out = (__u64)bpf_map_lookup_percpu_elem(&pcpu_probe, &zero, (__u32)i);
	p = *(volatile __u64 *)out;	/* reloaded as a scalar */
	*out = p ? p - w->base : ~0ull;
	return 0;
}

/* Per-cpu offsets (args[0] = number of CPUs): the percpu array's pointer for each CPU minus its
 * base pointer, to snap_buf[cpu]. */
SEC("raw_tp")
int probe_percpu(struct bpf_raw_tracepoint_args *ctx)
{
	struct pcpu_walk w = {};
	__u64 map;

	/* store and reload through map memory: a scalar copy of the map's address */
	pcpu_map_addr = (__u64)&pcpu_probe;
	map = *(volatile __u64 *)&pcpu_map_addr;
	/* struct bpf_array: the map, then elem_size, index_mask..., then the pptrs[] union */
	if (bpf_probe_read_kernel(&w.base, sizeof(w.base),
				  (void *)(map + bpf_core_field_offset(struct bpf_array, pptrs))))
		return -1;
	bpf_loop((__u32)ctx->args[0], pcpu_step, &w, 0);
	return 0;
}

struct list_walk {
	__u64 head;		/* address of the list_head */
	__u64 pos;		/* current node */
	__u64 link_off;		/* offset of the list_head inside struct page */
	__u32 n, max;
	__u32 want_order;	/* free lists: page->private must equal it; ~0 = no check */
	__u32 status;
	__u32 check_buddy;
};

static long list_step(__u64 i, struct list_walk *w)
{
	__u64 page, next;
	__u32 key = w->n, ptype;
	__u64 priv, *out;

	if (w->pos == w->head)
		return 1;
	if (w->n >= w->max) {
		w->status = SNAP_TOO_LONG;
		return 1;
	}
	page = w->pos - w->link_off;
	if (w->check_buddy) {
		if (bpf_probe_read_kernel(&ptype, sizeof(ptype),
					  (void *)(page + bpf_core_field_offset(struct page, page_type))) ||
		    bpf_probe_read_kernel(&priv, sizeof(priv),
					  (void *)(page + bpf_core_field_offset(struct page, private)))) {
			w->status = SNAP_READ_FAULT;
			return 1;
		}
		if ((ptype & buddy_type_mask) != buddy_type_value || priv != w->want_order) {
			w->status = SNAP_BAD_ENTRY;
			return 1;
		}
	}
	out = bpf_map_lookup_elem(&snap_buf, &key);
	if (!out) {
		w->status = SNAP_TOO_LONG;
		return 1;
	}
	*out = page;
	w->n++;
	if (bpf_probe_read_kernel(&next, sizeof(next), (void *)w->pos)) {	/* list_head.next */
		w->status = SNAP_READ_FAULT;
		return 1;
	}
	w->pos = next;
	return 0;
}

static __always_inline int walk_list(struct list_walk *w)
{
	if (bpf_probe_read_kernel(&w->pos, sizeof(w->pos), (void *)w->head))
		return -SNAP_READ_FAULT;
	bpf_loop(1 << 23, list_step, w, 0);
	if (w->status == SNAP_OK && w->pos != w->head)
		w->status = SNAP_TOO_LONG;
	return w->status ? -(int)w->status : (int)w->n;
}

/*
 * One free list: args[0] = zone address, args[1] = order, args[2] = migratetype, args[3] = max.
 * Writes the entries' struct page addresses, head first, to snap_buf; returns their number or
 * -SNAP_*. mirrors the layout of struct zone.free_area[order].free_list[mt] (6.1, 6.12, 6.18).
 */
SEC("raw_tp")
int walk_free_list(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 zone = ctx->args[0], order = ctx->args[1], mt = ctx->args[2];
	struct list_walk w = {};

	w.head = zone + bpf_core_field_offset(struct zone, free_area) +
		 order * bpf_core_type_size(struct free_area) +
		 bpf_core_field_offset(struct free_area, free_list) + mt * bpf_core_type_size(struct list_head);
	w.link_off = bpf_core_field_offset(struct page, buddy_list);
	w.max = ctx->args[3] < SNAP_BUF_ENTRIES ? ctx->args[3] : SNAP_BUF_ENTRIES;
	w.want_order = order;
	w.check_buddy = 1;
	w.n = *(volatile __u32 *)&opaque_zero;
	w.status = *(volatile __u32 *)&opaque_zero;
	return walk_list(&w);
}

struct pcp_walk {
	__u64 pcp;		/* this CPU's struct per_cpu_pages */
	__u64 head, pos;
	__u32 pindex, nr_lists;
	__u32 n, max;		/* next free slot of snap_buf, its bound */
	__u32 count_slot, list_n;
	__u32 starting, status;
};

static __always_inline int snap_put(__u32 idx, __u64 v)
{
	__u64 *out = bpf_map_lookup_elem(&snap_buf, &idx);

	if (!out)
		return -1;
	*out = v;
	return 0;
}

static long pcp_step(__u64 i, struct pcp_walk *w)
{
	if (w->n + 2 >= w->max) {
		w->status = SNAP_TOO_LONG;
		return 1;
	}
	if (w->starting) {
		if (w->pindex >= w->nr_lists)
			return 1;
		w->head = w->pcp + bpf_core_field_offset(struct per_cpu_pages, lists) +
			  w->pindex * bpf_core_type_size(struct list_head);
		if (bpf_probe_read_kernel(&w->pos, sizeof(w->pos), (void *)w->head)) {
			w->status = SNAP_READ_FAULT;
			return 1;
		}
		w->count_slot = w->n++;
		w->list_n = 0;
		w->starting = 0;
		return 0;
	}
	if (w->pos == w->head) {
		snap_put(w->count_slot, w->list_n);
		w->pindex++;
		w->starting = 1;
		return 0;
	}
	if (snap_put(w->n, w->pos - bpf_core_field_offset(struct page, pcp_list))) {
		w->status = SNAP_TOO_LONG;
		return 1;
	}
	w->n++;
	w->list_n++;
	if (bpf_probe_read_kernel(&w->pos, sizeof(w->pos), (void *)w->pos)) {
		w->status = SNAP_READ_FAULT;
		return 1;
	}
	return 0;
}

/*
 * All per-cpu lists of one zone on one CPU in one run (run it on that CPU: the test run
 * happens in an IPI, interrupts off, so the CPU's own list operations stand still):
 * args[0] = zone, args[1] = the CPU's per-cpu offset, args[2] = number of lists, args[3] = max.
 * snap_buf gets, per list, its length followed by its entries head first, then pcp->count.
 * Returns the number of words written, or -SNAP_*.
 */
SEC("raw_tp")
int walk_pcp_all(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 zone = ctx->args[0], off = ctx->args[1], nr_lists = ctx->args[2], max = ctx->args[3], pcp = 0;
	struct pcp_walk w = {};
	int count = -1;

	if (bpf_probe_read_kernel(&pcp, sizeof(pcp),
				  (void *)(zone + bpf_core_field_offset(struct zone, per_cpu_pageset))) || !pcp)
		return -SNAP_READ_FAULT;
	w.pcp = pcp + off;
	w.nr_lists = nr_lists;
	w.max = max < SNAP_BUF_ENTRIES ? max : SNAP_BUF_ENTRIES;
	w.pindex = *(volatile __u32 *)&opaque_zero;
	w.n = *(volatile __u32 *)&opaque_zero;
	w.list_n = *(volatile __u32 *)&opaque_zero;
	w.count_slot = *(volatile __u32 *)&opaque_zero;
	w.status = *(volatile __u32 *)&opaque_zero;
	w.head = *(volatile __u32 *)&opaque_zero;
	w.pos = *(volatile __u32 *)&opaque_zero;
	w.starting = *(volatile __u32 *)&opaque_zero == 0;
	bpf_loop(1 << 23, pcp_step, &w, 0);
	if (w.status)
		return -(int)w.status;
	if (w.pindex < w.nr_lists)
		return -SNAP_TOO_LONG;
	if (bpf_probe_read_kernel(&count, sizeof(count),
				  (void *)(w.pcp + bpf_core_field_offset(struct per_cpu_pages, count))))
		return -SNAP_READ_FAULT;
	snap_put(w.n, (__u64)(__s64)count);
	return w.n + 1;
}

struct pb_walk {
	__u64 first_pfn;
	__u64 nr;
	__u32 zone_id;
	__u32 faults;
};

static long pb_step(__u64 i, struct pb_walk *w)
{
	__u64 pfn = w->first_pfn + (i << pageblock_order), f = 0, v;
	__u32 key = i, online = 0;
	__u64 *out;
	long bits;

	if (i >= w->nr)
		return 1;
	out = bpf_map_lookup_elem(&snap_buf, &key);
	if (!out)
		return 1;
	bits = pageblock_bits_of(pfn, &online);
	if (bits < 0) {
		*out = SNAP_PB_NOT_ONLINE;
		return 0;
	}
	v = (__u64)bits;
	if (!online)
		v |= SNAP_PB_NOT_ONLINE;
	if (bpf_probe_read_kernel(&f, sizeof(f), (void *)(vmemmap_base + pfn * bpf_core_type_size(struct page)))) {
		w->faults++;
		v |= SNAP_PB_NOT_ONLINE;
	} else {
		__u8 zid = zone_of_flags(f);

		if (zid != w->zone_id)
			v |= SNAP_PB_OTHER_ZONE;
		v |= (__u64)zid << 8;
	}
	*out = v;
	return 0;
}

/*
 * Pageblocks of a zone: args[0] = first pfn (block aligned), args[1] = number of blocks,
 * args[2] = the zone's id as page->flags encodes it. One u64 per block to snap_buf.
 * mirrors mm/vmstat.c pagetypeinfo_showblockcount_print(): pfn_to_online_page(), page_zone()
 * check, get_pageblock_migratetype() (6.1, 6.12, 6.18).
 */
SEC("raw_tp")
int walk_pageblocks(struct bpf_raw_tracepoint_args *ctx)
{
	struct pb_walk w = {};

	w.first_pfn = ctx->args[0];
	w.nr = ctx->args[1] < SNAP_BUF_ENTRIES ? ctx->args[1] : SNAP_BUF_ENTRIES;
	w.zone_id = ctx->args[2];
	w.faults = *(volatile __u32 *)&opaque_zero;
	bpf_loop(w.nr, pb_step, &w, 0);
	return w.faults;
}

/* args[0] = node id, args[1] = address of node_data[] (0 for contig_page_data in args[2]):
 * returns through snap_buf[0] the pglist_data address, [1..] nothing. */
SEC("raw_tp")
int node_pgdat(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 node = ctx->args[0], arr = ctx->args[1], contig = ctx->args[2], pgdat = 0;
	__u32 key = 0;
	__u64 *out = bpf_map_lookup_elem(&snap_buf, &key);

	if (!out)
		return -1;
	if (arr) {
		if (bpf_probe_read_kernel(&pgdat, sizeof(pgdat), (void *)(arr + node * 8)))
			return -1;
	} else {
		pgdat = contig;
	}
	*out = pgdat;
	return 0;
}

/* args[0] = pgdat, args[1] = zone index: zone address, start pfn, spanned, present to snap_buf[0..3] */
SEC("raw_tp")
int zone_info(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 zone = ctx->args[0] + bpf_core_field_offset(struct pglist_data, node_zones) +
		     ctx->args[1] * bpf_core_type_size(struct zone);
	__u64 v[4] = {};
	__u32 k;

	v[0] = zone;
	if (bpf_probe_read_kernel(&v[1], 8, (void *)(zone + bpf_core_field_offset(struct zone, zone_start_pfn))) ||
	    bpf_probe_read_kernel(&v[2], 8, (void *)(zone + bpf_core_field_offset(struct zone, spanned_pages))) ||
	    bpf_probe_read_kernel(&v[3], 8, (void *)(zone + bpf_core_field_offset(struct zone, present_pages))))
		return -1;
	for (k = 0; k < 4; k++) {
		__u32 key = k;
		__u64 *out = bpf_map_lookup_elem(&snap_buf, &key);

		if (!out)
			return -1;
		*out = v[k & 3];
	}
	return 0;
}
