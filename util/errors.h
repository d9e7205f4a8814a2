/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Library code returns 0 or -errno, or one of these project codes, which sit below the errno
 * range (libtraceevent's TEP_ERRNO__* pattern). fragscope_strerror() names both kinds.
 */
#ifndef FRAGSCOPE_ERRORS_H
#define FRAGSCOPE_ERRORS_H

#define FS_ERRNO__START (-100000)

enum fs_errno {
	FS_ERRNO__SUCCESS = 0,
	FS_ERRNO__FIRST = FS_ERRNO__START,
	FS_ERRNO__BAD_MAGIC,		/* not a fragscope trace */
	FS_ERRNO__VERSION,		/* format version this build cannot read */
	FS_ERRNO__TRUNCATED,		/* file ends inside a section */
	FS_ERRNO__CORRUPT,		/* structure does not parse */
	FS_ERRNO__CHECKSUM,		/* CRC mismatch */
	FS_ERRNO__TOO_LARGE,		/* a length beyond the reader's limits */
	FS_ERRNO__NO_HEADER,		/* machine header missing */
	FS_ERRNO__NO_SNAPSHOT,		/* a snapshot that is needed is absent */
	FS_ERRNO__DECOMPRESS,		/* zstd failed */
	FS_ERRNO__BAD_FORMAT_FILE,	/* tracepoint format file not understood */
	FS_ERRNO__UNKNOWN_EVENT,	/* an event this build does not know */
	FS_ERRNO__UNKNOWN_PROFILE,	/* no allocator profile by that name or release */
	FS_ERRNO__BAD_CONFIG,		/* model configuration out of range */
	FS_ERRNO__CONTRADICTION,	/* the kernel's event contradicts the model's state */
	FS_ERRNO__INVARIANT,		/* the model's invariants do not hold */
	FS_ERRNO__NO_PRIV,		/* needs CAP_BPF + CAP_PERFMON (or root) */
	FS_ERRNO__NO_BTF,		/* no kernel BTF */
	FS_ERRNO__NO_TRACEPOINT,	/* a needed tracepoint is missing */
	FS_ERRNO__KERNEL_LAYOUT,	/* kernel layout the snapshot does not understand */
	FS_ERRNO__NO_TRACEFS,		/* tracefs not mounted and cannot be mounted */
	FS_ERRNO__LAST,
};

const char *fragscope_strerror(int err);

#endif
