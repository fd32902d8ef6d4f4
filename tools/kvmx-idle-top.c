// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx-idle-top: a live view, like top, of the idle_tax state of every VM.
 *
 * usage: kvmx-idle-top [--interval MS] [--count N | --once] [--root DIR]
 *
 * Every interval (default 1000 ms, 100..3600000) it reads sysfs (ROOT
 * defaults to /sys/kernel/kvmx) and prints one frame:
 *   - a header line: the time, the host memory state and available memory
 *     (ROOT/memstate/state, available_bytes), the tax rate and the pool
 *     (ROOT/idle_tax/tax_rate, pool_bytes; a pool of 0 is "auto"); a
 *     missing file shows "-";
 *   - one row for each VM directory ROOT/vms/VMID that has an idle_tax/
 *     subdirectory, sorted by VMID (pid, then VM number): pid and
 *     memory_bytes from ROOT/vms/VMID/, shares, active_permille (shown as
 *     percent, "-" before the first sample), rho (shares per GiB, "inf"
 *     for a VM without memory), min_bytes, max_bytes, target_bytes,
 *     resident_bytes, balloon_actual_bytes ("-" for 0: no balloon report)
 *     and reclaimed_bytes from ROOT/vms/VMID/idle_tax/;
 *   - a totals line: the sums of target, resident and reclaimed.
 * Sizes are in MiB, rounded to the nearest; a value that is not a number
 * shows "?". A VM whose files cannot be read (it is exiting) is left out.
 *
 * On a terminal the screen is cleared before each frame; otherwise frames
 * are separated by a blank line, so the output can be logged.
 *
 *   kvmx-idle-top                    refresh every second until ^C
 *   kvmx-idle-top --once >state.txt  one frame
 *
 * Exit status: 0 after --count frames or on SIGINT/SIGTERM; 1 when ROOT/vms
 * cannot be read (kvmx_core not loaded) or output fails; 2 for usage errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG			"kvmx-idle-top"
#define DEFAULT_ROOT		"/sys/kernel/kvmx"
#define DEFAULT_INTERVAL_MS	1000
#define MIN_INTERVAL_MS		100
#define MAX_INTERVAL_MS		3600000
#define VALUE_LEN		64	/* longest sysfs value kept, with NUL */
#define CELL_LEN		32
#define ID_LEN			CELL_LEN	/* longer names are no VM ids */
#define CLEAR_SCREEN		"\033[H\033[2J"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#include "kvmx_tool.h"

enum col_id {
	C_VM, C_PID, C_SHARES, C_F, C_RHO, C_SIZE, C_MIN, C_MAX, C_TARGET,
	C_RESIDENT, C_BALLOON, C_RECLAIMED, NR_COLS
};

/* Column titles and widths; the VM id is left aligned, the rest right. */
static const struct {
	const char *title;
	int width;
} cols[NR_COLS] = {
	[C_VM]		= { "VM",		11 },
	[C_PID]		= { "PID",		7 },
	[C_SHARES]	= { "SHARES",		7 },
	[C_F]		= { "F",		6 },
	[C_RHO]		= { "RHO",		10 },
	[C_SIZE]	= { "SIZE",		7 },
	[C_MIN]		= { "MIN",		7 },
	[C_MAX]		= { "MAX",		7 },
	[C_TARGET]	= { "TARGET",		7 },
	[C_RESIDENT]	= { "RESIDENT",		8 },
	[C_BALLOON]	= { "BALLOON",		7 },
	[C_RECLAIMED]	= { "RECLAIMED",	9 },
};

enum kind {
	K_INT,		/* pid */
	K_U32,		/* shares */
	K_PERMILLE,	/* 0..1000 shown as percent, or "-" */
	K_RHO,		/* decimal, "inf" (no memory) or "-" */
	K_MIB,		/* bytes shown in MiB */
	K_MIB_SET,	/* the same, "-" for 0 */
};

