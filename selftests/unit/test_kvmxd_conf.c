// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of tools/lib/kvmxd_conf.c: kvmxd's policy files, QEMU
 * command lines and matching. Every input is copied into a heap buffer of
 * exactly its length, so that ASan catches a read past it.
 *
 * idle_tax's plain-C policy code is built in, so that the ranges the
 * parser accepts are checked against the module's own checks; ksm_cmd's
 * largest domain is read from its source.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kvmxd_conf.h"
#include "../../idle_tax/idle_tax_policy.c"

#include "unit_tap.h"

/* A table entry of string literal @s, with its length (NULs included). */
#define CASE(s, ...)	{ s, sizeof(s) - 1, __VA_ARGS__ }
/* Parse a string literal, NULs included. */
#define PARSE(pol, s, err)	parse(pol, s, sizeof(s) - 1, err)
#define PARSE_AS(pol, file, s, err) \
	kvmxd_policy_parse(pol, file, s, sizeof(s) - 1, err)
#define NCASES(c)	(sizeof(c) / sizeof((c)[0]))

#define UUID1	"0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1f"
#define UUID1_UP "0F3C6E2A-5B1D-4C8E-9A7F-2D4B6C8E0A1F"
#define UUID2	"11111111-2222-3333-4444-555555555555"

/* A heap copy of exactly @len bytes (at least one, so malloc returns one). */
static char *exact(const char *in, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, in, len);
	return p;
}

/* @in as C source, for the test names. */
static const char *shown(const char *in, size_t len)
{
	static char out[160];
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(out) - 4; i++) {
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

/* Parse @len bytes at @in, as file "t.conf", into @pol. */
static int parse(struct kvmxd_policy *pol, const char *in, size_t len,
		 struct kvmxd_conf_err *err)
{
	char *buf = exact(in, len);
	int ret = kvmxd_policy_parse(pol, "t.conf", buf, len, err);

	free(buf);
	return ret;
}

static struct kvmxd_policy *new_policy(void)
{
	struct kvmxd_policy *pol = kvmxd_policy_new();

	if (!pol)
		abort();
	return pol;
}

/* Does @err read "t.conf:@line: " and hold @what? */
static bool err_is(const struct kvmxd_conf_err *err, unsigned int line,
		   const char *what)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	return err->line == line && !strncmp(err->text, prefix, strlen(prefix)) &&
	       strstr(err->text, what);
}

/* ------------------------------------------------------------------ */
/* Values, key by key */

struct val_case {
	const char *key;
	const char *val;
	const char *want_err;	/* NULL: accepted */
	uint64_t want;
};

static const struct val_case val_cases[] = {
	{ "shares", "1", NULL, 1 },
	{ "shares", "2000", NULL, 2000 },
	{ "shares", "1000000", NULL, 1000000 },
	{ "shares", "0", "shares: 0 is out of range 1..1000000", 0 },
	{ "shares", "1000001", "shares: 1000001 is out of range 1..1000000", 0 },
	{ "shares", "4294967297", "out of range 1..1000000", 0 },
	{ "shares", "18446744073709551615", "out of range", 0 },
	{ "shares", "18446744073709551616", "out of range", 0 },
	{ "shares", "99999999999999999999999999", "out of range", 0 },
	{ "shares", "010", "shares: '010' has a leading zero", 0 },
	{ "shares", "00", "has a leading zero", 0 },
	{ "shares", "0010", "has a leading zero", 0 },
	{ "shares", "08", "has a leading zero", 0 },
	{ "shares", "0099999999999999999999", "has a leading zero", 0 },
	{ "shares", "0-1", "is not a decimal number", 0 },
	{ "shares", "0x10", "shares: '0x10' is not a decimal number (digits only)", 0 },
	{ "shares", "0X10", "is not a decimal number", 0 },
	{ "shares", "x10", "is not a decimal number", 0 },
	{ "shares", "+5", "'+5' is not a decimal number", 0 },
	{ "shares", "-5", "is not a decimal number", 0 },
	{ "shares", "-0", "is not a decimal number", 0 },
	{ "shares", "5K", "'5K' is not a decimal number (digits only)", 0 },
	{ "shares", "1e3", "is not a decimal number", 0 },
	{ "shares", "1.5", "is not a decimal number", 0 },
	{ "shares", "1_000", "is not a decimal number", 0 },
	{ "shares", "1,000", "is not a decimal number", 0 },
	{ "shares", "5x", "is not a decimal number", 0 },
	{ "shares", "5#c", "is not a decimal number", 0 },
	{ "shares", "99999999999999999999x", "is not a decimal number", 0 },
	{ "shares", "5 x", "shares: junk after the value: 'x'", 0 },
	{ "shares", "5 6", "junk after the value: '6'", 0 },
	{ "shares", "5 # a comment", NULL, 5 },
	{ "shares", "5\t#c", NULL, 5 },
	{ "shares", "5   ", NULL, 5 },
	{ "shares", "\t5\t", NULL, 5 },
	{ "shares", "", "shares: no value", 0 },
	{ "shares", "  ", "shares: no value", 0 },
	{ "shares", "# 5", "shares: no value", 0 },
	{ "shares", "= 5", "shares: junk after the value: '5'", 0 },
	{ "shares", "#5", "shares: no value", 0 },
	{ "shares", "\"5\"", "is not a decimal number", 0 },
	{ "shares", "\xd9\xa5", "is not a decimal number", 0 },	/* ARABIC-INDIC 5 */

	{ "min_bytes", "0", NULL, 0 },
	{ "min_bytes", "0K", NULL, 0 },
	{ "min_bytes", "0G", NULL, 0 },
	{ "min_bytes", "1", NULL, 1 },
	{ "min_bytes", "1k", NULL, 1024 },
	{ "min_bytes", "1K", NULL, 1024 },
	{ "min_bytes", "512M", NULL, 512ULL << 20 },
	{ "min_bytes", "512m", NULL, 512ULL << 20 },
	{ "min_bytes", "4G", NULL, 4ULL << 30 },
	{ "min_bytes", "4g", NULL, 4ULL << 30 },
	{ "min_bytes", "1t", NULL, 1ULL << 40 },
	{ "min_bytes", "64T", NULL, 1ULL << 46 },
	{ "min_bytes", "65536G", NULL, 1ULL << 46 },
	{ "min_bytes", "70368744177664", NULL, 1ULL << 46 },
	{ "min_bytes", "70368744177665", "min_bytes: 70368744177665 is out of range 0..64T", 0 },
	{ "min_bytes", "65T", "min_bytes: 65T is out of range 0..64T", 0 },
	{ "min_bytes", "16777215T", "out of range 0..64T", 0 },
	{ "min_bytes", "16777216T", "out of range 0..64T", 0 },	/* 2^64 */
	{ "min_bytes", "18014398509481984K", "out of range", 0 },
	{ "min_bytes", "18446744073709551616", "out of range", 0 },
	{ "min_bytes", "18446744073709551616K", "out of range", 0 },
	{ "min_bytes", "010M", "min_bytes: '010M' has a leading zero", 0 },
	{ "min_bytes", "00", "has a leading zero", 0 },
	{ "min_bytes", "000M", "has a leading zero", 0 },
	{ "min_bytes", "0M0", "is not a decimal number", 0 },
	{ "min_bytes", "0x1M", "'0x1M' is not a decimal number (digits with an optional K, M, G or T)", 0 },
	{ "min_bytes", "M", "is not a decimal number", 0 },
	{ "min_bytes", "K", "is not a decimal number", 0 },
	{ "min_bytes", "1P", "is not a decimal number", 0 },
	{ "min_bytes", "1E", "is not a decimal number", 0 },
	{ "min_bytes", "1B", "is not a decimal number", 0 },
	{ "min_bytes", "1KB", "is not a decimal number", 0 },
	{ "min_bytes", "1KiB", "is not a decimal number", 0 },
	{ "min_bytes", "1MM", "is not a decimal number", 0 },
	{ "min_bytes", "1.5G", "is not a decimal number", 0 },
	{ "min_bytes", "+1M", "is not a decimal number", 0 },
	{ "min_bytes", "-1M", "is not a decimal number", 0 },
	{ "min_bytes", "1 M", "min_bytes: junk after the value: 'M'", 0 },
	{ "min_bytes", "1M junk", "junk after the value: 'junk'", 0 },
	{ "min_bytes", "1M # half a gig, not", NULL, 1ULL << 20 },

	{ "max_bytes", "4096", NULL, 4096 },
	{ "max_bytes", "4K", NULL, 4096 },
	{ "max_bytes", "4097", NULL, 4097 },
	{ "max_bytes", "4G", NULL, 4ULL << 30 },
	{ "max_bytes", "64T", NULL, 1ULL << 46 },
	{ "max_bytes", "0", "max_bytes: 0 is out of range 4K..64T", 0 },
	{ "max_bytes", "4095", "max_bytes: 4095 is out of range 4K..64T", 0 },
	{ "max_bytes", "3K", "out of range 4K..64T", 0 },
	{ "max_bytes", "65T", "max_bytes: 65T is out of range 4K..64T", 0 },
	{ "max_bytes", "04G", "has a leading zero", 0 },
	{ "max_bytes", "4G5", "is not a decimal number", 0 },
	{ "max_bytes", "4 G", "junk after the value", 0 },

	{ "ksm_domain", "0", NULL, 0 },
	{ "ksm_domain", "5", NULL, 5 },
	{ "ksm_domain", "65535", NULL, 65535 },
	{ "ksm_domain", "65536", "ksm_domain: 65536 is out of range 0..65535", 0 },
	{ "ksm_domain", "70000", "ksm_domain: 70000 is out of range 0..65535", 0 },
	{ "ksm_domain", "4294967301", "out of range 0..65535", 0 },
	{ "ksm_domain", "05", "ksm_domain: '05' has a leading zero", 0 },
	{ "ksm_domain", "0x5", "is not a decimal number", 0 },
	{ "ksm_domain", "5M", "is not a decimal number (digits only)", 0 },
	{ "ksm_domain", "-1", "is not a decimal number", 0 },
	{ "ksm_domain", "5 5", "junk after the value", 0 },
};

