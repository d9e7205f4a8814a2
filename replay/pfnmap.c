// SPDX-License-Identifier: GPL-2.0-only
/* A small pfn-keyed hash map for replay's bookkeeping (live allocations, pending frees). */
#include "replay/replay-local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX

static size_t slot_of(const struct pfnmap *m, uint64_t key)
{
	/* Fibonacci hashing: pfns are dense, keep neighbours apart */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (m->cap - 1);
}

int pfnmap_init(struct pfnmap *m, size_t cap_hint)
{
	size_t cap = 1024;

	while (cap < cap_hint * 2)
		cap <<= 1;
	memset(m, 0, sizeof(*m));
	m->keys = malloc(cap * sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		m->keys = m->vals = NULL;
		return -ENOMEM;
	}
	memset(m->keys, 0xff, cap * sizeof(*m->keys));
	m->cap = cap;
	return 0;
}

void pfnmap_release(struct pfnmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void pfnmap_clear(struct pfnmap *m)
{
	if (m->keys)
		memset(m->keys, 0xff, m->cap * sizeof(*m->keys));
	m->nr = 0;
}

uint64_t *pfnmap_get(const struct pfnmap *m, uint64_t key)
{
	if (!m->nr || key == EMPTY)	/* most maps are empty most of the time: no hashing */
		return NULL;
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return &m->vals[i];
		if (m->keys[i] == EMPTY)
			return NULL;
	}
}

static int grow(struct pfnmap *m)
{
	struct pfnmap n;
	int err = pfnmap_init(&n, m->cap);	/* doubles: init allocates >= 2 * hint */

	if (err)
		return err;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != EMPTY) {
			size_t j = slot_of(&n, m->keys[i]);

			while (n.keys[j] != EMPTY)
				j = (j + 1) & (n.cap - 1);
			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.nr++;
		}
	pfnmap_release(m);
	*m = n;
	return 0;
}

int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (key == EMPTY)
		return -EINVAL;
	if (!m->cap || (m->nr + 1) * 4 > m->cap * 3) {
		int err = m->cap ? grow(m) : pfnmap_init(m, 1024);

		if (err)
			return err;
	}
	for (i = slot_of(m, key); m->keys[i] != EMPTY; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->nr++;
	return 0;
}

bool pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *val)
{
	size_t i, j;

	if (!m->nr || key == EMPTY)
		return false;
	for (i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == EMPTY)
			return false;
		if (m->keys[i] == key)
			break;
	}
	if (val)
		*val = m->vals[i];
	/* backward-shift deletion keeps probe chains intact without tombstones */
	for (j = (i + 1) & (m->cap - 1); m->keys[j] != EMPTY; j = (j + 1) & (m->cap - 1)) {
		size_t home = slot_of(m, m->keys[j]);

		/* move j to i if its home slot is not in the (cyclic) range (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = EMPTY;
	m->nr--;
	return true;
}

const char *replay_mt_name(const struct trace_header *h, int mt, char *buf, size_t len)
{
	for (uint32_t i = 0; h && i < h->nr_migratetypes; i++)
		if (h->migratetypes[i].value == mt && h->migratetypes[i].name[0])
			return h->migratetypes[i].name;
	snprintf(buf, len, "mt%d", mt);
	return buf;
}

uint32_t replay_nr_mt(const struct trace_header *h)
{
	uint32_t n = 0;

	for (uint32_t i = 0; h && i < h->nr_migratetypes; i++)
		if (h->migratetypes[i].value >= 0 && (uint32_t)h->migratetypes[i].value + 1 > n)
			n = (uint32_t)h->migratetypes[i].value + 1;
	return n ? n : 1;
}
