// SPDX-License-Identifier: GPL-2.0-only
/*
 * allocator/: profiles (per-version behaviour as data), migratetype roles and gfp decoding.
 * Version facts: ../shared/kernel/alloc-path.md §14, free-path.md, spec-review.md, checked
 * against Debian's linux-source-6.1 (6.1.192), linux-source-6.12 (6.12.117) and 6.18.35.
 */
#include "allocator/buddy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/errors.h"

/* ---- migratetype roles ---------------------------------------------------------------------- */

static const char *const mt_names[BUDDY_MT_NR] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate",
};

const char *buddy_mt_name(int role)
{
	if (role < 0 || role >= BUDDY_MT_NR)
		return "?";
	return mt_names[role];
}

int buddy_mt_role_from_name(const char *name)
{
	if (!name)
		return BUDDY_MT_NONE;
	if (!strncasecmp(name, "MIGRATE_", 8))
		name += 8;
	for (int i = 0; i < BUDDY_MT_NR; i++)
		if (!strcasecmp(name, mt_names[i]))
			return i;
	if (!strcasecmp(name, "high_atomic") || !strcasecmp(name, "highatomic"))
		return BUDDY_MT_HIGHATOMIC;
	return BUDDY_MT_NONE;
}

/* ---- gfp --------------------------------------------------------------------------------------- */

static const struct { const char *name; uint32_t bit; } gfp_names[] = {
	{ "__GFP_DMA", BUDDY_GFP_DMA },
	{ "__GFP_HIGHMEM", BUDDY_GFP_HIGHMEM },
	{ "__GFP_DMA32", BUDDY_GFP_DMA32 },
	{ "__GFP_MOVABLE", BUDDY_GFP_MOVABLE },
	{ "__GFP_RECLAIMABLE", BUDDY_GFP_RECLAIMABLE },
	{ "__GFP_HIGH", BUDDY_GFP_HIGH },
	{ "__GFP_IO", BUDDY_GFP_IO },
	{ "__GFP_FS", BUDDY_GFP_FS },
	{ "__GFP_ATOMIC", BUDDY_GFP_ATOMIC },
	{ "__GFP_DIRECT_RECLAIM", BUDDY_GFP_DIRECT_RECLAIM },
	{ "__GFP_KSWAPD_RECLAIM", BUDDY_GFP_KSWAPD_RECLAIM },
	{ "__GFP_WRITE", BUDDY_GFP_WRITE },
	{ "__GFP_NOMEMALLOC", BUDDY_GFP_NOMEMALLOC },
	{ "__GFP_MEMALLOC", BUDDY_GFP_MEMALLOC },
	{ "__GFP_HARDWALL", BUDDY_GFP_HARDWALL },
	{ "__GFP_THISNODE", BUDDY_GFP_THISNODE },
	{ "__GFP_COMP", BUDDY_GFP_COMP },
	{ "__GFP_NOFAIL", BUDDY_GFP_NOFAIL },
	{ "__GFP_NORETRY", BUDDY_GFP_NORETRY },
	{ "__GFP_ACCOUNT", BUDDY_GFP_ACCOUNT },
};

uint32_t buddy_gfp_bit_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(gfp_names) / sizeof(gfp_names[0]); i++)
		if (!strcmp(name, gfp_names[i].name))
			return gfp_names[i].bit;
	return 0;
}

void buddy_gfp_map_add(struct buddy_gfp_map *map, const char *name, uint64_t mask)
{
	uint32_t bit = buddy_gfp_bit_from_name(name);

	if (!bit || !mask || (mask & (mask - 1)) || map->nr >= 32)
		return;
	for (unsigned i = 0; i < map->nr; i++)
		if (map->model_bit[i] == bit)
			return;
	map->kernel_mask[map->nr] = mask;
	map->model_bit[map->nr] = bit;
	map->nr++;
}

