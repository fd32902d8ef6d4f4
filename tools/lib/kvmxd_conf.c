// SPDX-License-Identifier: GPL-2.0
/*
 * kvmxd's per-VM policy: the configuration parser, QEMU command lines and
 * matching. The format and the rules are described in kvmxd_conf.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmxd_conf.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct kvmxd_policy {
	struct kvmxd_section *sec;
	unsigned int nr, cap;
	char **files;			/* names the sections point to */
	unsigned int nr_files;
};

struct key {
	const char *name;
	unsigned int bit;
	bool size;			/* K, M, G, T allowed */
	uint64_t min, max;
};

static const struct key keys[] = {
	{ "shares", KVMXD_SET_SHARES, false, KVMXD_SHARES_MIN,
	  KVMXD_SHARES_MAX },
	{ "min_bytes", KVMXD_SET_MIN_BYTES, true, 0, KVMXD_BYTES_MAX },
	{ "max_bytes", KVMXD_SET_MAX_BYTES, true, KVMXD_PAGE_SIZE,
	  KVMXD_BYTES_MAX },
	{ "ksm_domain", KVMXD_SET_KSM_DOMAIN, false, 0, KVMXD_DOMAIN_MAX },
};

static const char *const kind_names[] = {
	[KVMXD_DEFAULT] = "default",
	[KVMXD_UUID] = "uuid",
	[KVMXD_LIBVIRT] = "libvirt",
	[KVMXD_VM] = "vm",
};

const char *kvmxd_kind_name(enum kvmxd_kind kind)
{
	if ((unsigned int)kind >= ARRAY_SIZE(kind_names))
		return "?";
	return kind_names[kind];
}

static unsigned int bit_index(unsigned int bit)
{
	return (unsigned int)__builtin_ctz(bit);
}

