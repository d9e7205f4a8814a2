// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector's session: privileges, loading, attaching, draining the ring buffer into the
 * trace writer, loss accounting, stacks.
 */
#include "collector/collector-local.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector/record.skel.h"
#include "util/errors.h"
#include "util/log.h"

_Static_assert(CREC_PAGE_ALLOC == TEV_PAGE_ALLOC, "kind numbers");
_Static_assert(CREC_PAGE_ALLOC_ZONE_LOCKED == TEV_PAGE_ALLOC_ZONE_LOCKED, "kind numbers");
_Static_assert(CREC_PAGE_FREE == TEV_PAGE_FREE, "kind numbers");
_Static_assert(CREC_PAGE_FREE_BATCHED == TEV_PAGE_FREE_BATCHED, "kind numbers");
_Static_assert(CREC_PAGE_PCPU_DRAIN == TEV_PAGE_PCPU_DRAIN, "kind numbers");
_Static_assert(CREC_PAGE_ALLOC_EXTFRAG == TEV_PAGE_ALLOC_EXTFRAG, "kind numbers");
_Static_assert(CREC_MARKER == TEV_MARKER, "kind numbers");
_Static_assert(sizeof(struct crec) == 32, "record size");
_Static_assert(sizeof(struct crec_stack) == 40, "record size");

#define STACK_MAP_ENTRIES 16384
#define DEFAULT_BUFFER (64ull << 20)

/* ---- privileges and libbpf's messages ------------------------------------------------------- */

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int collector_check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data) != 0)
		return geteuid() == 0 ? 0 : FS_ERRNO__NO_PRIV;
	eff = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	if (eff & (1ull << CAP_SYS_ADMIN))
		return 0;
	if ((eff & (1ull << CAP_BPF)) && (eff & (1ull << CAP_PERFMON)))
		return 0;
	return FS_ERRNO__NO_PRIV;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings (verifier logs, the memlock hint) are details behind our own
	 * one-line errors: shown with -v, its debug output with -vv */
	enum log_level l = level == LIBBPF_DEBUG ? LOG_DEBUG : LOG_INFO;
	char *msg = NULL, *line, *save = NULL;

	if (log_get_level() < l)
		return 0;
	/* verifier logs are long: one log line per line of the message */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_msg(l, "%s", line);
	free(msg);
	return 0;
}

void collector_setup_libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

/* ---- running walkers -------------------------------------------------------------------------- */

static volatile uint64_t *snap_buf_map;

const volatile uint64_t *collector_snap_buf(struct collector *c)
{
	(void)c;
	return snap_buf_map;
}

int collector_run_prog(struct collector *c, int prog_fd, int cpu, const uint64_t *args, int nargs, long *retval)
{
	uint64_t ctx[8] = {};
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	(void)c;
	if (nargs > 8)
		return -EINVAL;
	if (args && nargs)
		memcpy(ctx, args, nargs * sizeof(uint64_t));
	o.ctx_in = ctx;
	o.ctx_size_in = sizeof(ctx);
	if (cpu >= 0) {
		o.flags = BPF_F_TEST_RUN_ON_CPU;
		o.cpu = (uint32_t)cpu;
	}
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	*retval = (int32_t)o.retval;
	return 0;
}

uint64_t collector_page_to_pfn(const struct collector *c, uint64_t page)
{
	if (!page || page < c->ki.vmemmap || !c->ki.sizeof_page)
		return TRACE_PFN_NONE;
	return (page - c->ki.vmemmap) / c->ki.sizeof_page;
}

/* ---- loading ---------------------------------------------------------------------------------- */

static int read_pageblock_order(uint32_t *order)
{
	struct pti p;
	int err = collector_pti_read(&p);

	if (err)
		return err;
	*order = p.pageblock_order;
	collector_pti_release(&p);
	return *order ? 0 : -EINVAL;
}

static int probe_percpu_offsets(struct collector *c)
{
	uint64_t args[1] = { c->ki.nr_cpus };
	long ret;
	int err;

	c->ki.pcpu_off = calloc(c->ki.nr_cpus, sizeof(uint64_t));
	if (!c->ki.pcpu_off)
		return -ENOMEM;
	err = collector_run_prog(c, bpf_program__fd(c->skel->progs.probe_percpu), -1, args, 1, &ret);
	if (err || ret) {
		pr_warn("cannot find the per-cpu offsets: per-cpu lists will not be in the snapshot");
		for (uint32_t i = 0; i < c->ki.nr_cpus; i++)
			c->ki.pcpu_off[i] = ~0ull;
		return 0;
	}
	for (uint32_t i = 0; i < c->ki.nr_cpus; i++)
		c->ki.pcpu_off[i] = snap_buf_map[i];
	return 0;
}