/* The files of one VM, relative to ROOT/vms/VMID. */
static const struct {
	const char *file;
	enum col_id col;
	enum kind kind;
} vm_files[] = {
	{ "pid",				C_PID,		K_INT },
	{ "memory_bytes",			C_SIZE,		K_MIB },
	{ "idle_tax/shares",			C_SHARES,	K_U32 },
	{ "idle_tax/active_permille",		C_F,		K_PERMILLE },
	{ "idle_tax/rho",			C_RHO,		K_RHO },
	{ "idle_tax/min_bytes",			C_MIN,		K_MIB },
	{ "idle_tax/max_bytes",			C_MAX,		K_MIB },
	{ "idle_tax/target_bytes",		C_TARGET,	K_MIB },
	{ "idle_tax/resident_bytes",		C_RESIDENT,	K_MIB },
	{ "idle_tax/balloon_actual_bytes",	C_BALLOON,	K_MIB_SET },
	{ "idle_tax/reclaimed_bytes",		C_RECLAIMED,	K_MIB },
};

struct vm_row {
	char id[ID_LEN];
	bool numeric;			/* id is PID-NUMBER */
	unsigned long long id_pid, id_nr;
	char cell[NR_COLS][CELL_LEN];
	unsigned long long bytes[NR_COLS];
	bool has_bytes[NR_COLS];	/* bytes[] holds a value */
};

struct table {
	struct vm_row *rows;
	size_t nr, size;
};

static const char *root = DEFAULT_ROOT;

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--interval MS] [--count N | --once] [--root DIR]\n"
		"Shows the idle_tax state of every VM in ROOT/vms, refreshed every\n"
		"MS milliseconds (default %d, %d..%d), N times or until\n"
		"interrupted. ROOT defaults to " DEFAULT_ROOT ". Sizes are in MiB.\n",
		DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
}

/* ------------------------------------------------------------------ */
/* Values */

/*
 * Read the file ROOT/@rel into @buf, without trailing white space. A value
 * too long for @buf comes back empty (so it shows as bad). 0, or -1 if
 * the file cannot be read.
 */
static int read_value(const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	size_t len = 0;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len == size - 1) {
			char extra;

			if (read(fd, &extra, 1) > 0)
				len = 0;	/* too long */
			n = 0;
			break;
		}
	}
	close(fd);
	if (n < 0)
		return -1;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return 0;
}

static bool parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* Copy @text into a cell, cut to fit. */
static void set_cell(char *cell, const char *text)
{
	size_t n = strnlen(text, CELL_LEN - 1);

	memcpy(cell, text, n);
	cell[n] = '\0';
}

/* Bytes to MiB, rounded to the nearest. */
static unsigned long long mib(unsigned long long bytes)
{
	return (bytes >> 20) + ((bytes >> 19) & 1);
}

/* A word such as a state name or "0.750": printable, no blanks, short. */
static bool is_word(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return i > 0 && i < CELL_LEN;
}

/* Digits with an optional fraction, e.g. "1000.000". */
static bool is_decimal(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = strspn(s, "0123456789");

	if (!n)
		return false;
	if (!dot)
		return !s[n];
	return s + n == dot && dot[1] && !dot[1 + strspn(dot + 1, "0123456789")];
}

/* Format @text of @kind into @cell; the bytes for K_MIB* in @bytes. */
static bool format_cell(char *cell, const char *text, enum kind kind,
			unsigned long long *bytes)
{
	unsigned long long v;

	switch (kind) {
	case K_INT:
		if (!parse_u64(text, &v) || v > INT_MAX)
			break;
		snprintf(cell, CELL_LEN, "%llu", v);
		return false;
	case K_U32:
		if (!parse_u64(text, &v) || v > 0xffffffffULL)
			break;
		snprintf(cell, CELL_LEN, "%llu", v);
		return false;
	case K_PERMILLE:
		if (!strcmp(text, "-")) {
			set_cell(cell, "-");
			return false;
		}
		if (!parse_u64(text, &v) || v > 1000)
			break;
		snprintf(cell, CELL_LEN, "%llu.%llu%%", v / 10, v % 10);
		return false;
	case K_RHO:
		if (!strcmp(text, "-") || !strcmp(text, "inf")) {
			set_cell(cell, text);
			return false;
		}
		if (!is_decimal(text))
			break;
		if (strlen(text) <= (size_t)cols[C_RHO].width) {
			set_cell(cell, text);
		} else {
			double d = strtod(text, NULL);

			/* too wide: drop the fraction, or go to e-notation */
			if (d < 1e10)
				snprintf(cell, CELL_LEN, "%.0f", d);
			else
				snprintf(cell, CELL_LEN, "%.3g", d);
		}
		return false;
	case K_MIB:
	case K_MIB_SET:
		if (!parse_u64(text, &v))
			break;
		*bytes = v;
		if (kind == K_MIB_SET && !v)
			set_cell(cell, "-");
		else
			snprintf(cell, CELL_LEN, "%llu", mib(v));
		return true;
	}
	set_cell(cell, "?");
	return false;
}

