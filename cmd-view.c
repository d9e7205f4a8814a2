// SPDX-License-Identifier: GPL-2.0-only
/* fragscope view: explore pageblock maps over time (ncurses) */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("view");
}

const struct cmd_desc cmd_view_desc = {
	.name = "view",
	.run = run,
	.summary = "pageblock maps over time (ncurses) — not implemented yet",
	.usage = "FILE",
	.help = "Not implemented yet: exits 2 without reading FILE.\n",
};
