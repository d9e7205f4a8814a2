// SPDX-License-Identifier: GPL-2.0-only
/* Whole-or-nothing output files (outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int outfile_begin(const char *out, struct outfile *o)
{
	const char *slash;
	struct stat sb, lsb;
	size_t dirlen;
	mode_t um;
	int fd, n;

	memset(o, 0, sizeof(*o));
	if (snprintf(o->target, sizeof(o->target), "%s", out) >= (int)sizeof(o->target))
		return -ENAMETOOLONG;
	if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		o->direct = true;
		snprintf(o->path, sizeof(o->path), "%s", out);
		fd = open(out, O_WRONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (lstat(out, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
		char *real = realpath(out, NULL);	/* a dangling link: replace the link itself */

		if (real) {
			n = snprintf(o->target, sizeof(o->target), "%s", real);
			free(real);
			if (n < 0 || (size_t)n >= sizeof(o->target))
				return -ENAMETOOLONG;
		}
	}
	slash = strrchr(o->target, '/');
	dirlen = slash ? (size_t)(slash - o->target) + 1 : 0;
	n = snprintf(o->path, sizeof(o->path), "%.*s.%s.XXXXXX", (int)dirlen, o->target,
		     slash ? slash + 1 : o->target);
	if (n < 0 || (size_t)n >= sizeof(o->path))
		return -ENAMETOOLONG;
	fd = mkostemp(o->path, O_CLOEXEC);
	if (fd < 0) {
		o->path[0] = '\0';
		return -errno;
	}
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) < 0) {
		int err = -errno;

		close(fd);
		outfile_abort(o);
		return err;
	}
	return fd;
}

int outfile_commit(struct outfile *o)
{
	if (o->direct)
		return 0;
	if (rename(o->path, o->target) < 0) {
		int err = -errno;

		outfile_abort(o);
		return err;
	}
	o->path[0] = '\0';
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (!o->direct && o->path[0])
		unlink(o->path);
	o->path[0] = '\0';
}
