// SPDX-License-Identifier: GPL-2.0-only
/* fragscope lab: capture other kernels (6.1, 6.12) in qemu */
#include "cmd.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_implemented("lab");
}

const struct cmd_desc cmd_lab_desc = {
	.name = "lab",
	.run = run,
	.summary = "capture other kernels (6.1, 6.12) in qemu",
	.usage = "run --kernel 6.1|6.12|PATH.deb --mem SIZE [--workload NAME] -o OUT.fst",
	.help = "",
};
