/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Importers: trace-cmd trace.dat files (through libtracecmd + libtraceevent) and the text of
 * tracefs `trace` / `trace_pipe` (field layout and print format taken from the tracepoints'
 * format files, parsed by libtraceevent; nothing hard-coded). Both write a .fst file.
 */
#ifndef FRAGSCOPE_TRACES_IMPORT_H
#define FRAGSCOPE_TRACES_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

enum trace_import_kind {
	TRACE_IMPORT_UNKNOWN = 0,
	TRACE_IMPORT_TRACECMD = 1,	/* trace-cmd trace.dat */
	TRACE_IMPORT_TEXT = 2,		/* tracefs trace / trace_pipe text */
};

struct trace_import_opts {
	size_t sz;				/* sizeof(struct trace_import_opts) */
	enum trace_import_kind kind;		/* UNKNOWN = detect from the file */
	const char *formats_dir;		/* text: where the format files are; NULL = running kernel */
	bool snapshot_proc;			/* add a counts-only snapshot from this machine's /proc */
	struct trace_writer_opts wopts;		/* .sz 0 = defaults */
	/* trace.dat only: fragscope files (`record --snapshot-only`) taken on the traced machine
	 * while the capture ran; the header comes from them and their snapshot is placed in the
	 * event stream by its CLOCK_MONOTONIC time (the capture must use trace clock mono). */
	const char *start_snapshot;
	const char *end_snapshot;
};

struct trace_import_stats {
	enum trace_import_kind kind;
	uint64_t events;			/* events written */
	uint64_t other_events;			/* records of tracepoints we do not import */
	uint64_t bad_lines;			/* text lines that did not parse (comments excluded) */
	uint64_t lost;				/* events the capture says it dropped */
	uint64_t lost_unknown;			/* drop reports without a count */
	uint64_t per_kind[TEV_KIND_MAX + 1];
	char first_bad[256];			/* first line that did not parse, or "" */
	struct {				/* [TRACE_SNAP_START], [TRACE_SNAP_END] from the options */
		bool placed;
		uint64_t event_seq;		/* first imported event after the snapshot's cut */
		uint64_t events_during;		/* imported events inside its walk */
		uint64_t witness_events;	/* events of the snapshotting process in the capture */
	} snap[TRACE_SNAP_MAX];
	char clock[32];				/* the capture's trace clock, "" if unknown */
};

/* TRACE_IMPORT_TRACECMD if the file starts with trace.dat's magic, else TEXT (or UNKNOWN if it
 * cannot be read). */
enum trace_import_kind trace_import_detect(const char *path);

/* Imports in ("-" = text on standard input) into out. 0, or an error with errbuf holding a one-line message. */
int trace_import(const char *in, const char *out, const struct trace_import_opts *opts,
		 struct trace_import_stats *stats, char *errbuf, size_t errlen);

#endif
