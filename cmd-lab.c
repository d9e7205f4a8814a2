// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragscope lab: capture Debian's 6.1 and 6.12 kernels in qemu (TCG), deterministically.
 *
 *   kernel     tests/lab/kernel.sh: apt-get download of the newest linux-image of the series
 *              (or a given .deb), only boot/vmlinuz and boot/config extracted, cached
 *   vmlinux    our own bzImage payload extractor: the ELF vmlinux boots through its PVH note,
 *              which skips SeaBIOS real-mode decompression (several seconds under TCG)
 *   initramfs  a newc cpio written here: /init (tests/lab/init.sh), static busybox, the static
 *              fragscope (make static); fixed owners and times, so the bytes are reproducible
 *   qemu       -accel tcg -cpu qemu64, console on ttyS0 (kept, last lines shown on failure or
 *              timeout), results as a tar.gz on ttyS1 (no modules needed in the guest);
 *              --deterministic adds -icount shift=0,sleep=off,align=off and a fixed RTC
 *   output     the guest's trace.fst (fragscope record), or its tracefs text converted by
 *              fragscope import, plus OUT.provenance
 * See ../shared/kernel/lab-notes.md for the measurements behind each choice.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd-args.h"
#include "lab/lab.h"
#include "util/log.h"
#include "util/parse.h"
#include "traces/trace.h"
#include "util/errors.h"
#include "workload/workload.h"

#define LAB_RTC_BASE "2024-01-01T00:00:00"

struct lab_opts {
	const char *kernel;
	const char *out;
	const char *workload;
	const char *wargs;
	const char *capture;
	const char *cache;
	const char *workdir;
	const char *static_bin;
	const char *qemu;
	const char *append;
	uint64_t mem;
	uint64_t smp;
	uint64_t timeout_ns;
	bool deterministic;
	bool compaction_on;
};

struct lab_kernel {
	char package[128];
	char version[128];
	char kver[128];
	char deb[PATH_MAX];
	char vmlinuz[PATH_MAX];
	char vmlinux[PATH_MAX];
	bool pvh;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void guest_says(const char *msg)
{
	say("guest: %s", msg);
}

static bool lab_progress(void)
{
	return log_get_level() >= LOG_WARN;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	if (!lab_progress())
		return;
	fprintf(stderr, "%s: ", log_prefix());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int exe_dir(char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if (lab_pathf(buf, len, "%s", path))
		return -ENAMETOOLONG;
	return 0;
}

/* Looks for rel in the binary's folder and up to three folders above it (the source tree when
 * the binary is .output/check/fragscope); the found path in buf. */
static bool find_near_exe(const char *rel, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (exe_dir(dir, sizeof(dir)))
		return false;
	for (int up = 0; up < 4; up++) {
		char *slash;

		if (!lab_pathf(buf, len, "%s/%s", dir, rel) && access(buf, F_OK) == 0)
			return true;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = 0;
	}
	return false;
}

static bool is_file(const char *p)
{
	struct stat st;

	return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Value of "key=value" line in text, copied to buf. */
static bool kv_get(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == '=') {
			const char *v = l + kl + 1, *e = strchr(v, '\n');
			size_t n = e ? (size_t)(e - v) : strlen(v);

			if (n >= len)
				return false;
			memcpy(buf, v, n);
			buf[n] = 0;
			return true;
		}
	}
	return false;
}

/* The first line of n bytes of d (not NUL-terminated) into buf. */
static void first_line(const uint8_t *d, size_t n, char *buf, size_t len)
{
	const uint8_t *nl = memchr(d, '\n', n);

	snprintf(buf, len, "%.*s", (int)(nl ? (size_t)(nl - d) : n), (const char *)d);
}

/* ---- the run subcommand -------------------------------------------------------------------- */

struct strv {
	char *v[96];
	int n;
};

static void sv_add(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sv_add(struct strv *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n >= (int)(sizeof(s->v) / sizeof(s->v[0])) - 1)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s->v[s->n], fmt, ap) >= 0)
		s->n++;
	va_end(ap);
	s->v[s->n] = NULL;
}

static void sv_free(struct strv *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void sv_join(const struct strv *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < s->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "", s->v[i]);
}

