// SPDX-License-Identifier: GPL-2.0-only
/*
 * The smallest BPF program of the build chain: counts mm_page_alloc hits. It proves that
 * vmlinux.h, clang -target bpf, the skeleton and loading work on this kernel; `record` uses
 * its own programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 nr_page_alloc = 0;

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(probe_page_alloc, struct page *page, unsigned int order, gfp_t gfp, int migratetype)
{
	__sync_fetch_and_add(&nr_page_alloc, 1);
	return 0;
}
