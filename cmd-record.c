// SPDX-License-Identifier: GPL-2.0-only
/* fragscope record: record the page allocator's events and state on this host (root) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd-args.h"
#include "collector/collector.h"
#include "traces/procfs.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/parse.h"

#define DRAIN_INTERVAL_MS 10
#define FLUSH_INTERVAL_NS 500000000ull

extern const struct cmd_desc cmd_record_desc;

static const char *const tracepoints[] = {
	"mm_page_alloc", "mm_page_alloc_zone_locked", "mm_page_free",
	"mm_page_free_batched", "mm_page_pcpu_drain", "mm_page_alloc_extfrag",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* tracefs: the gfp names come from the tracepoint format files; mount it when it is not. */
static int ensure_tracefs(void)
{
	if (trace_tracefs_dir())
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0) {
		pr_err("tracefs is not mounted and cannot be mounted on '/sys/kernel/tracing': %s", strerror(errno));
		return FS_ERRNO__NO_TRACEFS;
	}
	pr_info("mounted tracefs on /sys/kernel/tracing");
	return trace_tracefs_dir() ? 0 : FS_ERRNO__NO_TRACEFS;
}

static int check_kernel(void)
{
	const char *tfs = trace_tracefs_dir();

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		pr_err("this kernel has no BTF ('/sys/kernel/btf/vmlinux': %s): record needs CONFIG_DEBUG_INFO_BTF",
		       strerror(errno));
		return FS_ERRNO__NO_BTF;
	}
	for (size_t i = 0; tfs && i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/events/kmem/%s", tfs, tracepoints[i]);
		if (access(p, F_OK) != 0) {
			pr_err("this kernel has no tracepoint 'kmem:%s'", tracepoints[i]);
			return FS_ERRNO__NO_TRACEPOINT;
		}
	}
	return 0;
}

/* Facts that let `import --start-snapshot` check that a snapshot and a trace-cmd capture come from
 * the same machine and boot: the host name, the boot id, and this process (its allocations are
 * in any capture running meanwhile) with its CLOCK_MONOTONIC start. */
static void set_identity_keys(struct trace_header *h)
{
	char buf[256];
	size_t n;
	FILE *f;

	if (gethostname(buf, sizeof(buf)) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		trace_header_set(h, "capture.host", buf);
	}
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		buf[n] = '\0';
		if (n)
			trace_header_set(h, "capture.boot_id", buf);
	}
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	trace_header_set(h, "capture.pid", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)now_ns());
	trace_header_set(h, "capture.process_start_mono_ns", buf);
	trace_header_set(h, "capture.clock", "mono");
}

static void set_capture_keys(struct trace_header *h, char **cmd)
{
	char buf[1024] = "";
	size_t len = 0;
	time_t t = time(NULL);
	struct tm tm;

	for (int i = 0; cmd && cmd[i] && len < sizeof(buf) - 2; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", cmd[i]);
	if (len)
		trace_header_set(h, "capture.command", buf);
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	trace_header_set(h, "capture.start_time", buf);
	trace_header_set(h, "tool.version", FRAGSCOPE_VERSION " (git " FRAGSCOPE_GIT_REV ")");
	set_identity_keys(h);
}

/* Starts COMMAND; an exec failure comes back through a close-on-exec pipe as the errno. */
static pid_t start_command(char **argv, int *exec_errno)
{
	int fds[2];
	pid_t pid;

	*exec_errno = 0;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t all;
		int e;

		close(fds[0]);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(fds[1], &e, sizeof(e)) < 0)
			e = 0;
		_exit(127);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], exec_errno, sizeof(*exec_errno)) != sizeof(*exec_errno))
		*exec_errno = 0;
	close(fds[0]);
	return pid;
}

