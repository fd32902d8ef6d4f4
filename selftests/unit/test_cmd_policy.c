// SPDX-License-Identifier: GPL-2.0
/* Userspace unit tests of ksm_cmd/cmd_policy.c. */
#include <stdio.h>
#include <string.h>
#include "cmd_policy.h"

#include "unit_tap.h"

static const struct cmd_params defaults = {
	.classifier = CMD_WRITE_COUNT, .classes = 8, .subblocks = 8,
	.history = 4,
};

static unsigned long pass_seq = 1000;

/* Scan @pg once, in the next pass, with sub-block hashes from @content. */
static unsigned int scan(struct cmd_page *pg, const struct cmd_params *p,
			 const u64 *content, unsigned int nsub)
{
	return cmd_page_update(pg, p, content, nsub, ++pass_seq);
}

/* Smart scan: a page seen once in @every passes. */
static void test_pass_history(void)
{
	struct cmd_params p = defaults;
	struct cmd_page pg = { 0 };
	u64 a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	unsigned long seq = 5000;
	unsigned int i;

	for (i = 0; i < 6; i++, seq += 9)
		cmd_page_update(&pg, &p, a, 8, seq);
	CHECK(cmd_change_count(&pg, 4) == 0, "aged, unchanged page: no change");
	CHECK(cmd_page_update(&pg, &p, b, 8, seq) == 1,
	      "it changes: one change in the window");
	p.classifier = CMD_SUBPAGE;
	CHECK(cmd_page_class(&p, NULL, &pg, 0, 0) != 0,
	      "subpage: a class of its own while the change is recent");
	seq += 9;
	CHECK(cmd_page_update(&pg, &p, b, 8, seq) == 0,
	      "9 passes later (one scan) the change is out of a 4-pass window");
	CHECK(cmd_page_class(&p, NULL, &pg, 0, 0) == 0,
	      "and its subpage class is that of an unchanged page again");
	p.classifier = CMD_WRITE_COUNT;
	cmd_page_update(&pg, &p, a, 8, seq + 1);
	CHECK(cmd_page_update(&pg, &p, a, 8, seq + 1) == 1,
	      "a second scan in the same pass adds no pass");
	CHECK(cmd_page_update(&pg, &p, a, 8, seq + 300) == 0,
	      "a long gap clears the window");
}

static void test_parse(void)
{
	CHECK(cmd_classifier_parse("none\n", 5) == CMD_NONE, "parse none");
	CHECK(cmd_classifier_parse("address", 7) == CMD_ADDRESS, "parse address");
	CHECK(cmd_classifier_parse("write_count\n", 12) == CMD_WRITE_COUNT,
	      "parse write_count");
	CHECK(cmd_classifier_parse("subpage\n", 8) == CMD_SUBPAGE, "parse subpage");
	CHECK(cmd_classifier_parse("checksum", 8) == CMD_CHECKSUM, "parse checksum");
	CHECK(cmd_classifier_parse("sub", 3) == -EINVAL, "prefix rejected");
	CHECK(cmd_classifier_parse("subpagex", 8) == -EINVAL, "suffix rejected");
	CHECK(cmd_classifier_parse("", 0) == -EINVAL, "empty rejected");
	CHECK(cmd_classifier_parse("\n", 1) == -EINVAL, "newline rejected");
	CHECK(cmd_classifier_parse("none\n\n", 6) == -EINVAL, "two newlines rejected");
	CHECK(!strcmp(cmd_classifier_name(CMD_SUBPAGE), "subpage"), "name");
	CHECK(!strcmp(cmd_classifier_name(99), "?"), "bad name");
}

