// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_cmd's classifiers (see cmd_policy.h). No kernel headers: this file is
 * also built into the userspace unit tests.
 */
#include "cmd_policy.h"

static const char * const cmd_names[CMD_NR_CLASSIFIERS] = {
	[CMD_NONE] = "none",
	[CMD_ADDRESS] = "address",
	[CMD_WRITE_COUNT] = "write_count",
	[CMD_SUBPAGE] = "subpage",
	[CMD_CHECKSUM] = "checksum",
};

const char *cmd_classifier_name(enum cmd_classifier c)
{
	return (unsigned int)c < CMD_NR_CLASSIFIERS ? cmd_names[c] : "?";
}

bool cmd_ranges_add(struct cmd_ranges *r, u64 base, u64 pages)
{
	unsigned int i;

	if (r->n == CMD_MAX_RANGES || !pages)
		return false;
	for (i = r->n; i > 0 && r->base[i - 1] > base; i--) {
		r->base[i] = r->base[i - 1];
		r->pages[i] = r->pages[i - 1];
	}
	r->base[i] = base;
	r->pages[i] = pages;
	r->n++;
	r->total += pages;
	return true;
}

u64 cmd_ranges_offset(const struct cmd_ranges *r, u64 gfn)
{
	u64 before = 0;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		if (gfn >= r->base[i] && gfn - r->base[i] < r->pages[i])
			return before + (gfn - r->base[i]);
		before += r->pages[i];
	}
	return U64_MAX;
}

int cmd_classifier_parse(const char *buf, size_t len)
{
	unsigned int c;
	size_t n;

	if (len && buf[len - 1] == '\n')
		len--;
	for (c = 0; c < CMD_NR_CLASSIFIERS; c++) {
		const char *name = cmd_names[c];

		for (n = 0; name[n] && n < len && name[n] == buf[n]; n++)
			;
		if (n == len && !name[n])
			return c;
	}
	return -EINVAL;
}

unsigned int cmd_subblocks_needed(const struct cmd_params *p)
{
	switch (p->classifier) {
	case CMD_WRITE_COUNT:
	case CMD_CHECKSUM:
		return 1;
	case CMD_SUBPAGE:
		return p->subblocks;
	default:
		return 0;
	}
}

int cmd_params_check(const struct cmd_params *p)
{
	if ((unsigned int)p->classifier >= CMD_NR_CLASSIFIERS)
		return -EINVAL;
	if (p->classes < 1 || p->classes > CMD_MAX_CLASSES)
		return -ERANGE;
	if (p->subblocks < 1 || p->subblocks > CMD_MAX_SUBBLOCKS ||
	    (p->subblocks & (p->subblocks - 1)))
		return -ERANGE;
	if (p->history < 1 || p->history > CMD_MAX_HISTORY)
		return -ERANGE;
	return 0;
}

static u32 cmd_fold(u64 h)
{
	return (u32)h ^ (u32)(h >> 32);
}

u32 cmd_hash_class(u64 hash)
{
	return cmd_fold(hash);
}

static u8 cmd_sig8(u64 h)
{
	h ^= h >> 32;
	h ^= h >> 16;
	return (u8)(h ^ (h >> 8));
}

