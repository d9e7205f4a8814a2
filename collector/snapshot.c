// SPDX-License-Identifier: GPL-2.0-only
/*
 * Start and end snapshots of the allocator, taken while the event stream is attached:
 * a marker record, then BPF walks of every zone's pageblock bitmap, every free list (head
 * first, every entry checked to be a free buddy page of that order) and every CPU's per-cpu
 * lists (run on that CPU), then a second marker. The walks are unlocked: events between the
 * two markers may or may not be reflected; the snapshot says how many there were, and how
 * it compares with /proc/pagetypeinfo read just before and just after.
 */
#include "collector/collector-local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "collector/record.skel.h"
#include "util/errors.h"
#include "util/log.h"

#define WALK_RETRIES 3

static int take_bpf_snapshot(struct collector *c, struct collector_snapinfo *si, enum trace_snapshot_which which);

struct vec {
	void *p;
	size_t n, cap, elsz;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		void *p = realloc(v->p, cap * v->elsz);

		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	return (char *)v->p + v->elsz * v->n++;
}

static int emit_marker(struct collector *c, uint64_t id)
{
	uint64_t args[1] = { id };

	/* a full ring buffer (a small --buffer under load) is drained and the marker retried */
	for (int attempt = 0; attempt < 1000; attempt++) {
		long ret;
		int err = collector_run_prog(c, bpf_program__fd(c->skel->progs.emit_marker), -1, args, 1, &ret);

		if (err)
			return err;
		if (!ret)
			return 0;
		err = collector_poll(c);
		if (err < 0)
			return err;
	}
	return -ENOSPC;
}

/* the migratetype a pageblock's bits mean: mirrors get_pfnblock_migratetype() (6.1, 6.12, 6.18) */
static int pb_migratetype(const struct collector_kinfo *ki, uint8_t bits)
{
	if (ki->pb_isolate_bit && (bits & ki->pb_isolate_bit))
		return ki->mt_isolate;
	return bits & 7;
}

static int walk_pageblocks(struct collector *c, const struct collector_zone *z, struct trace_pageblocks *pb,
			   uint64_t *nr_blocks /* [mt] */, uint64_t *other_zone, uint64_t *online)
{
	uint64_t pb_pages = 1ull << c->ki.pageblock_order;
	uint64_t first = z->start_pfn & ~(pb_pages - 1), end = z->start_pfn + z->spanned;
	uint64_t nr = (end - first + pb_pages - 1) / pb_pages, done = 0;
	uint32_t zid = z->node * c->ki.max_nr_zones + z->zone_idx;
	uint8_t mask = (uint8_t)~c->ki.pb_skip_bit;

	pb->first_pfn = first;
	pb->nr = nr;
	pb->types = malloc(nr ? nr : 1);
	if (!pb->types)
		return -ENOMEM;
	while (done < nr) {
		uint64_t n = nr - done > SNAP_BUF_ENTRIES ? SNAP_BUF_ENTRIES : nr - done;
		uint64_t args[3] = { first + (done << c->ki.pageblock_order), n, zid };
		const volatile uint64_t *buf = collector_snap_buf(c);
		long ret;
		int err = collector_run_prog(c, bpf_program__fd(c->skel->progs.walk_pageblocks), -1, args, 3, &ret);

		if (err)
			return err;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t v = buf[i];

			if (!(v & SNAP_PB_NOT_ONLINE)) {
				(*online)++;
				if (v & SNAP_PB_OTHER_ZONE)
					(*other_zone)++;
			}
			if (v & (SNAP_PB_NOT_ONLINE | SNAP_PB_OTHER_ZONE)) {
				pb->types[done + i] = TRACE_PB_NONE;
				continue;
			}
			pb->types[done + i] = (uint8_t)(v & mask);
			int mt = pb_migratetype(&c->ki, (uint8_t)v);

			if (mt >= 0 && (uint32_t)mt < c->ki.nr_migratetypes)
				nr_blocks[mt]++;
		}
		done += n;
	}
	return 0;
}

