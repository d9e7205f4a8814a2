/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay engine: follow and simulate modes over the allocator model, fidelity scoring,
 * resync accounting, end-state comparison, samples for stat and checkpoints for the timeline.
 */
#ifndef FRAGSCOPE_REPLAY_ENGINE_H
#define FRAGSCOPE_REPLAY_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "replay/replay.h"
#include "traces/trace.h"

struct jsonw;
struct buddy_model;

#define REPLAY_WINDOW 2048	/* lookahead events: feed this many past stop_at for an exact state */

enum replay_mode { REPLAY_FOLLOW = 0, REPLAY_SIMULATE = 1 };

/* Why the model's state could not explain an event (each one is repaired: "resync"). */
enum replay_cause {
	RC_SNAPSHOT_PCP = 0,	/* a page on a pcp list at snapshot time that the snapshot did not list */
	RC_UNTRACED_FREE,	/* the kernel took a block the model holds allocated: memory freed with no
				 * event (lazy memory init growing the zone, page reporting putback,
				 * isolation undo) or a snapshot race */
	RC_BULK_ALLOC,		/* a page the model holds on a pcp list was freed: it left the pcp through
				 * the silent bulk allocator (alloc_pages_bulk) */
	RC_CAPTURE,		/* mm_page_alloc of a block the model holds free, with no take: compaction
				 * capture */
	RC_COMPACTION,		/* free of a block the model holds free, or a block taken silently by the
				 * compaction free scanner (mm_compaction_isolate_freepages) */
	RC_SPLIT,		/* the kernel took a block the model holds inside a larger free block, or
				 * split differently */
	RC_LIST,		/* the kernel took the block from another free list than the model has */
	RC_PCP,			/* a page taken from the buddy or drained that the model holds elsewhere */
	RC_ALLOCATED,		/* allocation or take of a page the model holds allocated in the trace */
	RC_FALLBACK,		/* an extfrag the model could not apply */
	RC_OUTSIDE,		/* an event for a pfn in no zone of the model (zone grew, hotplug) */
	RC_PCP_SILENT,		/* pages ahead of an allocated one on its pcp list left it silently
				 * (bulk allocator, lost events) */
	RC_LOST,		/* the explaining event is missing and the trace lost events */
	RC_SNAPSHOT_RACE,	/* during the unlocked start snapshot's walk */
	RC_PCP_BYPASS,		/* a traced free that bypassed the pcp (trylock failure) */
	RC_PCP_NESTED,		/* a free whose pcp insertion came after an interrupt's frees, which
				 * were traced after it (replay/RESYNCS.md) */
	RC_FREE_MISSING,	/* a page allocated again with no free between in a trace that counts
				 * no loss: the capture lacks its mm_page_free (replay/RESYNCS.md) */
	RC_LIST_ORDER,		/* the kernel took a block the model holds deeper in the same free
				 * list: the blocks ahead went to the list's tail (replay/RESYNCS.md) */
	RC_NR
};
const char *replay_cause_name(enum replay_cause c);
const char *replay_cause_help(enum replay_cause c);

enum replay_path { RP_NONE = 0, RP_NORMAL, RP_HIGHATOMIC, RP_CLAIM, RP_STEAL, RP_NR };
const char *replay_path_name(enum replay_path p);

struct replay_setting {		/* --set NAME=VALUE */
	const char *name;
	long value;
};

struct replay_opts {
	size_t sz;
	const char *profile;		/* NULL: from the trace's kernel release */
	enum replay_mode mode;
	bool check;			/* run the invariant checker (every check_every events and at the end) */
	uint64_t check_every;		/* 0 = only at the end */
	unsigned max_log;		/* resyncs/disagreements kept for --verbose (0 = none) */
	uint64_t sample_every;		/* stat samples every N events (0 = none) */
	uint64_t checkpoint_every;	/* timeline checkpoints every N events (0 = none) */
	unsigned nr_settings;
	const struct replay_setting *settings;
	uint64_t stop_at;		/* stop applying at this seq (0 = never); for seeks */
	bool trace_has_losses;		/* the trace lost events (explains some resyncs) */
	bool log_skip_race;		/* keep snapshot races out of the log (diff) */
};

struct replay_log_entry {
	uint64_t seq, ts_ns;
	uint64_t pfn;
	int order;
	int cause;			/* enum replay_cause, or -1 for a disagreement */
	char msg[200];
};

