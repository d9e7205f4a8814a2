// SPDX-License-Identifier: GPL-2.0-only
/*
 * `fragscope record` on the real kernel (root; skipped otherwise), checked through the trace
 * reader: a fragmenting workload (pipe buffers are unmovable allocations, enough of them to
 * exhaust the unmovable free lists, plus anonymous memory) gives all six event kinds and
 * extfrag events, with no loss; the start snapshot agrees with /proc/pagetypeinfo; a recorder
 * killed with SIGKILL leaves a file that reads up to its last whole chunk.
 *
 * The workload is this binary run as `test-collector-record --workload MAX_MB`; memory stays
 * bounded (pipes up to MAX_MB: an eighth of RAM, at most 3 GiB; 64 MiB anonymous).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/collector.h"
#include "traces/trace.h"

static char self[4096], dir[4096];

/* Pageblocks of type Unmovable, all zones: it grows when the kernel claims a block of another
 * type for unmovable allocations (an mm_page_alloc_extfrag with change_ownership). */
static int64_t unmovable_blocks(void)
{
	struct pti p;
	int64_t n = 0;

	if (collector_pti_read(&p))
		return -1;
	for (uint32_t z = 0; z < p.nr_zones; z++)
		for (uint32_t t = 0; t < p.zones[z].nr_types; t++)
			if (!strcmp(p.zones[z].type_names[t], "Unmovable"))
				n += (int64_t)p.zones[z].nr_blocks[t];
	collector_pti_release(&p);
	return n;
}

#define WORKLOAD_STEP_MB 32

/*
 * The fragmenting workload: 1-MiB pipe buffers (unmovable pages) until the kernel has claimed
 * pageblocks of another type for them (the Unmovable block count of /proc/pagetypeinfo grows),
 * plus 64 MiB past that, at most max_mb; anonymous memory touched and dropped on the way. How
 * much it takes depends on the free unmovable memory left behind by earlier work (including
 * per-cpu lists), so it is measured rather than computed. Prints the MiB used on stdout.
 */
static int workload(int max_mb)
{
	struct rlimit rl;
	static char buf[1 << 20];
	size_t anon = 64u << 20;
	int64_t blocks0 = unmovable_blocks();
	int extra = -1, i;
	char *p;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	memset(buf, 'x', sizeof(buf));
	p = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < max_mb && extra != 0; i++) {
		int fd[2];

		if (pipe2(fd, O_NONBLOCK) != 0)
			break;
		fcntl(fd[1], F_SETPIPE_SZ, 1 << 20);
		if (write(fd[1], buf, sizeof(buf)) < 0 && errno != EAGAIN)
			break;
		if (p != MAP_FAILED && i % 50 == 0) {
			for (size_t o = 0; o < anon; o += 4096)
				p[o] = 1;
			madvise(p, anon, MADV_DONTNEED);
		}
		if (extra > 0)
			extra--;
		else if (extra < 0 && i % WORKLOAD_STEP_MB == 0 && blocks0 >= 0 && unmovable_blocks() > blocks0)
			extra = 64;
	}
	printf("%d\n", i);
	return 0;	/* exit frees the pipes: batched frees and drains */
}

static const char *fragscope(void)
{
	return getenv("FRAGSCOPE");
}

static bool can_record(void)
{
	return geteuid() == 0 && fragscope() && access(fragscope(), X_OK) == 0;
}

static int run_record(const char *out, const char *errpath, char **extra)
{
	char *argv[32];
	int n = 0, st;
	pid_t pid;

	argv[n++] = (char *)fragscope();
	argv[n++] = "record";
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	while (extra && *extra && n < 30)
		argv[n++] = *extra++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		if (!freopen(errpath, "w", stderr))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void dump(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "    %s", line);
	if (f)
		fclose(f);
}

static uint64_t count_extfrag(const char *path)
{
	struct trace_reader *r = trace_reader_open(path, NULL, NULL, 0);
	struct trace_event ev;
	uint64_t n = 0;

	if (!r)
		return 0;
	while (trace_reader_next(r, &ev) == 1)
		n += ev.kind == TEV_PAGE_ALLOC_EXTFRAG;
	trace_reader_close(r);
	return n;
}