/* "FILE:LINE: what", or "FILE: what" for @line 0; returns -EINVAL. */
static int conf_error(struct kvmxd_conf_err *err, const char *file,
		      unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int o;

	if (!err)
		return -EINVAL;
	err->line = line;
	if (line)
		o = snprintf(err->text, sizeof(err->text), "%s:%u: ", file,
			     line);
	else
		o = snprintf(err->text, sizeof(err->text), "%s: ", file);
	if (o < 0 || (size_t)o >= sizeof(err->text))
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->text + o, sizeof(err->text) - o, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* @s (@len bytes) for a message: at most 40 bytes, control bytes as '?'. */
static const char *quoted(const char *s, size_t len, char *out)
{
	size_t i, n = len > 40 ? 40 : len;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 32 || s[i] == 127 ? '?' : s[i];
	if (n < len)
		memcpy(out + n, "...", 4);
	else
		out[n] = 0;
	return out;
}

#define QUOTE_BUF	48

/* @v as the shortest exact K/M/G/T form: 68719476736 is "64G". */
static const char *size_str(uint64_t v, char *out, size_t size)
{
	static const char suffix[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned int shift = 10 * (i + 1);

		if (v && !(v & ((1ULL << shift) - 1))) {
			snprintf(out, size, "%llu%c",
				 (unsigned long long)(v >> shift), suffix[i]);
			return out;
		}
	}
	snprintf(out, size, "%llu", (unsigned long long)v);
	return out;
}

/*
 * A number of @len bytes: decimal digits, no leading zero, and with @size
 * one K/M/G/T suffix. 0, -EINVAL (malformed), -ERANGE (above 2^64 - 1).
 */
static int parse_number(const char *s, size_t len, bool size, uint64_t *v)
{
	unsigned int shift = 0;
	bool over = false;
	uint64_t n = 0;
	size_t i;

	if (size && len > 1) {
		switch (s[len - 1]) {
		case 'K': case 'k':
			shift = 10;
			break;
		case 'M': case 'm':
			shift = 20;
			break;
		case 'G': case 'g':
			shift = 30;
			break;
		case 'T': case 't':
			shift = 40;
			break;
		}
		if (shift)
			len--;
	}
	if (!len || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (n > (UINT64_MAX - d) / 10)
			over = true;
		n = n * 10 + d;
	}
	if (over || (shift && n > UINT64_MAX >> shift))
		return -ERANGE;
	*v = n << shift;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Canonical 8-4-4-4-12 hex; copied in lower case to @out (37 bytes). */
static bool parse_uuid(const char *s, size_t len, char *out)
{
	size_t i;

	if (len != KVMXD_UUID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	for (i = 0; i < len; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i];
	out[len] = 0;
	return true;
}

/* ------------------------------------------------------------------ */
/* The configuration */

struct kvmxd_policy *kvmxd_policy_new(void)
{
	return calloc(1, sizeof(struct kvmxd_policy));
}

void kvmxd_policy_free(struct kvmxd_policy *pol)
{
	unsigned int i;

	if (!pol)
		return;
	for (i = 0; i < pol->nr_files; i++)
		free(pol->files[i]);
	free(pol->files);
	free(pol->sec);
	free(pol);
}

unsigned int kvmxd_policy_count(const struct kvmxd_policy *pol)
{
	return pol ? pol->nr : 0;
}

const struct kvmxd_section *kvmxd_policy_section(const struct kvmxd_policy *pol,
						 unsigned int i)
{
	return pol && i < pol->nr ? &pol->sec[i] : NULL;
}

static const struct kvmxd_section *find(const struct kvmxd_policy *pol,
					unsigned int nr, enum kvmxd_kind kind,
					const char *name)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (pol->sec[i].kind == kind && !strcmp(pol->sec[i].name, name))
			return &pol->sec[i];
	}
	return NULL;
}

struct parser {
	struct kvmxd_policy *pol;
	const char *file;
	unsigned int line;
	struct kvmxd_section *cur;	/* the section keys go to, or NULL */
	struct kvmxd_conf_err *err;
};

/* "[...]" at @s, @len bytes, the leading blanks gone. */
static int parse_section(struct parser *p, const char *s, size_t len)
{
	struct kvmxd_policy *pol = p->pol;
	const struct kvmxd_section *dup;
	struct kvmxd_section *sec;
	char q[QUOTE_BUF];
	size_t i, end, klen, nstart;
	enum kvmxd_kind kind = KVMXD_DEFAULT;
	bool found = false;
	unsigned int k;

	for (end = 1; end < len && s[end] != ']'; end++)
		;
	if (end == len)
		return conf_error(p->err, p->file, p->line,
				  "no ']' closes the section line");
	for (i = end + 1; i < len && is_blank(s[i]); i++)
		;
	if (i < len && s[i] != '#')
		return conf_error(p->err, p->file, p->line,
				  "junk after the section line's ']': '%s'",
				  quoted(s + i, len - i, q));
	/* Inside the brackets, without the blanks at either end. */
	s++;
	end--;
	while (end && is_blank(*s)) {
		s++;
		end--;
	}
	while (end && is_blank(s[end - 1]))
		end--;
	for (klen = 0; klen < end && !is_blank(s[klen]); klen++)
		;
	for (nstart = klen; nstart < end && is_blank(s[nstart]); nstart++)
		;
	for (k = 0; k < ARRAY_SIZE(kind_names); k++) {
		if (strlen(kind_names[k]) == klen &&
		    !memcmp(s, kind_names[k], klen)) {
			kind = k;
			found = true;
			break;
		}
	}
	if (!found)
		return conf_error(p->err, p->file, p->line,
				  "unknown section '%s': sections are [vm NAME], [uuid UUID], [libvirt NAME] and [default]",
				  quoted(s, klen, q));
	if (kind == KVMXD_DEFAULT && nstart < end)
		return conf_error(p->err, p->file, p->line,
				  "[default] takes no name");
	if (kind != KVMXD_DEFAULT && nstart == end)
		return conf_error(p->err, p->file, p->line,
				  "[%s] needs a name", kind_names[kind]);
	if (end - nstart > KVMXD_NAME_MAX)
		return conf_error(p->err, p->file, p->line,
				  "[%s]: a name is at most %d bytes",
				  kind_names[kind], KVMXD_NAME_MAX);
	for (i = nstart; i < end; i++) {
		if (s[i] == '\t' || s[i] == '[')
			return conf_error(p->err, p->file, p->line,
					  "[%s]: a name holds no %s",
					  kind_names[kind],
					  s[i] == '[' ? "'['" : "tab");
	}
	if (pol->nr >= KVMXD_SECTIONS_MAX)
		return conf_error(p->err, p->file, p->line,
				  "more than %d sections", KVMXD_SECTIONS_MAX);
	if (pol->nr == pol->cap) {
		unsigned int cap = pol->cap ? pol->cap * 2 : 16;
		struct kvmxd_section *n = realloc(pol->sec, cap * sizeof(*n));

		if (!n) {
			conf_error(p->err, p->file, p->line, "out of memory");
			return -ENOMEM;
		}
		pol->sec = n;
		pol->cap = cap;
	}
	sec = &pol->sec[pol->nr];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->file = p->file;
	sec->line = p->line;
	if (kind == KVMXD_UUID) {
		if (!parse_uuid(s + nstart, end - nstart, sec->name))
			return conf_error(p->err, p->file, p->line,
					  "[uuid %s]: not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex)",
					  quoted(s + nstart, end - nstart, q));
	} else {
		memcpy(sec->name, s + nstart, end - nstart);
		sec->name[end - nstart] = 0;
	}
	dup = find(pol, pol->nr, kind, sec->name);
	if (dup) {
		if (kind == KVMXD_DEFAULT)
			return conf_error(p->err, p->file, p->line,
					  "[default] is already defined at %s:%u",
					  dup->file, dup->line);
		return conf_error(p->err, p->file, p->line,
				  "[%s %s] is already defined at %s:%u",
				  kind_names[kind], sec->name, dup->file,
				  dup->line);
	}
	pol->nr++;
	p->cur = sec;
	return 0;
}

/* "KEY = VALUE" at @s, @len bytes, the leading blanks gone. */
static int parse_key(struct parser *p, const char *s, size_t len)
{
	struct kvmxd_section *sec = p->cur;
	const struct key *k = NULL;
	char q[QUOTE_BUF], a[32], b[32];
	size_t i, klen, vstart, vlen;
	uint64_t v = 0;
	int ret;

	for (klen = 0; klen < len && !is_blank(s[klen]) && s[klen] != '=';
	     klen++)
		;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strlen(keys[i].name) == klen &&
		    !memcmp(s, keys[i].name, klen))
			k = &keys[i];
	}
	for (i = klen; i < len && is_blank(s[i]); i++)
		;
	if (i == len || s[i] != '=') {
		if (!k)
			return conf_error(p->err, p->file, p->line,
					  "expected KEY = VALUE, a [section] line or a # comment, not '%s'",
					  quoted(s, len, q));
		return conf_error(p->err, p->file, p->line,
				  "%s: expected '=' after the key", k->name);
	}
	if (!k)
		return conf_error(p->err, p->file, p->line,
				  "unknown key '%s': keys are shares, min_bytes, max_bytes and ksm_domain",
				  quoted(s, klen, q));
	if (!sec)
		return conf_error(p->err, p->file, p->line,
				  "%s is outside a section: a [vm NAME], [uuid UUID], [libvirt NAME] or [default] line comes first",
				  k->name);
	for (i++; i < len && is_blank(s[i]); i++)
		;
	vstart = i;
	for (; i < len && !is_blank(s[i]); i++)
		;
	vlen = i - vstart;
	if (vlen && s[vstart] == '#')
		vlen = 0;	/* "shares = # x": a comment, no value */
	for (; i < len && is_blank(s[i]); i++)
		;
	if (!vlen)
		return conf_error(p->err, p->file, p->line, "%s: no value",
				  k->name);
	if (i < len && s[i] != '#')
		return conf_error(p->err, p->file, p->line,
				  "%s: junk after the value: '%s'", k->name,
				  quoted(s + i, len - i, q));
	if (sec->set & k->bit)
		return conf_error(p->err, p->file, p->line,
				  "%s is set twice in this section (first on line %u)",
				  k->name, sec->key_line[bit_index(k->bit)]);
	ret = parse_number(s + vstart, vlen, k->size, &v);
	if (ret == -EINVAL) {
		const char *why = k->size ?
			"digits with an optional K, M, G or T" :
			"digits only";
		size_t z = 0;

		/* The zeros before a digit: would it be a number without them? */
		while (z + 1 < vlen && s[vstart + z] == '0' &&
		       s[vstart + z + 1] >= '0' && s[vstart + z + 1] <= '9')
			z++;
		if (z && parse_number(s + vstart + z, vlen - z, k->size,
				      &v) != -EINVAL)
			return conf_error(p->err, p->file, p->line,
					  "%s: '%s' has a leading zero: numbers are decimal, written without one",
					  k->name, quoted(s + vstart, vlen, q));
		return conf_error(p->err, p->file, p->line,
				  "%s: '%s' is not a decimal number (%s)",
				  k->name, quoted(s + vstart, vlen, q), why);
	}
	if (ret || v < k->min || v > k->max) {
		if (k->size)
			return conf_error(p->err, p->file, p->line,
					  "%s: %s is out of range %s..%s",
					  k->name, quoted(s + vstart, vlen, q),
					  size_str(k->min, a, sizeof(a)),
					  size_str(k->max, b, sizeof(b)));
		return conf_error(p->err, p->file, p->line,
				  "%s: %s is out of range %llu..%llu", k->name,
				  quoted(s + vstart, vlen, q),
				  (unsigned long long)k->min,
				  (unsigned long long)k->max);
	}
	switch (k->bit) {
	case KVMXD_SET_SHARES:
		sec->shares = (uint32_t)v;
		break;
	case KVMXD_SET_MIN_BYTES:
		sec->min_bytes = v;
		break;
	case KVMXD_SET_MAX_BYTES:
		sec->max_bytes = v;
		break;
	case KVMXD_SET_KSM_DOMAIN:
		sec->ksm_domain = (uint32_t)v;
		break;
	}
	sec->set |= k->bit;
	sec->key_line[bit_index(k->bit)] = p->line;
	if ((sec->set & KVMXD_SET_MIN_BYTES) &&
	    (sec->set & KVMXD_SET_MAX_BYTES)) {
		uint64_t lo = sec->min_bytes, hi = sec->max_bytes;
		/* The other key of the two, already set. */
		const char *other = k->bit == KVMXD_SET_MIN_BYTES ?
			"max_bytes" : "min_bytes";
		unsigned int oline = sec->key_line[bit_index(k->bit ^
			(KVMXD_SET_MIN_BYTES | KVMXD_SET_MAX_BYTES))];

		if (lo > hi)
			return conf_error(p->err, p->file, p->line,
					  "%s: %s is %s %s %s (line %u)",
					  k->name, quoted(s + vstart, vlen, q),
					  k->bit == KVMXD_SET_MIN_BYTES ?
					  "above" : "below", other,
					  size_str(k->bit == KVMXD_SET_MIN_BYTES ?
						   hi : lo, a, sizeof(a)),
					  oline);
		/* idle_tax's rule: a whole page between min and max. */
		if ((lo + KVMXD_PAGE_SIZE - 1) / KVMXD_PAGE_SIZE >
		    hi / KVMXD_PAGE_SIZE)
			return conf_error(p->err, p->file, p->line,
					  "%s: min_bytes %s and max_bytes %s have no whole %llu-byte page between them (line %u)",
					  k->name, size_str(lo, a, sizeof(a)),
					  size_str(hi, b, sizeof(b)),
					  KVMXD_PAGE_SIZE, oline);
	}
	return 0;
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0)
			return conf_error(p->err, p->file, p->line,
					  "a NUL byte (column %zu)", i + 1);
		if (c == '\r')
			return conf_error(p->err, p->file, p->line,
					  "a carriage return (column %zu): lines end in \\n alone",
					  i + 1);
		if ((c < 32 && c != '\t') || c == 127)
			return conf_error(p->err, p->file, p->line,
					  "control byte 0x%02x (column %zu)",
					  c, i + 1);
	}
	for (i = 0; i < len && is_blank(s[i]); i++)
		;
	if (i == len || s[i] == '#')
		return 0;
	if (s[i] == '[')
		return parse_section(p, s + i, len - i);
	return parse_key(p, s + i, len - i);
}

