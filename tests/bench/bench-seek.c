// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seek time through the timeline index.
 *
 * 1. A model-generated trace of 100 million events (tests/bench/synth-trace.h: the allocator
 *    model seeded from the largest golden trace's header and start snapshot, driven by a
 *    random workload, its tracepoint-like events written as a trace; made here, deleted
 *    after), a timeline with a checkpoint every REPLAY_SEEK_EVERY (65536) events and a full
 *    one every REPLAY_SEEK_FULL_EVERY (8) checkpoints, then 24 seeks to pseudo-random events
 *    (restore the nearest checkpoint, replay up to the event):
 *      bench seek_ms VALUE ms            mean
 *      bench seek_worst_ms VALUE ms
 *      bench timeline_bytes VALUE bytes  the index in memory
 *      bench timeline_build_s VALUE s    one follow replay of the trace taking the checkpoints
 *      bench synth_events_rate VALUE events/s   the generator
 *    SEEK_SYNTH_EVENTS changes the length.
 * 2. The same on the largest golden (captured) trace, every 65536 events:
 *      bench seek_golden_ms VALUE ms
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "replay/timeline.h"
#include "traces/trace.h"
#include "tests/bench/synth-trace.h"

#define NR_SEEKS 24

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int largest_golden(char *out, size_t len)
{
	DIR *d = opendir("traces/golden");
	struct dirent *e;
	off_t best = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char p[512];
		struct stat st;
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".fst"))
			continue;
		snprintf(p, sizeof(p), "traces/golden/%s", e->d_name);
		if (!stat(p, &st) && st.st_size > best) {
			best = st.st_size;
			snprintf(out, len, "%s", p);
		}
	}
	closedir(d);
	return best < 0 ? -1 : 0;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

struct seek_result {
	double build_s, mean_ms, worst_ms, cpu_mean_ms, cpu_worst_ms;
	uint64_t events, bytes;
	size_t count;
	struct replay_timeline_stats st;
};

static int seek_bench(const char *path, uint64_t every, unsigned full_every, struct seek_result *res)
{
	char errbuf[512];
	struct trace_reader *rd;
	struct replay_timeline *tl;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	struct replay_timeline_opts t = { .sz = sizeof(t), .every = every, .full_every = full_every };
	uint64_t n, x = 88172645463325252ULL;
	double t0, total = 0;
	int err;

	memset(res, 0, sizeof(*res));
	rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	if (!rd) {
		fprintf(stderr, "bench-seek: %s\n", errbuf);
		return -1;
	}
	n = trace_reader_nr_events(rd);
	t0 = now();
	tl = replay_timeline_build_opts(rd, &o, &t, &err, errbuf, sizeof(errbuf));
	res->build_s = now() - t0;
	if (!tl) {
		fprintf(stderr, "bench-seek: %s\n", errbuf);
		trace_reader_close(rd);
		return -1;
	}
	for (int i = 0; i < NR_SEEKS; i++) {
		struct replay *r;
		uint64_t seq;
		double t1, c1, dt, dc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		seq = x % (n ? n : 1);
		t1 = now();
		c1 = cpu_now();
		err = replay_timeline_seek(tl, rd, seq, &r, errbuf, sizeof(errbuf));
		dt = now() - t1;
		dc = cpu_now() - c1;
		if (err) {
			fprintf(stderr, "bench-seek: %s\n", errbuf);
			replay_timeline_free(tl);
			trace_reader_close(rd);
			return -1;
		}
		replay_free(r);
		total += dt;
		res->cpu_mean_ms += dc * 1000 / NR_SEEKS;
		if (dt * 1000 > res->worst_ms)
			res->worst_ms = dt * 1000;
		if (dc * 1000 > res->cpu_worst_ms)
			res->cpu_worst_ms = dc * 1000;
	}
	res->mean_ms = total / NR_SEEKS * 1000;
	res->events = n;
	res->bytes = replay_timeline_bytes(tl);
	res->count = replay_timeline_count(tl);
	replay_timeline_get_stats(tl, &res->st);
	replay_timeline_free(tl);
	trace_reader_close(rd);
	return 0;
}