static int lab_resolve_kernel(const char *labdir, const char *spec, const char *cache, struct lab_kernel *k)
{
	char script[PATH_MAX], vx[PATH_MAX];
	char *argv[] = { script, (char *)spec, (char *)cache, NULL };
	char *out = NULL;
	struct stat a, b;
	int ret;

	lab_pathf(script, sizeof(script), "%s/kernel.sh", labdir);
	ret = lab_spawn_capture(argv, -1, &out);
	if (ret) {
		free(out);
		if (ret < 0)
			pr_err("cannot run '%s': %s", script, strerror(-ret));
		return ret < 0 ? ret : -ENOENT;	/* the script printed why */
	}
	if (!kv_get(out, "package", k->package, sizeof(k->package)) ||
	    !kv_get(out, "version", k->version, sizeof(k->version)) ||
	    !kv_get(out, "kver", k->kver, sizeof(k->kver)) ||
	    !kv_get(out, "deb", k->deb, sizeof(k->deb)) ||
	    !kv_get(out, "vmlinuz", k->vmlinuz, sizeof(k->vmlinuz))) {
		pr_err("'%s' gave no kernel for '%s'", script, spec);
		free(out);
		return -EINVAL;
	}
	free(out);
	/* the ELF vmlinux next to the vmlinuz, extracted once */
	lab_pathf(vx, sizeof(vx), "%.*s/vmlinux", (int)(strrchr(k->vmlinuz, '/') - k->vmlinuz), k->vmlinuz);
	if (stat(vx, &a) == 0 && stat(k->vmlinuz, &b) == 0 && a.st_mtime >= b.st_mtime) {
		uint8_t *d;
		size_t n;

		if (lab_read_file(vx, &d, &n) == 0) {
			k->pvh = lab_elf_has_pvh_note(d, n);
			free(d);
		}
	} else {
		say("extracting vmlinux from %s", k->vmlinuz);
		ret = lab_extract_vmlinux(k->vmlinuz, vx, &k->pvh);
		if (ret) {
			pr_warn("no ELF vmlinux (%s): booting the compressed kernel instead", strerror(-ret));
			k->pvh = false;
		}
	}
	if (k->pvh)
		snprintf(k->vmlinux, sizeof(k->vmlinux), "%s", vx);
	else
		snprintf(k->vmlinux, sizeof(k->vmlinux), "%s", k->vmlinuz);
	return 0;
}

static int lab_find_static(const struct lab_opts *o, char *buf, size_t len)
{
	char dir[PATH_MAX];
	bool st = false;
	int ret;

	if (o->static_bin) {
		snprintf(buf, len, "%s", o->static_bin);
	} else if (!find_near_exe("fragscope-static", buf, len)) {
		/* not built yet: build it in the source tree this binary belongs to */
		if (!find_near_exe("Makefile", dir, sizeof(dir))) {
			pr_err("no fragscope-static near this binary: run 'make static' (or give --static PATH)");
			return -ENOENT;
		}
		*strrchr(dir, '/') = 0;
		{
			char *argv[] = { "make", "-C", dir, "--no-print-directory", "static", NULL };

			/* not a sanitizer or other variant that a make we run under passes down */
			unsetenv("MAKEFLAGS");
			unsetenv("MFLAGS");
			unsetenv("MAKELEVEL");
			say("building the static fragscope for the guest (make static)");
			if (lab_spawn(argv, -1, 2, -1))
				pr_err("'make -C %s static' failed", dir);
		}
		lab_pathf(buf, len, "%s/fragscope-static", dir);
	}
	if (!is_file(buf)) {
		pr_err("no static fragscope at '%s': run 'make static' (or give --static PATH)", buf);
		return -ENOENT;
	}
	ret = lab_elf_is_static(buf, &st);
	if (ret || !st) {
		pr_err("'%s' is not a statically linked executable: the guest has no libraries", buf);
		return -ENOEXEC;
	}
	return 0;
}

static int lab_find_dir(char *buf, size_t len)
{
	const char *env = getenv("FRAGSCOPE_LAB_DIR");
	char init[PATH_MAX + 16];

	if (env && *env) {
		snprintf(buf, len, "%s", env);
	} else {
		if (!find_near_exe("tests/lab/init.sh", buf, len)) {
			pr_err("cannot find the lab scripts (tests/lab/init.sh) near the fragscope binary: run it from its source tree or set FRAGSCOPE_LAB_DIR");
			return -ENOENT;
		}
		*strrchr(buf, '/') = 0;
	}
	lab_pathf(init, sizeof(init), "%s/init.sh", buf);
	if (!is_file(init)) {
		pr_err("cannot find the lab scripts ('%s' is missing): run fragscope from its source tree or set FRAGSCOPE_LAB_DIR",
		       init);
		return -ENOENT;
	}
	return 0;
}

/* /dev/null for the stderr of helper programs whose complaints do not matter here */
static int quiet_fd(void)
{
	static int fd = -2;

	if (fd == -2)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return fd;
}

static void rm_rf(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	lab_spawn(argv, -1, -1, -1);
}

