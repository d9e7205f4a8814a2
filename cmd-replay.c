// SPDX-License-Identifier: GPL-2.0-only
/* fragscope replay: replay a trace through the allocator model and score it */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-args.h"
#include "replay/engine.h"
#include "replay/run.h"
#include "traces/trace.h"
#include "util/jsonw.h"
#include "util/log.h"

#define MAX_SETTINGS 32
#define REPLAY_MAX_LOG 10000000	/* --max-log: entries are kept in memory */

/* "name=value" -> setting; 0 or -EINVAL */
static int parse_setting(char *arg, struct replay_setting *s)
{
	char *eq = strchr(arg, '='), *end;

	if (!eq || eq == arg || !eq[1])
		return -EINVAL;
	*eq = '\0';
	s->name = arg;
	s->value = strtol(eq + 1, &end, 0);
	return *end ? -EINVAL : 0;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'c' },
		{ "check-every", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "max-log", required_argument, NULL, 'L' },
		{ "set", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct replay_setting settings[MAX_SETTINGS];
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	bool json = false, verbose = false;
	struct trace_reader *rd;
	struct replay *r = NULL;
	char errbuf[512];
	const char *path;
	uint64_t v;
	int c, err, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (cmd_check_profile(&cmd_replay_desc, optarg))
				return 2;
			o.profile = optarg;
			break;
		case 'm':
			{
				int mode;

				if (cmd_opt_mode(&cmd_replay_desc, optarg, &mode))
					return 2;
				o.mode = (enum replay_mode)mode;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			o.check = true;
			break;
		case 'C':
			o.check = true;
			if (cmd_opt_u64(&cmd_replay_desc, "check-every", optarg, 1, UINT64_MAX, &o.check_every))
				return 2;
			break;
		case 'v':
			verbose = true;
			break;
		case 'L':
			if (cmd_opt_u64(&cmd_replay_desc, "max-log", optarg, 1, REPLAY_MAX_LOG, &v))
				return 2;
			o.max_log = (unsigned)v;
			break;
		case 's':
			if (o.nr_settings == MAX_SETTINGS)
				return cmd_usage_error(&cmd_replay_desc, "too many --set options");
			if (parse_setting(optarg, &settings[o.nr_settings]))
				return cmd_usage_error(&cmd_replay_desc, "--set wants NAME=NUMBER, not '%s'", optarg);
			o.nr_settings++;
			break;
		case 'u':
			/* stop_at 0 means "never"; the run feeds REPLAY_WINDOW events past it */
			if (cmd_opt_u64(&cmd_replay_desc, "until", optarg, 1, UINT64_MAX - REPLAY_WINDOW, &o.stop_at))
				return 2;
			break;
		case 'h':
			cmd_print_usage(&cmd_replay_desc, stdout);
			printf("\n%s", cmd_replay_desc.help);
			return cmd_finish_stdout();
		default:
			return cmd_bad_option(&cmd_replay_desc, c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_replay_desc, "expected one trace file");
	if (o.nr_settings && o.mode != REPLAY_SIMULATE)
		return cmd_usage_error(&cmd_replay_desc, "--set applies to --mode simulate");
	o.settings = settings;
	if (verbose && !o.max_log)
		o.max_log = 1000;
	path = argv[optind];
	rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	if (!rd) {
		pr_err("%s", errbuf);	/* errbuf names the file */
		return 1;
	}
	if (trace_reader_loss(rd) && trace_reader_loss(rd)->total)
		pr_warn("'%s' lost %llu events: expect resyncs", path,
			(unsigned long long)trace_reader_loss(rd)->total);
	err = replay_run_reader(rd, &o, &r, errbuf, sizeof(errbuf));
	if (err) {
		pr_err("'%s': %s", path, cmd_strip_path(errbuf, path));
		trace_reader_close(rd);
		return 1;
	}
	if (trace_reader_status(rd)->truncated || trace_reader_status(rd)->corrupt_chunks)
		pr_warn("'%s' is %s: replayed up to its last whole chunk (%s)", path,
			trace_reader_status(rd)->truncated ? "truncated" : "damaged",
			cmd_strip_path(trace_reader_status(rd)->first_problem, path));
	if (json) {
		struct jsonw *w = jsonw_new(stdout);

		replay_json_result(r, w, verbose);
		jsonw_free(w);
	} else {
		replay_print_result(r, stdout, verbose);
	}
	rc = cmd_finish_stdout();
	if (o.check && replay_get_result(r)->invariant_err) {
		pr_err("'%s': the model's invariants broke: %s", path, replay_get_result(r)->invariant_msg);
		rc = 1;
	}
	replay_free(r);
	trace_reader_close(rd);
	return rc;
}

const struct cmd_desc cmd_replay_desc = {
	.name = "replay",
	.run = run,
	.summary = "replay a trace through the allocator model and score it",
	.usage = "FILE [--profile NAME] [--mode follow|simulate] [--json] [--check] [--verbose]\n"
		 "FILE --mode simulate [--set NAME=VALUE]...",
	.help =
	"follow (default): the model is seeded from the trace's start snapshot and driven by the\n"
	"kernel's buddy-level events: takes from free lists (mm_page_alloc_zone_locked, extfrag),\n"
	"pcp drains, direct and batched frees. Before each take the model predicts what it would\n"
	"have taken for the same request; the prediction is scored:\n"
	"  decision agreement   share of takes where the path (normal, highatomic, claim, steal),\n"
	"                       the fallback migratetype and order and change_ownership match\n"
	"  placement agreement  share of takes where the predicted pfn is the kernel's\n"
	"Events the model's state cannot explain are repaired and counted by cause (resyncs), and at\n"
	"the end the model is compared with the end snapshot (pageblock types; free blocks per zone,\n"
	"order and migratetype).\n"
	"simulate: only the allocation requests (order, gfp, migratetype, cpu) and the frees (matched\n"
	"to the allocation they free) drive the model, which decides everything; the figures are\n"
	"the relative error of the extfrag counts per (requested, fallback, ownership) cell and of the\n"
	"pageblock type counts at the end.\n"
	"\n"
	"Options:\n"
	"  --profile NAME      linux-6.1, linux-6.12e, linux-6.12, linux-6.18 (default: from the trace)\n"
	"  --mode MODE         follow or simulate\n"
	"  --json              machine-readable: profile, mode, events, takes, decision_agreement,\n"
	"                      placement_agreement, resyncs {cause: count}, end_state\n"
	"                      {pageblocks_equal, free_counts_equal}, ...\n"
	"  --check             run the model's invariant checker at the end (exit 1 if broken)\n"
	"  --check-every N     ... and every N events\n"
	"  -v, --verbose       list resyncs and disagreements (first 1000; --max-log N)\n"
	"  --set NAME=VALUE    simulate what-if: pageblock_order, watermark_boost_factor, pcp_batch,\n"
	"                      pcp_high, defrag_mode, mobility_disabled\n"
	"  --until SEQ         stop before event SEQ (no end-state comparison)\n"
	"\n"
	"Output is deterministic: the same trace and options give byte-identical output.\n",
};