/* ------------------------------------------------------------------ */
/* VMs */

/* Split "PID-NUMBER" for sorting. */
static bool parse_id(const char *id, unsigned long long *pid,
		     unsigned long long *nr)
{
	const char *dash = strchr(id, '-');
	char *end;

	if (!dash || id[0] < '0' || id[0] > '9' || dash[1] < '0' ||
	    dash[1] > '9')
		return false;
	errno = 0;
	*pid = strtoull(id, &end, 10);
	if (errno || end != dash)
		return false;
	*nr = strtoull(dash + 1, &end, 10);
	return !errno && !*end;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct vm_row *a = pa, *b = pb;

	if (a->numeric != b->numeric)
		return a->numeric ? -1 : 1;
	if (a->numeric) {
		if (a->id_pid != b->id_pid)
			return a->id_pid < b->id_pid ? -1 : 1;
		if (a->id_nr != b->id_nr)
			return a->id_nr < b->id_nr ? -1 : 1;
	}
	return strcmp(a->id, b->id);
}

/*
 * Fill @r for VM @id. false if the VM has no idle_tax state or one of its
 * files cannot be read (the VM is going away).
 */
static bool read_vm(const char *id, struct vm_row *r)
{
	char path[PATH_MAX], rel[PATH_MAX], text[VALUE_LEN];
	struct stat st;
	size_t i;

	snprintf(path, sizeof(path), "%s/vms/%s/idle_tax", root, id);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return false;
	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, strlen(id) + 1);	/* shorter than ID_LEN */
	r->numeric = parse_id(id, &r->id_pid, &r->id_nr);
	set_cell(r->cell[C_VM], id);
	for (i = 0; i < ARRAY_SIZE(vm_files); i++) {
		enum col_id c = vm_files[i].col;

		snprintf(rel, sizeof(rel), "vms/%s/%s", id, vm_files[i].file);
		if (read_value(rel, text, sizeof(text)))
			return false;
		r->has_bytes[c] = format_cell(r->cell[c], text,
					      vm_files[i].kind, &r->bytes[c]);
	}
	return true;
}

/* Read every VM into @t, sorted. -1 (reported) if ROOT/vms is unreadable. */
static int read_vms(struct table *t)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	t->nr = 0;
	snprintf(path, sizeof(path), "%s/vms", root);
	dir = opendir(path);
	if (!dir) {
		msg("cannot read %s: %s (is kvmx_core loaded?)", path,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= ID_LEN)
			continue;
		if (t->nr == t->size) {
			size_t size = t->size ? 2 * t->size : 16;
			struct vm_row *rows;

			rows = realloc(t->rows, size * sizeof(*rows));
			if (!rows) {
				msg("out of memory");
				closedir(dir);
				return -1;
			}
			t->rows = rows;
			t->size = size;
		}
		if (read_vm(de->d_name, &t->rows[t->nr]))
			t->nr++;
	}
	closedir(dir);
	qsort(t->rows, t->nr, sizeof(*t->rows), cmp_rows);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output */

static void print_cells(char cell[NR_COLS][CELL_LEN])
{
	int c;

	printf("%-*s", cols[C_VM].width, cell[C_VM]);
	for (c = C_VM + 1; c < NR_COLS; c++)
		printf(" %*s", cols[c].width, cell[c]);
	putchar('\n');
}

/* A global value as a word, or "-" if missing, "?" if not a word. */
static void global_word(const char *rel, char *out)
{
	char text[VALUE_LEN];

	if (read_value(rel, text, sizeof(text)))
		set_cell(out, "-");
	else
		set_cell(out, is_word(text) ? text : "?");
}

