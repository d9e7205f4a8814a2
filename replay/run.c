// SPDX-License-Identifier: GPL-2.0-only
/* Running the engine over a trace file. */
#include "replay/run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/errors.h"

int replay_run_reader(struct trace_reader *rd, const struct replay_opts *opts, struct replay **out,
		      char *errbuf, size_t len)
{
	const struct trace_header *h = trace_reader_header(rd);
	const struct trace_snapshot *start = trace_reader_snapshot(rd, TRACE_SNAP_START);
	const struct trace_snapshot *end = trace_reader_snapshot(rd, TRACE_SNAP_END);
	const struct trace_event *ev;
	struct replay *r;
	bool stop = false;
	int err, n;

	struct replay_opts o = *opts;

	*out = NULL;
	o.trace_has_losses = trace_reader_loss(rd) && trace_reader_loss(rd)->total;
	r = replay_new(h, start, &o, &err, errbuf, len);
	if (!r)
		return err;
	err = trace_reader_seek(rd, 0);
	while (!err && !stop && (n = trace_reader_next_batch(rd, &ev)) != 0) {
		if (n < 0) {
			err = n;
			break;
		}
		for (int i = 0; i < n && !err; i++) {
			if (opts->stop_at && ev[i].seq >= opts->stop_at + REPLAY_WINDOW) {
				stop = true;
				break;
			}
			err = replay_feed(r, &ev[i]);
		}
	}
	if (err < 0) {
		const struct trace_read_status *st = trace_reader_status(rd);

		snprintf(errbuf, len, "%s", st->first_problem[0] ? st->first_problem : fragscope_strerror(err));
		replay_free(r);
		return err;
	}
	err = replay_finish(r, opts->stop_at ? NULL : end);
	if (err) {
		snprintf(errbuf, len, "replay failed: %s", fragscope_strerror(err));
		replay_free(r);
		return err;
	}
	*out = r;
	return 0;
}

static int add_sample(void *ctx, const struct replay_sample *s)
{
	return replay_stat_add_sample(ctx, s);
}

int replay_stat_model(struct replay_stat *st, struct trace_reader *rd, const char *profile,
		      unsigned nr_samples, char *errbuf, size_t len)
{
	const struct trace_header *h = trace_reader_header(rd);
	const struct trace_snapshot *start = trace_reader_snapshot(rd, TRACE_SNAP_START);
	uint64_t n = trace_reader_nr_events(rd);
	struct replay_opts o = { .sz = sizeof(o), .profile = profile, .mode = REPLAY_FOLLOW };
	const struct replay_result *res;
	struct trace_event ev;
	struct replay *r;
	int err;

	o.sample_every = nr_samples ? (n / nr_samples ? n / nr_samples : 1) : 0;
	o.trace_has_losses = trace_reader_loss(rd) && trace_reader_loss(rd)->total;
	r = replay_new(h, start, &o, &err, errbuf, len);
	if (!r)
		return err;
	replay_set_sample_cb(r, add_sample, st);
	err = trace_reader_seek(rd, 0);
	while (!err && (err = trace_reader_next(rd, &ev)) > 0)
		err = replay_feed(r, &ev);
	if (err >= 0)
		err = replay_finish(r, NULL);
	if (!err && nr_samples)
		err = replay_sample_now(r);
	if (err) {
		snprintf(errbuf, len, "model replay failed: %s", fragscope_strerror(err));
	} else {
		uint64_t rs = 0;

		res = replay_get_result(r);
		for (int c = 0; c < RC_NR; c++)
			rs += res->resyncs[c];
		snprintf(errbuf, len, "profile %s, %" PRIu64 " resyncs", res->profile, rs);
		replay_stat_set_note(st, errbuf);
	}
	replay_free(r);
	return err;
}
