// SPDX-License-Identifier: GPL-2.0-only
/* fragscope stat: allocation, free and fallback statistics of a trace */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-args.h"
#include "replay/replay.h"
#include "replay/run.h"
#include "traces/trace.h"
#include "util/jsonw.h"
#include "util/log.h"

static const struct trace_stack *lookup_stack(void *ctx, uint32_t id)
{
	return trace_reader_stack(ctx, id);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "callers", required_argument, NULL, 'c' },
		{ "samples", required_argument, NULL, 's' },
		{ "no-model", no_argument, NULL, 'n' },
		{ "profile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false, model = true;
	unsigned callers = 20, samples = 16;
	const char *profile = NULL, *path;
	struct replay_stat_print_opts po = { 0 };
	struct trace_reader *rd;
	struct replay_stat *st;
	struct trace_event ev;
	char errbuf[512];
	uint64_t v;
	int c, err, rc = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			if (cmd_opt_u64(&cmd_stat_desc, "callers", optarg, 1, 100000, &v))
				return 2;
			callers = (unsigned)v;
			break;
		case 's':
			if (cmd_opt_u64(&cmd_stat_desc, "samples", optarg, 0, 100000, &v))
				return 2;
			samples = (unsigned)v;
			break;
		case 'n':
			model = false;
			break;
		case 'p':
			if (cmd_check_profile(&cmd_stat_desc, optarg))
				return 2;
			profile = optarg;
			break;
		case 'h':
			cmd_print_usage(&cmd_stat_desc, stdout);
			printf("\n%s", cmd_stat_desc.help);
			return cmd_finish_stdout();
		default:
			return cmd_bad_option(&cmd_stat_desc, c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_stat_desc, "expected one trace file");
	path = argv[optind];
	rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	if (!rd) {
		pr_err("%s", errbuf);
		return 1;
	}
	st = replay_stat_new(trace_reader_header(rd));
	if (!st) {
		pr_err("out of memory");
		trace_reader_close(rd);
		return 1;
	}
	replay_stat_set_stacks(st, lookup_stack, rd);
	replay_stat_set_loss(st, trace_reader_loss(rd));
	while ((err = trace_reader_next(rd, &ev)) > 0) {
		if (replay_stat_add(st, &ev)) {
			pr_err("out of memory");
			rc = 1;
			goto out;
		}
	}
	if (err < 0) {
		if (trace_reader_status(rd)->first_problem[0])	/* names the file */
			pr_err("%s", trace_reader_status(rd)->first_problem);
		else
			pr_err("'%s': read error", path);
		rc = 1;
		goto out;
	}
	if (trace_reader_status(rd)->truncated)
		pr_warn("'%s' is truncated: statistics cover the events up to its last whole chunk", path);
	if (model) {
		err = replay_stat_model(st, rd, profile, samples, errbuf, sizeof(errbuf));
		if (err)
			replay_stat_set_note(st, errbuf);
	} else {
		replay_stat_set_note(st, "not computed (--no-model)");
	}
	po.max_callers = callers;
	if (json) {
		struct jsonw *w = jsonw_new(stdout);

		replay_stat_json(st, w, &po);
		jsonw_free(w);
	} else {
		replay_stat_print(st, stdout, &po);
	}
	rc = cmd_finish_stdout();
out:
	replay_stat_free(st);
	trace_reader_close(rd);
	return rc;
}

const struct cmd_desc cmd_stat_desc = {
	.name = "stat",
	.run = run,
	.summary = "allocation, free and fallback statistics of a trace",
	.usage = "FILE [--json] [--callers N] [--samples N] [--no-model] [--profile NAME]",
	.help =
	"What `perf kmem stat --page` reports, with the migratetype and gfp names the trace itself\n"
	"carries: allocation and free requests (total, alloc+freed matched by pfn, alloc-only,\n"
	"free-only, failures), allocations by order and migratetype, by gfp flags, and by caller when\n"
	"the trace has stacks. Then the buddy-level events (takes, pcp drains, batched frees) and the\n"
	"extfrag matrix: requested type x fallback type x ownership change, with the classes of Mel\n"
	"Gorman's trace-pagealloc-postprocess.pl (fragmenting: fallback order < pageblock order;\n"
	"severe: fragmenting at fallback order <= 3; moderate: the rest), and with stacks the\n"
	"fallbacks (steals/claims) by caller: events, fragmenting, severe, change_ownership.\n"
	"When the trace has a start snapshot, a follow-mode replay adds the model's state over time:\n"
	"pageblocks per type, mixed pageblocks (holding pages allocated in the trace as another type),\n"
	"the largest free order, and at the end the kernel's unusable-free-space and fragmentation\n"
	"indices per order (as debugfs extfrag/ prints them).\n"
	"\n"
	"Options:\n"
	"  --json          machine-readable output\n"
	"  --callers N     callers to list, per table (default 20)\n"
	"  --samples N     model state samples over the trace (default 16; 0: none)\n"
	"  --no-model      skip the replay (event statistics only)\n"
	"  --profile NAME  allocator profile for the replay (default: from the trace's kernel)\n",
};