/*
 * Without VMCOREINFO: the memmap base from pairs of the same mm_page_free hit seen by a tp_btf
 * program (the struct page pointer) and by the classic tracepoint (the pfn the kernel computed).
 * Needs tracefs (the classic tracepoint's id). Frees a few MiB of our own to get hits.
 */
static int calibrate_vmemmap(struct collector *c)
{
	struct bpf_link *l1 = NULL, *l2 = NULL;
	int err = 0;

	if (!c->ki.sizeof_page_btf) {
		pr_err("kernel BTF has no struct page size");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	l1 = bpf_program__attach(c->skel->progs.calib_btf);
	if (l1)
		l2 = bpf_program__attach(c->skel->progs.calib_tp);
	if (!l1 || !l2) {
		err = -errno;
		pr_err("cannot attach the memmap calibration programs: %s", strerror(errno));
		goto out;
	}
	for (int round = 0; round < 100 && c->skel->bss->calib_agree < 1000; round++) {
		size_t len = 4u << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		for (size_t i = 0; i < len; i += 4096)
			p[i] = 1;
		munmap(p, len);
	}
out:
	bpf_link__destroy(l2);
	bpf_link__destroy(l1);
	if (err)
		return err;
	if (c->skel->bss->calib_agree < 100 || c->skel->bss->calib_disagree * 100 > c->skel->bss->calib_agree) {
		pr_err("cannot calibrate the memmap base (%llu consistent, %llu inconsistent pairs)",
		       (unsigned long long)c->skel->bss->calib_agree, (unsigned long long)c->skel->bss->calib_disagree);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	c->ki.vmemmap = c->skel->bss->calib_base;
	c->ki.sizeof_page = c->ki.sizeof_page_btf;
	c->ki.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	pr_info("memmap base 0x%llx calibrated from %llu pairs", (unsigned long long)c->ki.vmemmap,
		(unsigned long long)c->skel->bss->calib_agree);
	return 0;
}

struct collector *collector_new(const struct collector_opts *opts, int *errp)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct record_bpf *skel;
	int err;

	if (!c) {
		*errp = -ENOMEM;
		return NULL;
	}
	if (opts)
		memcpy(&c->opts, opts, opts->sz && opts->sz < sizeof(c->opts) ? opts->sz : sizeof(c->opts));
	c->opts.sz = sizeof(c->opts);
	if (!c->opts.buffer_bytes)
		c->opts.buffer_bytes = DEFAULT_BUFFER;
	c->next_marker = 1;

	err = collector_kinfo_btf(&c->ki);
	if (err)
		goto fail;
	for (int i = 0; i < 2; i++) {
		c->pgfree_cut[i] = calloc(c->ki.nr_cpus, sizeof(uint64_t));
		c->pgfree_cut_seen[i] = calloc(c->ki.nr_cpus, 1);
		c->hidden_cut[i] = calloc(c->ki.nr_cpus, sizeof(uint32_t));
		c->hidden_pid_cut[i] = calloc(c->ki.nr_cpus, sizeof(uint32_t));
		c->hidden_alloc_cut[i] = calloc(c->ki.nr_cpus, sizeof(uint64_t));
		c->hidden_alloc_seen[i] = calloc(c->ki.nr_cpus, 1);
	}
	c->pgfree_pages = calloc(c->ki.nr_cpus, sizeof(uint64_t));
	if (!c->pgfree_cut[0] || !c->pgfree_cut[1] || !c->pgfree_cut_seen[0] || !c->pgfree_cut_seen[1] ||
	    !c->hidden_cut[0] || !c->hidden_cut[1] || !c->hidden_pid_cut[0] || !c->hidden_pid_cut[1] ||
	    !c->hidden_alloc_cut[0] || !c->hidden_alloc_cut[1] || !c->hidden_alloc_seen[0] || !c->hidden_alloc_seen[1] ||
	    !c->pgfree_pages) {
		err = -ENOMEM;
		goto fail;
	}
	err = read_pageblock_order(&c->ki.pageblock_order);
	if (err) {
		pr_err("cannot read '/proc/pagetypeinfo': %s", strerror(-err));
		goto fail;
	}

	skel = record_bpf__open();
	if (!skel) {
		err = -errno;
		pr_err("cannot open the BPF programs: %s", strerror(errno));
		goto fail;
	}
	c->skel = skel;
	skel->rodata->with_stacks = c->opts.stacks;
	skel->rodata->zone_shift = c->ki.zone_shift;
	skel->rodata->zone_mask = c->ki.zone_mask;
	skel->rodata->node_shift = c->ki.node_shift;
	skel->rodata->node_mask = c->ki.node_mask;
	skel->rodata->nr_zone_types = c->ki.max_nr_zones;
	skel->rodata->ts_sparse_mask = c->opts.ts_sparse > 1 ? c->opts.ts_sparse - 1 : 0;
	skel->rodata->pgfree_from_rq = c->ki.have_pgfree ? c->ki.pgfree_from_rq : 0;
	skel->rodata->pgalloc_from_rq = c->ki.pgalloc_from_rq;
	skel->rodata->nr_pgalloc = c->ki.nr_pgalloc;
	if (!c->ki.have_pgfree)
		bpf_program__set_autoload(skel->progs.track_slices, false);
	bpf_map__set_max_entries(skel->maps.events, (uint32_t)c->opts.buffer_bytes);
	if (c->opts.stacks)
		bpf_map__set_max_entries(skel->maps.stacks, STACK_MAP_ENTRIES);
	err = record_bpf__load(skel);
	if (err) {
		pr_err("cannot load the BPF programs: %s (run with -v for the kernel's log)", strerror(-err));
		goto fail;
	}
	snap_buf_map = mmap(NULL, SNAP_BUF_ENTRIES * sizeof(uint64_t), PROT_READ, MAP_SHARED,
			    bpf_map__fd(skel->maps.snap_buf), 0);
	if (snap_buf_map == MAP_FAILED) {
		snap_buf_map = NULL;
		err = -errno;
		pr_err("cannot map the snapshot buffer: %s", strerror(errno));
		goto fail;
	}

	/* FRAGSCOPE_RECORD_NO_VMCOREINFO=1 takes the fallback path on purpose (for its test) */
	err = getenv("FRAGSCOPE_RECORD_NO_VMCOREINFO") ? FS_ERRNO__KERNEL_LAYOUT : collector_kinfo_vmcoreinfo(c);
	if (err == FS_ERRNO__KERNEL_LAYOUT) {
		pr_warn("no VMCOREINFO: calibrating the memmap base from mm_page_free; the snapshots fall back to "
			"/proc/kpageflags and extfrag change_ownership is not recorded");
		c->no_vmcoreinfo = true;
		c->opts.kpageflags_snapshot = true;
		err = calibrate_vmemmap(c);
		if (!err)
			err = collector_kinfo_zones_proc(c);
		if (err)
			goto fail;
		skel->bss->vmemmap_base = c->ki.vmemmap;
		goto ready;
	}
	if (err)
		goto fail;
	skel->bss->vmemmap_base = c->ki.vmemmap;
	skel->bss->mem_section_addr = c->ki.mem_section;
	skel->bss->sections_per_root = c->ki.sections_per_root;
	skel->bss->pfn_section_shift = c->ki.pfn_section_shift;
	skel->bss->pageblock_order = c->ki.pageblock_order;
	skel->bss->pageblock_bits = c->ki.nr_pageblock_bits;
	skel->bss->pb_isolate_bit = c->ki.pb_isolate_bit;
	skel->bss->mt_isolate = (uint32_t)c->ki.mt_isolate;
	skel->bss->buddy_type_mask = c->ki.buddy_type_mask;
	skel->bss->buddy_type_value = c->ki.buddy_type_value;
	skel->bss->section_has_mem_map = 1u << c->ki.section_has_mem_map_bit;
	skel->bss->section_is_online = 1u << c->ki.section_is_online_bit;
	err = collector_kinfo_zones(c);
	if (err)
		goto fail;
	err = probe_percpu_offsets(c);
	if (err)
		goto fail;
ready:
	if (c->opts.stacks) {
		c->stack_max = STACK_MAP_ENTRIES;
		c->stack_seen = calloc(c->stack_max, 1);
		if (!c->stack_seen) {
			err = -ENOMEM;
			goto fail;
		}
	}
	return c;
fail:
	collector_free(c);
	*errp = err;
	return NULL;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	if (snap_buf_map)
		munmap((void *)snap_buf_map, SNAP_BUF_ENTRIES * sizeof(uint64_t));
	snap_buf_map = NULL;
	record_bpf__destroy(c->skel);
	for (int i = 0; i < TRACE_SNAP_MAX; i++)
		trace_snapshot_release(&c->snaps[i].snap);
	collector_kinfo_release(&c->ki);
	for (int i = 0; i < 2; i++) {
		free(c->pgfree_cut[i]);
		free(c->pgfree_cut_seen[i]);
		free(c->hidden_cut[i]);
		free(c->hidden_pid_cut[i]);
		free(c->hidden_alloc_cut[i]);
		free(c->hidden_alloc_seen[i]);
	}
	free(c->pgfree_pages);
	free(c->zones);
	free(c->stack_seen);
	collector_ksyms_free(c->ksyms);
	free(c);
}

/* ---- header ------------------------------------------------------------------------------------ */

int collector_header(struct collector *c, struct trace_header *h)
{
	char buf[64];
	int err = 0;

	h->page_size = c->ki.page_size ? c->ki.page_size : h->page_size;
	h->pageblock_order = c->ki.pageblock_order;
	h->nr_orders = c->ki.nr_orders;
	h->nr_cpus = c->ki.nr_cpus;
	h->nr_pageblock_bits = c->ki.nr_pageblock_bits;
	free(h->migratetypes);
	h->migratetypes = calloc(c->ki.nr_migratetypes, sizeof(*h->migratetypes));
	if (!h->migratetypes)
		return -ENOMEM;
	h->nr_migratetypes = c->ki.nr_migratetypes;
	for (uint32_t i = 0; i < c->ki.nr_migratetypes; i++) {
		snprintf(h->migratetypes[i].name, TRACE_NAME_MAX, "%s", c->ki.mt_names[i]);
		h->migratetypes[i].value = i;
	}
	err |= trace_header_set(h, "capture.mode", "bpf tp_btf ringbuf");
	err |= trace_header_set(h, "capture.collector", "fragscope record " FRAGSCOPE_VERSION);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->opts.buffer_bytes);
	err |= trace_header_set(h, "capture.ring_buffer_bytes", buf);
	err |= trace_header_set(h, "capture.stacks", c->opts.stacks ? "1" : "0");
	err |= trace_header_set(h, "capture.recursion_rescue", c->opts.no_rescue ? "0" : "1");
	err |= trace_header_set(h, "capture.free_count_check",
				c->ki.have_pgfree ? "per-cpu PGFREE counters at start and end cuts" : "unavailable");
	err |= trace_header_set(h, "capture.pfn_source", c->no_vmcoreinfo ? "calibrated memmap base" : "vmcoreinfo memmap base");
	err |= trace_header_set(h, "capture.extfrag_change_ownership", c->no_vmcoreinfo ? "unknown" : "pageblock bits");
	snprintf(buf, sizeof(buf), "%u", c->opts.ts_sparse > 1 ? c->opts.ts_sparse : 1);
	err |= trace_header_set(h, "capture.timestamp_every", buf);
	snprintf(buf, sizeof(buf), "0x%x", c->ki.pb_isolate_bit);
	err |= trace_header_set(h, "kernel.pageblock_isolate_bit", buf);
	snprintf(buf, sizeof(buf), "0x%x", c->ki.pb_skip_bit);
	err |= trace_header_set(h, "kernel.pageblock_skip_bit", buf);
	snprintf(buf, sizeof(buf), "%d", c->ki.mt_pcptypes);
	err |= trace_header_set(h, "kernel.migrate_pcptypes", buf);
	snprintf(buf, sizeof(buf), "%u", c->ki.nr_pcp_lists);
	err |= trace_header_set(h, "kernel.nr_pcp_lists", buf);
	snprintf(buf, sizeof(buf), "%u", c->ki.sizeof_page);
	err |= trace_header_set(h, "kernel.sizeof_page", buf);
	return err ? -ENOMEM : 0;
}

