/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Built-in memory workloads that make the page allocator fragment: `fragscope workload NAME`,
 * and the tests, benchmarks, lab and demo that drive them.
 *
 * Deterministic in what they request: every size, count and the order of the steps derive
 * from the options (budget, seed, pipe pressure), which workload_plan() resolves once before
 * anything is allocated; the result echoes the resolved plan so a run can be repeated with the
 * same explicit options. Time only bounds a run (--duration), it never shapes it. The one
 * exception is automatic pipe pressure (no --pipes, root): it keeps filling pipes while the
 * unmovable pageblocks still have free space (other processes free into them all the time),
 * and reports how much it used, which --pipes then repeats exactly. Everything
 * a workload creates (files, a private tmpfs, mappings, pipes, children) is released before
 * workload_run() returns, also when it stops early on workload_request_stop() (SIGINT/SIGTERM
 * handlers call it) or on its deadline.
 *
 * Library code: only libc (the lab links it statically into a busybox initramfs); it never
 * ends the process (children leave with _exit).
 */
#ifndef FRAGSCOPE_WORKLOAD_H
#define FRAGSCOPE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw;

enum workload_kind {
	WORKLOAD_FRAGMENT,	/* page cache + anon fill, holes, then unmovable pipe pressure */
	WORKLOAD_THP,		/* MADV_HUGEPAGE anon mixed with base pages, freed in a pattern */
	WORKLOAD_FORKS,		/* fork storm: page tables and kernel stacks are unmovable */
	WORKLOAD_MIXED,		/* all of the above in one run */
	WORKLOAD__COUNT,
};

/* Defaults and hard caps, documented in `fragscope help workload` and the README. */
#define WORKLOAD_DEFAULT_MEM_PCT	75	/* of MemAvailable ... */
#define WORKLOAD_DEFAULT_MEM_CAP	(2ULL << 30)	/* ... but at most 2 GiB */
#define WORKLOAD_MIN_MEM		(4ULL << 20)
#define WORKLOAD_MAX_MEM_PCT		90	/* --mem + pipes beyond this share is refused */
#define WORKLOAD_AUTO_PIPE_CAP_PCT	25	/* automatic pipe pressure never exceeds this */
#define WORKLOAD_PIPE_MARGIN		(64ULL << 20)	/* beyond the unmovable free space */
#define WORKLOAD_PIPE_LOW		(16ULL << 20)	/* "used up": less free than this */
#define WORKLOAD_CHUNK			(64U << 10)	/* file size and anon chunk */
#define WORKLOAD_PIPE_SIZE		(1U << 20)	/* F_SETPIPE_SZ target */
#define WORKLOAD_DEFAULT_DURATION	60.0
#define WORKLOAD_DEFAULT_SEED		1

struct workload_opts {
	size_t sz;		/* sizeof(struct workload_opts), as libbpf's *_opts */
	uint64_t mem;		/* budget in bytes; 0 = default from MemAvailable */
	uint64_t pipes;		/* pipe-buffer bytes (unmovable pressure); 0 = automatic */
	uint64_t seed;
	double duration;	/* upper bound in seconds; 0 = WORKLOAD_DEFAULT_DURATION */
	double hold;		/* seconds to hold the final state before cleaning up */
	const char *dir;	/* parent folder for page-cache files; NULL = private tmpfs */
	unsigned forks;		/* children for `forks`/`mixed`; 0 = derived from mem */
	bool progress;		/* pr_info a line per phase */
	bool enable_thp;	/* THP "never" -> "madvise" for the run (root), restored after */
};

/* What a run will request, resolved from the options and the machine before it starts. */
struct workload_plan {
	enum workload_kind kind;
	uint64_t seed;
	double duration;
	double hold;
	uint64_t mem;			/* the budget */
	bool mem_default;		/* budget derived from MemAvailable */
	uint64_t mem_available;		/* MemAvailable at start, bytes */
	int64_t unmovable_free;		/* free bytes in unmovable pageblocks; -1 = unknown */
	uint64_t file_bytes;		/* page cache to write, in WORKLOAD_CHUNK files */
	uint64_t anon_bytes;		/* anonymous memory, in WORKLOAD_CHUNK chunks */
	uint64_t thp_bytes;		/* MADV_HUGEPAGE memory (thp, mixed) */
	uint64_t pipe_bytes;		/* pipe buffers to fill (first round when automatic) */
	uint64_t pipe_cap;		/* automatic: never more than this */
	bool pipes_auto;		/* closed loop on the unmovable free space */
	unsigned forks;			/* children to fork */
	unsigned fork_batch;		/* children alive at once */
	uint64_t fork_touch;		/* bytes each child touches (sparsely: page tables) */
};