/* The first line of `prog --version`. */
static void program_version(const char *prog, char *buf, size_t len)
{
	char *argv[] = { (char *)prog, "--version", NULL };
	char *out = NULL;

	snprintf(buf, len, "unknown");
	if (lab_spawn_capture(argv, quiet_fd(), &out) == 0 && out) {
		out[strcspn(out, "\n")] = 0;
		snprintf(buf, len, "%s", out);
	}
	free(out);
}

static void file_sha256(const char *path, char *buf, size_t len)
{
	char *argv[] = { "sha256sum", (char *)path, NULL };
	char *out = NULL;

	snprintf(buf, len, "unknown");
	if (lab_spawn_capture(argv, quiet_fd(), &out) == 0 && out) {
		out[strcspn(out, " \n")] = 0;
		snprintf(buf, len, "%s", out);
	}
	free(out);
}

static void print_file_tail(const char *path, int lines)
{
	uint8_t *d;
	size_t n, start;
	int seen = 0;

	if (lab_read_file(path, &d, &n))
		return;
	start = n;
	while (start > 0 && seen <= lines)
		if (d[--start] == '\n')
			seen++;
	if (seen > lines)
		start++;
	fprintf(stderr, "%s: last lines of '%s':\n", log_prefix(), path);
	fwrite(d + start, 1, n - start, stderr);
	if (n && d[n - 1] != '\n')
		fputc('\n', stderr);
	free(d);
}

static int lab_write_provenance(const char *path, const struct lab_opts *o, const struct lab_kernel *k,
				const char *qemu, const struct strv *qargv, const char *cmdline,
				const char *static_bin, const char *initramfs, const char *guest_uname,
				const struct lab_run_result *res, const char *labdir, const char *summary,
				const char *crosscheck, const char *failure)
{
	char qv[256], sv[256], isha[80], tsha[80], date[64], qline[8192], tree[128] = "unknown";
	char *out = NULL;
	char *git[] = { "git", "-C", (char *)labdir, "describe", "--always", "--dirty", "--abbrev=12", NULL };
	time_t t = time(NULL);
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	if (lab_spawn_capture(git, quiet_fd(), &out) == 0 && out && *out)
		snprintf(tree, sizeof(tree), "%.*s", (int)strcspn(out, "\n"), out);
	free(out);
	program_version(qemu, qv, sizeof(qv));
	program_version(static_bin, sv, sizeof(sv));
	file_sha256(initramfs, isha, sizeof(isha));
	file_sha256(o->out, tsha, sizeof(tsha));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	sv_join(qargv, qline, sizeof(qline));
	fprintf(f, "# fragscope lab capture: how this trace was made\n");
	fprintf(f, "trace: %s\n", strrchr(o->out, '/') ? strrchr(o->out, '/') + 1 : o->out);
	fprintf(f, "trace.sha256: %s\n", tsha);
	fprintf(f, "kernel.package: %s\n", k->package);
	fprintf(f, "kernel.package_version: %s\n", k->version);
	fprintf(f, "kernel.release: %s\n", guest_uname);
	fprintf(f, "kernel.boot: %s\n", k->pvh ? "PVH entry of the extracted ELF vmlinux" : "bzImage");
	fprintf(f, "qemu.version: %s\n", qv);
	fprintf(f, "qemu.command: %s\n", qline);
	fprintf(f, "guest.cmdline: %s\n", cmdline);
	fprintf(f, "guest.mem: %lluM\n", (unsigned long long)(o->mem >> 20));
	fprintf(f, "guest.smp: %llu\n", (unsigned long long)o->smp);
	fprintf(f, "deterministic: %s\n", o->deterministic ? "yes (TCG, -icount shift=0,sleep=off,align=off, fixed RTC)" : "no");
	fprintf(f, "capture: %s\n", o->capture);
	fprintf(f, "workload: %s%s%s\n", o->workload, o->wargs ? " " : "", o->wargs ? o->wargs : "");
	fprintf(f, "compaction: %s\n", o->compaction_on ? "on (kernel defaults)" :
		"off (vm.compaction_proactiveness=0, vm.extfrag_threshold=1000)");
	fprintf(f, "initramfs.sha256: %s\n", isha);
	fprintf(f, "fragscope.host: fragscope %s (git %s)\n", FRAGSCOPE_VERSION, FRAGSCOPE_GIT_REV);
	fprintf(f, "fragscope.guest: %s\n", sv);
	fprintf(f, "fragscope.tree: %s\n", tree);
	fprintf(f, "date: %s\n", date);
	fprintf(f, "run.seconds: %.1f\n", res->seconds);
	if (crosscheck && *crosscheck)
		fprintf(f, "crosscheck: %s\n", crosscheck);
	if (failure && *failure)
		fprintf(f, "failed: %s\n", failure);
	/* the guest recorder's own summary: events by kind, losses, snapshot cross-checks */
	if (summary) {
		for (const char *l = summary; *l;) {
			size_t n = strcspn(l, "\n");

			if (!strncmp(l, "fragscope record: ", 18))
				fprintf(f, "record.summary: %.*s\n", (int)(n - 18), l + 18);
			l += n + (l[n] == '\n');
		}
	}
	if (fclose(f))
		return -errno;
	return 0;
}