/* Remember @file in @pol, for the sections' messages; NULL without memory. */
static const char *keep_file(struct kvmxd_policy *pol, const char *file)
{
	char **n, *copy;

	if (pol->nr_files && !strcmp(pol->files[pol->nr_files - 1], file))
		return pol->files[pol->nr_files - 1];
	copy = strdup(file);
	if (!copy)
		return NULL;
	n = realloc(pol->files, (pol->nr_files + 1) * sizeof(*n));
	if (!n) {
		free(copy);
		return NULL;
	}
	pol->files = n;
	pol->files[pol->nr_files++] = copy;
	return copy;
}

int kvmxd_policy_parse(struct kvmxd_policy *pol, const char *file,
		       const char *buf, size_t len,
		       struct kvmxd_conf_err *err)
{
	struct parser p = { .pol = pol, .err = err };
	unsigned int nr_before, files_before;
	size_t pos = 0;
	int ret = 0;

	if (err) {
		err->line = 0;
		err->text[0] = 0;
	}
	if (!file)
		file = "(config)";
	if (!pol || (!buf && len))
		return conf_error(err, file, 0, "no policy or no buffer");
	if (len > KVMXD_FILE_MAX) {
		conf_error(err, file, 0, "larger than %d bytes",
			   KVMXD_FILE_MAX);
		return -EFBIG;
	}
	nr_before = pol->nr;
	files_before = pol->nr_files;
	p.file = keep_file(pol, file);
	if (!p.file) {
		conf_error(err, file, 0, "out of memory");
		return -ENOMEM;
	}
	while (pos < len && !ret) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		p.line++;
		if (llen > KVMXD_LINE_MAX)
			ret = conf_error(err, file, p.line,
					 "the line is longer than %d bytes",
					 KVMXD_LINE_MAX);
		else
			ret = parse_line(&p, buf + pos, llen);
		pos += llen + 1;
	}
	if (ret) {
		/* As before the call. */
		pol->nr = nr_before;
		while (pol->nr_files > files_before)
			free(pol->files[--pol->nr_files]);
	}
	return ret;
}

