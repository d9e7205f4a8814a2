// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `fragscope record` costs the traced workload, against ftrace on the same six events
 * (a tracefs instance read by trace-cmd record -d --no-filter), in paired runs:
 *
 *   bench record_overhead VALUE % vs ftrace RATIO     (workload time, median of pairs)
 *   bench record_lossless_rate VALUE events/s           (highest rate recorded with zero loss of
 *                                                         the collector's own: ring buffer full,
 *                                                         recursion; frees the kernel did not
 *                                                         deliver or hidden tasks made are the
 *                                                         machine's and are printed apart)
 *
 * The workload is this program run as `bench-record --workload ROUNDS THREADS`: threads that
 * fault in anonymous memory and drop it again (MADV_DONTNEED), 32 MiB each, for a number of
 * rounds calibrated once; it writes its wall and CPU time to $BENCH_RESULT. The overhead is
 * measured on the workload's CPU time (user + system, which includes the tracing code run in its
 * context): on this shared 2-CPU machine wall time mostly measures the neighbours. The lossless
 * rate uses wall time. Needs root; otherwise prints a skip line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REGION (32u << 20)
#define REPS 7

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct worker {
	long rounds;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, REGION, MADV_NOHUGEPAGE);	/* order-0 faults: the densest event stream */
	for (long r = 0; r < w->rounds; r++) {
		for (size_t i = 0; i < REGION; i += 4096)
			p[i] = (char)r;
		madvise(p, REGION, MADV_DONTNEED);
	}
	munmap(p, REGION);
	return NULL;
}

static int workload(long rounds, int threads)
{
	pthread_t t[8];
	struct worker w = { rounds };
	uint64_t t0 = now_ns(), el;
	const char *res = getenv("BENCH_RESULT");

	if (threads < 1 || threads > 8)
		threads = 1;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, work, &w);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	el = now_ns() - t0;
	if (res) {
		FILE *f = fopen(res, "w");
		struct rusage ru;
		uint64_t cpu;

		getrusage(RUSAGE_SELF, &ru);
		cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
		if (f) {
			fprintf(f, "%llu %llu\n", (unsigned long long)el, (unsigned long long)cpu);
			fclose(f);
		}
	}
	return 0;
}

static char self[4096], tmpdir[4096];

static bool use_cpu_time;	/* report the workload's CPU time instead of its wall time */

static uint64_t read_result(const char *path)
{
	unsigned long long wall = 0, cpu = 0, v;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &wall, &cpu) != 2)
		wall = cpu = 0;
	v = use_cpu_time ? cpu : wall;
	fclose(f);
	unlink(path);
	return v;
}

/* Runs argv with BENCH_RESULT set; returns the workload's elapsed ns (0 on failure); the
 * command's stderr goes to errpath if given. */
static uint64_t run_cmd(char *const argv[], const char *errpath, bool any_status)
{
	char res[4200];
	pid_t pid;
	int st;

	snprintf(res, sizeof(res), "%s/result", tmpdir);
	unlink(res);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setenv("BENCH_RESULT", res, 1);
		if (errpath && !freopen(errpath, "w", stderr))
			_exit(126);
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || (WEXITSTATUS(st) && !any_status))
		return 0;
	return read_result(res);
}