/* Walks one free list into v (struct trace_free_block). Returns its length, or < 0. */
static long walk_free_list(struct collector *c, uint32_t zi, uint32_t order, uint32_t mt, struct vec *v,
			   int *bad)
{
	const struct collector_zone *z = &c->zones[zi];
	long ret = 0;

	for (int attempt = 0; attempt < WALK_RETRIES; attempt++) {
		uint64_t args[4] = { z->addr, order, mt, SNAP_BUF_ENTRIES };
		int err = collector_run_prog(c, bpf_program__fd(c->skel->progs.walk_free_list), -1, args, 4, &ret);

		if (err)
			return err;
		if (ret >= 0)
			break;
		(*bad)++;	/* the list changed under the walk: try again */
	}
	if (ret < 0)
		return ret;
	for (long i = 0; i < ret; i++) {
		struct trace_free_block *b = vec_push(v);

		if (!b)
			return -ENOMEM;
		b->pfn = collector_page_to_pfn(c, collector_snap_buf(c)[i]);
		b->zone = (uint16_t)zi;
		b->order = (uint8_t)order;
		b->mt = (int8_t)mt;
	}
	return ret;
}

static int pcp_order(const struct collector_kinfo *ki, uint32_t pindex)
{
	/* mirrors mm/page_alloc.c pindex_to_order(): MIGRATE_PCPTYPES lists per order up to
	 * PAGE_ALLOC_COSTLY_ORDER (3), then the THP lists at pageblock_order */
	uint32_t nr_low = (uint32_t)ki->mt_pcptypes * 4;

	return pindex < nr_low ? (int)(pindex / (uint32_t)ki->mt_pcptypes) : (int)ki->pageblock_order;
}

/* One zone's per-cpu lists on one CPU, all in one run on that CPU (interrupts off there). */
static int walk_pcp(struct collector *c, uint32_t zi, uint32_t cpu, struct vec *v, int *mismatch)
{
	const struct collector_zone *z = &c->zones[zi];
	uint64_t off = c->ki.pcpu_off[cpu], pages = 0, k = 0;
	uint64_t args[4] = { z->addr, off, c->ki.nr_pcp_lists, SNAP_BUF_ENTRIES };
	const volatile uint64_t *buf = collector_snap_buf(c);
	long ret;
	int err;

	if (off == ~0ull)
		return -ENOENT;
	err = collector_run_prog(c, bpf_program__fd(c->skel->progs.walk_pcp_all), (int)cpu, args, 4, &ret);
	if (err || ret < 1) {
		pr_debug("per-cpu lists of zone %s on CPU %u: %s", z->name, cpu,
			 err ? strerror(-err) : ret == -SNAP_TOO_LONG ? "too long" : ret == -SNAP_READ_FAULT ? "read fault" : "empty");
		if (!c->pcp_warned++)
			pr_warn("cannot walk the per-cpu lists of zone %s on CPU %u (%s): the snapshot has no per-cpu lists there",
				z->name, cpu, err ? strerror(-err) : ret == -SNAP_READ_FAULT ? "a kernel read failed" : "walk failed");
		return err ? err : -EIO;
	}
	for (uint32_t pindex = 0; pindex < c->ki.nr_pcp_lists && k < (uint64_t)ret - 1; pindex++) {
		uint64_t n = buf[k++];
		int order = pcp_order(&c->ki, pindex);

		for (uint64_t i = 0; i < n && k < (uint64_t)ret - 1; i++) {
			struct trace_pcp_page *p = vec_push(v);

			if (!p)
				return -ENOMEM;
			p->pfn = collector_page_to_pfn(c, buf[k++]);
			p->cpu = cpu;
			p->zone = (uint16_t)zi;
			p->order = (uint8_t)order;
			p->pindex = (uint8_t)pindex;
			pages += 1ull << order;
		}
	}
	if ((int64_t)buf[ret - 1] >= 0 && buf[ret - 1] != pages)
		(*mismatch)++;
	return 0;
}