static uint64_t value_of(const struct kvmxd_section *s, const char *key)
{
	if (!strcmp(key, "shares"))
		return s->shares;
	if (!strcmp(key, "min_bytes"))
		return s->min_bytes;
	if (!strcmp(key, "max_bytes"))
		return s->max_bytes;
	return s->ksm_domain;
}

static unsigned int bit_of(const char *key)
{
	if (!strcmp(key, "shares"))
		return KVMXD_SET_SHARES;
	if (!strcmp(key, "min_bytes"))
		return KVMXD_SET_MIN_BYTES;
	if (!strcmp(key, "max_bytes"))
		return KVMXD_SET_MAX_BYTES;
	return KVMXD_SET_KSM_DOMAIN;
}

static void test_values(void)
{
	size_t i;

	for (i = 0; i < NCASES(val_cases); i++) {
		const struct val_case *c = &val_cases[i];
		struct kvmxd_policy *pol = new_policy();
		const struct kvmxd_section *s;
		struct kvmxd_conf_err err;
		char in[256];
		int len, ret;

		len = snprintf(in, sizeof(in), "[vm t]\n%s = %s\n", c->key,
			       c->val);
		ret = parse(pol, in, (size_t)len, &err);
		s = kvmxd_policy_section(pol, 0);
		if (!c->want_err)
			CHECK(!ret && !err.text[0] && s &&
			      s->set == bit_of(c->key) &&
			      value_of(s, c->key) == c->want &&
			      s->key_line[__builtin_ctz(bit_of(c->key))] == 2,
			      "%s = '%s': %llu", c->key, shown(c->val,
			      strlen(c->val)), (unsigned long long)c->want);
		else
			CHECK(ret == -EINVAL && err_is(&err, 2, c->want_err) &&
			      kvmxd_policy_count(pol) == 0,
			      "%s = '%s': \"%s\" (got %d \"%s\")", c->key,
			      shown(c->val, strlen(c->val)), c->want_err, ret,
			      err.text);
		kvmxd_policy_free(pol);
	}
}

/* The exact text of an error, as the issue shows it. */
static void test_error_text(void)
{
	static const char web[] =
		"# web\n\n[vm web]\nshares = 10\n\n\n\n\n\n\n\nksm_domain = 70000\n";
	struct kvmxd_policy *pol = new_policy();
	struct kvmxd_conf_err err;
	char *buf;
	int ret;

	buf = exact(web, sizeof(web) - 1);
	ret = kvmxd_policy_parse(pol, "vms.d/web.conf", buf, sizeof(web) - 1,
				 &err);
	CHECK(ret == -EINVAL && err.line == 12 &&
	      !strcmp(err.text, "vms.d/web.conf:12: ksm_domain: 70000 is out of range 0..65535"),
	      "the error reads \"vms.d/web.conf:12: ksm_domain: 70000 is out of range 0..65535\" (got \"%s\")",
	      err.text);
	CHECK(kvmxd_policy_count(pol) == 0, "and nothing of the file is kept");
	free(buf);
	ret = kvmxd_policy_parse(pol, NULL, "shares = 1", 10, &err);
	CHECK(ret == -EINVAL && !strncmp(err.text, "(config):1: ", 12),
	      "no file name: \"(config):1: ...\" (got \"%s\")", err.text);
	CHECK(kvmxd_policy_parse(pol, "t.conf", "[vm x]", 6, NULL) == 0 &&
	      kvmxd_policy_count(pol) == 1, "no error buffer: fine when it parses");
	CHECK(kvmxd_policy_parse(pol, "t.conf", "[vm x]", 6, NULL) == -EINVAL &&
	      kvmxd_policy_count(pol) == 1, "and -EINVAL when it does not");
	CHECK(kvmxd_policy_parse(NULL, "t.conf", "", 0, &err) == -EINVAL,
	      "no policy: -EINVAL");
	CHECK(kvmxd_policy_parse(pol, "t.conf", NULL, 1, &err) == -EINVAL,
	      "no buffer of 1 byte: -EINVAL");
	CHECK(kvmxd_policy_parse(pol, "t.conf", NULL, 0, &err) == 0,
	      "no buffer of 0 bytes: an empty file");
	kvmxd_policy_free(pol);
	kvmxd_policy_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Lines and sections */

struct conf_case {
	const char *in;
	size_t len;
	unsigned int err_line;	/* 0: accepted */
	const char *want;	/* accepted: "kind name" of the sections */
};

static const struct conf_case conf_cases[] = {
	CASE("", 0, ""),
	CASE("\n", 0, ""),
	CASE("\n\n\x20\x20\n\t\n", 0, ""),
	CASE("# only a comment", 0, ""),
	CASE("# a comment\n   # indented\n\t# tabbed\n", 0, ""),
	CASE("# [vm not] shares = x\n", 0, ""),
	CASE("# caf\xc3\xa9\n", 0, ""),
	CASE("[default]", 0, "default|"),
	CASE("[default]\n", 0, "default|"),
	CASE("[vm web1]\n", 0, "vm web1|"),
	CASE("  [vm web1]\n", 0, "vm web1|"),
	CASE("[ vm web1 ]\n", 0, "vm web1|"),
	CASE("[vm\tweb1]\n", 0, "vm web1|"),
	CASE("[vm   web1\t ]\x20\x20\n", 0, "vm web1|"),
	CASE("[vm my vm]\n", 0, "vm my vm|"),
	CASE("[vm my  vm]\n", 0, "vm my  vm|"),
	CASE("[vm web1]# c\n", 0, "vm web1|"),
	CASE("[vm web1] # c\n", 0, "vm web1|"),
	CASE("[vm a#b]\n", 0, "vm a#b|"),
	CASE("[vm a,b]\n", 0, "vm a,b|"),
	CASE("[vm a=b]\n", 0, "vm a=b|"),
	CASE("[vm w\303\251b]\n", 0, "vm w\303\251b|"),
	CASE("[libvirt web2]\n", 0, "libvirt web2|"),
	CASE("[uuid " UUID1 "]\n", 0, "uuid " UUID1 "|"),
	CASE("[uuid " UUID1_UP "]\n", 0, "uuid " UUID1 "|"),
	CASE("[vm a]\n[libvirt a]\n[uuid " UUID1 "]\n[default]\n", 0,
	     "vm a|libvirt a|uuid " UUID1 "|default|"),
	CASE("[vm a]\n[vm A]\n", 0, "vm a|vm A|"),
	CASE("[vm a]\n[vm a ]\n", 2, "[vm a] is already defined at t.conf:1"),
	CASE("[vm a]\n\n[vm a]\n", 3, "[vm a] is already defined at t.conf:1"),
	CASE("[libvirt a]\n[libvirt a]\n", 2, "[libvirt a] is already defined at t.conf:1"),
	CASE("[default]\n[default]\n", 2, "[default] is already defined at t.conf:1"),
	CASE("[uuid " UUID1 "]\n[uuid " UUID1_UP "]\n", 2,
	     "[uuid " UUID1 "] is already defined at t.conf:1"),
	CASE("[vm web1", 1, "no ']' closes the section line"),
	CASE("[vm web1\n]\n", 1, "no ']' closes"),
	CASE("[vm web1] x\n", 1, "junk after the section line's ']': 'x'"),
	CASE("[vm web1]]\n", 1, "junk after the section line's ']': ']'"),
	CASE("[vm web1] [vm web2]\n", 1, "junk after"),
	CASE("[vm]\n", 1, "[vm] needs a name"),
	CASE("[vm ]\n", 1, "[vm] needs a name"),
	CASE("[libvirt]\n", 1, "[libvirt] needs a name"),
	CASE("[uuid]\n", 1, "[uuid] needs a name"),
	CASE("[default x]\n", 1, "[default] takes no name"),
	CASE("[host x]\n", 1, "unknown section 'host'"),
	CASE("[VM x]\n", 1, "unknown section 'VM'"),
	CASE("[Default]\n", 1, "unknown section 'Default'"),
	CASE("[vmweb1]\n", 1, "unknown section 'vmweb1'"),
	CASE("[]\n", 1, "unknown section ''"),
	CASE("[ ]\n", 1, "unknown section ''"),
	CASE("[vm a[b]\n", 1, "[vm]: a name holds no '['"),
	CASE("[vm a\tb]\n", 1, "[vm]: a name holds no tab"),
	CASE("[uuid 123]\n", 1, "[uuid 123]: not a UUID"),
	CASE("[uuid 0f3c6e2a5b1d4c8e9a7f2d4b6c8e0a1f]\n", 1, "not a UUID"),
	CASE("[uuid 0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1g]\n", 1, "not a UUID"),
	CASE("[uuid 0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1f0]\n", 1, "not a UUID"),
	CASE("[uuid 0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1]\n", 1, "not a UUID"),
	CASE("[uuid 0f3c6e2a_5b1d-4c8e-9a7f-2d4b6c8e0a1f]\n", 1, "not a UUID"),
	CASE("[uuid {0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1f}]\n", 1, "not a UUID"),
	CASE("shares = 5\n", 1,
	     "shares is outside a section: a [vm NAME], [uuid UUID], [libvirt NAME] or [default] line comes first"),
	CASE("# top\n\nksm_domain = 5\n[vm a]\n", 3, "ksm_domain is outside a section"),
	CASE("[vm a]\nShares = 5\n", 2, "unknown key 'Shares'"),
	CASE("[vm a]\nfoo = 5\n", 2,
	     "unknown key 'foo': keys are shares, min_bytes, max_bytes and ksm_domain"),
	CASE("[vm a]\nfoo=5\n", 2, "unknown key 'foo'"),
	CASE("[vm a]\nshares_x = 5\n", 2, "unknown key 'shares_x'"),
	CASE("[vm a]\nshare = 5\n", 2, "unknown key 'share'"),
	CASE("[vm a]\nshares 5\n", 2, "shares: expected '=' after the key"),
	CASE("[vm a]\nshares\n", 2, "shares: expected '='"),
	CASE("[vm a]\nshares: 5\n", 2, "expected KEY = VALUE, a [section] line or a # comment, not 'shares: 5'"),
	CASE("[vm a]\njunk\n", 2, "expected KEY = VALUE"),
	CASE("[vm a]\n= 5\n", 2, "unknown key ''"),
	CASE("[vm a]\n]\n", 2, "expected KEY = VALUE"),
	CASE("[vm a]\nshares=5\n", 0, "vm a|"),
	CASE("[vm a]\n  shares   =   5\x20\x20\x20\n", 0, "vm a|"),
	CASE("[vm a]\n\tshares\t=\t5\t# five\n", 0, "vm a|"),
	CASE("[vm a]\nshares = 5", 0, "vm a|"),
	CASE("[vm a]\nshares = 5\nshares = 6\n", 3,
	     "shares is set twice in this section (first on line 2)"),
	CASE("[vm a]\nshares = 5\n[vm b]\nshares = 6\n", 0, "vm a|vm b|"),
	CASE("[vm a]\nshares = 5\nmin_bytes = 1G\nmax_bytes = 2G\nksm_domain = 9\n",
	     0, "vm a|"),
	CASE("[vm a]\nmin_bytes = 8G\nmax_bytes = 4G\n", 3,
	     "max_bytes: 4G is below min_bytes 8G (line 2)"),
	CASE("[vm a]\nmax_bytes = 4G\n# x\nmin_bytes = 8G\n", 4,
	     "min_bytes: 8G is above max_bytes 4G (line 2)"),
	CASE("[vm a]\nmin_bytes = 4G\nmax_bytes = 4G\n", 0, "vm a|"),
	CASE("[vm a]\nmin_bytes = 5000\nmax_bytes = 5000\n", 3,
	     "max_bytes: min_bytes 5000 and max_bytes 5000 have no whole 4096-byte page between them (line 2)"),
	CASE("[vm a]\nmin_bytes = 4097\nmax_bytes = 8191\n", 3, "no whole 4096-byte page"),
	CASE("[vm a]\nmin_bytes = 4096\nmax_bytes = 8191\n", 0, "vm a|"),
	CASE("[vm a]\nmin_bytes = 1\nmax_bytes = 4096\n", 0, "vm a|"),
	CASE("[vm a]\nmin_bytes = 4G\n[vm b]\nmax_bytes = 1G\n", 0, "vm a|vm b|"),
	CASE("[vm a]\r\n", 1, "a carriage return (column 7): lines end in \\n alone"),
	CASE("[vm a]\nshares = 5\r\n", 2, "a carriage return"),
	CASE("# dos\r\n", 1, "a carriage return"),
	CASE("[vm a]\n\0", 2, "a NUL byte (column 1)"),
	CASE("[vm a\0b]\n", 1, "a NUL byte (column 6)"),
	CASE("[vm a]\nshares = 5\0\n", 2, "a NUL byte (column 11)"),
	CASE("[vm a]\nshares = 5\0 6\n", 2, "a NUL byte"),
	CASE("# a\0b\n", 1, "a NUL byte (column 4)"),
	CASE("[vm a]\n\n\n\0", 4, "a NUL byte"),
	CASE("[vm \x1b[31mred]\n", 1, "control byte 0x1b (column 5)"),
	CASE("# \x7f\n", 1, "control byte 0x7f"),
	CASE("[vm a]\nshares = 5\x0b\n", 2, "control byte 0x0b"),
	CASE("\xef\xbb\xbf[vm a]\n", 1, "expected KEY = VALUE"),	/* BOM */
};

/* The sections of @pol as "kind name|kind name|". */
static const char *sections(const struct kvmxd_policy *pol)
{
	static char out[1024];
	size_t o = 0;
	unsigned int i;

	out[0] = 0;
	for (i = 0; i < kvmxd_policy_count(pol); i++) {
		const struct kvmxd_section *s = kvmxd_policy_section(pol, i);

		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s%s|",
				      kvmxd_kind_name(s->kind),
				      s->name[0] ? " " : "", s->name);
	}
	return out;
}

