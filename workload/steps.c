// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workloads' building blocks: a private tmpfs, page-cache and anonymous fill, holes,
 * pipe pressure, a fork storm, THP, and the cleanup that undoes all of it.
 *
 * Kernel facts they rely on (6.1, 6.12, 6.18):
 * - tmpfs/page-cache and anonymous user pages are allocated movable (GFP_HIGHUSER_MOVABLE);
 * - pipe buffer pages are allocated GFP_HIGHUSER | __GFP_ACCOUNT, without __GFP_MOVABLE, so
 *   they are unmovable: once the free space of the unmovable pageblocks is used up, they fall
 *   back to other types' pageblocks (mm_page_alloc_extfrag);
 * - page tables and kernel stacks of forked children are unmovable too;
 * - a touched MADV_HUGEPAGE extent of 2 MiB asks for an order-9 (pageblock-sized) folio.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "workload/workload-local.h"

#define HPAGE (2UL << 20)

static int track_map(struct wl_ctx *c, void *addr, size_t len)
{
	if (c->nr_maps == c->maps_cap) {
		size_t cap = c->maps_cap ? c->maps_cap * 2 : 8;
		struct wl_mapping *m = realloc(c->maps, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		c->maps = m;
		c->maps_cap = cap;
	}
	c->maps[c->nr_maps].addr = addr;
	c->maps[c->nr_maps].len = len;
	c->nr_maps++;
	return 0;
}

static void *map_anon(struct wl_ctx *c, size_t len, int advice)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (track_map(c, p, len)) {
		munmap(p, len);
		errno = ENOMEM;
		return NULL;
	}
	/* Children of the fork phases must not copy these page tables (bounded fork cost). */
	madvise(p, len, MADV_DONTFORK);
	if (advice >= 0 && madvise(p, len, advice) && advice == MADV_HUGEPAGE)
		wl_note(c, "madvise(MADV_HUGEPAGE): %s: no THP on this kernel", strerror(errno));
	return p;
}

/* ---- where the files go ------------------------------------------------------------------- */

static bool make_dir_in(char *out, size_t outlen, const char *base)
{
	snprintf(out, outlen, "%s%sfragscope-wl.XXXXXX", base,
		 base[strlen(base) - 1] == '/' ? "" : "/");
	return mkdtemp(out) != NULL;
}

/*
 * As root: a tmpfs of our own, mounted in a private mount namespace when possible so it goes
 * away even if we are killed. huge=never keeps the page cache at order 0.
 */
static int mount_private_tmpfs(struct wl_ctx *c)
{
	char opts[96];
	unsigned long long kb = (c->plan->file_bytes + (16 << 20)) >> 10;

	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	snprintf(opts, sizeof(opts), "size=%lluk,mode=0700,huge=never", kb);
	if (mount("fragscope-workload", c->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)) {
		snprintf(opts, sizeof(opts), "size=%lluk,mode=0700", kb);
		if (mount("fragscope-workload", c->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  opts))
			return -errno;
	}
	snprintf(c->mountpoint, sizeof(c->mountpoint), "%s", c->dir);
	c->res->private_tmpfs = true;
	return 0;
}

