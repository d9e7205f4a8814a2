/* SPDX-License-Identifier: GPL-2.0-only */
/* replay/ internals that the unit tests may see. */
#ifndef FRAGSCOPE_REPLAY_LOCAL_H
#define FRAGSCOPE_REPLAY_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

/* ---- pfn -> value hash map (open addressing, linear probing, backward-shift delete) ---------- */
struct pfnmap {
	uint64_t *keys;		/* UINT64_MAX = empty */
	uint64_t *vals;
	size_t cap;		/* power of two */
	size_t nr;
};

int pfnmap_init(struct pfnmap *m, size_t cap_hint);
void pfnmap_release(struct pfnmap *m);
/* Pointer to the value of key, or NULL. */
uint64_t *pfnmap_get(const struct pfnmap *m, uint64_t key);
/* Sets key to val (inserting or replacing). 0 or -ENOMEM. */
int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val);
/* Removes key; true if it was there (its value in *val if val). */
bool pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *val);
void pfnmap_clear(struct pfnmap *m);

/* ---- names from the trace header -------------------------------------------------------------- */
/* The trace's own name of migratetype mt ("Movable"), or "mt<N>" in buf when the trace has none. */
const char *replay_mt_name(const struct trace_header *h, int mt, char *buf, size_t len);
/* Number of migratetypes (the header's, at least the highest value seen + 1). */
uint32_t replay_nr_mt(const struct trace_header *h);

#endif
