/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FRAGSCOPE_COLLECTOR_PROBE_H
#define FRAGSCOPE_COLLECTOR_PROBE_H

#include <stdint.h>

/*
 * Loads and attaches the probe program, lets the caller's work run (fn), and returns how many
 * mm_page_alloc events it counted in *count. 0 or -errno (e.g. -EPERM without privileges).
 */
int collector_probe_run(void (*fn)(void *ctx), void *ctx, uint64_t *count);
/* Opens the embedded BPF object without loading it (no privileges needed). */
int collector_probe_open_only(void);

#endif
