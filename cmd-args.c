// SPDX-License-Identifier: GPL-2.0-only
/* One-line usage errors for getopt_long's '?' and ':' and for numeric option values. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd-args.h"

#include "replay/engine.h"
#include "allocator/buddy.h"
#include "util/parse.h"

static const char *long_name(const struct option *opts, int val)
{
	for (; opts && opts->name; opts++)
		if (!opts->flag && opts->val == val)
			return opts->name;
	return NULL;
}

int cmd_bad_option(const struct cmd_desc *d, int c, char **argv, const struct option *opts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const char *name;
	int len;

	if (c == ':') {
		/* name the option as it was typed: "-o" or "--output" */
		name = long_name(opts, optopt);
		if (name && arg && !strncmp(arg, "--", 2))
			return cmd_usage_error(d, "option '--%s' needs a value", name);
		if (optopt > 0 && optopt < 256)
			return cmd_usage_error(d, "option '-%c' needs a value", optopt);
		return cmd_usage_error(d, "option '%s' needs a value", arg ? arg : "");
	}
	/* "--name=value" on an option without a value, or an unknown "--name[=value]" */
	if (arg && !strncmp(arg, "--", 2)) {
		len = (int)strcspn(arg, "=");
		if (optopt && arg[len] == '=')
			return cmd_usage_error(d, "option '%.*s' takes no value", len, arg);
		return cmd_usage_error(d, "unknown option '%.*s'", len, arg);
	}
	if (optopt > 0 && optopt < 256)
		return cmd_usage_error(d, "unknown option '-%c'", optopt);
	return cmd_usage_error(d, "unknown option '%s'", arg ? arg : "");
}

int cmd_opt_u64(const struct cmd_desc *d, const char *name, const char *arg, uint64_t min, uint64_t max,
		uint64_t *out)
{
	if (!parse_u64(arg, min, max, out))
		return 0;
	return cmd_usage_error(d, "option '--%s' wants a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'",
			       name, min, max, arg);
}

int cmd_check_profile(const struct cmd_desc *d, const char *name)
{
	const char *const *names = buddy_profile_names();
	struct buddy_profile p;
	char known[256] = "";
	size_t n = 0;

	if (!buddy_profile_by_name(name, &p))
		return 0;
	for (; names && *names && n < sizeof(known); names++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", n ? ", " : "", *names);
	return cmd_usage_error(d, "unknown profile '%s' (known: %s)", name, known);
}

const char *cmd_strip_path(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (msg[0] == '\'' && !strncmp(msg + 1, path, n) && !strncmp(msg + 1 + n, "': ", 3))
		return msg + n + 4;
	return msg;
}

int cmd_opt_mode(const struct cmd_desc *d, const char *arg, int *mode)
{
	if (!strcmp(arg, "follow"))
		*mode = REPLAY_FOLLOW;
	else if (!strcmp(arg, "simulate"))
		*mode = REPLAY_SIMULATE;
	else
		return cmd_usage_error(d, "unknown mode '%s' (follow or simulate)", arg);
	return 0;
}
