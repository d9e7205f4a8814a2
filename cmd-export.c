// SPDX-License-Identifier: GPL-2.0-only
/* fragscope export: export a trace's events as CSV or JSON lines */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("export");
}

const struct cmd_desc cmd_export_desc = {
	.name = "export",
	.run = run,
	.summary = "export a trace's events as CSV or JSON lines",
	.usage = "FILE --format csv|jsonl [-o OUT]",
	.help = "",
};
