/* SPDX-License-Identifier: GPL-2.0-only */
/* Output files written whole or not at all: a temporary file next to the target, renamed over it
 * at the end (import, export). record writes in place instead, so a killed recorder leaves a
 * readable file. */
#ifndef FRAGSCOPE_OUTFILE_H
#define FRAGSCOPE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

/* True when in and out name the same file (same st_dev and st_ino, through symlinks and hard
 * links). False when either does not exist. */
bool outfile_same(const char *in, const char *out);

/* Creates an empty temporary file in out's directory (".NAME.XXXXXX"), with the mode a new file
 * created with 0666 under the current umask would have; its path goes into tmp. Returns an open
 * O_RDWR descriptor, or -errno. */
int outfile_tmp(const char *out, char *tmp, size_t cap);

/* Renames tmp over out (0 or -errno; tmp is removed on failure). */
int outfile_commit(const char *tmp, const char *out);

#endif
