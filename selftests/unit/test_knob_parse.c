// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of core/knob_parse.c. Every input is copied into a
 * heap buffer of exactly its length, so that ASan catches a read past the
 * count a sysfs store gets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "knob_parse.h"

#include "unit_tap.h"

/* A string literal and its length, embedded NULs included. */
#define IN(s)	s, sizeof(s) - 1
#define NCASES(c)	(sizeof(c) / sizeof((c)[0]))

struct num_case {
	const char *in;
	size_t len;
	int ret;
	u64 want;
};

/* @in as C source, for the test names. */
static const char *shown(const char *in, size_t len)
{
	static char out[128];
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\n')
			o += (size_t)sprintf(out + o, "\\n");
		else if (c == '\t')
			o += (size_t)sprintf(out + o, "\\t");
		else if (c < 32 || c > 126)
			o += (size_t)sprintf(out + o, "\\%o", c);
		else
			out[o++] = (char)c;
	}
	if (i < len)
		o += (size_t)sprintf(out + o, "...");
	out[o] = 0;
	return out;
}

/* A heap copy of exactly @len bytes (at least one, so malloc returns one). */
static char *exact(const char *in, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, in, len);
	return p;
}

static const char *err_name(int ret)
{
	return ret == 0 ? "ok" : ret == -EINVAL ? "EINVAL" :
	       ret == -ERANGE ? "ERANGE" : "?";
}

static void run_u64(const char *what, const struct num_case *c, size_t nr,
		    unsigned int flags)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		char *buf = exact(c[i].in, c[i].len);
		u64 v = 12345;
		int ret = knob_parse_u64(buf, c[i].len, flags, &v);

		CHECK(ret == c[i].ret && v == (ret ? 12345 : c[i].want),
		      "%s '%s': %s %llu (got %s %llu)", what,
		      shown(c[i].in, c[i].len), err_name(c[i].ret),
		      (unsigned long long)(c[i].ret ? 0 : c[i].want),
		      err_name(ret), (unsigned long long)v);
		free(buf);
	}
}

/* Forms every number knob treats alike, with or without size suffixes. */
static const struct num_case num_cases[] = {
	{ IN("0"), 0, 0 },
	{ IN("1"), 0, 1 },
	{ IN("1\n"), 0, 1 },
	{ IN("65535"), 0, 65535 },
	{ IN("010"), 0, 10 },		/* leading zeros are decimal */
	{ IN("065536"), 0, 65536 },
	{ IN("08"), 0, 8 },
	{ IN("0100\n"), 0, 100 },
	{ IN("00"), 0, 0 },
	{ IN("0000000000000000000000000000042"), 0, 42 },
	{ IN("18446744073709551615"), 0, 18446744073709551615ULL },
	{ IN("18446744073709551616"), -ERANGE, 0 },
	{ IN("99999999999999999999999"), -ERANGE, 0 },
	{ IN("99999999999999999999999x"), -EINVAL, 0 },	/* malformed wins */
	{ IN(""), -EINVAL, 0 },
	{ IN("\n"), -EINVAL, 0 },
	{ IN("\n\n"), -EINVAL, 0 },
	{ IN("1\n\n"), -EINVAL, 0 },
	{ IN("1\n2"), -EINVAL, 0 },
	{ IN("0x40"), -EINVAL, 0 },
	{ IN("0X40"), -EINVAL, 0 },
	{ IN("+204"), -EINVAL, 0 },
	{ IN("-1"), -EINVAL, 0 },
	{ IN("-0"), -EINVAL, 0 },
	{ IN(" 1"), -EINVAL, 0 },
	{ IN("1 "), -EINVAL, 0 },
	{ IN("1 \n"), -EINVAL, 0 },
	{ IN("\t1"), -EINVAL, 0 },
	{ IN("1\t"), -EINVAL, 0 },
	{ IN("1\r\n"), -EINVAL, 0 },
	{ IN("1\0junk"), -EINVAL, 0 },
	{ IN("1\0"), -EINVAL, 0 },
	{ IN("1\0\n"), -EINVAL, 0 },
	{ IN("\0"), -EINVAL, 0 },
	{ IN("abc"), -EINVAL, 0 },
	{ IN("12abc"), -EINVAL, 0 },
	{ IN("1.5"), -EINVAL, 0 },
	{ IN("1e3"), -EINVAL, 0 },
	{ IN("1_000"), -EINVAL, 0 },
	{ IN("1,000"), -EINVAL, 0 },
};

