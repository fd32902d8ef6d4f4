// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of core/uniq_policy.c, against a model of what
 * ksmd does with the checksum it is given: a page reaches KSM's trees in a
 * pass only if the checksum reported equals the one stored in its last
 * scan, and the reported one is stored either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uniq_policy.h"

#include "unit_tap.h"

struct pg {
	u32 fp;
	u32 slot;	/* index in the table */
	bool vm;
	u64 stored;	/* KSM's rmap_item->oldchecksum */
	bool scanned;	/* seen at least once */
};

#define TRUE_SUM	0x1234ULL

static u32 tab[64];

/* One scan of @p in pass @seq: true if it reaches KSM's trees. */
static bool scan(struct pg *p, unsigned long seq)
{
	unsigned int tag = 99;
	u64 rep;
	bool gate;

	switch (uniq_see(&tab[p->slot], p->fp, seq, p->vm, &tag)) {
	case UNIQ_HOLD:
		rep = TRUE_SUM ^ (uniq_tag(seq) + 1) * 0x100000ULL;
		break;
	case UNIQ_KEEP:
		rep = TRUE_SUM ^ (tag + 1) * 0x100000ULL;
		break;
	default:
		rep = TRUE_SUM;
	}
	gate = p->scanned && rep == p->stored;
	p->stored = rep;
	p->scanned = true;
	return gate;
}

/* Smart scan: a page of age >= 9 is scanned once in 9 passes. */
static bool aged_scan(unsigned long seq, unsigned long phase)
{
	return seq % 9 == phase;
}

