// SPDX-License-Identifier: GPL-2.0-only
/* fragscope workload: run a built-in deterministic memory workload */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-args.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "workload/workload.h"

extern const struct cmd_desc cmd_workload_desc;

static void on_signal(int signo)
{
	workload_request_stop(signo);
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400 * 7)
		return -EINVAL;
	*out = v;
	return 0;
}

static void print_text(const struct workload_result *r)
{
	const struct workload_plan *p = &r->plan;

	printf("workload %s: seed %llu, budget %llu MiB%s\n", workload_kind_name(p->kind),
	       (unsigned long long)p->seed, (unsigned long long)(p->mem >> 20),
	       p->mem_default ? " (default)" : "");
	if (p->unmovable_free >= 0)
		printf("  unmovable pageblocks held %llu MiB free at start\n",
		       (unsigned long long)(p->unmovable_free >> 20));
	if (r->files)
		printf("  page cache: %llu files, %llu MiB in '%s'%s, %llu unlinked\n",
		       (unsigned long long)r->files, (unsigned long long)(r->file_bytes >> 20),
		       r->dir, r->private_tmpfs ? " (private tmpfs)" : "",
		       (unsigned long long)r->files_unlinked);
	if (r->anon_bytes)
		printf("  anonymous: %llu MiB, %llu chunks freed\n",
		       (unsigned long long)(r->anon_bytes >> 20),
		       (unsigned long long)r->anon_chunks_freed);
	if (p->thp_bytes)
		printf("  THP: %llu MiB touched, %llu MiB huge at peak, %llu extents freed\n",
		       (unsigned long long)(r->thp_touched >> 20), (unsigned long long)(r->thp_bytes >> 20),
		       (unsigned long long)r->thp_extents_freed);
	if (p->pipe_bytes && p->pipes_auto)
		printf("  pipes: %llu holding %llu MiB (automatic: %u rounds, %llu MiB first, cap %llu MiB)\n",
		       (unsigned long long)r->pipes, (unsigned long long)(r->pipe_bytes >> 20),
		       r->pipe_rounds, (unsigned long long)(p->pipe_bytes >> 20),
		       (unsigned long long)(p->pipe_cap >> 20));
	else if (p->pipe_bytes)
		printf("  pipes: %llu holding %llu MiB (asked %llu MiB)\n",
		       (unsigned long long)r->pipes, (unsigned long long)(r->pipe_bytes >> 20),
		       (unsigned long long)(p->pipe_bytes >> 20));
	if (r->unmovable_free_end >= 0)
		printf("  unmovable pageblocks held %llu MiB free with the pipes full\n",
		       (unsigned long long)(r->unmovable_free_end >> 20));
	if (p->forks)
		printf("  forks: %llu children\n", (unsigned long long)r->forks);
	for (int i = 0; i < r->nr_phases; i++)
		printf("  %-12s %8.3f s .. %8.3f s\n", r->phases[i].name,
		       (double)(r->phases[i].start_ns - r->start_ns) / 1e9,
		       (double)(r->phases[i].end_ns - r->start_ns) / 1e9);
	printf("  elapsed %.3f s%s%s%s\n", (double)(r->end_ns - r->start_ns) / 1e9,
	       r->timed_out ? ", stopped by --duration" : "",
	       r->interrupted ? ", interrupted" : "",
	       r->cleaned_up ? ", cleaned up" : ", NOT fully cleaned up");
	if (r->note[0])
		printf("  note: %s\n", r->note);
}

