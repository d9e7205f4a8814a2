// SPDX-License-Identifier: GPL-2.0-only
/* fragscope export: a trace's events as CSV or JSON lines, streamed, with decoded names */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/outfile.h"

enum fmt { FMT_CSV, FMT_JSONL };

static const char *const csv_columns =
	"seq,ts_ns,cpu,pid,event,pfn,order,gfp,gfp_flags,migratetype,migratetype_name,"
	"fallback_order,fallback_migratetype,fallback_migratetype_name,percpu_refill,"
	"change_ownership,irq,zone,zone_name,aux,aux2,stack_id\n";

/* gfp decoding is the costly part of a row; the same few values repeat: cache them. */
#define GFP_CACHE 256
static struct {
	bool valid;
	uint64_t gfp;
	char str[1024];
} gfp_cache[GFP_CACHE];

static const char *gfp_str(const struct trace_header *h, uint64_t gfp)
{
	unsigned int slot = (unsigned int)((gfp * 0x9E3779B97F4A7C15ULL) >> 56) % GFP_CACHE;

	if (!gfp_cache[slot].valid || gfp_cache[slot].gfp != gfp) {
		trace_header_gfp_str(h, gfp, gfp_cache[slot].str, sizeof(gfp_cache[slot].str));
		gfp_cache[slot].gfp = gfp;
		gfp_cache[slot].valid = true;
	}
	return gfp_cache[slot].str;
}