static void test_params(void)
{
	struct cmd_params p = defaults;

	CHECK(cmd_params_check(&p) == 0, "defaults valid");
	p.classes = 0;
	CHECK(cmd_params_check(&p) == -ERANGE, "0 classes: ERANGE");
	p.classes = 65;
	CHECK(cmd_params_check(&p) == -ERANGE, "65 classes: ERANGE");
	p = defaults;
	p.subblocks = 3;
	CHECK(cmd_params_check(&p) == -ERANGE, "3 sub-blocks: ERANGE");
	p.subblocks = 16;
	CHECK(cmd_params_check(&p) == -ERANGE, "16 sub-blocks: ERANGE");
	p = defaults;
	p.history = 0;
	CHECK(cmd_params_check(&p) == -ERANGE, "history 0: ERANGE");
	p.history = 9;
	CHECK(cmd_params_check(&p) == -ERANGE, "history 9: ERANGE");
	p = defaults;
	p.classifier = CMD_NR_CLASSIFIERS;
	CHECK(cmd_params_check(&p) == -EINVAL, "bad classifier: EINVAL");
	p = defaults;
	p.classifier = CMD_NONE;
	CHECK(cmd_subblocks_needed(&p) == 0, "none needs no checksums");
	p.classifier = CMD_ADDRESS;
	CHECK(cmd_subblocks_needed(&p) == 0, "address needs no checksums");
	p.classifier = CMD_WRITE_COUNT;
	CHECK(cmd_subblocks_needed(&p) == 1, "write_count: whole-page checksum");
	p.classifier = CMD_CHECKSUM;
	CHECK(cmd_subblocks_needed(&p) == 1, "checksum: whole-page checksum");
	p.classifier = CMD_SUBPAGE;
	CHECK(cmd_subblocks_needed(&p) == 8, "subpage: one per sub-block");
	CHECK(sizeof(struct cmd_page) == 16, "page record is 16 bytes (0.39%% of a page)");
}

static void test_history(void)
{
	struct cmd_params p = defaults;
	struct cmd_page pg = {0};
	u64 a[1] = { 111 }, b[1] = { 222 };
	unsigned int c;

	c = scan(&pg, &p, a, 1);
	CHECK(c == 1 && pg.valid, "first scan counts as a change");
	c = scan(&pg, &p, a, 1);
	CHECK(c == 1, "unchanged scan keeps the count");
	scan(&pg, &p, a, 1);
	scan(&pg, &p, a, 1);
	c = scan(&pg, &p, a, 1);
	CHECK(c == 0, "first change leaves the 4-scan window");
	c = scan(&pg, &p, b, 1);
	c = scan(&pg, &p, a, 1);
	CHECK(c == 2, "two changes in the window");
	c = scan(&pg, &p, b, 1);
	c = scan(&pg, &p, a, 1);
	CHECK(c == 4, "changing every scan: count = history");
	p.history = 8;
	CHECK(cmd_change_count(&pg, 8) == 4, "8-scan window: the first change has left");
}

