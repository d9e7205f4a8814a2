// SPDX-License-Identifier: GPL-2.0-only
/* fragscope stat: allocation, free and fallback statistics of a trace */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("stat");
}

const struct cmd_desc cmd_stat_desc = {
	.name = "stat",
	.run = run,
	.summary = "allocation, free and fallback statistics of a trace",
	.usage = "FILE [--json]",
	.help = "",
};