static const char *const kind_json[] = {
	[TEV_PAGE_ALLOC] = "mm_page_alloc", [TEV_PAGE_ALLOC_ZONE_LOCKED] = "mm_page_alloc_zone_locked",
	[TEV_PAGE_FREE] = "mm_page_free", [TEV_PAGE_FREE_BATCHED] = "mm_page_free_batched",
	[TEV_PAGE_PCPU_DRAIN] = "mm_page_pcpu_drain", [TEV_PAGE_ALLOC_EXTFRAG] = "mm_page_alloc_extfrag",
};

/* --json: the end-of-run figures on stdout */
static void print_json(struct collector *c, const char *path, uint64_t bytes, double secs)
{
	struct collector_stats st;
	struct jsonw *w = jsonw_new(stdout);

	collector_get_stats(c, &st);
	jsonw_start_object(w);
	jsonw_string_field(w, "file", path);
	jsonw_uint_field(w, "bytes", bytes);
	jsonw_float_field(w, "seconds", secs);
	jsonw_uint_field(w, "events", st.events);
	jsonw_float_field(w, "events_per_second", secs > 0 ? st.events / secs : 0);
	jsonw_name(w, "by_event");
	jsonw_start_object(w);
	for (int k = TEV_PAGE_ALLOC; k <= TEV_PAGE_ALLOC_EXTFRAG; k++)
		jsonw_uint_field(w, kind_json[k], st.per_kind[k]);
	jsonw_end_object(w);
	jsonw_uint_field(w, "lost", st.lost + st.recursion_misses + st.undelivered + st.hidden_frees + st.hidden_allocs);
	jsonw_uint_field(w, "lost_ring_buffer", st.lost);
	jsonw_uint_field(w, "lost_recursion", st.recursion_misses);
	jsonw_name(w, "lost_not_delivered");
	if (st.free_check)
		jsonw_uint(w, st.undelivered);
	else
		jsonw_null(w);
	jsonw_name(w, "lost_hidden_tasks");
	if (st.free_check && st.hidden_known)
		jsonw_uint(w, st.hidden_frees);
	else
		jsonw_null(w);
	jsonw_name(w, "lost_hidden_task_allocs");
	if (st.free_check && st.hidden_allocs_known)
		jsonw_uint(w, st.hidden_allocs);
	else
		jsonw_null(w);
	jsonw_name(w, "hidden_task_tid");
	if (st.hidden_frees || st.hidden_allocs)
		jsonw_uint(w, st.hidden_pid);
	else
		jsonw_null(w);
	jsonw_name(w, "free_count_check");
	if (st.free_check) {
		jsonw_start_object(w);
		jsonw_uint_field(w, "kernel_pages", st.free_check_kernel);
		jsonw_uint_field(w, "captured_pages", st.free_check_seen);
		jsonw_end_object(w);
	} else {
		jsonw_null(w);
	}
	jsonw_uint_field(w, "rescued_recursion", st.rescued);
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		struct collector_snapshot_check k;

		collector_snapshot_get_check(c, (enum trace_snapshot_which)i, &k);
		jsonw_name(w, i == TRACE_SNAP_START ? "start_snapshot" : "end_snapshot");
		if (!k.taken) {
			jsonw_null(w);
			continue;
		}
		jsonw_start_object(w);
		jsonw_string_field(w, "method", k.method == TRACE_SNAP_KPAGEFLAGS ? "kpageflags" : "bpf-walk");
		jsonw_uint_field(w, "free_blocks", k.free_blocks);
		jsonw_uint_field(w, "pcp_pages", k.pcp_pages);
		jsonw_float_field(w, "duration_ms", k.duration_ns / 1e6);
		jsonw_uint_field(w, "events_during", k.events_during);
		jsonw_name(w, "vs_pagetypeinfo");
		jsonw_start_object(w);
		jsonw_uint_field(w, "free_lists", k.lists);
		jsonw_uint_field(w, "free_lists_equal", k.lists_equal);
		jsonw_uint_field(w, "free_blocks_abs_diff", k.lists_absdiff);
		jsonw_uint_field(w, "block_counts", k.block_counts);
		jsonw_uint_field(w, "block_counts_equal", k.block_counts_equal);
		jsonw_uint_field(w, "pageblocks_abs_diff", k.blocks_absdiff);
		jsonw_end_object(w);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	jsonw_free(w);
}

