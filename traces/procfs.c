// SPDX-License-Identifier: GPL-2.0-only
/* Machine facts for the trace header from /proc, /sys and tracepoint format files (procfs.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <event-parse.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "traces/procfs.h"
#include "util/errors.h"

#define MAX_TEXT (64u << 20)

char *trace_read_text_file(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p;

			if (cap >= MAX_TEXT) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			p = realloc(buf, cap + 1);
			if (!p) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static char *read_rooted(const char *root, const char *path, size_t *len)
{
	char full[4096];

	snprintf(full, sizeof(full), "%s%s", root ? root : "", path);
	return trace_read_text_file(full, len);
}

/* Next line of *cur (NUL-terminated in place); NULL at the end. */
static char *next_line(char **cur)
{
	char *s = *cur, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = s + strlen(s);
	}
	return s;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "key value" or "key: value": true and *v when the line (after blanks) starts with key. */
static bool kv_u64(const char *line, const char *key, uint64_t *v)
{
	const char *s = skip_ws(line);
	size_t n = strlen(key);
	char *end;

	if (strncmp(s, key, n))
		return false;
	s += n;
	if (*s == ':')
		s++;
	if (*s != ' ' && *s != '\t')
		return false;
	s = skip_ws(s);
	if (!isdigit((unsigned char)*s))
		return false;
	*v = strtoull(s, &end, 10);
	return true;
}

int trace_procfs_machine(struct trace_header *h, const char *root)
{
	struct utsname u;
	char *txt;
	long ps;

	if (uname(&u) == 0) {
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%.64s", u.release);
		snprintf(h->kernel_version, sizeof(h->kernel_version), "%s", u.version);
		snprintf(h->arch, sizeof(h->arch), "%.15s", u.machine);
	}
	ps = sysconf(_SC_PAGESIZE);
	h->page_size = ps > 0 ? (uint32_t)ps : 4096;
	txt = read_rooted(root, "/sys/devices/system/cpu/possible", NULL);
	if (txt) {
		/* "0-1" or "0,2-5": the highest CPU number plus one */
		uint32_t maxcpu = 0;

		for (char *p = txt; *p;) {
			if (isdigit((unsigned char)*p)) {
				unsigned long v = strtoul(p, &p, 10);

				if (v + 1 > maxcpu && v < (1u << 20))
					maxcpu = (uint32_t)v + 1;
			} else {
				p++;
			}
		}
		h->nr_cpus = maxcpu;
		free(txt);
	} else {
		long n = sysconf(_SC_NPROCESSORS_CONF);

		h->nr_cpus = n > 0 ? (uint32_t)n : 0;
	}
	return 0;
}

static void zone_release(struct trace_zone *z)
{
	free(z->lowmem_reserve);
	free(z->pcp);
}