static void test_lines(void)
{
	size_t i;

	for (i = 0; i < NCASES(conf_cases); i++) {
		const struct conf_case *c = &conf_cases[i];
		struct kvmxd_policy *pol = new_policy();
		struct kvmxd_conf_err err;
		int ret = parse(pol, c->in, c->len, &err);

		if (!c->err_line)
			CHECK(!ret && !err.text[0] &&
			      !strcmp(sections(pol), c->want),
			      "'%s': accepted, sections \"%s\" (got %d \"%s\", \"%s\")",
			      shown(c->in, c->len), c->want, ret, err.text,
			      sections(pol));
		else
			CHECK(ret == -EINVAL && err_is(&err, c->err_line, c->want) &&
			      kvmxd_policy_count(pol) == 0,
			      "'%s': line %u \"%s\" (got %d \"%s\")",
			      shown(c->in, c->len), c->err_line, c->want, ret,
			      err.text);
		kvmxd_policy_free(pol);
	}
}

static void test_section_fields(void)
{
	struct kvmxd_policy *pol = new_policy();
	const struct kvmxd_section *s;
	struct kvmxd_conf_err err;
	int ret;

	ret = PARSE(pol, ("# policy\n[vm web1]\nshares = 2000\nmin_bytes = 512M\nmax_bytes = 4G\nksm_domain = 5\n\n[uuid " UUID1_UP "]\nksm_domain = 7\n[default]\n[libvirt web2]\nshares=3\n"),
		    &err);
	CHECK(!ret && kvmxd_policy_count(pol) == 4, "the example parses: 4 sections (got %d \"%s\")",
	      ret, err.text);
	s = kvmxd_policy_section(pol, 0);
	CHECK(s && s->kind == KVMXD_VM && !strcmp(s->name, "web1") &&
	      s->set == (KVMXD_SET_SHARES | KVMXD_SET_MIN_BYTES |
			 KVMXD_SET_MAX_BYTES | KVMXD_SET_KSM_DOMAIN) &&
	      s->shares == 2000 && s->min_bytes == 512ULL << 20 &&
	      s->max_bytes == 4ULL << 30 && s->ksm_domain == 5 &&
	      !strcmp(s->file, "t.conf") && s->line == 2 &&
	      s->key_line[0] == 3 && s->key_line[1] == 4 &&
	      s->key_line[2] == 5 && s->key_line[3] == 6,
	      "[vm web1]: every key, its value and line");
	s = kvmxd_policy_section(pol, 1);
	CHECK(s && s->kind == KVMXD_UUID && !strcmp(s->name, UUID1) &&
	      s->set == KVMXD_SET_KSM_DOMAIN && s->ksm_domain == 7 &&
	      s->shares == 0 && s->line == 8,
	      "[uuid]: lower case, only ksm_domain set");
	s = kvmxd_policy_section(pol, 2);
	CHECK(s && s->kind == KVMXD_DEFAULT && !s->name[0] && !s->set &&
	      s->line == 10, "[default]: nothing set");
	s = kvmxd_policy_section(pol, 3);
	CHECK(s && s->kind == KVMXD_LIBVIRT && !strcmp(s->name, "web2") &&
	      s->set == KVMXD_SET_SHARES && s->shares == 3,
	      "[libvirt web2]: shares");
	CHECK(!kvmxd_policy_section(pol, 4) && !kvmxd_policy_section(NULL, 0) &&
	      kvmxd_policy_count(NULL) == 0, "past the end: NULL");
	CHECK(!strcmp(kvmxd_kind_name(KVMXD_VM), "vm") &&
	      !strcmp(kvmxd_kind_name(KVMXD_UUID), "uuid") &&
	      !strcmp(kvmxd_kind_name(KVMXD_LIBVIRT), "libvirt") &&
	      !strcmp(kvmxd_kind_name(KVMXD_DEFAULT), "default") &&
	      !strcmp(kvmxd_kind_name((enum kvmxd_kind)9), "?"),
	      "kind names");
	kvmxd_policy_free(pol);
}