static void print_plan(const struct workload_plan *p)
{
	printf("workload %s plan: seed %llu, budget %llu MiB%s, duration <= %g s\n",
	       workload_kind_name(p->kind), (unsigned long long)p->seed,
	       (unsigned long long)(p->mem >> 20), p->mem_default ? " (default)" : "", p->duration);
	printf("  MemAvailable %llu MiB", (unsigned long long)(p->mem_available >> 20));
	if (p->unmovable_free >= 0)
		printf(", unmovable pageblocks %llu MiB free", (unsigned long long)(p->unmovable_free >> 20));
	printf("\n");
	if (p->file_bytes || p->anon_bytes)
		printf("  page cache %llu MiB, anonymous %llu MiB\n",
		       (unsigned long long)(p->file_bytes >> 20), (unsigned long long)(p->anon_bytes >> 20));
	if (p->thp_bytes)
		printf("  THP %llu MiB\n", (unsigned long long)(p->thp_bytes >> 20));
	if (p->pipe_bytes && p->pipes_auto)
		printf("  pipes %llu MiB first, then on while unmovable pageblocks have %llu MiB free, "
		       "at most %llu MiB\n", (unsigned long long)(p->pipe_bytes >> 20),
		       (unsigned long long)(WORKLOAD_PIPE_LOW >> 20), (unsigned long long)(p->pipe_cap >> 20));
	else if (p->pipe_bytes)
		printf("  pipes %llu MiB\n", (unsigned long long)(p->pipe_bytes >> 20));
	if (p->forks)
		printf("  forks %u, %u at a time\n", p->forks, p->fork_batch);
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "pipes", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "hold", required_argument, NULL, 'H' },
		{ "dir", required_argument, NULL, 'D' },
		{ "forks", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "enable-thp", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_desc *d = &cmd_workload_desc;
	struct workload_opts o = { .sz = sizeof(o), .seed = WORKLOAD_DEFAULT_SEED };
	struct workload_plan plan;
	struct workload_result *res;
	struct sigaction sa;
	bool json = false, quiet = false, dry = false;
	char err[200];
	int kind, c, ret;

	optind = 1;
	opterr = 0;	/* one line of ours instead of getopt's message plus a generic one */
	while ((c = getopt_long(argc, argv, ":m:p:s:d:H:D:f:qjn", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'm':
			if (workload_parse_size(optarg, &o.mem) || !o.mem)
				return cmd_usage_error(d, "bad --mem '%s': expected a size such as 512M or 2G",
						       optarg);
			break;
		case 'p':
			if (workload_parse_size(optarg, &o.pipes) || !o.pipes)
				return cmd_usage_error(d, "bad --pipes '%s': expected a size such as 256M",
						       optarg);
			break;
		case 's':
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return cmd_usage_error(d, "bad --seed '%s': expected a number", optarg);
			break;
		case 'd':
			if (parse_seconds(optarg, &o.duration) || o.duration <= 0)
				return cmd_usage_error(d, "bad --duration '%s': expected seconds > 0", optarg);
			break;
		case 'H':
			if (parse_seconds(optarg, &o.hold))
				return cmd_usage_error(d, "bad --hold '%s': expected seconds", optarg);
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'f': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !v || v > 100000)
				return cmd_usage_error(d, "bad --forks '%s': expected 1..100000", optarg);
			o.forks = (unsigned)v;
			break;
		}
		case 'q':
			quiet = true;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'T':
			o.enable_thp = true;
			break;
		case ':':
			return cmd_bad_option(d, ':', argv, longopts);
		default:
			return cmd_bad_option(d, '?', argv, longopts);
		}
	}
	/* getopt_long permutes (GNU): the name may come before or after the options. */
	if (optind >= argc)
		return cmd_usage_error(d, "no workload named (fragment, thp, forks or mixed)");
	const char *name = argv[optind++];

	if (optind < argc)
		return cmd_usage_error(d, "unexpected argument '%s'", argv[optind]);
	kind = workload_kind_from_name(name);
	if (kind < 0)
		return cmd_usage_error(d, "unknown workload '%s' (fragment, thp, forks or mixed)", name);
	if (quiet)
		log_set_level(LOG_ERR);
	o.progress = true;	/* pr_info: shown with -v */

	ret = workload_plan((enum workload_kind)kind, &o, &plan, err, sizeof(err));
	if (ret == -EINVAL) {
		pr_err("%s", err);
		return 1;
	}
	if (ret) {
		pr_err("cannot read '/proc/meminfo': %s", strerror(-ret));
		return 1;
	}
	if ((kind == WORKLOAD_FRAGMENT || kind == WORKLOAD_MIXED) && !o.pipes && plan.unmovable_free < 0)
		pr_info("/proc/pagetypeinfo is not readable: pipe pressure is a fixed %llu MiB, "
			"which may not use up the free space of the unmovable pageblocks",
			(unsigned long long)(plan.pipe_bytes >> 20));
	else if (plan.pipes_auto && (uint64_t)plan.unmovable_free + WORKLOAD_PIPE_LOW >= plan.pipe_cap)
		pr_warn("unmovable pageblocks hold %llu MiB free, more than the pipe cap of %llu MiB: "
			"steals are unlikely (use --pipes)",
			(unsigned long long)(plan.unmovable_free >> 20),
			(unsigned long long)(plan.pipe_cap >> 20));

	res = calloc(1, sizeof(*res));
	if (!res) {
		pr_err("out of memory");
		return 1;
	}
	if (dry) {
		res->plan = plan;
	} else {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;	/* no SA_RESTART: blocking calls return EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		workload_reset_stop();
		ret = workload_run(&plan, &o, res);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (ret) {
			pr_err("%s failed: %s", name, strerror(-ret));
			free(res);
			return 1;
		}
	}
	if (json) {
		struct jsonw *w = jsonw_new(stdout);

		jsonw_pretty(w, true);
		workload_result_json(res, w);
		jsonw_free(w);
	} else if (!quiet) {
		if (dry)
			print_plan(&plan);
		else
			print_text(res);
	}
	ret = 0;
	if (res->interrupted)
		ret = 128 + (res->stop_signal ? res->stop_signal : SIGINT);
	else if (!dry && !res->cleaned_up)
		ret = 1;
	free(res);
	return ret;
}

const struct cmd_desc cmd_workload_desc = {
	.name = "workload",
	.run = run,
	.summary = "run a built-in deterministic memory workload",
	.usage = "fragment|thp|forks|mixed [--mem SIZE] [--pipes SIZE] [--seed N] [--duration S] [--hold S]\n"
		 "fragment|thp|forks|mixed [--dir DIR] [--forks N] [--enable-thp] [--dry-run] [--json] [--quiet]",
	.help =
	"Workloads (each fills, frees in a fixed pattern, then releases everything):\n"
	"  fragment   page cache (64 KiB files) and anonymous memory, 3:1, interleaved by the\n"
	"             seed; unlink every other file and MADV_DONTNEED every other chunk; then\n"
	"             fill 1 MiB pipes (pipe buffers are unmovable) until the free space of the\n"
	"             unmovable pageblocks is used up and the kernel must steal from movable\n"
	"             ones (mm_page_alloc_extfrag); then 32 forks\n"
	"  thp        MADV_HUGEPAGE memory (order-9 faults) interleaved with base pages; free\n"
	"             every other huge extent, split every fourth, free every other base chunk,\n"
	"             then fault the freed huge extents again (THP must not be 'never': kernels\n"
	"             turn it off below 512 MiB of RAM; see --enable-thp)\n"
	"  forks      a fork storm: children touching one page every 2 MiB (page tables and\n"
	"             kernel stacks are unmovable), 64 alive at a time\n"
	"  mixed      fill and holes, THP, pipes and forks in one run\n"
	"\n"
	"Options:\n"
	"  --mem SIZE       budget (K/M/G suffixes); default 75% of MemAvailable, at most 2G;\n"
	"                   fragment writes 3/4 of it as files and 1/4 as anonymous memory\n"
	"  --pipes SIZE     pipe buffers to fill (fragment, mixed). Default, as root: the larger\n"
	"                   of half the budget (a quarter for mixed) and the free space of the\n"
	"                   unmovable pageblocks (/proc/pagetypeinfo) plus 64M, then on, round\n"
	"                   by round, while they still have 16M free, up to 25% of MemAvailable;\n"
	"                   the summary says how much it took. Not root: half the budget\n"
	"  --forks N        children to fork (forks, mixed; default from the budget: mem/256K,\n"
	"                   mem/1M for mixed, 16..4096)\n"
	"  --seed N         seed of the interleaving and the data (default 1)\n"
	"  --duration S     upper bound in seconds (default 60): stop, clean up and report\n"
	"  --hold S         keep the final state S seconds before cleaning up (default 0)\n"
	"  --dir DIR        put page-cache files in a new folder under DIR (default: as root a\n"
	"                   private tmpfs mounted in a private mount namespace, else /dev/shm)\n"
	"  --enable-thp     thp, mixed: if transparent_hugepage/enabled is 'never', set it to\n"
	"                   'madvise' for the run and restore it afterwards (root; meant for the\n"
	"                   lab's small guests, where the kernel switched THP off)\n"
	"  --dry-run        resolve and print the plan only\n"
	"  --json           print a summary as JSON: the plan, what was done, phase times\n"
	"                   (CLOCK_MONOTONIC, the tracefs 'mono' clock), elapsed\n"
	"  -q, --quiet      no progress messages, no text summary\n"
	"\n"
	"A run refuses to hold more than 90% of MemAvailable. SIGINT/SIGTERM stop it; it cleans\n"
	"up and exits 128+signal. Stopped by --duration it exits 0 (timed_out in --json); 1 on\n"
	"an error or when something could not be cleaned up. Every size and step follows from the options and the plan,\n"
	"which --json echoes: pass them back explicitly to repeat a run.\n",
};