int collector_counts_from_pti(const struct collector_zone *zones, uint32_t nr_zones, const struct pti *p,
			      struct trace_snapshot *s)
{
	s->counts = calloc(nr_zones, sizeof(*s->counts));
	if (!s->counts)
		return -ENOMEM;
	for (uint32_t zi = 0; zi < nr_zones; zi++) {
		const struct pti_zone *pz = collector_pti_zone(p, zones[zi].node, zones[zi].name);
		struct trace_zone_counts *tc;

		if (!pz)
			continue;
		tc = &s->counts[s->nr_counts++];
		tc->zone = (uint16_t)zi;
		tc->nr_orders = pz->nr_orders;
		tc->nr_migratetypes = pz->nr_types;
		tc->nr_free = calloc((size_t)pz->nr_orders * pz->nr_types, sizeof(uint64_t));
		tc->nr_blocks = calloc(pz->nr_types, sizeof(uint64_t));
		if (!tc->nr_free || !tc->nr_blocks)
			return -ENOMEM;
		/* pagetypeinfo rows are [type][order]; the trace wants [order * nr_mt + mt] */
		for (uint32_t t = 0; t < pz->nr_types; t++) {
			tc->nr_blocks[t] = pz->nr_blocks[t];
			for (uint32_t o = 0; o < pz->nr_orders; o++)
				tc->nr_free[o * pz->nr_types + t] = pz->nr_free[t * pz->nr_orders + o];
		}
	}
	return 0;
}

/* A fresh snapshot of kind which, with the ids of its begin and end markers. */
static void snap_begin(struct collector *c, struct collector_snapinfo *si, enum trace_snapshot_which which)
{
	struct trace_snapshot *s = &si->snap;

	trace_snapshot_release(s);
	memset(s, 0, sizeof(*s));
	s->which = which;
	si->begin_id = c->next_marker++;
	si->end_id = c->next_marker++;
	si->begin_seen = si->end_seen = false;
}

/* The fallback: markers around a /proc/kpageflags read. */
static int take_kpageflags_snapshot(struct collector *c, struct collector_snapinfo *si,
				    enum trace_snapshot_which which)
{
	struct trace_snapshot *s = &si->snap;
	int err;

	snap_begin(c, si, which);
	err = emit_marker(c, si->begin_id);
	if (!err)
		err = collector_kpageflags_snapshot(c, c->zones, c->nr_zones, c->ki.nr_orders, s, si->summary,
						    sizeof(si->summary));
	if (!err)
		err = emit_marker(c, si->end_id);
	if (!err) {
		pr_info("%s", si->summary);
		si->taken = true;
		si->check = (struct collector_snapshot_check){
			.taken = true, .method = s->method, .free_blocks = s->nr_free_blocks,
			.duration_ns = s->duration_ns,
		};
	}
	return err;
}

int collector_take_snapshot(struct collector *c, struct collector_snapinfo *si, enum trace_snapshot_which which)
{
	int err;

	if (c->opts.kpageflags_snapshot)
		return take_kpageflags_snapshot(c, si, which);
	err = take_bpf_snapshot(c, si, which);
	if (err && err != -ENOMEM) {
		pr_warn("the BPF walk of the allocator failed (%s): falling back to /proc/kpageflags", strerror(-err));
		err = take_kpageflags_snapshot(c, si, which);
	}
	return err;
}