/* ------------------------------------------------------------------ */
/* Limits */

static void test_limits(void)
{
	struct kvmxd_policy *pol = new_policy();
	struct kvmxd_conf_err err;
	char name[KVMXD_NAME_MAX + 2], *buf;
	size_t len, o;
	int ret, i;

	/* A line of exactly KVMXD_LINE_MAX bytes, and one more. */
	buf = malloc(KVMXD_LINE_MAX + 2);
	if (!buf)
		abort();
	memset(buf, 'x', KVMXD_LINE_MAX + 1);
	buf[0] = '#';
	buf[KVMXD_LINE_MAX] = '\n';
	ret = kvmxd_policy_parse(pol, "t.conf", buf, KVMXD_LINE_MAX + 1, &err);
	CHECK(!ret, "a comment of %d bytes and its newline", KVMXD_LINE_MAX);
	ret = kvmxd_policy_parse(pol, "t.conf", buf, KVMXD_LINE_MAX, &err);
	CHECK(!ret, "a comment of %d bytes, no newline", KVMXD_LINE_MAX);
	buf[KVMXD_LINE_MAX] = 'x';
	buf[KVMXD_LINE_MAX + 1] = '\n';
	ret = kvmxd_policy_parse(pol, "t.conf", buf, KVMXD_LINE_MAX + 2, &err);
	CHECK(ret == -EINVAL && err_is(&err, 1, "the line is longer than 1024 bytes"),
	      "a line of %d bytes: too long (got \"%s\")", KVMXD_LINE_MAX + 1,
	      err.text);
	free(buf);

	/* A huge line on line 3, with a NUL in it: the length is reported. */
	len = 300000;
	buf = malloc(len);
	if (!buf)
		abort();
	memset(buf, 'y', len);
	memcpy(buf, "[vm a]\n\nshares = ", 17);
	buf[5000] = 0;
	ret = kvmxd_policy_parse(pol, "t.conf", buf, len, &err);
	CHECK(ret == -EINVAL && err_is(&err, 3, "longer than 1024 bytes") &&
	      kvmxd_policy_count(pol) == 0,
	      "a line of 300000 bytes on line 3: refused (got \"%s\")", err.text);
	free(buf);

	/* Names: 255 bytes, and 256. */
	memset(name, 'n', sizeof(name));
	name[KVMXD_NAME_MAX] = 0;
	buf = malloc(512);
	if (!buf)
		abort();
	len = (size_t)snprintf(buf, 512, "[vm %s]\n", name);
	ret = kvmxd_policy_parse(pol, "t.conf", buf, len, &err);
	CHECK(!ret && kvmxd_policy_count(pol) == 1 &&
	      strlen(kvmxd_policy_section(pol, 0)->name) == KVMXD_NAME_MAX,
	      "a name of %d bytes", KVMXD_NAME_MAX);
	name[KVMXD_NAME_MAX] = 'n';
	name[KVMXD_NAME_MAX + 1] = 0;
	len = (size_t)snprintf(buf, 512, "[libvirt %s]\n", name);
	ret = kvmxd_policy_parse(pol, "t.conf", buf, len, &err);
	CHECK(ret == -EINVAL && err_is(&err, 1, "[libvirt]: a name is at most 255 bytes"),
	      "a name of %d bytes: refused (got \"%s\")", KVMXD_NAME_MAX + 1,
	      err.text);
	free(buf);
	kvmxd_policy_free(pol);

	/* Sections: 4096, and one more on the line after them. */
	pol = new_policy();
	buf = malloc((KVMXD_SECTIONS_MAX + 1) * 32);
	if (!buf)
		abort();
	for (o = 0, i = 0; i < KVMXD_SECTIONS_MAX; i++)
		o += (size_t)sprintf(buf + o, "[vm v%d]\n", i);
	ret = kvmxd_policy_parse(pol, "t.conf", buf, o, &err);
	CHECK(!ret && kvmxd_policy_count(pol) == KVMXD_SECTIONS_MAX,
	      "%d sections", KVMXD_SECTIONS_MAX);
	kvmxd_policy_free(pol);
	pol = new_policy();
	o += (size_t)sprintf(buf + o, "[default]\n");
	ret = kvmxd_policy_parse(pol, "t.conf", buf, o, &err);
	CHECK(ret == -EINVAL && err_is(&err, KVMXD_SECTIONS_MAX + 1, "more than 4096 sections") &&
	      kvmxd_policy_count(pol) == 0,
	      "%d sections: refused on line %d (got \"%s\")",
	      KVMXD_SECTIONS_MAX + 1, KVMXD_SECTIONS_MAX + 1, err.text);
	kvmxd_policy_free(pol);

	/* Or 4096 over two files. */
	pol = new_policy();
	o = 0;
	for (i = 0; i < KVMXD_SECTIONS_MAX - 1; i++)
		o += (size_t)sprintf(buf + o, "[vm v%d]\n", i);
	ret = kvmxd_policy_parse(pol, "a.conf", buf, o, &err);
	ret |= PARSE_AS(pol, "b.conf", ("[vm last]\n"), &err);
	CHECK(!ret && kvmxd_policy_count(pol) == KVMXD_SECTIONS_MAX,
	      "%d sections in two files", KVMXD_SECTIONS_MAX);
	ret = PARSE_AS(pol, "c.conf", ("# one more\n[default]\n"), &err);
	CHECK(ret == -EINVAL && !strcmp(err.text, "c.conf:2: more than 4096 sections"),
	      "and one more in a third: refused (got \"%s\")", err.text);
	free(buf);
	kvmxd_policy_free(pol);

	/* Size: 1 MiB of comments, and a byte more. */
	pol = new_policy();
	buf = malloc(KVMXD_FILE_MAX + 1);
	if (!buf)
		abort();
	memset(buf, '#', KVMXD_FILE_MAX + 1);
	for (o = 1000; o < KVMXD_FILE_MAX + 1; o += 1000)
		buf[o] = '\n';
	ret = kvmxd_policy_parse(pol, "t.conf", buf, KVMXD_FILE_MAX, &err);
	CHECK(!ret, "%d bytes of comments", KVMXD_FILE_MAX);
	ret = kvmxd_policy_parse(pol, "t.conf", buf, KVMXD_FILE_MAX + 1, &err);
	CHECK(ret == -EFBIG && err.line == 0 &&
	      !strcmp(err.text, "t.conf: larger than 1048576 bytes"),
	      "%d bytes: -EFBIG, \"t.conf: larger than 1048576 bytes\" (got \"%s\")",
	      KVMXD_FILE_MAX + 1, err.text);
	free(buf);
	kvmxd_policy_free(pol);
}

/* The parser's ranges are the modules' own. */
static void test_module_ranges(void)
{
	static const uint64_t shares[] = {
		0, 1, 2, 999, 1000, 999999, 1000000, 1000001, 4294967295ULL,
		4294967296ULL, 1ULL << 63,
	};
	static const uint64_t bytes[] = {
		0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 1ULL << 30,
		(1ULL << 46) - 4097, (1ULL << 46) - 4096, (1ULL << 46) - 1,
		1ULL << 46, (1ULL << 46) + 1, 1ULL << 47, UINT64_MAX,
	};
	const uint64_t shares_max = IDLE_TAX_SHARES_MAX;
	const uint64_t bytes_max = IDLE_TAX_BYTES_MAX;
	const uint64_t page_size = IDLE_TAX_PAGE_SIZE;
	struct kvmxd_conf_err err;
	unsigned int bad = 0, total = 0;
	char in[160], path[512], line[256];
	unsigned long domain_max = 0;
	const char *slash;
	size_t i, j;
	FILE *f;

	CHECK(shares_max == KVMXD_SHARES_MAX && bytes_max == KVMXD_BYTES_MAX &&
	      page_size == KVMXD_PAGE_SIZE,
	      "shares, byte and page limits are idle_tax_policy.h's");

	for (i = 0; i < NCASES(shares); i++) {
		struct kvmxd_policy *pol = new_policy();
		int len = snprintf(in, sizeof(in), "[vm a]\nshares = %llu\n",
				   (unsigned long long)shares[i]);
		bool ok = !parse(pol, in, (size_t)len, &err);

		total++;
		if (ok != !idle_tax_shares_check((s64)shares[i]))
			bad++;
		kvmxd_policy_free(pol);
	}
	/*
	 * A VM of the largest size: the config cannot know the VM's; the
	 * module refuses a max_bytes below a page on its own.
	 */
	for (i = 0; i < NCASES(bytes); i++) {
		for (j = 0; j < NCASES(bytes); j++) {
			struct kvmxd_policy *pol = new_policy();
			int len = snprintf(in, sizeof(in),
					   "[vm a]\nmin_bytes = %llu\nmax_bytes = %llu\n",
					   (unsigned long long)bytes[i],
					   (unsigned long long)bytes[j]);
			bool ok = !parse(pol, in, (size_t)len, &err);
			bool want = !idle_tax_minmax_check(bytes[i], bytes[j],
							   IDLE_TAX_BYTES_MAX) &&
				    bytes[j] >= IDLE_TAX_PAGE_SIZE;

			total++;
			if (ok != want) {
				bad++;
				printf("# min %llu max %llu: parser %d, idle_tax %d\n",
				       (unsigned long long)bytes[i],
				       (unsigned long long)bytes[j], ok, want);
			}
			kvmxd_policy_free(pol);
		}
	}
	CHECK(!bad, "shares and min/max pairs: the parser agrees with idle_tax_shares_check() and idle_tax_minmax_check() in %u cases (%u differ)",
	      total, bad);

	/* ksm_cmd's domains: CMD_MAX_DOMAIN in its source. */
	slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof(path), "%.*s/../../ksm_cmd/ksm_cmd_main.c",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "#define CMD_MAX_DOMAIN", 22))
			domain_max = strtoul(line + 22, NULL, 10);
	}
	if (f)
		fclose(f);
	CHECK(domain_max == KVMXD_DOMAIN_MAX,
	      "ksm_domain's largest is ksm_cmd's CMD_MAX_DOMAIN (%lu in %s)",
	      domain_max, path);
}