static void compare_line(const struct lab_compare *c, char *buf, size_t len, const char *an, const char *bn)
{
	snprintf(buf, len,
		 "%s %llu events, %s %llu events in the common window: %llu paired in order, "
		 "%llu reordered (an interrupt between the two probes), %llu only in %s, %llu only in %s%s",
		 an, (unsigned long long)c->a_events, bn, (unsigned long long)c->b_events,
		 (unsigned long long)c->matched, (unsigned long long)c->reordered,
		 (unsigned long long)c->a_only, an, (unsigned long long)c->b_only, bn,
		 c->a_only || c->b_only || c->reordered ? "" : " (identical streams)");
}

static int lab_run(const struct lab_opts *o)
{
	char labdir[PATH_MAX], qemu[PATH_MAX], busybox[PATH_MAX], sbin[PATH_MAX], wd[PATH_MAX];
	char path[PATH_MAX + 64], init[PATH_MAX + 16], initrd[PATH_MAX + 32], console[PATH_MAX + 32];
	char serial[PATH_MAX + 32], outdir[PATH_MAX + 16], cmdline[2048], uname[512] = "unknown";
	struct lab_kernel k = { 0 };
	struct lab_tail tail = { 0 };
	struct lab_run_result res = { 0 };
	struct strv q = { 0 };
	struct stat st;
	bool bb_static = false, made_wd = false;
	uint64_t nr_events = 0, rbuf_mb;
	char imported[PATH_MAX + 32] = "", crosscheck[512] = "", failure[512] = "", glog[PATH_MAX + 32] = "";
	struct lab_compare cmp;
	int ret, rc = 1;

	if (!lab_find_program(o->qemu, qemu, sizeof(qemu))) {
		pr_err("'%s' not found: install it with 'apt-get install qemu-system-x86' (make deps does)", o->qemu);
		return 1;
	}
	if (!lab_find_program("busybox", busybox, sizeof(busybox)) || lab_elf_is_static(busybox, &bb_static) || !bb_static) {
		pr_err("a static busybox is needed in the guest: install it with 'apt-get install busybox-static'");
		return 1;
	}
	if (lab_find_dir(labdir, sizeof(labdir)) || lab_find_static(o, sbin, sizeof(sbin)))
		return 1;
	if (lab_resolve_kernel(labdir, o->kernel, o->cache, &k))
		return 1;

	if (o->workdir) {
		snprintf(wd, sizeof(wd), "%s", o->workdir);
		if (mkdir(wd, 0755) && errno != EEXIST) {
			pr_err("cannot create '%s': %s", wd, strerror(errno));
			return 1;
		}
	} else {
		lab_pathf(wd, sizeof(wd), "%s/fragscope-lab.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(wd)) {
			pr_err("cannot create a work folder '%s': %s", wd, strerror(errno));
			return 1;
		}
		made_wd = true;
	}
	lab_pathf(init, sizeof(init), "%s/init.sh", labdir);
	lab_pathf(initrd, sizeof(initrd), "%s/initramfs.cpio", wd);
	lab_pathf(console, sizeof(console), "%s/console.log", wd);
	lab_pathf(serial, sizeof(serial), "%s/ttyS1.out", wd);
	lab_pathf(outdir, sizeof(outdir), "%s/out", wd);
	ret = lab_build_initramfs(initrd, init, busybox, sbin);
	if (ret) {
		pr_err("cannot write the initramfs '%s': %s", initrd, strerror(-ret));
		goto out;
	}
	unlink(serial);

	/* record's ring buffer: 1/32 of the guest (a power of two, 4M..64M); the tracefs buffer
	 * per CPU: 40 KB per MB of guest (about 36 B per event, lab-notes.md) */
	for (rbuf_mb = 4; rbuf_mb < 64 && rbuf_mb * 32 < (o->mem >> 20);)
		rbuf_mb *= 2;
	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 panic=-1 nokaslr norandmaps fslab_capture=%s fslab_workload=%s fslab_compaction=%s "
		 "fslab_rbuf=%lluM fslab_buf=%llu%s%s%s%s",
		 o->capture, o->workload, o->compaction_on ? "on" : "off", (unsigned long long)rbuf_mb,
		 (unsigned long long)(o->mem >> 20) * 40, o->wargs ? " fslab_wargs=" : "",
		 o->wargs ? o->wargs : "", o->append ? " " : "", o->append ? o->append : "");
	sv_add(&q, "%s", qemu);
	sv_add(&q, "-accel");
	sv_add(&q, "tcg");
	sv_add(&q, "-cpu");
	sv_add(&q, "qemu64");	/* no RDRAND: the guest's entropy comes only from (virtual) time */
	sv_add(&q, "-smp");
	sv_add(&q, "%llu", (unsigned long long)o->smp);
	sv_add(&q, "-m");
	sv_add(&q, "%lluM", (unsigned long long)(o->mem >> 20));
	sv_add(&q, "-nodefaults");
	sv_add(&q, "-no-user-config");
	sv_add(&q, "-display");
	sv_add(&q, "none");
	sv_add(&q, "-no-reboot");
	if (o->deterministic) {
		sv_add(&q, "-icount");
		sv_add(&q, "shift=0,sleep=off,align=off");
		sv_add(&q, "-rtc");
		sv_add(&q, "base=%s,clock=vm", LAB_RTC_BASE);
	}
	sv_add(&q, "-kernel");
	sv_add(&q, "%s", k.vmlinux);
	sv_add(&q, "-initrd");
	sv_add(&q, "%s", initrd);
	sv_add(&q, "-append");
	sv_add(&q, "%s", cmdline);
	sv_add(&q, "-serial");
	sv_add(&q, "stdio");
	sv_add(&q, "-serial");
	sv_add(&q, "file:%s", serial);

	say("booting %s (%s) in qemu: %lluM, %llu CPU%s, %s%s, workload %s, compaction %s", k.kver,
	    k.pvh ? "PVH vmlinux" : "bzImage", (unsigned long long)(o->mem >> 20), (unsigned long long)o->smp,
	    o->smp > 1 ? "s" : "", o->deterministic ? "deterministic" : "TCG", "", o->workload,
	    o->compaction_on ? "on" : "off");
	ret = lab_run_qemu(q.v, console, o->timeout_ns, &tail, &res, guest_says);
	if (ret) {
		pr_err("cannot run '%s': %s", qemu, strerror(-ret));
		goto out;
	}
	if (res.timed_out) {
		pr_err("the guest did not finish within %llu s (timeout; --timeout raises it)",
		       (unsigned long long)(o->timeout_ns / 1000000000ull));
		lab_tail_print(&tail, console);
		goto out;
	}
	if (res.output_bytes < 0 || stat(serial, &st) || st.st_size != res.output_bytes) {
		pr_err("the guest sent no complete result (qemu exit status %d, announced %ld bytes, got %lld)",
		       res.status, res.output_bytes, stat(serial, &st) ? -1LL : (long long)st.st_size);
		lab_tail_print(&tail, console);
		goto out;
	}
	rm_rf(outdir);
	mkdir(outdir, 0755);
	{
		char *argv[] = { "tar", "-xzf", serial, "-C", outdir, NULL };

		if (lab_spawn(argv, -1, -1, -1)) {
			pr_err("cannot unpack the guest's result '%s'", serial);
			goto out;
		}
	}
	lab_pathf(path, sizeof(path), "%s/uname.txt", outdir);
	{
		uint8_t *d;
		size_t n;

		if (lab_read_file(path, &d, &n) == 0) {
			first_line(d, n, uname, sizeof(uname));
			free(d);
		}
	}
	if (res.guest_rc != 0) {
		/* the workload or the recorder failed in the guest: init says which in out/failure.
		 * What was captured is still converted and kept, with its provenance, for inspection,
		 * but lab run fails. */
		uint8_t *d;
		size_t n;

		lab_pathf(path, sizeof(path), "%s/failure", outdir);
		ret = lab_read_file(path, &d, &n);
		if (!ret && n)
			first_line(d, n, failure, sizeof(failure));
		else
			snprintf(failure, sizeof(failure), "the capture in the guest failed (status %d)", res.guest_rc);
		if (!ret)
			free(d);
		lab_pathf(glog, sizeof(glog), "%s/%s", outdir, !strcmp(o->capture, "record") || !strcmp(o->capture, "both") ? "record.log" : "workload.log");
		lab_pathf(path, sizeof(path), "%s/%s", outdir, !strcmp(o->capture, "tracefs") ? "trace.txt" : "trace.fst");
		if (!strcmp(o->capture, "none") || access(path, R_OK))
			goto out;	/* nothing captured to keep */
	}
	if (!strcmp(o->capture, "tracefs") || !strcmp(o->capture, "both")) {
		char self[PATH_MAX], txt[PATH_MAX + 16], fmt[PATH_MAX + 16];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *argv[] = { self, "import", txt, "--formats", fmt, "-o", imported, NULL };

		self[n > 0 ? n : 0] = 0;
		lab_pathf(txt, sizeof(txt), "%s/trace.txt", outdir);
		lab_pathf(fmt, sizeof(fmt), "%s/format", outdir);
		lab_pathf(imported, sizeof(imported), "%s/tracefs.fst", outdir);
		say("converting the guest's tracefs capture with fragscope import");
		if (lab_spawn(argv, -1, -1, -1)) {
			pr_err("fragscope import of '%s' failed", txt);
			goto out;
		}
		lab_pathf(path, sizeof(path), "%s", imported);
	}
	if (!strcmp(o->capture, "record") || !strcmp(o->capture, "both")) {
		lab_pathf(path, sizeof(path), "%s/trace.fst", outdir);
	} else if (strcmp(o->capture, "tracefs")) {
		say("capture 'none': the guest ran the workload only; no trace written");
		rc = *failure ? 1 : 0;
		goto out;
	}
	{
		char mem[32], smp[32];
		struct trace_kv add[] = {
			{ "lab.kernel.package", k.package },
			{ "lab.kernel.package_version", k.version },
			{ "lab.mem", mem },
			{ "lab.smp", smp },
			{ "lab.deterministic", o->deterministic ? "yes" : "no" },
			{ "lab.compaction", o->compaction_on ? "on" : "off" },
			{ "lab.workload", (char *)o->workload },
			{ "lab.workload_args", (char *)(o->wargs ? o->wargs : "") },
			{ "lab.capture", (char *)o->capture },
			{ "lab.guest.cmdline", cmdline },
		};

		snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(o->mem >> 20));
		snprintf(smp, sizeof(smp), "%llu", (unsigned long long)o->smp);
		char hdr[PATH_MAX + 32];
		bool guest_hdr = !strcmp(o->capture, "tracefs");

		/* an import made here carries this host's machine header: take the guest's from the
		 * short record run init makes before the tracefs capture */
		lab_pathf(hdr, sizeof(hdr), "%s/header.fst", outdir);
		if (guest_hdr && access(hdr, R_OK)) {
			pr_warn("the guest wrote no header.fst: the trace keeps this host's machine header");
			guest_hdr = false;
		}
		if (lab_annotate(path, o->out, guest_hdr ? hdr : NULL, add, sizeof(add) / sizeof(add[0]), &nr_events))
			goto out;
	}
	if (!strcmp(o->capture, "both")) {
		ret = lab_compare_traces(o->out, imported, &cmp);
		if (ret) {
			pr_err("cannot compare the record and tracefs captures");
			goto out;
		}
		if (!cmp.a_events || !cmp.b_events) {
			pr_err("cross-check impossible: %s has no kmem events in the common window ('%s')",
			       !cmp.a_events ? "record" : "tracefs", !cmp.a_events ? o->out : imported);
			goto out;
		}
		compare_line(&cmp, crosscheck, sizeof(crosscheck), "record", "tracefs");
		say("cross-check: %s", crosscheck);
	}
	lab_pathf(path, sizeof(path), "%s.provenance", o->out);
	{
		uint8_t *summary = NULL;
		size_t n = 0;
		char rlog[PATH_MAX + 16];

		lab_pathf(rlog, sizeof(rlog), "%s/record.log", outdir);
		if (lab_read_file(rlog, &summary, &n) == 0) {
			uint8_t *p = realloc(summary, n + 1);

			if (p) {
				summary = p;
				summary[n] = 0;
			} else {
				free(summary);
				summary = NULL;
			}
		}
		ret = lab_write_provenance(path, o, &k, qemu, &q, cmdline, sbin, initrd, uname, &res, labdir,
					   summary && n ? (char *)summary : NULL, crosscheck, failure);
		free(summary);
	}
	if (ret)
		pr_warn("cannot write '%s': %s", path, strerror(-ret));
	if (*failure) {
		pr_err("%s: kept '%s' (%llu events) and '%s' for inspection", failure, o->out,
		       (unsigned long long)nr_events, path);
		print_file_tail(glog, 10);
		*failure = 0;	/* said */
		goto out;
	}
	printf("%s: %llu events, %s on %s (%s), %lluM, workload %s, compaction %s, %s, %.1f s\n", o->out,
	       (unsigned long long)nr_events, o->capture, k.package, k.version, (unsigned long long)(o->mem >> 20), o->workload,
	       o->compaction_on ? "on" : "off", o->deterministic ? "deterministic" : "not deterministic",
	       res.seconds);
	rc = 0;
