// SPDX-License-Identifier: GPL-2.0-only
/*
 * lab/: the vmlinux extractor (zstd and xz bzImages built here), the PVH note and static-ELF
 * checks, the reproducible initramfs, the qemu runner (with stand-in scripts: output parsing,
 * timeout, console tail) and the trace annotator.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <cmocka.h>

#include "lab/lab.h"
#include "traces/trace.h"

static char tmpdir[] = "/tmp/test-lab.XXXXXX";

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char *argv[] = { "rm", "-rf", tmpdir, NULL };

	(void)state;
	return lab_spawn(argv, -1, -1, -1);
}

static char *tpath(const char *name)
{
	static char buf[8][512];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

/* A 64-bit ELF "kernel": a PT_NOTE segment (with the PVH note if asked), a PT_INTERP if asked,
 * and filler so that it is big enough to look like a kernel to the extractor. */
static uint8_t *make_elf(bool pvh_note, bool interp, size_t *size)
{
	size_t n = 64 * 1024;
	uint8_t *d = calloc(1, n);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)d;
	Elf64_Phdr *ph = (Elf64_Phdr *)(d + sizeof(*eh));
	uint8_t *note = d + 512;
	Elf64_Nhdr *nh = (Elf64_Nhdr *)note;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	/* a first note that is not the PVH one, then (maybe) the PVH note */
	nh->n_namesz = 4;
	nh->n_descsz = 4;
	nh->n_type = pvh_note ? 6 : 18;
	memcpy(note + sizeof(*nh), pvh_note ? "Xen" : "GNU", 4);
	nh = (Elf64_Nhdr *)(note + sizeof(*nh) + 8);
	nh->n_namesz = 4;
	nh->n_descsz = 4;
	nh->n_type = 18;
	memcpy((uint8_t *)nh + sizeof(*nh), pvh_note ? "Xen" : "Lin", 4);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = 512;
	ph[0].p_filesz = 2 * (sizeof(*nh) + 8);
	ph[1].p_type = interp ? PT_INTERP : PT_LOAD;
	ph[1].p_offset = 1024;
	ph[1].p_filesz = 16;
	for (size_t i = 2048; i < n; i++)
		d[i] = (uint8_t)(i * 2654435761u >> 13);
	*size = n;
	return d;
}

/* Wraps a compressed payload as an x86 bzImage: boot protocol 2.15 header, 3 setup sectors,
 * the payload at payload_offset into the protected-mode part, its size appended. */
static void write_bzimage(const char *path, const uint8_t *payload, size_t plen, uint32_t elf_size)
{
	size_t setup = (3 + 1) * 512, poff = 0x300, n = setup + poff + plen + 4 + 100;
	uint8_t *d = calloc(1, n);
	uint32_t v;

	d[0x1f1] = 3;
	memcpy(d + 0x202, "HdrS", 4);
	d[0x206] = 0x0f;
	d[0x207] = 0x02;
	v = poff;
	memcpy(d + 0x248, &v, 4);
	v = plen + 4;
	memcpy(d + 0x24c, &v, 4);
	memcpy(d + setup + poff, payload, plen);
	memcpy(d + setup + poff + plen, &elf_size, 4);
	assert_int_equal(lab_write_file(path, d, n), 0);
	free(d);
}

static void check_extracted(const char *vmlinuz, const uint8_t *elf, size_t elf_len, bool want_pvh)
{
	uint8_t *got;
	size_t got_len;
	bool pvh = !want_pvh;

	assert_int_equal(lab_extract_vmlinux(vmlinuz, tpath("vmlinux"), &pvh), 0);
	assert_int_equal(pvh, want_pvh);
	assert_int_equal(lab_read_file(tpath("vmlinux"), &got, &got_len), 0);
	assert_int_equal(got_len, elf_len);
	assert_memory_equal(got, elf, elf_len);
	free(got);
}

static void test_extract_zstd(void **state)
{
	size_t elf_len, cap, clen;
	uint8_t *elf = make_elf(true, false, &elf_len), *c;

	(void)state;
	cap = ZSTD_compressBound(elf_len);
	c = malloc(cap);
	clen = ZSTD_compress(c, cap, elf, elf_len, 19);
	assert_false(ZSTD_isError(clen));
	write_bzimage(tpath("vmlinuz-zstd"), c, clen, elf_len);
	check_extracted(tpath("vmlinuz-zstd"), elf, elf_len, true);
	free(c);
	free(elf);
	/* the same without the PVH note: extracted, but not bootable through PVH */
	elf = make_elf(false, false, &elf_len);
	c = malloc(cap);
	clen = ZSTD_compress(c, cap, elf, elf_len, 3);
	write_bzimage(tpath("vmlinuz-zstd2"), c, clen, elf_len);
	check_extracted(tpath("vmlinuz-zstd2"), elf, elf_len, false);
	free(c);
	free(elf);
}

