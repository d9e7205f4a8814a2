// SPDX-License-Identifier: GPL-2.0-only
/* fragscope import: import a trace-cmd trace.dat or ftrace text capture */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("import");
}

const struct cmd_desc cmd_import_desc = {
	.name = "import",
	.run = run,
	.summary = "import a trace-cmd trace.dat or ftrace text capture",
	.usage = "INPUT -o OUT.fst [--formats DIR] [--snapshot-proc]",
	.help = "",
};