static void print_stats(struct collector *c, const char *path, uint64_t bytes, double secs)
{
	struct collector_stats st;
	char undelivered[32] = "unknown", hidden[32] = "unknown", hidden_allocs[32] = "unknown";
	uint64_t lost;

	collector_get_stats(c, &st);
	lost = st.lost + st.recursion_misses + st.undelivered + st.hidden_frees + st.hidden_allocs;
	if (st.free_check)
		snprintf(undelivered, sizeof(undelivered), "%llu", (unsigned long long)st.undelivered);
	if (st.free_check && st.hidden_known)
		snprintf(hidden, sizeof(hidden), "%llu", (unsigned long long)st.hidden_frees);
	if (st.free_check && st.hidden_allocs_known)
		snprintf(hidden_allocs, sizeof(hidden_allocs), "%llu", (unsigned long long)st.hidden_allocs);
	fprintf(stderr,
		"fragscope record: %llu events in %.2f s (%.0f events/s), %llu bytes written to '%s'\n"
		"fragscope record: by kind: alloc %llu, alloc_zone_locked %llu, free %llu, free_batched %llu, "
		"pcpu_drain %llu, extfrag %llu\n"
		"fragscope record: lost %llu (ring buffer full %llu, recursion %llu, not delivered %s, "
		"freed unseen by hidden tasks %s, allocated unseen by hidden tasks %s)\n",
		(unsigned long long)st.events, secs, secs > 0 ? st.events / secs : 0.0, (unsigned long long)bytes, path,
		(unsigned long long)st.per_kind[TEV_PAGE_ALLOC], (unsigned long long)st.per_kind[TEV_PAGE_ALLOC_ZONE_LOCKED],
		(unsigned long long)st.per_kind[TEV_PAGE_FREE], (unsigned long long)st.per_kind[TEV_PAGE_FREE_BATCHED],
		(unsigned long long)st.per_kind[TEV_PAGE_PCPU_DRAIN], (unsigned long long)st.per_kind[TEV_PAGE_ALLOC_EXTFRAG],
		(unsigned long long)lost, (unsigned long long)st.lost, (unsigned long long)st.recursion_misses,
		undelivered, hidden, hidden_allocs);
	for (int i = 0; i < TRACE_SNAP_MAX; i++) {
		const char *s = collector_snapshot_summary(c, (enum trace_snapshot_which)i);

		if (*s)
			fprintf(stderr, "fragscope record: %s\n", s);
	}
	if (st.bad_records)
		pr_warn("%llu record(s) could not be decoded", (unsigned long long)st.bad_records);
	if (st.free_check)
		pr_info("free-count check: the kernel freed %llu pages between the cuts, the capture's "
			"mm_page_free events cover %llu", (unsigned long long)st.free_check_kernel,
			(unsigned long long)st.free_check_seen);
	if (st.hidden_frees || st.hidden_allocs) {
		char comm[64] = "?", p[64];
		FILE *f;

		snprintf(p, sizeof(p), "/proc/%u/comm", st.hidden_pid);
		f = fopen(p, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		fprintf(stderr,
			"fragscope record: %llu page(s) were freed and %llu allocated in time slices that no tracepoint "
			"reports (the last by thread %u '%s': no BPF program runs while it does)\n",
			(unsigned long long)st.hidden_frees, (unsigned long long)st.hidden_allocs, st.hidden_pid, comm);
	}
	if (lost)
		fprintf(stderr,
			"fragscope record: WARNING: %llu EVENTS WERE LOST: the trace is incomplete and replay will "
			"resync; %s\n",
			(unsigned long long)lost,
			st.lost + st.recursion_misses ? "use a larger --buffer or a lighter workload"
			: st.undelivered	      ? "the kernel did not deliver some mm_page_free events to BPF"
						      : "a task invisible to tracing allocated or freed pages");
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stacks", no_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "no-compress", no_argument, NULL, 'Z' },
		{ "no-rescue", no_argument, NULL, 'R' },
		{ "snapshot", required_argument, NULL, 'S' },
		{ "timestamps", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'J' },
		{ "snapshot-only", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct collector_opts copts = { .sz = sizeof(copts) };
	struct trace_writer_opts wopts = { .sz = sizeof(wopts), .chunk_events = 65536 };
	struct trace_header h = {};
	struct collector *c = NULL;
	struct trace_writer *w = NULL;
	const char *out = NULL;
	uint64_t duration_ns = 0, t_start, last_flush, bytes = 0;
	char **cmd = NULL;
	pid_t child = -1;
	int opt, err = 0, ret = 1, sfd = -1, child_status = 0;
	sigset_t mask, oldmask;
	bool stop = false, json = false, cmd_failed = false, snapshot_only = false;

	log_set_prefix("fragscope record");
	/* '+': stop at the first non-option, so COMMAND's own options stay its own */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:d:b:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &duration_ns) || !duration_ns)
				return cmd_usage_error(&cmd_record_desc, "bad duration '%s'", optarg);
			break;
		case 's':
			copts.stacks = true;
			break;
		case 'b':
			if (parse_size(optarg, &copts.buffer_bytes) || copts.buffer_bytes < 4096 ||
			    (copts.buffer_bytes & (copts.buffer_bytes - 1)) || copts.buffer_bytes > (1ull << 30))
				return cmd_usage_error(&cmd_record_desc,
						       "bad buffer size '%s' (a power of two, 4K to 1G)", optarg);
			break;
		case 'Z':
			wopts.no_compress = true;
			break;
		case 'R':
			copts.no_rescue = true;
			break;
		case 'J':
			json = true;
			break;
		case 'O':
			snapshot_only = true;
			break;
		case 'T':
			if (!strcmp(optarg, "sparse"))
				copts.ts_sparse = 16;
			else if (strcmp(optarg, "exact"))
				return cmd_usage_error(&cmd_record_desc, "bad timestamps '%s' (exact or sparse)", optarg);
			break;
		case 'S':
			if (!strcmp(optarg, "kpageflags"))
				copts.kpageflags_snapshot = true;
			else if (strcmp(optarg, "bpf"))
				return cmd_usage_error(&cmd_record_desc, "bad snapshot method '%s' (bpf or kpageflags)",
						       optarg);
			break;
		case 'h':
			cmd_print_usage(&cmd_record_desc, stdout);
			printf("\n%s", cmd_record_desc.help);
			return cmd_finish_stdout();
		default:	/* '?' or ':' */
			return cmd_bad_option(&cmd_record_desc, opt, argv, longopts);
		}
	}
	if (optind < argc)
		cmd = &argv[optind];
	if (!out)
		return cmd_usage_error(&cmd_record_desc, "no output file (-o FILE)");
	if (snapshot_only && (cmd || duration_ns))
		return cmd_usage_error(&cmd_record_desc, "--snapshot-only takes no COMMAND and no --duration");
	if (snapshot_only) {
		trace_header_set(&h, "capture.snapshot_only", "1");
		/* a few hundred events fall inside the walk: a small buffer disturbs the traced
		 * machine less (the 64 MiB default is 16384 pages taken while a capture runs) */
		if (!copts.buffer_bytes)
			copts.buffer_bytes = 4u << 20;
	}
	else if (!cmd && !duration_ns)
		pr_info("recording until Ctrl-C");

	if (collector_check_privileges()) {
		pr_err("needs CAP_BPF and CAP_PERFMON (or root)");
		return 1;
	}
	collector_setup_libbpf_log();
	err = ensure_tracefs();
	if (!err)
		err = check_kernel();
	if (err)
		return 1;

	/* signals arrive through a signalfd, read between drains */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		pr_err("cannot create a signalfd: %s", strerror(errno));
		goto out;
	}

	c = collector_new(&copts, &err);
	if (!c)
		goto out;	/* collector_new printed why */
	err = trace_header_from_running(&h);
	if (err) {
		pr_err("cannot describe this machine: %s", fragscope_strerror(err));
		goto out;
	}
	err = collector_header(c, &h);
	if (err)
		goto out;
	set_capture_keys(&h, cmd);
	w = trace_writer_open(out, &wopts, &err);
	if (!w) {
		pr_err("cannot create '%s': %s", out, fragscope_strerror(err));
		goto out;
	}
	err = trace_writer_header(w, &h);
	if (err) {
		pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
		goto out;
	}
	err = collector_start(c, w);
	if (err)
		goto out;
	err = collector_snapshot(c, TRACE_SNAP_START);
	if (err) {
		pr_err("start snapshot failed: %s", fragscope_strerror(err));
		goto out;
	}
	err = collector_flush(c);
	if (err) {
		pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
		goto out;
	}

	t_start = last_flush = now_ns();
	stop = snapshot_only;	/* the start snapshot and the events during its walk: done */
	if (cmd) {
		int exec_errno;

		child = start_command(cmd, &exec_errno);
		if (child < 0) {
			pr_err("cannot start '%s': %s", cmd[0], strerror(errno));
			goto out;
		}
		if (exec_errno) {
			/* the trace so far is finished below, but the run failed */
			pr_err("cannot run '%s': %s", cmd[0], strerror(exec_errno));
			waitpid(child, NULL, 0);
			child = -1;
			cmd_failed = true;
			stop = true;
		}
	}
	while (!stop) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		uint64_t now;

		poll(&pfd, 1, DRAIN_INTERVAL_MS);
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				if (child > 0 && waitpid(child, &child_status, WNOHANG) == child) {
					child = -1;
					stop = true;
				}
			} else {
				pr_info("stopping on signal %u", si.ssi_signo);
				stop = true;
			}
		}
		err = collector_poll(c);
		if (err < 0) {
			pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
			goto out;
		}
		now = now_ns();
		if (duration_ns && now - t_start >= duration_ns)
			stop = true;
		if (now - last_flush >= FLUSH_INTERVAL_NS) {
			err = collector_write_loss(c);
			if (!err)
				err = collector_flush(c);
			if (err) {
				pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
				goto out;
			}
			last_flush = now;
		}
	}
	if (child > 0) {
		/* the duration ended first: stop the command */
		kill(child, SIGTERM);
		waitpid(child, &child_status, 0);
		child = -1;
	}
	err = snapshot_only ? 0 : collector_snapshot(c, TRACE_SNAP_END);
	if (err)
		pr_warn("end snapshot failed: %s", fragscope_strerror(err));
	err = collector_stop(c);
	if (err) {
		pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
		goto out;
	}
	bytes = trace_writer_bytes(w);
	err = trace_writer_close(w);
	w = NULL;
	if (err) {
		pr_err("cannot finish '%s': %s", out, fragscope_strerror(err));
		goto out;
	}
	{
		struct stat sb;

		if (stat(out, &sb) == 0)
			bytes = (uint64_t)sb.st_size;
	}
	print_stats(c, out, bytes, (now_ns() - t_start) / 1e9);
	if (json)
		print_json(c, out, bytes, (now_ns() - t_start) / 1e9);
	if (cmd && !cmd_failed && WIFEXITED(child_status) && WEXITSTATUS(child_status))
		pr_warn("'%s' exited with status %d", cmd[0], WEXITSTATUS(child_status));
	else if (cmd && !cmd_failed && WIFSIGNALED(child_status))
		pr_warn("'%s' was killed by signal %d", cmd[0], WTERMSIG(child_status));
	ret = json ? cmd_finish_stdout() : 0;
	if (cmd_failed)
		ret = 1;
