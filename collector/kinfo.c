// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the collector needs to know about this kernel, read rather than assumed:
 * from BTF the migratetypes, pageblock bit layout, zone/node bits of page->flags, PageBuddy
 * encoding, array lengths; from VMCOREINFO (found in memory by a BPF program) mem_section,
 * node_data, struct page size and section geometry; from kernel memory the zones.
 */
#include "collector/collector-local.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector/record.skel.h"
#include "util/errors.h"
#include "util/log.h"

/* ---- BTF ------------------------------------------------------------------------------------ */

/* The value of enumerator name in any enum of btf. */
static bool btf_enum_value(const struct btf *btf, const char *name, int64_t *val)
{
	uint32_t n = btf__type_cnt(btf);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (uint16_t i = 0; i < btf_vlen(t); i++)
				if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name)) {
					*val = e[i].val;
					return true;
				}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (uint16_t i = 0; i < btf_vlen(t); i++)
				if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name)) {
					*val = (int64_t)btf_enum64_value(&e[i]);
					return true;
				}
		}
	}
	return false;
}

/* Offset of the per-cpu variable name inside the .data..percpu section, or -1. */
static int64_t btf_percpu_var_offset(const struct btf *btf, const char *name)
{
	int var = btf__find_by_name_kind(btf, name, BTF_KIND_VAR);
	int sec = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	const struct btf_type *t;
	const struct btf_var_secinfo *vs;

	if (var <= 0 || sec <= 0)
		return -1;
	t = btf__type_by_id(btf, sec);
	vs = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++)
		if ((int)vs[i].type == var)
			return vs[i].offset;
	return -1;
}

static const struct btf_type *btf_struct(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);

	return id > 0 ? btf__type_by_id(btf, id) : NULL;
}

/* Number of elements of the array member `member` of struct `sname` (direct members only). */
static int btf_array_len(const struct btf *btf, const char *sname, const char *member)
{
	const struct btf_type *t = btf_struct(btf, sname);
	const struct btf_member *m;

	if (!t)
		return -1;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		if (strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			continue;
		const struct btf_type *at = btf__type_by_id(btf, m[i].type);

		while (at && (btf_is_typedef(at) || btf_is_mod(at)))
			at = btf__type_by_id(btf, at->type);
		if (!at || !btf_is_array(at))
			return -1;
		return (int)btf_array(at)->nelems;
	}
	return -1;
}

static uint32_t ilog2_ceil(uint64_t v)
{
	uint32_t s = 0;

	while ((1ull << s) < v)
		s++;
	return s;
}