/* ---- streaming ---------------------------------------------------------------------------------- */

static void note_marker(struct collector *c, uint64_t id, uint64_t seq, uint64_t ts)
{
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		struct collector_snapinfo *si = &c->snaps[i];

		if (si->begin_id == id) {
			si->begin_seen = true;
			si->begin_seq = seq;
			si->begin_ts = ts;
		} else if (si->end_id == id) {
			si->end_seen = true;
			si->end_seq = seq;
		}
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct crec *r = data;
	struct trace_event ev = {};
	uint8_t kind = r->kind & CREC_KIND_MASK;
	int err;

	if (size < sizeof(*r)) {
		c->st.bad_records++;
		return 0;
	}
	/* sparse timestamps: an event without one happened after the last one stamped before it */
	if (r->ts)
		c->last_ts = r->ts;
	ev.ts_ns = r->ts ? r->ts : c->last_ts;
	ev.cpu = r->cpu;
	ev.pid = r->pid;
	ev.kind = kind;
	ev.mt = -1;
	ev.fallback_mt = -1;
	ev.zone = TRACE_ZONE_UNKNOWN;
	if (kind == CREC_COUNTER) {
		if (r->cpu < c->ki.nr_cpus && (r->mt == 0 || r->mt == 1)) {
			c->pgfree_cut[r->mt][r->cpu] = r->page;
			c->pgfree_cut_seen[r->mt][r->cpu] = 1;
			c->hidden_cut[r->mt][r->cpu] = r->gfp;
			c->hidden_pid_cut[r->mt][r->cpu] = r->pid;
			pr_debug("free-count cut %d on cpu %u at %llu ns: %llu, %u freed unseen (last by %u)", r->mt,
				 r->cpu, (unsigned long long)r->ts, (unsigned long long)r->page, r->gfp, r->pid);
		} else if (r->cpu < c->ki.nr_cpus && (r->mt == 2 || r->mt == 3)) {
			c->hidden_alloc_cut[r->mt - 2][r->cpu] = r->page;
			c->hidden_alloc_seen[r->mt - 2][r->cpu] = 1;
		}
		return 0;
	}
	if (kind == CREC_PAGE_FREE && r->cpu < c->ki.nr_cpus && c->pgfree_cut_seen[0][r->cpu] &&
	    !c->pgfree_cut_seen[1][r->cpu])
		c->pgfree_pages[r->cpu] += 1ull << (r->order & 63);
	if (kind == CREC_MARKER) {
		note_marker(c, r->page, trace_writer_events(c->w), r->ts);
		ev.pfn = TRACE_PFN_NONE;
		ev.aux = r->page;
		return trace_writer_event(c->w, &ev);
	}
	ev.order = r->order;
	ev.pfn = (r->kind & CRECF_NO_PAGE) ? TRACE_PFN_NONE : collector_page_to_pfn(c, r->page);
	if (r->zone != CREC_ZONE_UNKNOWN)
		ev.zone = c->zone_map[r->zone];
	if (ev.pfn == TRACE_PFN_NONE && !(r->kind & CRECF_NO_PAGE))
		c->st.bad_records++;
	switch (kind) {
	case CREC_PAGE_ALLOC:
		ev.gfp = r->gfp;
		ev.mt = r->mt;
		break;
	case CREC_PAGE_ALLOC_ZONE_LOCKED:
		ev.mt = r->mt;
		if (r->kind & CRECF_PERCPU_REFILL)
			ev.flags |= TEVF_PERCPU_REFILL;
		break;
	case CREC_PAGE_PCPU_DRAIN:
		ev.mt = r->mt;
		break;
	case CREC_PAGE_ALLOC_EXTFRAG:
		ev.mt = r->mt;
		ev.fallback_order = r->fallback_order;
		ev.fallback_mt = r->fallback_mt;
		if (r->kind & CRECF_CHANGE_OWNERSHIP)
			ev.flags |= TEVF_CHANGE_OWNERSHIP;
		break;
	case CREC_PAGE_FREE:
	case CREC_PAGE_FREE_BATCHED:
		break;
	default:
		c->st.bad_records++;
		return 0;
	}
	if (size >= sizeof(struct crec_stack)) {
		const struct crec_stack *s = data;

		if (s->stack_id >= 0 && (uint32_t)s->stack_id < c->stack_max) {
			ev.stack_id = (uint32_t)s->stack_id + 1;
			if (!c->stack_seen[s->stack_id])
				c->stack_seen[s->stack_id] = 1;
		}
	}
	err = trace_writer_event(c->w, &ev);
	if (err)
		return err;
	c->st.events++;
	c->st.per_kind[kind]++;
	if (!c->st.first_ts)
		c->st.first_ts = ev.ts_ns;
	c->st.last_ts = ev.ts_ns;
	return 0;
}

