/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the workload/ files (and visible to tests). */
#ifndef FRAGSCOPE_WORKLOAD_LOCAL_H
#define FRAGSCOPE_WORKLOAD_LOCAL_H

#include <sys/types.h>

#include "workload/workload.h"

/* splitmix64: the one PRNG of the workloads, seeded by --seed. */
struct wl_rng {
	uint64_t s;
};

static inline uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias of the modulo is irrelevant here). */
static inline uint64_t wl_rng_below(struct wl_rng *r, uint64_t n)
{
	return wl_rng_next(r) % n;
}

/* Folds one step (what, index) into res->sequence (FNV-1a, 64 bit). */
static inline void wl_seq(uint64_t *h, char what, uint64_t index)
{
	uint8_t b[9];

	b[0] = (uint8_t)what;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(index >> (8 * i));
	for (int i = 0; i < 9; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

struct wl_mapping {
	void *addr;
	size_t len;
};

/* Everything a run holds; wl_cleanup() releases it all and is idempotent. */
struct wl_ctx {
	const struct workload_plan *plan;
	const struct workload_opts *opts;
	struct workload_result *res;
	struct wl_rng rng;
	uint64_t deadline_ns;
	unsigned checks;

	/* page-cache files: DIR/fNNNNNNN for index < nr_files, bit set if still present */
	char dir[256];
	char mountpoint[256];		/* non-empty when we mounted a tmpfs there */
	bool dir_created;
	uint64_t nr_files;
	uint8_t *file_present;		/* bitmap, nr_files_cap bits */
	uint64_t nr_files_cap;
	int dirfd;

	char *anon;			/* the fill's anonymous mapping */
	uint64_t anon_chunks;		/* chunks touched */

	struct wl_mapping *maps;
	size_t nr_maps, maps_cap;

	int *pipe_fds;			/* read ends; the write end is closed once filled */
	size_t nr_pipes, pipes_cap;
	bool nofile_raised;
	unsigned long long nofile_saved_cur;

	pid_t *children;
	size_t nr_children, children_cap;

	char *buf;			/* WORKLOAD_CHUNK bytes of seeded content */
	char thp_restore[16];		/* THP mode to put back, when --enable-thp changed it */
};

uint64_t wl_now_ns(void);
/* True when the run must stop (signal or deadline); sets res->timed_out/interrupted. */
bool wl_should_stop(struct wl_ctx *c);
void wl_phase_begin(struct wl_ctx *c, const char *name);
void wl_phase_end(struct wl_ctx *c);
void wl_note(struct wl_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Building blocks; each returns 0 or -errno and records what it did in c->res. */
int wl_setup_dir(struct wl_ctx *c);
int wl_fill(struct wl_ctx *c, uint64_t file_bytes, uint64_t anon_bytes);
int wl_holes(struct wl_ctx *c);
int wl_pipes(struct wl_ctx *c, uint64_t bytes, uint64_t cap, bool adaptive);
int wl_forks(struct wl_ctx *c, unsigned n, unsigned batch, uint64_t touch);
int wl_thp(struct wl_ctx *c, uint64_t thp_bytes, uint64_t base_bytes);
int wl_hold(struct wl_ctx *c, double seconds);
void wl_cleanup(struct wl_ctx *c);

/* Reads a whole small /proc file into a malloc'd NUL-terminated buffer. */
int wl_read_file(const char *path, char **out);
/* Free bytes in unmovable pageblocks now (/proc/pagetypeinfo, root); -1 if unreadable. */
int64_t wl_unmovable_free_now(void);
/* Unmovable pageblocks now (/proc/pagetypeinfo, root); -1 if unreadable. */
int64_t wl_unmovable_blocks_now(void);
/* MemAvailable in bytes from a /proc/meminfo text; -1 if absent. */
int64_t wl_meminfo_available(const char *text);

#endif
