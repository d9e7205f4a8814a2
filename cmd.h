/* SPDX-License-Identifier: GPL-2.0-only */
/* The command table: each cmd-*.c defines one struct cmd_desc; main.c lists them. */
#ifndef FRAGSCOPE_CMD_H
#define FRAGSCOPE_CMD_H

#include <stdio.h>

struct cmd_desc {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the command name */
	const char *summary;			/* one line, for `fragscope --help` */
	const char *usage;			/* synopsis lines, without "usage: " */
	const char *help;			/* options and description, for `help CMD` */
};

#define CMD_DECLARE(x) extern const struct cmd_desc cmd_##x##_desc
CMD_DECLARE(record);
CMD_DECLARE(import);
CMD_DECLARE(info);
CMD_DECLARE(stat);
CMD_DECLARE(replay);
CMD_DECLARE(diff);
CMD_DECLARE(view);
CMD_DECLARE(render);
CMD_DECLARE(export);
CMD_DECLARE(lab);
CMD_DECLARE(workload);

/* For commands not built yet: prints "fragscope CMD: not implemented yet", returns 2. */
int cmd_not_implemented(const char *name);
/* Prints "usage: ..." for desc to f. */
void cmd_print_usage(const struct cmd_desc *desc, FILE *f);
/* Reports a usage error (message, then the usage) and returns 2, the exit code for misuse. */
int cmd_usage_error(const struct cmd_desc *desc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Finishes stdout: fflush + ferror; returns 0, or 1 with a message when stdout could not be written. */
int cmd_finish_stdout(void);

#endif
