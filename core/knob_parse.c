// SPDX-License-Identifier: GPL-2.0
/*
 * The parser of every kvmx sysfs knob (see knob_parse.h). No kernel headers
 * here: selftests/unit builds this file as it is.
 */
#include "knob_parse.h"

#define KNOB_U32_MAX		0xffffffffULL
#define KNOB_MAX_DECIMALS	9

/* The length of @buf without the one newline it may end in. */
static size_t knob_len(const char *buf, size_t count)
{
	return count && buf[count - 1] == '\n' ? count - 1 : count;
}

/*
 * The decimal digits of @buf from *@pos up to @len as a number, and *@pos
 * moved past them. -EINVAL if there is none. A number beyond 64 bits sets
 * *@over; the digits are still consumed.
 */
static int knob_digits(const char *buf, size_t len, size_t *pos, u64 *v,
		       bool *over)
{
	size_t i = *pos;
	u64 x = 0;

	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		unsigned int d = (unsigned int)(buf[i] - '0');

		if (x > (U64_MAX - d) / 10)
			*over = true;
		else
			x = x * 10 + d;
	}
	if (i == *pos)
		return -EINVAL;
	*pos = i;
	*v = x;
	return 0;
}

/* The shift of a size suffix, 0 if @c is none. */
static unsigned int knob_suffix_shift(char c)
{
	switch (c) {
	case 'K':
	case 'k':
		return 10;
	case 'M':
	case 'm':
		return 20;
	case 'G':
	case 'g':
		return 30;
	case 'T':
	case 't':
		return 40;
	default:
		return 0;
	}
}

int knob_parse_u64(const char *buf, size_t count, unsigned int flags,
		   u64 *v)
{
	size_t len, pos = 0;
	unsigned int shift = 0;
	bool over = false;
	u64 x;

	if (!buf || !v)
		return -EINVAL;
	len = knob_len(buf, count);
	if (knob_digits(buf, len, &pos, &x, &over))
		return -EINVAL;
	if ((flags & KNOB_SIZE) && pos + 1 == len) {
		shift = knob_suffix_shift(buf[pos]);
		if (shift)
			pos++;
	}
	if (pos != len)
		return -EINVAL;
	if (over || (shift && x > U64_MAX >> shift))
		return -ERANGE;
	*v = x << shift;
	return 0;
}

int knob_parse_u32(const char *buf, size_t count, u32 *v)
{
	u64 x;
	int ret;

	if (!v)
		return -EINVAL;
	ret = knob_parse_u64(buf, count, 0, &x);
	if (ret)
		return ret;
	if (x > KNOB_U32_MAX)
		return -ERANGE;
	*v = (u32)x;
	return 0;
}

/* knob_parse_u64s() without storing anything when @v is NULL. */
static int knob_list(const char *buf, size_t count, char sep, u64 *v,
		     unsigned int n)
{
	size_t len = knob_len(buf, count), pos = 0;
	bool over = false;
	unsigned int i;
	u64 x;

	for (i = 0; i < n; i++) {
		if (i) {
			if (pos == len || buf[pos] != sep)
				return -EINVAL;
			pos++;
		}
		if (knob_digits(buf, len, &pos, &x, &over))
			return -EINVAL;
		if (v)
			v[i] = x;
	}
	if (pos != len)
		return -EINVAL;
	return over ? -ERANGE : 0;
}

int knob_parse_u64s(const char *buf, size_t count, char sep, u64 *v,
		    unsigned int n)
{
	int ret;

	if (!buf || !v || !n || (sep >= '0' && sep <= '9'))
		return -EINVAL;
	ret = knob_list(buf, count, sep, NULL, n);
	if (ret)
		return ret;
	return knob_list(buf, count, sep, v, n);
}

int knob_parse_fixed(const char *buf, size_t count, unsigned int decimals,
		     u64 *v)
{
	size_t len, pos = 0, start;
	u64 whole = 0, frac = 0, scale = 1;
	bool over = false, has_whole;
	unsigned int i;

	if (!buf || !v || decimals > KNOB_MAX_DECIMALS)
		return -EINVAL;
	for (i = 0; i < decimals; i++)
		scale *= 10;
	len = knob_len(buf, count);
	has_whole = !knob_digits(buf, len, &pos, &whole, &over);
	if (pos < len && buf[pos] == '.') {
		start = ++pos;
		if (knob_digits(buf, len, &pos, &frac, &over))
			return -EINVAL;
		if (pos - start > decimals)
			return -EINVAL;
		for (i = (unsigned int)(pos - start); i < decimals; i++)
			frac *= 10;
	} else if (!has_whole) {
		return -EINVAL;
	}
	if (pos != len)
		return -EINVAL;
	if (over || whole > (U64_MAX - frac) / scale)
		return -ERANGE;
	*v = whole * scale + frac;
	return 0;
}

int knob_parse_word(const char *buf, size_t count, const char *const *words,
		    unsigned int n)
{
	size_t len, i;
	unsigned int w;

	if (!buf || !words)
		return -EINVAL;
	len = knob_len(buf, count);
	for (w = 0; w < n; w++) {
		const char *s = words[w];

		if (!s)
			continue;
		for (i = 0; i < len && s[i] && s[i] == buf[i]; i++)
			;
		if (i == len && !s[i])
			return (int)w;
	}
	return -EINVAL;
}

/* Even indices are false, odd ones true. */
#define KNOB_NR_BOOL_WORDS	8
static const char *const knob_bool_words[KNOB_NR_BOOL_WORDS] = {
	"0", "1", "n", "y", "N", "Y", "off", "on",
};

int knob_parse_bool(const char *buf, size_t count, bool *v)
{
	int w;

	if (!v)
		return -EINVAL;
	w = knob_parse_word(buf, count, knob_bool_words, KNOB_NR_BOOL_WORDS);
	if (w < 0)
		return w;
	*v = w & 1;
	return 0;
}