int trace_procfs_zoneinfo_text(struct trace_header *h, const char *text)
{
	char *copy = strdup(text), *cur = copy, *line;
	struct trace_zone *zones = NULL, *z = NULL;
	uint32_t nr = 0, cap = 0;
	struct trace_pcp_config *pcp = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	while ((line = next_line(&cur))) {
		unsigned int node;
		char name[TRACE_NAME_MAX];
		uint64_t v;
		const char *s = skip_ws(line);

		if (sscanf(line, "Node %u, zone %31s", &node, name) == 2) {
			if (nr == cap) {
				uint32_t ncap = cap ? cap * 2 : 8;
				struct trace_zone *p = realloc(zones, ncap * sizeof(*p));

				if (!p) {
					err = -ENOMEM;
					break;
				}
				zones = p;
				cap = ncap;
			}
			z = &zones[nr];
			memset(z, 0, sizeof(*z));
			z->node = node;
			snprintf(z->name, sizeof(z->name), "%s", name);
			z->zone_idx = 0;
			for (uint32_t i = 0; i < nr; i++)
				if (zones[i].node == node)
					z->zone_idx++;
			nr++;
			pcp = NULL;
			continue;
		}
		if (!z)
			continue;
		if (!strncmp(s, "pages free", 10)) {
			if (sscanf(s + 10, "%" SCNu64, &v) == 1)
				z->nr_free_pages = v;
		} else if (kv_u64(line, "boost", &v)) {
			z->watermark_boost = v;
		} else if (kv_u64(line, "min", &v)) {
			z->wmark_min = v;
		} else if (kv_u64(line, "low", &v)) {
			z->wmark_low = v;
		} else if (kv_u64(line, "high", &v) && !pcp) {
			z->wmark_high = v;
		} else if (kv_u64(line, "promo", &v)) {
			z->wmark_promo = v;
		} else if (kv_u64(line, "spanned", &v)) {
			z->spanned = v;
		} else if (kv_u64(line, "present", &v)) {
			z->present = v;
		} else if (kv_u64(line, "managed", &v)) {
			z->managed = v;
		} else if (kv_u64(line, "start_pfn", &v)) {
			z->start_pfn = v;
		} else if (!strncmp(s, "protection:", 11)) {
			const char *p = strchr(s, '(');
			uint32_t n = 0;

			free(z->lowmem_reserve);
			z->lowmem_reserve = NULL;
			z->nr_lowmem_reserve = 0;
			for (const char *q = p; q && *q; q++)
				n += *q == ',' || *q == ')';
			if (!p || !n)
				continue;
			z->lowmem_reserve = calloc(n, sizeof(uint64_t));
			if (!z->lowmem_reserve) {
				err = -ENOMEM;
				break;
			}
			for (p++; *p && z->nr_lowmem_reserve < n;) {
				char *end;

				p = skip_ws(p);
				if (!isdigit((unsigned char)*p))
					break;
				z->lowmem_reserve[z->nr_lowmem_reserve++] = strtoull(p, &end, 10);
				p = end;
				if (*p == ',')
					p++;
			}
		} else if (kv_u64(line, "cpu", &v)) {
			struct trace_pcp_config *np = realloc(z->pcp, (z->nr_pcp + 1) * sizeof(*np));

			if (!np) {
				err = -ENOMEM;
				break;
			}
			z->pcp = np;
			pcp = &z->pcp[z->nr_pcp++];
			memset(pcp, 0, sizeof(*pcp));
			pcp->cpu = (uint32_t)v;
		} else if (pcp && kv_u64(line, "count", &v)) {
			pcp->count = (uint32_t)v;
		} else if (pcp && kv_u64(line, "high", &v)) {
			pcp->high = (uint32_t)v;
		} else if (pcp && kv_u64(line, "batch", &v)) {
			pcp->batch = (uint32_t)v;
		} else if (pcp && kv_u64(line, "high_min", &v)) {
			pcp->high_min = (uint32_t)v;
		} else if (pcp && kv_u64(line, "high_max", &v)) {
			pcp->high_max = (uint32_t)v;
		} else if (!strncmp(s, "vm stats threshold", 18)) {
			/* ends a pcp record */
		} else if (!strncmp(s, "node_unreclaimable", 18) || !strncmp(s, "pagesets", 8)) {
			pcp = NULL;
		}
	}
	free(copy);
	if (err) {
		for (uint32_t i = 0; i < nr; i++)
			zone_release(&zones[i]);
		free(zones);
		return err;
	}
	if (!nr) {
		free(zones);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	/* /proc/zoneinfo prints watermarks with the boost added (wmark_pages()); store them without */
	for (uint32_t i = 0; i < nr; i++) {
		struct trace_zone *x = &zones[i];
		uint64_t b = x->watermark_boost;

		x->wmark_min -= b <= x->wmark_min ? b : x->wmark_min;
		x->wmark_low -= b <= x->wmark_low ? b : x->wmark_low;
		x->wmark_high -= b <= x->wmark_high ? b : x->wmark_high;
		x->wmark_promo -= b <= x->wmark_promo ? b : x->wmark_promo;
	}
	for (uint32_t i = 0; i < h->nr_zones; i++)
		zone_release(&h->zones[i]);
	free(h->zones);
	h->zones = zones;
	h->nr_zones = nr;
	return 0;
}

/* Reads root+path whole and hands the text to a header parser. */
static int parse_rooted(struct trace_header *h, const char *root, const char *path,
			int (*parse)(struct trace_header *h, const char *text))
{
	char *txt = read_rooted(root, path, NULL);
	int err;

	if (!txt)
		return -errno;
	err = parse(h, txt);
	free(txt);
	return err;
}

int trace_procfs_zoneinfo(struct trace_header *h, const char *root)
{
	return parse_rooted(h, root, "/proc/zoneinfo", trace_procfs_zoneinfo_text);
}

/* The migratetype names of the "Number of blocks type" header line, in column order. */
static int parse_mt_names(const char *line, char names[][TRACE_NAME_MAX], int max)
{
	const char *s = strstr(line, "Number of blocks type");
	int n = 0;

	if (!s)
		return 0;
	s += strlen("Number of blocks type");
	while (*s && n < max) {
		size_t len;

		s = skip_ws(s);
		len = strcspn(s, " \t");
		if (!len)
			break;
		if (len >= TRACE_NAME_MAX)
			len = TRACE_NAME_MAX - 1;
		memcpy(names[n], s, len);
		names[n][len] = '\0';
		n++;
		s += strcspn(s, " \t");
	}
	return n;
}

int trace_procfs_pagetypeinfo_header_text(struct trace_header *h, const char *text)
{
	char *copy = strdup(text), *cur = copy, *line;
	char names[64][TRACE_NAME_MAX];
	int nmt = 0;

	if (!copy)
		return -ENOMEM;
	while ((line = next_line(&cur))) {
		unsigned int v;

		if (sscanf(line, "Page block order: %u", &v) == 1) {
			h->pageblock_order = v;
		} else if (!strncmp(line, "Free pages count per migrate type at order", 42)) {
			uint32_t n = 0;

			for (const char *p = line + 42; *p;) {
				p = skip_ws(p);
				if (!isdigit((unsigned char)*p))
					break;
				n++;
				while (isdigit((unsigned char)*p))
					p++;
			}
			h->nr_orders = n;
		} else if (strstr(line, "Number of blocks type")) {
			nmt = parse_mt_names(line, names, 64);
		}
	}
	free(copy);
	if (!nmt || !h->nr_orders)
		return FS_ERRNO__KERNEL_LAYOUT;
	if (!h->nr_migratetypes) {
		h->migratetypes = calloc((size_t)nmt, sizeof(*h->migratetypes));
		if (!h->migratetypes)
			return -ENOMEM;
		for (int i = 0; i < nmt; i++) {
			snprintf(h->migratetypes[i].name, sizeof(h->migratetypes[i].name), "%s", names[i]);
			h->migratetypes[i].value = i;	/* pagetypeinfo prints them in enum order */
		}
		h->nr_migratetypes = (uint32_t)nmt;
	}
	return 0;
}

int trace_procfs_pagetypeinfo_header(struct trace_header *h, const char *root)
{
	return parse_rooted(h, root, "/proc/pagetypeinfo", trace_procfs_pagetypeinfo_header_text);
}

static int zone_by_name(const struct trace_header *h, unsigned int node, const char *name)
{
	for (uint32_t i = 0; i < h->nr_zones; i++)
		if (h->zones[i].node == node && !strcmp(h->zones[i].name, name))
			return (int)i;
	return -1;
}

static struct trace_zone_counts *counts_for(struct trace_snapshot *s, uint16_t zone, uint32_t nr_orders,
					    uint32_t nr_mt)
{
	struct trace_zone_counts *c;

	for (uint32_t i = 0; i < s->nr_counts; i++)
		if (s->counts[i].zone == zone)
			return &s->counts[i];
	c = realloc(s->counts, (s->nr_counts + 1) * sizeof(*c));
	if (!c)
		return NULL;
	s->counts = c;
	c = &s->counts[s->nr_counts];
	memset(c, 0, sizeof(*c));
	c->zone = zone;
	c->nr_orders = nr_orders;
	c->nr_migratetypes = nr_mt;
	c->nr_free = calloc((size_t)nr_orders * nr_mt + 1, sizeof(uint64_t));
	c->nr_blocks = calloc(nr_mt + 1, sizeof(uint64_t));
	if (!c->nr_free || !c->nr_blocks) {
		free(c->nr_free);
		free(c->nr_blocks);
		return NULL;
	}
	s->nr_counts++;
	return c;
}

int trace_procfs_pagetypeinfo_snapshot_text(const struct trace_header *h, const char *text,
					    enum trace_snapshot_which which, struct trace_snapshot *s)
{
	struct trace_header tmp = { 0 };
	char names[64][TRACE_NAME_MAX];
	char *copy, *cur, *line;
	int nmt, err;
	uint32_t nr_orders;

	memset(s, 0, sizeof(*s));
	err = trace_procfs_pagetypeinfo_header_text(&tmp, text);
	if (err) {
		trace_header_release(&tmp);
		return err;
	}
	nr_orders = tmp.nr_orders;
	nmt = (int)tmp.nr_migratetypes;
	for (int i = 0; i < nmt; i++)
		snprintf(names[i], sizeof(names[i]), "%s", tmp.migratetypes[i].name);
	trace_header_release(&tmp);
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	cur = copy;
	s->which = which;
	s->method = TRACE_SNAP_PAGETYPEINFO;
	s->flags = TRACE_SNAPF_COUNTS;
	while ((line = next_line(&cur))) {
		unsigned int node;
		char zname[TRACE_NAME_MAX], tname[TRACE_NAME_MAX];
		int zi, pos, mtv = -1;
		struct trace_zone_counts *c;
		const char *p;

		if (sscanf(line, "Node %u, zone %31[^,], type %31s%n", &node, zname, tname, &pos) == 3) {
			char *zn = zname;

			while (*zn == ' ')
				zn++;
			zi = zone_by_name(h, node, zn);
			for (int i = 0; i < nmt; i++)
				if (!strcmp(names[i], tname))
					mtv = i;
			if (zi < 0 || mtv < 0)
				continue;
			c = counts_for(s, (uint16_t)zi, nr_orders, (uint32_t)nmt);
			if (!c) {
				err = -ENOMEM;
				break;
			}
			p = line + pos;
			for (uint32_t o = 0; o < nr_orders; o++) {
				char *end;

				p = skip_ws(p);
				if (!isdigit((unsigned char)*p))
					break;
				c->nr_free[o * (uint32_t)nmt + (uint32_t)mtv] = strtoull(p, &end, 10);
				p = end;
			}
		} else if (sscanf(line, "Node %u, zone %31s%n", &node, zname, &pos) == 2 &&
			   !strstr(line, "type")) {
			zi = zone_by_name(h, node, zname);
			if (zi < 0)
				continue;
			c = counts_for(s, (uint16_t)zi, nr_orders, (uint32_t)nmt);
			if (!c) {
				err = -ENOMEM;
				break;
			}
			p = line + pos;
			for (int i = 0; i < nmt; i++) {
				char *end;

				p = skip_ws(p);
				if (!isdigit((unsigned char)*p))
					break;
				c->nr_blocks[i] = strtoull(p, &end, 10);
				p = end;
			}
		}
	}
	free(copy);
	if (!err && !s->nr_counts)
		err = FS_ERRNO__KERNEL_LAYOUT;
	if (err) {
		trace_snapshot_release(s);
		return err;
	}
	s->note = strdup("counts only, from /proc/pagetypeinfo of the machine that ran the import or "
			 "record: no pageblock types, no free block addresses, no pcp contents");
	return 0;
}

int trace_procfs_pagetypeinfo_snapshot(const struct trace_header *h, const char *root,
				       enum trace_snapshot_which which, struct trace_snapshot *s)
{
	char *txt = read_rooted(root, "/proc/pagetypeinfo", NULL);
	int err;

	memset(s, 0, sizeof(*s));
	if (!txt)
		return -errno;
	err = trace_procfs_pagetypeinfo_snapshot_text(h, txt, which, s);
	free(txt);
	return err;
}

static const struct {
	const char *path, *key;
} sysfiles[] = {
	{ "/proc/sys/vm/watermark_boost_factor", "vm.watermark_boost_factor" },
	{ "/proc/sys/vm/watermark_scale_factor", "vm.watermark_scale_factor" },
	{ "/proc/sys/vm/percpu_pagelist_high_fraction", "vm.percpu_pagelist_high_fraction" },
	{ "/proc/sys/vm/min_free_kbytes", "vm.min_free_kbytes" },
	{ "/proc/sys/vm/lowmem_reserve_ratio", "vm.lowmem_reserve_ratio" },
	{ "/proc/sys/vm/extfrag_threshold", "vm.extfrag_threshold" },
	{ "/proc/sys/vm/compaction_proactiveness", "vm.compaction_proactiveness" },
	{ "/proc/sys/vm/compact_unevictable_allowed", "vm.compact_unevictable_allowed" },
	{ "/proc/sys/vm/defrag_mode", "vm.defrag_mode" },
	{ "/proc/sys/vm/page_lock_unfairness", "vm.page_lock_unfairness" },
	{ "/proc/sys/vm/zone_reclaim_mode", "vm.zone_reclaim_mode" },
	{ "/proc/sys/vm/numa_zonelist_order", "vm.numa_zonelist_order" },
	{ "/sys/module/page_alloc/parameters/shuffle", "mm.shuffle" },
	{ "/sys/module/page_reporting/parameters/page_reporting_order", "mm.page_reporting_order" },
	{ "/sys/kernel/mm/transparent_hugepage/enabled", "mm.transparent_hugepage" },
	{ "/sys/kernel/mm/transparent_hugepage/defrag", "mm.transparent_hugepage_defrag" },
	{ "/proc/cmdline", "kernel.cmdline" },
};

int trace_procfs_sysctls(struct trace_header *h, const char *root)
{
	for (size_t i = 0; i < sizeof(sysfiles) / sizeof(sysfiles[0]); i++) {
		char *txt = read_rooted(root, sysfiles[i].path, NULL);
		size_t n;
		int err;

		if (!txt)
			continue;
		/* one line; tabs and newlines become spaces */
		for (char *p = txt; *p; p++)
			if (*p == '\t' || *p == '\n')
				*p = ' ';
		n = strlen(txt);
		while (n && txt[n - 1] == ' ')
			txt[--n] = '\0';
		err = trace_header_set(h, sysfiles[i].key, txt);
		free(txt);
		if (err)
			return err;
	}
	return 0;
}

/* Finds the __print_flags of field `field` in a print-fmt argument tree. */
static struct tep_print_arg *find_flags(struct tep_print_arg *a, const char *field, int depth)
{
	for (; a && depth < 64; a = a->next) {
		struct tep_print_arg *f = NULL;

		switch (a->type) {
		case TEP_PRINT_FLAGS:
			if (a->flags.field && a->flags.field->type == TEP_PRINT_FIELD &&
			    a->flags.field->field.name && !strcmp(a->flags.field->field.name, field))
				return a;
			break;
		case TEP_PRINT_OP:
			f = find_flags(a->op.left, field, depth + 1);
			if (!f)
				f = find_flags(a->op.right, field, depth + 1);
			break;
		default:
			break;
		}
		if (f)
			return f;
	}
	return NULL;
}

/*
 * A C integer constant expression as a tracepoint format writes a __print_flags value, e.g. 6.1's
 * "0x100u" or "(( gfp_t)0x100u)", 6.12's "(( gfp_t)((((1UL))) << (8)))", or the decimal string
 * libtraceevent leaves after evaluating an operator. Integer literals with u/l/ul/ull suffixes,
 * casts "(type)" (skipped), unary ~ - + !, binary * / % + - << >> & ^ |, parentheses.
 */
struct cexpr {
	const char *p;
	bool bad;
};

static void cx_ws(struct cexpr *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static uint64_t cx_binary(struct cexpr *c, int level);

/* "(" already seen: is what follows a type name list and ")" (a cast)? Advances past it if so. */
static bool cx_cast(struct cexpr *c)
{
	const char *q = c->p;
	bool word = false;

	for (;;) {
		while (isspace((unsigned char)*q))
			q++;
		if (isalpha((unsigned char)*q) || *q == '_') {
			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			word = true;
		} else if (*q == '*') {
			q++;
		} else {
			break;
		}
	}
	if (!word || *q != ')')
		return false;
	c->p = q + 1;
	return true;
}

static uint64_t cx_unary(struct cexpr *c, int depth)
{
	uint64_t v;
	char *end;

	cx_ws(c);
	if (depth > 64) {
		c->bad = true;
		return 0;
	}
	switch (*c->p) {
	case '~': c->p++; return ~cx_unary(c, depth + 1);
	case '-': c->p++; return -cx_unary(c, depth + 1);
	case '+': c->p++; return cx_unary(c, depth + 1);
	case '!': c->p++; return !cx_unary(c, depth + 1);
	case '(':
		c->p++;
		if (cx_cast(c))
			return cx_unary(c, depth + 1);
		v = cx_binary(c, 0);
		cx_ws(c);
		if (*c->p != ')')
			c->bad = true;
		else
			c->p++;
		return v;
	default:
		break;
	}
	if (!isdigit((unsigned char)*c->p)) {
		c->bad = true;
		return 0;
	}
	errno = 0;
	v = strtoull(c->p, &end, 0);
	if (errno || end == c->p)
		c->bad = true;
	c->p = end;
	while (*c->p == 'u' || *c->p == 'U' || *c->p == 'l' || *c->p == 'L')
		c->p++;
	if (isalnum((unsigned char)*c->p) || *c->p == '_')
		c->bad = true;	/* e.g. "0x10q" or an identifier glued to a number */
	return v;
}

/* Precedence climbing over C's binary operators, loosest (level 0: |) to tightest (*). */
static uint64_t cx_binary(struct cexpr *c, int level)
{
	static const char *const ops[][3] = {
		{ "|" }, { "^" }, { "&" }, { "<<", ">>" }, { "+", "-" }, { "*", "/", "%" },
	};
	uint64_t l;

	if (level == 6)
		return cx_unary(c, 0);
	l = cx_binary(c, level + 1);
	for (;;) {
		const char *op = NULL;
		uint64_t r;

		cx_ws(c);
		for (int i = 0; i < 3 && ops[level][i]; i++) {
			size_t n = strlen(ops[level][i]);

			/* "|" must not take "||", "&" not "&&", "<<" not "<=" etc. */
			if (!strncmp(c->p, ops[level][i], n) &&
			    !(n == 1 && (c->p[1] == c->p[0] || c->p[1] == '='))) {
				op = ops[level][i];
				break;
			}
		}
		if (!op || c->bad)
			return l;
		c->p += strlen(op);
		r = cx_binary(c, level + 1);
		switch (op[0]) {
		case '|': l |= r; break;
		case '^': l ^= r; break;
		case '&': l &= r; break;
		case '<': l = r < 64 ? l << r : 0; break;
		case '>': l = r < 64 ? l >> r : 0; break;
		case '+': l += r; break;
		case '-': l -= r; break;
		case '*': l *= r; break;
		case '/': if (r) l /= r; else c->bad = true; break;
		case '%': if (r) l %= r; else c->bad = true; break;
		default: c->bad = true; break;
		}
	}
}

int trace_parse_c_const(const char *s, uint64_t *v)
{
	struct cexpr c = { .p = s };
	uint64_t x;

	if (!s)
		return -EINVAL;
	x = cx_binary(&c, 0);
	cx_ws(&c);
	if (c.bad || *c.p)
		return -EINVAL;
	*v = x;
	return 0;
}

int trace_format_gfp_flags_event(struct trace_header *h, struct tep_event *ev)
{
	struct tep_print_arg *a = ev ? find_flags(ev->print_fmt.args, "gfp_flags", 0) : NULL;
	struct trace_flag_name *tab;
	uint32_t n = 0, i = 0;

	if (!a)
		return FS_ERRNO__BAD_FORMAT_FILE;
	for (struct tep_print_flag_sym *f = a->flags.flags; f; f = f->next)
		n++;
	tab = calloc(n ? n : 1, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (struct tep_print_flag_sym *f = a->flags.flags; f; f = f->next) {
		uint64_t v;

		if (!f->value || !f->str)
			continue;
		if (trace_parse_c_const(f->value, &v) || !v)
			continue;	/* the { 0, NULL } terminator, or a value that did not evaluate */
		tab[i].mask = v;
		snprintf(tab[i].name, sizeof(tab[i].name), "%s", f->str);
		i++;
	}
	free(h->gfp_flags);
	h->gfp_flags = tab;
	h->nr_gfp_flags = i;
	return i ? 0 : FS_ERRNO__BAD_FORMAT_FILE;
}

int trace_format_gfp_flags(struct trace_header *h, const char *format_text, size_t len)
{
	struct tep_handle *tep = tep_alloc();
	struct tep_event *ev = NULL;
	int err;

	if (!tep)
		return -ENOMEM;
	if (tep_parse_format(tep, &ev, format_text, len, "kmem") != 0 || !ev) {
		tep_free(tep);
		return FS_ERRNO__BAD_FORMAT_FILE;
	}
	err = trace_format_gfp_flags_event(h, ev);
	tep_free(tep);
	return err;
}

const char *trace_tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (size_t i = 0; i < 2; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (access(p, R_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

int trace_btf_pageblock_bits(struct trace_header *h)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err = -ENOENT;

	if (!btf)
		return -errno;
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t) || strcmp(btf__name_by_offset(btf, t->name_off), "pageblock_bits"))
			continue;
		e = btf_enum(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++) {
			const char *n = btf__name_by_offset(btf, e[i].name_off);
			uint32_t v = (uint32_t)e[i].val, p2 = 1;

			if (!strcmp(n, "NR_PAGEBLOCK_BITS")) {
				h->nr_pageblock_bits = v;
				err = 0;
			} else if (!strcmp(n, "__NR_PAGEBLOCK_BITS")) {
				/* 6.15+: NR_PAGEBLOCK_BITS = roundup_pow_of_two(__NR_PAGEBLOCK_BITS) */
				while (p2 < v)
					p2 <<= 1;
				h->nr_pageblock_bits = p2;
				err = 0;
			}
		}
		break;
	}
	btf__free(btf);
	return err;
}

int trace_header_from_running(struct trace_header *h)
{
	const char *tfs = trace_tracefs_dir();
	int err;

	err = trace_procfs_machine(h, NULL);
	if (!err)
		err = trace_procfs_zoneinfo(h, NULL);
	if (!err)
		err = trace_procfs_pagetypeinfo_header(h, NULL);
	if (!err)
		err = trace_procfs_sysctls(h, NULL);
	if (err)
		return err;
	trace_btf_pageblock_bits(h);	/* optional: no BTF leaves it 0 */
	if (tfs) {
		char p[256];
		size_t len;
		char *txt;

		snprintf(p, sizeof(p), "%s/events/kmem/mm_page_alloc/format", tfs);
		txt = trace_read_text_file(p, &len);
		if (txt) {
			trace_format_gfp_flags(h, txt, len);
			free(txt);
		}
	}
	return trace_header_set(h, "header.source", "running-kernel");
}