static void describe(const char *what, const char *path, uint64_t every, const struct seek_result *r)
{
	fprintf(stderr,
		"bench-seek: %s %s: %llu events; %zu checkpoints every %llu events (%zu full, %zu deltas): %llu bytes "
		"(full %llu, deltas %llu, per-cpu/aux %llu; largest state %llu list entries); built in %.1f s "
		"(follow replay, %llu resyncs); %d seeks: mean %.1f ms, worst %.1f ms (CPU time: mean %.1f ms, worst %.1f ms)\n",
		what, path, (unsigned long long)r->events, r->count, (unsigned long long)every, r->st.nr_full,
		r->st.nr_delta, (unsigned long long)r->bytes, (unsigned long long)r->st.full_bytes,
		(unsigned long long)r->st.delta_bytes, (unsigned long long)r->st.aux_bytes,
		(unsigned long long)r->st.max_records, r->build_s, (unsigned long long)r->st.resyncs, NR_SEEKS,
		r->mean_ms, r->worst_ms, r->cpu_mean_ms, r->cpu_worst_ms);
}

int main(void)
{
	char golden[512], synth[512], errbuf[512];
	const char *tmp = getenv("FRAGSCOPE_TMP");
	struct synth_opts so = { .nr_events = env_u64("SEEK_SYNTH_EVENTS", 100000000), .seed = 1 };
	struct synth_stats ss;
	struct seek_result res;
	uint64_t every = env_u64("REPLAY_SEEK_EVERY", 65536);
	unsigned full_every = (unsigned)env_u64("REPLAY_SEEK_FULL_EVERY", REPLAY_TIMELINE_FULL_EVERY);
	struct rusage ru;
	double t0, gen;
	int err;

	if (largest_golden(golden, sizeof(golden))) {
		fprintf(stderr, "bench-seek: no traces/golden/*.fst\n");
		return 1;
	}
	/* 1. the model-generated long trace */
	snprintf(synth, sizeof(synth), "%s/bench-seek-synth-%d.fst", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	t0 = now();
	err = synth_trace(golden, synth, &so, &ss, errbuf, sizeof(errbuf));
	gen = now() - t0;
	if (err) {
		fprintf(stderr, "bench-seek: generator: %s\n", errbuf);
		unlink(synth);
		return 1;
	}
	{
		struct stat st;

		fprintf(stderr, "bench-seek: model-generated trace (not a capture): %llu events (%llu allocations, %llu "
			"failed, %llu frees) from %s's header and start snapshot in %.1f s, %lld bytes\n",
			(unsigned long long)ss.events, (unsigned long long)ss.allocs,
			(unsigned long long)ss.alloc_failures, (unsigned long long)ss.frees, golden, gen,
			stat(synth, &st) ? -1LL : (long long)st.st_size);
	}
	err = seek_bench(synth, every, full_every, &res);
	unlink(synth);
	if (err)
		return 1;
	describe("model-generated", synth, every, &res);
	printf("bench synth_events_rate %.0f events/s\n", ss.events / gen);
	printf("bench timeline_build_s %.1f s\n", res.build_s);
	printf("bench timeline_bytes %llu bytes\n", (unsigned long long)res.bytes);
	printf("bench seek_ms %.1f ms\n", res.mean_ms);
	printf("bench seek_worst_ms %.1f ms\n", res.worst_ms);
	/* 2. the largest captured trace */
	if (seek_bench(golden, 65536, full_every, &res))
		return 1;
	describe("golden", golden, 65536, &res);
	printf("bench seek_golden_ms %.1f ms\n", res.mean_ms);
	if (!getrusage(RUSAGE_SELF, &ru))
		fprintf(stderr, "bench-seek: peak RSS %ld MB\n", ru.ru_maxrss / 1024);
	return 0;
}