static uint64_t run(char *const argv[], const char *errpath)
{
	return run_cmd(argv, errpath, false);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* parses record's "N events in" and "lost L (ring buffer full A, recursion B, ...)" lines: lost
 * = A + B, other = L - lost (sscanf stops at the first mismatch, so the literal text after a
 * number is checked with %n) */
static int parse_record_err(const char *path, unsigned long long *events, unsigned long long *lost,
			    unsigned long long *other)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int got = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long n, a, b;
		int end = 0;

		if (sscanf(line, "fragscope record: %llu events in%n", &n, &end) == 1 && end) {
			*events = n;
			got |= 1;
		}
		end = 0;
		if (sscanf(line, "fragscope record: lost %llu (ring buffer full %llu, recursion %llu,%n", &n, &a, &b,
			   &end) == 3 && end) {
			*lost = a + b;
			*other = n - a - b;
			got |= 2;
		}
	}
	fclose(f);
	return got == 3 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *fs = getenv("FRAGSCOPE");
	const char *out = getenv("FRAGSCOPE_TMP");
	char rounds_s[32], threads_s[8], trace[4200], dat[4200], err[4200];
	long rounds = 8;
	uint64_t t;

	if (argc >= 4 && !strcmp(argv[1], "--workload"))
		return workload(atol(argv[2]), atoi(argv[3]));
	if (geteuid() != 0 || !fs) {
		fprintf(stderr, "bench-record: SKIP: needs root and $FRAGSCOPE\n");
		return 0;
	}
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/bench-record", out ? out : "/tmp");
	mkdir(tmpdir, 0755);
	snprintf(trace, sizeof(trace), "%s/t.fst", tmpdir);
	snprintf(dat, sizeof(dat), "%s/t.dat", tmpdir);
	snprintf(err, sizeof(err), "%s/record.err", tmpdir);

	/* calibrate: about 1.5 s of untraced work on one thread */
	snprintf(threads_s, sizeof(threads_s), "1");
	for (;;) {
		snprintf(rounds_s, sizeof(rounds_s), "%ld", rounds);
		char *const a[] = { self, "--workload", rounds_s, threads_s, NULL };

		t = run(a, NULL);
		if (!t)
			return 1;
		if (t > 1200000000ull || rounds > 100000)
			break;
		rounds = (long)(rounds * 1.5e9 / (double)t) + 1;
	}
	fprintf(stderr, "bench-record: workload: %ld rounds of %u MiB, %.2f s untraced\n", rounds, REGION >> 20, t / 1e9);

	use_cpu_time = true;
	/* configurations, run in a rotating order in each round so drift hits all alike */
	enum { C_NONE, C_REC, C_NORESCUE, C_SPARSE, C_FTRACE, NR_CONF };
	static const char *const conf_name[NR_CONF] = { "none", "record", "record --no-rescue",
							"record --timestamps sparse", "ftrace" };
	double tm[NR_CONF][REPS];

	for (int r = 0; r < REPS; r++) {
		char *const a_none[] = { self, "--workload", rounds_s, threads_s, NULL };
		char *const a_rec[] = { (char *)fs, "record", "-o", trace, "--", self, "--workload", rounds_s, threads_s, NULL };
		char *const a_nr[] = { (char *)fs, "record", "--no-rescue", "-o", trace, "--", self, "--workload", rounds_s,
				       threads_s, NULL };
		char *const a_sp[] = { (char *)fs, "record", "--timestamps", "sparse", "-o", trace, "--", self, "--workload",
				       rounds_s, threads_s, NULL };
		char *const a_ft[] = { "trace-cmd", "record", "-B", "fragscope-bench", "-d", "--no-filter", "-o", dat,
				       "-e", "kmem:mm_page_alloc", "-e", "kmem:mm_page_alloc_zone_locked",
				       "-e", "kmem:mm_page_free", "-e", "kmem:mm_page_free_batched",
				       "-e", "kmem:mm_page_pcpu_drain", "-e", "kmem:mm_page_alloc_extfrag",
				       self, "--workload", rounds_s, threads_s, NULL };

		for (int k = 0; k < NR_CONF; k++) {
			int ci = (r + k) % NR_CONF;

			switch (ci) {
			case C_NONE:
				tm[ci][r] = run(a_none, NULL) / 1e9;
				break;
			case C_REC:
				tm[ci][r] = run(a_rec, err) / 1e9;
				break;
			case C_NORESCUE:
				tm[ci][r] = run(a_nr, err) / 1e9;
				break;
			case C_SPARSE:
				tm[ci][r] = run(a_sp, err) / 1e9;
				break;
			case C_FTRACE:
				/* trace-cmd 3.1.6 exits 1 at the end here (set_ftrace_filter is EPERM
				 * under lockdown) after recording everything: the workload's own
				 * result file tells whether it ran */
				tm[ci][r] = run_cmd(a_ft, "/dev/null", true) / 1e9;
				rmdir("/sys/kernel/tracing/instances/fragscope-bench");
				unlink(dat);
				break;
			}
		}
		fprintf(stderr, "bench-record: round %d (workload CPU time, s):", r);
		for (int ci = 0; ci < NR_CONF; ci++) {
			fprintf(stderr, " %s %.3f%s", conf_name[ci], tm[ci][r], ci + 1 < NR_CONF ? "," : "\n");
			if (!tm[ci][r]) {
				fprintf(stderr, "bench-record: a run of %s failed (see %s)\n", conf_name[ci], err);
				return 1;
			}
		}
	}
	{
		double ov[NR_CONF][REPS], med[NR_CONF];

		for (int ci = 0; ci < NR_CONF; ci++) {
			for (int r = 0; r < REPS; r++)
				ov[ci][r] = (tm[ci][r] / tm[C_NONE][r] - 1) * 100;
			med[ci] = median(ov[ci], REPS);
		}
		/* RATIO = our overhead / ftrace's; 0 when ftrace's is not above noise */
#define RATIO(x) (med[C_FTRACE] > 0 ? (x) / med[C_FTRACE] : 0)
		printf("bench record_overhead %.1f %% vs ftrace %.2f\n", med[C_REC], RATIO(med[C_REC]));
		printf("bench record_overhead_no_rescue %.1f %% vs ftrace %.2f\n", med[C_NORESCUE], RATIO(med[C_NORESCUE]));
		printf("bench record_overhead_sparse_timestamps %.1f %% vs ftrace %.2f\n", med[C_SPARSE],
		       RATIO(med[C_SPARSE]));
		fprintf(stderr, "bench-record: ftrace overhead %.1f %% (median of %d paired rounds)\n", med[C_FTRACE], REPS);
	}

	/* lossless rate: one and two threads at full speed; the highest rate with zero loss */
	use_cpu_time = false;
	{
		double best = 0;

		for (int th = 1; th <= 2; th++) {
			unsigned long long events = 0, lost = 1, other = 0;
			char *const a_rec[] = { (char *)fs, "record", "-o", trace, "--", self, "--workload", rounds_s, threads_s, NULL };

			snprintf(threads_s, sizeof(threads_s), "%d", th);
			t = run(a_rec, err);
			if (!t || parse_record_err(err, &events, &lost, &other))
				continue;
			fprintf(stderr, "bench-record: %d thread(s): %llu events in %.3f s of workload (%.0f/s), lost %llu "
				"(and %llu not delivered or by hidden tasks)\n",
				th, events, t / 1e9, events / (t / 1e9), lost, other);
			if (!lost && events / (t / 1e9) > best)
				best = events / (t / 1e9);
		}
		printf("bench record_lossless_rate %.0f events/s\n", best);
	}
	unlink(trace);
	return 0;
}
