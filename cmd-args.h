/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers for the commands' arguments. One-line usage errors for getopt_long's '?' and ':' (run getopt with opterr = 0 and an
 * optstring starting with ':'). */
#ifndef FRAGSCOPE_CMD_ARGS_H
#define FRAGSCOPE_CMD_ARGS_H

#include <getopt.h>
#include <stdint.h>

#include "cmd.h"

/* c is getopt_long's return ('?' or ':'): names the option ("unknown option '-Z'", "option
 * '--until' needs a value", "option '--json' takes no value"), prints the usage, returns 2. */
int cmd_bad_option(const struct cmd_desc *d, int c, char **argv, const struct option *opts);
/* parse_u64 on optarg for option NAME; on error a usage error naming the option and the range.
 * Returns 0, or 2 (the exit code) after the message. */
int cmd_opt_u64(const struct cmd_desc *d, const char *name, const char *arg, uint64_t min, uint64_t max,
		uint64_t *out);

/* A usage error unless NAME is a built-in allocator profile (the message lists them).
 * Returns 0, or 2 after the message. */
int cmd_check_profile(const struct cmd_desc *d, const char *name);
/* --mode follow|simulate into *mode (an enum replay_mode). Returns 0, or 2 after a usage error. */
int cmd_opt_mode(const struct cmd_desc *d, const char *arg, int *mode);
/* msg without a leading "'path': " (trace reader messages already name the file). */
const char *cmd_strip_path(const char *msg, const char *path);

#endif