int kvmxd_policy_parse_file(struct kvmxd_policy *pol, const char *path,
			    bool missing_ok, struct kvmxd_conf_err *err)
{
	struct stat st;
	size_t len = 0, cap;
	char *buf;
	ssize_t got;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && missing_ok)
			return 0;
		conf_error(err, path, 0, "%s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		conf_error(err, path, 0, "%s", strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return conf_error(err, path, 0, "not a regular file");
	}
	if (st.st_size > KVMXD_FILE_MAX) {
		close(fd);
		conf_error(err, path, 0, "larger than %d bytes",
			   KVMXD_FILE_MAX);
		return -EFBIG;
	}
	/* A byte more than its size, to see a file that grew meanwhile. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	for (;;) {
		if (buf && len == cap && cap <= KVMXD_FILE_MAX) {
			char *n = realloc(buf, KVMXD_FILE_MAX + 1);

			if (!n)
				free(buf);
			buf = n;
			cap = KVMXD_FILE_MAX + 1;
		}
		if (!buf) {
			close(fd);
			conf_error(err, path, 0, "out of memory");
			return -ENOMEM;
		}
		if (len == cap)
			break;
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			free(buf);
			close(fd);
			conf_error(err, path, 0, "%s", strerror(-ret));
			return ret;
		}
		if (!got)
			break;
		len += got;
	}
	close(fd);
	ret = kvmxd_policy_parse(pol, path, buf, len, err);
	free(buf);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The *.conf names in @dir, sorted, in *@names: their count (0 if there is
 * no @dir), or -errno.
 */
