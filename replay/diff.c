// SPDX-License-Identifier: GPL-2.0-only
/*
 * diff: two runs side by side.
 *   one trace, one profile: the kernel against the model (follow): the first take where the
 *     model's prediction parts from the kernel (or the first resync), with the model's free-list
 *     state around it, then the aggregate figures;
 *   one trace, two profiles: the first take where the two profiles predict differently;
 *   two traces: the first event that differs, then aggregate differences of their statistics.
 */
#include "replay/diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/buddy.h"
#include "replay/engine.h"
#include "replay/run.h"
#include "util/errors.h"

static const char *mtname(const struct trace_header *h, int mt, char *buf, size_t len)
{
	if (mt < 0)
		return "-";
	for (uint32_t i = 0; i < h->nr_migratetypes; i++)
		if (h->migratetypes[i].value == mt)
			return h->migratetypes[i].name;
	snprintf(buf, len, "mt%d", mt);
	return buf;
}

static void print_event(FILE *f, const struct trace_header *h, const struct trace_event *e)
{
	char b1[16], b2[16], g[256];
	const char *name = trace_event_kind_name((enum trace_event_kind)e->kind);

	fprintf(f, "#%" PRIu64 " t=%" PRIu64 ".%09" PRIu64 " cpu %u %s", e->seq, e->ts_ns / 1000000000,
		e->ts_ns % 1000000000, e->cpu, name ? name : "?");
	if (e->pfn == TRACE_PFN_NONE)
		fprintf(f, " pfn=failed");
	else
		fprintf(f, " pfn=0x%" PRIx64, e->pfn);
	fprintf(f, " order=%u", e->order);
	if (e->mt >= 0)
		fprintf(f, " mt=%s", mtname(h, e->mt, b1, sizeof(b1)));
	if (e->kind == TEV_PAGE_ALLOC_EXTFRAG)
		fprintf(f, " fallback_order=%u fallback_mt=%s change_ownership=%d", e->fallback_order,
			mtname(h, e->fallback_mt, b2, sizeof(b2)), !!(e->flags & TEVF_CHANGE_OWNERSHIP));
	if (e->kind == TEV_PAGE_ALLOC_ZONE_LOCKED)
		fprintf(f, " percpu_refill=%d", !!(e->flags & TEVF_PERCPU_REFILL));
	if (e->kind == TEV_PAGE_ALLOC) {
		trace_header_gfp_str(h, e->gfp, g, sizeof(g));
		fprintf(f, " gfp=%s", g);
	}
	fprintf(f, "\n");
}

