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
	.summary = "pageblock maps and steal events as PNG, SVG, PDF — not implemented yet",
	.usage = "FILE -o OUT",
	.help = "Not implemented yet: exits 2 without reading FILE.\n",
};