/*
 * Takes the start (phase 0) or end (1) free-count cut on every CPU (cut_pgfree in
 * record.bpf.c). Any failure turns the cross-check off, with a warning: its figure would be
 * wrong, and the capture itself is unaffected.
 */
static int pgfree_cut(struct collector *c, int phase)
{
	if (!c->ki.have_pgfree || (phase == 1 && !c->pgfree_on))
		return 0;
	for (uint32_t cpu = 0; cpu < c->ki.nr_cpus; cpu++) {
		uint64_t args[2] = { c->ki.pgfree_from_rq, (uint64_t)phase };
		long ret = -1;
		int err = 0;

		for (int attempt = 0; attempt < 1000 && ret == -1; attempt++) {
			err = collector_run_prog(c, bpf_program__fd(c->skel->progs.cut_pgfree), (int)cpu, args, 2, &ret);
			if (err)
				break;
			if (ret == -1 && collector_poll(c) < 0)
				break;
		}
		if (err || ret) {
			pr_warn("cannot read the free counter of cpu %u (%s): events that never reach the BPF "
				"programs will not be detected", cpu, err ? strerror(-err) : "no runqueue");
			c->pgfree_on = false;
			return 0;
		}
	}
	if (phase == 0)
		c->pgfree_on = true;
	else
		c->pgfree_done = true;
	return 0;
}

