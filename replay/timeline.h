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
 */
#ifndef FRAGSCOPE_REPLAY_TIMELINE_H
#define FRAGSCOPE_REPLAY_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "replay/engine.h"
#include "traces/trace.h"

struct replay_timeline;

/* Replays rd once (follow mode, opts' profile) taking a checkpoint about every `every`
 * events (at the first point after it where no take run or batched free is pending). A
 * checkpoint costs about 16 bytes per free block, 24 per pcp page and one per pageblock (25 MB
 * for 13 checkpoints of a busy 24 GiB host): pick `every` to bound the memory of long traces.
 * NULL with *err and errbuf set. */
struct replay_timeline *replay_timeline_build(struct trace_reader *rd, const struct replay_opts *opts,
					      uint64_t every, int *err, char *errbuf, size_t len);
void replay_timeline_free(struct replay_timeline *tl);
size_t replay_timeline_count(const struct replay_timeline *tl);
uint64_t replay_timeline_seq(const struct replay_timeline *tl, size_t i);	/* event_seq of checkpoint i */
uint64_t replay_timeline_bytes(const struct replay_timeline *tl);
/* An engine holding the model after every event with seq < seq was applied (caller frees). */
int replay_timeline_seek(struct replay_timeline *tl, struct trace_reader *rd, uint64_t seq, struct replay **out,
			 char *errbuf, size_t len);

#endif