out:
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	if (w)
		trace_writer_close(w);	/* finalizes what was written */
	collector_free(c);
	trace_header_release(&h);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return ret;
}

const struct cmd_desc cmd_record_desc = {
	.name = "record",
	.run = run,
	.summary = "record the page allocator's events and state on this host (root)",
	.usage = "-o FILE [-d SECONDS] [--stacks] [--buffer SIZE] [--json] [-- COMMAND [ARGS...]]\n"
		 "--snapshot-only -o SNAP.fst",
	.help =
	"Attaches BPF programs (tp_btf, CO-RE) to the six kmem page tracepoints (mm_page_alloc,\n"
	"mm_page_alloc_zone_locked, mm_page_free, mm_page_free_batched, mm_page_pcpu_drain,\n"
	"mm_page_alloc_extfrag) and writes every event to a trace file, with start and end snapshots of\n"
	"the allocator: every pageblock's migratetype, every free list in list order, the per-cpu lists,\n"
	"cross-checked against /proc/pagetypeinfo. Stops after SECONDS, when COMMAND exits, or on\n"
	"Ctrl-C / SIGTERM, always finishing the file; a killed recorder leaves a file readable up to its\n"
	"last flushed chunk (flushed every 0.5 s).\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   the trace file to write (required)\n"
	"  -d, --duration T    stop after T (\"30\", \"30s\", \"500ms\", \"2m\")\n"
	"      --stacks        record kernel stack ids of allocations and extfrag events\n"
	"      --buffer SIZE   ring buffer size, a power of two (default 64M)\n"
	"      --no-compress   write chunks without zstd\n"
	"      --no-rescue     do not attach the recursion-rescue programs (cheaper; events the\n"
	"                      kernel skips while a program runs are then lost, and counted)\n"
	"      --timestamps T  exact (default): every event reads the clock; sparse: one event in 16\n"
	"                      per CPU does, the others take the last timestamp before them (order is\n"
	"                      exact either way; cheaper where the clock is slow, as in VMs)\n"
	"      --snapshot M    how to read the allocator's state: bpf (default: pageblock types, free\n"
	"                      lists in order, per-cpu lists) or kpageflags (the fallback: free blocks\n"
	"                      from /proc/kpageflags, no types or order; used when the BPF walk fails)\n"
	"      --json          also print the end-of-run figures as JSON on stdout\n"
	"      --snapshot-only write the machine header and one snapshot (with the events during\n"
	"                      its walk), then stop: the start or end snapshot of a trace-cmd\n"
	"                      capture made with '-C mono' (see 'fragscope help import')\n"
	"  -- COMMAND ARGS     run COMMAND and record until it exits\n"
	"\n"
	"Needs CAP_BPF and CAP_PERFMON (or root), kernel BTF and tracefs (mounted if it is not).\n"
	"At the end it prints events/s, bytes written and losses (ring buffer full, BPF recursion,\n"
	"not delivered, freed and allocated unseen by hidden tasks); losses are also stored in the\n"
	"trace. \"not delivered\" and \"freed unseen\" are the free-count check: each CPU's PGFREE\n"
	"counter is read at a start and an end cut, and the pages the kernel freed in between but no\n"
	"mm_page_free event reported are counted as lost mm_page_free events, in pages. Of those,\n"
	"\"freed unseen by hidden tasks\" are pages freed in time slices that no tracepoint reports\n"
	"at all (a task invisible to tracing, named at the end; followed with a sched_switch\n"
	"program), and \"not delivered\" the rest (6.18 sometimes does not deliver bursts of softirq\n"
	"frees to BPF programs at all). \"allocated unseen\" is the PGALLOC counters' growth in\n"
	"those slices: lost mm_page_alloc events, in pages.\n",
};