int collector_start(struct collector *c, struct trace_writer *w)
{
	struct record_bpf *s = c->skel;
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		const char *tp;
	} progs[] = {
		{ s->progs.mark_page_alloc, &s->links.mark_page_alloc, "mm_page_alloc" },
		{ s->progs.mark_page_free, &s->links.mark_page_free, "mm_page_free" },
		{ s->progs.on_page_alloc, &s->links.on_page_alloc, "mm_page_alloc" },
		{ s->progs.on_page_alloc_zone_locked, &s->links.on_page_alloc_zone_locked, "mm_page_alloc_zone_locked" },
		{ s->progs.on_page_free, &s->links.on_page_free, "mm_page_free" },
		{ s->progs.on_page_free_batched, &s->links.on_page_free_batched, "mm_page_free_batched" },
		{ s->progs.on_page_pcpu_drain, &s->links.on_page_pcpu_drain, "mm_page_pcpu_drain" },
		{ s->progs.on_page_alloc_extfrag, &s->links.on_page_alloc_extfrag, "mm_page_alloc_extfrag" },
		/* after their first programs: the kernel runs a tracepoint's probes in attach order */
		{ s->progs.rescue_page_alloc, &s->links.rescue_page_alloc, "mm_page_alloc" },
		{ s->progs.rescue_page_free, &s->links.rescue_page_free, "mm_page_free" },
	};

	c->w = w;
	c->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_record, c, NULL);
	if (!c->rb) {
		pr_err("cannot set up the ring buffer: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		const char *name = bpf_program__name(progs[i].prog);

		if (c->opts.no_rescue && (!strncmp(name, "mark_", 5) || !strncmp(name, "rescue_", 7)))
			continue;
		*progs[i].link = bpf_program__attach(progs[i].prog);
		if (!*progs[i].link) {
			int err = -errno;

			pr_err("cannot attach to tracepoint 'kmem:%s': %s", progs[i].tp, strerror(errno));
			return err == -ENOENT || err == -ESRCH ? FS_ERRNO__NO_TRACEPOINT : err;
		}
	}
	c->attached = true;
	/* before the start cut: the cut closes slices from then on */
	if (c->ki.have_pgfree) {
		s->links.track_slices = bpf_program__attach(s->progs.track_slices);
		if (!s->links.track_slices)
			pr_warn("cannot attach to tracepoint 'sched:sched_switch' (%s): frees by tasks invisible "
				"to tracing will count as not delivered", strerror(errno));
		c->slices_on = s->links.track_slices != NULL;
	}
	if (getenv("FRAGSCOPE_RECORD_TEST_GAP_MS")) {
		c->test_gap_ms = strtoull(getenv("FRAGSCOPE_RECORD_TEST_GAP_MS"), NULL, 10);
		c->test_gap_at = collector_now_ns() + 100000000ull;
	}
	return pgfree_cut(c, 0);
}