out:
	if (*failure) {
		pr_err("%s", failure);
		if (*glog)
			print_file_tail(glog, 10);
	}
	if (rc || o->workdir)
		say("work folder kept: %s", wd);
	else if (made_wd)
		rm_rf(wd);
	sv_free(&q);
	return rc;
}

static const struct cmd_desc *self_desc(void);

/* lab compare A.fst B.fst: the cross-check of --capture both, on any two captures of one run */
static int run_compare(const struct cmd_desc *d, int argc, char **argv)
{
	struct lab_compare c;
	char line[512];

	if (argc != 3)
		return cmd_usage_error(d, "compare takes two trace files");
	if (lab_compare_traces(argv[1], argv[2], &c))
		return 1;
	compare_line(&c, line, sizeof(line), "A", "B");
	printf("%s\n", line);
	if (c.first_unpaired != UINT64_MAX)
		printf("first unpaired event: #%llu of A's window (from %llu ns)\n",
		       (unsigned long long)c.first_unpaired, (unsigned long long)c.window_start_ns);
	return c.a_events && c.b_events && !c.a_only && !c.b_only ? 0 : 1;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "mem", required_argument, NULL, 'm' },
		{ "workload", required_argument, NULL, 'w' },
		{ "workload-args", required_argument, NULL, 'W' },
		{ "smp", required_argument, NULL, 's' },
		{ "deterministic", no_argument, NULL, 'D' },
		{ "compaction", required_argument, NULL, 'C' },
		{ "capture", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cache", required_argument, NULL, 'K' },
		{ "workdir", required_argument, NULL, 'd' },
		{ "static", required_argument, NULL, 'S' },
		{ "qemu", required_argument, NULL, 'Q' },
		{ "append", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_desc *d = self_desc();
	struct lab_opts o = {
		.workload = "fragment", .capture = "record", .qemu = "qemu-system-x86_64",
		.mem = 256ull << 20, .smp = 1, .timeout_ns = 600ull * 1000000000ull,
	};
	char cache[PATH_MAX];
	int c;

	if (argc < 2)
		return cmd_usage_error(d, "missing subcommand (run or compare)");
	if (!strcmp(argv[1], "compare"))
		return run_compare(d, argc - 1, argv + 1);
	if (strcmp(argv[1], "run"))
		return cmd_usage_error(d, "unknown subcommand '%s'", argv[1]);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;	/* one line of ours instead of getopt's message plus a generic one */
	while ((c = getopt_long(argc, argv, ":k:m:w:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.kernel = optarg; break;
		case 'm':
			if (parse_size(optarg, &o.mem) || o.mem < (128ull << 20) || o.mem > (64ull << 30))
				return cmd_usage_error(d, "bad --mem '%s' (128M to 64G, e.g. 256M, 1G)", optarg);
			break;
		case 'w': o.workload = optarg; break;
		case 'W': o.wargs = optarg; break;
		case 's':
			if (parse_u64(optarg, 1, 64, &o.smp))
				return cmd_usage_error(d, "bad --smp '%s' (1 to 64)", optarg);
			break;
		case 'D': o.deterministic = true; break;
		case 'C':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return cmd_usage_error(d, "bad --compaction '%s' (on or off)", optarg);
			o.compaction_on = !strcmp(optarg, "on");
			break;
		case 'c':
			if (strcmp(optarg, "record") && strcmp(optarg, "tracefs") && strcmp(optarg, "both") &&
			    strcmp(optarg, "none"))
				return cmd_usage_error(d, "bad --capture '%s' (record, tracefs, both or none)", optarg);
			o.capture = optarg;
			break;
		case 'o': o.out = optarg; break;
		case 't':
			if (parse_duration(optarg, &o.timeout_ns) || o.timeout_ns < 1000000000ull)
				return cmd_usage_error(d, "bad --timeout '%s' (e.g. 300, 10m)", optarg);
			break;
		case 'K': o.cache = optarg; break;
		case 'd': o.workdir = optarg; break;
		case 'S': o.static_bin = optarg; break;
		case 'Q': o.qemu = optarg; break;
		case 'A': o.append = optarg; break;
		case ':': return cmd_bad_option(d, ':', argv, longopts);
		default: return cmd_bad_option(d, '?', argv, longopts);
		}
	}
	if (optind < argc)
		return cmd_usage_error(d, "unexpected argument '%s'", argv[optind]);
	/* everything checked here, before any build, download or boot */
	if (!o.kernel)
		return cmd_usage_error(d, "--kernel is required (6.1, 6.12 or a linux-image .deb)");
	if (strcmp(o.kernel, "6.1") && strcmp(o.kernel, "6.12") && !is_file(o.kernel))
		return cmd_usage_error(d, "bad --kernel '%s': 6.1, 6.12 or an existing linux-image .deb file",
				       o.kernel);
	if (!o.out && strcmp(o.capture, "none"))
		return cmd_usage_error(d, "-o OUT.fst is required");
	if (strpbrk(o.workload, " \t=") || (o.wargs && strpbrk(o.wargs, " \t")))
		return cmd_usage_error(d, "--workload and --workload-args take no spaces (separate arguments with commas)");
	if (strcmp(o.workload, "sh-fill") && workload_kind_from_name(o.workload) < 0)
		return cmd_usage_error(d, "unknown workload '%s' (fragment, thp, forks, mixed or sh-fill)", o.workload);
	if (o.static_bin && !is_file(o.static_bin))
		return cmd_usage_error(d, "bad --static '%s': no such file", o.static_bin);
	if (!o.cache) {
		const char *env = getenv("FRAGSCOPE_LAB_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
		const char *home = getenv("HOME");

		if (env && *env)
			snprintf(cache, sizeof(cache), "%s", env);
		else if (xdg && *xdg)
			lab_pathf(cache, sizeof(cache), "%s/fragscope/lab", xdg);
		else
			lab_pathf(cache, sizeof(cache), "%s/.cache/fragscope/lab", home ? home : "/tmp");
		o.cache = cache;
	}
	return lab_run(&o);
}

const struct cmd_desc cmd_lab_desc = {
	.name = "lab",
	.run = run,
	.summary = "capture other kernels (6.1, 6.12) in qemu",
	.usage = "run --kernel 6.1|6.12|PATH.deb [--mem SIZE] [--workload NAME] [--smp N] [--deterministic] -o OUT.fst\n"
		 "compare A.fst B.fst",
	.help =
	"Boots a stock Debian kernel in qemu (TCG: this machine's /dev/kvm cannot boot stock kernels)\n"
	"with a small initramfs (static busybox, the static fragscope from 'make static', an init\n"
	"script), runs 'fragscope record' around 'fragscope workload NAME' in the guest, and writes the\n"
	"trace to OUT.fst and how it was made to OUT.fst.provenance. Guest results come back over a\n"
	"second UART, so the guest needs no kernel modules.\n"
	"\n"
	"Options of 'lab run':\n"
	"  -k, --kernel K          6.1 or 6.12: apt-get download of the newest Debian linux-image of that\n"
	"                          series (6.12 from bookworm-security); or a linux-image .deb file\n"
	"  -m, --mem SIZE          guest memory (default 256M)\n"
	"  -w, --workload NAME     fragscope workload to run (default fragment); sh-fill is a\n"
	"                          busybox-only page-cache filler for checking the lab itself\n"
	"      --workload-args A,B extra workload arguments, comma-separated\n"
	"      --smp N             guest CPUs (default 1)\n"
	"      --deterministic     -icount shift=0,sleep=off,align=off and a fixed RTC: two runs of the\n"
	"                          same inputs give identical event streams (slower boot)\n"
	"      --compaction on|off off (default): vm.compaction_proactiveness=0, vm.extfrag_threshold=1000,\n"
	"                          because compaction moves free pages without kmem events; on: the\n"
	"                          kernel's defaults. The trace header (lab.compaction) says which\n"
	"      --capture MODE      record (default): fragscope record in the guest; tracefs: the six kmem\n"
	"                          events through tracefs, converted with fragscope import (the machine\n"
	"                          header from a short record run in the guest); both: record and\n"
	"                          tracefs over the same run,\n"
	"                          then their event streams are compared (a cross-check of record);\n"
	"                          none: boot and run the workload only\n"
	"  -o, --output OUT.fst    the trace to write\n"
	"      --timeout DUR       kill qemu after DUR (default 600s) and show the console's last lines\n"
	"      --cache DIR         kernel packages and extracted kernels (default $FRAGSCOPE_LAB_CACHE or\n"
	"                          ~/.cache/fragscope/lab)\n"
	"      --workdir DIR       keep the initramfs, console log and guest files there\n"
	"      --static PATH       the static fragscope to put in the guest (default: fragscope-static\n"
	"                          next to this binary, built with 'make static' if missing)\n"
	"      --qemu PATH         qemu-system-x86_64 to use\n"
	"      --append ARGS       more kernel command-line arguments\n"
	"\n"
	"'lab compare A.fst B.fst' pairs the kmem events of two captures of the same run (as --capture\n"
	"both does) and exits 0 when every event in their common window pairs (reorderings allowed).\n"
	"\n"
	"Needs: qemu-system-x86, busybox-static, xz-utils, apt (for --kernel 6.1|6.12); 'make deps'\n"
	"installs them. Two runs with --deterministic, the same kernel, qemu, initramfs and options\n"
	"give identical traces.\n",
};

static const struct cmd_desc *self_desc(void)
{
	return &cmd_lab_desc;
}
