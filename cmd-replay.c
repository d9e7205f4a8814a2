// SPDX-License-Identifier: GPL-2.0-only
/* fragscope replay: replay a trace through the allocator model and score it */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("replay");
}

const struct cmd_desc cmd_replay_desc = {
	.name = "replay",
	.run = run,
	.summary = "replay a trace through the allocator model and score it",
	.usage = "FILE [--profile NAME] [--mode follow|simulate] [--json] [--check]",
	.help = "",
};