void buddy_gfp_map_linux_default(struct buddy_gfp_map *map)
{
	/* include/linux/gfp_types.h (6.1 .. 6.18, x86-64, no lockdep): the ___GFP_* bit numbers */
	static const struct { const char *name; unsigned shift; } bits[] = {
		{ "__GFP_DMA", 0 }, { "__GFP_HIGHMEM", 1 }, { "__GFP_DMA32", 2 },
		{ "__GFP_MOVABLE", 3 }, { "__GFP_RECLAIMABLE", 4 }, { "__GFP_HIGH", 5 },
		{ "__GFP_IO", 6 }, { "__GFP_FS", 7 }, { "__GFP_ZERO", 8 }, { "__GFP_ATOMIC", 9 },
		{ "__GFP_DIRECT_RECLAIM", 10 }, { "__GFP_KSWAPD_RECLAIM", 11 }, { "__GFP_WRITE", 12 },
		{ "__GFP_NOWARN", 13 }, { "__GFP_RETRY_MAYFAIL", 14 }, { "__GFP_NOFAIL", 15 },
		{ "__GFP_NORETRY", 16 }, { "__GFP_MEMALLOC", 17 }, { "__GFP_COMP", 18 },
		{ "__GFP_NOMEMALLOC", 19 }, { "__GFP_HARDWALL", 20 }, { "__GFP_THISNODE", 21 },
		{ "__GFP_ACCOUNT", 22 },
	};
	memset(map, 0, sizeof(*map));
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		buddy_gfp_map_add(map, bits[i].name, 1ull << bits[i].shift);
}

uint32_t buddy_gfp_translate(const struct buddy_gfp_map *map, uint64_t kernel_gfp)
{
	uint32_t g = 0;

	for (unsigned i = 0; i < map->nr; i++)
		if (kernel_gfp & map->kernel_mask[i])
			g |= map->model_bit[i];
	return g;
}

/* mirrors include/linux/gfp.h gfp_migratetype() (6.1, 6.12, 6.18) */
int buddy_gfp_migratetype(uint32_t gfp)
{
	if (gfp & BUDDY_GFP_MOVABLE)
		return BUDDY_MT_MOVABLE;
	if (gfp & BUDDY_GFP_RECLAIMABLE)
		return BUDDY_MT_RECLAIMABLE;
	return BUDDY_MT_UNMOVABLE;
}

/* mirrors include/linux/gfp.h gfp_zone() for a DMA + DMA32 + Normal + Movable kernel */
int buddy_gfp_zone(uint32_t gfp)
{
	if (gfp & BUDDY_GFP_DMA)
		return BUDDY_ZONE_DMA;
	if (gfp & BUDDY_GFP_DMA32)
		return BUDDY_ZONE_DMA32;
	if ((gfp & (BUDDY_GFP_HIGHMEM | BUDDY_GFP_MOVABLE)) == (BUDDY_GFP_HIGHMEM | BUDDY_GFP_MOVABLE))
		return BUDDY_ZONE_MOVABLE;
	return BUDDY_ZONE_NORMAL;
}

/* ---- profiles ------------------------------------------------------------------------------------ */

static const struct buddy_profile profiles[] = {
	{
		.name = "linux-6.1", .fallback = BUDDY_FB_61,
		.pcppage_mt_cache = true, .pcp_thp_is_pageblock = true, .nr_pcp_thp_lists = 2,
		.adaptive_pcp = false, .free_high_half_high_min = false,
		.wmark_free_highatomic = false, .boost_relax_on_min_reserve = false,
		.zone_below_high_check = false, .boost_wake_needs_kswapd = false,
		.retype_on_merge = false, .split_large_buddy = false,
		.highatomic_needs_gfp_high = true, .highatomic_reserve_612 = false,
		.unreserve_style = 0, .pageblock_isolate_bit = false, .defrag_mode_supported = false,
	},
	{
		.name = "linux-6.12e", .fallback = BUDDY_FB_612E,
		.pcppage_mt_cache = false, .pcp_thp_is_pageblock = false, .nr_pcp_thp_lists = 2,
		.adaptive_pcp = true, .free_high_half_high_min = false,
		.wmark_free_highatomic = true, .boost_relax_on_min_reserve = true,
		.zone_below_high_check = true, .boost_wake_needs_kswapd = true,
		.retype_on_merge = true, .split_large_buddy = true,
		.highatomic_needs_gfp_high = false, .highatomic_reserve_612 = true,
		.unreserve_style = 1, .pageblock_isolate_bit = false, .defrag_mode_supported = false,
	},
	{
		.name = "linux-6.12", .fallback = BUDDY_FB_612L,
		.pcppage_mt_cache = false, .pcp_thp_is_pageblock = false, .nr_pcp_thp_lists = 2,
		.adaptive_pcp = true, .free_high_half_high_min = false,
		.wmark_free_highatomic = true, .boost_relax_on_min_reserve = true,
		.zone_below_high_check = true, .boost_wake_needs_kswapd = true,
		.retype_on_merge = true, .split_large_buddy = true,
		.highatomic_needs_gfp_high = true, .highatomic_reserve_612 = true,
		.unreserve_style = 1, .pageblock_isolate_bit = false, .defrag_mode_supported = false,
	},
	{
		.name = "linux-6.18", .fallback = BUDDY_FB_618,
		.pcppage_mt_cache = false, .pcp_thp_is_pageblock = false, .nr_pcp_thp_lists = 2,
		.adaptive_pcp = true, .free_high_half_high_min = true,
		.wmark_free_highatomic = true, .boost_relax_on_min_reserve = true,
		.zone_below_high_check = true, .boost_wake_needs_kswapd = true,
		.retype_on_merge = true, .split_large_buddy = true,
		.highatomic_needs_gfp_high = true, .highatomic_reserve_612 = true,
		.unreserve_style = 2, .pageblock_isolate_bit = true, .defrag_mode_supported = true,
	},
};

