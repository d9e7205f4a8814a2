// SPDX-License-Identifier: GPL-2.0-only
/* Whole-or-nothing output files (outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/outfile.h"

bool outfile_same(const char *in, const char *out)
{
	struct stat a, b;

	if (!in || !out || stat(in, &a) || stat(out, &b))
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int outfile_tmp(const char *out, char *tmp, size_t cap)
{
	const char *slash = strrchr(out, '/');
	size_t dirlen = slash ? (size_t)(slash - out) + 1 : 0;
	mode_t um;
	int fd, n;

	n = snprintf(tmp, cap, "%.*s.%s.XXXXXX", (int)dirlen, out, slash ? slash + 1 : out);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) < 0) {
		int err = -errno;

		close(fd);
		unlink(tmp);
		return err;
	}
	return fd;
}

int outfile_commit(const char *tmp, const char *out)
{
	if (rename(tmp, out) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}
