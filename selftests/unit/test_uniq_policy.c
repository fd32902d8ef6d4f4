// SPDX-License-Identifier: GPL-2.0
/* Userspace unit tests of core/uniq_policy.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uniq_policy.h"

#include "unit_tap.h"

/*
 * One pass over @n checksums in @sums, with the filter's decision for
 * each: 1 if the previous pass saw it fewer than twice.
 */
static void pass(u8 *tab, unsigned int bits, unsigned long seq,
		 const u64 *sums, int n, int *unique)
{
	int i;

	for (i = 0; i < n; i++)
		unique[i] = uniq_count(&tab[uniq_slot(sums[i], bits)], seq) <
			    UNIQ_SHARED;
}

int main(void)
{
	unsigned int bits = UNIQ_MIN_BITS, i, coll;
	u8 *tab = calloc(1, 1U << bits);
	u64 sums[4] = { 11, 22, 22, 33 };
	int unique[4];
	unsigned long seq;
	u8 slot;

	/* uniq_count on a single slot. */
	slot = 0;
	CHECK(uniq_count(&slot, 5) == 0, "fresh slot: previous pass saw nothing");
	CHECK(uniq_count(&slot, 5) == 0, "second page, same pass: still nothing before");
	CHECK(uniq_count(&slot, 6) == UNIQ_SHARED, "next pass sees the two of the last");
	CHECK(uniq_count(&slot, 7) == 1, "then the one of pass 6");
	CHECK(uniq_count(&slot, 9) == 0, "a pass without it in between: 0");
	for (i = 0; i < 10; i++)
		uniq_count(&slot, 20);
	CHECK((slot & 3) == UNIQ_SHARED, "the count saturates at two");
	CHECK(uniq_count(&slot, 21) == UNIQ_SHARED, "saturated count carries over");
	slot = 0;
	CHECK(uniq_count(&slot, 1) == 0, "zeroed slot at pass 1 (tag of pass 0): 0");
	slot = 0;
	CHECK(uniq_count(&slot, 16) == 0, "zeroed slot at a pass with tag 0: 0");
	slot = 0;
	uniq_count(&slot, 3);
	CHECK(uniq_count(&slot, 3 + 16) == 0,
	      "a slot unused for 16 passes: nothing seen in the last pass");
	CHECK(uniq_count(&slot, 3 + 17) == UNIQ_SHARED,
	      "but its old count adds up: the error is toward shared");
	slot = 0;
	uniq_count(&slot, ~0UL);
	CHECK(uniq_count(&slot, 0) == 1, "pass numbers wrap around");

	/* Passes over a table. */
	seq = 100;
	pass(tab, bits, seq, sums, 4, unique);
	CHECK(unique[0] && unique[1] && unique[2] && unique[3],
	      "first pass: nothing was seen before");
	pass(tab, bits, ++seq, sums, 4, unique);
	CHECK(unique[0] && !unique[1] && !unique[2] && unique[3],
	      "second pass: twins shared, singletons unique");
	sums[3] = 11;	/* page 3 becomes a twin of page 0 */
	pass(tab, bits, ++seq, sums, 4, unique);
	CHECK(unique[0] && unique[3], "a new twin is still unique one pass on");
	pass(tab, bits, ++seq, sums, 4, unique);
	CHECK(!unique[0] && !unique[3], "and shared the pass after");
	sums[2] = 44;
	pass(tab, bits, ++seq, sums, 4, unique);
	CHECK(!unique[1] && unique[2],
	      "a twin broken this pass: the other looks shared one more pass");
	pass(tab, bits, ++seq, sums, 4, unique);
	CHECK(unique[1] && unique[2], "and unique one pass later");
	seq += 5;
	pass(tab, bits, seq, sums, 4, unique);
	CHECK(unique[0] && unique[1] && unique[2] && unique[3],
	      "after passes without them, everything starts unique again");

	/* Slots spread sequential and random-looking checksums. */
	memset(tab, 0, 1U << bits);
	coll = 0;
	for (i = 0; i < 16384; i++) {
		u8 *s = &tab[uniq_slot(i, bits)];

		if (*s)
			coll++;
		*s = 1;
	}
	CHECK(coll < 16384 / 10, "16k sequential checksums in 64k slots: %u collisions", coll);
	CHECK(uniq_slot(~0ULL, UNIQ_MAX_BITS) < (1U << UNIQ_MAX_BITS),
	      "slot index within the largest table");
	CHECK(uniq_slot(12345, 16) < (1U << 16), "slot index within the smallest table");

	/* Table sizes. */
	CHECK(uniq_table_bits(0, 0) == UNIQ_MIN_BITS, "no pages: the smallest table");
	CHECK(uniq_table_bits(1000, 0) == UNIQ_MIN_BITS, "1000 pages: the smallest table");
	CHECK(uniq_table_bits(1UL << 20, 0) == 21, "1 Mi pages (4 GiB): 2^21 slots");
	CHECK(uniq_table_bits((1UL << 20) + 1, 0) == 22, "one page more: 2^22");
	CHECK(uniq_table_bits(1UL << 30, 0) == UNIQ_MAX_BITS, "huge hosts: capped at 2^26");
	CHECK(uniq_table_bits((1UL << 20) + 1, 21) == 22, "grows below two slots per page");
	CHECK(uniq_table_bits(1UL << 19, 21) == 21, "keeps its size at half the load");
	CHECK(uniq_table_bits((1UL << 18) + 1, 21) == 21,
	      "and just above a quarter of it");
	CHECK(uniq_table_bits(1UL << 18, 21) == 19, "shrinks at eight slots per page or more");
	CHECK(uniq_table_bits(10, 17) == 17, "the smallest size plus one is kept");
	CHECK(uniq_table_bits(10, 18) == UNIQ_MIN_BITS, "shrinks to the smallest");
	for (i = 1; i < 40; i++) {
		unsigned long e = (1UL << i) / 3 + 7;
		unsigned int b = uniq_table_bits(e, 0);

		if (b > UNIQ_MIN_BITS && b < UNIQ_MAX_BITS &&
		    ((1UL << b) < 2 * e || (1UL << b) > 4 * e))
			break;
	}
	CHECK(i == 40, "fresh tables have two to four slots per page");

	free(tab);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