static int list_dir(const char *dir, char ***names,
		    struct kvmxd_conf_err *err)
{
	char **v = NULL, **n;
	unsigned int nr = 0, i;
	struct dirent *de;
	DIR *d;
	int ret;

	d = opendir(dir);
	if (!d) {
		ret = -errno;
		if (ret == -ENOENT)
			return 0;	/* no directory: no files */
		conf_error(err, dir, 0, "%s", strerror(-ret));
		return ret;
	}
	for (;;) {
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			ret = -errno;
			if (!ret)
				break;
			conf_error(err, dir, 0, "%s", strerror(-ret));
			goto fail;
		}
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".conf"))
			continue;
		if (nr >= KVMXD_FILES_MAX) {
			ret = conf_error(err, dir, 0,
					 "more than %d .conf files",
					 KVMXD_FILES_MAX);
			goto fail;
		}
		n = realloc(v, (nr + 1) * sizeof(*v));
		if (n) {
			v = n;
			v[nr] = strdup(de->d_name);
		}
		if (!n || !v[nr]) {
			conf_error(err, dir, 0, "out of memory");
			ret = -ENOMEM;
			goto fail;
		}
		nr++;
	}
	closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_names);
	*names = v;
	return (int)nr;
fail:
	closedir(d);
	for (i = 0; i < nr; i++)
		free(v[i]);
	free(v);
	return ret;
}

