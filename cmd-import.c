// SPDX-License-Identifier: GPL-2.0-only
/* fragscope import: import a trace-cmd trace.dat or ftrace text capture */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "traces/import.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/parse.h"

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "formats", required_argument, NULL, 'F' },
		{ "snapshot-proc", no_argument, NULL, 'S' },
		{ "type", required_argument, NULL, 't' },
		{ "no-compress", no_argument, NULL, 'Z' },
		{ "chunk-events", required_argument, NULL, 'C' },
		{ "start-snapshot", required_argument, NULL, 's' },
		{ "end-snapshot", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct trace_import_opts o = { .sz = sizeof(o) };
	struct trace_import_stats st;
	const char *out = NULL;
	char eb[512];
	struct outfile of;
	int opt, err, fd;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:F:t:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'F':
			o.formats_dir = optarg;
			break;
		case 'S':
			o.snapshot_proc = true;
			break;
		case 's':
			o.start_snapshot = optarg;
			break;
		case 'e':
			o.end_snapshot = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "trace-cmd") || !strcmp(optarg, "dat"))
				o.kind = TRACE_IMPORT_TRACECMD;
			else if (!strcmp(optarg, "text") || !strcmp(optarg, "tracefs"))
				o.kind = TRACE_IMPORT_TEXT;
			else
				return cmd_usage_error(&cmd_import_desc, "unknown input type '%s' (trace-cmd or text)",
						       optarg);
			break;
		case 'Z':
			o.wopts.sz = sizeof(o.wopts);
			o.wopts.no_compress = true;
			break;
		case 'C': {
			uint64_t n;

			if (parse_u64(optarg, 1, 1u << 20, &n))
				return cmd_usage_error(&cmd_import_desc, "--chunk-events wants 1..1048576, not '%s'", optarg);
			o.wopts.sz = sizeof(o.wopts);
			o.wopts.chunk_events = (uint32_t)n;
			break;
		}
		default:
			return cmd_usage_error(&cmd_import_desc, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_import_desc, optind >= argc ? "no input file given" : "too many arguments");
	if (!out)
		return cmd_usage_error(&cmd_import_desc, "no output file given (-o OUT.fst)");
	if (o.snapshot_proc && o.end_snapshot)
		return cmd_usage_error(&cmd_import_desc, "--snapshot-proc and --end-snapshot both give an end snapshot");
	if (o.end_snapshot && !o.start_snapshot)
		pr_warn("no --start-snapshot: replay cannot follow this trace (it seeds the model from the start snapshot)");
	if ((o.start_snapshot && outfile_same(o.start_snapshot, out)) ||
	    (o.end_snapshot && outfile_same(o.end_snapshot, out))) {
		pr_err("'%s' is a snapshot file: refusing to overwrite it", out);
		return 1;
	}
	if (outfile_same(argv[optind], out)) {
		pr_err("'%s' is the input file: refusing to overwrite it", out);
		return 1;
	}
	/* written to a temporary file renamed over OUT at the end: a failed import leaves OUT as it was */
	fd = outfile_begin(out, &of);
	if (fd < 0) {
		pr_err("cannot create '%s': %s", out, strerror(-fd));
		return 1;
	}
	close(fd);
	err = trace_import(argv[optind], of.path, &o, &st, eb, sizeof(eb));
	if (!err) {
		err = outfile_commit(&of);
		if (err)
			snprintf(eb, sizeof(eb), "cannot write '%s': %s", out, strerror(-err));
	}
	if (err) {
		char *t = !of.direct && of.path[0] ? strstr(eb, of.path) : NULL;

		if (t) {	/* name OUT, not the temporary file */
			char rest[sizeof(eb)];

			snprintf(rest, sizeof(rest), "%s", t + strlen(of.path));
			snprintf(t, sizeof(eb) - (size_t)(t - eb), "%s%s", out, rest);
		}
		outfile_abort(&of);
		pr_err("%s", eb[0] ? eb : fragscope_strerror(err));
		return 1;
	}
	if (st.bad_lines)
		pr_warn("%llu lines did not parse; the first: %s", (unsigned long long)st.bad_lines, st.first_bad);
	if (st.lost)
		pr_warn("the capture reports %llu lost events%s", (unsigned long long)st.lost,
			st.lost_unknown ? " (some drops without a count, counted as 1)" : "");
	if (!st.events)
		pr_warn("'%s': no kmem page events found", argv[optind]);
	pr_info("'%s': %llu events from %s (%llu other records skipped)", out, (unsigned long long)st.events,
		st.kind == TRACE_IMPORT_TRACECMD ? "trace-cmd trace.dat" : "tracefs text",
		(unsigned long long)st.other_events);
	printf("%s: %llu events", out, (unsigned long long)st.events);
	for (int k = 1; k <= TEV_KIND_MAX; k++)
		if (st.per_kind[k])
			printf(", %s %llu", trace_event_kind_name((enum trace_event_kind)k),
			       (unsigned long long)st.per_kind[k]);
	printf("; %llu lost\n", (unsigned long long)st.lost);
	for (int i = 0; i < TRACE_SNAP_MAX; i++)
		if (st.snap[i].placed)
			printf("%s snapshot from '%s': before event %llu, %llu event(s) during its walk, "
			       "%llu event(s) of the process that took it\n", i == TRACE_SNAP_START ? "start" : "end",
			       i == TRACE_SNAP_START ? o.start_snapshot : o.end_snapshot,
			       (unsigned long long)st.snap[i].event_seq, (unsigned long long)st.snap[i].events_during,
			       (unsigned long long)st.snap[i].witness_events);
	return cmd_finish_stdout();
}