/* The test gap (see test_gap_ms): a hole in the delivery of mm_page_free, made on purpose. */
static int test_gap(struct collector *c)
{
	struct record_bpf *s = c->skel;
	struct bpf_link **links[] = { &s->links.mark_page_free, &s->links.on_page_free, &s->links.rescue_page_free };
	struct bpf_program *progs[] = { s->progs.mark_page_free, s->progs.on_page_free, s->progs.rescue_page_free };

	if (collector_now_ns() < c->test_gap_at)
		return 0;
	c->test_gap_done = true;
	for (size_t i = 0; i < 3; i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
	pr_info("test: mm_page_free programs detached for %llu ms", (unsigned long long)c->test_gap_ms);
	usleep(c->test_gap_ms * 1000);
	for (size_t i = 0; i < 3; i++) {
		if (c->opts.no_rescue && i != 1)
			continue;
		*links[i] = bpf_program__attach(progs[i]);
		if (!*links[i])
			return -errno;
	}
	return 0;
}

static int write_new_stacks(struct collector *c);

int collector_poll(struct collector *c)
{
	int n;

	if (!c->rb)
		return 0;
	if (c->test_gap_ms && c->attached && !c->test_gap_done) {
		n = test_gap(c);
		if (n)
			return n;
	}
	n = ring_buffer__consume(c->rb);
	if (n < 0)
		return c->err ? c->err : n;
	return n;
}

/*
 * The free-count cross-check, once both cuts are in: on every CPU the kernel's PGFREE counter
 * grew by the pages it freed between the cuts; the capture should hold mm_page_free events
 * for as many pages. A shortfall is frees whose events never reached the programs (seen on
 * 6.18: bursts of softirq frees that two ftrace instances, one attached before and one after
 * the programs, both record, with no recursion miss counted on any program); it is counted
 * as lost mm_page_free events (pages, so an upper bound on events when orders are > 0).
 * Totals over all CPUs: a task may move between the tracepoint and the count. The part that
 * track_slices saw freed in time slices no tracepoint reported (tasks invisible to tracing) is
 * told apart as hidden_frees; undelivered is the rest.
 */
static void pgfree_check(struct collector *c, struct trace_loss *l)
{
	uint64_t kernel = 0, seen = 0, hidden = 0, hidden_alloc = 0, missing;
	uint32_t hidden_pid = 0;
	bool alloc_known = c->ki.nr_pgalloc > 0;

	if (!c->pgfree_done)
		return;
	for (uint32_t cpu = 0; cpu < c->ki.nr_cpus; cpu++) {
		if (!c->pgfree_cut_seen[0][cpu] || !c->pgfree_cut_seen[1][cpu])
			return;
		kernel += c->pgfree_cut[1][cpu] - c->pgfree_cut[0][cpu];
		seen += c->pgfree_pages[cpu];
		if (c->hidden_cut[1][cpu] != c->hidden_cut[0][cpu]) {
			hidden += (uint32_t)(c->hidden_cut[1][cpu] - c->hidden_cut[0][cpu]);
			hidden_pid = c->hidden_pid_cut[1][cpu];
		}
		if (!c->hidden_alloc_seen[0][cpu] || !c->hidden_alloc_seen[1][cpu])
			alloc_known = false;
		else
			hidden_alloc += c->hidden_alloc_cut[1][cpu] - c->hidden_alloc_cut[0][cpu];
	}
	missing = kernel > seen ? kernel - seen : 0;
	c->st.free_check = true;
	c->st.free_check_kernel = kernel;
	c->st.free_check_seen = seen;
	c->st.hidden_known = c->slices_on;
	c->st.hidden_frees = hidden < missing ? hidden : missing;
	c->st.hidden_pid = hidden_pid;
	c->st.undelivered = missing - c->st.hidden_frees;
	c->st.hidden_allocs_known = c->slices_on && alloc_known;
	c->st.hidden_allocs = c->st.hidden_allocs_known ? hidden_alloc : 0;
	if (seen > kernel)
		pr_info("free-count check: the capture has %llu freed pages more than the kernel counted",
			(unsigned long long)(seen - kernel));
	l->lost_per_kind[TEV_PAGE_FREE] += missing;
	l->total += missing;
	/* allocations no tracepoint reported (pages: an upper bound on events) */
	l->lost_per_kind[TEV_PAGE_ALLOC] += c->st.hidden_allocs;
	l->total += c->st.hidden_allocs;
}

static int read_losses(struct collector *c, struct trace_loss *l)
{
	int ncpu = (int)c->ki.nr_cpus, fd = bpf_map__fd(c->skel->maps.lost);
	uint64_t *vals = calloc(ncpu, sizeof(uint64_t)), rescued = 0, misses = 0;
	struct bpf_program *p;

	memset(l, 0, sizeof(*l));
	l->nr_cpus = c->ki.nr_cpus;
	l->lost_per_cpu = calloc(ncpu, sizeof(uint64_t));
	if (!vals || !l->lost_per_cpu) {
		free(vals);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < CREC_NR_KINDS; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int i = 0; i < ncpu; i++) {
			l->lost_per_cpu[i] += vals[i];
			if (k <= TEV_KIND_MAX)
				l->lost_per_kind[k] += vals[i];
			l->total += vals[i];
		}
	}
	/* recursion: misses of the first programs that their rescue programs did not cover (a
	 * rescue program's own misses happen only while it runs, when the first one is free) */
	fd = bpf_map__fd(c->skel->maps.rescued);
	for (uint32_t k = 0; k < CREC_NR_KINDS; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int i = 0; i < ncpu; i++)
			rescued += vals[i];
	}
	free(vals);
	bpf_object__for_each_program(p, c->skel->obj) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) != 0 || !info.recursion_misses)
			continue;
		pr_debug("%s: %llu recursion misses", bpf_program__name(p), (unsigned long long)info.recursion_misses);
		if (strncmp(bpf_program__name(p), "on_", 3))
			continue;
		misses += info.recursion_misses;
	}
	if (rescued)
		pr_debug("%llu events rescued from recursion", (unsigned long long)rescued);
	c->st.rescued = rescued;
	c->st.lost = l->total;	/* reserve failures so far */
	l->recursion_misses = misses > rescued ? misses - rescued : 0;
	l->total += l->recursion_misses;
	c->st.recursion_misses = l->recursion_misses;
	pgfree_check(c, l);
	return 0;
}

