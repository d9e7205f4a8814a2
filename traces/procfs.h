/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Machine facts for the trace header, read from /proc, /sys and tracepoint format files of the
 * running kernel (or of a captured copy of them: every function takes a root prefix, NULL or ""
 * for "/", so tests and imports can point at saved copies).
 *
 * Used by `import` and by the collector to fill struct trace_header; nothing here hard-codes a
 * migratetype number, the number of orders or pageblock_order: they are parsed.
 */
#ifndef FRAGSCOPE_TRACES_PROCFS_H
#define FRAGSCOPE_TRACES_PROCFS_H

#include <stddef.h>

#include "traces/trace.h"

struct tep_event;

/* uname (release, version, arch), page size, possible CPUs. */
int trace_procfs_machine(struct trace_header *h, const char *root);

/* Parses ROOT/proc/zoneinfo and replaces h->zones: one trace_zone per "Node N, zone NAME" in
 * file order (empty zones included), watermarks without boost, protection, pcp per CPU. */
int trace_procfs_zoneinfo(struct trace_header *h, const char *root);
/* The same from text in memory. */
int trace_procfs_zoneinfo_text(struct trace_header *h, const char *text);

/* Parses ROOT/proc/pagetypeinfo for pageblock_order, nr_orders (columns of the free-count table)
 * and, when h has none yet, the migratetype names with their numbers (their column position,
 * which is the kernel's enum order). */
int trace_procfs_pagetypeinfo_header(struct trace_header *h, const char *root);
int trace_procfs_pagetypeinfo_header_text(struct trace_header *h, const char *text);

/* A counts-only snapshot (TRACE_SNAP_PAGETYPEINFO, TRACE_SNAPF_COUNTS) from ROOT/proc/pagetypeinfo:
 * per zone of h (matched by node and name) free blocks per (order, migratetype) and pageblocks
 * per migratetype. s is filled (release it with trace_snapshot_release). */
int trace_procfs_pagetypeinfo_snapshot(const struct trace_header *h, const char *root,
				       enum trace_snapshot_which which, struct trace_snapshot *s);
int trace_procfs_pagetypeinfo_snapshot_text(const struct trace_header *h, const char *text,
					    enum trace_snapshot_which which, struct trace_snapshot *s);

/* Allocator sysctls (vm.*), page shuffling and page reporting parameters and the kernel command
 * line into h->kv. Files that do not exist are left out. */
int trace_procfs_sysctls(struct trace_header *h, const char *root);

/* Evaluates a C integer constant expression as tracepoint formats write them: literals with u/l/
 * ul/ull suffixes ("0x100u"), casts ("(( gfp_t)0x100u)", "(__force gfp_t)"), shifts, | & ^ ~ + - and
 * parentheses. 0, or -EINVAL if s is not such an expression. */
int trace_parse_c_const(const char *s, uint64_t *v);

/* The gfp_flags __print_flags table of a tracepoint format (the text of events/kmem/mm_page_alloc/
 * format), through libtraceevent, which evaluates the kernel's constant expressions. Replaces
 * h->gfp_flags. FS_ERRNO__BAD_FORMAT_FILE if the text has no such table. */
int trace_format_gfp_flags(struct trace_header *h, const char *format_text, size_t len);
/* The same from an event libtraceevent already parsed (e.g. from a trace.dat). */
int trace_format_gfp_flags_event(struct trace_header *h, struct tep_event *ev);

/* NR_PAGEBLOCK_BITS of the running kernel from its BTF (enum pageblock_bits: NR_PAGEBLOCK_BITS,
 * or __NR_PAGEBLOCK_BITS rounded up to a power of two as 6.15+ does). 0 or -errno. */
int trace_btf_pageblock_bits(struct trace_header *h);

/* The tracefs mount point: /sys/kernel/tracing if it is mounted there, else
 * /sys/kernel/debug/tracing, else NULL. */
const char *trace_tracefs_dir(void);

/* Everything above for the running machine: uname, zoneinfo, pagetypeinfo, sysctls, BTF, and the gfp
 * names from tracefs (when readable). Sets header.source = running-kernel. */
int trace_header_from_running(struct trace_header *h);

/* Reads a whole small text file (≤ 64 MiB); NULL with errno set. */
char *trace_read_text_file(const char *path, size_t *len);

#endif