static int take_bpf_snapshot(struct collector *c, struct collector_snapinfo *si, enum trace_snapshot_which which)
{
	struct trace_snapshot *s = &si->snap;
	struct vec fb = { .elsz = sizeof(struct trace_free_block) };
	struct vec pcp = { .elsz = sizeof(struct trace_pcp_page) };
	uint32_t nmt = c->ki.nr_migratetypes, nord = c->ki.nr_orders;
	uint64_t *walked = NULL;	/* [zone][order][mt] list lengths */
	uint64_t *blocks = NULL;	/* [zone][mt] */
	struct pti before = {}, after = {};
	int err, retries = 0, pcp_mismatch = 0, pcp_cpus = 0;
	uint32_t lists = 0, lists_eq = 0, lists_failed = 0, bt = 0, bt_eq = 0;
	uint64_t list_absdiff = 0, blocks_absdiff = 0, t0, other_zone = 0, online_blocks = 0;
	char *note = NULL;
	size_t note_len = 0;
	FILE *nf;

	snap_begin(c, si, which);

	walked = calloc((size_t)c->nr_zones * nord * nmt, sizeof(uint64_t));
	blocks = calloc((size_t)c->nr_zones * nmt, sizeof(uint64_t));
	s->pageblocks = calloc(c->nr_zones, sizeof(*s->pageblocks));
	if (!walked || !blocks || !s->pageblocks) {
		err = -ENOMEM;
		goto out;
	}
	err = collector_pti_read(&before);
	if (err) {
		pr_err("cannot read '/proc/pagetypeinfo': %s", strerror(-err));
		goto out;
	}
	t0 = collector_now_ns();
	err = emit_marker(c, si->begin_id);
	if (err) {
		pr_err("cannot write the snapshot marker: %s", strerror(-err));
		goto out;
	}
	for (uint32_t zi = 0; zi < c->nr_zones && !err; zi++) {
		struct trace_pageblocks *pb = &s->pageblocks[s->nr_pageblock_zones];

		if (!c->zones[zi].spanned)
			continue;
		pb->zone = (uint16_t)zi;
		s->nr_pageblock_zones++;
		err = walk_pageblocks(c, &c->zones[zi], pb, &blocks[zi * nmt], &other_zone, &online_blocks);
	}
	for (uint32_t zi = 0; zi < c->nr_zones && !err; zi++) {
		if (!c->zones[zi].spanned)
			continue;
		for (uint32_t o = 0; o < nord && !err; o++)
			for (uint32_t mt = 0; mt < nmt && !err; mt++) {
				long n = walk_free_list(c, zi, o, mt, &fb, &retries);

				if (n == -ENOMEM) {
					err = -ENOMEM;
				} else if (n < 0) {
					lists_failed++;
				} else {
					walked[((size_t)zi * nord + o) * nmt + mt] = (uint64_t)n;
				}
			}
	}
	for (uint32_t zi = 0; zi < c->nr_zones && !err; zi++) {
		if (!c->zones[zi].spanned)
			continue;
		for (uint32_t cpu = 0; cpu < c->ki.nr_cpus && !err; cpu++) {
			int e = walk_pcp(c, zi, cpu, &pcp, &pcp_mismatch);

			if (e == -ENOMEM)
				err = e;
			else if (!e)
				pcp_cpus++;
		}
	}
	if (err)
		goto out;
	err = emit_marker(c, si->end_id);
	if (err)
		goto out;
	s->duration_ns = collector_now_ns() - t0;
	collector_pti_read(&after);

	/* cross-check with pagetypeinfo: a list matches if it equals the count read before or after */
	for (uint32_t zi = 0; zi < c->nr_zones; zi++) {
		const struct pti_zone *pb4 = collector_pti_zone(&before, c->zones[zi].node, c->zones[zi].name);
		const struct pti_zone *paf = collector_pti_zone(&after, c->zones[zi].node, c->zones[zi].name);

		if (!pb4 || !c->zones[zi].spanned)
			continue;
		for (uint32_t mt = 0; mt < nmt && mt < pb4->nr_types; mt++) {
			for (uint32_t o = 0; o < nord && o < pb4->nr_orders; o++) {
				uint64_t w = walked[((size_t)zi * nord + o) * nmt + mt];
				uint64_t a = pb4->nr_free[mt * pb4->nr_orders + o];
				uint64_t b = paf && mt < paf->nr_types ? paf->nr_free[mt * paf->nr_orders + o] : a;

				lists++;
				if (w == a || w == b || (a == UINT64_MAX && w >= 100000)) {
					lists_eq++;
				} else {
					uint64_t da = w > a ? w - a : a - w, db = w > b ? w - b : b - w;

					list_absdiff += da < db ? da : db;
				}
			}
			{
				uint64_t w = blocks[zi * nmt + mt], a = pb4->nr_blocks[mt];
				uint64_t b = paf && mt < paf->nr_types ? paf->nr_blocks[mt] : a;

				bt++;
				if (w == a || w == b) {
					bt_eq++;
				} else {
					uint64_t da = w > a ? w - a : a - w, db = w > b ? w - b : b - w;

					blocks_absdiff += da < db ? da : db;
				}
			}
		}
	}
	err = collector_counts_from_pti(c->zones, c->nr_zones, &before, s);
	if (err)
		goto out;

	s->method = TRACE_SNAP_BPF_WALK;
	s->flags = TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
		   TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_COUNTS;
	if (pcp_cpus)
		s->flags |= TRACE_SNAPF_PCP;
	s->nr_free_blocks = fb.n;
	s->free_blocks = fb.p;
	fb.p = NULL;
	s->nr_pcp_pages = pcp.n;
	s->pcp_pages = pcp.p;
	pcp.p = NULL;

	snprintf(si->summary, sizeof(si->summary),
		 "%s snapshot: %llu free blocks, %llu pcp pages; vs /proc/pagetypeinfo: free lists %u/%u equal "
		 "(sum of differences %llu blocks), pageblock counts %u/%u equal (sum of differences %llu blocks)",
		 which == TRACE_SNAP_START ? "start" : "end", (unsigned long long)s->nr_free_blocks,
		 (unsigned long long)s->nr_pcp_pages, lists_eq, lists, (unsigned long long)list_absdiff, bt_eq, bt,
		 (unsigned long long)blocks_absdiff);
	nf = open_memstream(&note, &note_len);
	if (nf) {
		fprintf(nf, "BPF walk, unlocked (raw_tp test_run), %.1f ms between the two markers; "
			    "events between the markers may or may not be reflected. "
			    "Free lists walked head first, every entry checked PageBuddy with page->private == order "
			    "(%d walk(s) restarted after a list changed, %u list(s) unreadable). "
			    "Per-cpu lists walked on each CPU with interrupts off there (%d zone/cpu pairs): %d of them with pcp->count differing from the walk. "
			    "Cross-check with /proc/pagetypeinfo read before and after: free lists %u/%u equal, "
			    "sum |diff| %llu blocks; pageblocks per type %u/%u equal, sum |diff| %llu blocks.",
			s->duration_ns / 1e6, retries, lists_failed, pcp_cpus, pcp_mismatch,
			lists_eq, lists, (unsigned long long)list_absdiff, bt_eq, bt,
			(unsigned long long)blocks_absdiff);
		fclose(nf);
		s->note = note;
	}
	pr_info("%s", si->summary);
	si->taken = true;
	si->check = (struct collector_snapshot_check){
		.taken = true, .method = s->method, .free_blocks = s->nr_free_blocks, .pcp_pages = s->nr_pcp_pages,
		.lists = lists, .lists_equal = lists_eq, .lists_absdiff = list_absdiff,
		.block_counts = bt, .block_counts_equal = bt_eq, .blocks_absdiff = blocks_absdiff,
		.duration_ns = s->duration_ns,
	};
	if (other_zone * 2 > online_blocks && online_blocks)
		pr_warn("the zone bits of page->flags do not decode as expected on this kernel (%llu of %llu "
			"pageblocks look foreign to their zone): event zones are unreliable",
			(unsigned long long)other_zone, (unsigned long long)online_blocks);
out:
	free(fb.p);
	free(pcp.p);
	free(walked);
	free(blocks);
	collector_pti_release(&before);
	collector_pti_release(&after);
	return err;
}

