// SPDX-License-Identifier: GPL-2.0-only
/* fragscope render: draw pageblock maps and steal events (PNG, SVG, PDF) */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("render");
}

const struct cmd_desc cmd_render_desc = {
	.name = "render",
	.run = run,
	.summary = "draw pageblock maps and steal events (PNG, SVG, PDF)",
	.usage = "FILE -o OUT",
	.help = "",
};
