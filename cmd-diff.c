// SPDX-License-Identifier: GPL-2.0-only
/* fragscope diff: compare the kernel with the model, or two traces or profiles */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-args.h"
#include "replay/diff.h"
#include "replay/engine.h"
#include "traces/trace.h"
#include "util/log.h"

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	const char *profiles[2] = { NULL, NULL };
	unsigned nr_profiles = 0;
	struct trace_reader *ra = NULL, *rb = NULL;
	char errbuf[512];
	int c, err, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (nr_profiles == 2)
				return cmd_usage_error(&cmd_diff_desc, "at most two --profile options");
			if (cmd_check_profile(&cmd_diff_desc, optarg))
				return 2;
			profiles[nr_profiles++] = optarg;
			break;
		case 'm':
			{
				int mode;

				if (cmd_opt_mode(&cmd_diff_desc, optarg, &mode))
					return 2;
				o.mode = (enum replay_mode)mode;
			}
			break;
		case 'h':
			cmd_print_usage(&cmd_diff_desc, stdout);
			printf("\n%s", cmd_diff_desc.help);
			return cmd_finish_stdout() ? 2 : 0;
		default:
			return cmd_bad_option(&cmd_diff_desc, c, argv, opts);
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return cmd_usage_error(&cmd_diff_desc, "expected one or two trace files");
	if (optind == argc - 2 && nr_profiles == 2)
		return cmd_usage_error(&cmd_diff_desc, "two profiles compare on one trace");
	ra = trace_reader_open(argv[optind], &err, errbuf, sizeof(errbuf));
	if (!ra) {
		pr_err("%s", errbuf);
		return 2;
	}
	if (optind == argc - 2) {
		rb = trace_reader_open(argv[optind + 1], &err, errbuf, sizeof(errbuf));
		if (!rb) {
			pr_err("%s", errbuf);
			trace_reader_close(ra);
			return 2;
		}
		rc = replay_diff_traces(ra, rb, argv[optind], argv[optind + 1], stdout, errbuf, sizeof(errbuf));
	} else if (nr_profiles == 2) {
		rc = replay_diff_profiles(ra, &o, profiles[0], profiles[1], stdout, errbuf, sizeof(errbuf));
	} else {
		o.profile = profiles[0];
		rc = replay_diff_model(ra, &o, stdout, errbuf, sizeof(errbuf));
	}
	if (rc < 0) {
		pr_err("%s", errbuf);
		rc = 2;
	}
	if (cmd_finish_stdout())
		rc = 2;
	trace_reader_close(ra);
	trace_reader_close(rb);
	return rc;
}

const struct cmd_desc cmd_diff_desc = {
	.name = "diff",
	.run = run,
	.summary = "compare the kernel with the model, or two traces or profiles",
	.usage = "A [--profile NAME] [--mode follow|simulate]\n"
		 "A --profile NAME --profile NAME\n"
		 "A B",
	.help =
	"diff A: the kernel's trace against the model (follow mode, or simulate). Prints the first\n"
	"divergence with its context: event number and time, the events around it, what the kernel\n"
	"did and what the model predicted, the model's state around the pfn (the pageblock's type and\n"
	"free blocks, the free-list heads from that order up); then the aggregate figures.\n"
	"diff A --profile X --profile Y: the same trace followed with two profiles; the first take\n"
	"where their predictions part, then both sets of figures.\n"
	"diff A B: two traces: the first event that differs with the events before it, then the\n"
	"allocations by order of each.\n"
	"\n"
	"Exit status as diff(1): 0 the two sides agree, 1 they differ, 2 error.\n"
	"\n"
	"Options:\n"
	"  --profile NAME  allocator profile (twice: compare two profiles)\n"
	"  --mode MODE     follow (default) or simulate\n",
};