int collector_write_loss(struct collector *c)
{
	struct trace_loss l;
	int err = read_losses(c, &l);

	if (!err)
		err = trace_writer_loss(c->w, &l);
	trace_loss_release(&l);
	return err;
}

int collector_flush(struct collector *c)
{
	int err = write_new_stacks(c);

	if (!err)
		err = trace_writer_flush(c->w);
	return err;
}

int collector_stop(struct collector *c)
{
	struct record_bpf *s = c->skel;
	/* mark_* first (nothing becomes pending), rescue_* last (every on_* gone first) */
	struct bpf_link **links[] = {
		&s->links.mark_page_alloc, &s->links.mark_page_free,
		&s->links.on_page_alloc, &s->links.on_page_alloc_zone_locked, &s->links.on_page_free,
		&s->links.on_page_free_batched, &s->links.on_page_pcpu_drain, &s->links.on_page_alloc_extfrag,
		&s->links.rescue_page_alloc, &s->links.rescue_page_free,
	};
	int err = pgfree_cut(c, 1);

	if (err)
		return err;
	bpf_link__destroy(s->links.track_slices);
	s->links.track_slices = NULL;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
	c->attached = false;
	err = collector_poll(c);
	if (err < 0)
		return err;
	err = write_new_stacks(c);
	if (!err)
		err = collector_write_loss(c);
	return err;
}

