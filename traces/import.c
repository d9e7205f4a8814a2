// SPDX-License-Identifier: GPL-2.0-only
/*
 * Importers of trace-cmd trace.dat files and tracefs text (import.h).
 *
 * Both go through libtraceevent's parse of the tracepoints' own format files: trace.dat carries
 * them, and for text they come from --formats DIR or the running kernel's tracefs. Fields are
 * found by name (pfn, order, migratetype ...), never by offset. For text, the event's print
 * format is inverted: its literal pieces are matched and each conversion is traced back through
 * its print argument (a field, a cast, a `cond ? field : const` or a __print_flags table) to the
 * field it shows.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <trace-cmd.h>
#include <event-parse.h>

/* Exported by libtracecmd 3.x but declared only in its private header. */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
const char *tracecmd_get_trace_clock(struct tracecmd_input *handle);

#include "traces/import.h"
#include "traces/procfs.h"
#include "traces/trace-local.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/parse.h"

/* ---- fields by name --------------------------------------------------------------------------- */
enum fid {
	F_PFN, F_ORDER, F_GFP, F_MT, F_FALLBACK_ORDER, F_FALLBACK_MT, F_PERCPU_REFILL,
	F_CHANGE_OWNERSHIP, F_AUX, F_AUX2, NR_FIDS, F_NONE = -1
};

static const struct {
	const char *name;
	enum fid id;
} field_names[] = {
	{ "pfn", F_PFN }, { "start_pfn", F_PFN }, { "order", F_ORDER }, { "alloc_order", F_ORDER },
	{ "gfp_flags", F_GFP }, { "migratetype", F_MT }, { "alloc_migratetype", F_MT },
	{ "fallback_order", F_FALLBACK_ORDER }, { "fallback_migratetype", F_FALLBACK_MT },
	{ "percpu_refill", F_PERCPU_REFILL }, { "change_ownership", F_CHANGE_OWNERSHIP },
	{ "end_pfn", F_AUX }, { "nr_scanned", F_AUX2 },
};

static enum fid fid_of(const char *name)
{
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (!strcmp(field_names[i].name, name))
			return field_names[i].id;
	return F_NONE;
}

static void set_field(struct trace_event *e, enum fid id, uint64_t v)
{
	switch (id) {
	case F_PFN: e->pfn = v; break;
	case F_ORDER: e->order = (uint8_t)v; break;
	case F_GFP: e->gfp = v; break;
	case F_MT: e->mt = (int8_t)v; break;
	case F_FALLBACK_ORDER: e->fallback_order = (uint8_t)v; break;
	case F_FALLBACK_MT: e->fallback_mt = (int8_t)v; break;
	case F_PERCPU_REFILL: if (v) e->flags |= TEVF_PERCPU_REFILL; break;
	case F_CHANGE_OWNERSHIP: if (v) e->flags |= TEVF_CHANGE_OWNERSHIP; break;
	case F_AUX: e->aux = v; break;
	case F_AUX2: e->aux2 = (uint32_t)v; break;
	default: break;
	}
}

static void event_init(struct trace_event *e, enum trace_event_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	e->mt = -1;
	e->fallback_mt = -1;
	e->zone = TRACE_ZONE_UNKNOWN;
}

/* A 32-bit field read into 64 bits: sign-extend when the format says signed (migratetype -1). */
static uint64_t field_value(const struct tep_format_field *f, unsigned long long v)
{
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size > 0 && f->size < 8) {
		unsigned int bits = (unsigned int)f->size * 8;
		uint64_t m = 1ULL << (bits - 1);

		v &= (1ULL << bits) - 1;
		return (uint64_t)((int64_t)(v ^ m) - (int64_t)m);
	}
	return v;
}

/* ---- common: header, snapshot, writer --------------------------------------------------------- */
struct snap_src {			/* a snapshot taken from a fragscope file (--start/--end-snapshot) */
	const char *path;
	struct trace_reader *r;
	const struct trace_header *h;
	const struct trace_snapshot *s;
	bool placed;
	uint64_t event_seq, during;
	long pid;			/* capture.pid of its header, or -1 */
	uint64_t wlo, whi;		/* when that process ran (CLOCK_MONOTONIC) */
	uint64_t witness;		/* events of that process in the capture within [wlo, whi] */
};