/* The model's state around pfn: its pageblock's type and free blocks, the list heads. */
static void print_model_context(FILE *f, struct buddy_model *m, uint64_t pfn, unsigned order)
{
	unsigned pbo = buddy_pageblock_order(m);
	uint64_t pb = pfn & ~((1ULL << pbo) - 1);
	int zone = buddy_zone_of(m, pfn);
	struct buddy_pfn_info info;

	if (zone < 0) {
		fprintf(f, "  model: pfn 0x%" PRIx64 " is in no zone\n", pfn);
		return;
	}
	if (!buddy_pfn_info(m, pfn, &info))
		fprintf(f, "  model: pfn 0x%" PRIx64 " is %s (block 0x%" PRIx64 " order %u, %s)\n", pfn,
			buddy_pfn_state_name(info.state), info.head, info.order,
			info.mt >= 0 ? buddy_mt_name(info.mt) : "type unknown");
	fprintf(f, "  model: pageblock 0x%" PRIx64 " (zone %s) is %s; free blocks in it:", pb, buddy_zone_name(m, zone),
		buddy_mt_name(buddy_pageblock_type(m, pb)));
	for (uint64_t p = pb; p < pb + (1ULL << pbo);) {
		if (!buddy_pfn_info(m, p, &info) && info.state == BUDDY_PFN_FREE_HEAD) {
			fprintf(f, " 0x%" PRIx64 "/%u/%s", p, info.order, buddy_mt_name(info.mt));
			p += 1ULL << info.order;
		} else {
			p++;
		}
	}
	{
		/* the pageblock's census, as the claim threshold sees it: free pages, pcp pages,
		 * allocated pages by the type they were allocated as (the model's stand-in for
		 * PageLRU: movable ones count as "movable", unknown ones as the block's type) */
		uint64_t nfree = 0, npcp = 0, nalloc[BUDDY_MT_NR + 1] = { 0 };

		for (uint64_t p = pb; p < pb + (1ULL << pbo); p++) {
			if (buddy_pfn_info(m, p, &info))
				continue;
			if (info.state == BUDDY_PFN_FREE_HEAD || info.state == BUDDY_PFN_FREE_TAIL)
				nfree++;
			else if (info.state == BUDDY_PFN_PCP_HEAD || info.state == BUDDY_PFN_PCP_TAIL)
				npcp++;
			else if (info.state == BUDDY_PFN_ALLOCATED)
				nalloc[info.mt >= 0 && info.mt < BUDDY_MT_NR ? info.mt : BUDDY_MT_NR]++;
		}
		fprintf(f, "\n  model: pageblock census: %" PRIu64 " free, %" PRIu64 " on pcp lists, allocated:", nfree, npcp);
		for (int mt = 0; mt < BUDDY_MT_NR; mt++)
			if (nalloc[mt])
				fprintf(f, " %s %" PRIu64, buddy_mt_name(mt), nalloc[mt]);
		if (nalloc[BUDDY_MT_NR])
			fprintf(f, " unknown (before the trace) %" PRIu64, nalloc[BUDDY_MT_NR]);
	}
	fprintf(f, "\n  model: free list heads (order: per type, head pfn and length):\n");
	for (unsigned o = order; o < buddy_nr_orders(m); o++) {
		fprintf(f, "    order %2u:", o);
		for (int mt = 0; mt < BUDDY_MT_NR; mt++) {
			uint64_t n = buddy_nr_free(m, zone, o, mt);

			if (!n)
				continue;
			fprintf(f, "  %s 0x%" PRIx64 " (%" PRIu64 ")", buddy_mt_name(mt), buddy_free_list_first(m, zone, o, mt), n);
		}
		fprintf(f, "\n");
	}
}

/* ---- kernel against the model ---------------------------------------------------------------- */

static int first_divergence(struct trace_reader *rd, const struct replay_opts *base, uint64_t *seq,
			    struct replay_log_entry *first, char *errbuf, size_t len)
{
	struct replay_opts o = *base;
	struct replay *r;
	const struct replay_log_entry *log;
	unsigned nr;
	int err;

	o.max_log = 1;
	o.log_skip_race = true;		/* races with the snapshot walk are no divergence */
	err = replay_run_reader(rd, &o, &r, errbuf, len);
	if (err)
		return err;
	log = replay_log(r, &nr);
	*seq = UINT64_MAX;
	if (nr) {
		*first = log[0];
		*seq = log[0].seq;
	}
	replay_free(r);
	return 0;
}