void collector_get_stats(const struct collector *c, struct collector_stats *st)
{
	*st = c->st;
}

/* ---- stacks --------------------------------------------------------------------------------------- */

static int write_new_stacks(struct collector *c)
{
	uint64_t ips[64];
	int fd;

	if (!c->stack_seen)
		return 0;
	fd = bpf_map__fd(c->skel->maps.stacks);
	if (!c->ksyms)
		c->ksyms = collector_ksyms_load();
	for (uint32_t id = 0; id < c->stack_max; id++) {
		struct trace_stack st = {};
		char *syms[64] = {};
		uint32_t key = id;
		int err;

		if (c->stack_seen[id] != 1)
			continue;
		c->stack_seen[id] = 2;
		memset(ips, 0, sizeof(ips));
		if (bpf_map_lookup_elem(fd, &key, ips))
			continue;
		st.id = id + 1;
		while (st.nr < 64 && ips[st.nr])
			st.nr++;
		st.ips = ips;
		if (c->ksyms) {
			uint32_t skip = 0;

			for (uint32_t i = 0; i < st.nr; i++)
				syms[i] = collector_ksyms_name(c->ksyms, ips[i]);
			/* drop the tracing machinery above the tracepoint's caller: our program,
			 * bpf_trace_run*, __traceiter_* */
			while (skip < st.nr && syms[skip] &&
			       (!strncmp(syms[skip], "bpf_prog_", 9) || !strncmp(syms[skip], "bpf_trace_run", 13) ||
				!strncmp(syms[skip], "__traceiter_", 12) || !strncmp(syms[skip], "__bpf_trace_", 12)))
				skip++;
			if (skip == st.nr)
				skip = 0;
			st.ips = ips + skip;
			st.syms = syms + skip;
			st.nr -= skip;
			for (uint32_t i = 0; i < skip; i++) {
				free(syms[i]);
				syms[i] = NULL;
			}
		}
		err = trace_writer_stack(c->w, &st);
		for (uint32_t i = 0; i < 64; i++)
			free(syms[i]);
		if (err)
			return err;
	}
	return 0;
}