/* CSV field: quoted only when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static const char *zone_name(const struct trace_header *h, uint16_t z)
{
	return z < h->nr_zones ? h->zones[z].name : "";
}

static void row_csv(FILE *f, const struct trace_header *h, const struct trace_event *e)
{
	const char *kn = trace_event_kind_name((enum trace_event_kind)e->kind);
	const char *mtn = e->mt >= 0 ? trace_header_mt_name(h, e->mt) : NULL;
	const char *fmtn = e->fallback_mt >= 0 ? trace_header_mt_name(h, e->fallback_mt) : NULL;
	const char *gfp = e->kind == TEV_PAGE_ALLOC ? gfp_str(h, e->gfp) : "";

	fprintf(f, "%llu,%llu,%u,%u,", (unsigned long long)e->seq, (unsigned long long)e->ts_ns, e->cpu, e->pid);
	if (kn)
		fputs(kn, f);
	else
		fprintf(f, "kind_%u", e->kind);
	fputc(',', f);
	if (e->pfn != TRACE_PFN_NONE)
		fprintf(f, "%llu", (unsigned long long)e->pfn);
	fprintf(f, ",%u,", e->order);
	if (e->kind == TEV_PAGE_ALLOC)
		fprintf(f, "0x%llx", (unsigned long long)e->gfp);
	fputc(',', f);
	csv_str(f, gfp);
	fputc(',', f);
	if (e->mt >= 0)
		fprintf(f, "%d", e->mt);
	fputc(',', f);
	csv_str(f, mtn ? mtn : "");
	fprintf(f, ",%u,", e->fallback_order);
	if (e->fallback_mt >= 0)
		fprintf(f, "%d", e->fallback_mt);
	fputc(',', f);
	csv_str(f, fmtn ? fmtn : "");
	fprintf(f, ",%d,%d,%d,", !!(e->flags & TEVF_PERCPU_REFILL), !!(e->flags & TEVF_CHANGE_OWNERSHIP),
		!!(e->flags & TEVF_IRQ));
	if (e->zone != TRACE_ZONE_UNKNOWN)
		fprintf(f, "%u", e->zone);
	fputc(',', f);
	csv_str(f, e->zone != TRACE_ZONE_UNKNOWN ? zone_name(h, e->zone) : "");
	fprintf(f, ",%llu,%u,%u\n", (unsigned long long)e->aux, e->aux2, e->stack_id);
}

static void row_jsonl(FILE *f, const struct trace_header *h, const struct trace_event *e)
{
	const char *kn = trace_event_kind_name((enum trace_event_kind)e->kind);
	char kbuf[16];

	if (!kn) {
		snprintf(kbuf, sizeof(kbuf), "kind_%u", e->kind);
		kn = kbuf;
	}
	fprintf(f, "{\"seq\":%llu,\"ts_ns\":%llu,\"cpu\":%u,\"pid\":%u,\"event\":\"%s\",\"pfn\":",
		(unsigned long long)e->seq, (unsigned long long)e->ts_ns, e->cpu, e->pid, kn);
	if (e->pfn == TRACE_PFN_NONE)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)e->pfn);
	/* only the fields the event kind has */
	switch (e->kind) {
	case TEV_PAGE_FREE_BATCHED:
		break;
	default:
		fprintf(f, ",\"order\":%u", e->order);
	}
	if (e->kind == TEV_PAGE_ALLOC) {
		fprintf(f, ",\"gfp\":%llu,\"gfp_flags\":", (unsigned long long)e->gfp);
		json_print_string(f, gfp_str(h, e->gfp));
	}
	if (e->mt >= 0) {
		const char *n = trace_header_mt_name(h, e->mt);

		fprintf(f, ",\"migratetype\":%d,\"migratetype_name\":", e->mt);
		if (n)
			json_print_string(f, n);
		else
			fputs("null", f);
	}
	if (e->kind == TEV_PAGE_ALLOC_ZONE_LOCKED)
		fprintf(f, ",\"percpu_refill\":%s", (e->flags & TEVF_PERCPU_REFILL) ? "true" : "false");
	if (e->kind == TEV_PAGE_ALLOC_EXTFRAG) {
		const char *n = e->fallback_mt >= 0 ? trace_header_mt_name(h, e->fallback_mt) : NULL;

		fprintf(f, ",\"fallback_order\":%u,\"fallback_migratetype\":%d,\"fallback_migratetype_name\":",
			e->fallback_order, e->fallback_mt);
		if (n)
			json_print_string(f, n);
		else
			fputs("null", f);
		fprintf(f, ",\"change_ownership\":%s", (e->flags & TEVF_CHANGE_OWNERSHIP) ? "true" : "false");
	}
	if (e->flags & TEVF_IRQ)
		fputs(",\"irq\":true", f);
	if (e->zone != TRACE_ZONE_UNKNOWN) {
		fprintf(f, ",\"zone\":%u,\"zone_name\":", e->zone);
		json_print_string(f, zone_name(h, e->zone));
	}
	if (e->aux)
		fprintf(f, ",\"aux\":%llu", (unsigned long long)e->aux);
	if (e->aux2)
		fprintf(f, ",\"aux2\":%u", e->aux2);
	if (e->stack_id)
		fprintf(f, ",\"stack_id\":%u", e->stack_id);
	fputs("}\n", f);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	enum fmt fmt = FMT_CSV;
	const char *out = NULL, *in;
	struct trace_reader *r;
	struct trace_event ev;
	uint64_t rows = 0, errors = 0;
	char eb[512];
	struct outfile of;
	FILE *f = stdout;
	int opt, got, err, ret = 0;
	bool aborted = false;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "csv"))
				fmt = FMT_CSV;
			else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
				fmt = FMT_JSONL;
			else
				return cmd_usage_error(&cmd_export_desc, "unknown format '%s' (csv or jsonl)", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_export_desc, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_export_desc, optind >= argc ? "no trace file given" : "too many arguments");
	in = argv[optind];
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (out && outfile_same(in, out)) {
		pr_err("'%s' is the input file: refusing to overwrite it", out);
		return 1;
	}
	r = trace_reader_open(in, &err, eb, sizeof(eb));
	if (!r) {
		pr_err("%s", eb);
		return 1;
	}
	if (out) {
		/* a temporary file renamed over OUT at the end: a failed export leaves OUT as it was */
		int fd = outfile_begin(out, &of);

		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!f) {
			pr_err("cannot create '%s': %s", out, strerror(fd < 0 ? -fd : errno));
			if (fd >= 0) {
				close(fd);
				outfile_abort(&of);
			}
			trace_reader_close(r);
			return 1;
		}
	}
	if (fmt == FMT_CSV)
		fputs(csv_columns, f);
	while ((got = trace_reader_next(r, &ev)) != 0) {
		if (got < 0) {
			if (got == -ENOMEM) {
				pr_err("'%s': %s", in, fragscope_strerror(got));
				ret = 1;
				aborted = true;
				break;
			}
			errors++;
			continue;
		}
		if (fmt == FMT_CSV)
			row_csv(f, trace_reader_header(r), &ev);
		else
			row_jsonl(f, trace_reader_header(r), &ev);
		rows++;
	}
	if (errors || trace_reader_status(r)->truncated) {
		const struct trace_read_status *st = trace_reader_status(r);

		/* first_problem already names the file ("'x.fst': offset N: ...") */
		if (st->first_problem[0])
			pr_warn("%s; %llu events exported, %s%llu corrupt chunks skipped", st->first_problem,
				(unsigned long long)rows, st->truncated ? "file truncated, " : "",
				(unsigned long long)st->corrupt_chunks);
		else
			pr_warn("'%s': %llu events exported, %s%llu corrupt chunks skipped", in,
				(unsigned long long)rows, st->truncated ? "file truncated, " : "",
				(unsigned long long)st->corrupt_chunks);
		if (errors)
			ret = 1;
	}
	trace_reader_close(r);
	if (f != stdout) {
		if (ferror(f) | (fclose(f) != 0)) {
			pr_err("cannot write '%s': %s", out, strerror(errno));
			outfile_abort(&of);
			return 1;
		}
		if (aborted) {
			outfile_abort(&of);	/* nothing half-written over OUT */
			return 1;
		}
		/* corrupt chunks skipped (ret 1, warned above): the events that could be read are kept */
		err = outfile_commit(&of);
		if (err) {
			pr_err("cannot write '%s': %s", out, strerror(-err));
			return 1;
		}
		return ret;
	}
	return cmd_finish_stdout() | ret;
}

const struct cmd_desc cmd_export_desc = {
	.name = "export",
	.run = run,
	.summary = "export a trace's events as CSV or JSON lines",
	.usage = "FILE [--format csv|jsonl] [-o OUT]",
	.help = "Streams one row per event, in stream order, with names decoded from the trace's\n"
		"own tables (migratetype names, gfp flag names, zone names).\n"
		"\n"
		"  -f, --format csv|jsonl   CSV with a header line (default), or one JSON object per line\n"
		"  -o, --output OUT         write to OUT instead of standard output\n"
		"\n"
		"CSV columns: seq, ts_ns, cpu, pid, event, pfn (empty for a failed allocation), order,\n"
		"gfp, gfp_flags, migratetype, migratetype_name, fallback_order, fallback_migratetype,\n"
		"fallback_migratetype_name, percpu_refill, change_ownership, irq, zone, zone_name, aux,\n"
		"aux2, stack_id. JSON lines carry only the fields each event kind has.\n"
		"\n"
		"Exit status: 0, or 1 if the file cannot be read or has corrupt chunks.\n",
};