struct replay_result {
	char profile[64];
	enum replay_mode mode;
	uint64_t events;		/* events applied (after the start snapshot) */
	uint64_t skipped_before_snapshot;
	/* follow */
	uint64_t takes, placement_agree, decision_agree;
	uint64_t takes_in_start_walk;	/* followed, not scored: inside the unlocked start walk, which
					 * defines the model's state only at its end */
	uint64_t paths[RP_NR][RP_NR];	/* [kernel][model] */
	uint64_t pcp_allocs, pcp_agree;	/* pcp head takes: model's list head = the kernel's page */
	uint64_t resyncs[RC_NR];
	uint64_t pcp_other_cpu;		/* pcp pages found on another CPU's list (preemption, drains) */
	uint64_t pcp_reordered;		/* pcp takes whose event came after later frees on the CPU */
	uint64_t zone_growth_frees;	/* frees into memory absent at the start snapshot (lazy init) */
	uint64_t refill_irq_frees;	/* frees traced inside a pcp refill: an interrupt's, sent to the
					 * buddy (the pcp lock was held; replay/RESYNCS.md) */
	uint64_t batched_late;		/* mm_page_free_batched whose mm_page_free had left the lookahead */
	uint64_t alloc_failures;
	/* simulate */
	uint64_t sim_allocs, sim_failed, sim_frees, sim_unmatched_frees, sim_same_pfn;
	uint64_t kernel_extfrag, model_extfrag;
	double extfrag_rel_error;	/* sum |model-kernel| / sum kernel over (alloc, fb, own) cells */
	double pageblock_rel_error;	/* sum |model-kernel| / total blocks, end state */
	/* end state */
	bool have_end;
	uint64_t pb_compared, pb_equal;
	uint64_t fc_compared, fc_equal;		/* (zone, order, mt) cells with any free block */
	uint64_t fc_abs_diff;			/* sum of |model - kernel| blocks */
	uint64_t fc_all_compared, fc_all_equal;	/* the same over every block, racing ones too */
	uint64_t fb_compared, fb_equal;		/* kernel free blocks the model holds alike */
	uint64_t fc_masked_regions;		/* max-order regions left out (touched during an unlocked walk) */
	uint64_t pcp_free_in_kernel;		/* model pcp (or silently dropped) pages free in the kernel's buddy */
	int invariant_err;			/* 0 or the first buddy_check() error */
	char invariant_msg[256];
	uint64_t invariant_seq;
};

struct replay;

/* One scored take, as diff sees it. */
struct replay_take_record {
	uint64_t seq, ts_ns;
	uint32_t cpu;
	int zone;			/* model zone */
	unsigned order;
	int start_mt;			/* requested type (kernel number), -1 unknown */
	/* the kernel */
	enum replay_path k_path;
	uint64_t k_pfn;
	int k_fb_mt;			/* kernel number, -1 none */
	unsigned k_fb_order;
	int k_own;
	/* the model's prediction */
	bool m_ok;
	enum replay_path m_path;
	uint64_t m_pfn;
	int m_fb_mt;
	unsigned m_fb_order;
	int m_own;
	bool placement_agree, decision_agree;
};

/* Builds the model from the header and the start snapshot. NULL with *err and errbuf set. */
struct replay *replay_new(const struct trace_header *h, const struct trace_snapshot *start,
			  const struct replay_opts *o, int *err, char *errbuf, size_t errlen);
void replay_free(struct replay *r);
/* Feeds events in stream order. 0 or a negative error (an internal failure, not a
 * divergence: divergences are results). */
int replay_feed(struct replay *r, const struct trace_event *ev);
/* Applies what is still buffered; compares with the end snapshot (may be NULL); runs the
 * final invariant check with --check. */
int replay_finish(struct replay *r, const struct trace_snapshot *end);
const struct replay_result *replay_get_result(const struct replay *r);
struct buddy_model *replay_model(struct replay *r);
/* Stat samples: called every sample_every events with the model's state. */
void replay_set_sample_cb(struct replay *r, int (*cb)(void *ctx, const struct replay_sample *s), void *ctx);
/* Called for every scored take (diff); in simulate mode for every simulated allocation too
 * (k_path RP_NONE, k_pfn the kernel's page; m_* the model's page and its first fallback, path
 * RP_CLAIM/RP_STEAL, RP_NORMAL when none, RP_NONE when the model failed). */
void replay_set_take_cb(struct replay *r, void (*cb)(void *ctx, const struct replay_take_record *t), void *ctx);
/* Timeline checkpoints: called every checkpoint_every events, at the first point where no take
 * run, 6.1 fallback or batched free is pending; next_seq is the first event not applied. */
void replay_set_checkpoint_cb(struct replay *r, int (*cb)(void *ctx, uint64_t next_seq), void *ctx);
/* The model's state as a snapshot (pageblocks, free blocks in list order, pcp pages), placed
 * at event_seq; it seeds replay_new() exactly (free lists, pcp lists, pageblock types). */
int replay_snapshot_model(struct replay *r, uint64_t event_seq, struct trace_snapshot *out);
/* What seeding from a snapshot does not restore: per-CPU bookkeeping (recent pcp frees, ...)
 * and the pfns the trace touched; an opaque blob (malloc'd) for the timeline's checkpoints.
 * The owner types of allocated pages (mixed-pageblock statistics) are not in it. */
int replay_save_aux(const struct replay *r, void **buf, size_t *len);
int replay_restore_aux(struct replay *r, const void *buf, size_t len);
/* One sample of the current state (e.g. at the end). */
int replay_sample_now(struct replay *r);

void replay_print_result(const struct replay *r, FILE *f, bool verbose);
void replay_json_result(const struct replay *r, struct jsonw *w, bool verbose);
/* The log of resyncs and disagreements kept with max_log. */
const struct replay_log_entry *replay_log(const struct replay *r, unsigned *nr);

#endif