/* A global byte count in MiB ("N MiB"), "-" if missing, "?" if bad. */
static void global_mib(const char *rel, char *out, const char *zero)
{
	char text[VALUE_LEN];
	unsigned long long v;

	if (read_value(rel, text, sizeof(text)))
		set_cell(out, "-");
	else if (!parse_u64(text, &v))
		set_cell(out, "?");
	else if (!v && zero)
		set_cell(out, zero);
	else
		snprintf(out, CELL_LEN, "%llu MiB", mib(v));
}

static void print_header(size_t nr)
{
	char clock[16], state[CELL_LEN], avail[CELL_LEN], rate[CELL_LEN];
	char pool[CELL_LEN];
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) ||
	    !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		snprintf(clock, sizeof(clock), "--:--:--");
	global_word("memstate/state", state);
	global_mib("memstate/available_bytes", avail, NULL);
	global_word("idle_tax/tax_rate", rate);
	global_mib("idle_tax/pool_bytes", pool, "auto");
	printf(PROG " %s  memory %s  available %s  tax rate %s  pool %s  VMs %zu  sizes in MiB\n",
	       clock, state, avail, rate, pool, nr);
}

static void print_table(const struct table *t)
{
	static const enum col_id summed[] = { C_TARGET, C_RESIDENT,
					      C_RECLAIMED };
	char cell[NR_COLS][CELL_LEN];
	unsigned long long sum;
	size_t i, j;
	int c;

	for (c = 0; c < NR_COLS; c++)
		snprintf(cell[c], CELL_LEN, "%s", cols[c].title);
	print_cells(cell);
	for (i = 0; i < t->nr; i++)
		print_cells(t->rows[i].cell);

	memset(cell, 0, sizeof(cell));
	set_cell(cell[C_VM], "total");
	for (j = 0; j < ARRAY_SIZE(summed); j++) {
		c = summed[j];
		sum = 0;
		for (i = 0; i < t->nr; i++)
			if (t->rows[i].has_bytes[c])
				sum += t->rows[i].bytes[c];
		snprintf(cell[c], CELL_LEN, "%llu", mib(sum));
	}
	print_cells(cell);
}

/* One frame. -1 (reported) if ROOT/vms is unreadable or output failed. */
static int show_frame(struct table *t, bool tty, bool first)
{
	if (read_vms(t))
		return -1;
	if (tty)
		fputs(CLEAR_SCREEN, stdout);
	else if (!first)
		putchar('\n');
	print_header(t->nr);
	print_table(t);
	if (fflush(stdout) || ferror(stdout)) {
		msg("writing the output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait until @deadline (now_ms() time); true if SIGINT or SIGTERM came. */
static bool wait_for_signal(const sigset_t *sigs, long long deadline)
{
	struct timespec ts;
	long long left;

	while ((left = deadline - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = left % 1000 * 1000000;
		if (sigtimedwait(sigs, NULL, &ts) > 0)
			return true;
		/* EAGAIN: the time is up; EINTR: stopped and continued */
	}
	return false;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long count = 0, shown = 0;	/* count 0: no limit */
	long interval = DEFAULT_INTERVAL_MS;
	struct table t = { NULL, 0, 0 };
	long long start;
	sigset_t sigs;
	int c, status = 0;
	bool tty;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			interval = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end ||
			    interval < MIN_INTERVAL_MS ||
			    interval > MAX_INTERVAL_MS)
				return bad_usage("--interval: %s is not %d..%d ms",
						 optarg, MIN_INTERVAL_MS,
						 MAX_INTERVAL_MS);
			break;
		case 'c':
			if (!parse_u64(optarg, &count) || !count)
				return bad_usage("--count: %s is not a positive number",
						 optarg);
			break;
		case 'o':
			count = 1;
			break;
		case 'r':
			if (!*optarg)
				return bad_usage("--root: empty directory");
			if (strlen(optarg) > PATH_MAX / 2)
				return bad_usage("--root: path too long");
			root = optarg;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case ':':
			return bad_usage("%s needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument %s", argv[optind]);

	/* taken by sigtimedwait() between frames */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	tty = isatty(STDOUT_FILENO);
	/* a frame goes out in one piece */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	for (;;) {
		start = now_ms();
		if (show_frame(&t, tty, !shown)) {
			status = 1;
			break;
		}
		shown++;
		if (count && shown >= count)
			break;
		if (wait_for_signal(&sigs, start + interval))
			break;
	}
	free(t.rows);
	return status;
}