static void test_extract_xz(void **state)
{
	char xz[512];
	size_t elf_len, clen;
	uint8_t *elf = make_elf(true, false, &elf_len), *c;
	FILE *in, *out;

	(void)state;
	if (!lab_find_program("xz", xz, sizeof(xz))) {
		free(elf);
		skip();
	}
	assert_int_equal(lab_write_file(tpath("elf"), elf, elf_len), 0);
	in = fopen(tpath("elf"), "rb");
	out = fopen(tpath("elf.xz"), "wb");
	{
		char *argv[] = { xz, "-c", "--check=crc32", NULL };

		assert_int_equal(lab_spawn(argv, fileno(in), fileno(out), -1), 0);
	}
	fclose(in);
	fclose(out);
	assert_int_equal(lab_read_file(tpath("elf.xz"), &c, &clen), 0);
	write_bzimage(tpath("vmlinuz-xz"), c, clen, elf_len);
	check_extracted(tpath("vmlinuz-xz"), elf, elf_len, true);
	free(c);
	free(elf);
}

static void test_extract_rejects(void **state)
{
	static const uint8_t gzip[16] = { 0x1f, 0x8b, 8, 0 };
	bool pvh = true;

	(void)state;
	assert_int_equal(lab_write_file(tpath("junk"), "not a kernel at all", 19), 0);
	assert_int_equal(lab_extract_vmlinux(tpath("junk"), tpath("out"), &pvh), -ENOEXEC);
	assert_false(pvh);
	assert_int_equal(lab_extract_vmlinux(tpath("missing"), tpath("out"), &pvh), -ENOENT);
	write_bzimage(tpath("vmlinuz-gz"), gzip, sizeof(gzip), 8192);
	assert_int_equal(lab_extract_vmlinux(tpath("vmlinuz-gz"), tpath("out"), &pvh), -ENOTSUP);
	/* a zstd payload whose inside is not an ELF */
	{
		uint8_t raw[8192], c[9000];
		size_t clen;

		memset(raw, 'x', sizeof(raw));
		clen = ZSTD_compress(c, sizeof(c), raw, sizeof(raw), 1);
		write_bzimage(tpath("vmlinuz-noelf"), c, clen, sizeof(raw));
		assert_int_equal(lab_extract_vmlinux(tpath("vmlinuz-noelf"), tpath("out"), &pvh), -ENOEXEC);
	}
	assert_int_not_equal(access(tpath("out"), F_OK), 0);	/* nothing half-written left */
}

static void test_elf_checks(void **state)
{
	size_t n;
	uint8_t *e;
	bool st;

	(void)state;
	e = make_elf(false, true, &n);
	assert_false(lab_elf_has_pvh_note(e, n));
	assert_int_equal(lab_write_file(tpath("dyn"), e, n), 0);
	assert_int_equal(lab_elf_is_static(tpath("dyn"), &st), 0);
	assert_false(st);
	free(e);
	e = make_elf(true, false, &n);
	assert_true(lab_elf_has_pvh_note(e, n));
	assert_false(lab_elf_has_pvh_note(e, 100));	/* truncated: no crash, no note */
	assert_int_equal(lab_write_file(tpath("static"), e, n), 0);
	assert_int_equal(lab_elf_is_static(tpath("static"), &st), 0);
	assert_true(st);
	free(e);
	assert_int_equal(lab_write_file(tpath("text"), "#!/bin/sh\n", 10), 0);
	assert_int_equal(lab_elf_is_static(tpath("text"), &st), -ENOEXEC);
}

/* Parses one newc entry at *off; returns its name (static buffer) and fills mode/size/data. */
static const char *cpio_next(const uint8_t *d, size_t n, size_t *off, uint32_t *mode, uint32_t *mtime,
			     uint32_t *uid, const uint8_t **data, size_t *size)
{
	static char name[256];
	char f[9] = { 0 };
	uint32_t v[13];
	size_t p = *off;

	assert_true(p + 110 <= n);
	assert_memory_equal(d + p, "070701", 6);
	for (int i = 0; i < 13; i++) {
		memcpy(f, d + p + 6 + 8 * i, 8);
		v[i] = strtoul(f, NULL, 16);
	}
	*mode = v[1];
	*uid = v[2];
	*mtime = v[5];
	*size = v[6];
	snprintf(name, sizeof(name), "%s", (const char *)d + p + 110);
	p = (p + 110 + v[11] + 3) & ~(size_t)3;
	*data = d + p;
	p = (p + v[6] + 3) & ~(size_t)3;
	*off = p;
	return name;
}

