// SPDX-License-Identifier: GPL-2.0-only
/* The timeline index: model checkpoints for seeking (see timeline.h). */
#include "replay/timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"

struct replay_timeline {
	struct replay_opts opts;
	const struct trace_header *h;
	const struct trace_snapshot *start;
	struct trace_snapshot *ck;
	void **aux;			/* replay_save_aux() blob of each checkpoint */
	size_t *aux_len;
	size_t nr, cap;
	uint64_t bytes;
	struct replay *building;
};

static int take_checkpoint(void *ctx, uint64_t next_seq)
{
	struct replay_timeline *tl = ctx;
	struct trace_snapshot *s;
	int err;

	if (tl->nr == tl->cap) {
		size_t ncap = tl->cap ? tl->cap * 2 : 16;
		struct trace_snapshot *n = realloc(tl->ck, ncap * sizeof(*n));
		void **a;
		size_t *al;

		if (!n)
			return -ENOMEM;
		tl->ck = n;
		a = realloc(tl->aux, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		tl->aux = a;
		al = realloc(tl->aux_len, ncap * sizeof(*al));
		if (!al)
			return -ENOMEM;
		tl->aux_len = al;
		tl->cap = ncap;
	}
	s = &tl->ck[tl->nr];
	err = replay_snapshot_model(tl->building, next_seq, s);
	if (err)
		return err;
	err = replay_save_aux(tl->building, &tl->aux[tl->nr], &tl->aux_len[tl->nr]);
	if (err) {
		trace_snapshot_release(s);
		return err;
	}
	tl->bytes += tl->aux_len[tl->nr];
	tl->nr++;
	tl->bytes += s->nr_free_blocks * sizeof(*s->free_blocks) + s->nr_pcp_pages * sizeof(*s->pcp_pages);
	for (uint32_t z = 0; z < s->nr_pageblock_zones; z++)
		tl->bytes += s->pageblocks[z].nr;
	return 0;
}

struct replay_timeline *replay_timeline_build(struct trace_reader *rd, const struct replay_opts *opts,
					      uint64_t every, int *err, char *errbuf, size_t len)
{
	struct replay_timeline *tl = calloc(1, sizeof(*tl));
	struct trace_event ev;
	struct replay *r;

	if (!tl) {
		*err = -ENOMEM;
		snprintf(errbuf, len, "out of memory");
		return NULL;
	}
	tl->opts = *opts;
	tl->opts.mode = REPLAY_FOLLOW;
	tl->opts.max_log = 0;
	tl->opts.sample_every = 0;
	tl->opts.stop_at = 0;
	tl->opts.checkpoint_every = every ? every : 1;
	tl->h = trace_reader_header(rd);
	tl->start = trace_reader_snapshot(rd, TRACE_SNAP_START);
	r = replay_new(tl->h, tl->start, &tl->opts, err, errbuf, len);
	if (!r) {
		free(tl);
		return NULL;
	}
	tl->building = r;
	replay_set_checkpoint_cb(r, take_checkpoint, tl);
	*err = trace_reader_seek(rd, 0);
	while (!*err && (*err = trace_reader_next(rd, &ev)) > 0)
		*err = replay_feed(r, &ev);
	if (*err >= 0)
		*err = replay_finish(r, NULL);
	replay_free(r);
	tl->building = NULL;
	if (*err) {
		snprintf(errbuf, len, "timeline: %s", fragscope_strerror(*err));
		replay_timeline_free(tl);
		return NULL;
	}
	return tl;
}

void replay_timeline_free(struct replay_timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->nr; i++) {
		trace_snapshot_release(&tl->ck[i]);
		free(tl->aux[i]);
	}
	free(tl->ck);
	free(tl->aux);
	free(tl->aux_len);
	free(tl);
}

size_t replay_timeline_count(const struct replay_timeline *tl)
{
	return tl->nr;
}

uint64_t replay_timeline_seq(const struct replay_timeline *tl, size_t i)
{
	return i < tl->nr ? tl->ck[i].event_seq : UINT64_MAX;
}

uint64_t replay_timeline_bytes(const struct replay_timeline *tl)
{
	return tl->bytes;
}

int replay_timeline_seek(struct replay_timeline *tl, struct trace_reader *rd, uint64_t seq, struct replay **out,
			 char *errbuf, size_t len)
{
	const struct trace_snapshot *from = tl->start;
	struct replay_opts o = tl->opts;
	struct trace_event ev;
	struct replay *r;
	size_t lo = 0, hi = tl->nr;
	int err;

	*out = NULL;
	/* the last checkpoint at or before seq */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tl->ck[mid].event_seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0)
		from = &tl->ck[lo - 1];
	o.checkpoint_every = 0;
	o.stop_at = seq ? seq : 1;
	if (!seq)
		o.stop_at = UINT64_MAX - REPLAY_WINDOW;	/* nothing to apply: the start state */
	r = replay_new(tl->h, from, &o, &err, errbuf, len);
	if (!r)
		return err;
	if (lo > 0) {
		err = replay_restore_aux(r, tl->aux[lo - 1], tl->aux_len[lo - 1]);
		if (err) {
			snprintf(errbuf, len, "seek: damaged checkpoint");
			replay_free(r);
			return err;
		}
	}
	if (seq) {
		err = trace_reader_seek(rd, from ? from->event_seq : 0);
		while (!err && (err = trace_reader_next(rd, &ev)) > 0 && ev.seq < seq + REPLAY_WINDOW)
			err = replay_feed(r, &ev);
		if (err > 0)
			err = 0;
	} else {
		err = 0;
	}
	if (!err)
		err = replay_finish(r, NULL);
	if (err) {
		snprintf(errbuf, len, "seek: %s", fragscope_strerror(err));
		replay_free(r);
		return err;
	}
	*out = r;
	return 0;
}