struct kvmxd_policy *kvmxd_policy_load(const char *conf, const char *dir,
				       struct kvmxd_conf_err *err)
{
	struct kvmxd_policy *pol = kvmxd_policy_new();
	char **names = NULL, path[PATH_MAX];
	int i, nr = 0, ret = 0;

	if (err) {
		err->line = 0;
		err->text[0] = 0;
	}
	if (!pol) {
		conf_error(err, conf ? conf : dir ? dir : "(config)", 0,
			   "out of memory");
		return NULL;
	}
	if (conf)
		ret = kvmxd_policy_parse_file(pol, conf, true, err);
	if (!ret && dir) {
		nr = list_dir(dir, &names, err);
		if (nr < 0)
			ret = nr;
	}
	for (i = 0; !ret && i < nr; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     names[i]) >= sizeof(path))
			ret = conf_error(err, dir, 0, "%s: path too long",
					 names[i]);
		else
			ret = kvmxd_policy_parse_file(pol, path, false, err);
	}
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	if (ret) {
		kvmxd_policy_free(pol);
		return NULL;
	}
	return pol;
}

/* ------------------------------------------------------------------ */
/* QEMU command lines */

struct arg {
	const char *s;
	size_t len;
};

/* The argument at *@pos of @buf, NUL-separated; false past the end. */
static bool next_arg(const char *buf, size_t len, size_t *pos, struct arg *a)
{
	const char *nul;

	if (*pos >= len)
		return false;
	a->s = buf + *pos;
	nul = memchr(a->s, 0, len - *pos);
	a->len = nul ? (size_t)(nul - a->s) : len - *pos;
	*pos += a->len + 1;
	return true;
}

enum qemu_opt { OPT_NAME, OPT_UUID, OPT_QMP, OPT_MON, OPT_CHARDEV };

static const struct {
	const char *name;
	enum qemu_opt opt;
} qemu_opts[] = {
	{ "name", OPT_NAME },
	{ "uuid", OPT_UUID },
	{ "qmp", OPT_QMP },
	{ "qmp-pretty", OPT_QMP },
	{ "mon", OPT_MON },
	{ "chardev", OPT_CHARDEV },
};

/*
 * The next of the options above in a command line, as -OPT or --OPT, and
 * its value, the argument after it; false at the end. Other arguments are
 * passed over one at a time: an argument of another option that is
 * exactly "-name" (say) is taken for that option.
 */
static bool next_opt(const char *buf, size_t len, size_t *pos,
		     enum qemu_opt *opt, struct arg *val)
{
	struct arg a;
	size_t i;

	while (next_arg(buf, len, pos, &a)) {
		size_t off = a.len > 1 && a.s[1] == '-' ? 2 : 1;

		if (a.len <= off || a.s[0] != '-')
			continue;
		for (i = 0; i < ARRAY_SIZE(qemu_opts); i++) {
			const char *name = qemu_opts[i].name;

			if (a.len - off == strlen(name) &&
			    !memcmp(a.s + off, name, a.len - off))
				break;
		}
		if (i == ARRAY_SIZE(qemu_opts))
			continue;
		if (!next_arg(buf, len, pos, val))
			return false;
		*opt = qemu_opts[i].opt;
		return true;
	}
	return false;
}

/* Past the program's name, to the first option. */
static size_t first_opt(const char *buf, size_t len)
{
	size_t pos = 0;
	struct arg a;

	next_arg(buf, len, &pos, &a);
	return pos;
}

/*
 * A value of a QEMU option string, from @pos to the first ',' that is not
 * ",,", unescaped into @out (@size bytes) unless it does not fit, which
 * *@fits says. Returns the position of that ',' or of the end.
 */
static size_t opt_value(const char *s, size_t len, size_t pos, char *out,
			size_t size, bool *fits)
{
	size_t o = 0;

	*fits = true;
	while (pos < len) {
		if (s[pos] == ',') {
			if (pos + 1 >= len || s[pos + 1] != ',')
				break;
			pos++;
		}
		if (o + 1 < size)
			out[o++] = s[pos];
		else
			*fits = false;
		pos++;
	}
	if (size)
		out[o] = 0;
	return pos;
}