static void test_subpage(void)
{
	struct cmd_params p = defaults;
	struct cmd_page pg = {0};
	u64 s[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	u32 cls, cls2;
	int i;

	p.classifier = CMD_SUBPAGE;
	scan(&pg, &p, s, 8);
	for (i = 0; i < 4; i++)
		scan(&pg, &p, s, 8);
	CHECK(pg.mask == 0, "quiet page: no changed sub-blocks");
	CHECK(cmd_page_class(&p, NULL, &pg, 0, 0) == 0, "quiet page: class 0");
	s[3] = 99;
	scan(&pg, &p, s, 8);
	CHECK(pg.mask == 1u << 3, "sub-block 3 changed");
	cls = cmd_page_class(&p, NULL, &pg, 0, 0);
	CHECK(cls >= 1 && cls < 8, "changed page: class 1..7 (%u)", cls);
	s[5] = 77;
	scan(&pg, &p, s, 8);
	CHECK(pg.mask == ((1u << 3) | (1u << 5)), "mask accumulates in window");
	cls2 = cmd_page_class(&p, NULL, &pg, 0, 0);
	CHECK(cls2 >= 1 && cls2 < 8, "class in range (%u)", cls2);
	for (i = 0; i < 4; i++)
		scan(&pg, &p, s, 8);
	CHECK(pg.mask == 0, "mask forgotten after a quiet window");
	p.classes = 1;
	s[0] = 5;
	scan(&pg, &p, s, 8);
	CHECK(cmd_page_class(&p, NULL, &pg, 0, 0) == 0, "one class: always 0");
}

static void test_checksum_class(void)
{
	struct cmd_params p = defaults;
	struct cmd_page x = {0}, y = {0}, z = {0};
	u64 same[8] = { 10, 20, 30, 40, 50, 60, 70, 80 };
	u64 other[8] = { 20, 10, 30, 40, 50, 60, 70, 80 };

	p.classifier = CMD_CHECKSUM;
	scan(&x, &p, same, 1);
	scan(&y, &p, same, 1);
	scan(&z, &p, other, 1);
	CHECK(cmd_page_class(&p, NULL, &x, 0, 0) ==
	      cmd_page_class(&p, NULL, &y, 0, 0), "equal content, equal class");
	CHECK(cmd_page_class(&p, NULL, &x, 0, 0) !=
	      cmd_page_class(&p, NULL, &z, 0, 0), "other content, other class");
	memset(&x, 0, sizeof(x));
	memset(&z, 0, sizeof(z));
	scan(&x, &p, same, 8);
	scan(&z, &p, other, 8);
	CHECK(x.sum != z.sum, "swapped sub-blocks give another sum");
	CHECK(cmd_page_class(&p, NULL, NULL, 0, 0) == 0, "unscanned: class 0");
	/* A page with no record (no VM's, a ROM's) meets its twins. */
	memset(&x, 0, sizeof(x));
	scan(&x, &p, same, 1);
	CHECK(cmd_hash_class(same[0]) == cmd_page_class(&p, NULL, &x, 0, 0),
	      "hash class of the content = class of a VM page holding it");
	CHECK(cmd_hash_class(0x123456789abcdefULL) !=
	      cmd_hash_class(0x123456789abcdeeULL), "other hash, other class");
}

static void test_address(void)
{
	struct cmd_params p = defaults;
	u64 span = 65536;

	p.classifier = CMD_ADDRESS;
	CHECK(cmd_page_class(&p, NULL, NULL, 0, span) == 0, "gfn 0: class 0");
	CHECK(cmd_page_class(&p, NULL, NULL, span - 1, span) == 7, "last gfn: last class");
	CHECK(cmd_page_class(&p, NULL, NULL, span / 2, span) == 4, "middle: class 4");
	CHECK(cmd_page_class(&p, NULL, NULL, span, span) == 0, "outside: class 0");
	CHECK(cmd_page_class(&p, NULL, NULL, 5, 0) == 0, "no span: class 0");
	CHECK(cmd_page_class(&p, NULL, NULL, (1ULL << 40) - 1, 1ULL << 40) == 7,
	      "4 PiB guest: no overflow");
}

static void test_ranges_offset(void)
{
	struct cmd_ranges r = {0};
	struct cmd_params p = defaults;
	int i, added;

	/* A PC: 640 KiB low, RAM from 1 MiB to 3 GiB, the rest above 4 GiB. */
	CHECK(cmd_ranges_add(&r, 0x100000, 0x40000), "add high RAM");
	CHECK(cmd_ranges_add(&r, 0, 160), "add low 640 KiB");
	CHECK(cmd_ranges_add(&r, 256, 0xc0000 - 256), "add RAM below 3 GiB");
	CHECK(!cmd_ranges_add(&r, 5, 0), "empty range refused");
	CHECK(r.n == 3 && r.base[0] == 0 && r.base[2] == 0x100000, "kept sorted");
	CHECK(r.total == 160 + 0xc0000 - 256 + 0x40000, "total pages");
	CHECK(cmd_ranges_offset(&r, 0) == 0, "first frame at 0");
	CHECK(cmd_ranges_offset(&r, 200) == U64_MAX, "hole: outside");
	CHECK(cmd_ranges_offset(&r, 256) == 160, "holes squeezed out");
	CHECK(cmd_ranges_offset(&r, 0x100000) == 160 + 0xc0000 - 256,
	      "above 4 GiB follows on");
	CHECK(cmd_ranges_offset(&r, 0x140000) == U64_MAX, "past the end: outside");
	p.classifier = CMD_ADDRESS;
	CHECK(cmd_page_class(&p, NULL, NULL, cmd_ranges_offset(&r, 0x13ffff),
			     r.total) == 7, "last frame: last class");
	CHECK(cmd_page_class(&p, NULL, NULL, cmd_ranges_offset(&r, 0x80000),
			     r.total) == 3, "just below the middle: class 3 of 8");
	for (i = 0, added = 0; i < CMD_MAX_RANGES; i++)
		added += cmd_ranges_add(&r, 0x200000 + 16 * i, 1);
	CHECK(added == CMD_MAX_RANGES - 3 && r.n == CMD_MAX_RANGES,
	      "at most %d ranges", CMD_MAX_RANGES);
}

static void test_boundaries(void)
{
	struct cmd_wc_map m;
	u64 flat[9] = { 100, 100, 100, 100, 100, 0, 0, 0, 0 };
	u64 skew[9] = { 900, 10, 10, 10, 70, 0, 0, 0, 0 };
	u64 none[9] = { 0 };
	unsigned int v, size[8] = { 0 };
	int mono = 1;

	cmd_wc_boundaries(flat, 4, 5, &m);
	CHECK(m.nclasses == 5, "5 equal counts, 5 classes: one each (%u)", m.nclasses);
	for (v = 0; v <= 4; v++)
		size[m.class_of[v]] += flat[v];
	CHECK(size[0] == 100 && size[4] == 100, "equal sizes");
	cmd_wc_boundaries(flat, 4, 2, &m);
	CHECK(m.nclasses == 2, "2 classes (%u)", m.nclasses);
	memset(size, 0, sizeof(size));
	for (v = 0; v <= 4; v++)
		size[m.class_of[v]] += flat[v];
	CHECK(size[0] >= 200 && size[1] >= 200, "sizes within one count (%u/%u)",
	      size[0], size[1]);
	cmd_wc_boundaries(skew, 4, 4, &m);
	for (v = 1; v <= 4; v++)
		if (m.class_of[v] < m.class_of[v - 1])
			mono = 0;
	CHECK(mono, "classes grow with the count");
	CHECK(m.class_of[0] == 0 && m.class_of[4] == m.nclasses - 1,
	      "quiet pages first, busiest last");
	CHECK(m.class_of[0] != m.class_of[1], "the big quiet group is alone");
	CHECK(m.nclasses <= 4, "never more classes than asked (%u)", m.nclasses);
	cmd_wc_boundaries(none, 4, 8, &m);
	CHECK(m.nclasses == 5 && m.class_of[4] == 4, "no data: one class per count");
	cmd_wc_boundaries(none, 8, 3, &m);
	CHECK(m.class_of[8] == 2 && m.nclasses == 3, "no data, few classes: capped");
	cmd_wc_boundaries(flat, 4, 1, &m);
	for (v = 0, mono = 1; v <= 4; v++)
		if (m.class_of[v])
			mono = 0;
	CHECK(mono && m.nclasses == 1, "one class: all 0");
}

/* Every class is below the class count, for every input. */
static void test_ranges(void)
{
	struct cmd_params p = defaults;
	struct cmd_wc_map m;
	u64 counts[9];
	unsigned int seed = 12345, i, k, bad = 0;

	for (i = 0; i < 20000; i++) {
		struct cmd_page pg = {0};
		u64 sub[8];

		seed = seed * 1103515245 + 12345;
		p.classifier = (enum cmd_classifier)(seed % (CMD_NR_CLASSIFIERS - 1));
		if (p.classifier == CMD_CHECKSUM)
			p.classifier = CMD_SUBPAGE;
		p.classes = 1 + (seed >> 8) % CMD_MAX_CLASSES;
		p.history = 1 + (seed >> 16) % CMD_MAX_HISTORY;
		p.subblocks = 1u << ((seed >> 20) % 4);
		for (k = 0; k <= 8; k++) {
			seed = seed * 1103515245 + 12345;
			counts[k] = (seed >> 4) % 1000;
		}
		cmd_wc_boundaries(counts, p.history, p.classes, &m);
		for (k = 0; k < 6; k++) {
			unsigned int j;

			for (j = 0; j < 8; j++) {
				seed = seed * 1103515245 + 12345;
				sub[j] = seed % 3;
			}
			cmd_page_update(&pg, &p, sub, p.subblocks, k);
			if (cmd_page_class(&p, &m, &pg, seed % 1000, 1000) >=
			    p.classes)
				bad++;
		}
	}
	CHECK(bad == 0, "classes always below the class count (%u bad)", bad);
}

int main(void)
{
	printf("TAP version 13\n");
	test_parse();
	test_params();
	test_history();
	test_pass_history();
	test_subpage();
	test_checksum_class();
	test_address();
	test_ranges_offset();
	test_boundaries();
	test_ranges();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