static unsigned int cmd_popcount8(unsigned int v)
{
	unsigned int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static u8 cmd_window(unsigned int history)
{
	return (u8)((1u << history) - 1);
}

unsigned int cmd_change_count(const struct cmd_page *pg, unsigned int history)
{
	return cmd_popcount8(pg->hist & cmd_window(history));
}

unsigned int cmd_page_update(struct cmd_page *pg, const struct cmd_params *p,
			     const u64 *sub, unsigned int nsub,
			     unsigned long seq)
{
	u64 subsig = 0, acc = 0;
	unsigned int i, changed_mask = 0, gap;
	bool changed;
	u32 sum;

	if (nsub > CMD_MAX_SUBBLOCKS)
		nsub = CMD_MAX_SUBBLOCKS;
	for (i = 0; i < nsub; i++) {
		/* An order-dependent mix, so swapped sub-blocks differ. */
		acc = (acc ^ sub[i]) * 0x9e3779b97f4a7c15ULL + i;
		subsig |= (u64)cmd_sig8(sub[i]) << (8 * i);
	}
	sum = cmd_fold(nsub == 1 ? sub[0] : acc);

	if (!pg->valid) {
		changed = true;
		changed_mask = nsub ? (1u << nsub) - 1 : 0;
	} else {
		changed = pg->sum != sum;
		for (i = 0; i < nsub; i++)
			if (((pg->subsig ^ subsig) >> (8 * i)) & 0xff)
				changed_mask |= 1u << i;
		/* Same hashes, a changed sum: count it against block 0. */
		if (changed && !changed_mask && nsub)
			changed_mask = 1;
	}
	if (!changed)
		changed_mask = 0;
	/* Passes since the last scan; a second scan in one pass is none. */
	gap = pg->valid ? (u8)(seq - pg->seq) : 1;
	if (gap > 8)
		gap = 8;
	pg->hist = (u8)((unsigned int)pg->hist << gap);
	pg->hist |= changed ? 1 : 0;
	pg->seq = (u8)seq;
	/* Sub-blocks changed within the window; forgotten once all is quiet. */
	if (pg->hist & cmd_window(p->history))
		pg->mask |= (u8)changed_mask;
	else
		pg->mask = 0;
	pg->sum = sum;
	pg->subsig = subsig;
	pg->valid = 1;
	return cmd_change_count(pg, p->history);
}

void cmd_wc_boundaries(const u64 *count_pages, unsigned int history,
		       unsigned int classes, struct cmd_wc_map *map)
{
	u64 total = 0, seen = 0;
	unsigned int v, cls = 0;

	if (history > CMD_MAX_HISTORY)
		history = CMD_MAX_HISTORY;
	if (classes < 1)
		classes = 1;
	for (v = 0; v <= history; v++)
		total += count_pages[v];
	for (v = 0; v <= CMD_MAX_HISTORY; v++)
		map->class_of[v] = 0;
	if (!total) {
		/* Nothing seen yet: one class per count, as far as they go. */
		for (v = 0; v <= history; v++)
			map->class_of[v] = (u8)(v < classes ? v : classes - 1);
		map->nclasses = history + 1 < classes ? history + 1 : classes;
		return;
	}
	/*
	 * Counts are discrete: a class takes whole counts, and a new class
	 * starts once the pages so far reach its share of the total.
	 */
	for (v = 0; v <= history; v++) {
		map->class_of[v] = (u8)cls;
		seen += count_pages[v];
		if (cls + 1 < classes && seen * classes >= total * (cls + 1) &&
		    count_pages[v])
			cls++;
	}
	map->nclasses = cls + 1;
	/* Counts above the last one seen stay in the last class. */
	for (v = history; v > 0 && !count_pages[v]; v--)
		map->class_of[v] = (u8)(map->nclasses - 1);
	if (map->class_of[history] >= map->nclasses)
		map->class_of[history] = (u8)(map->nclasses - 1);
}

u32 cmd_page_class(const struct cmd_params *p, const struct cmd_wc_map *wc,
		   const struct cmd_page *pg, u64 pos, u64 span)
{
	unsigned int mask;

	switch (p->classifier) {
	case CMD_ADDRESS:
		if (!span || pos >= span)
			return 0;
		/* Equal shares of guest memory; no overflow below 2^57 pages. */
		return (u32)((pos * p->classes) / span);
	case CMD_WRITE_COUNT:
		if (!pg || !pg->valid)
			return 0;
		return wc->class_of[cmd_change_count(pg, p->history)];
	case CMD_SUBPAGE:
		if (!pg || !pg->valid)
			return 0;
		mask = pg->mask & ((1u << p->subblocks) - 1);
		if (!mask || p->classes == 1)
			return 0;
		return 1 + mask % (p->classes - 1);
	case CMD_CHECKSUM:
		if (!pg || !pg->valid)
			return 0;
		return pg->sum;
	default:
		return 0;
	}
}
