/* SPDX-License-Identifier: GPL-2.0-only */
/* diff: returns 0 (the two sides agree), 1 (they differ) or -1 (error, message in errbuf). */
#ifndef FRAGSCOPE_REPLAY_DIFF_H
#define FRAGSCOPE_REPLAY_DIFF_H

#include <stdio.h>

#include "replay/engine.h"
#include "traces/trace.h"

int replay_diff_model(struct trace_reader *rd, const struct replay_opts *opts, FILE *f, char *errbuf, size_t len);
int replay_diff_profiles(struct trace_reader *rd, const struct replay_opts *opts, const char *pa, const char *pb,
			 FILE *f, char *errbuf, size_t len);
int replay_diff_traces(struct trace_reader *ra, struct trace_reader *rb, const char *na, const char *nb, FILE *f,
		       char *errbuf, size_t len);

#endif
