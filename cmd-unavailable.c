// SPDX-License-Identifier: GPL-2.0-only
/*
 * Commands left out of a reduced build (`make static`, the lab's guest binary): the table in
 * main.c still lists them, and running one says so.
 */
#include <stdio.h>

#include "cmd.h"

#ifdef FRAGSCOPE_STATIC
#define UNAVAILABLE(cmd, sum)							\
	static int run_##cmd(int argc, char **argv)				\
	{									\
		(void)argc;							\
		(void)argv;							\
		fprintf(stderr, "fragscope %s: not available in this build "	\
			"(a reduced static build: use the full fragscope)\n", #cmd);	\
		return 2;							\
	}									\
	const struct cmd_desc cmd_##cmd##_desc = {				\
		.name = #cmd,							\
		.run = run_##cmd,						\
		.summary = sum " (not in this build)",				\
		.usage = "",							\
		.help = "Not available in this reduced static build.\n",	\
	}

#ifdef FRAGSCOPE_WITHOUT_IMPORT
UNAVAILABLE(import, "import a trace-cmd trace.dat or ftrace text capture");
#endif
#ifdef FRAGSCOPE_WITHOUT_VIEW
UNAVAILABLE(view, "explore pageblock maps interactively");
#endif
#ifdef FRAGSCOPE_WITHOUT_RENDER
UNAVAILABLE(render, "render pageblock maps to PNG, SVG or PDF");
#endif
#endif /* FRAGSCOPE_STATIC */