int collector_snapshot(struct collector *c, enum trace_snapshot_which which)
{
	struct collector_snapinfo *si = &c->snaps[which];
	uint64_t deadline;
	int err = collector_take_snapshot(c, si, which);

	if (err)
		return err;
	/* drain up to the end marker so the cut is known */
	deadline = collector_now_ns() + 5000000000ull;
	while (!si->end_seen && collector_now_ns() < deadline) {
		int n = collector_poll(c);

		if (n < 0)
			return n;
		if (!si->end_seen)
			usleep(1000);
	}
	if (!si->begin_seen || !si->end_seen) {
		pr_err("the snapshot markers did not come through the ring buffer");
		return -EIO;
	}
	si->snap.event_seq = si->begin_seq;
	si->snap.ts_ns = si->begin_ts;	/* the marker record's timestamp is the cut's time */
	{
		char *n2 = NULL;

		if (asprintf(&n2, "%s %llu event(s) between the markers (seq %llu..%llu).", si->snap.note ? si->snap.note : "",
			     (unsigned long long)(si->end_seq - si->begin_seq - 1), (unsigned long long)si->begin_seq,
			     (unsigned long long)si->end_seq) >= 0) {
			free(si->snap.note);
			si->snap.note = n2;
		}
		si->check.events_during = si->end_seq - si->begin_seq - 1;
		snprintf(si->summary + strlen(si->summary), sizeof(si->summary) - strlen(si->summary),
			 "; %llu event(s) during the %.1f ms walk",
			 (unsigned long long)(si->end_seq - si->begin_seq - 1), si->snap.duration_ns / 1e6);
	}
	return trace_writer_snapshot(c->w, &si->snap);
}

void collector_snapshot_get_check(const struct collector *c, enum trace_snapshot_which which,
				  struct collector_snapshot_check *chk)
{
	*chk = c->snaps[which].check;
}

const char *collector_snapshot_summary(const struct collector *c, enum trace_snapshot_which which)
{
	return c->snaps[which].taken ? c->snaps[which].summary : "";
}