int main(void)
{
	struct pg a = { .fp = 0x101, .slot = 1, .vm = true };
	struct pg b = { .fp = 0x202, .slot = 1, .vm = true };
	struct pg c = { .fp = 0x303, .slot = 1, .vm = true };
	struct pg o = { .fp = 0x404, .slot = 2, .vm = false };
	struct pg q = { .fp = 0x505, .slot = 2, .vm = true };
	unsigned long seq, first;
	unsigned int tag, i, through;
	bool all;
	u32 s;

	/* A page alone is held back in every pass. */
	through = 0;
	for (seq = 10; seq < 40; seq++)
		through += scan(&a, seq);
	CHECK(through == 0, "a page without a twin never reaches the trees (%u)",
	      through);

	/* A twin arrives: both reach the trees from the next pass on. */
	CHECK(!scan(&b, 40), "a new page's first scan is a change for KSM");
	CHECK(scan(&a, 41), "the held owner is released in the next pass");
	CHECK(scan(&b, 41), "and so is the twin");
	all = true;
	for (seq = 42; seq < 60; seq++)
		all &= scan(&a, seq) && scan(&b, seq);
	CHECK(all, "both stay in the trees while both are seen");

	/* The twin goes away: after the window the owner is held again. */
	through = 0;
	for (seq = 60; seq < 60 + UNIQ_WINDOW; seq++)
		through += scan(&a, seq);
	CHECK(through == UNIQ_WINDOW, "within the window it still counts as shared");
	CHECK(!scan(&a, 60 + UNIQ_WINDOW + 1), "after it, it is held again");

	/* Smart scan: an aged owner learns about a twin seen in between. */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 1, .vm = true };
	b = (struct pg){ .fp = 0x202, .slot = 1, .vm = true };
	through = 0;
	for (seq = 100; seq < 200; seq++)
		if (aged_scan(seq, 4))
			through += scan(&a, seq);
	CHECK(through == 0, "an aged page alone is held in each of its scans");
	first = 0;
	for (seq = 200; seq < 260 && !first; seq++) {
		scan(&b, seq);
		if (aged_scan(seq, 4) && scan(&a, seq))
			first = seq;
	}
	CHECK(first == 202, "the aged owner reaches the trees in its first scan after the twin came (pass %lu)",
	      first);
	CHECK(scan(&b, first + 1), "the young twin is in the trees every pass");

	/* Content that is already a KSM page: a new page is never held. */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 1, .vm = true };
	for (seq = 300; seq < 310; seq++)
		scan(&a, seq);
	uniq_ksm_get(&tab[1]);	/* a and its twin merged: a is no longer scanned */
	c = (struct pg){ .fp = 0x303, .slot = 1, .vm = true };
	through = 0;
	for (seq = 400; seq < 500; seq++)
		through += scan(&c, seq);
	CHECK(through == 99, "a later page with a KSM page's content is never held (%u of 99)",
	      through);
	uniq_ksm_put(&tab[1]);
	scan(&c, 500);
	CHECK(!scan(&c, 501), "once the KSM page is gone, it is held again");
	s = 0;
	for (i = 0; i < 20; i++)
		uniq_ksm_get(&s);
	uniq_ksm_put(&s);
	tag = 0;
	CHECK(uniq_see(&s, 1, 1, true, &tag) == UNIQ_TRUE,
	      "a saturated KSM count is sticky");

	/* A page outside any VM is never held but counts as a twin. */
	through = 0;
	for (seq = 600; seq < 610; seq++)
		through += scan(&o, seq);
	CHECK(through == 9, "a non-VM page passes every scan but its first (%u)",
	      through);
	CHECK(!scan(&q, 610), "a VM page with a non-VM twin: first scan");
	CHECK(scan(&q, 611), "reaches the trees in the next");

	/* An owner that is gone for good gives up its slot. */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 1, .vm = true };
	c = (struct pg){ .fp = 0x303, .slot = 1, .vm = true };
	scan(&a, 700);
	scan(&c, 700 + UNIQ_EXPIRE + 1);
	CHECK(!scan(&c, 700 + UNIQ_EXPIRE + 2),
	      "a new page takes over the slot of an owner not seen for %d passes",
	      UNIQ_EXPIRE);
	CHECK(!scan(&a, 700 + UNIQ_EXPIRE + 3) && scan(&c, 700 + UNIQ_EXPIRE + 3),
	      "the old owner coming back counts as its twin");

	/* A page next to an owner that left: it takes over, then is held. */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 1, .vm = true };
	c = (struct pg){ .fp = 0x303, .slot = 1, .vm = true };
	scan(&a, 900);
	through = 0;
	for (seq = 901; seq <= 901 + UNIQ_EXPIRE; seq++)
		through += scan(&c, seq);
	CHECK(through == UNIQ_EXPIRE - 1, "it counts as the gone owner's twin until %d passes went by (%u)",
	      UNIQ_EXPIRE, through);
	CHECK(!scan(&c, 902 + UNIQ_EXPIRE) && !scan(&c, 903 + UNIQ_EXPIRE),
	      "then owns the slot and is held, though it came by every pass");

	/* Warm-up: nothing is held, and releasing costs no extra scan. */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 1, .vm = false };
	scan(&a, 800);
	CHECK(scan(&a, 801), "a page that may not be held passes its second scan");

	/* Fingerprints: only the low 12 bits count. */
	memset(tab, 0, sizeof(tab));
	tag = 0;
	uniq_see(&tab[0], 0x1abc, 5, true, &tag);
	CHECK(uniq_see(&tab[0], 0xabc, 6, true, &tag) == UNIQ_HOLD,
	      "fingerprints compare in 12 bits");
	CHECK(uniq_see(&tab[0], 0xabd, 6, true, &tag) == UNIQ_TRUE,
	      "a different fingerprint is another page");

	/* Table size: four to eight slots per page, shrinking only late. */
	CHECK(uniq_table_bits(0, 0) == UNIQ_MIN_BITS, "empty KSM: smallest table");
	CHECK(uniq_table_bits(1UL << 20, 0) == 22, "1 Mi pages: 4 Mi slots");
	CHECK(uniq_table_bits((1UL << 20) + 1, 22) == 23, "grows at under four slots a page");
	CHECK(uniq_table_bits((1UL << 17) + 1, 22) == 22, "keeps the table under 32 slots a page");
	CHECK(uniq_table_bits(1UL << 17, 22) == 19, "shrinks at 32");
	CHECK(uniq_table_bits(~0UL >> 8, 0) == UNIQ_MAX_BITS, "bounded at the top");

	/*
	 * Resize: the table doubled, and old slot 3 is new slots 6 and 7. A
	 * page held until its twin came just before the resize is released
	 * right after it, with the tag KSM stored, as without the resize.
	 */
	memset(tab, 0, sizeof(tab));
	a = (struct pg){ .fp = 0x101, .slot = 3, .vm = true };
	b = (struct pg){ .fp = 0x202, .slot = 3, .vm = true };
	for (seq = 1000; seq < 1003; seq++)
		scan(&a, seq);
	scan(&a, 1003);
	scan(&b, 1003);
	{
		u32 old = tab[3];

		memset(tab, 0, sizeof(tab));
		uniq_adopt(&tab[6], old);
		uniq_adopt(&tab[7], old);
		a.slot = b.slot = 6;
		CHECK(scan(&a, 1004), "after a resize a page whose twin came before it is released at once");
		CHECK(scan(&b, 1004), "and its twin reaches the trees with it");
		c = (struct pg){ .fp = 0x303, .slot = 7, .vm = true };
		scan(&c, 1004);
		CHECK(scan(&c, 1005), "a page of the other new slot of that hash looks shared");
		tab[8] = 1U << 29;	/* one KSM page, counted by the new table */
		uniq_adopt(&tab[8], old | 2U << 29);
		CHECK(tab[8] >> 29 == 1 && (tab[8] & ~(7U << 29)) == (old & ~(7U << 29)),
		      "a slot takes over the page state, not the old KSM count");
		tab[9] = tab[6];
		uniq_adopt(&tab[9], old ^ 0xfff);
		CHECK(tab[9] == tab[6], "a slot that holds a page already keeps it");
	}
	/* Without the old table, the same page is held once more. */
	memset(tab, 0, sizeof(tab));
	a.slot = 6;
	CHECK(!scan(&a, 1004), "(without taking over, it would be held a pass longer)");

	/* Warm-up: one pass when every page came after KSM was empty. */
	CHECK(uniq_warmup(5, 5) == 1, "counting from the pass KSM was empty: one pass");
	CHECK(uniq_warmup(5 + UNIQ_YOUNG, 5) == 1, "up to UNIQ_YOUNG passes later: one pass");
	CHECK(uniq_warmup(6 + UNIQ_YOUNG, 5) == UNIQ_WINDOW, "later, pages may be aged: the window");
	CHECK(uniq_warmup(5, 0) == UNIQ_WINDOW, "KSM never seen empty: the window");
	CHECK(uniq_warmup(4, 5) == UNIQ_WINDOW, "an empty pass after the start vouches for nothing");

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
