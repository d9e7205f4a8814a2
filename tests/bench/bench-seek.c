// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seek time through the timeline index: on the largest golden trace, checkpoints every 65536
 * events (REPLAY_SEEK_EVERY), then 20 seeks to pseudo-random events; the mean wall time of a
 * seek (restore the nearest checkpoint, replay up to the event).
 *   bench seek_ms VALUE ms
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "replay/timeline.h"
#include "traces/trace.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

int main(void)
{
	char path[512], errbuf[512];
	struct trace_reader *rd;
	struct replay_timeline *tl;
	struct replay_opts o = { .sz = sizeof(o), .mode = REPLAY_FOLLOW };
	const char *ev = getenv("REPLAY_SEEK_EVERY");
	uint64_t every = ev ? strtoull(ev, NULL, 0) : 65536, n, x = 88172645463325252ULL;
	double t0, build, total = 0, worst = 0;
	int err;

	if (largest_golden(path, sizeof(path))) {
		fprintf(stderr, "bench-seek: no traces/golden/*.fst\n");
		return 1;
	}
	rd = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	if (!rd) {
		fprintf(stderr, "bench-seek: %s\n", errbuf);
		return 1;
	}
	n = trace_reader_nr_events(rd);
	t0 = now();
	tl = replay_timeline_build(rd, &o, every, &err, errbuf, sizeof(errbuf));
	build = now() - t0;
	if (!tl) {
		fprintf(stderr, "bench-seek: %s\n", errbuf);
		return 1;
	}
	for (int i = 0; i < 20; i++) {
		struct replay *r;
		uint64_t seq;
		double t, dt;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		seq = x % (n ? n : 1);
		t = now();
		err = replay_timeline_seek(tl, rd, seq, &r, errbuf, sizeof(errbuf));
		dt = now() - t;
		if (err) {
			fprintf(stderr, "bench-seek: %s\n", errbuf);
			return 1;
		}
		replay_free(r);
		total += dt;
		if (dt > worst)
			worst = dt;
	}
	fprintf(stderr, "bench-seek: %s: %llu events, %zu checkpoints every %llu events (%llu bytes), built in "
		"%.2f s; 20 seeks: mean %.1f ms, worst %.1f ms\n", path, (unsigned long long)n,
		replay_timeline_count(tl), (unsigned long long)every, (unsigned long long)replay_timeline_bytes(tl),
		build, total / 20 * 1000, worst * 1000);
	printf("bench seek_ms %.1f ms\n", total / 20 * 1000);
	replay_timeline_free(tl);
	trace_reader_close(rd);
	return 0;
}