#define OPT_FIRST	0x1	/* the first of several @key wins (QEMU's id) */

/*
 * Look up @key in a QEMU option string (QemuOpts: "key=value,flag,nokey"),
 * whose first element is the value of @implied if it has no '=' ("-name
 * web1" is guest=web1). A flag "key" is "on", "nokey" is "off". The last
 * @key wins unless OPT_FIRST. 1 with the value in @out, 0 if absent, -1 if
 * it does not fit in @size bytes.
 */
static int opt_get(const char *s, size_t len, const char *implied,
		   const char *key, unsigned int flags, char *out,
		   size_t size)
{
	size_t klen = strlen(key), pos = 0, nlen;
	bool fits, match;
	int ret = 0;

	while (pos < len) {
		for (nlen = 0; pos + nlen < len && s[pos + nlen] != '=' &&
		     s[pos + nlen] != ','; nlen++)
			;
		if (pos + nlen < len && s[pos + nlen] == '=') {
			/* key=value */
			match = nlen == klen && !memcmp(s + pos, key, klen);
			pos = opt_value(s, len, pos + nlen + 1,
					match ? out : NULL, match ? size : 0,
					&fits);
		} else if (!pos && implied) {
			/* The first element, of the implied key. */
			match = !strcmp(implied, key);
			pos = opt_value(s, len, pos, match ? out : NULL,
					match ? size : 0, &fits);
		} else {
			/* A flag, "key" or "nokey". */
			const char *name = s + pos, *v = "on";
			size_t n = nlen;

			if (n >= 2 && !memcmp(name, "no", 2)) {
				name += 2;
				n -= 2;
				v = "off";
			}
			match = n == klen && !memcmp(name, key, klen);
			fits = strlen(v) < size;
			if (match && fits)
				memcpy(out, v, strlen(v) + 1);
			pos += nlen;
		}
		if (match) {
			ret = fits ? 1 : -1;
			if (flags & OPT_FIRST)
				return ret;
		}
		if (pos < len)
			pos++;		/* the ',' */
	}
	return ret;
}

/* A QEMU boolean: on, yes, true or y, as QEMU's qapi_bool_parse(). */
static bool opt_on(const char *s, size_t len, const char *implied,
		   const char *key)
{
	char v[8];

	if (opt_get(s, len, implied, key, 0, v, sizeof(v)) != 1)
		return false;
	return !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
	       !strcmp(v, "y");
}

/*
 * A unix socket that QEMU listens on, from socket options @s (after
 * "unix:", whose first element is the path, or of a -chardev socket): its
 * path in @id, or the descriptor QEMU got it on. True if @id got one.
 */
static bool qmp_socket(struct kvmxd_vm_id *id, const char *s, size_t len,
		       const char *implied)
{
	char v[KVMXD_QMP_PATH_MAX + 1];
	char *end;
	long fd;

	/* Without server=on QEMU connects to a socket someone else serves. */
	if (!opt_on(s, len, implied, "server") ||
	    opt_on(s, len, implied, "abstract"))
		return false;
	switch (opt_get(s, len, implied, "path", 0, v, sizeof(v))) {
	case 1:
		if (!v[0])
			return false;
		memcpy(id->qmp_path, v, strlen(v) + 1);
		return true;
	case -1:
		return false;	/* too long to connect to */
	}
	if (opt_get(s, len, implied, "fd", 0, v, sizeof(v)) == 1 &&
	    v[0] >= '0' && v[0] <= '9') {
		errno = 0;
		fd = strtol(v, &end, 10);
		if (!errno && !*end && fd <= INT_MAX) {
			id->qmp_fd = (int)fd;
			return true;
		}
	}
	return false;
}

/* The QMP socket of -chardev @chr, if it is a unix socket QEMU serves. */
static bool qmp_chardev(struct kvmxd_vm_id *id, const char *buf, size_t len,
			const char *chr)
{
	char v[KVMXD_NAME_MAX + 1];
	size_t pos = first_opt(buf, len);
	enum qemu_opt opt;
	struct arg val;

	while (next_opt(buf, len, &pos, &opt, &val)) {
		if (opt != OPT_CHARDEV ||
		    opt_get(val.s, val.len, NULL, "id", OPT_FIRST, v,
			    sizeof(v)) != 1 || strcmp(v, chr))
			continue;
		/* QEMU refuses a second chardev of one id: this is it. */
		if (opt_get(val.s, val.len, "backend", "backend", 0, v,
			    sizeof(v)) != 1 || strcmp(v, "socket"))
			return false;
		return qmp_socket(id, val.s, val.len, "backend");
	}
	return false;
}

