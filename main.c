// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragscope: what did the page allocator do to my memory, and why?
 * The command table and dispatch. `--help` and `help CMD` are generated from the table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "util/log.h"

static const struct cmd_desc *const commands[] = {
	&cmd_record_desc,
	&cmd_import_desc,
	&cmd_info_desc,
	&cmd_stat_desc,
	&cmd_replay_desc,
	&cmd_diff_desc,
	&cmd_view_desc,
	&cmd_render_desc,
	&cmd_export_desc,
	&cmd_lab_desc,
	&cmd_workload_desc,
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int cmd_not_implemented(const char *name)
{
	fprintf(stderr, "fragscope %s: not implemented yet\n", name);
	return 2;
}

void cmd_print_usage(const struct cmd_desc *d, FILE *f)
{
	const char *u = d->usage;
	bool first = true;

	while (u && *u) {
		const char *nl = strchr(u, '\n');
		int len = nl ? (int)(nl - u) : (int)strlen(u);

		fprintf(f, "%s fragscope %s %.*s\n", first ? "usage:" : "   or:", d->name, len, u);
		first = false;
		u = nl ? nl + 1 : u + len;
	}
	if (first)
		fprintf(f, "usage: fragscope %s\n", d->name);
}

int cmd_usage_error(const struct cmd_desc *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fragscope %s: ", d->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_print_usage(d, stderr);
	fprintf(stderr, "(see 'fragscope help %s')\n", d->name);
	return 2;
}

int cmd_finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n", log_prefix(), strerror(errno));
		return 1;
	}
	return 0;
}

static void print_main_help(FILE *f)
{
	fprintf(f, "usage: fragscope [--version] [--help] [-v|-q] COMMAND [ARGS]\n\n");
	fprintf(f, "Record, replay and explain what the Linux page allocator does.\n\n");
	fprintf(f, "Commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "show help for a command");
	fprintf(f, "\nGlobal options:\n"
		   "  -v, --verbose   more messages (repeat for debug)\n"
		   "  -q, --quiet     only errors\n"
		   "  --version       print the version\n"
		   "\nSee 'fragscope help COMMAND' for a command's options.\n");
}

static void print_cmd_help(const struct cmd_desc *d, FILE *f)
{
	cmd_print_usage(d, f);
	fprintf(f, "\n%s\n", d->summary);
	if (d->help && *d->help)
		fprintf(f, "\n%s", d->help);
	if (d->help && *d->help && d->help[strlen(d->help) - 1] != '\n')
		fputc('\n', f);
}

static const struct cmd_desc *find_cmd(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* Damerau-free Levenshtein distance, for the "did you mean" hint. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(int) * (lb + 1));
	}
	return prev[lb];
}

static int unknown_command(const char *name)
{
	int best = 99;
	const char *cand[NR_COMMANDS + 1];
	int nc = 0;

	fprintf(stderr, "fragscope: '%s' is not a fragscope command. See 'fragscope --help'.\n", name);
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		int d = edit_distance(name, commands[i]->name);

		if (strlen(name) >= 2 && !strncmp(commands[i]->name, name, strlen(name)))
			d = 1;	/* a prefix is a close match */
		if (d < best) {
			best = d;
			nc = 0;
		}
		if (d == best)
			cand[nc++] = commands[i]->name;
	}
	if (best <= 3) {
		fprintf(stderr, "\nThe most similar command%s:\n", nc > 1 ? "s are" : " is");
		for (int i = 0; i < nc; i++)
			fprintf(stderr, "\t%s\n", cand[i]);
	}
	return 2;
}

int main(int argc, char **argv)
{
	int i = 1;
	int verbosity = LOG_WARN;
	const struct cmd_desc *d;
	int ret;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_main_help(stdout);
			return cmd_finish_stdout();
		} else if (!strcmp(a, "--version")) {
			printf("fragscope %s (git %s)\n", FRAGSCOPE_VERSION, FRAGSCOPE_GIT_REV);
			return cmd_finish_stdout();
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbosity++;
		} else if (!strcmp(a, "-vv")) {
			verbosity += 2;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			verbosity = LOG_ERR;
		} else {
			fprintf(stderr, "fragscope: unknown option '%s'\n", a);
			print_main_help(stderr);
			return 2;
		}
	}
	log_set_level(verbosity > LOG_DEBUG ? LOG_DEBUG : (enum log_level)verbosity);
	if (i >= argc) {
		print_main_help(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			print_main_help(stdout);
			return cmd_finish_stdout();
		}
		d = find_cmd(argv[i + 1]);
		if (!d) {
			if (!strcmp(argv[i + 1], "help")) {
				print_main_help(stdout);
				return cmd_finish_stdout();
			}
			return unknown_command(argv[i + 1]);
		}
		print_cmd_help(d, stdout);
		return cmd_finish_stdout();
	}
	d = find_cmd(argv[i]);
	if (!d)
		return unknown_command(argv[i]);

	/* `fragscope CMD ... --help` anywhere before "--" shows the command's help. */
	for (int j = i + 1; j < argc; j++) {
		if (!strcmp(argv[j], "--"))
			break;
		if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
			print_cmd_help(d, stdout);
			return cmd_finish_stdout();
		}
	}

	char prefix[64];
	snprintf(prefix, sizeof(prefix), "fragscope %s", d->name);
	log_set_prefix(prefix);
	ret = d->run(argc - i, argv + i);
	if (cmd_finish_stdout() && ret == 0)
		ret = 1;
	return ret;
}