const struct cmd_desc cmd_import_desc = {
	.name = "import",
	.run = run,
	.summary = "import a trace-cmd trace.dat or ftrace text capture",
	.usage = "INPUT -o OUT.fst [--formats DIR] [--snapshot-proc] [--type trace-cmd|text]\n"
		 "trace.dat --start-snapshot A.fst [--end-snapshot B.fst] -o OUT.fst",
	.help = "Converts a capture of the kmem page tracepoints into a trace file. INPUT is either\n"
		"a trace-cmd trace.dat (read through libtracecmd and libtraceevent: its top buffer, or if\n"
		"that holds no kmem page event the first instance, -B NAME, that does) or the text of\n"
		"tracefs 'trace' / 'trace_pipe' (INPUT '-' reads text from standard input); the type is\n"
		"detected from trace.dat's magic.\n"
		"Fields are found by name in each tracepoint's own format, never by fixed offsets.\n"
		"\n"
		"  -o, --output OUT.fst     the trace file to write (required)\n"
		"  -F, --formats DIR        text input: the event format files, as DIR/events/kmem/E/format,\n"
		"                           DIR/kmem/E/format, DIR/E/format or DIR/E.format (default: the\n"
		"                           running kernel's tracefs)\n"
		"  --snapshot-proc          add a counts-only end snapshot from this machine's\n"
		"                           /proc/pagetypeinfo, taken now (method pagetypeinfo, not exact);\n"
		"                           without it the trace is marked as having no snapshot\n"
		"  --start-snapshot A.fst   trace.dat only: the machine header and start snapshot come\n"
		"                           from A.fst, written by 'fragscope record --snapshot-only' on\n"
		"                           the traced machine while trace-cmd recorded with '-C mono';\n"
		"                           the snapshot is placed before the first event at or after its\n"
		"                           time. Then replay can follow the trace\n"
		"  --end-snapshot B.fst     the same for the end snapshot (B's end snapshot, or its only one)\n"
		"  -t, --type trace-cmd|text  do not detect the input type\n"
		"  --no-compress            write uncompressed chunks\n"
		"  --chunk-events N         events per chunk (default 8192)\n"
		"\n"
		"A capture holds no machine header, so without snapshot files the header (zones, watermarks,\n"
		"migratetype names, sysctls) is read from this machine and marked\n"
		"header.source=running-kernel; the gfp flag names come from the capture's own\n"
		"mm_page_alloc format. Drops the capture reports\n"
		"(trace-cmd missed events, 'CPU:N [LOST N EVENTS]' lines) go into the loss counters.\n"
		"OUT is written to a temporary file renamed into place at the end. Errors (exit 1, OUT\n"
		"left as it was): OUT is INPUT, a --formats DIR that does not exist, no kmem format\n"
		"found, a text INPUT with no event line at all, an unreadable trace.dat; with snapshot\n"
		"files: a trace clock other than mono, a snapshot outside the capture's time, an end\n"
		"snapshot before the start, another host or kernel, another boot, no event of the\n"
		"snapshotting process in the capture, over 1% of the page events outside the snapshot's\n"
		"zones, an imported file given as a snapshot.\n"
		"\n"
		"Capturing with trace-cmd on this kind of VM (function tracing blocked):\n"
		"  trace-cmd record -d --no-filter -e kmem:mm_page_alloc -e kmem:mm_page_free ... -- CMD\n"
		"With snapshots (scripts/tracecmd-capture.sh -o OUT.fst -- CMD does all of this):\n"
		"  trace-cmd record -d --no-filter -B fs -C mono -e kmem:... -o trace.dat &  (wait: tracing)\n"
		"  fragscope record --snapshot-only -o A.fst; CMD; fragscope record --snapshot-only -o B.fst\n"
		"  kill -INT %1; fragscope import trace.dat --start-snapshot A.fst --end-snapshot B.fst -o OUT.fst\n",
};