static void test_record_fragmenting(void **state)
{
	char out[4200], err[4200];
	char cap[16];
	char *extra[] = { "--", self, "--workload", cap, NULL };
	struct sysinfo si;
	uint64_t kinds[TEV_KIND_MAX + 1] = {}, bad_zone = 0, n = 0, prev_seq = 0;
	struct trace_reader *r;
	const struct trace_header *h;
	const struct trace_snapshot *s;
	const struct trace_loss *l;
	struct trace_event ev;
	char ebuf[256];
	int rc, e;

	if (!can_record())
		skip();	/* needs root (CAP_BPF + CAP_PERFMON) and $FRAGSCOPE */
	snprintf(out, sizeof(out), "%s/frag.fst", dir);
	snprintf(err, sizeof(err), "%s/frag.err", dir);
	/* the pipes stop soon after the first claimed block; at most an eighth of RAM, 3 GiB */
	sysinfo(&si);
	snprintf(cap, sizeof(cap), "%llu",
		 (unsigned long long)((uint64_t)si.totalram * si.mem_unit / 8 >> 20 < 3072
					      ? (uint64_t)si.totalram * si.mem_unit / 8 >> 20 : 3072));
	/*
	 * The workload stops after the Unmovable block count grows, but on 6.12+ a block can also
	 * turn Unmovable silently (a free merging across pageblocks retypes its buddy), so a run
	 * can end before any steal: one more run then, as a user would.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = run_record(out, err, extra);
		if (rc != 0)
			dump(err);
		assert_int_equal(rc, 0);
		dump(err);	/* the summary, for the log: rates, losses, snapshot cross-check */
		if (count_extfrag(out) > 0)
			break;
		fprintf(stderr, "no extfrag event in run %d%s\n", attempt + 1, attempt ? "" : ": once more");
	}

	r = trace_reader_open(out, &e, ebuf, sizeof(ebuf));
	if (!r)
		fprintf(stderr, "%s\n", ebuf);
	assert_non_null(r);
	h = trace_reader_header(r);
	assert_true(h->nr_migratetypes >= 4);
	assert_true(trace_header_mt_value(h, "Movable") >= 0);
	assert_true(trace_header_mt_value(h, "Unmovable") >= 0);
	assert_true(h->nr_gfp_flags > 0);
	assert_true(h->nr_zones > 0);
	assert_true(h->pageblock_order > 0 && h->nr_orders > h->pageblock_order);
	assert_true(h->nr_pageblock_bits == 4 || h->nr_pageblock_bits == 8);

	while ((rc = trace_reader_next(r, &ev)) == 1) {
		assert_true(ev.kind <= TEV_KIND_MAX);
		if (n)
			assert_true(ev.seq == prev_seq + 1);
		prev_seq = ev.seq;
		n++;
		kinds[ev.kind]++;
		if (ev.kind >= TEV_PAGE_ALLOC && ev.kind <= TEV_PAGE_ALLOC_EXTFRAG && ev.pfn != TRACE_PFN_NONE) {
			/* the zone from page->flags must hold the pfn by the header's spans */
			if (ev.zone == TRACE_ZONE_UNKNOWN || trace_header_zone_of(h, ev.pfn) != ev.zone)
				bad_zone++;
		}
	}
	assert_int_equal(rc, 0);
	fprintf(stderr, "events %llu: alloc %llu zone_locked %llu free %llu batched %llu drain %llu extfrag %llu "
			"markers %llu, zone mismatches %llu\n",
		(unsigned long long)n, (unsigned long long)kinds[1], (unsigned long long)kinds[2],
		(unsigned long long)kinds[3], (unsigned long long)kinds[4], (unsigned long long)kinds[5],
		(unsigned long long)kinds[6], (unsigned long long)kinds[TEV_MARKER], (unsigned long long)bad_zone);
	for (int k = TEV_PAGE_ALLOC; k < TEV_PAGE_ALLOC_EXTFRAG; k++)
		assert_true(kinds[k] > 0);
	assert_true(kinds[TEV_PAGE_ALLOC_EXTFRAG] > 0);
	assert_int_equal(kinds[TEV_MARKER], 4);	/* begin and end of two snapshots */
	assert_int_equal(bad_zone, 0);

	l = trace_reader_loss(r);
	assert_non_null(l);
	fprintf(stderr, "loss: total %llu, recursion %llu, frees %llu, allocations %llu\n", (unsigned long long)l->total,
		(unsigned long long)l->recursion_misses, (unsigned long long)l->lost_per_kind[TEV_PAGE_FREE],
		(unsigned long long)l->lost_per_kind[TEV_PAGE_ALLOC]);
	/* no ring-buffer or recursion loss; frees the kernel did not deliver to the programs (the
	 * free-count check) are the kernel's doing and tested against ftrace in record-free-loss;
	 * frees and allocations of tasks invisible to tracing in record-hidden-tasks */
	{
		uint64_t ring = 0;

		for (uint32_t i = 0; i < l->nr_cpus; i++)
			ring += l->lost_per_cpu[i];
		assert_int_equal(ring, 0);
		assert_int_equal(l->recursion_misses, 0);
		assert_int_equal(l->total, l->lost_per_kind[TEV_PAGE_FREE] + l->lost_per_kind[TEV_PAGE_ALLOC]);
	}

	/* start snapshot: a BPF walk, lists in order, pcp, and consistent with pagetypeinfo */
	s = trace_reader_snapshot(r, TRACE_SNAP_START);
	assert_non_null(s);
	assert_int_equal(s->method, TRACE_SNAP_BPF_WALK);
	assert_true((s->flags & (TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
				 TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_PCP | TRACE_SNAPF_COUNTS)) ==
		    (TRACE_SNAPF_PAGEBLOCKS | TRACE_SNAPF_FREE_BLOCKS | TRACE_SNAPF_LIST_ORDER |
		     TRACE_SNAPF_FREE_LIST_MT | TRACE_SNAPF_PCP | TRACE_SNAPF_COUNTS));
	assert_true(s->nr_free_blocks > 0 && s->nr_pcp_pages > 0 && s->nr_counts > 0);
	assert_true(s->event_seq < n);
	fprintf(stderr, "start snapshot note: %s\n", s->note ? s->note : "(none)");
	{
		uint64_t free_diff = 0, free_total = 0, blk_diff = 0, blk_total = 0;

		for (uint32_t i = 0; i < s->nr_counts; i++) {
			const struct trace_zone_counts *zc = &s->counts[i];
			uint32_t nmt = zc->nr_migratetypes, nord = zc->nr_orders;
			uint64_t *walked = calloc((size_t)nmt * nord, sizeof(uint64_t));
			uint64_t *blocks = calloc(nmt, sizeof(uint64_t));

			assert_non_null(walked);
			assert_non_null(blocks);
			for (uint64_t b = 0; b < s->nr_free_blocks; b++) {
				const struct trace_free_block *fb = &s->free_blocks[b];

				if (fb->zone != zc->zone)
					continue;
				/* a free block lies in its zone and is aligned to its order */
				assert_int_equal(trace_header_zone_of(h, fb->pfn), fb->zone);
				assert_int_equal(fb->pfn & ((1ull << fb->order) - 1), 0);
				if (fb->order < nord && fb->mt >= 0 && (uint32_t)fb->mt < nmt)
					walked[fb->order * nmt + fb->mt]++;
			}
			for (uint32_t p = 0; p < s->nr_pageblock_zones; p++) {
				const struct trace_pageblocks *pb = &s->pageblocks[p];

				if (pb->zone != zc->zone)
					continue;
				for (uint64_t k = 0; k < pb->nr; k++) {
					uint8_t t = pb->types[k];
					int mt;

					if (t == TRACE_PB_NONE)
						continue;
					/* 6.16+: bit 4 is isolation; before: the type value includes it */
					mt = (h->nr_pageblock_bits == 8 && (t & 0x10)) ? trace_header_mt_value(h, "Isolate")
										      : (t & 7);
					if (mt >= 0 && (uint32_t)mt < nmt)
						blocks[mt]++;
				}
			}
			for (uint32_t k = 0; k < nmt * nord; k++) {
				uint64_t a = walked[k], b = zc->nr_free[k];

				free_diff += a > b ? a - b : b - a;
				free_total += b;
			}
			for (uint32_t k = 0; k < nmt; k++) {
				uint64_t a = blocks[k], b = zc->nr_blocks[k];

				blk_diff += a > b ? a - b : b - a;
				blk_total += b;
			}
			free(walked);
			free(blocks);
		}
		fprintf(stderr, "start snapshot vs pagetypeinfo: free blocks differ by %llu of %llu, "
				"pageblocks by %llu of %llu\n",
			(unsigned long long)free_diff, (unsigned long long)free_total, (unsigned long long)blk_diff,
			(unsigned long long)blk_total);
		/* the walk is unlocked and takes milliseconds (the workload starts only later, but
		 * other jobs share the machine): allow 5% churn in free lists; and 5% in pageblocks
		 * (this host's lazily initialised memory is counted by the memmap, not by
		 * pagetypeinfo: 217 blocks) */
		assert_true(free_diff * 20 <= free_total + 50);
		assert_true(blk_diff * 20 <= blk_total);
	}
	assert_non_null(trace_reader_snapshot(r, TRACE_SNAP_END));
	assert_false(trace_reader_status(r)->truncated);
	trace_reader_close(r);
	unlink(out);
}

