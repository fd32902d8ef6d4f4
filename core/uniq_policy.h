/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unique-page filter: which pages have a twin among the pages ksmd
 * checksummed in the last passes, so that pages without one are kept out
 * of KSM's unstable tree.
 *
 * The table has one 32-bit slot per keyed hash of (checksum, KSM domain):
 * a domain's pages are only ever counted against its own, and the hash
 * key is a per-boot secret, so that a tenant can neither aim at another
 * domain's slots nor learn from the filter what another domain holds.
 *
 * A slot remembers the first page that came with its hash (the owner, by
 * a fingerprint of its identity), when the owner was last seen, when a
 * different page was last seen (a twin, or a collision: both count as
 * sharing, which is stock KSM's behaviour), and how many KSM pages hold
 * that content. A page is held back only while it is the owner, no other
 * page came within UNIQ_WINDOW passes and no KSM page has its content.
 * The window covers smart scan's longest skip (8 passes in 9), so that an
 * aged page still learns about a twin that appeared in between; KSM pages
 * are never checksummed, so they are counted when they are made and when
 * they go away.
 *
 * Holding a page means reporting a checksum that differs from the one KSM
 * stored in the previous pass. The owner's slot keeps the pass of its
 * last hold, so that releasing it returns exactly what KSM stored then,
 * and it reaches KSM's trees in the very pass its twin is first known.
 *
 * Errors: a twin whose fingerprint equals the owner's (one in 2^12) is
 * taken for the owner, and the pair stays held until one of them moves;
 * pass tags are 5 bits, and a slot left alone for 32 passes may look
 * recent, which only ever makes a page look shared.
 */
#ifndef _KVMX_UNIQ_POLICY_H
#define _KVMX_UNIQ_POLICY_H

#include <kvmx/policy.h>

#define UNIQ_MIN_BITS	14	/* 64 KiB */
#define UNIQ_MAX_BITS	27	/* 512 MiB: four slots per page up to 128 GiB */
#define UNIQ_WINDOW	12	/* passes: smart scan scans every page in 9 */
#define UNIQ_EXPIRE	24	/* an owner not seen for this long is gone */
#define UNIQ_KSM_MAX	7	/* KSM page count saturates (then sticky) */
#define UNIQ_YOUNG	3	/* smart scan skips no page younger than this */

/* What to report to KSM for one page. */
enum uniq_verdict {
	UNIQ_TRUE,	/* the page's real checksum */
	UNIQ_HOLD,	/* held: perturbed with the tag of this pass */
	UNIQ_KEEP,	/* released: perturbed with the tag of its last hold */
};

/* The slot of keyed hash @h in a table of 2^@bits slots. */
static inline u32 uniq_slot(u64 h, unsigned int bits)
{
	return (u32)(h >> (64 - bits));
}

/* Tag of pass @seq: what a held page's checksum is perturbed with. */
static inline unsigned int uniq_tag(unsigned long seq)
{
	return seq & 31;
}

/*
 * Page @fp (a fingerprint of its identity, 12 bits used) with the hash of
 * @slot is checksummed in pass @seq. @may_hold: the page is one the
 * filter may hold back (a VM's page, the table warmed up). Returns what
 * to report; for UNIQ_KEEP, *@tag is the tag to perturb with.
 */
enum uniq_verdict uniq_see(u32 *slot, u32 fp, unsigned long seq,
			   bool may_hold, unsigned int *tag);

/*
 * A table replaced one of another size, and @slot is the new slot of a
 * hash whose old slot held @old. A new slot that holds no page yet takes
 * over what the old one knew, so that a resize loses no history: owners
 * stay owners and keep their last hold, twins stay twins. Several new slots
 * may take over one old slot (the table grew): the pages of those hashes
 * then look shared until the old owner expires, which is stock behaviour.
 * KSM counts are not taken over; the new table counts KSM pages itself.
 */
void uniq_adopt(u32 *slot, u32 old);

/*
 * Passes a table that started counting in pass @start must count before
 * it may hold pages back, when KSM last began a pass without any page in
 * pass @empty (0: not seen). A page is held only if no twin came within
 * UNIQ_WINDOW passes, so the table must have seen every page KSM tracks:
 * smart scan scans a page in each of its first UNIQ_YOUNG + 1 passes, so if
 * every page came after @empty and @start <= @empty + UNIQ_YOUNG, the one
 * pass @start has seen them all. Otherwise it takes smart scan's longest
 * skip: UNIQ_WINDOW passes.
 */
unsigned int uniq_warmup(unsigned long start, unsigned long empty);

/* A KSM page with the content of @slot was made, or went away. */
void uniq_ksm_get(u32 *slot);
void uniq_ksm_put(u32 *slot);

/*
 * Table size, in bits, for KSM tracking @entries pages, when the table
 * now has 2^@bits slots (0: no table yet). Aims at four to eight slots per
 * page (16 to 32 bytes, at most 0.8% of the memory KSM scans): a page
 * whose slot another content's hash also falls in looks shared, one page
 * in eight to one in five at that load. Grows as soon as there are fewer
 * than four and shrinks only at thirty-two or more, so that a steady load
 * keeps its table.
 */
unsigned int uniq_table_bits(unsigned long entries, unsigned int bits);

#endif /* _KVMX_UNIQ_POLICY_H */