int wl_setup_dir(struct wl_ctx *c)
{
	static const char *const root_bases[] = { "/tmp", "/dev/shm", "/run", "/" };
	static const char *const user_bases[] = { "/dev/shm", "/tmp" };
	const char *const *bases = root_bases;
	size_t nr = sizeof(root_bases) / sizeof(root_bases[0]);
	bool root = geteuid() == 0;
	bool ok = false;

	if (c->opts->dir) {
		if (!make_dir_in(c->dir, sizeof(c->dir), c->opts->dir)) {
			int e = errno;

			pr_err("cannot create a folder in '%s': %s", c->opts->dir, strerror(e));
			return -e;
		}
		ok = true;
	} else {
		if (!root) {
			bases = user_bases;
			nr = sizeof(user_bases) / sizeof(user_bases[0]);
		}
		for (size_t i = 0; i < nr && !ok; i++)
			ok = make_dir_in(c->dir, sizeof(c->dir), bases[i]);
		if (!ok) {
			int e = errno;

			pr_err("cannot create a folder for page-cache files in /tmp or /dev/shm: %s",
			       strerror(e));
			return -e;
		}
	}
	c->dir_created = true;
	snprintf(c->res->dir, sizeof(c->res->dir), "%s", c->dir);
	if (!c->opts->dir && root) {
		int ret = mount_private_tmpfs(c);

		if (ret)
			pr_info("cannot mount a tmpfs on '%s' (%s): using the folder as it is", c->dir,
				strerror(-ret));
	}
	c->dirfd = open(c->dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (c->dirfd < 0) {
		int e = errno;

		pr_err("cannot open '%s': %s", c->dir, strerror(e));
		return -e;
	}
	return 0;
}

/* ---- fill and holes ----------------------------------------------------------------------- */

static void file_name(char *out, size_t len, uint64_t i)
{
	snprintf(out, len, "f%07llu", (unsigned long long)i);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One WORKLOAD_CHUNK file; 1 if the filesystem is full, 0, or -errno. */
static int write_file(struct wl_ctx *c, uint64_t i)
{
	char name[32];
	int fd, ret;

	file_name(name, sizeof(name), i);
	fd = openat(c->dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ENOSPC ? 1 : -errno;
	c->file_present[i / 8] |= (uint8_t)(1u << (i % 8));
	c->nr_files = i + 1;
	ret = write_all(fd, c->buf, WORKLOAD_CHUNK);
	close(fd);
	if (ret == -ENOSPC || ret == -EFBIG)
		return 1;
	if (ret)
		return ret;
	c->res->files++;
	c->res->file_bytes += WORKLOAD_CHUNK;
	return 0;
}

/*
 * Writes file_bytes of page cache in WORKLOAD_CHUNK files and touches anon_bytes of anonymous
 * memory in WORKLOAD_CHUNK chunks, interleaved in an order drawn from the seed (each step picks
 * a file or a chunk with a probability proportional to what remains of each).
 */
int wl_fill(struct wl_ctx *c, uint64_t file_bytes, uint64_t anon_bytes)
{
	uint64_t nf = file_bytes / WORKLOAD_CHUNK, na = anon_bytes / WORKLOAD_CHUNK;
	uint64_t fi = 0, ai = 0;
	int ret = 0;

	wl_phase_begin(c, "fill");
	if (nf) {
		c->nr_files_cap = nf;
		c->file_present = calloc((nf + 7) / 8, 1);
		if (!c->file_present)
			return -ENOMEM;
	}
	if (na) {
		c->anon = map_anon(c, anon_bytes, MADV_NOHUGEPAGE);
		if (!c->anon) {
			ret = -errno;
			pr_err("cannot map %llu MiB of anonymous memory: %s",
			       (unsigned long long)(anon_bytes >> 20), strerror(-ret));
			return ret;
		}
	}
	while (fi < nf || ai < na) {
		if (wl_should_stop(c))
			break;
		if (wl_rng_below(&c->rng, (nf - fi) + (na - ai)) < nf - fi) {
			wl_seq(&c->res->sequence, 'f', fi);
			ret = write_file(c, fi++);
			if (ret > 0) {
				wl_note(c, "'%s' is full after %llu files", c->dir,
					(unsigned long long)c->res->files);
				nf = fi;	/* no more files; carry on with anon */
				ret = 0;
			} else if (ret) {
				pr_err("cannot write a file in '%s': %s", c->dir, strerror(-ret));
				break;
			}
		} else {
			wl_seq(&c->res->sequence, 'a', ai);
			memcpy(c->anon + ai * WORKLOAD_CHUNK, c->buf, WORKLOAD_CHUNK);
			ai++;
			c->anon_chunks = ai;
			c->res->anon_bytes += WORKLOAD_CHUNK;
		}
	}
	wl_phase_end(c);
	return ret;
}

/* Frees every other file (odd indices) and every other anonymous chunk. */
int wl_holes(struct wl_ctx *c)
{
	char name[32];

	wl_phase_begin(c, "holes");
	for (uint64_t i = 1; i < c->nr_files; i += 2) {
		if ((i & 255) == 1 && wl_should_stop(c))
			break;
		if (!(c->file_present[i / 8] & (1u << (i % 8))))
			continue;
		file_name(name, sizeof(name), i);
		if (unlinkat(c->dirfd, name, 0) == 0 || errno == ENOENT) {
			c->file_present[i / 8] &= (uint8_t)~(1u << (i % 8));
			c->res->files_unlinked++;
		}
	}
	for (uint64_t i = 1; i < c->anon_chunks; i += 2) {
		if ((i & 255) == 1 && wl_should_stop(c))
			break;
		if (madvise(c->anon + i * WORKLOAD_CHUNK, WORKLOAD_CHUNK, MADV_DONTNEED) == 0)
			c->res->anon_chunks_freed++;
	}
	wl_phase_end(c);
	return 0;
}

/* ---- unmovable pressure: pipes -------------------------------------------------------------- */

static void raise_nofile(struct wl_ctx *c)
{
	struct rlimit rl;

	if (c->nofile_raised || getrlimit(RLIMIT_NOFILE, &rl))
		return;
	c->nofile_saved_cur = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			c->nofile_raised = true;
	}
}

/* Fills pipes until `bytes` of pipe buffers are held; false when a limit or a stop ended it. */
static bool fill_pipes_to(struct wl_ctx *c, uint64_t bytes, bool *size_noted)
{
	while (c->res->pipe_bytes < bytes) {
		int fds[2];
		int sz;
		uint64_t want, held = 0;

		if (wl_should_stop(c))
			return false;
		if (c->nr_pipes == c->pipes_cap) {
			size_t cap = c->pipes_cap ? c->pipes_cap * 2 : 256;
			int *p = realloc(c->pipe_fds, cap * sizeof(*p));

			if (!p) {
				wl_note(c, "out of memory after %zu pipes", c->nr_pipes);
				return false;
			}
			c->pipe_fds = p;
			c->pipes_cap = cap;
		}
		if (pipe2(fds, O_NONBLOCK | O_CLOEXEC)) {
			wl_note(c, "stopped at %zu pipes (%llu MiB): %s", c->nr_pipes,
				(unsigned long long)(c->res->pipe_bytes >> 20), strerror(errno));
			return false;
		}
		sz = fcntl(fds[1], F_SETPIPE_SZ, (int)WORKLOAD_PIPE_SIZE);
		if (sz < 0) {
			sz = fcntl(fds[1], F_GETPIPE_SZ);
			if (!*size_noted)
				wl_note(c, "F_SETPIPE_SZ %u: %s: pipes hold %d bytes",
					WORKLOAD_PIPE_SIZE, strerror(errno), sz);
			*size_noted = true;
		}
		want = bytes - c->res->pipe_bytes;
		if (sz > 0 && want > (uint64_t)sz)
			want = (uint64_t)sz;
		while (held < want) {
			size_t n = want - held > WORKLOAD_CHUNK ? WORKLOAD_CHUNK : (size_t)(want - held);
			ssize_t w = write(fds[1], c->buf, n);

			if (w < 0) {
				if (errno == EINTR && !wl_should_stop(c))
					continue;
				break;	/* EAGAIN: full */
			}
			held += (uint64_t)w;
		}
		close(fds[1]);
		c->pipe_fds[c->nr_pipes++] = fds[0];
		c->res->pipes++;
		c->res->pipe_bytes += held;
		if (!held) {
			wl_note(c, "a pipe took no data after %llu MiB",
				(unsigned long long)(c->res->pipe_bytes >> 20));
			return false;
		}
	}
	return true;
}

/*
 * Unmovable pressure: pipes of WORKLOAD_PIPE_SIZE (F_SETPIPE_SZ), written non-blocking; the
 * write end is closed once a pipe is full, the read end keeps the buffers until cleanup.
 *
 * The kernel takes unmovable pages from the free space of unmovable pageblocks first and
 * falls back to (steals from) movable ones only once that is used up. On a shared machine
 * that free space changes all the time (other processes free slab, page tables and pipes
 * into it; blocks claimed by earlier runs stay unmovable), so with `adaptive` the phase
 * re-reads it after each round and fills on, by what is still free plus
 * WORKLOAD_PIPE_MARGIN, until less than WORKLOAD_PIPE_LOW is free or `cap` is reached.
 * "Less than WORKLOAD_PIPE_LOW free" alone does not prove a steal: others may have freed into
 * the unmovable blocks while the pipes filled, so the pipes may have just fit. Unless the
 * number of unmovable pageblocks grew (the kernel claimed a block for them), one more round
 * fills what is still free plus WORKLOAD_PIPE_LOW.
 */
int wl_pipes(struct wl_ctx *c, uint64_t bytes, uint64_t cap, bool adaptive)
{
	bool size_noted = false;
	uint64_t target = bytes;
	int64_t blocks0 = adaptive ? wl_unmovable_blocks_now() : -1;

	wl_phase_begin(c, "pipes");
	raise_nofile(c);
	for (;;) {
		int64_t u;

		c->res->pipe_rounds++;
		if (!fill_pipes_to(c, target, &size_noted))
			break;
		u = wl_unmovable_free_now();
		c->res->unmovable_free_end = u;
		if (!adaptive || u < 0)
			break;
		if ((uint64_t)u < WORKLOAD_PIPE_LOW) {
			int64_t b = wl_unmovable_blocks_now();

			if (b < 0 || blocks0 < 0 || b > blocks0 || c->res->pipe_overshoot || target >= cap)
				break;
			c->res->pipe_overshoot = true;
			target += (uint64_t)u + WORKLOAD_PIPE_LOW;
			target = (target + WORKLOAD_PIPE_SIZE - 1) / WORKLOAD_PIPE_SIZE * WORKLOAD_PIPE_SIZE;
			if (target > cap)
				target = cap;
			continue;
		}
		if (target >= cap) {
			wl_note(c, "unmovable pageblocks still hold %llu MiB free with %llu MiB of pipes "
				"(the cap)", (unsigned long long)(u >> 20),
				(unsigned long long)(target >> 20));
			break;
		}
		target += (uint64_t)u + WORKLOAD_PIPE_MARGIN;
		target = (target + WORKLOAD_PIPE_SIZE - 1) / WORKLOAD_PIPE_SIZE * WORKLOAD_PIPE_SIZE;
		if (target > cap)
			target = cap;
	}
	wl_phase_end(c);
	return 0;
}

/* ---- fork storm ---------------------------------------------------------------------------- */

static void track_child(struct wl_ctx *c, pid_t pid)
{
	if (c->nr_children == c->children_cap) {
		size_t cap = c->children_cap ? c->children_cap * 2 : 64;
		pid_t *p = realloc(c->children, cap * sizeof(*p));

		if (!p) {
			/* cannot track it: make sure it does not outlive us */
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return;
		}
		c->children = p;
		c->children_cap = cap;
	}
	c->children[c->nr_children++] = pid;
}

static void reap_children(struct wl_ctx *c, bool kill_them)
{
	for (size_t i = 0; i < c->nr_children; i++) {
		if (kill_them)
			kill(c->children[i], SIGKILL);
		while (waitpid(c->children[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->nr_children = 0;
}

/* The child: touch one page every 2 MiB (a page-table page each), report, wait, _exit. */
static void child_main(int ready_w, int release_r, uint64_t touch)
{
	size_t pages = (size_t)(touch / 4096), span = pages * HPAGE;
	char *p;
	char b;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED) {
		madvise(p, span, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < pages; i++)
			p[i * HPAGE] = (char)i;
	}
	if (write(ready_w, "x", 1) < 0)
		_exit(1);
	while (read(release_r, &b, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/*
 * n children, `batch` alive at once: each maps and touches `touch` bytes sparsely, then waits
 * until the whole batch is up, so their page tables and stacks coexist.
 */
int wl_forks(struct wl_ctx *c, unsigned n, unsigned batch, uint64_t touch)
{
	unsigned done = 0;
	int ret = 0;

	wl_phase_begin(c, "forks");
	fflush(NULL);	/* children _exit: nothing buffered is written twice anyway */
	while (done < n && !wl_should_stop(c)) {
		unsigned b = n - done < batch ? n - done : batch, started = 0, ready = 0;
		int rd[2], rel[2];

		if (pipe2(rd, O_CLOEXEC))
			return -errno;
		if (pipe2(rel, O_CLOEXEC)) {
			ret = -errno;
			close(rd[0]);
			close(rd[1]);
			return ret;
		}
		for (; started < b; started++) {
			pid_t pid = fork();

			if (pid == 0) {
				close(rd[0]);
				close(rel[1]);
				child_main(rd[1], rel[0], touch);
			}
			if (pid < 0) {
				wl_note(c, "fork: %s after %llu children", strerror(errno),
					(unsigned long long)(c->res->forks + started));
				break;
			}
			track_child(c, pid);
		}
		close(rd[1]);
		close(rel[0]);
		while (ready < started) {
			struct pollfd pfd = { .fd = rd[0], .events = POLLIN };
			char buf[64];
			ssize_t r;

			if (wl_should_stop(c))
				break;
			if (poll(&pfd, 1, 100) <= 0)
				continue;
			r = read(rd[0], buf, sizeof(buf));
			if (r <= 0)
				break;	/* every child gone */
			ready += (unsigned)r;
		}
		close(rel[1]);	/* EOF: the batch exits */
		close(rd[0]);
		reap_children(c, false);
		c->res->forks += started;
		done += started;
		if (started < b)
			break;
	}
	wl_phase_end(c);
	return ret;
}

/* ---- THP ----------------------------------------------------------------------------------- */

static uint64_t anon_huge_bytes(void)
{
	char *text = NULL;
	const char *p;
	unsigned long long kb = 0;

	if (wl_read_file("/proc/self/smaps_rollup", &text))
		return 0;
	p = strstr(text, "AnonHugePages:");
	if (p)
		sscanf(p + strlen("AnonHugePages:"), "%llu", &kb);
	free(text);
	return kb << 10;
}

#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

/* The bracketed word of transparent_hugepage/enabled ("always", "madvise", "never"), or "". */
static void read_thp_mode(char *out, size_t len)
{
	char *text = NULL;
	const char *open, *close;

	out[0] = '\0';
	if (wl_read_file(THP_ENABLED, &text))
		return;
	open = strchr(text, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close && (size_t)(close - open - 1) < len)
		snprintf(out, len, "%.*s", (int)(close - open - 1), open + 1);
	free(text);
}

/*
 * Records the THP mode and notes when it is off. With opts->enable_thp a mode of "never" is
 * switched to "madvise" for the run (root; kernels switch THP off below 512 MiB of RAM, as in
 * the lab's small guests) and restored by wl_cleanup().
 */
static void thp_mode(struct wl_ctx *c)
{
	read_thp_mode(c->res->thp_mode, sizeof(c->res->thp_mode));
	if (!c->res->thp_mode[0]) {
		wl_note(c, "no " THP_ENABLED ": no THP on this kernel");
		return;
	}
	if (!strcmp(c->res->thp_mode, "never") && c->opts->enable_thp) {
		int ret = write_text(THP_ENABLED, "madvise");

		if (ret) {
			wl_note(c, "cannot switch THP on ('%s'): %s", THP_ENABLED, strerror(-ret));
		} else {
			snprintf(c->thp_restore, sizeof(c->thp_restore), "never");
			read_thp_mode(c->res->thp_mode, sizeof(c->res->thp_mode));
			c->res->thp_switched = true;
		}
	}
	if (!strcmp(c->res->thp_mode, "never"))
		wl_note(c, "THP is off (transparent_hugepage/enabled is 'never'; kernels turn it off "
			"below 512 MiB of RAM; --enable-thp switches it on for the run): no order-9 faults");
}

static void touch_extent(char *p, size_t len, char v)
{
	for (size_t off = 0; off < len; off += 4096)
		p[off] = v;
}

/*
 * thp_bytes of MADV_HUGEPAGE memory (order-9 requests) interleaved with base_bytes of base
 * pages, in 2 MiB extents in an order drawn from the seed; then frees every other huge extent,
 * the upper half of every fourth (splitting it into base pages) and every other base chunk;
 * then touches the freed huge extents again, asking for order-9 blocks in the holed memory.
 */
int wl_thp(struct wl_ctx *c, uint64_t thp_bytes, uint64_t base_bytes)
{
	uint64_t nt = thp_bytes / HPAGE, nb = base_bytes / HPAGE, ti = 0, bi = 0;
	char *thp = NULL, *base = NULL;
	uint64_t peak;

	if (!nt)
		return 0;
	thp_mode(c);
	wl_phase_begin(c, "thp-fill");
	thp = map_anon(c, (size_t)(thp_bytes + HPAGE), -1);
	if (!thp) {
		pr_err("cannot map %llu MiB of anonymous memory: %s",
		       (unsigned long long)((thp_bytes + HPAGE) >> 20), strerror(errno));
		return -ENOMEM;
	}
	thp = (char *)(((uintptr_t)thp + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	if (madvise(thp, (size_t)thp_bytes, MADV_HUGEPAGE))
		wl_note(c, "madvise(MADV_HUGEPAGE): %s: no THP on this kernel", strerror(errno));
	if (nb) {
		base = map_anon(c, (size_t)base_bytes, MADV_NOHUGEPAGE);
		if (!base) {
			pr_err("cannot map %llu MiB of anonymous memory: %s",
			       (unsigned long long)(base_bytes >> 20), strerror(errno));
			return -ENOMEM;
		}
	}
	while (ti < nt || bi < nb) {
		if (wl_should_stop(c))
			break;
		if (wl_rng_below(&c->rng, (nt - ti) + (nb - bi)) < nt - ti) {
			wl_seq(&c->res->sequence, 'h', ti);
			touch_extent(thp + ti * HPAGE, HPAGE, 1);
			ti++;
		} else {
			wl_seq(&c->res->sequence, 'b', bi);
			touch_extent(base + bi * HPAGE, HPAGE, 1);
			bi++;
		}
		c->res->thp_touched += HPAGE;
	}
	peak = anon_huge_bytes();
	wl_phase_end(c);

	wl_phase_begin(c, "thp-holes");
	for (uint64_t i = 0; i < ti && !wl_should_stop(c); i++) {
		if (i % 2 == 1) {
			if (!madvise(thp + i * HPAGE, HPAGE, MADV_DONTNEED))
				c->res->thp_extents_freed++;
		} else if (i % 4 == 2) {
			madvise(thp + i * HPAGE + HPAGE / 2, HPAGE / 2, MADV_DONTNEED);
		}
	}
	for (uint64_t off = WORKLOAD_CHUNK; off < bi * HPAGE && !c->res->timed_out;
	     off += 2 * WORKLOAD_CHUNK)
		if (!madvise(base + off, WORKLOAD_CHUNK, MADV_DONTNEED))
			c->res->anon_chunks_freed++;
	wl_phase_end(c);

	wl_phase_begin(c, "thp-refault");
	for (uint64_t i = 1; i < ti && !wl_should_stop(c); i += 2)
		touch_extent(thp + i * HPAGE, HPAGE, 2);
	{
		uint64_t now = anon_huge_bytes();

		c->res->thp_bytes = now > peak ? now : peak;
	}
	wl_phase_end(c);
	return 0;
}

int wl_hold(struct wl_ctx *c, double seconds)
{
	uint64_t end = wl_now_ns() + (uint64_t)(seconds * 1e9);

	wl_phase_begin(c, "hold");
	while (wl_now_ns() < end && !wl_should_stop(c)) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	wl_phase_end(c);
	return 0;
}

/* ---- cleanup ------------------------------------------------------------------------------- */

void wl_cleanup(struct wl_ctx *c)
{
	bool ok = true;
	char name[32];

	reap_children(c, true);
	free(c->children);
	c->children = NULL;
	c->children_cap = 0;

	for (size_t i = 0; i < c->nr_pipes; i++)
		close(c->pipe_fds[i]);
	c->nr_pipes = 0;
	free(c->pipe_fds);
	c->pipe_fds = NULL;
	c->pipes_cap = 0;
	if (c->nofile_raised) {
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl)) {
			rl.rlim_cur = c->nofile_saved_cur;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		c->nofile_raised = false;
	}

	for (size_t i = 0; i < c->nr_maps; i++)
		if (munmap(c->maps[i].addr, c->maps[i].len))
			ok = false;
	c->nr_maps = 0;
	free(c->maps);
	c->maps = NULL;
	c->maps_cap = 0;
	c->anon = NULL;

	/* Unlinking is needed even on our own tmpfs: a failed unmount must not leave data. */
	for (uint64_t i = 0; c->file_present && i < c->nr_files; i++) {
		if (!(c->file_present[i / 8] & (1u << (i % 8))))
			continue;
		file_name(name, sizeof(name), i);
		if (unlinkat(c->dirfd, name, 0) && errno != ENOENT)
			ok = false;
	}
	free(c->file_present);
	c->file_present = NULL;
	c->nr_files = 0;
	if (c->dirfd >= 0) {
		close(c->dirfd);
		c->dirfd = -1;
	}
	if (c->mountpoint[0]) {
		if (umount2(c->mountpoint, 0) && umount2(c->mountpoint, MNT_DETACH)) {
			pr_warn("cannot unmount '%s': %s", c->mountpoint, strerror(errno));
			ok = false;
		}
		c->mountpoint[0] = '\0';
	}
	if (c->dir_created) {
		if (rmdir(c->dir)) {
			pr_warn("cannot remove '%s': %s", c->dir, strerror(errno));
			ok = false;
		}
		c->dir_created = false;
	}
	if (c->thp_restore[0]) {
		int ret = write_text(THP_ENABLED, c->thp_restore);

		if (ret) {
			pr_warn("cannot restore '%s' to '%s': %s", THP_ENABLED, c->thp_restore,
				strerror(-ret));
			ok = false;
		}
		c->thp_restore[0] = '\0';
	}
	free(c->buf);
	c->buf = NULL;
	c->res->cleaned_up = ok;
}
