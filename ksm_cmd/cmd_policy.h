/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksm_cmd's classifiers, plain C: per-page change history from KSM's
 * per-pass checksum, and the class of a page under each classifier.
 */
#ifndef _KVMX_CMD_POLICY_H
#define _KVMX_CMD_POLICY_H

#include <kvmx/policy.h>

enum cmd_classifier {
	CMD_NONE,		/* one class: stock KSM ordering */
	CMD_ADDRESS,		/* CMD_Address: guest-physical address range */
	CMD_WRITE_COUNT,	/* CMD_PageCount: passes changed in, equal-size classes */
	CMD_SUBPAGE,		/* CMD_Subpage: which sub-blocks changed */
	CMD_CHECKSUM,		/* KSM's own checksum of the page */
	CMD_NR_CLASSIFIERS,
};

#define CMD_MAX_CLASSES		64
#define CMD_MAX_SUBBLOCKS	8
#define CMD_MAX_HISTORY		8

struct cmd_params {
	enum cmd_classifier classifier;
	unsigned int classes;	/* 1..CMD_MAX_CLASSES */
	unsigned int subblocks;	/* 1, 2, 4 or 8 */
	unsigned int history;	/* passes remembered, 1..CMD_MAX_HISTORY */
	bool unique_filter;	/* keep pages without a twin out of KSM's unstable tree */
};

/* What ksm_cmd remembers of a page KSM scans: 16 bytes. */
struct cmd_page {
	u32 sum;	/* the page's checksum at its last scan */
	u8 hist;	/* bit i: changed in the i-th latest scan */
	u8 mask;	/* sub-blocks changed within the history window */
	u8 valid;
	u8 seq;		/* the pass of its last scan, modulo 256 */
	u64 subsig;	/* 8 bits per sub-block */
};

/* Equal-population class boundaries for write_count, one map per pass. */
struct cmd_wc_map {
	u8 class_of[CMD_MAX_HISTORY + 1];	/* change count -> class */
	unsigned int nclasses;
};

/* Guest memory as ranges of frames; address classes split their sum. */
#define CMD_MAX_RANGES	16
struct cmd_ranges {
	unsigned int n;
	u64 base[CMD_MAX_RANGES];	/* sorted by base */
	u64 pages[CMD_MAX_RANGES];
	u64 total;
};

/* Add a range (a memslot); false when full. Keeps them sorted. */
bool cmd_ranges_add(struct cmd_ranges *r, u64 base, u64 pages);
/*
 * Where @gfn lies in guest memory laid end to end (holes and the gap
 * below 4 GiB squeezed out), or U64_MAX outside every range.
 */
u64 cmd_ranges_offset(const struct cmd_ranges *r, u64 gfn);

const char *cmd_classifier_name(enum cmd_classifier c);
/* Parse a sysfs write ("subpage\n"); returns the classifier or -EINVAL. */
int cmd_classifier_parse(const char *buf, size_t len);
/* Checksums needed per page per pass: 0, 1 or p->subblocks. */
unsigned int cmd_subblocks_needed(const struct cmd_params *p);

/*
 * The checksum classifier's class of content whose whole-page hash is
 * @hash: what cmd_page_class() gives a page scanned with one sub-block of
 * that hash. For pages of which there is no record.
 */
u32 cmd_hash_class(u64 hash);
int cmd_params_check(const struct cmd_params *p);

/*
 * Record one scan of a page in pass @seq: @sub holds one hash per
 * sub-block. Returns the number of passes in the history window the page
 * changed in. The history counts passes, not scans: smart scan looks at
 * an aged page once in up to 9 passes, and the passes it skipped count as
 * passes without a change.
 */
unsigned int cmd_page_update(struct cmd_page *pg, const struct cmd_params *p,
			     const u64 *sub, unsigned int nsub,
			     unsigned long seq);
/* Changes within the window of the last @history passes. */
unsigned int cmd_change_count(const struct cmd_page *pg, unsigned int history);

/*
 * Boundaries that split pages into classes of similar size, from the
 * number of pages seen with each change count (0..history) last pass.
 */
void cmd_wc_boundaries(const u64 *count_pages, unsigned int history,
		       unsigned int classes, struct cmd_wc_map *map);

/*
 * The class of a page. @pos/@span place it in guest memory (address:
 * the offset from cmd_ranges_offset() and the total);
 * @pg may be NULL for a page not yet scanned (class 0).
 */
u32 cmd_page_class(const struct cmd_params *p, const struct cmd_wc_map *wc,
		   const struct cmd_page *pg, u64 pos, u64 span);

#endif /* _KVMX_CMD_POLICY_H */