/* "MIGRATE_HIGHATOMIC" -> "HighAtomic" style: the names /proc/pagetypeinfo uses, where known */
static void mt_display_name(const char *btf_name, char *out, size_t len)
{
	static const char *const known[] = { "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate" };
	const char *s = btf_name + strlen("MIGRATE_");

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(s, known[i])) {
			snprintf(out, len, "%s", known[i]);
			return;
		}
	snprintf(out, len, "%s", s);
	for (size_t i = 1; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

int collector_kinfo_btf(struct collector_kinfo *ki)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int64_t v, types;
	int n;

	if (!btf) {
		pr_err("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s", strerror(errno));
		return FS_ERRNO__NO_BTF;
	}
	/* enum migratetype: every MIGRATE_* value below MIGRATE_TYPES except the PCPTYPES alias */
	if (!btf_enum_value(btf, "MIGRATE_TYPES", &types) || types <= 0 || types > 16 ||
	    !btf_enum_value(btf, "MIGRATE_PCPTYPES", &v)) {
		pr_err("kernel BTF has no enum migratetype");
		btf__free(btf);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->nr_migratetypes = (uint32_t)types;
	ki->mt_pcptypes = (int)v;
	ki->mt_isolate = btf_enum_value(btf, "MIGRATE_ISOLATE", &v) ? (int)v : -1;
	ki->mt_highatomic = btf_enum_value(btf, "MIGRATE_HIGHATOMIC", &v) ? (int)v : -1;
	{
		int id = btf__find_by_name_kind(btf, "migratetype", BTF_KIND_ENUM);
		const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

		if (!t) {
			pr_err("kernel BTF has no enum migratetype");
			btf__free(btf);
			return FS_ERRNO__KERNEL_LAYOUT;
		}
		for (uint16_t i = 0; i < btf_vlen(t); i++) {
			const char *name = btf__name_by_offset(btf, btf_enum(t)[i].name_off);
			int val = btf_enum(t)[i].val;

			if (strncmp(name, "MIGRATE_", 8) || val < 0 || val >= types ||
			    !strcmp(name, "MIGRATE_PCPTYPES") || !strcmp(name, "MIGRATE_TYPES"))
				continue;
			if (ki->mt_names[val][0])
				continue;	/* an alias: keep the first name */
			mt_display_name(name, ki->mt_names[val], TRACE_NAME_MAX);
		}
		for (int i = 0; i < types; i++)
			if (!ki->mt_names[i][0])
				snprintf(ki->mt_names[i], TRACE_NAME_MAX, "type%d", i);
	}
	/* pageblock bits: 6.1/6.12 NR_PAGEBLOCK_BITS (4, isolate is a type value); 6.16+
	 * __NR_PAGEBLOCK_BITS (5) rounded up to a power of two, with a standalone isolate bit */
	if (btf_enum_value(btf, "NR_PAGEBLOCK_BITS", &v)) {
		ki->nr_pageblock_bits = (uint32_t)v;
	} else if (btf_enum_value(btf, "__NR_PAGEBLOCK_BITS", &v)) {
		ki->nr_pageblock_bits = 1u << ilog2_ceil((uint64_t)v);
	} else {
		pr_err("kernel BTF has no enum pageblock_bits");
		btf__free(btf);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->pb_isolate_bit = btf_enum_value(btf, "PB_migrate_isolate", &v) ? 1u << v : 0;
	if (btf_enum_value(btf, "PB_compact_skip", &v) || btf_enum_value(btf, "PB_migrate_skip", &v))
		ki->pb_skip_bit = 1u << v;
	/* zone and node bits at the top of page->flags (SPARSEMEM_VMEMMAP: no section bits) */
	if (!btf_enum_value(btf, "__MAX_NR_ZONES", &v)) {
		pr_err("kernel BTF has no __MAX_NR_ZONES");
		btf__free(btf);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->max_nr_zones = (uint32_t)v;
	n = btf_array_len(btf, "zonelist", "_zonerefs");
	ki->max_numnodes = n > 1 ? (uint32_t)(n - 1) / ki->max_nr_zones : 1;
	{
		uint32_t zw = ilog2_ceil(ki->max_nr_zones), nw = ilog2_ceil(ki->max_numnodes);

		ki->node_shift = 64 - nw;
		ki->node_mask = nw ? (1u << nw) - 1 : 0;
		ki->zone_shift = 64 - nw - zw;
		ki->zone_mask = (1u << zw) - 1;
		if (nw == 0)
			ki->node_shift = 0;
	}
	n = btf_array_len(btf, "zone", "free_area");
	ki->nr_orders = n > 0 ? (uint32_t)n : 0;
	n = btf_array_len(btf, "per_cpu_pages", "lists");
	ki->nr_pcp_lists = n > 0 ? (uint32_t)n : 0;
	if (!ki->nr_orders || btf_array_len(btf, "free_area", "free_list") != (int)types) {
		pr_err("kernel BTF: struct zone/free_area not as expected");
		btf__free(btf);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	/* PageBuddy: 6.12+ page_type >> 24 == PGTY_buddy; 6.1 (page_type & (0xf0000000|PG_buddy))
	 * == 0xf0000000, PG_buddy = 0x80 (a #define, not in BTF) */
	if (btf_enum_value(btf, "PGTY_buddy", &v)) {
		ki->buddy_type_mask = 0xff000000u;
		ki->buddy_type_value = (uint32_t)v << 24;
	} else {
		ki->buddy_type_mask = 0xf0000080u;
		ki->buddy_type_value = 0xf0000000u;
	}
	if (!btf_enum_value(btf, "SECTION_MAP_LAST_BIT", &v)) {
		pr_err("kernel BTF has no SECTION_MAP_LAST_BIT (not SPARSEMEM?)");
		btf__free(btf);
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->section_map_last_bit = (uint32_t)v;
	ki->section_has_mem_map_bit = btf_enum_value(btf, "SECTION_HAS_MEM_MAP_BIT", &v) ? (uint32_t)v : 1;
	ki->section_is_online_bit = btf_enum_value(btf, "SECTION_IS_ONLINE_BIT", &v) ? (uint32_t)v : 2;
	{
		int id = btf__find_by_name_kind(btf, "page", BTF_KIND_STRUCT);
		long sz = id > 0 ? btf__resolve_size(btf, id) : -1;

		ki->sizeof_page_btf = sz > 0 ? (uint32_t)sz : 0;
	}
	/* the free-count cross-check: this CPU's vm_event_states.event[PGFREE], reached from its
	 * struct rq (both per-cpu variables, so their distance is the same on every CPU) */
	{
		int64_t rq = btf_percpu_var_offset(btf, "runqueues");
		int64_t ev = btf_percpu_var_offset(btf, "vm_event_states");
		const struct btf_type *st = btf_struct(btf, "vm_event_state");

		ki->pgfree_from_rq = 0;
		if (rq >= 0 && ev >= 0 && st && btf_vlen(st) == 1 && btf_members(st)[0].offset == 0 &&
		    btf_enum_value(btf, "PGFREE", &v) && v >= 0)
			ki->pgfree_from_rq = (uint64_t)(ev - rq) + (uint64_t)v * sizeof(uint64_t);
		ki->have_pgfree = ki->pgfree_from_rq != 0;
		/* PGALLOC_<zone>: one counter per zone type, in a row (FOR_ALL_ZONES) */
		ki->pgalloc_from_rq = 0;
		ki->nr_pgalloc = 0;
		if (ki->have_pgfree) {
			static const char *const names[] = { "PGALLOC_DMA", "PGALLOC_DMA32", "PGALLOC_NORMAL",
							     "PGALLOC_HIGHMEM", "PGALLOC_MOVABLE", "PGALLOC_DEVICE" };
			int64_t lo = INT64_MAX, hi = -1;
			uint32_t found = 0;

			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (btf_enum_value(btf, names[k], &v) && v >= 0) {
					found++;
					lo = v < lo ? v : lo;
					hi = v > hi ? v : hi;
				}
			if (found && found <= CREC_PGALLOC_MAX && hi - lo + 1 == (int64_t)found) {
				ki->pgalloc_from_rq = (uint64_t)(ev - rq) + (uint64_t)lo * sizeof(uint64_t);
				ki->nr_pgalloc = found;
			}
		}
	}
	btf__free(btf);
	ki->nr_cpus = (uint32_t)libbpf_num_possible_cpus();
	return 0;
}

/* ---- VMCOREINFO ------------------------------------------------------------------------------ */

bool collector_vmcoreinfo_get(const char *text, const char *key, uint64_t *val)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *s = p + kl + 1;
			char *end;
			unsigned long long v = strtoull(s, &end, !strncmp(key, "SYMBOL(", 7) ? 16 : 10);

			if (end == s)
				return false;
			*val = v;
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

static int read_vmcoreinfo_paddr(uint64_t *paddr)
{
	FILE *f = fopen("/sys/kernel/vmcoreinfo", "re");
	unsigned long long a, sz;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llx %llx", &a, &sz);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	*paddr = a;
	return 0;
}

/* Reads n u64 words of kernel memory at addr through the walkers' buffer. */
static int kread(struct collector *c, uint64_t addr, uint64_t *out, uint32_t n)
{
	/* walk_pageblocks would be wrong here; a list walk of a self-pointing head is not needed:
	 * the node_pgdat program with node_data=addr, node=i reads one word */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t args[3] = { i, addr, 0 };
		long ret;
		int err = collector_run_prog(c, bpf_program__fd(c->skel->progs.node_pgdat), -1, args, 3, &ret);

		if (err)
			return err;
		if (ret)
			return -EFAULT;
		out[i] = collector_snap_buf(c)[0];
	}
	return 0;
}

int collector_kinfo_vmcoreinfo(struct collector *c)
{
	struct collector_kinfo *ki = &c->ki;
	uint64_t paddr = 0, v;
	long ret = -1;
	int err;

	err = read_vmcoreinfo_paddr(&paddr);
	if (err) {
		pr_err("cannot read '/sys/kernel/vmcoreinfo': %s (the snapshot needs VMCOREINFO)", strerror(-err));
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	c->skel->bss->vmci_paddr = paddr;
	err = collector_run_prog(c, bpf_program__fd(c->skel->progs.find_vmcoreinfo), -1, NULL, 0, &ret);
	if (err || ret) {
		pr_err("cannot find the VMCOREINFO note in kernel memory%s%s", err ? ": " : "",
		       err ? strerror(-err) : "");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->vmcoreinfo = strndup(c->skel->bss->vmci_note, c->skel->bss->vmci_len);
	if (!ki->vmcoreinfo)
		return -ENOMEM;
	ki->page_offset = c->skel->bss->vmci_page_offset;
	pr_debug("VMCOREINFO at physical 0x%llx, direct map base 0x%llx, %u bytes",
		 (unsigned long long)paddr, (unsigned long long)ki->page_offset, c->skel->bss->vmci_len);

	if (!collector_vmcoreinfo_get(ki->vmcoreinfo, "PAGESIZE", &v) || !v || (v & (v - 1))) {
		pr_err("VMCOREINFO has no PAGESIZE");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->page_size = (uint32_t)v;
	ki->page_shift = ilog2_ceil(v);
	if (!collector_vmcoreinfo_get(ki->vmcoreinfo, "SYMBOL(mem_section)", &ki->mem_section) ||
	    !collector_vmcoreinfo_get(ki->vmcoreinfo, "SIZE(mem_section)", &v) || !v) {
		pr_err("VMCOREINFO has no mem_section: only SPARSEMEM kernels are understood");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->sizeof_mem_section = (uint32_t)v;
	ki->sections_per_root = ki->page_size / ki->sizeof_mem_section;	/* SPARSEMEM_EXTREME */
	if (!collector_vmcoreinfo_get(ki->vmcoreinfo, "NUMBER(SECTION_SIZE_BITS)", &v) || v <= ki->page_shift) {
		pr_err("VMCOREINFO has no SECTION_SIZE_BITS");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->section_size_bits = (uint32_t)v;
	ki->pfn_section_shift = ki->section_size_bits - ki->page_shift;
	if (!collector_vmcoreinfo_get(ki->vmcoreinfo, "SIZE(page)", &v) || !v) {
		pr_err("VMCOREINFO has no SIZE(page)");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	ki->sizeof_page = (uint32_t)v;
	if (!collector_vmcoreinfo_get(ki->vmcoreinfo, "SYMBOL(node_data)", &ki->node_data) &&
	    !collector_vmcoreinfo_get(ki->vmcoreinfo, "SYMBOL(contig_page_data)", &ki->contig_page_data)) {
		pr_err("VMCOREINFO has neither node_data nor contig_page_data");
		return FS_ERRNO__KERNEL_LAYOUT;
	}
	/* vmemmap: section_mem_map of any present section, low bits masked, is the memmap base
	 * minus nothing (it encodes mem_map - section_nr_to_pfn(nr)) */
	{
		uint64_t root = 0, smm = 0;

		err = kread(c, ki->mem_section, &root, 1);
		if (!err && root)
			err = kread(c, root, &smm, 1);	/* section 0: section_mem_map is the first member */
		if (err || !root || !(smm & (1ull << ki->section_has_mem_map_bit))) {
			pr_err("cannot read mem_section[0] (0x%llx)", (unsigned long long)ki->mem_section);
			return FS_ERRNO__KERNEL_LAYOUT;
		}
		ki->vmemmap = smm & ~((1ull << ki->section_map_last_bit) - 1);
	}
	pr_debug("mem_section 0x%llx, %u sections per root, vmemmap 0x%llx, struct page %u bytes",
		 (unsigned long long)ki->mem_section, ki->sections_per_root, (unsigned long long)ki->vmemmap,
		 ki->sizeof_page);
	return 0;
}

/* ---- zones ----------------------------------------------------------------------------------- */

static int read_zoneinfo_names(struct collector *c)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[512];
	uint32_t last_node = ~0u, idx = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int node;
		char name[TRACE_NAME_MAX];
		struct collector_zone *z;

		if (sscanf(line, "Node %u, zone %31s", &node, name) != 2)
			continue;
		if (node != last_node)
			idx = 0;
		last_node = node;
		z = realloc(c->zones, (c->nr_zones + 1) * sizeof(*z));
		if (!z) {
			fclose(f);
			return -ENOMEM;
		}
		c->zones = z;
		z = &c->zones[c->nr_zones++];
		memset(z, 0, sizeof(*z));
		z->node = node;
		z->zone_idx = idx++;
		snprintf(z->name, sizeof(z->name), "%s", name);
	}
	fclose(f);
	return c->nr_zones ? 0 : -ENOENT;
}

/* The zones /proc/zoneinfo names, and zone_map from (node, zone index) to them. */
static int zone_names_and_map(struct collector *c)
{
	int err = read_zoneinfo_names(c);

	if (err) {
		pr_err("cannot read '/proc/zoneinfo': %s", strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < 256; i++)
		c->zone_map[i] = TRACE_ZONE_UNKNOWN;
	for (uint32_t i = 0; i < c->nr_zones; i++) {
		uint32_t zid = c->zones[i].node * c->ki.max_nr_zones + c->zones[i].zone_idx;

		if (zid < 255)
			c->zone_map[zid] = (uint16_t)i;
	}
	return 0;
}

/* Without VMCOREINFO: zones, their start pfns and spans from /proc/zoneinfo (no addresses). */
int collector_kinfo_zones_proc(struct collector *c)
{
	FILE *f;
	char line[512];
	int err = zone_names_and_map(c);
	int zi = -1;

	if (err)
		return err;
	f = fopen("/proc/zoneinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		unsigned int node;
		char name[TRACE_NAME_MAX];

		if (sscanf(line, "Node %u, zone %31s", &node, name) == 2)
			zi++;
		else if (zi >= 0 && zi < (int)c->nr_zones && sscanf(line, " spanned %llu", &v) == 1)
			c->zones[zi].spanned = v;
		else if (zi >= 0 && zi < (int)c->nr_zones && sscanf(line, " present %llu", &v) == 1)
			c->zones[zi].present = v;
		else if (zi >= 0 && zi < (int)c->nr_zones && sscanf(line, " start_pfn: %llu", &v) == 1)
			c->zones[zi].start_pfn = v;
	}
	fclose(f);
	return 0;
}

int collector_kinfo_zones(struct collector *c)
{
	int err = zone_names_and_map(c);

	if (err)
		return err;
	for (uint32_t i = 0; i < c->nr_zones; i++) {
		struct collector_zone *z = &c->zones[i];
		uint64_t args[3] = { z->node, c->ki.node_data, c->ki.contig_page_data };
		uint64_t pgdat;
		long ret;

		err = collector_run_prog(c, bpf_program__fd(c->skel->progs.node_pgdat), -1, args, 3, &ret);
		if (err || ret) {
			pr_err("cannot read node_data[%u]", z->node);
			return FS_ERRNO__KERNEL_LAYOUT;
		}
		pgdat = collector_snap_buf(c)[0];
		args[0] = pgdat;
		args[1] = z->zone_idx;
		err = collector_run_prog(c, bpf_program__fd(c->skel->progs.zone_info), -1, args, 2, &ret);
		if (err || ret) {
			pr_err("cannot read zone %u of node %u", z->zone_idx, z->node);
			return FS_ERRNO__KERNEL_LAYOUT;
		}
		z->addr = collector_snap_buf(c)[0];
		z->start_pfn = collector_snap_buf(c)[1];
		z->spanned = collector_snap_buf(c)[2];
		z->present = collector_snap_buf(c)[3];
		pr_debug("zone %s (node %u index %u) at 0x%llx: pfn %llu +%llu", z->name, z->node, z->zone_idx,
			 (unsigned long long)z->addr, (unsigned long long)z->start_pfn,
			 (unsigned long long)z->spanned);
	}
	return 0;
}

void collector_kinfo_release(struct collector_kinfo *ki)
{
	free(ki->vmcoreinfo);
	free(ki->pcpu_off);
	ki->vmcoreinfo = NULL;
	ki->pcpu_off = NULL;
}
