// SPDX-License-Identifier: GPL-2.0-only
/* fragscope info: describe a trace file: machine, snapshots, events, losses */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "util/jsonw.h"
#include "util/log.h"

#define INFO_MAX_CPU 65536	/* per-CPU counts are kept for CPUs below this; others are "other" */

struct info_counts {
	uint64_t total;
	uint64_t per_kind[TEV_KIND_MAX + 1];
	uint64_t *per_cpu;
	uint32_t nr_cpu;		/* highest CPU seen + 1 (below INFO_MAX_CPU) */
	uint64_t other_cpu;
	uint64_t first_ts, last_ts, min_ts, max_ts;
	uint64_t failed_allocs;
	uint64_t read_errors;
};

static const char *method_name(enum trace_snapshot_method m)
{
	switch (m) {
	case TRACE_SNAP_NONE: return "none";
	case TRACE_SNAP_BPF_WALK: return "bpf-walk";
	case TRACE_SNAP_BPF_LOCKED: return "bpf-walk-locked";
	case TRACE_SNAP_KPAGEFLAGS: return "kpageflags";
	case TRACE_SNAP_PAGETYPEINFO: return "pagetypeinfo";
	case TRACE_SNAP_MODULE: return "module";
	}
	return "unknown";
}

static int count_events(struct trace_reader *r, struct info_counts *c)
{
	struct trace_event ev;
	int got;

	memset(c, 0, sizeof(*c));
	c->min_ts = UINT64_MAX;
	while ((got = trace_reader_next(r, &ev)) != 0) {
		if (got < 0) {
			if (got == -ENOMEM)
				return got;
			c->read_errors++;
			continue;
		}
		if (!c->total)
			c->first_ts = ev.ts_ns;
		c->last_ts = ev.ts_ns;
		if (ev.ts_ns < c->min_ts)
			c->min_ts = ev.ts_ns;
		if (ev.ts_ns > c->max_ts)
			c->max_ts = ev.ts_ns;
		c->total++;
		c->per_kind[ev.kind & TEV_KIND_MAX]++;
		if (ev.kind == TEV_PAGE_ALLOC && ev.pfn == TRACE_PFN_NONE)
			c->failed_allocs++;
		if (ev.cpu < INFO_MAX_CPU) {
			if (ev.cpu >= c->nr_cpu) {
				uint32_t n = ev.cpu + 1;
				uint64_t *p = realloc(c->per_cpu, n * sizeof(*p));

				if (!p)
					return -ENOMEM;
				memset(p + c->nr_cpu, 0, (n - c->nr_cpu) * sizeof(*p));
				c->per_cpu = p;
				c->nr_cpu = n;
			}
			c->per_cpu[ev.cpu]++;
		} else {
			c->other_cpu++;
		}
	}
	return 0;
}

static uint64_t loss_total(const struct trace_loss *l)
{
	return l ? l->total : 0;
}

/* Page events (the kmem tracepoints, not collector markers). */
static uint64_t page_events(const struct info_counts *c)
{
	uint64_t n = 0;

	for (int k = 1; k < TEV_NR_KERNEL_KINDS; k++)
		n += c->per_kind[k];
	return n;
}

static bool has_snapshots(struct trace_reader *r)
{
	return trace_reader_snapshot(r, TRACE_SNAP_START) || trace_reader_snapshot(r, TRACE_SNAP_END);
}