/* Suffixes: rejected without KNOB_SIZE, binary multiples with it. */
static const struct num_case plain_suffix_cases[] = {
	{ IN("1K"), -EINVAL, 0 },
	{ IN("64M"), -EINVAL, 0 },
	{ IN("1G\n"), -EINVAL, 0 },
	{ IN("1T"), -EINVAL, 0 },
	{ IN("4k"), -EINVAL, 0 },
};

static const struct num_case size_cases[] = {
	{ IN("1K"), 0, 1024 },
	{ IN("4K"), 0, 4096 },
	{ IN("4k"), 0, 4096 },
	{ IN("1M"), 0, 1048576 },
	{ IN("64M\n"), 0, 67108864 },
	{ IN("64m"), 0, 67108864 },
	{ IN("1G"), 0, 1073741824 },
	{ IN("1g\n"), 0, 1073741824 },
	{ IN("16T"), 0, 16ULL << 40 },
	{ IN("0G"), 0, 0 },
	{ IN("010M"), 0, 10ULL << 20 },
	{ IN("16777215T"), 0, 16777215ULL << 40 },
	{ IN("16777216T"), -ERANGE, 0 },	/* 2^64 */
	{ IN("18014398509481984K"), -ERANGE, 0 },
	{ IN("18446744073709551616K"), -ERANGE, 0 },
	{ IN("1073741824"), 0, 1073741824 },
	{ IN("K"), -EINVAL, 0 },
	{ IN("M\n"), -EINVAL, 0 },
	{ IN("1P"), -EINVAL, 0 },
	{ IN("1E"), -EINVAL, 0 },
	{ IN("1B"), -EINVAL, 0 },
	{ IN("1KB"), -EINVAL, 0 },
	{ IN("1KiB"), -EINVAL, 0 },
	{ IN("1MM"), -EINVAL, 0 },
	{ IN("1 M"), -EINVAL, 0 },
	{ IN("1M "), -EINVAL, 0 },
	{ IN("1M\0"), -EINVAL, 0 },
	{ IN("1\0M"), -EINVAL, 0 },
	{ IN("+1M"), -EINVAL, 0 },
	{ IN("-1M"), -EINVAL, 0 },
	{ IN("0x1M"), -EINVAL, 0 },
	{ IN("1.5G"), -EINVAL, 0 },
	{ IN("1\nM"), -EINVAL, 0 },
	{ IN("1M\n\n"), -EINVAL, 0 },
};

static void test_u64(void)
{
	u64 v = 7;

	run_u64("u64", num_cases, NCASES(num_cases), 0);
	run_u64("u64", plain_suffix_cases, NCASES(plain_suffix_cases), 0);
	run_u64("size", num_cases, NCASES(num_cases), KNOB_SIZE);
	run_u64("size", size_cases, NCASES(size_cases), KNOB_SIZE);

	CHECK(knob_parse_u64("12junk", 2, 0, &v) == 0 && v == 12,
	      "only count bytes are read: '12junk' with count 2 is 12");
	CHECK(knob_parse_u64("1\n", 1, 0, &v) == 0 && v == 1,
	      "count 1 of '1\\n' is 1");
	CHECK(knob_parse_u64(NULL, 0, 0, &v) == -EINVAL && v == 1,
	      "NULL buffer: EINVAL");
	CHECK(knob_parse_u64("1", 1, 0, NULL) == -EINVAL, "NULL result: EINVAL");
}