/* How many monitors are looked at, at most, for a QMP socket. */
#define QMP_MONITORS_MAX	16

/* -qmp VALUE: "unix:PATH,server=on,..." or "chardev:ID". */
static bool qmp_opt(struct kvmxd_vm_id *id, const char *buf, size_t len,
		    const struct arg *val)
{
	char v[KVMXD_NAME_MAX + 1];

	if (val->len > 5 && !memcmp(val->s, "unix:", 5))
		return qmp_socket(id, val->s + 5, val->len - 5, "path");
	if (val->len > 8 && !memcmp(val->s, "chardev:", 8) &&
	    val->len - 8 < sizeof(v)) {
		memcpy(v, val->s + 8, val->len - 8);
		v[val->len - 8] = 0;
		return qmp_chardev(id, buf, len, v);
	}
	return false;	/* tcp:, stdio and the like */
}

/* -mon [chardev=]ID,mode=control: QMP on -chardev ID. */
static bool mon_opt(struct kvmxd_vm_id *id, const char *buf, size_t len,
		    const struct arg *val, bool look)
{
	char v[KVMXD_NAME_MAX + 1];

	if (opt_get(val->s, val->len, "chardev", "mode", 0, v,
		    sizeof(v)) != 1 || strcmp(v, "control"))
		return false;
	if (opt_get(val->s, val->len, "chardev", "chardev", 0, v,
		    sizeof(v)) != 1)
		return false;
	/* libvirt's QMP monitor has had this id since libvirt 0.8. */
	if (!strcmp(v, "charmonitor"))
		id->libvirt = true;
	return look && qmp_chardev(id, buf, len, v);
}

int kvmxd_vm_id_parse(struct kvmxd_vm_id *id, const char *cmdline,
		      size_t len)
{
	char v[KVMXD_NAME_MAX + 1];
	unsigned int monitors = 0;
	bool have_qmp = false;
	enum qemu_opt opt;
	struct arg val;
	size_t pos;
	int ret;

	if (!id)
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	id->qmp_fd = -1;
	if (!cmdline || !len)
		return -EINVAL;
	pos = first_opt(cmdline, len);
	while (next_opt(cmdline, len, &pos, &opt, &val)) {
		bool look = !have_qmp && monitors < QMP_MONITORS_MAX;

		switch (opt) {
		case OPT_NAME:
			/* -name options merge: the last guest= wins. */
			ret = opt_get(val.s, val.len, "guest", "guest", 0, v,
				      sizeof(v));
			if (ret > 0)
				memcpy(id->name, v, strlen(v) + 1);
			else if (ret < 0)
				id->name[0] = 0;
			break;
		case OPT_UUID:
			if (!parse_uuid(val.s, val.len, id->uuid))
				id->uuid[0] = 0;
			break;
		case OPT_QMP:
			if (look) {
				monitors++;
				have_qmp = qmp_opt(id, cmdline, len, &val);
			}
			break;
		case OPT_MON:
			if (look)
				monitors++;
			if (mon_opt(id, cmdline, len, &val, look))
				have_qmp = true;
			break;
		case OPT_CHARDEV:
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Matching */

const struct kvmxd_section *kvmxd_policy_match(const struct kvmxd_policy *pol,
					       const struct kvmxd_vm_id *id)
{
	const struct kvmxd_section *sec = NULL;
	char uuid[KVMXD_UUID_LEN + 1];

	if (!pol || !id)
		return NULL;
	/* Lower case, in case the caller filled @id in itself. */
	if (parse_uuid(id->uuid, strnlen(id->uuid, sizeof(id->uuid)), uuid))
		sec = find(pol, pol->nr, KVMXD_UUID, uuid);
	if (!sec && id->libvirt && id->name[0])
		sec = find(pol, pol->nr, KVMXD_LIBVIRT, id->name);
	if (!sec && id->name[0])
		sec = find(pol, pol->nr, KVMXD_VM, id->name);
	if (!sec)
		sec = find(pol, pol->nr, KVMXD_DEFAULT, "");
	return sec;
}