/* ------------------------------------------------------------------ */
/* Never half-applied */

static void test_atomic(void)
{
	struct kvmxd_policy *pol = new_policy();
	struct kvmxd_conf_err err;
	const struct kvmxd_section *s;
	struct kvmxd_vm_id id = { .qmp_fd = -1 };
	int ret;

	ret = PARSE(pol, ("[vm web1]\nshares = 10\n[default]\nksm_domain = 1\n"), &err);
	CHECK(!ret && kvmxd_policy_count(pol) == 2, "a first file: 2 sections");
	ret = PARSE(pol, ("[vm web2]\nshares = 20\n[vm web3]\nshares = 30\n[libvirt web4]\nksm_domain = 99999\n"),
		    &err);
	CHECK(ret == -EINVAL && err_is(&err, 6, "ksm_domain: 99999 is out of range"),
	      "a second one fails on line 6, after two good sections");
	CHECK(kvmxd_policy_count(pol) == 2 && !strcmp(sections(pol), "vm web1|default|"),
	      "and the policy is as before it: %s", sections(pol));
	snprintf(id.name, sizeof(id.name), "web2");
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT, "web2 still gets [default], not its half-read section");
	ret = PARSE(pol, ("[vm web2]\nshares = 21\n"), &err);
	CHECK(!ret && kvmxd_policy_count(pol) == 3,
	      "the failed file's sections are not there to clash with");
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_VM && s->shares == 21, "web2 then gets its section");
	ret = PARSE(pol, ("[vm web1]\n"), &err);
	CHECK(ret == -EINVAL && err_is(&err, 1, "[vm web1] is already defined at t.conf:1") &&
	      kvmxd_policy_count(pol) == 3,
	      "a section of an earlier file, again: refused, policy unchanged");
	snprintf(id.name, sizeof(id.name), "web1");
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->shares == 10 && s->file && !strcmp(s->file, "t.conf"),
	      "web1's section still there, with its file");
	ret = PARSE(pol, ("[vm web9]\nmin_bytes = 2G\nmax_bytes = 1G\n"), &err);
	CHECK(ret == -EINVAL && kvmxd_policy_count(pol) == 3,
	      "a section failing on min > max is not kept either");
	kvmxd_policy_free(pol);
}

