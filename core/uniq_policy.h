/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unique-page filter: how often each page checksum was seen in the last
 * two KSM passes, in a table of one-byte slots indexed by a hash of the
 * checksum. A VM page whose checksum was seen only once in the previous
 * pass has no twin among the pages KSM scanned, and is kept out of KSM's
 * unstable tree.
 *
 * A slot holds a pass tag (the pass number modulo 16) in bits 7..4, the
 * count of the previous pass in bits 3..2 and the count of the tagged
 * pass in bits 1..0; counts saturate at 2. A slot is brought up to date
 * when it is next used, so the table never has to be cleared between
 * passes. Collisions, and slots left untouched for exactly 16 passes,
 * can only make a checksum look seen more often than it was: that makes a
 * page look shared, which is stock KSM's behaviour.
 */
#ifndef _KVMX_UNIQ_POLICY_H
#define _KVMX_UNIQ_POLICY_H

#include <kvmx/policy.h>

#define UNIQ_MIN_BITS	16	/* 64 KiB */
#define UNIQ_MAX_BITS	26	/* 64 MiB: two slots per page up to 128 GiB */
#define UNIQ_SHARED	2	/* a count this high means "two or more" */

/* The slot of @sum in a table of 2^@bits slots. */
static inline u32 uniq_slot(u64 sum, unsigned int bits)
{
	return (u32)((sum * 0x61c8864680b583ebULL) >> (64 - bits));
}

/*
 * Count one page whose checksum falls in @slot during pass @seq. Returns
 * how many pages of that slot the previous pass saw: 0, 1 or UNIQ_SHARED.
 */
unsigned int uniq_count(u8 *slot, unsigned long seq);

/*
 * Table size, in bits, for KSM tracking @entries pages, when the table
 * now has 2^@bits slots (0: no table yet). Aims at two to four slots per
 * page (at most 0.1% of the memory KSM scans); grows as soon as there are
 * fewer than two and shrinks only at eight or more, so that
 * a steady load keeps its table.
 */
unsigned int uniq_table_bits(unsigned long entries, unsigned int bits);

#endif /* _KVMX_UNIQ_POLICY_H */