static void test_record_killed(void **state)
{
	char out[4200], err[4200];
	struct trace_reader *r;
	struct trace_event ev;
	uint64_t n = 0;
	char ebuf[256];
	pid_t rec, wl;
	int e, rc;

	if (!can_record())
		skip();
	snprintf(out, sizeof(out), "%s/killed.fst", dir);
	snprintf(err, sizeof(err), "%s/killed.err", dir);
	rec = fork();
	if (rec == 0) {
		if (!freopen(err, "w", stderr))
			_exit(126);
		execl(fragscope(), fragscope(), "record", "-o", out, "-d", "60", (char *)NULL);
		_exit(127);
	}
	sleep(1);
	wl = fork();
	if (wl == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		_exit(workload(100));
	}
	waitpid(wl, NULL, 0);
	sleep(1);	/* at least one flush (every 0.5 s) after the workload */
	kill(rec, SIGKILL);
	waitpid(rec, NULL, 0);

	r = trace_reader_open(out, &e, ebuf, sizeof(ebuf));
	if (!r) {
		fprintf(stderr, "%s\n", ebuf);
		dump(err);
	}
	assert_non_null(r);
	assert_non_null(trace_reader_snapshot(r, TRACE_SNAP_START));
	while ((rc = trace_reader_next(r, &ev)) == 1)
		n++;
	fprintf(stderr, "killed recording: %llu events readable, truncated %d, %llu bytes after the last chunk\n",
		(unsigned long long)n, trace_reader_status(r)->truncated,
		(unsigned long long)trace_reader_status(r)->bytes_unreadable);
	assert_true(trace_reader_status(r)->truncated);
	assert_true(n > 10000);	/* the workload's events up to the last flush */
	trace_reader_close(r);
	unlink(out);
}