static void json_snapshot(struct jsonw *w, const char *name, const struct trace_snapshot *s)
{
	jsonw_name(w, name);
	jsonw_start_object(w);
	jsonw_bool_field(w, "present", s != NULL);
	jsonw_string_field(w, "method", method_name(s ? s->method : TRACE_SNAP_NONE));
	jsonw_bool_field(w, "exact", s && (s->flags & TRACE_SNAPF_EXACT));
	if (s) {
		uint64_t pbs = 0;

		for (uint32_t i = 0; i < s->nr_pageblock_zones; i++)
			pbs += s->pageblocks[i].nr;
		jsonw_uint_field(w, "flags", s->flags);
		jsonw_bool_field(w, "list_order", s->flags & TRACE_SNAPF_LIST_ORDER);
		jsonw_uint_field(w, "ts_ns", s->ts_ns);
		jsonw_uint_field(w, "event_seq", s->event_seq);
		jsonw_uint_field(w, "duration_ns", s->duration_ns);
		jsonw_uint_field(w, "pageblocks", pbs);
		jsonw_uint_field(w, "free_blocks", s->nr_free_blocks);
		jsonw_uint_field(w, "pcp_pages", s->nr_pcp_pages);
		jsonw_uint_field(w, "count_zones", s->nr_counts);
		if (s->note)
			jsonw_string_field(w, "note", s->note);
	}
	jsonw_end_object(w);
}

