// SPDX-License-Identifier: GPL-2.0-only
#include "collector/probe.h"

#include <errno.h>

#include "collector/probe.skel.h"

int collector_probe_open_only(void)
{
	struct probe_bpf *skel = probe_bpf__open();

	if (!skel)
		return errno ? -errno : -EINVAL;
	probe_bpf__destroy(skel);
	return 0;
}

int collector_probe_run(void (*fn)(void *ctx), void *ctx, uint64_t *count)
{
	struct probe_bpf *skel;
	int err;

	skel = probe_bpf__open_and_load();
	if (!skel)
		return errno ? -errno : -EINVAL;
	err = probe_bpf__attach(skel);
	if (err) {
		probe_bpf__destroy(skel);
		return err;
	}
	fn(ctx);
	*count = skel->bss->nr_page_alloc;
	probe_bpf__destroy(skel);
	return 0;
}
