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

struct outfile {
	char path[4096];	/* where to write: the temporary file, or OUT itself when direct */
	char target[4096];	/* OUT, through a symlink to the file it names */
	bool direct;		/* OUT exists and is not a regular file (/dev/null, a FIFO): no rename */
};

/* Creates an empty temporary file in the directory of OUT (".NAME.XXXXXX"; through a symlink,
 * next to the file it names), with the mode a new file created with 0666 under the current umask
 * has; or, when OUT exists and is not a regular file, opens OUT itself. Returns an open O_WRONLY
 * descriptor to o->path, or -errno. */
int outfile_begin(const char *out, struct outfile *o);

/* Renames the temporary file over the target (0 or -errno; the temporary file is removed on
 * failure). Nothing to do when direct. */
int outfile_commit(struct outfile *o);

/* Removes the temporary file (not OUT when direct). */
void outfile_abort(struct outfile *o);

#endif
