// SPDX-License-Identifier: GPL-2.0-only
/* fragscope diff: compare the kernel with the model, or two traces or profiles */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("diff");
}

const struct cmd_desc cmd_diff_desc = {
	.name = "diff",
	.run = run,
	.summary = "compare the kernel with the model, or two traces or profiles",
	.usage = "A [B] [--profile NAME] [--json]",
	.help = "",
};