static void test_record_stacks(void **state)
{
	char out[4200], err[4200];
	char *extra[] = { "--stacks", "--", self, "--workload", "50", NULL };
	uint64_t with = 0, allocs = 0, resolved = 0;
	struct trace_reader *r;
	struct trace_event ev;
	int e;

	if (!can_record())
		skip();
	snprintf(out, sizeof(out), "%s/stacks.fst", dir);
	snprintf(err, sizeof(err), "%s/stacks.err", dir);
	assert_int_equal(run_record(out, err, extra), 0);
	r = trace_reader_open(out, &e, NULL, 0);
	assert_non_null(r);
	assert_string_equal(trace_header_get(trace_reader_header(r), "capture.stacks"), "1");
	while (trace_reader_next(r, &ev) == 1) {
		if (ev.kind == TEV_PAGE_ALLOC)
			allocs++;
		if (!ev.stack_id)
			continue;
		assert_true(ev.kind == TEV_PAGE_ALLOC || ev.kind == TEV_PAGE_ALLOC_EXTFRAG);
		with++;
		if (with % 1000 == 1) {
			const struct trace_stack *st = trace_reader_stack(r, ev.stack_id);

			assert_non_null(st);
			assert_true(st->nr > 0);
			/* the tracing machinery is cut off: the first frame is the allocator's */
			if (st->syms && st->syms[0]) {
				assert_true(strncmp(st->syms[0], "bpf_", 4) != 0);
				resolved++;
			}
		}
	}
	fprintf(stderr, "stacks: %llu of %llu allocations carry a stack, %llu sampled stacks symbolized\n",
		(unsigned long long)with, (unsigned long long)allocs, (unsigned long long)resolved);
	assert_true(with * 10 >= allocs * 9);	/* all but stack-map collisions */
	assert_true(resolved > 0);
	trace_reader_close(r);
	unlink(out);
}

