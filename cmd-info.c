// SPDX-License-Identifier: GPL-2.0-only
/* fragscope info: describe a trace file: machine, snapshots, events, losses */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("info");
}

const struct cmd_desc cmd_info_desc = {
	.name = "info",
	.run = run,
	.summary = "describe a trace file: machine, snapshots, events, losses",
	.usage = "FILE [--json]",
	.help = "",
};
