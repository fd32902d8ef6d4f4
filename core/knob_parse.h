/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parser of every kvmx sysfs knob. Plain C: it builds in the kernel and
 * in the userspace unit tests. kvmx_core wraps it for the other modules
 * (kvmx_parse_*() in <kvmx/core.h>).
 *
 * Every function reads exactly @count bytes of @buf, the count a sysfs store
 * gets, and never the byte after them. The input may end in one newline;
 * any other byte outside the grammar, a NUL included, makes it malformed.
 *
 * A number is one or more decimal digits and nothing else: no sign, no
 * "0x", no blanks. Leading zeros are read as decimal: "010" is 10. Sizes
 * may end in K, M, G or T (or k, m, g, t), binary multiples as in the
 * kernel's memparse(): "64M" is 67108864.
 *
 * Return values: 0, -EINVAL for malformed input (an empty one included) and
 * -ERANGE for a well-formed value that does not fit the result. Malformed
 * wins over out of range. Results are written only on success.
 */
#ifndef _KVMX_KNOB_PARSE_H
#define _KVMX_KNOB_PARSE_H

#include <kvmx/policy.h>

/* knob_parse_u64() flags. */
#define KNOB_SIZE	0x1	/* a K, M, G or T suffix is allowed */

/* A number that fits in 64 bits (with KNOB_SIZE: a size in bytes). */
int knob_parse_u64(const char *buf, size_t count, unsigned int flags,
		   u64 *v);

/* A number that fits in 32 bits. */
int knob_parse_u32(const char *buf, size_t count, u32 *v);

/*
 * Exactly @n numbers, each fitting in 64 bits, separated by one @sep each:
 * "80 60 40 20" with ' ', "1234-12" with '-'. -EINVAL for more or fewer.
 */
int knob_parse_u64s(const char *buf, size_t count, char sep, u64 *v,
		    unsigned int n);

/*
 * A decimal fraction with at most @decimals digits after the point, in
 * units of 10^-@decimals: "0.75" is 750 with three decimals, as are ".75"
 * and "0.750"; "0" and "2" are 0 and 2000. A point must be followed by a
 * digit ("0." is malformed), and more than @decimals digits after it are
 * malformed, even zeros. @decimals is at most 9.
 */
int knob_parse_fixed(const char *buf, size_t count, unsigned int decimals,
		     u64 *v);

/*
 * One of @n words, exactly: its index, or -EINVAL. Case counts, and a
 * prefix is not a match.
 */
int knob_parse_word(const char *buf, size_t count, const char *const *words,
		    unsigned int n);

/* A boolean: 1, y, Y or on for true, 0, n, N or off for false. */
int knob_parse_bool(const char *buf, size_t count, bool *v);

#endif /* _KVMX_KNOB_PARSE_H */