static void test_initramfs(void **state)
{
	uint8_t *a, *b;
	size_t na, nb, off = 0;
	const char *want[] = { "bin", "dev", "etc", "out", "proc", "sys", "tmp", "work", "dev/console",
			       "bin/sh", "bin/busybox", "bin/fragscope", "init", "TRAILER!!!" };

	(void)state;
	assert_int_equal(lab_write_file(tpath("init"), "#!/bin/sh\necho hi\n", 18), 0);
	assert_int_equal(lab_write_file(tpath("bb"), "BUSYBOX", 7), 0);
	assert_int_equal(lab_write_file(tpath("fs"), "FRAGSCOPE!", 10), 0);
	assert_int_equal(lab_build_initramfs(tpath("a.cpio"), tpath("init"), tpath("bb"), tpath("fs")), 0);
	sleep(1);	/* host times must not leak into the archive */
	chmod(tpath("init"), 0600);
	assert_int_equal(lab_build_initramfs(tpath("b.cpio"), tpath("init"), tpath("bb"), tpath("fs")), 0);
	assert_int_equal(lab_read_file(tpath("a.cpio"), &a, &na), 0);
	assert_int_equal(lab_read_file(tpath("b.cpio"), &b, &nb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint32_t mode, mtime, uid;
		const uint8_t *data;
		size_t size;
		const char *name = cpio_next(a, na, &off, &mode, &mtime, &uid, &data, &size);

		assert_string_equal(name, want[i]);
		assert_int_equal(mtime, 0);
		assert_int_equal(uid, 0);
		if (!strcmp(name, "init")) {
			assert_int_equal(mode, S_IFREG | 0755);
			assert_int_equal(size, 18);
			assert_memory_equal(data, "#!/bin/sh\necho hi\n", 18);
		} else if (!strcmp(name, "bin/sh")) {
			assert_int_equal(mode, S_IFLNK | 0777);
			assert_memory_equal(data, "busybox", 7);
		} else if (!strcmp(name, "dev/console")) {
			assert_int_equal(mode, S_IFCHR | 0600);
		} else if (!strcmp(name, "bin/fragscope")) {
			assert_int_equal(size, 10);
		}
	}
	assert_true(off <= na);
	free(a);
	free(b);
	/* a missing input is an error, not a short archive */
	assert_int_not_equal(lab_build_initramfs(tpath("c.cpio"), tpath("init"), tpath("nope"), tpath("fs")), 0);
}

static char said[4][128];
static int nsaid;

static void collect(const char *msg)
{
	if (nsaid < 4)
		snprintf(said[nsaid++], sizeof(said[0]), "%s", msg);
}

static void write_script(const char *name, const char *body)
{
	assert_int_equal(lab_write_file(tpath(name), body, strlen(body)), 0);
	assert_int_equal(chmod(tpath(name), 0755), 0);
}

static void test_run_qemu_standin(void **state)
{
	struct lab_tail tail = { 0 };
	struct lab_run_result res;
	char *argv[] = { tpath("fakeqemu"), NULL };
	uint8_t *log;
	size_t n;

	(void)state;
	write_script("fakeqemu", "#!/bin/sh\necho 'Linux version 6.12'\necho 'fslab: capture finished rc=3 (uptime 1)'\n"
				 "printf 'fslab: output 1234 bytes\\r\\n'\necho partial-line-without-newline\n"
				 "printf last\nexit 7\n");
	nsaid = 0;
	assert_int_equal(lab_run_qemu(argv, tpath("console.log"), 10ull * 1000000000ull, &tail, &res, collect), 0);
	assert_false(res.timed_out);
	assert_int_equal(res.status, 7);
	assert_int_equal(res.guest_rc, 3);
	assert_int_equal(res.output_bytes, 1234);
	assert_int_equal(nsaid, 2);
	assert_string_equal(said[1], "output 1234 bytes");
	assert_int_equal(tail.count, 5);
	assert_string_equal(tail.lines[(tail.next + LAB_TAIL_LINES - 2) % LAB_TAIL_LINES], "partial-line-without-newline");
	assert_string_equal(tail.lines[(tail.next + LAB_TAIL_LINES - 1) % LAB_TAIL_LINES], "last");	/* kept without its newline */
	assert_int_equal(lab_read_file(tpath("console.log"), &log, &n), 0);
	assert_true(n > 40);
	assert_memory_equal(log, "Linux version 6.12\n", 19);
	free(log);
}

static void test_run_qemu_timeout(void **state)
{
	struct lab_tail tail = { 0 };
	struct lab_run_result res;
	char *argv[] = { tpath("hang"), NULL };

	(void)state;
	/* more lines than the tail keeps, then a hang */
	write_script("hang", "#!/bin/sh\ni=0\nwhile [ $i -lt 40 ]; do echo \"boot line $i\"; i=$((i+1)); done\nexec sleep 30\n");
	assert_int_equal(lab_run_qemu(argv, tpath("console2.log"), 1500000000ull, &tail, &res, NULL), 0);
	assert_true(res.timed_out);
	assert_true(res.seconds < 10);
	assert_int_equal(res.guest_rc, -1);
	assert_int_equal(res.output_bytes, -1);
	assert_int_equal(tail.count, LAB_TAIL_LINES);
	assert_string_equal(tail.lines[(tail.next + LAB_TAIL_LINES - 1) % LAB_TAIL_LINES], "boot line 39");
	assert_string_equal(tail.lines[tail.next], "boot line 15");
	/* a qemu that does not exist */
	argv[0] = tpath("no-such-qemu");
	assert_true(lab_run_qemu(argv, tpath("console3.log"), 1000000000ull, &tail, &res, NULL) < 0);
}

static void test_annotate(void **state)
{
	struct trace_header h = { .page_size = 4096, .pageblock_order = 9, .nr_orders = 11, .nr_cpus = 1 };
	struct trace_writer_opts wo = { .sz = sizeof(wo) };
	struct trace_kv add[] = { { "lab.compaction", "off" }, { "capture.mode", "lab" } };
	struct trace_writer *w;
	struct trace_reader *r;
	struct trace_event ev = { 0 }, got;
	const struct trace_header *rh;
	uint64_t n = 0;
	int err = 0;

	(void)state;
	snprintf(h.kernel_release, sizeof(h.kernel_release), "6.12.117+deb12-amd64");
	snprintf(h.arch, sizeof(h.arch), "x86_64");
	assert_int_equal(trace_header_set(&h, "capture.mode", "btf"), 0);
	w = trace_writer_open(tpath("in.fst"), &wo, &err);
	assert_non_null(w);
	assert_int_equal(trace_writer_header(w, &h), 0);
	for (int i = 0; i < 1000; i++) {
		ev.ts_ns = 1000 + i;
		ev.kind = i % 2 ? TEV_PAGE_FREE : TEV_PAGE_ALLOC;
		ev.pfn = 0x1000 + i / 2;
		ev.mt = i % 2 ? -1 : 1;
		ev.fallback_mt = -1;
		ev.zone = 1;
		assert_int_equal(trace_writer_event(w, &ev), 0);
	}
	assert_int_equal(trace_writer_close(w), 0);
	trace_header_release(&h);

	assert_int_equal(lab_annotate(tpath("in.fst"), tpath("out.fst"), NULL, add, 2, &n), 0);
	assert_int_equal(n, 1000);
	r = trace_reader_open(tpath("out.fst"), &err, NULL, 0);
	assert_non_null(r);
	rh = trace_reader_header(r);
	assert_string_equal(rh->kernel_release, "6.12.117+deb12-amd64");
	assert_string_equal(trace_header_get(rh, "lab.compaction"), "off");
	assert_string_equal(trace_header_get(rh, "capture.mode"), "lab");	/* replaced, not doubled */
	n = 0;
	while (trace_reader_next(r, &got) == 1) {
		assert_int_equal(got.pfn, 0x1000 + n / 2);
		assert_int_equal(got.ts_ns, 1000 + n);
		n++;
	}
	assert_int_equal(n, 1000);
	trace_reader_close(r);
	/* a file that is not a trace: an error, and no output left behind */
	assert_int_equal(lab_write_file(tpath("bad.fst"), "garbage", 7), 0);
	assert_int_not_equal(lab_annotate(tpath("bad.fst"), tpath("bad-out.fst"), NULL, add, 2, &n), 0);
	assert_int_not_equal(access(tpath("bad-out.fst"), F_OK), 0);
}

/* Writes a trace of n events: kind alternating alloc/free, pfn = base + i, ts = t0 + i*1000. */
static void write_stream(const char *path, const struct trace_event *evs, size_t n)
{
	struct trace_header h = { .page_size = 4096, .pageblock_order = 9, .nr_orders = 11, .nr_cpus = 1 };
	struct trace_writer_opts wo = { .sz = sizeof(wo) };
	struct trace_writer *w;
	int err = 0;

	snprintf(h.kernel_release, sizeof(h.kernel_release), "6.1.0-56-amd64");
	w = trace_writer_open(path, &wo, &err);
	assert_non_null(w);
	assert_int_equal(trace_writer_header(w, &h), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(trace_writer_event(w, &evs[i]), 0);
	assert_int_equal(trace_writer_close(w), 0);
}

static void test_compare(void **state)
{
	enum { N = 2000 };
	struct trace_event *a = calloc(N, sizeof(*a)), *b = calloc(N + 10, sizeof(*b));
	struct lab_compare c;
	size_t nb = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		a[i].ts_ns = 1000000 + i * 10000;	/* 10 us apart: 1 ms = 100 events at each edge */
		a[i].kind = i % 3 == 2 ? TEV_PAGE_FREE_BATCHED : i % 2 ? TEV_PAGE_FREE : TEV_PAGE_ALLOC;
		a[i].pfn = 0x4000 + i;
		a[i].order = a[i].kind == TEV_PAGE_FREE_BATCHED ? 3 : i % 4;	/* batched: order ignored */
		a[i].mt = a[i].fallback_mt = -1;
	}
	/* identical streams, b starting earlier and ending later (only the common window counts) */
	b[nb++] = (struct trace_event){ .ts_ns = 10, .kind = TEV_PAGE_ALLOC, .pfn = 1, .mt = -1, .fallback_mt = -1 };
	for (size_t i = 0; i < N; i++) {
		b[nb] = a[i];
		if (b[nb].kind == TEV_PAGE_FREE_BATCHED)
			b[nb].order = 0;
		nb++;
	}
	b[nb++] = (struct trace_event){ .ts_ns = 1ull << 40, .kind = TEV_PAGE_FREE, .pfn = 2, .mt = -1, .fallback_mt = -1 };
	write_stream(tpath("ca.fst"), a, N);
	write_stream(tpath("cb.fst"), b, nb);
	assert_int_equal(lab_compare_traces(tpath("ca.fst"), tpath("cb.fst"), &c), 0);
	assert_int_equal(c.a_events, N - 200);	/* the common window less 1 ms at each end */
	assert_int_equal(c.b_events, N - 200);
	assert_int_equal(c.matched, N - 200);
	assert_int_equal(c.a_only + c.b_only + c.reordered, 0);
	assert_true(c.first_unpaired == UINT64_MAX);

	/* b: events 300 and 301 swapped (an IRQ between two probes), event 700 lost */
	nb = 0;
	for (size_t i = 0; i < N; i++) {
		if (i == 700)
			continue;
		b[nb] = a[i == 300 ? 301 : i == 301 ? 300 : i];
		b[nb].ts_ns = a[i].ts_ns;
		nb++;
	}
	write_stream(tpath("cb.fst"), b, nb);
	assert_int_equal(lab_compare_traces(tpath("ca.fst"), tpath("cb.fst"), &c), 0);
	assert_int_equal(c.a_events, N - 200);
	assert_int_equal(c.b_events, N - 201);
	assert_int_equal(c.matched, N - 202);
	assert_int_equal(c.reordered, 1);
	assert_int_equal(c.a_only, 1);
	assert_int_equal(c.b_only, 0);
	assert_int_equal(c.first_unpaired, 200);

	/* a different pfn at 1000 pairs nothing there, and the rest still pairs */
	for (size_t i = 0; i < N; i++)
		b[i] = a[i];
	b[1000].pfn = 0x999999;
	write_stream(tpath("cb.fst"), b, N);
	assert_int_equal(lab_compare_traces(tpath("ca.fst"), tpath("cb.fst"), &c), 0);
	assert_int_equal(c.matched, N - 201);
	assert_int_equal(c.reordered, 0);
	assert_int_equal(c.a_only, 1);
	assert_int_equal(c.b_only, 1);
	assert_int_equal(c.first_unpaired, 900);
	assert_int_not_equal(lab_compare_traces(tpath("ca.fst"), tpath("missing.fst"), &c), 0);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_zstd),
		cmocka_unit_test(test_extract_xz),
		cmocka_unit_test(test_extract_rejects),
		cmocka_unit_test(test_elf_checks),
		cmocka_unit_test(test_initramfs),
		cmocka_unit_test(test_run_qemu_standin),
		cmocka_unit_test(test_run_qemu_timeout),
		cmocka_unit_test(test_annotate),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
