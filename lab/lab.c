// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel lab's machinery (see lab.h): processes, the vmlinux extractor, the initramfs
 * writer, the qemu runner and the trace annotator. cmd-lab.c drives it.
 */
#include "lab/lab.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "util/errors.h"
#include "util/log.h"

extern char **environ;

/* snprintf for paths: a path that does not fit is an error, not a silent truncation. */
int lab_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The full path of an executable found in $PATH (or /usr/sbin, /sbin), in buf. */
bool lab_find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char *dup, *save = NULL;
	bool found = false;

	if (strchr(name, '/')) {
		snprintf(buf, len, "%s", name);
		return access(buf, X_OK) == 0;
	}
	if (asprintf(&dup, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin") < 0)
		return false;
	for (char *d = strtok_r(dup, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		lab_pathf(buf, len, "%s/%s", *d ? d : ".", name);
		found = access(buf, X_OK) == 0;
	}
	free(dup);
	return found;
}

/*
 * Runs argv[0] (searched in PATH) with stdin/stdout/stderr from the given fds (-1: inherit; for
 * stdin, -1 means /dev/null). Returns its exit status (0..255), 128+signal, or -errno.
 */
int lab_spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, ret;

	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Runs argv and collects its stdout (NUL-terminated, malloc'ed) into *out. */
int lab_spawn_capture(char *const argv[], int err_fd, char **out)
{
	char tmpl[] = "/tmp/fragscope-lab-XXXXXX";
	int fd = mkstemp(tmpl), ret;
	struct stat st;
	char *buf;

	*out = NULL;
	if (fd < 0)
		return -errno;
	unlink(tmpl);
	ret = lab_spawn(argv, -1, fd, err_fd);
	if (ret >= 0 && fstat(fd, &st) == 0 && (buf = calloc(1, st.st_size + 1))) {
		if (pread(fd, buf, st.st_size, 0) == st.st_size)
			*out = buf;
		else
			free(buf);
	}
	close(fd);
	if (ret >= 0 && !*out)
		return -EIO;
	return ret;
}

int lab_read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;

	*data = NULL;
	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*data = malloc(n ? n : 1);
	if (!*data) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(*data, 1, n, f) != (size_t)n) {
		free(*data);
		*data = NULL;
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*size = n;
	return 0;
}

int lab_write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -errno;
	if (fwrite(data, 1, size, f) != size)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* ---- ELF checks and the vmlinux extractor --------------------------------------------------- */

static const Elf64_Ehdr *elf64(const uint8_t *d, size_t n)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;

	if (n < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	if (eh->e_phoff > n || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > n - eh->e_phoff)
		return NULL;
	return eh;
}

/* true when the ELF file has no program interpreter (a static executable). */
int lab_elf_is_static(const char *path, bool *is_static)
{
	uint8_t *d;
	size_t n;
	const Elf64_Ehdr *eh;
	int ret = lab_read_file(path, &d, &n);

	if (ret)
		return ret;
	eh = elf64(d, n);
	if (!eh) {
		free(d);
		return -ENOEXEC;
	}
	*is_static = true;
	for (int i = 0; i < eh->e_phnum; i++)
		if (((const Elf64_Phdr *)(d + eh->e_phoff))[i].p_type == PT_INTERP)
			*is_static = false;
	free(d);
	return 0;
}

/*
 * true when the ELF kernel carries the PVH entry note (Xen note type 18, XEN_ELFNOTE_PHYS32_ENTRY),
 * which is what lets qemu -kernel boot the uncompressed vmlinux directly.
 */
bool lab_elf_has_pvh_note(const uint8_t *d, size_t n)
{
	const Elf64_Ehdr *eh = elf64(d, n);

	if (!eh)
		return false;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(d + eh->e_phoff) + i;
		uint64_t off = ph->p_offset, end = ph->p_offset + ph->p_filesz;

		if (ph->p_type != PT_NOTE || end > n || end < off)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(d + off);
			uint64_t name = off + sizeof(*nh);
			uint64_t desc = name + ((nh->n_namesz + 3) & ~3u);

			if (nh->n_namesz == 4 && name + 4 <= end && !memcmp(d + name, "Xen", 4) && nh->n_type == 18)
				return true;
			off = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return false;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Extracts the ELF vmlinux from an x86 bzImage. The boot protocol header (2.08+) says where the
 * compressed kernel lies: it starts payload_offset (0x248) bytes into the protected-mode code,
 * which follows the (setup_sects (0x1f1) + 1) real-mode sectors, and is payload_length (0x24c)
 * bytes long. The build appends the uncompressed size as 4 little-endian bytes to the payload.
 * zstd is decompressed here; xz by the xz program (xz-utils).
 */
int lab_extract_vmlinux(const char *vmlinuz, const char *out, bool *pvh)
{
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	uint8_t *img = NULL, *elf = NULL;
	size_t n, setup, poff, plen, elf_len = 0;
	char tmp[PATH_MAX];
	int ret;

	*pvh = false;
	ret = lab_read_file(vmlinuz, &img, &n);
	if (ret)
		return ret;
	ret = -ENOEXEC;
	if (n < 0x250 || memcmp(img + 0x202, "HdrS", 4) || (img[0x206] | img[0x207] << 8) < 0x208)
		goto out;
	setup = ((size_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	poff = setup + le32(img + 0x248);
	plen = le32(img + 0x24c);
	if (plen < 16 || poff > n || plen > n - poff)
		goto out;
	elf_len = le32(img + poff + plen - 4);
	if (elf_len < 4096 || elf_len > (1u << 30))
		goto out;
	lab_pathf(tmp, sizeof(tmp), "%s.tmp", out);
	if (!memcmp(img + poff, zstd_magic, sizeof(zstd_magic))) {
		size_t got;

		elf = malloc(elf_len);
		if (!elf) {
			ret = -ENOMEM;
			goto out;
		}
		got = ZSTD_decompress(elf, elf_len, img + poff, plen - 4);
		if (ZSTD_isError(got) || got != elf_len) {
			pr_err("cannot decompress the zstd kernel in '%s': %s", vmlinuz,
			       ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
			ret = -EIO;
			goto out;
		}
		ret = lab_write_file(tmp, elf, elf_len);
	} else if (!memcmp(img + poff, xz_magic, sizeof(xz_magic))) {
		char xz[PATH_MAX], in[PATH_MAX];
		int ifd, ofd;

		if (!lab_find_program("xz", xz, sizeof(xz))) {
			pr_err("the kernel in '%s' is xz-compressed and xz is not installed (apt-get install xz-utils)",
			       vmlinuz);
			ret = -ENOENT;
			goto out;
		}
		lab_pathf(in, sizeof(in), "%s.xz.tmp", out);
		ret = lab_write_file(in, img + poff, plen - 4);
		if (ret)
			goto out;
		ifd = open(in, O_RDONLY);
		ofd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (ifd < 0 || ofd < 0) {
			ret = -errno;
		} else {
			char *argv[] = { xz, "-dc", "--single-stream", NULL };

			ret = lab_spawn(argv, ifd, ofd, -1);
			if (ret > 0)
				ret = -EIO;
		}
		if (ifd >= 0)
			close(ifd);
		if (ofd >= 0)
			close(ofd);
		unlink(in);
		if (ret)
			goto out;
		ret = lab_read_file(tmp, &elf, &elf_len);
	} else {
		pr_warn("'%s': payload compression not handled (only zstd and xz)", vmlinuz);
		ret = -ENOTSUP;
		goto out;
	}
	if (ret)
		goto out;
	if (!elf64(elf, elf_len)) {
		pr_err("'%s': the decompressed payload is not an ELF kernel", vmlinuz);
		ret = -ENOEXEC;
		goto out;
	}
	*pvh = lab_elf_has_pvh_note(elf, elf_len);
	if (rename(tmp, out))
		ret = -errno;
out:
	if (ret)
		unlink(tmp);
	free(img);
	free(elf);
	return ret;
}

/* ---- initramfs: a newc cpio with fixed owners and times -------------------------------------- */

struct cpio {
	FILE *f;
	uint32_t ino;
	int err;
};

static void cpio_pad(struct cpio *c)
{
	static const char zeros[4];
	long pos = ftell(c->f);

	if (pos > 0 && (pos & 3))
		fwrite(zeros, 1, 4 - (pos & 3), c->f);
}

static void cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t rmaj, uint32_t rmin,
		     const void *data, size_t size)
{
	if (c->err)
		return;
	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		++c->ino, mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0, size, 0, 0, rmaj, rmin, strlen(name) + 1, 0);
	fwrite(name, 1, strlen(name) + 1, c->f);
	cpio_pad(c);
	if (size)
		fwrite(data, 1, size, c->f);
	cpio_pad(c);
	if (ferror(c->f))
		c->err = -EIO;
}

static void cpio_add_file(struct cpio *c, const char *name, uint32_t mode, const char *path)
{
	uint8_t *d;
	size_t n;
	int ret = lab_read_file(path, &d, &n);

	if (ret) {
		pr_err("cannot read '%s': %s", path, strerror(-ret));
		c->err = ret;
		return;
	}
	cpio_add(c, name, S_IFREG | mode, 0, 0, d, n);
	free(d);
}

int lab_build_initramfs(const char *out, const char *init, const char *busybox, const char *fragscope)
{
	static const char *const dirs[] = { "bin", "dev", "etc", "out", "proc", "sys", "tmp", "work" };
	struct cpio c = { .f = fopen(out, "wb") };

	if (!c.f)
		return -errno;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		cpio_add(&c, dirs[i], S_IFDIR | 0755, 0, 0, NULL, 0);
	cpio_add(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	cpio_add(&c, "bin/sh", S_IFLNK | 0777, 0, 0, "busybox", strlen("busybox"));
	cpio_add_file(&c, "bin/busybox", 0755, busybox);
	cpio_add_file(&c, "bin/fragscope", 0755, fragscope);
	cpio_add_file(&c, "init", 0755, init);
	cpio_add(&c, "TRAILER!!!", 0, 0, 0, NULL, 0);
	if (fclose(c.f) && !c.err)
		c.err = -errno;
	return c.err;
}

/* ---- qemu ---------------------------------------------------------------------------------- */


void lab_tail_add(struct lab_tail *t, const char *line)
{
	size_t n = strnlen(line, sizeof(t->lines[0]) - 1);

	memcpy(t->lines[t->next], line, n);
	t->lines[t->next][n] = 0;
	t->next = (t->next + 1) % LAB_TAIL_LINES;
	if (t->count < LAB_TAIL_LINES)
		t->count++;
}

void lab_tail_print(const struct lab_tail *t, const char *console_log)
{
	fprintf(stderr, "%s: last %d lines of the guest console (all in '%s'):\n", log_prefix(), t->count,
		console_log);
	for (int i = 0; i < t->count; i++)
		fprintf(stderr, "  | %s\n",
			t->lines[(t->next - t->count + i + LAB_TAIL_LINES) % LAB_TAIL_LINES]);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}


int lab_run_qemu(char *const argv[], const char *console_log, uint64_t timeout_ns,
		 struct lab_tail *tail, struct lab_run_result *res, void (*guest_says)(const char *msg))
{
	posix_spawn_file_actions_t fa;
	int pfd[2], st;
	pid_t pid;
	FILE *log;
	char line[4096];
	size_t ll = 0;
	uint64_t start = now_ns();
	bool eof = false;

	res->timed_out = false;
	res->output_bytes = -1;
	res->guest_rc = -1;
	log = fopen(console_log, "w");
	if (!log)
		return -errno;
	if (pipe2(pfd, O_CLOEXEC)) {
		fclose(log);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	st = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (st) {
		close(pfd[0]);
		fclose(log);
		return -st;
	}
	while (!eof) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (now_ns() - start > timeout_ns) {
			res->timed_out = true;
			kill(pid, SIGTERM);
			usleep(500000);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, 250) <= 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			eof = true;
			n = 0;
		}
		fwrite(buf, 1, n, log);
		for (ssize_t i = 0; i <= n; i++) {
			bool end = i == n ? eof : (buf[i] == '\n');

			if (i < n && buf[i] != '\n' && buf[i] != '\r' && ll < sizeof(line) - 1)
				line[ll++] = buf[i];
			if (!end || !ll)
				continue;
			line[ll] = 0;
			ll = 0;
			lab_tail_add(tail, line);
			if (!strncmp(line, "fslab: ", 7)) {
				const char *r = strstr(line, "rc=");

				if (guest_says)
					guest_says(line + 7);
				if (!strncmp(line, "fslab: output ", 14))
					res->output_bytes = strtol(line + 14, NULL, 10);
				if (r && !strncmp(line, "fslab: capture finished ", 24))
					res->guest_rc = atoi(r + 3);
			}
			pr_debug("console: %s", line);
		}
	}
	close(pfd[0]);
	fclose(log);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	res->seconds = (now_ns() - start) / 1e9;
	return 0;
}

static bool has_prefix(const char *s, const char *const *prefixes)
{
	for (; *prefixes; prefixes++)
		if (!strncmp(s, *prefixes, strlen(*prefixes)))
			return true;
	return false;
}

int lab_annotate(const char *in, const char *out, const char *header_from, const struct trace_kv *add,
		 int nr_add, uint64_t *nr_events)
{
	/* with header_from: the machine facts come from it, the capture's own facts from in */
	static const char *const machine_keys[] = { "vm.", "mm.", "kernel.", "header.source", "events.zone", NULL };
	static const char *const capture_keys[] = { "capture.", "tool.", "snapshot.", NULL };
	char errbuf[256] = "";
	int err = 0, ret;
	struct trace_reader *r = trace_reader_open(in, &err, errbuf, sizeof(errbuf));
	struct trace_reader *hr = NULL;
	struct trace_writer *w = NULL;
	struct trace_header h;
	const struct trace_header *src;
	struct trace_event ev;
	uint8_t *stack_done = NULL;
	size_t stack_cap = 0;

	*nr_events = 0;
	if (!r) {
		pr_err("%s", errbuf[0] ? errbuf : "cannot read the guest's trace");
		return err ? err : -EIO;
	}
	src = trace_reader_header(r);
	if (header_from) {
		const struct trace_header *mh;

		hr = trace_reader_open(header_from, &err, errbuf, sizeof(errbuf));
		if (!hr) {
			pr_err("%s", errbuf[0] ? errbuf : "cannot read the guest's header trace");
			trace_reader_close(r);
			return err ? err : -EIO;
		}
		mh = trace_reader_header(hr);
		h = *mh;	/* shallow: the arrays stay the readers'; only kv is ours */
		if (src->nr_gfp_flags) {	/* the import read them from the guest's own format file */
			h.nr_gfp_flags = src->nr_gfp_flags;
			h.gfp_flags = src->gfp_flags;
		}
		h.kv = NULL;
		h.nr_kv = 0;
		for (uint32_t i = 0; i < src->nr_kv && !err; i++)
			if (!has_prefix(src->kv[i].key, machine_keys))
				err = trace_header_set(&h, src->kv[i].key, src->kv[i].value);
		for (uint32_t i = 0; i < mh->nr_kv && !err; i++)
			if (!has_prefix(mh->kv[i].key, capture_keys))
				err = trace_header_set(&h, mh->kv[i].key, mh->kv[i].value);
		if (!err)
			err = trace_header_set(&h, "header.source", "the guest kernel (read by fragscope record in the guest)");
		if (!err)
			err = trace_header_set(&h, "events.zone", "from the guest's zone spans");
	} else {
		h = *src;	/* shallow: the arrays stay the reader's; only kv is ours */
		h.kv = NULL;
		h.nr_kv = 0;
		for (uint32_t i = 0; i < src->nr_kv && !err; i++)
			err = trace_header_set(&h, src->kv[i].key, src->kv[i].value);
	}
	for (int i = 0; i < nr_add && !err; i++)
		err = trace_header_set(&h, add[i].key, add[i].value);
	if (!err) {
		struct trace_writer_opts wo = { .sz = sizeof(wo) };

		w = trace_writer_open(out, &wo, &err);
		if (w)
			err = trace_writer_header(w, &h);
	}
	for (int which = 0; which < TRACE_SNAP_MAX && !err; which++) {
		const struct trace_snapshot *snap = trace_reader_snapshot(r, which);

		/* another header's zone indexes would not fit the capture's snapshots (imports have none) */
		if (snap && header_from)
			continue;

		if (snap)
			err = trace_writer_snapshot(w, snap);
	}
	while (!err && (ret = trace_reader_next(r, &ev)) != 0) {
		if (ret < 0) {
			pr_err("%s", trace_reader_status(r)->first_problem);
			snprintf(errbuf, sizeof(errbuf), "read");
			err = ret;
			break;
		}
		if (ev.stack_id) {
			if (ev.stack_id >= stack_cap) {
				size_t ncap = ((size_t)ev.stack_id + 1) * 2;
				uint8_t *p = realloc(stack_done, ncap);

				if (!p) {
					err = -ENOMEM;
					break;
				}
				memset(p + stack_cap, 0, ncap - stack_cap);
				stack_done = p;
				stack_cap = ncap;
			}
			if (!stack_done[ev.stack_id]) {
				const struct trace_stack *st = trace_reader_stack(r, ev.stack_id);

				stack_done[ev.stack_id] = 1;
				if (st)
					err = trace_writer_stack(w, st);
			}
		}
		if (header_from && ev.pfn != TRACE_PFN_NONE && ev.kind < TEV_COMPACT_ISOLATE_FREE)
			ev.zone = trace_header_zone_of(&h, ev.pfn);
		if (!err)
			err = trace_writer_event(w, &ev);
		(*nr_events)++;
	}
	if (!err && trace_reader_loss(r))
		err = trace_writer_loss(w, trace_reader_loss(r));
	ret = w ? trace_writer_close(w) : 0;
	if (!err)
		err = ret;
	for (uint32_t i = 0; i < h.nr_kv; i++) {
		free(h.kv[i].key);
		free(h.kv[i].value);
	}
	free(h.kv);
	free(stack_done);
	trace_reader_close(r);
	trace_reader_close(hr);
	if (err) {
		unlink(out);
		if (!errbuf[0])
			pr_err("cannot write '%s': %s", out, fragscope_strerror(err));
	}
	return err;
}

/* ---- cross-check ----------------------------------------------------------------------------- */

struct cmp_ev {
	uint64_t ts, pfn;
	uint8_t kind, order;
};

static int load_kmem_events(const char *path, struct cmp_ev **out, size_t *n)
{
	char errbuf[256] = "";
	int err = 0, ret;
	struct trace_reader *r = trace_reader_open(path, &err, errbuf, sizeof(errbuf));
	struct trace_event ev;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!r) {
		pr_err("%s", errbuf[0] ? errbuf : "cannot read a trace");
		return err ? err : -EIO;
	}
	while ((ret = trace_reader_next(r, &ev)) == 1) {
		if (ev.kind < TEV_PAGE_ALLOC || ev.kind > TEV_PAGE_ALLOC_EXTFRAG)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct cmp_ev *p = realloc(*out, ncap * sizeof(*p));

			if (!p) {
				ret = -ENOMEM;
				break;
			}
			*out = p;
			cap = ncap;
		}
		(*out)[(*n)++] = (struct cmp_ev){ .ts = ev.ts_ns, .pfn = ev.pfn, .kind = ev.kind,
						  /* free_batched carries no order of its own */
						  .order = ev.kind == TEV_PAGE_FREE_BATCHED ? 0 : ev.order };
	}
	if (ret < 0)
		pr_err("%s", trace_reader_status(r)->first_problem);
	trace_reader_close(r);
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret < 0 ? ret : 0;
}

static bool cmp_same(const struct cmp_ev *x, const struct cmp_ev *y)
{
	return x->kind == y->kind && x->pfn == y->pfn && x->order == y->order;
}

#define LAB_CMP_LOOKAHEAD 32
#define LAB_CMP_EDGE_NS 1000000ull	/* window edges left out: tracefs text has 1 us timestamps */
#define LAB_CMP_MAX_UNPAIRED 100000

struct cmp_unpaired {
	size_t *idx;
	size_t n, cap;
};

static void unpaired_add(struct cmp_unpaired *u, size_t i)
{
	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 256;
		size_t *p = ncap <= LAB_CMP_MAX_UNPAIRED ? realloc(u->idx, ncap * sizeof(*p)) : NULL;

		if (!p)
			return;
		u->idx = p;
		u->cap = ncap;
	}
	u->idx[u->n++] = i;
}

/* Unpaired events of a and b that are the same event seen at another place in the order (an
 * interrupt between the two probes of one tracepoint): same kind, pfn and order, within 1 ms. */
static uint64_t count_reordered(const struct cmp_ev *a, const struct cmp_unpaired *ua,
				const struct cmp_ev *b, struct cmp_unpaired *ub)
{
	uint64_t n = 0;

	for (size_t i = 0; i < ua->n; i++) {
		const struct cmp_ev *x = &a[ua->idx[i]];

		for (size_t j = 0; j < ub->n; j++) {
			const struct cmp_ev *y;

			if (ub->idx[j] == SIZE_MAX)
				continue;
			y = &b[ub->idx[j]];
			if (cmp_same(x, y) && (x->ts > y->ts ? x->ts - y->ts : y->ts - x->ts) < LAB_CMP_EDGE_NS) {
				ub->idx[j] = SIZE_MAX;
				n++;
				break;
			}
		}
	}
	return n;
}

int lab_compare_traces(const char *a_path, const char *b_path, struct lab_compare *res)
{
	struct cmp_ev *a, *b;
	size_t na, nb, ia = 0, ib = 0, ea, eb;
	struct cmp_unpaired ua = { 0 }, ub = { 0 };
	int ret;

	memset(res, 0, sizeof(*res));
	res->first_unpaired = UINT64_MAX;
	ret = load_kmem_events(a_path, &a, &na);
	if (ret)
		return ret;
	ret = load_kmem_events(b_path, &b, &nb);
	if (ret) {
		free(a);
		return ret;
	}
	if (!na || !nb)
		goto out;
	res->window_start_ns = a[0].ts > b[0].ts ? a[0].ts : b[0].ts;
	res->window_end_ns = a[na - 1].ts < b[nb - 1].ts ? a[na - 1].ts : b[nb - 1].ts;
	if (res->window_end_ns > res->window_start_ns + 4 * LAB_CMP_EDGE_NS) {
		res->window_start_ns += LAB_CMP_EDGE_NS;
		res->window_end_ns -= LAB_CMP_EDGE_NS;
	}
	while (ia < na && a[ia].ts < res->window_start_ns)
		ia++;
	while (ib < nb && b[ib].ts < res->window_start_ns)
		ib++;
	for (ea = ia; ea < na && a[ea].ts <= res->window_end_ns;)
		ea++;
	for (eb = ib; eb < nb && b[eb].ts <= res->window_end_ns;)
		eb++;
	res->a_events = ea - ia;
	res->b_events = eb - ib;
	{
		size_t a0 = ia;

		while (ia < ea && ib < eb) {
			size_t d, skip_a = 0, skip_b = 0;

			if (cmp_same(&a[ia], &b[ib])) {
				res->matched++;
				ia++;
				ib++;
				continue;
			}
			for (d = 1; d <= LAB_CMP_LOOKAHEAD && !skip_a && !skip_b; d++) {
				if (ia + d < ea && cmp_same(&a[ia + d], &b[ib]))
					skip_a = d;
				else if (ib + d < eb && cmp_same(&a[ia], &b[ib + d]))
					skip_b = d;
			}
			if (res->first_unpaired == UINT64_MAX)
				res->first_unpaired = ia - a0;
			if (skip_a) {
				while (skip_a--)
					unpaired_add(&ua, ia++);
			} else if (skip_b) {
				while (skip_b--)
					unpaired_add(&ub, ib++);
			} else {
				unpaired_add(&ua, ia++);
				unpaired_add(&ub, ib++);
			}
		}
		if (ia < ea || ib < eb) {
			if (res->first_unpaired == UINT64_MAX)
				res->first_unpaired = ia - a0;
			while (ia < ea)
				unpaired_add(&ua, ia++);
			while (ib < eb)
				unpaired_add(&ub, ib++);
		}
	}
	res->a_only = res->a_events - res->matched;
	res->b_only = res->b_events - res->matched;
	res->reordered = count_reordered(a, &ua, b, &ub);
	res->a_only -= res->reordered;
	res->b_only -= res->reordered;
	free(ua.idx);
	free(ub.idx);
out:
	free(a);
	free(b);
	return 0;
}