struct workload_phase {
	const char *name;
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC (= trace_clock mono) */
};

#define WORKLOAD_MAX_PHASES 12

struct workload_result {
	struct workload_plan plan;
	char dir[256];			/* where files went */
	bool private_tmpfs;		/* a tmpfs this run mounted (and unmounted) */
	uint64_t files, file_bytes, files_unlinked;
	uint64_t anon_bytes, anon_chunks_freed;
	uint64_t thp_touched;		/* bytes touched by the THP phase (huge and base extents) */
	uint64_t thp_bytes;		/* AnonHugePages of this process at its peak */
	uint64_t thp_extents_freed;
	char thp_mode[16];		/* transparent_hugepage/enabled: always, madvise, never */
	bool thp_switched;		/* --enable-thp switched it from never for the run */
	uint64_t pipes, pipe_bytes;
	unsigned pipe_rounds;		/* automatic pressure: fill rounds */
	bool pipe_overshoot;		/* automatic pressure: one more round as no block was claimed */
	int64_t unmovable_free_end;	/* free bytes in unmovable blocks with the pipes full; -1 */
	uint64_t forks;
	uint64_t sequence;		/* FNV-1a of the order of the steps taken (seed-driven) */
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	int pid;			/* the process that filled (children have their own) */
	int nr_phases;
	struct workload_phase phases[WORKLOAD_MAX_PHASES];
	bool timed_out;			/* stopped by --duration */
	bool interrupted;		/* stopped by workload_request_stop() */
	int stop_signal;		/* the signal given to workload_request_stop(), or 0 */
	bool cleaned_up;		/* every resource released */
	char note[160];			/* a limit met on the way (fd limit, ENOSPC ...), or "" */
};

/* "fragment", "thp", "forks", "mixed"; -1 if unknown. */
int workload_kind_from_name(const char *name);
const char *workload_kind_name(enum workload_kind kind);

/*
 * Resolves opts into a plan (reads /proc/meminfo and, when readable, /proc/pagetypeinfo).
 * Returns 0, -EINVAL for an impossible request (budget above WORKLOAD_MAX_MEM_PCT of
 * MemAvailable, below WORKLOAD_MIN_MEM), or -errno when /proc/meminfo cannot be read.
 * On -EINVAL, err (if not NULL) holds a one-line reason.
 */
int workload_plan(enum workload_kind kind, const struct workload_opts *opts,
		  struct workload_plan *plan, char *err, size_t errlen);

/* The same from given figures: MemAvailable and the unmovable free space (-1: unknown). */
int workload_plan_for(enum workload_kind kind, const struct workload_opts *opts,
		      uint64_t mem_available, int64_t unmovable_free,
		      struct workload_plan *plan, char *err, size_t errlen);

/* Runs a plan. Returns 0 (also when stopped early: see res->timed_out/interrupted) or -errno. */
int workload_run(const struct workload_plan *plan, const struct workload_opts *opts,
		 struct workload_result *res);

/* Async-signal-safe: asks a running workload to stop, clean up and return. */
void workload_request_stop(int signo);
/* Clears a previous stop request (before a new run). */
void workload_reset_stop(void);

/* Writes res as one JSON object. */
void workload_result_json(const struct workload_result *res, struct jsonw *w);

/* Parses "64M", "1.5G", "4096" (bytes; K/M/G/T are powers of 1024). 0 or -EINVAL. */
int workload_parse_size(const char *s, uint64_t *out);

/* Free bytes in unmovable pageblocks, summed over zones, from a pagetypeinfo text. */
int64_t workload_pagetypeinfo_unmovable_free(const char *text);
/* Number of unmovable pageblocks, summed over zones, from a pagetypeinfo text; -1 if absent. */
int64_t workload_pagetypeinfo_unmovable_blocks(const char *text);

#endif
