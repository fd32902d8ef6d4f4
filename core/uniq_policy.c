// SPDX-License-Identifier: GPL-2.0
/* Unique-page filter: owners, twins and KSM content (see uniq_policy.h). */
#include "uniq_policy.h"

/*
 * Slot layout, low to high bits:
 *   0..11   fingerprint of the owner
 *  12..16   tag of the owner's last sighting
 *  17..21   tag of the owner's last hold
 *  22       the owner was held at that tag (KSM stores that perturbation)
 *  23..27   tag of the last sighting of another page
 *  28       another page was seen at that tag
 *  29..31   KSM pages with this content (saturating)
 * A zero slot is empty.
 */
#define FP_MASK		0xfffU
#define F(v, lo, n)	(((v) >> (lo)) & ((1U << (n)) - 1))
#define OTAG(v)		F(v, 12, 5)
#define HTAG(v)		F(v, 17, 5)
#define HELD		(1U << 22)
#define STAG(v)		F(v, 23, 5)
#define SEEN		(1U << 28)
#define KSM(v)		F(v, 29, 3)
#define KSM_BITS	(7U << 29)

static inline unsigned int age(unsigned int now, unsigned int then)
{
	return (now - then) & 31;
}

static inline u32 set(u32 v, unsigned int lo, unsigned int n, unsigned int x)
{
	u32 m = ((1U << n) - 1) << lo;

	return (v & ~m) | ((x << lo) & m);
}

enum uniq_verdict uniq_see(u32 *slot, u32 fp, unsigned long seq,
			   bool may_hold, unsigned int *tag)
{
	unsigned int now = uniq_tag(seq);
	u32 v = *slot;
	bool twin;

	fp &= FP_MASK;
	twin = (v & SEEN) && age(now, STAG(v)) <= UNIQ_WINDOW;
	/*
	 * A live owner is seen at least once in 9 passes, held or not, so
	 * one not seen for UNIQ_EXPIRE passes is gone (its content changed,
	 * or it was freed or merged), whatever others come by.
	 */
	if (!(v & ~KSM_BITS) || age(now, OTAG(v)) > UNIQ_EXPIRE) {
		/* Empty, or its owner is gone: @fp owns it now. */
		v &= 7U << 29;
		v |= fp;
		v = set(v, 12, 5, now);
		if (KSM(v) || !may_hold) {
			*slot = v;
			return UNIQ_TRUE;
		}
		*slot = set(v, 17, 5, now) | HELD;
		return UNIQ_HOLD;
	}
	if ((v & FP_MASK) != fp) {
		/* A twin of the owner, or a collision: both look shared. */
		*slot = set(v, 23, 5, now) | SEEN;
		return UNIQ_TRUE;
	}
	v = set(v, 12, 5, now);
	if (KSM(v) || twin || !may_hold) {
		*slot = v;
		if (!(v & HELD))
			return UNIQ_TRUE;
		*tag = HTAG(v);
		return UNIQ_KEEP;
	}
	*slot = set(v, 17, 5, now) | HELD;
	return UNIQ_HOLD;
}

void uniq_ksm_get(u32 *slot)
{
	if (KSM(*slot) < UNIQ_KSM_MAX)
		*slot += 1U << 29;
}

void uniq_ksm_put(u32 *slot)
{
	/* A saturated count no longer knows how many there are: sticky. */
	if (KSM(*slot) && KSM(*slot) < UNIQ_KSM_MAX)
		*slot -= 1U << 29;
}

void uniq_adopt(u32 *slot, u32 old)
{
	if (!(*slot & ~KSM_BITS))
		*slot |= old & ~KSM_BITS;
}

unsigned int uniq_warmup(unsigned long start, unsigned long empty)
{
	if (empty && empty <= start && start - empty <= UNIQ_YOUNG)
		return 1;
	return UNIQ_WINDOW;
}

unsigned int uniq_table_bits(unsigned long entries, unsigned int bits)
{
	unsigned int want = UNIQ_MIN_BITS;

	while (want < UNIQ_MAX_BITS && (1UL << want) < entries * 4)
		want++;
	if (!bits || want > bits || want + 3 <= bits)
		return want;
	return bits;
}
