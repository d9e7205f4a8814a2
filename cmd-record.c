// SPDX-License-Identifier: GPL-2.0-only
/* fragscope record: record the page allocator's events and state on this host (root) */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("record");
}

const struct cmd_desc cmd_record_desc = {
	.name = "record",
	.run = run,
	.summary = "record the page allocator's events and state on this host (root)",
	.usage = "-o FILE [-d SECONDS] [--stacks] [--buffer SIZE] [-- COMMAND [ARGS...]]",
	.help = "",
};
