// SPDX-License-Identifier: GPL-2.0-only
/* Running the engine over a trace file. */
#include "replay/run.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/errors.h"

/*
 * Reading and decoding run on a second thread, ahead of the engine, in batches of copied
 * events: the engine sees the same events in the same order (the output does not change),
 * and the model is built while the first chunks are decoded.
 */
#define PIPE_BATCH 4096
#define PIPE_BATCHES 64	/* at most 16 MiB of decoded events ahead of the engine */

struct pipe_batch {
	unsigned n;
	struct trace_event ev[PIPE_BATCH];
};

struct pipe {
	pthread_t th_id;
	struct trace_reader *rd;
	uint64_t stop_seq;		/* UINT64_MAX: none */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pipe_batch *b[PIPE_BATCHES];
	uint64_t produced, consumed;	/* batches; slot = count % PIPE_BATCHES */
	bool done, quit;
	int err;			/* the reader's, when done: < 0 an error */
};

static void *pipe_produce(void *arg)
{
	struct pipe *p = arg;
	int err = trace_reader_seek(p->rd, 0);
	const struct trace_event *ev;

	while (!err) {
		struct pipe_batch *b;

		pthread_mutex_lock(&p->mu);
		while (!p->quit && p->produced - p->consumed == PIPE_BATCHES)
			pthread_cond_wait(&p->cv, &p->mu);
		b = p->b[p->produced % PIPE_BATCHES];
		pthread_mutex_unlock(&p->mu);
		if (p->quit)
			break;
		if (!b) {
			b = malloc(sizeof(*b));
			if (!b) {
				err = -ENOMEM;
				break;
			}
			p->b[p->produced % PIPE_BATCHES] = b;	/* the consumer reads it only once published */
		}
		b->n = 0;
		while (b->n < PIPE_BATCH && (err = trace_reader_next_ref(p->rd, &ev)) > 0) {
			if (ev->seq >= p->stop_seq) {
				err = 0;
				break;
			}
			b->ev[b->n++] = *ev;
		}
		if (err > 0)
			err = 0;
		else if (!err)
			err = 1;	/* the end (or the stop): publish this batch, then finish */
		pthread_mutex_lock(&p->mu);
		if (b->n)
			p->produced++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->err = err < 0 ? err : 0;
	p->done = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The next batch, NULL at the end; pipe_release() hands it back. */
static struct pipe_batch *pipe_next(struct pipe *p)
{
	struct pipe_batch *b = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->consumed == p->produced && !p->done)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->consumed < p->produced)
		b = p->b[p->consumed % PIPE_BATCHES];
	pthread_mutex_unlock(&p->mu);
	return b;
}

static void pipe_release(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->consumed++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int pipe_start(struct pipe *p, struct trace_reader *rd, uint64_t stop_seq)
{
	memset(p, 0, sizeof(*p));
	p->rd = rd;
	p->stop_seq = stop_seq;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th_id, NULL, pipe_produce, p)) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return -EAGAIN;
	}
	return 0;
}

/* Stops the reading thread (early or at the end) and returns its error. */
static int pipe_stop(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th_id, NULL);
	for (unsigned k = 0; k < PIPE_BATCHES; k++)
		free(p->b[k]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	return p->err;
}

int replay_run_reader(struct trace_reader *rd, const struct replay_opts *opts, struct replay **out,
		      char *errbuf, size_t len)
{
	const struct trace_header *h = trace_reader_header(rd);
	const struct trace_snapshot *start = trace_reader_snapshot(rd, TRACE_SNAP_START);
	const struct trace_snapshot *end = trace_reader_snapshot(rd, TRACE_SNAP_END);
	struct pipe_batch *b;
	struct replay *r;
	struct pipe p;
	int err, rerr;

	struct replay_opts o = *opts;

	*out = NULL;
	o.trace_has_losses = trace_reader_loss(rd) && trace_reader_loss(rd)->total;
	/* the snapshots are read: from here on only the reading thread uses the reader */
	err = pipe_start(&p, rd, opts->stop_at ? opts->stop_at + REPLAY_WINDOW : UINT64_MAX);
	if (err) {
		snprintf(errbuf, len, "cannot start the reading thread: %s", strerror(-err));
		return err;
	}
	r = replay_new(h, start, &o, &err, errbuf, len);
	if (!r) {
		pipe_stop(&p);
		return err;
	}
	while (!err && (b = pipe_next(&p))) {
		for (unsigned k = 0; k < b->n && !err; k++)
			err = replay_feed(r, &b->ev[k]);
		pipe_release(&p);
	}
	rerr = pipe_stop(&p);
	if (!err)
		err = rerr;
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