#define NR_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

const char *const *buddy_profile_names(void)
{
	static const char *const names[] = { "linux-6.1", "linux-6.12e", "linux-6.12", "linux-6.18", NULL };
	return names;
}

int buddy_profile_by_name(const char *name, struct buddy_profile *out)
{
	char buf[BUDDY_NAME_MAX + 8];

	if (!name)
		return FS_ERRNO__UNKNOWN_PROFILE;
	if (strncmp(name, "linux-", 6)) {
		snprintf(buf, sizeof(buf), "linux-%.30s", name);
		name = buf;
	}
	if (!strcmp(name, "linux-6.12l"))
		name = "linux-6.12";
	for (size_t i = 0; i < NR_PROFILES; i++)
		if (!strcmp(name, profiles[i].name)) {
			*out = profiles[i];
			return 0;
		}
	return FS_ERRNO__UNKNOWN_PROFILE;
}

/* "6.12.117" -> 6, 12, 117; sublevel -1 if absent. Returns the characters consumed, 0 if none. */
static int parse_version(const char *s, int *maj, int *min, int *sub)
{
	char *end;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return 0;
	*maj = (int)strtol(p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return 0;
	*min = (int)strtol(end + 1, &end, 10);
	*sub = -1;
	if (*end == '.' && isdigit((unsigned char)end[1]))
		*sub = (int)strtol(end + 1, &end, 10);
	return (int)(end - s);
}

int buddy_profile_from_release(const char *release, const char *version, struct buddy_profile *out)
{
	int maj = 0, min = 0, sub = -1;
	const char *name;

	if (!release || !parse_version(release, &maj, &min, &sub))
		return FS_ERRNO__UNKNOWN_PROFILE;
	/* Debian's "6.1.0-28-amd64" keeps the ABI name; uname -v says "Debian 6.1.119-1". */
	if (version) {
		const char *d = strstr(version, "Debian ");
		int vmaj, vmin, vsub;

		if (d && parse_version(d + 7, &vmaj, &vmin, &vsub) && vmaj == maj && vmin == min && vsub >= 0)
			sub = vsub;
	}
	if (maj != 6)
		return FS_ERRNO__UNKNOWN_PROFILE;
	if (min < 1)
		return FS_ERRNO__UNKNOWN_PROFILE;
	if (min < 10)
		name = "linux-6.1";
	else if (min < 12)
		name = "linux-6.12e";	/* 6.10, 6.11: the freelist-hygiene series, old fallback */
	else if (min == 12)
		name = (sub >= 0 && sub <= 28) ? "linux-6.12e" : "linux-6.12";
	else if (min < 15)
		name = "linux-6.12e";
	else
		name = "linux-6.18";
	if (buddy_profile_by_name(name, out))
		return FS_ERRNO__UNKNOWN_PROFILE;
	snprintf(out->release, sizeof(out->release), "%d.%d%s%d", maj, min, sub >= 0 ? "." : "",
		 sub >= 0 ? sub : 0);
	if (sub < 0)
		out->release[strlen(out->release) - 1] = '\0';
	/* sublevel-dependent rows */
	if (min == 1 && sub >= 0) {
		if (sub < 97)
			out->nr_pcp_thp_lists = 1;
		if (sub < 157)
			out->highatomic_needs_gfp_high = false;	/* before "HIGHATOMIC only for __GFP_HIGH" */
	}
	if (min == 12 && sub >= 0 && sub < 54)
		out->highatomic_needs_gfp_high = false;
	if (min > 12 && min < 15)
		out->highatomic_needs_gfp_high = true;
	return 0;
}
