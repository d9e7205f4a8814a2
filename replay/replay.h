/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replay/: drives the allocator model from a trace.
 *   stat      statistics of a trace (what `perf kmem stat --page` gives, plus extfrag classes,
 *             pageblocks per type over time, unusable/fragmentation indices, largest free order)
 *   follow    the kernel's buddy-level events drive the model; every take is predicted first and
 *             scored (placement and decision agreement); contradictions are resynced by cause
 *   simulate  only requests and frees drive the model, which decides everything itself
 *   diff      two runs side by side: the first divergence with context, then aggregates
 *   timeline  model checkpoints every N events, for seeking
 */
#ifndef FRAGSCOPE_REPLAY_H
#define FRAGSCOPE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/trace.h"

struct jsonw;

/* ---- model state samples (filled by follow mode, consumed by stat) ----------------------------- */

#define REPLAY_MAX_ORDERS 16

struct replay_zone_sample {
	uint16_t zone;			/* index into trace_header.zones */
	uint64_t nr_free[REPLAY_MAX_ORDERS];	/* free blocks per order, all lists */
	uint64_t *blocks_by_mt;		/* [nr_mt] pageblocks of each type */
	uint64_t mixed;			/* pageblocks holding pages allocated (in the trace) as another type */
	int largest_order;		/* -1 when nothing is free */
};

struct replay_sample {
	uint64_t seq;			/* events applied before the sample */
	uint64_t ts_ns;
	uint32_t nr_zones;
	struct replay_zone_sample *zones;
};

/* The kernel's debugfs extfrag indices (mm/vmstat.c), in thousandths as the kernel computes them.
 * unusable: share of free memory unusable for an order-k request; fragmentation: -1000 when an
 * order-k block is free, else 0..1000 (0: failure from lack of memory, 1000: from fragmentation). */
int replay_unusable_index(const uint64_t *nr_free, unsigned int nr_orders, unsigned int order);
int replay_fragmentation_index(const uint64_t *nr_free, unsigned int nr_orders, unsigned int order);

/* ---- stat --------------------------------------------------------------------------------------- */

struct replay_stat;

struct replay_stat *replay_stat_new(const struct trace_header *h);
void replay_stat_free(struct replay_stat *st);
/* Accounts one event. 0 or -ENOMEM. */
int replay_stat_add(struct replay_stat *st, const struct trace_event *ev);
/* Stacks for the callers table (NULL: no callers). */
void replay_stat_set_stacks(struct replay_stat *st,
			    const struct trace_stack *(*lookup)(void *ctx, uint32_t id), void *ctx);
/* Adds a model state sample (copied). 0 or -ENOMEM. */
int replay_stat_add_sample(struct replay_stat *st, const struct replay_sample *s);
void replay_stat_set_note(struct replay_stat *st, const char *model_note);
void replay_stat_set_loss(struct replay_stat *st, const struct trace_loss *loss);

struct replay_stat_print_opts {
	unsigned int max_callers;	/* 0 = 20 */
	unsigned int max_gfp;		/* 0 = all */
};
void replay_stat_print(const struct replay_stat *st, FILE *f, const struct replay_stat_print_opts *o);
void replay_stat_json(const struct replay_stat *st, struct jsonw *w, const struct replay_stat_print_opts *o);

/* Number of allocation requests of an order (successful ones, for tests). */
uint64_t replay_stat_allocs_of_order(const struct replay_stat *st, unsigned int order);

#endif