static void test_u32(void)
{
	static const struct num_case c[] = {
		{ IN("0"), 0, 0 },
		{ IN("4294967295\n"), 0, 4294967295ULL },
		{ IN("04294967295"), 0, 4294967295ULL },
		{ IN("4294967296"), -ERANGE, 0 },
		{ IN("4294967297"), -ERANGE, 0 },
		{ IN("18446744073709551616"), -ERANGE, 0 },
		{ IN("4294967296x"), -EINVAL, 0 },
		{ IN("-1"), -EINVAL, 0 },
		{ IN("0x10"), -EINVAL, 0 },
		{ IN("010"), 0, 10 },
		{ IN("1K"), -EINVAL, 0 },
		{ IN("1\0junk"), -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < NCASES(c); i++) {
		char *buf = exact(c[i].in, c[i].len);
		u32 v = 12345;
		int ret = knob_parse_u32(buf, c[i].len, &v);

		CHECK(ret == c[i].ret && v == (ret ? 12345 : c[i].want),
		      "u32 '%s': %s %llu", shown(c[i].in, c[i].len),
		      err_name(c[i].ret),
		      (unsigned long long)(c[i].ret ? 0 : c[i].want));
		free(buf);
	}
}

static void test_u64s(void)
{
	static const struct {
		const char *in;
		size_t len;
		char sep;
		int ret;
		u64 want[4];
	} c[] = {
		{ IN("80 60 40 20"), ' ', 0, { 80, 60, 40, 20 } },
		{ IN("80 60 40 20\n"), ' ', 0, { 80, 60, 40, 20 } },
		{ IN("080 060 040 020"), ' ', 0, { 80, 60, 40, 20 } },
		{ IN("0 0 0 0"), ' ', 0, { 0, 0, 0, 0 } },
		{ IN("80 60 40 18446744073709551616"), ' ', -ERANGE, { 0 } },
		{ IN("18446744073709551616 60 40 x"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 20 10"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 "), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 20 "), ' ', -EINVAL, { 0 } },
		{ IN(" 80 60 40 20"), ' ', -EINVAL, { 0 } },
		{ IN("80  60 40 20"), ' ', -EINVAL, { 0 } },
		{ IN("80\t60\t40\t20"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 -1"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 +1"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 0x14"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 20\0junk"), ' ', -EINVAL, { 0 } },
		{ IN("80 60 40 20\n\n"), ' ', -EINVAL, { 0 } },
		{ IN("abc"), ' ', -EINVAL, { 0 } },
		{ IN(""), ' ', -EINVAL, { 0 } },
		{ IN("\n"), ' ', -EINVAL, { 0 } },
		{ IN("204-11"), '-', 0, { 204, 11 } },
		{ IN("204-11\n"), '-', 0, { 204, 11 } },
		{ IN("0204-011"), '-', 0, { 204, 11 } },
		{ IN("1-0"), '-', 0, { 1, 0 } },
		{ IN("204-+11"), '-', -EINVAL, { 0 } },
		{ IN("+204-11"), '-', -EINVAL, { 0 } },
		{ IN("204--11"), '-', -EINVAL, { 0 } },
		{ IN("-5"), '-', -EINVAL, { 0 } },
		{ IN("12-"), '-', -EINVAL, { 0 } },
		{ IN("12"), '-', -EINVAL, { 0 } },
		{ IN("1-2-3"), '-', -EINVAL, { 0 } },
		{ IN(" 204-11"), '-', -EINVAL, { 0 } },
		{ IN("204-11 "), '-', -EINVAL, { 0 } },
		{ IN("204 -11"), '-', -EINVAL, { 0 } },
		{ IN("204- 11"), '-', -EINVAL, { 0 } },
		{ IN("0x10-1"), '-', -EINVAL, { 0 } },
		{ IN("204-11\0junk"), '-', -EINVAL, { 0 } },
		{ IN("99999999999999999999-1"), '-', -ERANGE, { 0 } },
	};
	size_t i;

	for (i = 0; i < NCASES(c); i++) {
		unsigned int nr = c[i].sep == ' ' ? 4 : 2, k;
		char *buf = exact(c[i].in, c[i].len);
		u64 v[4] = { 7, 7, 7, 7 };
		int ret = knob_parse_u64s(buf, c[i].len, c[i].sep, v, nr);
		bool same = true;

		for (k = 0; k < nr; k++)
			same &= v[k] == (ret ? 7 : c[i].want[k]);
		CHECK(ret == c[i].ret && same, "%u numbers by '%c' '%s': %s", nr,
		      c[i].sep, shown(c[i].in, c[i].len), err_name(c[i].ret));
		free(buf);
	}
}

static void test_fixed(void)
{
	static const struct num_case c[] = {
		{ IN("0.75"), 0, 750 },
		{ IN("0.75\n"), 0, 750 },
		{ IN("0.750"), 0, 750 },
		{ IN(".75"), 0, 750 },
		{ IN(".5"), 0, 500 },
		{ IN("0"), 0, 0 },
		{ IN("0\n"), 0, 0 },
		{ IN("0.0"), 0, 0 },
		{ IN("0.999"), 0, 999 },
		{ IN("0.001"), 0, 1 },
		{ IN("00.1"), 0, 100 },
		{ IN("1"), 0, 1000 },
		{ IN("1.0"), 0, 1000 },
		{ IN("2.5"), 0, 2500 },
		{ IN("10"), 0, 10000 },
		{ IN("18446744073709551"), 0, 18446744073709551000ULL },
		{ IN("18446744073709551.615"), 0, 18446744073709551615ULL },
		{ IN("18446744073709551.616"), -ERANGE, 0 },
		{ IN("18446744073709552"), -ERANGE, 0 },
		{ IN("99999999999999999999999.5"), -ERANGE, 0 },
		{ IN("0.7500"), -EINVAL, 0 },	/* a fourth decimal, even 0 */
		{ IN("0.7501"), -EINVAL, 0 },
		{ IN("0."), -EINVAL, 0 },
		{ IN("0.\n"), -EINVAL, 0 },
		{ IN("."), -EINVAL, 0 },
		{ IN(".\n"), -EINVAL, 0 },
		{ IN("+0.5"), -EINVAL, 0 },
		{ IN("-0.5"), -EINVAL, 0 },
		{ IN("-0"), -EINVAL, 0 },
		{ IN("-1"), -EINVAL, 0 },
		{ IN(""), -EINVAL, 0 },
		{ IN("\n"), -EINVAL, 0 },
		{ IN("abc"), -EINVAL, 0 },
		{ IN("0.7.5"), -EINVAL, 0 },
		{ IN("0..5"), -EINVAL, 0 },
		{ IN("0.75x"), -EINVAL, 0 },
		{ IN("0,75"), -EINVAL, 0 },
		{ IN("0.75\n\n"), -EINVAL, 0 },
		{ IN(" 0.75"), -EINVAL, 0 },
		{ IN("0.75 "), -EINVAL, 0 },
		{ IN("0 .75"), -EINVAL, 0 },
		{ IN("0. 75"), -EINVAL, 0 },
		{ IN("0.75\0junk"), -EINVAL, 0 },
		{ IN("0\0.5"), -EINVAL, 0 },
		{ IN("0x0.5"), -EINVAL, 0 },
		{ IN("1e-1"), -EINVAL, 0 },
		{ IN("0.5K"), -EINVAL, 0 },
	};
	size_t i;
	u64 v = 5;

	for (i = 0; i < NCASES(c); i++) {
		char *buf = exact(c[i].in, c[i].len);
		int ret;

		v = 12345;
		ret = knob_parse_fixed(buf, c[i].len, 3, &v);
		CHECK(ret == c[i].ret && v == (ret ? 12345 : c[i].want),
		      "fixed, 3 decimals '%s': %s %llu (got %s %llu)",
		      shown(c[i].in, c[i].len), err_name(c[i].ret),
		      (unsigned long long)(c[i].ret ? 0 : c[i].want),
		      err_name(ret), (unsigned long long)v);
		free(buf);
	}
	CHECK(knob_parse_fixed("1.5", 3, 0, &v) == -EINVAL,
	      "no decimals: a point is malformed");
	CHECK(knob_parse_fixed("15", 2, 0, &v) == 0 && v == 15,
	      "no decimals: an integer");
	CHECK(knob_parse_fixed("0.123456789", 11, 9, &v) == 0 && v == 123456789,
	      "nine decimals");
	CHECK(knob_parse_fixed("1", 1, 10, &v) == -EINVAL,
	      "ten decimals are more than the parser offers");
	CHECK(knob_parse_fixed("0.25junk", 4, 3, &v) == 0 && v == 250,
	      "only count bytes are read");
}

static void test_word(void)
{
	static const char *const words[] = { "auto", "4k", NULL, "2m", "" };
	static const struct {
		const char *in;
		size_t len;
		int ret;
	} c[] = {
		{ IN("auto"), 0 },
		{ IN("auto\n"), 0 },
		{ IN("4k"), 1 },
		{ IN("2m\n"), 3 },
		{ IN(""), 4 },	/* an empty word matches an empty input */
		{ IN("\n"), 4 },
		{ IN("aut"), -EINVAL },
		{ IN("autoo"), -EINVAL },
		{ IN("Auto"), -EINVAL },
		{ IN("AUTO"), -EINVAL },
		{ IN(" auto"), -EINVAL },
		{ IN("auto "), -EINVAL },
		{ IN("auto\0junk"), -EINVAL },
		{ IN("auto\0"), -EINVAL },
		{ IN("au\0to"), -EINVAL },
		{ IN("auto\n\n"), -EINVAL },
		{ IN("4K"), -EINVAL },
	};
	size_t i;

	for (i = 0; i < NCASES(c); i++) {
		char *buf = exact(c[i].in, c[i].len);
		int ret = knob_parse_word(buf, c[i].len, words, NCASES(words));

		CHECK(ret == c[i].ret, "word '%s': %d (got %d)",
		      shown(c[i].in, c[i].len), c[i].ret, ret);
		free(buf);
	}
	CHECK(knob_parse_word("auto", 4, words, 0) == -EINVAL,
	      "no words: nothing matches");
	CHECK(knob_parse_word("2m", 2, words, 3) == -EINVAL,
	      "only the first n words count");
}

static void test_bool(void)
{
	static const struct {
		const char *in;
		size_t len;
		int ret;
		bool want;
	} c[] = {
		{ IN("1"), 0, true },
		{ IN("1\n"), 0, true },
		{ IN("y"), 0, true },
		{ IN("Y\n"), 0, true },
		{ IN("on"), 0, true },
		{ IN("on\n"), 0, true },
		{ IN("0"), 0, false },
		{ IN("0\n"), 0, false },
		{ IN("n"), 0, false },
		{ IN("N\n"), 0, false },
		{ IN("off"), 0, false },
		{ IN("off\n"), 0, false },
		{ IN("none"), -EINVAL, false },
		{ IN("yes"), -EINVAL, false },
		{ IN("no"), -EINVAL, false },
		{ IN("true"), -EINVAL, false },
		{ IN("false"), -EINVAL, false },
		{ IN("t"), -EINVAL, false },
		{ IN("T"), -EINVAL, false },
		{ IN("Tjunk"), -EINVAL, false },
		{ IN("140953X"), -EINVAL, false },
		{ IN("10"), -EINVAL, false },
		{ IN("01"), -EINVAL, false },
		{ IN("2"), -EINVAL, false },
		{ IN("-1"), -EINVAL, false },
		{ IN("+1"), -EINVAL, false },
		{ IN("0x1"), -EINVAL, false },
		{ IN("ON"), -EINVAL, false },
		{ IN("On"), -EINVAL, false },
		{ IN("OFF"), -EINVAL, false },
		{ IN("of"), -EINVAL, false },
		{ IN("o"), -EINVAL, false },
		{ IN("onn"), -EINVAL, false },
		{ IN("maybe"), -EINVAL, false },
		{ IN(" 1"), -EINVAL, false },
		{ IN("1 "), -EINVAL, false },
		{ IN("1\0junk"), -EINVAL, false },
		{ IN("on\0"), -EINVAL, false },
		{ IN("1\n\n"), -EINVAL, false },
		{ IN(""), -EINVAL, false },
		{ IN("\n"), -EINVAL, false },
	};
	size_t i;
	char *buf;
	bool v;

	for (i = 0; i < NCASES(c); i++) {
		int ret;

		buf = exact(c[i].in, c[i].len);
		v = !c[i].want;
		ret = knob_parse_bool(buf, c[i].len, &v);
		CHECK(ret == c[i].ret &&
		      (ret ? v == !c[i].want : v == c[i].want),
		      "bool '%s': %s", shown(c[i].in, c[i].len),
		      c[i].ret ? err_name(c[i].ret) :
		      c[i].want ? "true" : "false");
		free(buf);
	}
	/* A page of junk after a boolean letter, as a fuzzer wrote it. */
	buf = malloc(1737);
	if (!buf)
		abort();
	for (i = 0; i < 1737; i++)
		buf[i] = (char)('0' + i % 10);
	buf[0] = 'T';
	v = false;
	CHECK(knob_parse_bool(buf, 1737, &v) == -EINVAL && !v,
	      "1737 bytes starting with T: EINVAL");
	buf[0] = '1';
	CHECK(knob_parse_bool(buf, 1737, &v) == -EINVAL && !v,
	      "1737 bytes starting with 1: EINVAL");
	free(buf);
	CHECK(knob_parse_bool("1", 1, NULL) == -EINVAL, "NULL result: EINVAL");
}

int main(void)
{
	test_u64();
	test_u32();
	test_u64s();
	test_fixed();
	test_word();
	test_bool();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
