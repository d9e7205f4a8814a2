// SPDX-License-Identifier: GPL-2.0-only
/* /proc/pagetypeinfo: free list lengths per (zone, type, order) and pageblocks per type. */
#include "collector/collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTI_MAX_TYPES 16
#define PTI_MAX_ORDERS 16

static struct pti_zone *pti_zone_get(struct pti *p, uint32_t node, const char *name)
{
	struct pti_zone *z;

	for (uint32_t i = 0; i < p->nr_zones; i++)
		if (p->zones[i].node == node && !strcmp(p->zones[i].name, name))
			return &p->zones[i];
	z = realloc(p->zones, (p->nr_zones + 1) * sizeof(*z));
	if (!z)
		return NULL;
	p->zones = z;
	z = &p->zones[p->nr_zones++];
	memset(z, 0, sizeof(*z));
	z->node = node;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->type_names = calloc(PTI_MAX_TYPES, sizeof(*z->type_names));
	z->nr_free = calloc(PTI_MAX_TYPES * PTI_MAX_ORDERS, sizeof(uint64_t));
	z->nr_blocks = calloc(PTI_MAX_TYPES, sizeof(uint64_t));
	if (!z->type_names || !z->nr_free || !z->nr_blocks)
		return NULL;
	return z;
}

int collector_pti_parse(const char *text, struct pti *p)
{
	char block_names[PTI_MAX_TYPES][TRACE_NAME_MAX];
	uint32_t nr_block_names = 0;
	const char *line = text;

	memset(p, 0, sizeof(*p));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024], zname[TRACE_NAME_MAX], tname[TRACE_NAME_MAX];
		unsigned int node, v;
		int off = 0;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;

		if (sscanf(buf, "Page block order: %u", &v) == 1) {
			p->pageblock_order = v;
		} else if (sscanf(buf, "Node %u, zone %31s type %31s%n", &node, zname, tname, &off) == 3) {
			struct pti_zone *z;
			char *comma = strchr(zname, ',');
			const char *s = buf + off;
			uint32_t t, o = 0;

			if (comma)
				*comma = '\0';
			z = pti_zone_get(p, node, zname);
			if (!z)
				return -ENOMEM;
			if (z->nr_types >= PTI_MAX_TYPES)
				return -E2BIG;
			t = z->nr_types++;
			snprintf(z->type_names[t], TRACE_NAME_MAX, "%s", tname);
			while (*s && o < PTI_MAX_ORDERS) {
				char *end;
				bool capped = false;
				unsigned long long n;

				while (*s == ' ')
					s++;
				if (*s == '>') {
					capped = true;
					s++;
				}
				if (!*s)
					break;
				n = strtoull(s, &end, 10);
				if (end == s)
					break;
				z->nr_free[t * PTI_MAX_ORDERS + o++] = capped ? UINT64_MAX : n;
				s = end;
			}
			if (z->nr_orders < o)
				z->nr_orders = o;
		} else if (!strncmp(buf, "Number of blocks type", 21)) {
			char *s = buf + 21, *tok, *save = NULL;

			nr_block_names = 0;
			for (tok = strtok_r(s, " ", &save); tok && nr_block_names < PTI_MAX_TYPES;
			     tok = strtok_r(NULL, " ", &save))
				snprintf(block_names[nr_block_names++], TRACE_NAME_MAX, "%s", tok);
		} else if (sscanf(buf, "Node %u, zone %31s%n", &node, zname, &off) == 2 && nr_block_names) {
			struct pti_zone *z = pti_zone_get(p, node, zname);
			const char *s = buf + off;

			if (!z)
				return -ENOMEM;
			for (uint32_t i = 0; i < nr_block_names; i++) {
				char *end;
				unsigned long long n = strtoull(s, &end, 10);

				if (end == s)
					break;
				s = end;
				/* the columns are in type order; match by name to the rows' types */
				for (uint32_t t = 0; t < z->nr_types; t++)
					if (!strcmp(z->type_names[t], block_names[i]))
						z->nr_blocks[t] = n;
			}
		}
	}
	for (uint32_t i = 0; i < p->nr_zones; i++) {
		/* re-pack nr_free to [type * nr_orders + order] */
		struct pti_zone *z = &p->zones[i];

		for (uint32_t t = 0; t < z->nr_types; t++)
			for (uint32_t o = 0; o < z->nr_orders; o++)
				z->nr_free[t * z->nr_orders + o] = z->nr_free[t * PTI_MAX_ORDERS + o];
	}
	return p->nr_zones ? 0 : -EINVAL;
}

int collector_pti_read(struct pti *p)
{
	FILE *f = fopen("/proc/pagetypeinfo", "re");
	char *text = NULL;
	size_t cap = 0, n = 0, got;
	int err;

	memset(p, 0, sizeof(*p));
	if (!f)
		return -errno;
	do {
		if (n + 4096 > cap) {
			char *t = realloc(text, cap + 65536);

			if (!t) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = t;
			cap += 65536;
		}
		got = fread(text + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	text[n] = '\0';
	err = collector_pti_parse(text, p);
	free(text);
	return err;
}

void collector_pti_release(struct pti *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->nr_zones; i++) {
		free(p->zones[i].type_names);
		free(p->zones[i].nr_free);
		free(p->zones[i].nr_blocks);
	}
	free(p->zones);
	memset(p, 0, sizeof(*p));
}

const struct pti_zone *collector_pti_zone(const struct pti *p, uint32_t node, const char *name)
{
	for (uint32_t i = 0; i < p->nr_zones; i++)
		if (p->zones[i].node == node && !strcmp(p->zones[i].name, name))
			return &p->zones[i];
	return NULL;
}