int replay_diff_model(struct trace_reader *rd, const struct replay_opts *opts, FILE *f, char *errbuf, size_t len)
{
	const struct trace_header *h = trace_reader_header(rd);
	struct replay_log_entry first;
	struct replay *r = NULL;
	const struct replay_result *res;
	uint64_t seq;
	int err, differ;

	err = first_divergence(rd, opts, &seq, &first, errbuf, len);
	if (err)
		return -1;
	if (seq != UINT64_MAX) {
		struct replay_opts o = *opts;
		struct trace_event ev;

		/* the model just before the divergent event */
		o.stop_at = seq;
		err = replay_run_reader(rd, &o, &r, errbuf, len);
		if (err)
			return -1;
		fprintf(f, "first divergence at event #%" PRIu64 " (t=%" PRIu64 ".%09" PRIu64 " s):\n", seq,
			first.ts_ns / 1000000000, first.ts_ns % 1000000000);
		if (first.cause < 0)
			fprintf(f, "  %s\n", first.msg);
		else
			fprintf(f, "  resync (%s: %s)\n  %s\n", replay_cause_name((enum replay_cause)first.cause),
				replay_cause_help((enum replay_cause)first.cause), first.msg);
		fprintf(f, "events around it:\n");
		trace_reader_seek(rd, seq > 4 ? seq - 4 : 0);
		for (int i = 0; i < 9 && trace_reader_next(rd, &ev) > 0; i++) {
			fprintf(f, "  %s", ev.seq == seq ? "> " : "  ");
			print_event(f, h, &ev);
		}
		print_model_context(f, replay_model(r), first.pfn, first.order > 0 ? (unsigned)first.order : 0);
		replay_free(r);
		r = NULL;
	} else {
		fprintf(f, "no divergence: every take predicted, no resync\n");
	}
	err = replay_run_reader(rd, opts, &r, errbuf, len);
	if (err)
		return -1;
	fprintf(f, "\naggregate:\n");
	replay_print_result(r, f, false);
	res = replay_get_result(r);
	differ = seq != UINT64_MAX || res->placement_agree != res->takes || res->decision_agree != res->takes;
	if (res->have_end && (res->pb_equal != res->pb_compared || res->fc_equal != res->fc_compared))
		differ = 1;
	replay_free(r);
	return differ;
}

/* ---- two profiles ----------------------------------------------------------------------------- */

struct take_fifo {
	struct replay_take_record *v;
	size_t head, nr, cap;
	bool overflow;
};

struct two {
	struct take_fifo q;
	uint64_t compared, same_place, same_decision;
	uint64_t fallbacks_a, fallbacks_b, failed_a, failed_b;
	bool found;
	struct replay_take_record a, b;
};

static void on_take_a(void *ctx, const struct replay_take_record *t)
{
	struct two *w = ctx;
	struct take_fifo *q = &w->q;

	if (q->nr == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 256;
		struct replay_take_record *n;

		if (ncap > (1u << 20)) {
			q->overflow = true;
			return;
		}
		n = malloc(ncap * sizeof(*n));
		if (!n) {
			q->overflow = true;
			return;
		}
		for (size_t i = 0; i < q->nr; i++)
			n[i] = q->v[(q->head + i) % (q->cap ? q->cap : 1)];
		free(q->v);
		q->v = n;
		q->head = 0;
		q->cap = ncap;
	}
	q->v[(q->head + q->nr) % q->cap] = *t;
	q->nr++;
}

static void on_take_b(void *ctx, const struct replay_take_record *t)
{
	struct two *w = ctx;
	struct replay_take_record a;
	bool place, decide;

	if (!w->q.nr)
		return;
	a = w->q.v[w->q.head];
	w->q.head = (w->q.head + 1) % w->q.cap;
	w->q.nr--;
	place = a.m_pfn == t->m_pfn;
	decide = a.m_path == t->m_path && a.m_fb_mt == t->m_fb_mt && a.m_fb_order == t->m_fb_order &&
		 a.m_own == t->m_own;
	w->compared++;
	w->fallbacks_a += a.m_path == RP_CLAIM || a.m_path == RP_STEAL;
	w->fallbacks_b += t->m_path == RP_CLAIM || t->m_path == RP_STEAL;
	w->failed_a += !a.m_ok;
	w->failed_b += !t->m_ok;
	w->same_place += place;
	w->same_decision += decide;
	if ((!place || !decide) && !w->found) {
		w->found = true;
		w->a = a;
		w->b = *t;
	}
}

static void print_prediction(FILE *f, const struct trace_header *h, const char *name,
			     const struct replay_take_record *t)
{
	char b[16];

	if (!t->m_ok) {
		fprintf(f, "  %-12s fails the allocation\n", name);
		return;
	}
	fprintf(f, "  %-12s %s %s 0x%" PRIx64, name, t->k_path == RP_NONE ? "takes" : "predicts",
		replay_path_name(t->m_path), t->m_pfn);
	if (t->m_path == RP_CLAIM || t->m_path == RP_STEAL)
		fprintf(f, " falling back to %s order %u, change_ownership %d", mtname(h, t->m_fb_mt, b, sizeof(b)),
			t->m_fb_order, t->m_own);
	fprintf(f, "%s\n", t->m_pfn == t->k_pfn ? " (the kernel's page)" : "");
}

