/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The timeline index: model checkpoints every N events, so that the state at any event of a
 * long trace is reached by restoring the nearest checkpoint before it and replaying at most N
 * events (plus the lookahead window). view and render seek with it.
 *
 * A checkpoint holds what seeds the model exactly: pageblock types, free blocks in list order,
 * pcp pages in list order. Not restored: the owner migratetype of allocated pages (the model
 * treats them as unknown, which only matters for the claim threshold's "alike" count in
 * predictions after a seek), watermark boost and highatomic reserve counters.
 *
 * Storage: each list entry (free block or pcp page) is a record keyed by pfn that names its
 * list and its successor on the list, so that one list operation changes O(1) records. Every
 * full_every-th checkpoint is full (all records, sorted by pfn, and every pageblock type); the
 * others are deltas against the checkpoint before them (records added, changed or removed,
 * and the pageblock types that changed). Restoring checkpoint i merges the deltas after the
 * full checkpoint before it into its records and rebuilds the lists from their successors.
 */
#ifndef FRAGSCOPE_REPLAY_TIMELINE_H
#define FRAGSCOPE_REPLAY_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "replay/engine.h"
#include "traces/trace.h"

struct replay_timeline;

#define REPLAY_TIMELINE_FULL_EVERY 8	/* default: one full checkpoint, then 7 deltas */

struct replay_timeline_opts {
	size_t sz;			/* sizeof(struct replay_timeline_opts) */
	uint64_t every;			/* a checkpoint about every `every` events (0 = 1); see
					 * replay_timeline_every() after a build with max_bytes */
	unsigned full_every;		/* a full checkpoint every full_every checkpoints (0 = default,
					 * 1 = all full) */
	uint64_t max_bytes;		/* memory budget of the index (0 = none): when a checkpoint
					 * takes it over, every other checkpoint is dropped (the rest
					 * re-encoded) and checkpoints are taken half as often from
					 * then on, so seeks replay up to twice as many events */
};

struct replay_timeline_stats {
	size_t nr_full, nr_delta;
	uint64_t full_bytes;		/* records and pageblock types of full checkpoints */
	uint64_t delta_bytes;		/* records and pageblock changes of deltas */
	uint64_t aux_bytes;		/* replay_save_aux() blobs */
	uint64_t max_records;		/* largest number of list entries in one checkpoint */
	uint64_t events, resyncs;	/* of the follow replay that built it */
	unsigned thinned;		/* times the budget halved the checkpoints */
};

/* Replays rd once (follow mode, ropts' profile) taking a checkpoint about every topts->every
 * events (at the first point after it where no take run or batched free is pending). A full
 * checkpoint costs 24 bytes per free block or pcp page plus one per pageblock; a delta 24
 * bytes per list entry added, moved or removed since the checkpoint before (about one per
 * buddy-level event when entries do not come back, far less when they do) plus 5 per changed
 * pageblock. NULL with *err and errbuf set. */
struct replay_timeline *replay_timeline_build_opts(struct trace_reader *rd, const struct replay_opts *ropts,
						   const struct replay_timeline_opts *topts, int *err, char *errbuf,
						   size_t len);
/* The same with full_every = REPLAY_TIMELINE_FULL_EVERY. */
struct replay_timeline *replay_timeline_build(struct trace_reader *rd, const struct replay_opts *opts,
					      uint64_t every, int *err, char *errbuf, size_t len);
void replay_timeline_free(struct replay_timeline *tl);
size_t replay_timeline_count(const struct replay_timeline *tl);
/* Events between checkpoints (about): opts' every, doubled each time the budget thinned them. */
uint64_t replay_timeline_every(const struct replay_timeline *tl);
uint64_t replay_timeline_seq(const struct replay_timeline *tl, size_t i);	/* event_seq of checkpoint i */
uint64_t replay_timeline_bytes(const struct replay_timeline *tl);
void replay_timeline_get_stats(const struct replay_timeline *tl, struct replay_timeline_stats *st);
/* The model state of checkpoint i as a snapshot (seeds replay_new() exactly; lists in list
 * order, lists grouped by their head's pfn). Release with trace_snapshot_release(). */
int replay_timeline_checkpoint(const struct replay_timeline *tl, size_t i, struct trace_snapshot *out);
/* An engine holding the model after every event with seq < seq was applied (caller frees). */
int replay_timeline_seek(struct replay_timeline *tl, struct trace_reader *rd, uint64_t seq, struct replay **out,
			 char *errbuf, size_t len);

#endif
