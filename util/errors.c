// SPDX-License-Identifier: GPL-2.0-only
#include "util/errors.h"

#include <string.h>

static const char *const fs_msgs[] = {
	[FS_ERRNO__BAD_MAGIC - FS_ERRNO__START] = "not a fragscope trace (bad magic)",
	[FS_ERRNO__VERSION - FS_ERRNO__START] = "unsupported trace format version",
	[FS_ERRNO__TRUNCATED - FS_ERRNO__START] = "file is truncated",
	[FS_ERRNO__CORRUPT - FS_ERRNO__START] = "file is corrupt",
	[FS_ERRNO__CHECKSUM - FS_ERRNO__START] = "checksum mismatch",
	[FS_ERRNO__TOO_LARGE - FS_ERRNO__START] = "length exceeds the reader's limits",
	[FS_ERRNO__NO_HEADER - FS_ERRNO__START] = "machine header missing",
	[FS_ERRNO__NO_SNAPSHOT - FS_ERRNO__START] = "snapshot missing",
	[FS_ERRNO__DECOMPRESS - FS_ERRNO__START] = "decompression failed",
	[FS_ERRNO__BAD_FORMAT_FILE - FS_ERRNO__START] = "tracepoint format not understood",
	[FS_ERRNO__UNKNOWN_EVENT - FS_ERRNO__START] = "unknown event",
	[FS_ERRNO__UNKNOWN_PROFILE - FS_ERRNO__START] = "unknown allocator profile",
	[FS_ERRNO__BAD_CONFIG - FS_ERRNO__START] = "model configuration out of range",
	[FS_ERRNO__CONTRADICTION - FS_ERRNO__START] = "event contradicts the model's state",
	[FS_ERRNO__INVARIANT - FS_ERRNO__START] = "model invariant violated",
	[FS_ERRNO__NO_PRIV - FS_ERRNO__START] = "needs CAP_BPF and CAP_PERFMON (or root)",
	[FS_ERRNO__NO_BTF - FS_ERRNO__START] = "kernel has no BTF (/sys/kernel/btf/vmlinux)",
	[FS_ERRNO__NO_TRACEPOINT - FS_ERRNO__START] = "tracepoint missing",
	[FS_ERRNO__KERNEL_LAYOUT - FS_ERRNO__START] = "kernel memory layout not understood",
	[FS_ERRNO__NO_TRACEFS - FS_ERRNO__START] = "tracefs is not mounted and cannot be mounted",
};

const char *fragscope_strerror(int err)
{
	if (err > FS_ERRNO__START && err < FS_ERRNO__LAST) {
		const char *m = fs_msgs[err - FS_ERRNO__START];
		return m ? m : "unknown fragscope error";
	}
	if (err < 0 && err > FS_ERRNO__START)
		return strerror(-err);
	if (err > 0)
		return strerror(err);
	return err == 0 ? "Success" : "unknown error";
}