struct importer {
	const struct trace_import_opts *opts;
	const char *in, *out;
	struct trace_import_stats *stats;
	struct trace_header hdr;
	struct trace_writer *w;
	bool zones_valid;
	uint64_t *lost_cpu;
	uint32_t nr_lost_cpu;
	struct snap_src snap[TRACE_SNAP_MAX];
	struct snap_src *hdr_src;	/* the snapshot file whose header the trace takes, or NULL */
	bool any_ts;
	uint64_t first_ts, last_ts;
	uint64_t page_events, outside;	/* page events, and those outside the header's zones */
	uint64_t first_outside_pfn;
	char *errbuf;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int imp_err(struct importer *im, int err, const char *fmt, ...)
{
	va_list ap;

	if (im->errbuf && im->errlen) {
		va_start(ap, fmt);
		vsnprintf(im->errbuf, im->errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ---- snapshots from fragscope files (--start-snapshot, --end-snapshot) ------------------------ */
static const char *which_name(int which)
{
	return which == TRACE_SNAP_START ? "start" : "end";
}

static bool kv_u64(const struct trace_header *h, const char *key, uint64_t *v)
{
	return !parse_u64(trace_header_get(h, key), 0, UINT64_MAX, v);
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* Opens PATH and picks its snapshot: a start snapshot for START; for END the file's end snapshot,
 * else its start one (a `record --snapshot-only` file holds one start snapshot). */
static int snap_load(struct importer *im, int which, const char *path)
{
	struct snap_src *ss = &im->snap[which];
	const char *mode, *clock;
	char eb[256] = "";
	uint64_t v;
	int err = 0;

	ss->path = path;
	ss->pid = -1;
	ss->r = trace_reader_open(path, &err, eb, sizeof(eb));
	if (!ss->r)
		return imp_err(im, err ? err : -EINVAL, "%s", eb[0] ? eb : "cannot read the snapshot file");
	ss->h = trace_reader_header(ss->r);
	mode = trace_header_get(ss->h, "capture.mode");
	if (mode && !strncmp(mode, "import", 6))
		return imp_err(im, -EINVAL, "'%s': an imported trace, not a snapshot taken on the traced machine "
			       "(take one there with 'fragscope record --snapshot-only')", path);
	clock = trace_header_get(ss->h, "capture.clock");
	if ((clock && strcmp(clock, "mono")) || (!clock && (!mode || strncmp(mode, "bpf", 3))))
		return imp_err(im, -EINVAL, "'%s': its snapshot time is not CLOCK_MONOTONIC (capture clock '%s')",
			       path, clock ? clock : "unknown");
	ss->s = trace_reader_snapshot(ss->r, (enum trace_snapshot_which)which);
	if (!ss->s && which == TRACE_SNAP_END)
		ss->s = trace_reader_snapshot(ss->r, TRACE_SNAP_START);
	if (!ss->s)
		return imp_err(im, FS_ERRNO__NO_SNAPSHOT, "'%s': holds no snapshot", path);
	if (which == TRACE_SNAP_START && !(ss->s->flags & TRACE_SNAPF_FREE_BLOCKS))
		return imp_err(im, FS_ERRNO__NO_SNAPSHOT, "'%s': its snapshot lists no free blocks, which replay seeds "
			       "the model from (take it with 'fragscope record --snapshot-only')", path);
	if (!ss->s->ts_ns)
		return imp_err(im, FS_ERRNO__NO_SNAPSHOT, "'%s': its snapshot carries no time", path);
	if (trace_header_get(ss->h, "capture.pid")) {
		if (!kv_u64(ss->h, "capture.pid", &v) || v > INT32_MAX)
			return imp_err(im, FS_ERRNO__CORRUPT, "'%s': capture.pid is not a process id", path);
		ss->pid = (long)v;
	}
	/* the process allocated pages from its start to a little after the walk (writing the file) */
	ss->wlo = kv_u64(ss->h, "capture.process_start_mono_ns", &v) && v <= ss->s->ts_ns ? v
		  : ss->s->ts_ns > 10000000000ull ? ss->s->ts_ns - 10000000000ull : 0;
	ss->whi = ss->s->ts_ns + ss->s->duration_ns + 2000000000ull;
	return 0;
}

static bool same_layout(const struct trace_header *a, const struct trace_header *b)
{
	if (a->nr_zones != b->nr_zones || a->pageblock_order != b->pageblock_order || a->nr_orders != b->nr_orders ||
	    strcmp(a->kernel_release, b->kernel_release) || strcmp(a->kernel_version, b->kernel_version))
		return false;
	for (uint32_t i = 0; i < a->nr_zones; i++)
		if (a->zones[i].start_pfn != b->zones[i].start_pfn || a->zones[i].spanned != b->zones[i].spanned ||
		    a->zones[i].present != b->zones[i].present || strcmp(a->zones[i].name, b->zones[i].name))
			return false;
	return true;
}

static int snap_load_all(struct importer *im)
{
	struct snap_src *a = &im->snap[TRACE_SNAP_START], *b = &im->snap[TRACE_SNAP_END];
	int err = 0;

	if (im->opts->start_snapshot)
		err = snap_load(im, TRACE_SNAP_START, im->opts->start_snapshot);
	if (!err && im->opts->end_snapshot)
		err = snap_load(im, TRACE_SNAP_END, im->opts->end_snapshot);
	if (err)
		return err;
	if (a->s && b->s) {
		const char *ba = trace_header_get(a->h, "capture.boot_id"), *bb = trace_header_get(b->h, "capture.boot_id");

		if (ba && bb && strcmp(ba, bb))
			return imp_err(im, -EINVAL, "'%s': taken in another boot (boot id %s) than '%s' (boot id %s)",
				       b->path, bb, a->path, ba);
		if (!same_layout(a->h, b->h))
			return imp_err(im, -EINVAL, "'%s': another kernel or memory layout (zones) than '%s'", b->path,
				       a->path);
	}
	im->hdr_src = a->s ? a : b->s ? b : NULL;
	return 0;
}

/* The capture's machine ("Linux vm 6.18.44 x86_64", trace-cmd's uname option) against the
 * snapshot files' headers, and its trace clock against theirs (CLOCK_MONOTONIC). */
static int snap_check_capture(struct importer *im, const char *uname, const char *clock)
{
	char sys[64] = "", node[256] = "", rel[128] = "", mach[64] = "";

	if (!im->hdr_src)
		return 0;
	if (!clock || !*clock)
		return imp_err(im, -EINVAL, "'%s': the trace.dat does not say its trace clock, so the snapshots "
			       "cannot be placed in it: record with 'trace-cmd record -C mono'", im->in);
	if (strcmp(clock, "mono"))
		return imp_err(im, -EINVAL, "'%s': recorded with the '%s' trace clock, not CLOCK_MONOTONIC as the "
			       "snapshots: record with 'trace-cmd record -C mono'", im->in, clock);
	if (!uname || sscanf(uname, "%63s %255s %127s %63s", sys, node, rel, mach) != 4) {
		pr_warn("'%s': no machine name in the trace.dat: the snapshots' machine cannot be checked", im->in);
		return 0;
	}
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		const struct snap_src *ss = &im->snap[i];
		const char *host;

		if (!ss->s)
			continue;
		host = trace_header_get(ss->h, "capture.host");
		if (strcmp(rel, ss->h->kernel_release) || strcmp(mach, ss->h->arch) || (host && strcmp(host, node)))
			return imp_err(im, -EINVAL, "'%s': a snapshot of %s%s%s running %s %s, but '%s' was captured on "
				       "'%s' running %s %s", ss->path, host ? "'" : "", host ? host : "another machine",
				       host ? "'" : "", ss->h->kernel_release, ss->h->arch, im->in, node, rel, mach);
	}
	return 0;
}

/* The header of the snapshot file: the traced machine, read there by the collector. Its capture
 * keys described the snapshot's run; those that describe the machine are kept. */
static int snap_header(struct importer *im)
{
	struct trace_header *h = &im->hdr;
	char buf[512];
	int err = trace_header_copy(h, im->hdr_src->h);
	uint32_t n = 0;

	if (err)
		return imp_err(im, err, "%s", fragscope_strerror(err));
	for (uint32_t i = 0; i < h->nr_kv; i++) {
		const char *k = h->kv[i].key;

		if (!strncmp(k, "capture.", 8) && strcmp(k, "capture.host") && strcmp(k, "capture.boot_id")) {
			free(h->kv[i].key);
			free(h->kv[i].value);
			continue;
		}
		h->kv[n++] = h->kv[i];
	}
	h->nr_kv = n;
	snprintf(buf, sizeof(buf), "snapshot file '%s' (written on the traced machine while the capture ran)",
		 im->hdr_src->path);
	err = trace_header_set(h, "header.source", buf);
	return err ? imp_err(im, err, "%s", fragscope_strerror(err)) : 0;
}

/* After the events: each snapshot inside the capture, the process that took it seen in it, the
 * end after the start; then written with its place in the stream. */
static int snap_check_and_write(struct importer *im)
{
	const struct snap_src *a = &im->snap[TRACE_SNAP_START], *b = &im->snap[TRACE_SNAP_END];

	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		const struct snap_src *ss = &im->snap[i];
		uint64_t t = ss->s ? ss->s->ts_ns : 0, t_end = t + (ss->s ? ss->s->duration_ns : 0);

		if (!ss->s)
			continue;
		if (!im->any_ts)
			return imp_err(im, -EINVAL, "'%s': the capture holds no event to place the %s snapshot '%s' in",
				       im->in, which_name(i), ss->path);
		if (t < im->first_ts || t_end > im->last_ts)
			return imp_err(im, -EINVAL, "'%s': the %s snapshot was taken at %.6f-%.6f s, outside the capture "
				       "('%s': events from %.6f to %.6f s, CLOCK_MONOTONIC): %s", ss->path,
				       which_name(i), secs(t), secs(t_end), im->in, secs(im->first_ts),
				       secs(im->last_ts), t < im->first_ts ? "take it after trace-cmd has started tracing"
				       : "stop trace-cmd after the end snapshot");
		if (ss->pid >= 0 && !ss->witness)
			return imp_err(im, -EINVAL, "'%s': '%s' holds no event of the process that took this snapshot "
				       "(pid %ld, %.6f-%.6f s): it was taken in another boot, or the capture did not "
				       "trace every task", ss->path, im->in, ss->pid, secs(ss->wlo), secs(ss->whi));
		if (ss->pid < 0)
			pr_warn("'%s': no capture.pid: cannot check that it comes from the capture's boot", ss->path);
	}
	/* the snapshot's zones are the traced machine's: its events fall inside them */
	if (im->hdr_src && im->outside * 100 > im->page_events)
		return imp_err(im, -EINVAL, "'%s': %llu of the %llu page events of '%s' fall outside its zones (the first "
			       "at pfn 0x%llx): a snapshot of another memory layout", im->hdr_src->path,
			       (unsigned long long)im->outside, (unsigned long long)im->page_events, im->in,
			       (unsigned long long)im->first_outside_pfn);
	if (a->s && b->s && b->s->ts_ns < a->s->ts_ns + a->s->duration_ns)
		return imp_err(im, -EINVAL, "'%s': the end snapshot was taken before the start snapshot '%s' ended",
			       b->path, a->path);
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		const struct snap_src *ss = &im->snap[i];
		struct trace_snapshot s;
		char *note = NULL;
		int err;

		if (!ss->s)
			continue;
		s = *ss->s;	/* the arrays stay the reader's */
		s.which = (enum trace_snapshot_which)i;
		s.event_seq = ss->placed ? ss->event_seq : im->stats->events;
		if (asprintf(&note, "%s%sFrom '%s', placed in '%s' by its CLOCK_MONOTONIC time (trace clock mono) "
			     "before event %llu; %llu imported event(s) fell inside its walk; %llu event(s) of the "
			     "process that took it found in the capture.", ss->s->note ? ss->s->note : "",
			     ss->s->note ? " " : "", ss->path, im->in, (unsigned long long)s.event_seq,
			     (unsigned long long)ss->during, (unsigned long long)ss->witness) < 0)
			note = NULL;
		s.note = note ? note : ss->s->note;
		err = trace_writer_snapshot(im->w, &s);
		free(note);
		if (err)
			return imp_err(im, err, "'%s': write failed: %s", im->out, fragscope_strerror(err));
		im->stats->snap[i].placed = true;
		im->stats->snap[i].event_seq = s.event_seq;
		im->stats->snap[i].events_during = ss->during;
		im->stats->snap[i].witness_events = ss->witness;
	}
	return 0;
}

static int imp_header(struct importer *im, const char *mode, struct tep_event *alloc_ev, int nr_cpus)
{
	struct trace_header *h = &im->hdr;
	char buf[64];
	time_t now = time(NULL);
	struct tm tm;
	int err;

	if (im->hdr_src) {
		err = snap_header(im);
		if (err)
			return err;
	} else {
		err = trace_header_from_running(h);
		if (err)
			pr_warn("cannot read this machine's /proc for the trace header: %s", fragscope_strerror(err));
	}
	if (alloc_ev) {
		err = trace_format_gfp_flags_event(h, alloc_ev);
		if (err)
			pr_warn("'%s': no gfp flag table in mm_page_alloc's format", im->in);
	}
	if (nr_cpus > 0 && (uint32_t)nr_cpus > h->nr_cpus)
		h->nr_cpus = (uint32_t)nr_cpus;
	/* zone indices of events come from this machine's zone spans: meaningful when the capture
	 * was made here, which is what the header says it describes */
	im->zones_valid = h->nr_zones > 0;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	err = trace_header_set(h, "tool.name", "fragscope");
	err = err ? err : trace_header_set(h, "tool.version", FRAGSCOPE_VERSION);
	err = err ? err : trace_header_set(h, "capture.mode", mode);
	err = err ? err : trace_header_set(h, "import.source", im->in);
	err = err ? err : trace_header_set(h, "import.time", buf);
	err = err ? err : trace_header_set(h, "events.zone", im->hdr_src ? "from the snapshot file's zone spans"
					   : "from the importing machine's zone spans");
	if (!err && im->stats->clock[0])
		err = trace_header_set(h, "capture.clock", im->stats->clock);
	else if (!err)
		err = trace_header_set(h, "capture.clock", "the capture's trace clock (trace-cmd and tracefs default: local)");
	for (int i = 0; i < TRACE_SNAP_MAX && !err; i++)
		if (im->snap[i].path)
			err = trace_header_set(h, i == TRACE_SNAP_START ? "import.start_snapshot" : "import.end_snapshot",
					       im->snap[i].path);
	if (!err && !im->opts->snapshot_proc && !im->snap[TRACE_SNAP_START].path && !im->snap[TRACE_SNAP_END].path)
		err = trace_header_set(h, "snapshot.none", "the capture holds no snapshot");
	return err;
}

static int imp_open_writer(struct importer *im)
{
	int err = 0;
	const struct trace_writer_opts *wo = im->opts->wopts.sz ? &im->opts->wopts : NULL;

	im->w = trace_writer_open(im->out, wo, &err);
	if (!im->w)
		return imp_err(im, err, "cannot create '%s': %s", im->out, fragscope_strerror(err));
	err = trace_writer_header(im->w, &im->hdr);
	if (err)
		return imp_err(im, err, "'%s': cannot write the header: %s", im->out, fragscope_strerror(err));
	return 0;
}

static int imp_event(struct importer *im, struct trace_event *e)
{
	int err;

	if (im->zones_valid && e->kind <= TEV_PAGE_ALLOC_EXTFRAG) {
		e->zone = trace_header_zone_of(&im->hdr, e->pfn);
		if (e->pfn != TRACE_PFN_NONE) {
			im->page_events++;
			if (e->zone == TRACE_ZONE_UNKNOWN && !im->outside++)
				im->first_outside_pfn = e->pfn;
		}
	}
	if (!im->any_ts || e->ts_ns < im->first_ts)
		im->first_ts = e->ts_ns;
	if (!im->any_ts || e->ts_ns > im->last_ts)
		im->last_ts = e->ts_ns;
	im->any_ts = true;
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		struct snap_src *ss = &im->snap[i];

		if (!ss->s)
			continue;
		/* events come in time order: the first one at or after the cut's time is the
		 * snapshot's event_seq, as the collector's begin marker places it */
		if (!ss->placed && e->ts_ns >= ss->s->ts_ns) {
			ss->placed = true;
			ss->event_seq = im->stats->events;
		}
		if (e->ts_ns >= ss->s->ts_ns && e->ts_ns <= ss->s->ts_ns + ss->s->duration_ns)
			ss->during++;
		if (ss->pid >= 0 && e->pid == (uint32_t)ss->pid && e->ts_ns >= ss->wlo && e->ts_ns <= ss->whi)
			ss->witness++;
	}
	err = trace_writer_event(im->w, e);
	if (err)
		return imp_err(im, err, "'%s': write failed: %s", im->out, fragscope_strerror(err));
	im->stats->events++;
	im->stats->per_kind[e->kind & TEV_KIND_MAX]++;
	return 0;
}

static void imp_lost(struct importer *im, uint32_t cpu, long long n)
{
	if (n < 0) {
		im->stats->lost_unknown++;
		n = 1;	/* at least one */
	}
	im->stats->lost += (uint64_t)n;
	if (cpu < 65536 && cpu >= im->nr_lost_cpu) {
		uint64_t *p = realloc(im->lost_cpu, (cpu + 1) * sizeof(*p));

		if (!p)
			return;
		memset(p + im->nr_lost_cpu, 0, (cpu + 1 - im->nr_lost_cpu) * sizeof(*p));
		im->lost_cpu = p;
		im->nr_lost_cpu = cpu + 1;
	}
	if (cpu < im->nr_lost_cpu)
		im->lost_cpu[cpu] += (uint64_t)n;
}

static int imp_finish(struct importer *im)
{
	struct trace_loss l = { 0 };
	int err;

	l.nr_cpus = im->nr_lost_cpu > im->hdr.nr_cpus ? im->nr_lost_cpu : im->hdr.nr_cpus;
	l.lost_per_cpu = calloc(l.nr_cpus ? l.nr_cpus : 1, sizeof(uint64_t));
	if (!l.lost_per_cpu)
		return imp_err(im, -ENOMEM, "%s", strerror(ENOMEM));
	for (uint32_t i = 0; i < im->nr_lost_cpu; i++)
		l.lost_per_cpu[i] = im->lost_cpu[i];
	l.total = im->stats->lost;
	err = trace_writer_loss(im->w, &l);
	free(l.lost_per_cpu);
	if (!err)
		err = snap_check_and_write(im);
	if (err)
		return err;
	if (!err && im->opts->snapshot_proc) {
		struct trace_snapshot s;

		err = trace_procfs_pagetypeinfo_snapshot(&im->hdr, NULL, TRACE_SNAP_END, &s);
		if (err) {
			pr_warn("cannot take a /proc/pagetypeinfo snapshot: %s", fragscope_strerror(err));
			err = 0;
		} else {
			struct timespec ts;
			char note[512];

			clock_gettime(CLOCK_MONOTONIC, &ts);
			s.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			s.event_seq = im->stats->events;
			snprintf(note, sizeof(note), "counts only, from /proc/pagetypeinfo of the machine that "
				 "ran the import, taken at import time (after the capture ended): not exact; "
				 "no pageblock types, free block addresses or pcp contents");
			free(s.note);
			s.note = strdup(note);
			err = trace_writer_snapshot(im->w, &s);
			trace_snapshot_release(&s);
		}
	}
	if (err)
		return imp_err(im, err, "'%s': write failed: %s", im->out, fragscope_strerror(err));
	return 0;
}

/* ---- trace-cmd trace.dat ------------------------------------------------------------------------ */
struct dat_kind {
	struct tep_event *ev;
	enum trace_event_kind kind;
	struct tep_format_field *f[NR_FIDS];
};

struct dat_ctx {
	struct importer *im;
	struct tep_handle *tep;
	struct dat_kind *kinds;		/* by event id, lazily */
	int nr_ids;
	int err;
};

static struct dat_kind *dat_kind_of(struct dat_ctx *c, int id)
{
	struct dat_kind *k;

