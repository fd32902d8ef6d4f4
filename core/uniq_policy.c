// SPDX-License-Identifier: GPL-2.0
/* Unique-page filter: per-pass checksum counts (see uniq_policy.h). */
#include "uniq_policy.h"

#define UNIQ_TAG_MASK	15UL

unsigned int uniq_count(u8 *slot, unsigned long seq)
{
	unsigned int v = *slot, tag = seq & UNIQ_TAG_MASK;
	unsigned int cur = v & 3, prev = (v >> 2) & 3;

	if (v >> 4 != tag) {
		/* Last used one pass ago: its count becomes the previous. */
		prev = v >> 4 == ((seq - 1) & UNIQ_TAG_MASK) ? cur : 0;
		cur = 0;
	}
	if (cur < UNIQ_SHARED)
		cur++;
	*slot = (u8)(tag << 4 | prev << 2 | cur);
	return prev;
}

unsigned int uniq_table_bits(unsigned long entries, unsigned int bits)
{
	unsigned int want = UNIQ_MIN_BITS;

	while (want < UNIQ_MAX_BITS && (1UL << want) < entries * 2)
		want++;
	if (!bits || want > bits || want + 2 <= bits)
		return want;
	return bits;
}