static void print_json(const char *path, struct trace_reader *r, const struct info_counts *c)
{
	const struct trace_header *h = trace_reader_header(r);
	const struct trace_loss *l = trace_reader_loss(r);
	const struct trace_read_status *st = trace_reader_status(r);
	uint64_t size = trace_reader_file_size(r);
	struct jsonw *w = jsonw_new(stdout);

	jsonw_pretty(w, true);
	jsonw_start_object(w);
	jsonw_string_field(w, "file", path);
	jsonw_uint_field(w, "file_size", size);
	jsonw_string_field(w, "kernel_release", h->kernel_release);
	jsonw_string_field(w, "kernel_version", h->kernel_version);
	jsonw_string_field(w, "arch", h->arch);
	jsonw_uint_field(w, "page_size", h->page_size);
	jsonw_uint_field(w, "pageblock_order", h->pageblock_order);
	jsonw_uint_field(w, "nr_orders", h->nr_orders);
	jsonw_uint_field(w, "nr_cpus", h->nr_cpus);
	jsonw_uint_field(w, "nr_pageblock_bits", h->nr_pageblock_bits);
	jsonw_name(w, "migratetypes");
	jsonw_start_object(w);
	for (uint32_t i = 0; i < h->nr_migratetypes; i++)
		jsonw_int_field(w, h->migratetypes[i].name, h->migratetypes[i].value);
	jsonw_end_object(w);
	jsonw_uint_field(w, "nr_gfp_flags", h->nr_gfp_flags);
	jsonw_name(w, "zones");
	jsonw_start_array(w);
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		const struct trace_zone *z = &h->zones[i];

		jsonw_start_object(w);
		jsonw_uint_field(w, "node", z->node);
		jsonw_string_field(w, "name", z->name);
		jsonw_uint_field(w, "start_pfn", z->start_pfn);
		jsonw_uint_field(w, "spanned", z->spanned);
		jsonw_uint_field(w, "present", z->present);
		jsonw_uint_field(w, "managed", z->managed);
		jsonw_uint_field(w, "wmark_min", z->wmark_min);
		jsonw_uint_field(w, "wmark_low", z->wmark_low);
		jsonw_uint_field(w, "wmark_high", z->wmark_high);
		jsonw_uint_field(w, "watermark_boost", z->watermark_boost);
		jsonw_uint_field(w, "nr_free_pages", z->nr_free_pages);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_name(w, "kv");
	jsonw_start_object(w);
	for (uint32_t i = 0; i < h->nr_kv; i++)
		jsonw_string_field(w, h->kv[i].key, h->kv[i].value);
	jsonw_end_object(w);
	jsonw_name(w, "snapshots");
	jsonw_start_object(w);
	json_snapshot(w, "start", trace_reader_snapshot(r, TRACE_SNAP_START));
	json_snapshot(w, "end", trace_reader_snapshot(r, TRACE_SNAP_END));
	jsonw_end_object(w);
	jsonw_name(w, "events");
	jsonw_start_object(w);
	for (int k = 1; k <= TEV_KIND_MAX; k++) {
		const char *name = trace_event_kind_name((enum trace_event_kind)k);
		char buf[32];

		if (!c->per_kind[k] && (k >= TEV_NR_KERNEL_KINDS || !name))
			continue;
		if (!name) {
			snprintf(buf, sizeof(buf), "kind_%d", k);
			name = buf;
		}
		jsonw_uint_field(w, name, c->per_kind[k]);
	}
	if (c->per_kind[0])
		jsonw_uint_field(w, "kind_0", c->per_kind[0]);
	jsonw_end_object(w);
	jsonw_uint_field(w, "events_total", c->total);
	/* nothing a replay could use: e.g. the file of a record that failed */
	jsonw_bool_field(w, "empty", !page_events(c) && !has_snapshots(r));
	jsonw_uint_field(w, "failed_allocations", c->failed_allocs);
	jsonw_name(w, "events_per_cpu");
	jsonw_start_object(w);
	for (uint32_t i = 0; i < c->nr_cpu; i++) {
		char buf[16];

		if (!c->per_cpu[i])
			continue;
		snprintf(buf, sizeof(buf), "%u", i);
		jsonw_uint_field(w, buf, c->per_cpu[i]);
	}
	if (c->other_cpu)
		jsonw_uint_field(w, "other", c->other_cpu);
	jsonw_end_object(w);
	if (c->total) {
		jsonw_uint_field(w, "first_ts_ns", c->min_ts);
		jsonw_uint_field(w, "last_ts_ns", c->max_ts);
		jsonw_uint_field(w, "duration_ns", c->max_ts - c->min_ts);
	} else {
		jsonw_null_field(w, "first_ts_ns");
		jsonw_null_field(w, "last_ts_ns");
		jsonw_null_field(w, "duration_ns");
	}
	jsonw_uint_field(w, "lost_total", loss_total(l));
	if (l) {
		jsonw_name(w, "lost_per_cpu");
		jsonw_start_array(w);
		for (uint32_t i = 0; i < l->nr_cpus; i++)
			jsonw_uint(w, l->lost_per_cpu[i]);
		jsonw_end_array(w);
		jsonw_name(w, "lost_per_kind");
		jsonw_start_object(w);
		for (int k = 0; k <= TEV_KIND_MAX; k++) {
			const char *name = trace_event_kind_name((enum trace_event_kind)k);

			if (l->lost_per_kind[k] && name)
				jsonw_uint_field(w, name, l->lost_per_kind[k]);
		}
		jsonw_end_object(w);
		jsonw_uint_field(w, "recursion_misses", l->recursion_misses);
	}
	jsonw_uint_field(w, "event_bytes", trace_reader_event_bytes(r));
	if (c->total) {
		jsonw_float_field(w, "bytes_per_event", (double)size / (double)c->total);
		jsonw_float_field(w, "event_bytes_per_event", (double)trace_reader_event_bytes(r) / (double)c->total);
	} else {
		jsonw_null_field(w, "bytes_per_event");
		jsonw_null_field(w, "event_bytes_per_event");
	}
	jsonw_bool_field(w, "truncated", st->truncated);
	jsonw_uint_field(w, "bytes_unreadable", st->bytes_unreadable);
	jsonw_uint_field(w, "corrupt_chunks", st->corrupt_chunks);
	if (st->first_problem[0])
		jsonw_string_field(w, "first_problem", st->first_problem);
	jsonw_end_object(w);
	jsonw_free(w);
}

static void print_snapshot(const char *name, const struct trace_snapshot *s)
{
	uint64_t pbs = 0;

	if (!s) {
		printf("  %-6s none\n", name);
		return;
	}
	for (uint32_t i = 0; i < s->nr_pageblock_zones; i++)
		pbs += s->pageblocks[i].nr;
	printf("  %-6s %s, %s, at event %llu: %llu pageblocks, %llu free blocks%s, %llu pcp pages, "
	       "counts for %u zones\n", name, method_name(s->method),
	       (s->flags & TRACE_SNAPF_EXACT) ? "exact" : "not exact", (unsigned long long)s->event_seq,
	       (unsigned long long)pbs, (unsigned long long)s->nr_free_blocks,
	       (s->flags & TRACE_SNAPF_LIST_ORDER) ? " (list order)" : "",
	       (unsigned long long)s->nr_pcp_pages, s->nr_counts);
	if (s->note)
		printf("         %s\n", s->note);
}

