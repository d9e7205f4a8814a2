// SPDX-License-Identifier: GPL-2.0-only
/* fragscope workload: run a built-in deterministic memory workload */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("workload");
}

const struct cmd_desc cmd_workload_desc = {
	.name = "workload",
	.run = run,
	.summary = "run a built-in deterministic memory workload",
	.usage = "NAME [OPTIONS]",
	.help = "",
};