	if (id < 0 || id >= 1 << 20)
		return NULL;
	if (id >= c->nr_ids) {
		int n = id + 64;
		struct dat_kind *p = realloc(c->kinds, (size_t)n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + c->nr_ids, 0, (size_t)(n - c->nr_ids) * sizeof(*p));
		c->kinds = p;
		c->nr_ids = n;
	}
	k = &c->kinds[id];
	if (!k->ev) {
		struct tep_event *ev = tep_find_event(c->tep, id);

		if (!ev)
			return NULL;
		k->ev = ev;
		k->kind = TEV_NONE;
		if (!strcmp(ev->system, "kmem") || !strcmp(ev->system, "compaction"))
			k->kind = trace_event_kind_from_name(ev->name);
		for (struct tep_format_field *f = ev->format.fields; f; f = f->next) {
			enum fid fi = fid_of(f->name);

			if (fi != F_NONE && !k->f[fi])
				k->f[fi] = f;
		}
	}
	return k;
}

static int dat_record(struct tracecmd_input *handle, struct tep_record *rec, int cpu, void *data)
{
	struct dat_ctx *c = data;
	struct dat_kind *k;
	struct trace_event e;
	int fl;

	(void)handle;
	if (rec->missed_events)
		imp_lost(c->im, (uint32_t)cpu, rec->missed_events);
	k = dat_kind_of(c, tep_data_type(c->tep, rec));
	if (!k || k->kind == TEV_NONE) {
		c->im->stats->other_events++;
		return 0;
	}
	event_init(&e, k->kind);
	e.ts_ns = rec->ts;
	e.cpu = (uint32_t)cpu;
	e.pid = (uint32_t)tep_data_pid(c->tep, rec);
	fl = tep_data_flags(c->tep, rec);
	if (fl > 0 && (fl & (TRACE_FLAG_HARDIRQ | TRACE_FLAG_SOFTIRQ)))
		e.flags |= TEVF_IRQ;
	for (int i = 0; i < NR_FIDS; i++) {
		unsigned long long v;

		if (!k->f[i] || tep_read_number_field(k->f[i], rec->data, &v))
			continue;
		set_field(&e, (enum fid)i, field_value(k->f[i], v));
	}
	c->err = imp_event(c->im, &e);
	return c->err ? -1 : 0;
}

static int count_kmem(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	struct tep_event *ev = tep_find_event(tep, tep_data_type(tep, rec));

	(void)cpu;
	if (ev && !strcmp(ev->system, "kmem") && trace_event_kind_from_name(ev->name) != TEV_NONE)
		(*(uint64_t *)data)++;
	return 0;
}

/* Whether a buffer of the file holds kmem page events (a pass over it: libtracecmd's iteration
 * neither stops early nor rewinds, so callers probe on a handle of their own). */
static bool buffer_has_kmem(struct tracecmd_input *h)
{
	uint64_t n = 0;

	tracecmd_iterate_events(h, NULL, 0, count_kmem, &n);
	return n > 0;
}

/* The buffer to import: the top one, unless it holds no kmem page event and a buffer instance
 * (trace-cmd record -B NAME) does; then the first such instance. *inst is NULL for the top. */
static void pick_buffer(struct importer *im, struct tracecmd_input *h, struct tracecmd_input **inst,
			const char **name)
{
	int n = tracecmd_buffer_instances(h);
	struct tracecmd_input *p;

	*inst = NULL;
	*name = NULL;
	if (n <= 0)
		return;
	p = tracecmd_open(im->in, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!p)
		return;
	if (!buffer_has_kmem(p)) {
		for (int i = 0; i < n && !*inst; i++) {
			struct tracecmd_input *ip = tracecmd_buffer_instance_handle(p, i);
			bool has = ip && buffer_has_kmem(ip);

			tracecmd_close(ip);
			if (has) {
				*inst = tracecmd_buffer_instance_handle(h, i);
				*name = tracecmd_buffer_instance_name(h, i);
			}
		}
	}
	tracecmd_close(p);
}

static int import_tracecmd(struct importer *im)
{
	struct tracecmd_input *h, *inst, *use;
	struct dat_ctx c = { .im = im };
	struct tep_event *alloc_ev;
	const char *inst_name;
	int err;

	tracecmd_set_loglevel(TEP_LOG_CRITICAL);
	h = tracecmd_open(im->in, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h)
		return imp_err(im, FS_ERRNO__CORRUPT, "'%s': libtracecmd cannot read this trace.dat", im->in);
	pick_buffer(im, h, &inst, &inst_name);
	use = inst ? inst : h;
	c.tep = tracecmd_get_tep(use);
	{
		const char *clock = tracecmd_get_trace_clock(use);

		snprintf(im->stats->clock, sizeof(im->stats->clock), "%s", clock ? clock : "");
		err = snap_check_capture(im, tracecmd_get_uname(h), clock);
	}
	alloc_ev = tep_find_event_by_name(c.tep, "kmem", "mm_page_alloc");
	if (!err)
		err = imp_header(im, "import-trace-cmd", alloc_ev, tep_get_cpus(c.tep));
	if (!err && inst_name)
		err = trace_header_set(&im->hdr, "import.buffer", inst_name);
	if (!err && tep_get_page_size(c.tep) > 0 && im->hdr.page_size != (uint32_t)tep_get_page_size(c.tep))
		pr_warn("'%s': page size %d differs from this machine's %u", im->in, tep_get_page_size(c.tep),
			im->hdr.page_size);
	if (!err)
		err = imp_open_writer(im);
	if (!err) {
		tracecmd_iterate_events(use, NULL, 0, dat_record, &c);
		err = c.err;
	}
	if (!err)
		err = imp_finish(im);
	free(c.kinds);
	if (inst)
		tracecmd_close(inst);
	tracecmd_close(h);
	return err;
}

/* ---- tracefs text --------------------------------------------------------------------------- */
enum conv_type { CV_IGNORE, CV_INT, CV_HEX, CV_FLAGS };

struct piece {
	char *lit;			/* literal text before the conversion */
	enum conv_type type;
	enum fid fid;
	bool has_sentinel;		/* printed `shown` means the field is `value` */
	uint64_t sentinel_shown, sentinel_value;
	char *flags_else;		/* __print_flags in `f ? __print_flags(..) : "none"`: "none" = 0 */
	struct tep_print_arg *flags;	/* TEP_PRINT_FLAGS arg */
};

struct text_kind {
	char name[64];
	enum trace_event_kind kind;
	bool loaded, usable, warned;
	char why[160];			/* why not usable */
	struct piece *pieces;
	int nr_pieces;
	char *tail;			/* literal after the last conversion */
};

struct text_ctx {
	struct importer *im;
	struct tep_handle *tep;
	struct text_kind *kinds;
	int nr_kinds;
};

static bool parse_num(const char *s, uint64_t *v)
{
	char *end;

	if (!s)
		return false;
	errno = 0;
	if (*s == '-')
		*v = (uint64_t)strtoll(s, &end, 0);
	else
		*v = strtoull(s, &end, 0);
	while (*end == 'U' || *end == 'L' || *end == 'u' || *end == 'l')
		end++;
	return !errno && end != s && !*end;
}

static struct tep_print_arg *strip_casts(struct tep_print_arg *a)
{
	while (a && a->type == TEP_PRINT_TYPE)
		a = a->typecast.item;
	return a;
}

static const char *field_of(struct tep_print_arg *a)
{
	a = strip_casts(a);
	return a && a->type == TEP_PRINT_FIELD ? a->field.name : NULL;
}

/* Evaluates a constant print argument (atoms, casts, unary and binary arithmetic). */
static bool eval_const(struct tep_print_arg *a, uint64_t *v, int depth)
{
	uint64_t l = 0, r;
	const char *op;
	bool unary;

	a = strip_casts(a);
	if (!a || depth > 32)
		return false;
	if (a->type == TEP_PRINT_ATOM)
		return parse_num(a->atom.atom, v);
	if (a->type != TEP_PRINT_OP || !a->op.op)
		return false;
	op = a->op.op;
	unary = !a->op.left || a->op.left->type == TEP_PRINT_NULL;
	if (!eval_const(a->op.right, &r, depth + 1))
		return false;
	if (!unary && !eval_const(a->op.left, &l, depth + 1))
		return false;
	if (!strcmp(op, "-"))
		*v = unary ? (uint64_t)-(int64_t)r : l - r;
	else if (!strcmp(op, "~") && unary)
		*v = ~r;
	else if (unary)
		return false;
	else if (!strcmp(op, "+"))
		*v = l + r;
	else if (!strcmp(op, "*"))
		*v = l * r;
	else if (!strcmp(op, "|"))
		*v = l | r;
	else if (!strcmp(op, "&"))
		*v = l & r;
	else if (!strcmp(op, "<<"))
		*v = r < 64 ? l << r : 0;
	else if (!strcmp(op, ">>"))
		*v = r < 64 ? l >> r : 0;
	else
		return false;
	return true;
}

/* Classifies the print argument of one conversion. */
static void classify(struct piece *p, struct tep_print_arg *a)
{
	const char *fname;

	a = strip_casts(a);
	p->fid = F_NONE;
	if (!a)
		return;
	if ((fname = field_of(a))) {
		p->fid = fid_of(fname);
		return;
	}
	if (a->type == TEP_PRINT_FLAGS) {
		if ((fname = field_of(a->flags.field))) {
			p->fid = fid_of(fname);
			p->type = CV_FLAGS;
			p->flags = a;
		}
		return;
	}
	if (a->type == TEP_PRINT_OP && a->op.op && !strcmp(a->op.op, "?")) {
		struct tep_print_arg *cond = strip_casts(a->op.left), *alt = strip_casts(a->op.right);
		struct tep_print_arg *t, *f;

		if (!alt || alt->type != TEP_PRINT_OP || !alt->op.op || strcmp(alt->op.op, ":"))
			return;
		t = strip_casts(alt->op.left);
		f = strip_casts(alt->op.right);
		if (t && t->type == TEP_PRINT_FLAGS && (fname = field_of(t->flags.field))) {
			p->fid = fid_of(fname);
			p->type = CV_FLAGS;
			p->flags = t;
			if (f && (f->type == TEP_PRINT_ATOM || f->type == TEP_PRINT_STRING))
				p->flags_else = strdup(f->type == TEP_PRINT_ATOM ? f->atom.atom : f->string.string);
			return;
		}
		if ((fname = field_of(t))) {
			uint64_t shown, k;

			p->fid = fid_of(fname);
			/* cond is `field != K`, the false branch a constant C: printed C means K */
			if (eval_const(f, &shown, 0) && cond &&
			    cond->type == TEP_PRINT_OP && cond->op.op && !strcmp(cond->op.op, "!=") &&
			    field_of(cond->op.left) && !strcmp(field_of(cond->op.left), fname) &&
			    eval_const(cond->op.right, &k, 0)) {
				p->has_sentinel = true;
				p->sentinel_shown = shown;
				p->sentinel_value = k;
			}
		}
	}
}

static void text_kind_release(struct text_kind *k)
{
	for (int i = 0; i < k->nr_pieces; i++) {
		free(k->pieces[i].lit);
		free(k->pieces[i].flags_else);
	}
	free(k->pieces);
	free(k->tail);
}

/* Splits the print format into literal + conversion pieces, paired with the arguments. */
static int build_pieces(struct text_kind *k, struct tep_event *ev)
{
	const char *s = ev->print_fmt.format;
	struct tep_print_arg *arg = ev->print_fmt.args;
	char lit[1024];
	size_t ll = 0;
	int cap = 0;

	if (!s)
		return -EINVAL;
	while (*s) {
		struct piece *p;
		char conv;

		if (*s != '%') {
			if (ll + 1 < sizeof(lit))
				lit[ll++] = *s;
			s++;
			continue;
		}
		if (s[1] == '%') {
			if (ll + 1 < sizeof(lit))
				lit[ll++] = '%';
			s += 2;
			continue;
		}
		s++;
		while (*s && strchr("-+ #0", *s))
			s++;
		while (*s && (isdigit((unsigned char)*s) || *s == '.' || *s == '*')) {
			if (*s == '*' && arg)
				arg = arg->next;	/* a width argument */
			s++;
		}
		while (*s && strchr("hlLqjzt", *s))
			s++;
		conv = *s;
		if (!conv)
			break;
		s++;
		if (k->nr_pieces == cap) {
			int ncap = cap ? cap * 2 : 8;
			struct piece *np = realloc(k->pieces, (size_t)ncap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			k->pieces = np;
			cap = ncap;
		}
		p = &k->pieces[k->nr_pieces++];
		memset(p, 0, sizeof(*p));
		lit[ll] = '\0';
		p->lit = strdup(lit);
		ll = 0;
		p->type = strchr("xX", conv) ? CV_HEX : strchr("diuc", conv) ? CV_INT : CV_IGNORE;
		classify(p, arg);
		if (p->type == CV_IGNORE && p->flags == NULL)
			p->fid = F_NONE;	/* %p, %s of something that is not a flag table */
		if (arg)
			arg = arg->next;
	}
	lit[ll] = '\0';
	k->tail = strdup(lit);
	return 0;
}

/* The format file of event name: --formats DIR in its usual layouts, else the running kernel. */
static char *find_format(const struct importer *im, const char *sys, const char *name, size_t *len,
			 char *where, size_t wlen)
{
	const char *dir = im->opts->formats_dir;
	char p[4096];
	char *txt;

	if (dir) {
		snprintf(p, sizeof(p), "%s/events/%s/%s/format", dir, sys, name);
		if ((txt = trace_read_text_file(p, len)))
			goto found;
		snprintf(p, sizeof(p), "%s/%s/%s/format", dir, sys, name);
		if ((txt = trace_read_text_file(p, len)))
			goto found;
		snprintf(p, sizeof(p), "%s/%s/format", dir, name);
		if ((txt = trace_read_text_file(p, len)))
			goto found;
		snprintf(p, sizeof(p), "%s/%s.format", dir, name);
		if ((txt = trace_read_text_file(p, len)))
			goto found;
		return NULL;
	} else {
		const char *tfs = trace_tracefs_dir();

		if (!tfs)
			return NULL;
		snprintf(p, sizeof(p), "%s/events/%s/%s/format", tfs, sys, name);
		if ((txt = trace_read_text_file(p, len)))
			goto found;
		return NULL;
	}
found:
	snprintf(where, wlen, "%s", p);
	return txt;
}

static struct text_kind *text_kind_of(struct text_ctx *c, const char *name)
{
	struct text_kind *k;
	struct tep_event *ev = NULL;
	char where[4096];
	const char *sys;
	size_t len;
	char *txt;
	enum trace_event_kind kind;

	for (int i = 0; i < c->nr_kinds; i++)
		if (!strcmp(c->kinds[i].name, name))
			return &c->kinds[i];
	if (strlen(name) >= sizeof(k->name) || c->nr_kinds >= 256)
		return NULL;
	kind = trace_event_kind_from_name(name);
	k = realloc(c->kinds, (size_t)(c->nr_kinds + 1) * sizeof(*k));
	if (!k)
		return NULL;
	c->kinds = k;
	k = &c->kinds[c->nr_kinds++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->kind = kind;
	k->loaded = true;
	if (kind == TEV_NONE)
		return k;
	sys = !strncmp(name, "mm_compaction", 13) ? "compaction" : "kmem";
	txt = find_format(c->im, sys, name, &len, where, sizeof(where));
	if (!txt) {
		snprintf(k->why, sizeof(k->why), "no format file for '%s:%s' (%s)", sys, name,
			 c->im->opts->formats_dir ? "not in --formats DIR" : "tracefs unreadable");
		return k;
	}
	if (tep_parse_format(c->tep, &ev, txt, len, sys) != 0 || !ev) {
		snprintf(k->why, sizeof(k->why), "'%.100s': format not understood", where);
		free(txt);
		return k;
	}
	if (build_pieces(k, ev)) {
		free(txt);
		return k;
	}
	k->usable = true;
	{
		char key[128];

		snprintf(key, sizeof(key), "tracepoint.%s.format", name);
		trace_header_set(&c->im->hdr, key, txt);
	}
	free(txt);
	return k;
}

/* Decodes a __print_flags token ("GFP_KERNEL|__GFP_COMP|0x4") with the format's own table. */
static bool decode_flags(const struct piece *p, const char *tok, uint64_t *out)
{
	const char *delim = p->flags->flags.delim && *p->flags->flags.delim ? p->flags->flags.delim : "|";
	size_t dl = strlen(delim);
	uint64_t v = 0;

	if (p->flags_else && !strcmp(tok, p->flags_else)) {
		*out = 0;
		return true;
	}
	while (*tok) {
		const char *end = strstr(tok, delim);
		size_t n = end ? (size_t)(end - tok) : strlen(tok);
		bool found = false;

		for (struct tep_print_flag_sym *f = p->flags->flags.flags; f; f = f->next) {
			uint64_t m;

			if (f->str && strlen(f->str) == n && !strncmp(f->str, tok, n) && parse_num(f->value, &m)) {
				v |= m;
				found = true;
				break;
			}
		}
		if (!found) {
			char num[32];
			uint64_t m;

			if (n == 0 || n >= sizeof(num))
				return false;
			memcpy(num, tok, n);
			num[n] = '\0';
			if (!parse_num(num, &m))
				return false;
			v |= m;
		}
		tok += n;
		if (end)
			tok += dl;
	}
	*out = v;
	return true;
}

/* Matches the payload after "event: " against the pieces. */
static bool parse_payload(const struct text_kind *k, const char *s, struct trace_event *e)
{
	for (int i = 0; i < k->nr_pieces; i++) {
		const struct piece *p = &k->pieces[i];
		const char *next_lit = i + 1 < k->nr_pieces ? k->pieces[i + 1].lit : k->tail;
		size_t ll = strlen(p->lit);
		const char *end;
		char tok[512];
		size_t n;
		uint64_t v;

		if (strncmp(s, p->lit, ll))
			return false;
		s += ll;
		if (*next_lit) {
			end = strstr(s, next_lit);
			if (!end)
				return false;
		} else {
			end = s + strlen(s);
			while (end > s && isspace((unsigned char)end[-1]))
				end--;
		}
		n = (size_t)(end - s);
		if (n >= sizeof(tok))
			return false;
		memcpy(tok, s, n);
		tok[n] = '\0';
		s = end;
		if (p->fid == F_NONE)
			continue;
		switch (p->type) {
		case CV_FLAGS:
			if (!decode_flags(p, tok, &v))
				return false;
			break;
		case CV_HEX: {
			char *x;

			errno = 0;
			v = strtoull(tok, &x, 16);
			if (errno || x == tok || *x)
				return false;
			break;
		}
		case CV_INT:
			if (!parse_num(tok, &v))
				return false;
			break;
		default:
			continue;
		}
		if (p->has_sentinel && v == p->sentinel_shown)
			v = p->sentinel_value;
		set_field(e, p->fid, v);
	}
	return true;
}

static void bad_line(struct importer *im, uint64_t lineno, const char *why)
{
	im->stats->bad_lines++;
	if (!im->stats->first_bad[0])
		snprintf(im->stats->first_bad, sizeof(im->stats->first_bad), "'%s': line %llu: %s", im->in,
			 (unsigned long long)lineno, why);
}

/* The start of the pid in "comm-PID [", "comm-PID (TGID) [" or "comm-PID (-----) [", where br
 * points at the '['; NULL if the text before br is not like that. */
static char *pid_start(char *line, char *br)
{
	char *b = br;

	while (b > line && b[-1] == ' ')
		b--;
	if (b > line && b[-1] == ')') {
		b--;
		while (b > line && b[-1] != '(' && (isdigit((unsigned char)b[-1]) || b[-1] == '-' || b[-1] == ' '))
			b--;
		if (b == line || b[-1] != '(')
			return NULL;
		b--;
		while (b > line && b[-1] == ' ')
			b--;
	}
	if (b == line || !isdigit((unsigned char)b[-1]))
		return NULL;
	while (b > line && isdigit((unsigned char)b[-1]))
		b--;
	if (b == line || b[-1] != '-')
		return NULL;
	return b;
}

/* "  comm-123  [001] d..1.  4242.123456: mm_page_alloc: page=..." */
static int text_line(struct text_ctx *c, char *line, uint64_t lineno)
{
	char *p = line, *br = NULL, *pidp = NULL, *q, *name, *colon;
	unsigned long cpu, pid;
	uint64_t sec, frac = 0;
	int fdig = 0;
	bool irq = false;
	struct text_kind *k;
	struct trace_event e;
	long long lost;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#' || *p == '\n')
		return 0;
	if (sscanf(p, "CPU:%lu [LOST %lld EVENTS]", &cpu, &lost) == 2) {
		imp_lost(c->im, (uint32_t)cpu, lost);
		return 0;
	}
	/* the CPU field: "[ddd]" after "comm-pid", blanks and, with record-tgid, "(tgid)" */
	for (q = p; (q = strchr(q, '[')); q++) {
		char *r = q + 1;

		while (isdigit((unsigned char)*r))
			r++;
		if (r == q + 1 || *r != ']')
			continue;
		if ((pidp = pid_start(p, q))) {
			br = q;
			break;
		}
	}
	if (!br) {
		bad_line(c->im, lineno, "no 'comm-pid [CPU]' fields");
		return 0;
	}
	q = pidp;
	pid = strtoul(q, NULL, 10);
	cpu = strtoul(br + 1, &q, 10);
	q++;	/* ']' */
	/* optional irq-info flags, then the timestamp "sec.frac:" */
	for (int tokn = 0; tokn < 2; tokn++) {
		char *t, *end;

		while (*q == ' ')
			q++;
		t = q;
		while (*q && *q != ' ')
			q++;
		end = q;
		if (end > t && end[-1] == ':' && isdigit((unsigned char)*t)) {
			char *d;

			sec = strtoull(t, &d, 10);
			if (*d == '.') {
				d++;
				while (isdigit((unsigned char)*d)) {
					if (fdig < 9) {
						frac = frac * 10 + (uint64_t)(*d - '0');
						fdig++;
					}
					d++;
				}
			}
			if (*d != ':') {
				bad_line(c->im, lineno, "bad timestamp");
				return 0;
			}
			while (fdig < 9) {
				frac *= 10;
				fdig++;
			}
			goto have_ts;
		}
		if (tokn == 0 && end - t >= 3 && strchr("hHsSz", t[2]) && t[2] != '.')
			irq = true;	/* irq-info: the third flag is h (hardirq), s (softirq), H (both) */
	}
	bad_line(c->im, lineno, "no timestamp");
	return 0;
have_ts:
	while (*q == ' ')
		q++;
	name = q;
	colon = strchr(q, ':');
	if (!colon) {
		bad_line(c->im, lineno, "no event name");
		return 0;
	}
	*colon = '\0';
	q = colon + 1;
	if (*q == ' ')
		q++;
	k = text_kind_of(c, name);
	if (!k || k->kind == TEV_NONE || !k->usable) {
		if (k && k->kind != TEV_NONE && !k->warned) {
			pr_warn("%s: '%s' events are skipped", k->why, k->name);
			k->warned = true;
		}
		c->im->stats->other_events++;
		return 0;
	}
	event_init(&e, k->kind);
	e.ts_ns = sec * 1000000000ull + frac;
	e.cpu = (uint32_t)cpu;
	e.pid = (uint32_t)pid;
	if (irq)
		e.flags |= TEVF_IRQ;
	if (!parse_payload(k, q, &e)) {
		bad_line(c->im, lineno, "event fields do not match the event's print format");
		return 0;
	}
	return imp_event(c->im, &e);
}

static int import_text(struct importer *im)
{
	struct text_ctx c = { .im = im };
	struct text_kind *ak;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int err = 0;

	f = strcmp(im->in, "-") ? fopen(im->in, "r") : stdin;
	if (!f)
		return imp_err(im, -errno, "cannot open '%s': %s", im->in, strerror(errno));
	c.tep = tep_alloc();
	if (!c.tep) {
		fclose(f);
		return imp_err(im, -ENOMEM, "%s", strerror(ENOMEM));
	}
	/* load the formats first: the header records them, and the gfp names come from
	 * mm_page_alloc's */
	for (int kind = 1; kind <= TEV_KIND_MAX; kind++) {
		const char *kn = trace_event_kind_name((enum trace_event_kind)kind);

		if (kn && kind != TEV_MARKER)
			text_kind_of(&c, kn);
	}
	ak = text_kind_of(&c, "mm_page_alloc");
	if (im->opts->formats_dir) {
		struct stat sb;

		if (stat(im->opts->formats_dir, &sb) != 0)
			err = imp_err(im, -errno, "--formats '%s': %s", im->opts->formats_dir, strerror(errno));
		else if (!S_ISDIR(sb.st_mode))
			err = imp_err(im, -ENOTDIR, "--formats '%s': %s", im->opts->formats_dir, strerror(ENOTDIR));
	}
	if (!err) {
		bool any = false;

		for (int i = 0; i < c.nr_kinds; i++)
			any |= c.kinds[i].usable;
		if (!any)	/* then not one event line could be decoded */
			err = imp_err(im, FS_ERRNO__BAD_FORMAT_FILE, "'%s': no usable kmem tracepoint format: %s",
				      im->in, ak && ak->why[0] ? ak->why : "none found");
	}
	if (!err)
		err = imp_header(im, "import-tracefs-text",
			 ak && ak->usable ? tep_find_event_by_name(c.tep, "kmem", "mm_page_alloc") : NULL, 0);
	if (!err)
		err = imp_open_writer(im);
	while (!err && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		err = text_line(&c, line, lineno);
	}
	if (!err && ferror(f))
		err = imp_err(im, -EIO, "cannot read '%s'", im->in);
	/* lines, and not one of them an event line: this is not a tracefs text capture */
	if (!err && im->stats->bad_lines && !im->stats->events && !im->stats->other_events)
		err = imp_err(im, -EINVAL, "%s (and no line of it is a tracefs event line: not a text capture)",
			      im->stats->first_bad);
	if (!err)
		err = imp_finish(im);
	free(line);
	if (f != stdin)
		fclose(f);
	for (int i = 0; i < c.nr_kinds; i++)
		text_kind_release(&c.kinds[i]);
	free(c.kinds);
	tep_free(c.tep);
	return err;
}

/* ---- entry ------------------------------------------------------------------------------------ */
enum trace_import_kind trace_import_detect(const char *path)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	unsigned char buf[sizeof(magic)];
	int fd;
	ssize_t n;

	if (!strcmp(path, "-"))
		return TRACE_IMPORT_TEXT;	/* standard input: text (e.g. piped from trace_pipe) */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TRACE_IMPORT_UNKNOWN;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return TRACE_IMPORT_UNKNOWN;
	if (n == (ssize_t)sizeof(magic) && !memcmp(buf, magic, sizeof(magic)))
		return TRACE_IMPORT_TRACECMD;
	return TRACE_IMPORT_TEXT;
}

int trace_import(const char *in, const char *out, const struct trace_import_opts *opts,
		 struct trace_import_stats *stats, char *errbuf, size_t errlen)
{
	struct trace_import_opts o = { 0 };
	struct trace_import_stats dummy;
	struct importer im = { 0 };
	int err, cerr;

	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	im.opts = &o;
	im.in = in;
	im.out = out;
	im.stats = stats;
	im.errbuf = errbuf;
	im.errlen = errlen;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (o.kind == TRACE_IMPORT_UNKNOWN)
		o.kind = trace_import_detect(in);
	if (!strcmp(in, "-") && o.kind != TRACE_IMPORT_TEXT)
		return imp_err(&im, -EINVAL, "standard input can only be text");
	stats->kind = o.kind;
	if ((o.start_snapshot || o.end_snapshot) && o.kind != TRACE_IMPORT_TRACECMD) {
		err = imp_err(&im, -EINVAL, "'%s': snapshot files can only be placed in a trace-cmd trace.dat "
			      "(recorded with 'trace-cmd record -C mono')", in);
		goto out;
	}
	err = snap_load_all(&im);
	if (err)
		goto out;
	switch (o.kind) {
	case TRACE_IMPORT_TRACECMD:
		err = import_tracecmd(&im);
		break;
	case TRACE_IMPORT_TEXT:
		err = import_text(&im);
		break;
	default:
		err = imp_err(&im, access(in, R_OK) ? -errno : -EINVAL, "cannot open '%s': %s", in,
			      strerror(access(in, R_OK) ? errno : EINVAL));
		break;
	}
	cerr = trace_writer_close(im.w);
	if (!err && cerr)
		err = imp_err(&im, cerr, "'%s': cannot finish writing: %s", out, fragscope_strerror(cerr));
	if (err && im.w) {
		struct stat sb;

		if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode))
			unlink(out);	/* never -o /dev/null itself */
	}
out:
	trace_header_release(&im.hdr);
	free(im.lost_cpu);
	for (int i = 0; i < TRACE_SNAP_MAX; i++)
		trace_reader_close(im.snap[i].r);
	return err;
}