static void print_text(const char *path, struct trace_reader *r, const struct info_counts *c)
{
	const struct trace_header *h = trace_reader_header(r);
	const struct trace_loss *l = trace_reader_loss(r);
	const struct trace_read_status *st = trace_reader_status(r);
	uint64_t size = trace_reader_file_size(r);
	const char *v;

	printf("file:       %s (%llu bytes)\n", path, (unsigned long long)size);
	printf("kernel:     %s %s\n", h->kernel_release, h->arch);
	if (h->kernel_version[0])
		printf("            %s\n", h->kernel_version);
	printf("memory:     page size %u, pageblock_order %u, %u orders, %u CPUs\n", h->page_size,
	       h->pageblock_order, h->nr_orders, h->nr_cpus);
	printf("migratetypes:");
	for (uint32_t i = 0; i < h->nr_migratetypes; i++)
		printf(" %s=%lld", h->migratetypes[i].name, (long long)h->migratetypes[i].value);
	printf("%s\n", h->nr_migratetypes ? "" : " (none)");
	printf("gfp flags:  %u names\n", h->nr_gfp_flags);
	printf("zones:\n");
	for (uint32_t i = 0; i < h->nr_zones; i++) {
		const struct trace_zone *z = &h->zones[i];

		printf("  %u node %u %-8s pfn %llu+%llu present %llu managed %llu wmark %llu/%llu/%llu "
		       "boost %llu free %llu\n", i, z->node, z->name, (unsigned long long)z->start_pfn,
		       (unsigned long long)z->spanned, (unsigned long long)z->present,
		       (unsigned long long)z->managed, (unsigned long long)z->wmark_min,
		       (unsigned long long)z->wmark_low, (unsigned long long)z->wmark_high,
		       (unsigned long long)z->watermark_boost, (unsigned long long)z->nr_free_pages);
	}
	if ((v = trace_header_get(h, "capture.mode"))) {
		const char *cmd = trace_header_get(h, "capture.command");

		printf("capture:    %s%s%s\n", v, cmd ? ": " : "", cmd ? cmd : "");
	}
	if ((v = trace_header_get(h, "import.source")))
		printf("imported:   from %s\n", v);
	if ((v = trace_header_get(h, "header.source"))) {
		const char *mode = trace_header_get(h, "capture.mode");
		bool imported = mode && !strncmp(mode, "import", 6);

		if (!strcmp(v, "running-kernel"))
			printf("header:     read from the running kernel of the machine that wrote this file%s\n",
			       imported ? " (an import: not necessarily the traced machine)" : "");
		else
			printf("header:     %s\n", v);
	}
	printf("snapshots:\n");
	print_snapshot("start", trace_reader_snapshot(r, TRACE_SNAP_START));
	print_snapshot("end", trace_reader_snapshot(r, TRACE_SNAP_END));
	printf("events:     %llu", (unsigned long long)c->total);
	if (!page_events(c))
		printf(" (no page events%s)", has_snapshots(r) ? "" : " and no snapshots: an empty trace");
	if (c->total)
		printf(", %.2f bytes/event (file), %.2f in event chunks", (double)size / (double)c->total,
		       (double)trace_reader_event_bytes(r) / (double)c->total);
	printf("\n");
	for (int k = 0; k <= TEV_KIND_MAX; k++) {
		const char *name = trace_event_kind_name((enum trace_event_kind)k);

		if (c->per_kind[k])
			printf("  %-32s %llu\n", name ? name : "(unknown kind)", (unsigned long long)c->per_kind[k]);
	}
	if (c->failed_allocs)
		printf("  (%llu failed allocations)\n", (unsigned long long)c->failed_allocs);
	printf("per cpu:   ");
	for (uint32_t i = 0; i < c->nr_cpu; i++)
		if (c->per_cpu[i])
			printf(" cpu%u %llu", i, (unsigned long long)c->per_cpu[i]);
	if (c->other_cpu)
		printf(" other %llu", (unsigned long long)c->other_cpu);
	printf("\n");
	if (c->total)
		printf("time span:  %.6f s (%llu .. %llu ns)\n", (double)(c->max_ts - c->min_ts) / 1e9,
		       (unsigned long long)c->min_ts, (unsigned long long)c->max_ts);
	if (!l || !l->total) {
		printf("losses:     %s\n", l ? "none" : "none recorded");
	} else {
		printf("losses:     %llu events lost", (unsigned long long)l->total);
		for (uint32_t i = 0; i < l->nr_cpus; i++)
			if (l->lost_per_cpu[i])
				printf(", cpu%u %llu", i, (unsigned long long)l->lost_per_cpu[i]);
		for (int k = 0; k <= TEV_KIND_MAX; k++)
			if (l->lost_per_kind[k] && trace_event_kind_name((enum trace_event_kind)k))
				printf(", %s %llu", trace_event_kind_name((enum trace_event_kind)k),
				       (unsigned long long)l->lost_per_kind[k]);
		if (l->recursion_misses)
			printf(", %llu recursion misses", (unsigned long long)l->recursion_misses);
		printf("\n");
	}
	if (st->truncated || st->corrupt_chunks)
		printf("damage:     %s%llu bytes unreadable, %llu corrupt chunks: %s\n",
		       st->truncated ? "truncated, " : "", (unsigned long long)st->bytes_unreadable,
		       (unsigned long long)st->corrupt_chunks, st->first_problem);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	struct trace_reader *r;
	struct info_counts c;
	char eb[512];
	int opt, err;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		default:
			return cmd_usage_error(&cmd_info_desc, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_info_desc, optind >= argc ? "no trace file given" : "too many arguments");
	r = trace_reader_open(argv[optind], &err, eb, sizeof(eb));
	if (!r) {
		pr_err("%s", eb);
		return 1;
	}
	err = count_events(r, &c);
	if (err) {
		pr_err("'%s': %s", argv[optind], fragscope_strerror(err));
		free(c.per_cpu);
		trace_reader_close(r);
		return 1;
	}
	if (json)
		print_json(argv[optind], r, &c);
	else
		print_text(argv[optind], r, &c);
	if (!page_events(&c))
		pr_warn("'%s': no page events%s", argv[optind],
			has_snapshots(r) ? "" : " and no snapshots: an empty trace (e.g. from a failed record)");
	err = trace_reader_status(r)->corrupt_chunks ? 1 : 0;
	if (trace_reader_status(r)->first_problem[0])
		pr_warn("%s", trace_reader_status(r)->first_problem);
	free(c.per_cpu);
	trace_reader_close(r);
	return cmd_finish_stdout() | err;
}

const struct cmd_desc cmd_info_desc = {
	.name = "info",
	.run = run,
	.summary = "describe a trace file: machine, snapshots, events, losses",
	.usage = "FILE [--json]",
	.help = "Reads the whole trace and prints its machine header (kernel, page size,\n"
		"pageblock_order, orders, CPUs, migratetypes, zones), provenance, the start and end\n"
		"snapshots (method, exactness, contents), event counts per tracepoint and per CPU,\n"
		"the time span, losses, the file size and bytes per event, and any damage found\n"
		"(a truncated file reads up to its last whole chunk).\n"
		"\n"
		"  --json   one JSON object: kernel_release, events (tracepoint -> count),\n"
		"           events_total, lost_total, bytes_per_event, snapshots.start/end\n"
		"           (present, method, exact, ...), truncated, corrupt_chunks, empty (no page\n"
		"           events and no snapshots, e.g. the file of a record that failed), ...\n"
		"\n"
		"Exit status: 0, or 1 if the file cannot be read or has corrupt chunks.\n",
};