int replay_diff_profiles(struct trace_reader *rd, const struct replay_opts *opts, const char *pa, const char *pb,
			 FILE *f, char *errbuf, size_t len)
{
	const struct trace_header *h = trace_reader_header(rd);
	struct replay_opts oa = *opts, ob = *opts;
	struct replay *ra, *rb;
	struct two w = { 0 };
	struct trace_event ev;
	char b1[16];
	bool sim = opts->mode == REPLAY_SIMULATE;
	int err;

	oa.profile = pa;
	ob.profile = pb;
	ra = replay_new(h, trace_reader_snapshot(rd, TRACE_SNAP_START), &oa, &err, errbuf, len);
	if (!ra)
		return -1;
	rb = replay_new(h, trace_reader_snapshot(rd, TRACE_SNAP_START), &ob, &err, errbuf, len);
	if (!rb) {
		replay_free(ra);
		return -1;
	}
	replay_set_take_cb(ra, on_take_a, &w);
	replay_set_take_cb(rb, on_take_b, &w);
	err = trace_reader_seek(rd, 0);
	while (!err && (err = trace_reader_next(rd, &ev)) > 0) {
		err = replay_feed(ra, &ev);
		if (!err)
			err = replay_feed(rb, &ev);
	}
	if (err >= 0)
		err = replay_finish(ra, trace_reader_snapshot(rd, TRACE_SNAP_END));
	if (!err)
		err = replay_finish(rb, trace_reader_snapshot(rd, TRACE_SNAP_END));
	if (err) {
		snprintf(errbuf, len, "replay failed: %s", fragscope_strerror(err));
		replay_free(ra);
		replay_free(rb);
		free(w.q.v);
		return -1;
	}
	if (w.found) {
		fprintf(f, "first divergence at event #%" PRIu64 " (t=%" PRIu64 ".%09" PRIu64 " s), cpu %u, "
			"order %u %s request, kernel took 0x%" PRIx64, w.a.seq, w.a.ts_ns / 1000000000,
			w.a.ts_ns % 1000000000, w.a.cpu, w.a.order, mtname(h, w.a.start_mt, b1, sizeof(b1)), w.a.k_pfn);
		if (w.a.k_path != RP_NONE)
			fprintf(f, " (%s)", replay_path_name(w.a.k_path));
		fprintf(f, ":\n");
		print_prediction(f, h, pa, &w.a);
		print_prediction(f, h, pb, &w.b);
	} else {
		fprintf(f, "no divergence: both profiles %s alike\n", w.compared ? (sim ? "placed every allocation" :
			"predicted every take") : "had nothing to compare");
	}
	if (w.found && sim) {
		fprintf(f, "events around it:\n");
		trace_reader_seek(rd, w.a.seq > 4 ? w.a.seq - 4 : 0);
		for (int i = 0; i < 9 && trace_reader_next(rd, &ev) > 0; i++) {
			fprintf(f, "  %s", ev.seq == w.a.seq ? "> " : "  ");
			print_event(f, h, &ev);
		}
	}
	fprintf(f, "\n%s compared %" PRIu64 ": same placement %" PRIu64 ", same decision %" PRIu64 "%s\n",
		sim ? "allocations" : "takes", w.compared, w.same_place, w.same_decision,
		w.q.overflow ? " (comparison window overflowed)" : "");
	fprintf(f, "fallbacks (claims and steals): %s %" PRIu64 ", %s %" PRIu64 "; model failures: %s %" PRIu64
		", %s %" PRIu64 "\n", pa, w.fallbacks_a, pb, w.fallbacks_b, pa, w.failed_a, pb, w.failed_b);
	fprintf(f, "\n%s:\n", pa);
	replay_print_result(ra, f, false);
	fprintf(f, "\n%s:\n", pb);
	replay_print_result(rb, f, false);
	replay_free(ra);
	replay_free(rb);
	free(w.q.v);
	return w.found || w.q.overflow || !w.compared;
}