/* ------------------------------------------------------------------ */
/* Files */

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static char *at(const char *rel)
{
	static char path[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", tmp, rel);
	return path[k];
}

static void rm_rf(const char *dir)
{
	char path[512];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!lstat(path, &st) && S_ISDIR(st.st_mode))
			rm_rf(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void test_files(void)
{
	struct kvmxd_policy *pol, *cur;
	struct kvmxd_conf_err err;
	struct kvmxd_vm_id id = { .qmp_fd = -1 };
	const struct kvmxd_section *s;
	char want[512], *buf;
	int i, ret;
	FILE *f;

	/* tmpfs if there is one: 4096 files are made below. */
	snprintf(tmp, sizeof(tmp), "/dev/shm/kvmxd_conf.XXXXXX");
	if (!mkdtemp(tmp)) {
		snprintf(tmp, sizeof(tmp), "/tmp/kvmxd_conf.XXXXXX");
		if (!mkdtemp(tmp))
			abort();
	}

	/* Neither file: an empty policy, not an error. */
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	CHECK(pol && kvmxd_policy_count(pol) == 0 && !err.text[0],
	      "no kvmxd.conf and no vms.d: an empty policy");
	kvmxd_policy_free(pol);
	pol = kvmxd_policy_load(NULL, NULL, &err);
	CHECK(pol && kvmxd_policy_count(pol) == 0, "NULL paths: an empty policy");
	kvmxd_policy_free(pol);

	put("kvmxd.conf", "# main\n[default]\nksm_domain = 1\n\n[vm web1]\nshares = 100\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	CHECK(pol && !strcmp(sections(pol), "default|vm web1|"),
	      "kvmxd.conf alone (got \"%s\")", err.text);
	kvmxd_policy_free(pol);

	if (mkdir(at("vms.d"), 0700))
		abort();
	put("vms.d/20-b.conf", "[vm b]\nshares = 2\n");
	put("vms.d/10-a.conf", "[vm a]\nshares = 1\n");
	put("vms.d/9-c.conf", "[uuid " UUID1 "]\nshares = 3\n");
	put("vms.d/A.conf", "[vm A]\n");
	put("vms.d/.hidden.conf", "this is not read\n");
	put("vms.d/notes.txt", "nor this\n");
	put("vms.d/d.conf~", "nor this\n");
	put("vms.d/d.conf.bak", "nor this\n");
	put("vms.d/.conf", "nor this\n");
	if (symlink("10-a.conf", at("vms.d/link.txt")) ||
	    symlink("../kvmxd.conf", at("vms.d/x.confx")) ||
	    symlink("20-b.conf.real", at("vms.d/e.conf")))
		abort();
	put("vms.d/20-b.conf.real", "[libvirt e]\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	CHECK(pol && !strcmp(sections(pol),
			     "default|vm web1|vm a|vm b|uuid " UUID1 "|vm A|libvirt e|"),
	      "kvmxd.conf, then vms.d/*.conf by strcmp(): 10-a, 20-b, 9-c, A, e (a link); no dotfiles or other names (got \"%s\" \"%s\")",
	      pol ? sections(pol) : "", err.text);
	s = kvmxd_policy_section(pol, 2);
	CHECK(s && !strcmp(s->file, at("vms.d/10-a.conf")) && s->line == 1,
	      "a section knows its file: %s", s ? s->file : "");
	s = kvmxd_policy_section(pol, 0);
	CHECK(s && !strcmp(s->file, at("kvmxd.conf")) && s->line == 2,
	      "and kvmxd.conf's theirs");
	cur = pol;

	/* A bad file: NULL, the file and line, and the policy in force stays. */
	put("vms.d/30-bad.conf", "# bad\n[vm bad]\nshares = 0x10\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s:3: shares: '0x10' is not a decimal number (digits only)",
		 at("vms.d/30-bad.conf"));
	CHECK(!pol && err.line == 3 && !strcmp(err.text, want),
	      "a bad vms.d file: no policy, \"%s\" (got \"%s\")", want, err.text);
	snprintf(id.name, sizeof(id.name), "a");
	s = kvmxd_policy_match(cur, &id);
	CHECK(s && s->kind == KVMXD_VM && s->shares == 1,
	      "the policy in force still answers");
	unlink(at("vms.d/30-bad.conf"));

	/* A section twice, across files. */
	put("vms.d/web1.conf", "[vm web1]\nshares = 7\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s:1: [vm web1] is already defined at %s:5",
		 at("vms.d/web1.conf"), at("kvmxd.conf"));
	CHECK(!pol && !strcmp(err.text, want),
	      "[vm web1] in kvmxd.conf and vms.d/web1.conf: \"%s\" (got \"%s\")",
	      want, err.text);
	unlink(at("vms.d/web1.conf"));

	/* Keys do not carry over into the next file. */
	put("vms.d/11-keys.conf", "shares = 5\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	CHECK(!pol && strstr(err.text, "11-keys.conf:1: shares is outside a section"),
	      "a file that starts with a key: outside a section (got \"%s\")",
	      err.text);
	unlink(at("vms.d/11-keys.conf"));

	/* A bad kvmxd.conf. */
	put("kvmxd.conf", "[default]\n[vm x] y\n");
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s:2: junk after", at("kvmxd.conf"));
	CHECK(!pol && !strncmp(err.text, want, strlen(want)),
	      "a bad kvmxd.conf: \"%s...\" (got \"%s\")", want, err.text);

	/* kvmxd.conf missing, vms.d there. */
	unlink(at("kvmxd.conf"));
	pol = kvmxd_policy_load(at("kvmxd.conf"), at("vms.d"), &err);
	CHECK(pol && !strcmp(sections(pol),
			     "vm a|vm b|uuid " UUID1 "|vm A|libvirt e|"),
	      "no kvmxd.conf: vms.d alone (got \"%s\")", err.text);
	kvmxd_policy_free(pol);

	/* Not regular files. */
	if (mkdir(at("vms.d/sub.conf"), 0700))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s: not a regular file", at("vms.d/sub.conf"));
	CHECK(!pol && !strcmp(err.text, want) && err.line == 0,
	      "a directory named sub.conf: \"%s\" (got \"%s\")", want, err.text);
	rmdir(at("vms.d/sub.conf"));
	if (mkfifo(at("vms.d/fifo.conf"), 0600))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	CHECK(!pol && strstr(err.text, "fifo.conf: not a regular file"),
	      "a FIFO named fifo.conf: refused, without waiting for a writer");
	unlink(at("vms.d/fifo.conf"));
	if (symlink("nowhere", at("vms.d/dangling.conf")))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	CHECK(!pol && strstr(err.text, "dangling.conf: No such file or directory"),
	      "a dangling link in vms.d is an error, not a missing file (got \"%s\")",
	      err.text);
	unlink(at("vms.d/dangling.conf"));
	pol = kvmxd_policy_load(at("vms.d"), NULL, &err);
	CHECK(!pol && strstr(err.text, "vms.d: not a regular file"),
	      "kvmxd.conf that is a directory: refused");
	pol = kvmxd_policy_load(NULL, at("vms.d/10-a.conf"), &err);
	CHECK(!pol && strstr(err.text, "10-a.conf: Not a directory"),
	      "vms.d that is a file: refused (got \"%s\")", err.text);

	/* One file: missing_ok or not. */
	pol = new_policy();
	ret = kvmxd_policy_parse_file(pol, at("none.conf"), true, &err);
	CHECK(!ret && kvmxd_policy_count(pol) == 0, "parse_file: a missing file, missing_ok");
	ret = kvmxd_policy_parse_file(pol, at("none.conf"), false, &err);
	CHECK(ret == -ENOENT && strstr(err.text, "none.conf: No such file or directory"),
	      "parse_file: a missing file: -ENOENT (got \"%s\")", err.text);
	/* A file that holds more than fstat() says, as files in /proc do. */
	ret = kvmxd_policy_parse_file(pol, "/proc/self/status", false, &err);
	CHECK(ret == -EINVAL && err.line == 1 &&
	      strstr(err.text, "/proc/self/status:1: expected KEY = VALUE"),
	      "parse_file: a file of size 0 that has lines is read whole (got \"%s\")",
	      err.text);
	kvmxd_policy_free(pol);

	/* Too big a file: 1 MiB of comments is fine, a byte more is not. */
	buf = malloc(KVMXD_FILE_MAX + 1);
	if (!buf)
		abort();
	memset(buf, '#', KVMXD_FILE_MAX + 1);
	for (i = 1000; i < KVMXD_FILE_MAX + 1; i += 1000)
		buf[i] = '\n';
	f = fopen(at("vms.d/big.conf"), "w");
	if (!f || fwrite(buf, 1, KVMXD_FILE_MAX, f) != KVMXD_FILE_MAX || fclose(f))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	CHECK(pol && kvmxd_policy_count(pol) == 5, "a file of 1 MiB");
	kvmxd_policy_free(pol);
	f = fopen(at("vms.d/big.conf"), "a");
	if (!f || fputc('\n', f) == EOF || fclose(f))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", at("vms.d/big.conf"));
	CHECK(!pol && !strcmp(err.text, want) && err.line == 0,
	      "a file of 1 MiB and a byte: \"%s\" (got \"%s\")", want, err.text);
	unlink(at("vms.d/big.conf"));
	free(buf);

	/* A NUL byte in a file. */
	f = fopen(at("vms.d/nul.conf"), "w");
	if (!f || fwrite("[vm n]\nshares = 1\0\n", 1, 19, f) != 19 || fclose(f))
		abort();
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	CHECK(!pol && strstr(err.text, "nul.conf:2: a NUL byte (column 11)"),
	      "a NUL byte in a file (got \"%s\")", err.text);
	unlink(at("vms.d/nul.conf"));

	/* 4096 files are read, 4097 are too many. */
	for (i = 0; i < KVMXD_FILES_MAX - 5; i++) {
		char rel[64];
		int fd;

		snprintf(rel, sizeof(rel), "vms.d/n%04d.conf", i);
		fd = open(at(rel), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			abort();
		close(fd);
	}
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	CHECK(pol && kvmxd_policy_count(pol) == 5, "%d files in vms.d (got \"%s\")",
	      KVMXD_FILES_MAX, err.text);
	kvmxd_policy_free(pol);
	put("vms.d/zz.conf", "");
	pol = kvmxd_policy_load(NULL, at("vms.d"), &err);
	snprintf(want, sizeof(want), "%s: more than 4096 .conf files", at("vms.d"));
	CHECK(!pol && !strcmp(err.text, want), "%d files: \"%s\" (got \"%s\")",
	      KVMXD_FILES_MAX + 1, want, err.text);

	kvmxd_policy_free(cur);
	rm_rf(tmp);
}

/* ------------------------------------------------------------------ */
/* QEMU command lines */

/* @argv as /proc/PID/cmdline shows it, each argument ended by a NUL. */
static char *cmdline(const char *const *argv, size_t *len)
{
	size_t n = 0, i;
	char *buf;

	for (i = 0; argv[i]; i++)
		n += strlen(argv[i]) + 1;
	buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	for (n = 0, i = 0; argv[i]; i++) {
		memcpy(buf + n, argv[i], strlen(argv[i]) + 1);
		n += strlen(argv[i]) + 1;
	}
	*len = n;
	return buf;
}

struct cmd_case {
	const char *what;
	const char *argv[24];
	const char *name, *uuid, *qmp_path;
	int qmp_fd;
	bool libvirt;
};

#define Q	"qemu-system-x86_64"
/* A socket path of 107 bytes, the most sun_path holds. */
#define LONG_PATH \
	"/run/a123456789/b123456789/c123456789/d123456789/e123456789/f123456789/g123456789/h123456789/i123456789/xxx"

static const struct cmd_case cmd_cases[] = {
	{ "no options", { Q }, "", "", "", -1, false },
	{ "-name guest=web1,debug-threads=on",
	  { Q, "-name", "guest=web1,debug-threads=on" }, "web1", "", "", -1, false },
	{ "-name web1", { Q, "-name", "web1" }, "web1", "", "", -1, false },
	{ "--name web1", { Q, "--name", "web1" }, "web1", "", "", -1, false },
	{ "---name is no option", { Q, "---name", "web1" }, "", "", "", -1, false },
	{ "-name=web1 is no option", { Q, "-name=web1" }, "", "", "", -1, false },
	{ "-name web1,process=qemu-web1",
	  { Q, "-name", "web1,process=qemu-web1" }, "web1", "", "", -1, false },
	{ "-name process=p,guest=web1", { Q, "-name", "process=p,guest=web1" },
	  "web1", "", "", -1, false },
	{ "-name process=p: no name", { Q, "-name", "process=p" }, "", "", "", -1, false },
	{ "-name guest=a,,b,debug-threads=on: a,b",
	  { Q, "-name", "guest=a,,b,debug-threads=on" }, "a,b", "", "", -1, false },
	{ "-name a,,b: implied, a,b", { Q, "-name", "a,,b" }, "a,b", "", "", -1, false },
	{ "-name a,,,,b: a,,b", { Q, "-name", "a,,,,b" }, "a,,b", "", "", -1, false },
	{ "-name guest=a,,,debug-threads=on: a,",
	  { Q, "-name", "guest=a,,,debug-threads=on" }, "a,", "", "", -1, false },
	{ "-name ,,x: ,x", { Q, "-name", ",,x" }, ",x", "", "", -1, false },
	{ "-name web,,1=x: implied, web,1=x", { Q, "-name", "web,,1=x" },
	  "web,1=x", "", "", -1, false },
	{ "-name 'my vm'", { Q, "-name", "my vm" }, "my vm", "", "", -1, false },
	{ "-name guest=: empty", { Q, "-name", "guest=" }, "", "", "", -1, false },
	{ "-name guest=a,guest=b: the last", { Q, "-name", "guest=a,guest=b" },
	  "b", "", "", -1, false },
	{ "two -name: the last guest=",
	  { Q, "-name", "guest=a", "-m", "1G", "--name", "guest=b" }, "b", "", "", -1, false },
	{ "-name merges: a later one without guest= keeps it",
	  { Q, "-name", "guest=a", "-name", "debug-threads=on" }, "a", "", "", -1, false },
	{ "-name with no value", { Q, "-m", "1G", "-name" }, "", "", "", -1, false },
	{ "the program is not an option", { "-name", "web1" }, "", "", "", -1, false },
	{ "an option's argument is taken as the option's",
	  { Q, "-name", "-uuid", UUID1 }, "-uuid", "", "", -1, false },
	{ "empty arguments", { Q, "", "-name", "", "-uuid", UUID1, "" }, "",
	  UUID1, "", -1, false },
	{ "-uuid", { Q, "-uuid", UUID1 }, "", UUID1, "", -1, false },
	{ "-uuid in upper case: lower case",
	  { Q, "--uuid", UUID1_UP }, "", UUID1, "", -1, false },
	{ "-uuid malformed: none", { Q, "-uuid", "0f3c6e2a" }, "", "", "", -1, false },
	{ "-uuid with a blank: none", { Q, "-uuid", UUID1 " " }, "", "", "", -1, false },
	{ "-uuid twice: the last", { Q, "-uuid", UUID1, "-uuid", UUID2 }, "",
	  UUID2, "", -1, false },

	{ "-qmp unix:/path,server=on,wait=off",
	  { Q, "-qmp", "unix:/run/q.sock,server=on,wait=off" }, "", "",
	  "/run/q.sock", -1, false },
	{ "-qmp unix:path,server,nowait",
	  { Q, "-qmp", "unix:/run/q.sock,server,nowait" }, "", "", "/run/q.sock", -1, false },
	{ "--qmp", { Q, "--qmp", "unix:/q,server" }, "", "", "/q", -1, false },
	{ "-qmp-pretty", { Q, "-qmp-pretty", "unix:/q,server=on" }, "", "", "/q", -1, false },
	{ "-qmp relative path", { Q, "-qmp", "unix:q.sock,server" }, "", "",
	  "q.sock", -1, false },
	{ "-qmp ,, in the path", { Q, "-qmp", "unix:/a,,b.sock,server=on" }, "",
	  "", "/a,b.sock", -1, false },
	{ "-qmp unix:path=/p", { Q, "-qmp", "unix:path=/p,server=on" }, "", "",
	  "/p", -1, false },
	{ "-qmp server=yes", { Q, "-qmp", "unix:/p,server=yes" }, "", "", "/p", -1, false },
	{ "-qmp server=true", { Q, "-qmp", "unix:/p,server=true" }, "", "", "/p", -1, false },
	{ "-qmp unix:/p: QEMU is the client", { Q, "-qmp", "unix:/p" }, "", "", "", -1, false },
	{ "-qmp unix:/p,server=off", { Q, "-qmp", "unix:/p,server=off" }, "", "", "", -1, false },
	{ "-qmp unix:/p,noserver", { Q, "-qmp", "unix:/p,noserver" }, "", "", "", -1, false },
	{ "-qmp unix:/p,server,noserver: the last",
	  { Q, "-qmp", "unix:/p,server,noserver" }, "", "", "", -1, false },
	{ "-qmp unix:server: a path, not a flag", { Q, "-qmp", "unix:server" },
	  "", "", "", -1, false },
	{ "-qmp unix:,server: no path", { Q, "-qmp", "unix:,server" }, "", "", "", -1, false },
	{ "-qmp unix:/p,server,abstract=on",
	  { Q, "-qmp", "unix:/p,server,abstract=on" }, "", "", "", -1, false },
	{ "-qmp tcp:", { Q, "-qmp", "tcp:127.0.0.1:4444,server=on,wait=off" },
	  "", "", "", -1, false },
	{ "-qmp stdio", { Q, "-qmp", "stdio" }, "", "", "", -1, false },
	{ "-qmp unix path of 107 bytes",
	  { Q, "-qmp", "unix:" LONG_PATH ",server" }, "", "", LONG_PATH, -1, false },
	{ "-qmp unix path of 108 bytes: none, not cut",
	  { Q, "-qmp", "unix:" LONG_PATH "6,server" }, "", "", "", -1, false },
	{ "-qmp: the first that QEMU serves",
	  { Q, "-monitor", "unix:/hmp,server", "-qmp", "unix:/client",
	    "-qmp", "unix:/first,server", "-qmp", "unix:/second,server" },
	  "", "", "/first", -1, false },

	{ "-chardev socket + -mon chardev=,mode=control",
	  { Q, "-chardev", "socket,id=qmp0,path=/run/c.sock,server=on,wait=off",
	    "-mon", "chardev=qmp0,mode=control" }, "", "", "/run/c.sock", -1, false },
	{ "--chardev/--mon", { Q, "--chardev", "socket,id=m,path=/c,server",
	  "--mon", "chardev=m,mode=control,pretty=on" }, "", "", "/c", -1, false },
	{ "-mon before its -chardev",
	  { Q, "-mon", "chardev=qmp0,mode=control", "-chardev",
	    "socket,path=/run/c.sock,server=on,id=qmp0" }, "", "", "/run/c.sock", -1, false },
	{ "-mon ID,mode=control: the implied chardev",
	  { Q, "-chardev", "socket,id=m,path=/c,server=on", "-mon", "m,mode=control" },
	  "", "", "/c", -1, false },
	{ "-mon without mode=control is HMP",
	  { Q, "-chardev", "socket,id=m,path=/c,server=on", "-mon", "chardev=m" },
	  "", "", "", -1, false },
	{ "-mon mode=readline is HMP",
	  { Q, "-chardev", "socket,id=m,path=/c,server=on", "-mon",
	    "chardev=m,mode=readline" }, "", "", "", -1, false },
	{ "-mon of an unknown chardev",
	  { Q, "-chardev", "socket,id=m,path=/c,server=on", "-mon",
	    "chardev=n,mode=control" }, "", "", "", -1, false },
	{ "-chardev socket without server",
	  { Q, "-chardev", "socket,id=m,path=/c", "-mon", "chardev=m,mode=control" },
	  "", "", "", -1, false },
	{ "-chardev socket over TCP",
	  { Q, "-chardev", "socket,id=m,host=localhost,port=4444,server=on",
	    "-mon", "chardev=m,mode=control" }, "", "", "", -1, false },
	{ "-chardev pipe", { Q, "-chardev", "pipe,id=m,path=/c", "-mon",
	  "chardev=m,mode=control" }, "", "", "", -1, false },
	{ "-chardev ,, in path and id",
	  { Q, "-chardev", "socket,id=a,,b,path=/x,,y,server=on", "-mon",
	    "chardev=a,,b,mode=control" }, "", "", "/x,y", -1, false },
	{ "-chardev: the first id wins, as in QEMU",
	  { Q, "-chardev", "socket,id=m,id=n,path=/c,server=on", "-mon",
	    "chardev=m,mode=control" }, "", "", "/c", -1, false },
	{ "-chardev socket,fd=N: the descriptor",
	  { Q, "-chardev", "socket,id=m,fd=23,server=on,wait=off", "-mon",
	    "chardev=m,id=monitor,mode=control" }, "", "", "", 23, false },
	{ "-chardev socket,fd=junk: nothing",
	  { Q, "-chardev", "socket,id=m,fd=x3,server=on", "-mon",
	    "chardev=m,mode=control" }, "", "", "", -1, false },
	{ "-qmp chardev:ID",
	  { Q, "-chardev", "socket,id=m,path=/c,server=on", "-qmp", "chardev:m" },
	  "", "", "/c", -1, false },
	{ "a -mon of a client socket, then a -qmp server",
	  { Q, "-chardev", "socket,id=m,path=/c", "-mon", "chardev=m,mode=control",
	    "-qmp", "unix:/q,server" }, "", "", "/q", -1, false },

	{ "libvirt, path form",
	  { "/usr/bin/qemu-system-x86_64", "-name", "guest=web2,debug-threads=on",
	    "-S", "-object",
	    "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\",\"file\":\"/var/lib/libvirt/qemu/domain-3-web2/master-key.aes\"}",
	    "-machine", "pc-q35-7.2,usb=off,vmport=off,dump-guest-core=off",
	    "-m", "2048", "-uuid", UUID1, "-no-user-config", "-nodefaults",
	    "-chardev",
	    "socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain-3-web2/monitor.sock,server=on,wait=off",
	    "-mon", "chardev=charmonitor,id=monitor,mode=control", "-rtc",
	    "base=utc", "-device", "{\"driver\":\"virtio-balloon-pci\",\"id\":\"balloon0\"}" },
	  "web2", UUID1, "/var/lib/libvirt/qemu/domain-3-web2/monitor.sock", -1,
	  true },
	{ "libvirt, descriptor form",
	  { "/usr/bin/qemu-system-x86_64", "-name", "guest=web3,debug-threads=on",
	    "-S", "-uuid", UUID2, "-chardev",
	    "socket,id=charmonitor,fd=31,server=on,wait=off", "-mon",
	    "chardev=charmonitor,id=monitor,mode=control", "-chardev",
	    "pty,id=charserial0", "-device",
	    "{\"driver\":\"isa-serial\",\"chardev\":\"charserial0\"}" },
	  "web3", UUID2, "", 31, true },
	{ "libvirt, old form: server,nowait",
	  { "qemu-kvm", "-name", "web4", "-uuid", UUID1, "-chardev",
	    "socket,id=charmonitor,path=/var/lib/libvirt/qemu/web4.monitor,server,nowait",
	    "-mon", "chardev=charmonitor,id=monitor,mode=control" },
	  "web4", UUID1, "/var/lib/libvirt/qemu/web4.monitor", -1, true },
	{ "a charmonitor in HMP mode is not libvirt's",
	  { Q, "-name", "x", "-chardev", "socket,id=charmonitor,path=/c,server",
	    "-mon", "chardev=charmonitor" }, "x", "", "", -1, false },
};

static void test_cmdline(void)
{
	static const char dashes[] = "q\0-\0--\0-name";
	static char name[KVMXD_NAME_MAX + 2];
	struct kvmxd_vm_id id;
	size_t i, len;
	char *buf;

	for (i = 0; i < NCASES(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];
		int ret;

		buf = cmdline(c->argv, &len);
		memset(&id, 0x55, sizeof(id));
		ret = kvmxd_vm_id_parse(&id, buf, len);
		CHECK(!ret && !strcmp(id.name, c->name) &&
		      !strcmp(id.uuid, c->uuid) &&
		      !strcmp(id.qmp_path, c->qmp_path) &&
		      id.qmp_fd == c->qmp_fd && id.libvirt == c->libvirt,
		      "cmdline, %s: name '%s' uuid '%s' qmp '%s' fd %d%s (got %d '%s' '%s' '%s' %d %d)",
		      c->what, c->name, c->uuid, c->qmp_path, c->qmp_fd,
		      c->libvirt ? " libvirt" : "", ret, id.name, id.uuid,
		      id.qmp_path, id.qmp_fd, id.libvirt);
		/* The same without the last NUL. */
		if (len > 1) {
			char *cut = exact(buf, len - 1);
			struct kvmxd_vm_id id2;

			ret = kvmxd_vm_id_parse(&id2, cut, len - 1);
			CHECK(!ret && !strcmp(id2.name, id.name) &&
			      !strcmp(id2.uuid, id.uuid) &&
			      !strcmp(id2.qmp_path, id.qmp_path) &&
			      id2.qmp_fd == id.qmp_fd &&
			      id2.libvirt == id.libvirt,
			      "cmdline, %s: the same without the final NUL",
			      c->what);
			free(cut);
		}
		free(buf);
	}

	/* Names of 255 bytes, and 256, which are left out and not cut. */
	memset(name, 'n', sizeof(name));
	name[KVMXD_NAME_MAX] = 0;
	{
		static const char *const argv[] = { Q, "-name", name, NULL };
		static const char *const argv2[] = {
			Q, "-name", "guest=short", "-name", name, NULL
		};

		buf = cmdline(argv, &len);
		CHECK(!kvmxd_vm_id_parse(&id, buf, len) &&
		      strlen(id.name) == KVMXD_NAME_MAX,
		      "cmdline: a name of %d bytes", KVMXD_NAME_MAX);
		free(buf);
		name[KVMXD_NAME_MAX] = 'n';
		name[KVMXD_NAME_MAX + 1] = 0;
		buf = cmdline(argv, &len);
		CHECK(!kvmxd_vm_id_parse(&id, buf, len) && !id.name[0],
		      "cmdline: a name of %d bytes: none, not cut",
		      KVMXD_NAME_MAX + 1);
		free(buf);
		buf = cmdline(argv2, &len);
		CHECK(!kvmxd_vm_id_parse(&id, buf, len) && !id.name[0],
		      "cmdline: a later name too long replaces an earlier one with none");
		free(buf);
	}

	CHECK(kvmxd_vm_id_parse(&id, "", 0) == -EINVAL && !id.name[0] &&
	      id.qmp_fd == -1, "cmdline: empty (a zombie): -EINVAL, empty id");
	CHECK(kvmxd_vm_id_parse(&id, NULL, 5) == -EINVAL, "cmdline: NULL: -EINVAL");
	CHECK(kvmxd_vm_id_parse(NULL, "q", 1) == -EINVAL, "cmdline: no id: -EINVAL");
	buf = exact("\0\0\0", 3);
	CHECK(kvmxd_vm_id_parse(&id, buf, 3) == 0 && !id.name[0],
	      "cmdline: only NULs");
	free(buf);
	buf = exact(dashes, sizeof(dashes) - 1);
	CHECK(kvmxd_vm_id_parse(&id, buf, sizeof(dashes) - 1) == 0 &&
	      !id.name[0],
	      "cmdline: '-', '--' and a last -name with no value");
	free(buf);
	/* 100000 monitors are not all looked at: QEMU has no use for them. */
	{
		size_t nmon = 100000, o = 0, k;

		buf = malloc(nmon * 40 + 64);
		if (!buf)
			abort();
		o += (size_t)sprintf(buf, "q") + 1;
		for (k = 0; k < nmon; k++) {
			memcpy(buf + o, "-mon\0chardev=c,mode=control", 28);
			o += 28;
		}
		memcpy(buf + o, "-qmp\0unix:/q,server", 20);
		o += 20;
		CHECK(kvmxd_vm_id_parse(&id, buf, o) == 0 && !id.qmp_path[0],
		      "cmdline: 100000 monitors of no chardev: at most 16 are looked up");
		free(buf);
	}
}

/* ------------------------------------------------------------------ */
/* Matching */

static void test_match(void)
{
	struct kvmxd_policy *pol = new_policy(), *nodef = new_policy();
	const struct kvmxd_section *s;
	struct kvmxd_conf_err err;
	struct kvmxd_vm_id id;
	size_t len;
	char *buf;
	int ret;

	ret = PARSE(pol, ("[default]\nshares = 1\n[vm web1]\nshares = 2\n[libvirt web1]\nshares = 3\n[uuid " UUID1 "]\nshares = 4\n[vm quiet]\n[libvirt lv]\nshares = 5\n"),
		    &err);
	CHECK(!ret, "the matching policy parses");
	ret = PARSE(nodef, ("[vm web1]\nshares = 2\n"), &err);
	CHECK(!ret, "and one without [default]");

#define VM(n, u, lv) do {					\
		memset(&id, 0, sizeof(id));			\
		id.qmp_fd = -1;					\
		snprintf(id.name, sizeof(id.name), "%s", n);	\
		snprintf(id.uuid, sizeof(id.uuid), "%s", u);	\
		id.libvirt = lv;				\
	} while (0)

	VM("web1", UUID1, true);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_UUID && s->shares == 4,
	      "match: the uuid first, over libvirt, vm and default");
	VM("web1", UUID2, true);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_LIBVIRT && s->shares == 3,
	      "match: a uuid with no section, libvirt runs it: [libvirt web1]");
	VM("web1", UUID2, false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_VM && s->shares == 2,
	      "match: not libvirt's: [vm web1]");
	VM("web1", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_VM, "match: no uuid: [vm web1]");
	VM("lv", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT,
	      "match: [libvirt lv] is not for a VM libvirt does not run");
	VM("lv", "", true);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_LIBVIRT && s->shares == 5,
	      "match: but for one it runs");
	VM("web9", "", true);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT, "match: an unknown name: [default]");
	VM("", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT, "match: no name, no uuid: [default]");
	VM("", UUID1_UP, false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_UUID, "match: a uuid in upper case, no name");
	VM("Web1", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT, "match: names are matched by case");
	VM("web1 ", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_DEFAULT, "match: and exactly");
	VM("quiet", "", false);
	s = kvmxd_policy_match(pol, &id);
	CHECK(s && s->kind == KVMXD_VM && !s->set,
	      "match: an empty [vm quiet] keeps quiet out of [default]");
	VM("web2", "", false);
	CHECK(!kvmxd_policy_match(nodef, &id), "match: no [default]: NULL");
	CHECK(!kvmxd_policy_match(NULL, &id) && !kvmxd_policy_match(pol, NULL),
	      "match: NULL policy or id: NULL");

	/* From command lines. */
	{
		static const char *const lv[] = { Q, "-name", "guest=web1,debug-threads=on",
			"-uuid", UUID2, "-chardev",
			"socket,id=charmonitor,fd=30,server=on,wait=off", "-mon",
			"chardev=charmonitor,id=monitor,mode=control", NULL };
		static const char *const plain[] = { Q, "-name", "web1", "-qmp",
			"unix:/run/web1.qmp,server=on,wait=off", NULL };
		static const char *const byuuid[] = { Q, "-uuid", UUID1_UP, "-name", "zzz",
			NULL };

		buf = cmdline(lv, &len);
		kvmxd_vm_id_parse(&id, buf, len);
		s = kvmxd_policy_match(pol, &id);
		CHECK(s && s->kind == KVMXD_LIBVIRT && s->shares == 3,
		      "match: a libvirt command line gets [libvirt web1]");
		free(buf);
		buf = cmdline(plain, &len);
		kvmxd_vm_id_parse(&id, buf, len);
		s = kvmxd_policy_match(pol, &id);
		CHECK(s && s->kind == KVMXD_VM && s->shares == 2 &&
		      !strcmp(id.qmp_path, "/run/web1.qmp"),
		      "match: a plain QEMU command line gets [vm web1]");
		free(buf);
		buf = cmdline(byuuid, &len);
		kvmxd_vm_id_parse(&id, buf, len);
		s = kvmxd_policy_match(pol, &id);
		CHECK(s && s->kind == KVMXD_UUID, "match: -uuid in upper case gets [uuid]");
		free(buf);
	}
#undef VM
	kvmxd_policy_free(pol);
	kvmxd_policy_free(nodef);
}

int main(void)
{
	test_values();
	test_error_text();
	test_lines();
	test_section_fields();
	test_limits();
	test_module_ranges();
	test_atomic();
	test_files();
	test_cmdline();
	test_match();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
