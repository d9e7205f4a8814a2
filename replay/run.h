/* SPDX-License-Identifier: GPL-2.0-only */
/* Running the engine over a trace file (shared by the replay, diff and stat commands). */
#ifndef FRAGSCOPE_REPLAY_RUN_H
#define FRAGSCOPE_REPLAY_RUN_H

#include <stddef.h>

#include "replay/engine.h"
#include "replay/replay.h"
#include "traces/trace.h"

/* Replays the whole of rd (from its start) with opts; *out gets the engine (caller frees with
 * replay_free) holding the result. 0, or an error with a one-line message in errbuf. */
int replay_run_reader(struct trace_reader *rd, const struct replay_opts *opts, struct replay **out,
		      char *errbuf, size_t len);

/* Adds the model samples to st: a follow-mode replay of rd sampled nr_samples times. */
int replay_stat_model(struct replay_stat *st, struct trace_reader *rd, const char *profile,
		      unsigned nr_samples, char *errbuf, size_t len);

#endif
