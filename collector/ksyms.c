// SPDX-License-Identifier: GPL-2.0-only
/* Kernel text symbols from /proc/kallsyms, for naming the callers of --stacks. */
#include "collector/collector-local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksyms {
	struct ksym *syms;
	size_t nr;
	char *names;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void *collector_ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0;
	char line[512];

	if (!f || !ks) {
		if (f)
			fclose(f);
		free(ks);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (ks->nr == cap) {
			struct ksym *p = realloc(ks->syms, (cap = cap ? cap * 2 : 65536) * sizeof(*p));

			if (!p)
				break;
			ks->syms = p;
		}
		ks->syms[ks->nr].addr = addr;
		ks->syms[ks->nr].name = strdup(name);
		if (!ks->syms[ks->nr].name)
			break;
		ks->nr++;
	}
	fclose(f);
	if (!ks->nr) {	/* kptr_restrict: addresses all zero */
		collector_ksyms_free(ks);
		return NULL;
	}
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), ksym_cmp);
	return ks;
}

char *collector_ksyms_name(void *p, uint64_t addr)
{
	struct ksyms *ks = p;
	size_t lo = 0, hi;
	char *out = NULL;

	if (!ks || !ks->nr || addr < ks->syms[0].addr)
		return NULL;
	hi = ks->nr;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (asprintf(&out, "%s+0x%llx", ks->syms[lo].name, (unsigned long long)(addr - ks->syms[lo].addr)) < 0)
		return NULL;
	return out;
}

void collector_ksyms_free(void *p)
{
	struct ksyms *ks = p;

	if (!ks)
		return;
	for (size_t i = 0; i < ks->nr; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}