/* Without VMCOREINFO (forced): calibrated memmap base, kpageflags snapshots, same pfns and zones */
static void test_record_no_vmcoreinfo(void **state)
{
	char out[4200], err[4200];
	char *extra[] = { "--", self, "--workload", "32", NULL };
	uint64_t n = 0, bad = 0;
	struct trace_reader *r;
	const struct trace_header *h;
	const struct trace_snapshot *s;
	struct trace_event ev;
	int e;

	if (!can_record())
		skip();
	snprintf(out, sizeof(out), "%s/novmci.fst", dir);
	snprintf(err, sizeof(err), "%s/novmci.err", dir);
	setenv("FRAGSCOPE_RECORD_NO_VMCOREINFO", "1", 1);
	e = run_record(out, err, extra);
	unsetenv("FRAGSCOPE_RECORD_NO_VMCOREINFO");
	if (e)
		dump(err);
	assert_int_equal(e, 0);
	r = trace_reader_open(out, &e, NULL, 0);
	assert_non_null(r);
	h = trace_reader_header(r);
	assert_string_equal(trace_header_get(h, "capture.pfn_source"), "calibrated memmap base");
	while (trace_reader_next(r, &ev) == 1) {
		if (ev.kind < TEV_PAGE_ALLOC || ev.kind > TEV_PAGE_ALLOC_EXTFRAG || ev.pfn == TRACE_PFN_NONE)
			continue;
		n++;
		if (trace_header_zone_of(h, ev.pfn) != ev.zone)
			bad++;
	}
	fprintf(stderr, "no vmcoreinfo: %llu events, %llu with a pfn outside their zone\n", (unsigned long long)n,
		(unsigned long long)bad);
	assert_true(n > 1000);
	assert_int_equal(bad, 0);
	s = trace_reader_snapshot(r, TRACE_SNAP_START);
	assert_non_null(s);
	assert_int_equal(s->method, TRACE_SNAP_KPAGEFLAGS);
	assert_true(s->nr_free_blocks > 0);
	trace_reader_close(r);
	unlink(out);
}

static void test_privileges_as_root(void **state)
{
	if (geteuid() != 0)
		assert_int_not_equal(collector_check_privileges(), 0);
	else
		assert_int_equal(collector_check_privileges(), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_privileges_as_root),
		cmocka_unit_test(test_record_fragmenting),
		cmocka_unit_test(test_record_killed),
		cmocka_unit_test(test_record_stacks),
		cmocka_unit_test(test_record_no_vmcoreinfo),
	};
	const char *tmp = getenv("FRAGSCOPE_TMP");

	if (argc >= 3 && !strcmp(argv[1], "--workload"))
		return workload(atoi(argv[2]));
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp");
	return cmocka_run_group_tests_name("collector-record", tests, NULL, NULL);
}