/* ---- two traces ------------------------------------------------------------------------------- */

static bool same_event(const struct trace_event *a, const struct trace_event *b)
{
	return a->kind == b->kind && a->cpu == b->cpu && a->pfn == b->pfn && a->order == b->order && a->mt == b->mt &&
	       a->fallback_order == b->fallback_order && a->fallback_mt == b->fallback_mt &&
	       (a->flags & (TEVF_PERCPU_REFILL | TEVF_CHANGE_OWNERSHIP)) ==
	       (b->flags & (TEVF_PERCPU_REFILL | TEVF_CHANGE_OWNERSHIP)) && a->gfp == b->gfp;
}

int replay_diff_traces(struct trace_reader *ra, struct trace_reader *rb, const char *na, const char *nb, FILE *f,
		       char *errbuf, size_t len)
{
	const struct trace_header *ha = trace_reader_header(ra), *hb = trace_reader_header(rb);
	struct replay_stat *sa = replay_stat_new(ha), *sb = replay_stat_new(hb);
	struct trace_event ea, eb;
	uint64_t n = 0, first = UINT64_MAX, differing = 0;
	int ga, gb, differ = 0;
	struct trace_event before[4];
	unsigned nb4 = 0;

	if (!sa || !sb) {
		snprintf(errbuf, len, "out of memory");
		replay_stat_free(sa);
		replay_stat_free(sb);
		return -1;
	}
	trace_reader_seek(ra, 0);
	trace_reader_seek(rb, 0);
	for (;;) {
		ga = trace_reader_next(ra, &ea);
		gb = trace_reader_next(rb, &eb);
		if (ga < 0 || gb < 0) {
			const char *problem = trace_reader_status(ga < 0 ? ra : rb)->first_problem;

			if (problem[0])		/* names the file */
				snprintf(errbuf, len, "%s", problem);
			else
				snprintf(errbuf, len, "'%s': read error", ga < 0 ? na : nb);
			replay_stat_free(sa);
			replay_stat_free(sb);
			return -1;
		}
		if (ga > 0)
			replay_stat_add(sa, &ea);
		if (gb > 0)
			replay_stat_add(sb, &eb);
		if (!ga && !gb)
			break;
		if (ga != gb || !same_event(&ea, &eb)) {
			differing++;
			if (first == UINT64_MAX) {
				first = n;
				fprintf(f, "first difference at event #%" PRIu64 ":\n", n);
				for (unsigned i = 0; i < nb4; i++) {
					fprintf(f, "    ");
					print_event(f, ha, &before[i]);
				}
				fprintf(f, "  %s: ", na);
				if (ga)
					print_event(f, ha, &ea);
				else
					fprintf(f, "(end of trace)\n");
				fprintf(f, "  %s: ", nb);
				if (gb)
					print_event(f, hb, &eb);
				else
					fprintf(f, "(end of trace)\n");
			}
		} else if (first == UINT64_MAX) {
			if (nb4 == 4) {
				memmove(before, before + 1, 3 * sizeof(before[0]));
				nb4 = 3;
			}
			before[nb4++] = ea;
		}
		n++;
	}
	if (first == UINT64_MAX) {
		fprintf(f, "the event streams are identical (%" PRIu64 " events)\n", n);
	} else {
		fprintf(f, "%" PRIu64 " of %" PRIu64 " event positions differ\n", differing, n);
		differ = 1;
	}
	fprintf(f, "\nallocations by order (%s / %s):\n", na, nb);
	for (unsigned o = 0; o < (ha->nr_orders ? ha->nr_orders : 11); o++) {
		uint64_t a = replay_stat_allocs_of_order(sa, o), b = replay_stat_allocs_of_order(sb, o);

		if (a || b)
			fprintf(f, "  order %2u: %12" PRIu64 " %12" PRIu64 "%s\n", o, a, b, a != b ? "  *" : "");
	}
	replay_stat_free(sa);
	replay_stat_free(sb);
	return differ;
}
