/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel lab: boots Debian's stock kernels in qemu with a tiny initramfs holding the static
 * fragscope, and brings the trace back (../shared/kernel/lab-notes.md has the measurements).
 * This is the machinery; cmd-lab.c is the command and tests/lab/ holds the shell parts
 * (kernel.sh: apt-get download and extraction; init.sh: the guest's /init; matrix.sh: make lab).
 * Functions return 0 or -errno unless said otherwise.
 */
#ifndef FRAGSCOPE_LAB_H
#define FRAGSCOPE_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

/* ---- processes and files ---- */

/* The full path of an executable found in $PATH (then /usr/sbin, /sbin), in buf. */
bool lab_find_program(const char *name, char *buf, size_t len);
/* Runs argv (argv[0] searched in PATH) with the given fds as stdin/stdout/stderr (-1: inherit;
 * for stdin, /dev/null). Its exit status (0..255), 128+signal, or -errno if it could not start. */
int lab_spawn(char *const argv[], int in_fd, int out_fd, int err_fd);
/* The same (stdin /dev/null, stderr err_fd), collecting its stdout (NUL-terminated, malloc'ed)
 * into *out. */
int lab_spawn_capture(char *const argv[], int err_fd, char **out);
int lab_read_file(const char *path, uint8_t **data, size_t *size);
int lab_write_file(const char *path, const void *data, size_t size);

/* ---- kernels ---- */

/* *is_static: the ELF executable has no program interpreter. -ENOEXEC if not a 64-bit ELF. */
int lab_elf_is_static(const char *path, bool *is_static);
/* The ELF kernel carries the PVH entry note (Xen note 18, XEN_ELFNOTE_PHYS32_ENTRY), so qemu
 * -kernel can boot it directly. */
bool lab_elf_has_pvh_note(const uint8_t *elf, size_t size);
/* Writes the ELF vmlinux inside the x86 bzImage vmlinuz to out (zstd in-process, xz through the
 * xz program); *pvh as above. -ENOEXEC: not a bzImage (boot protocol 2.08+) or no ELF inside;
 * -ENOTSUP: another compression. */
int lab_extract_vmlinux(const char *vmlinuz, const char *out, bool *pvh);

/* ---- initramfs ---- */

/* Writes a newc cpio: /init (the init script), /bin/busybox (+ /bin/sh), /bin/fragscope,
 * /dev/console and empty folders; owners 0, times 0, inode numbers in order, so the same inputs
 * give the same bytes (the guest's page layout depends on them). */
int lab_build_initramfs(const char *out, const char *init, const char *busybox, const char *fragscope);

/* ---- qemu ---- */

#define LAB_TAIL_LINES 25

struct lab_tail {			/* the console's last lines */
	char lines[LAB_TAIL_LINES][256];
	int next, count;
};

void lab_tail_add(struct lab_tail *t, const char *line);
/* Prints them to stderr, saying where the whole console log is. */
void lab_tail_print(const struct lab_tail *t, const char *console_log);

struct lab_run_result {
	int status;		/* qemu's exit status, or 128+signal */
	bool timed_out;		/* killed after timeout_ns */
	long output_bytes;	/* the size the guest announced ("fslab: output N bytes"), or -1 */
	int guest_rc;		/* "fslab: capture finished rc=N", or -1 */
	double seconds;		/* wall time */
};

/* Runs qemu (argv[0] a path) with stdin /dev/null, its console (stdout/stderr) logged to
 * console_log and its last lines kept in tail; kills it after timeout_ns. Lines the guest's init
 * prints as "fslab: MSG" go to guest_says(MSG) if given. */
int lab_run_qemu(char *const argv[], const char *console_log, uint64_t timeout_ns,
		 struct lab_tail *tail, struct lab_run_result *res, void (*guest_says)(const char *msg));

/* ---- traces ---- */

/* Copies the trace in to out with nr_add more header keys (the guest's collector cannot know how
 * qemu ran it): header, snapshots, events, the stacks they use, losses. *nr_events: how many.
 * header_from (or NULL): a trace whose machine header (kernel, zones, migratetypes, sysctls) is
 * used instead of in's, e.g. for an import made on the host of a guest's tracefs text; then the
 * events' zones follow its zone spans and in's snapshots are dropped. */
int lab_annotate(const char *in, const char *out, const char *header_from, const struct trace_kv *add,
		 int nr_add, uint64_t *nr_events);

/* ---- cross-check of two captures of the same run (record against tracefs) ---- */

struct lab_compare {
	uint64_t a_events, b_events;	/* kmem page events (kinds 1..6) inside the common window */
	uint64_t matched;		/* paired in order: same kind, pfn and order */
	uint64_t reordered;		/* the same event at another place in the order (within 1 ms),
					 * e.g. an interrupt between the two probes of one tracepoint */
	uint64_t a_only, b_only;	/* seen by one side only */
	uint64_t first_unpaired;	/* index in a's window of the first unpaired event; UINT64_MAX if none */
	uint64_t window_start_ns, window_end_ns;	/* the time both captures cover */
};

/* Pairs the kmem page events of two traces of the same run in order (a small look-ahead absorbs
 * reorderings such as an interrupt nested between two probes), inside the time window both cover
 * (they share CLOCK_MONOTONIC) less 1 ms at each end (tracefs text has 1 us timestamps). */
int lab_compare_traces(const char *a, const char *b, struct lab_compare *res);

/* snprintf for paths: 0, or -ENAMETOOLONG when the path does not fit (never a silent truncation). */
int lab_pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
