/*
 * kvmx-fill - memory workload for kvmx tests and benchmarks.
 *
 * Fills memory (or a file) with deterministic page contents, optionally
 * keeps rewriting part of it, and verifies it later.  The expected content
 * of every 4096-byte page is a pure function of (pattern, seed, page index,
 * generation), so verification needs no stored copy; only one u32
 * generation counter per page is kept, in private malloc'ed memory.
 *
 * Page layout for the "shared" and "unique" kinds: word 0 holds the page
 * index, word 1 holds a magic in the upper and the generation in the lower
 * 32 bits, the remaining words come from a splitmix64 stream keyed by the
 * tuple.  "shared" ignores the seed so equal sizes give equal pages across
 * processes and guests.  With --subpage K a rewrite only changes 64-byte
 * blocks 0..K-1; blocks K..63 keep their generation-0 content.
 *
 * Build: gcc -O2 -Wall -Wextra -static -o kvmx-fill kvmx-fill.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SZ		4096UL
#define PAGE_WORDS	(PAGE_SZ / 8)
#define BLOCK_WORDS	8		/* 64-byte blocks */
#define NBLOCKS		(PAGE_WORDS / BLOCK_WORDS)
#define ALIGN_2M	(2UL << 20)
#define MAX_REPORT	10
#define TICKS_PER_SEC	50		/* rewrite batches per second */
#define HDR_MAGIC	0x6b766d78ULL	/* "kvmx" */
#define GOLDEN		0x9e3779b97f4a7c15ULL
#define SALT_SHARED	0x5348415245440000ULL
#define SALT_UNIQUE	0x554e495155450000ULL

enum kind { K_ZERO, K_SHARED, K_UNIQUE };
enum mode { M_HOLD, M_FILE, M_VERIFY_FILE, M_SELFTEST };

struct cfg {
	uint64_t size, npages, seed;
	uint64_t zero_end, shared_end;	/* [0,zero_end) zero, then shared */
	unsigned int pct[3];		/* zero, shared, unique percentages */
	bool have_pattern, mergeable, kvm, have_reseed;
	uint64_t reseed;		/* SIGUSR2: the content of this seed */
	int thp;			/* 1: MADV_HUGEPAGE, -1: NOHUGEPAGE */
	uint64_t rate;			/* rewrites per second */
	unsigned int frac, subpage;
	double duration;
	const char *ready, *status, *path;
};

static volatile sig_atomic_t got_stop, got_usr1, got_usr2;
static bool quiet;			/* selftest: no MISMATCH lines */

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("kvmx-fill: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static enum kind page_kind(const struct cfg *c, uint64_t page)
{
	if (page < c->zero_end)
		return K_ZERO;
	return page < c->shared_end ? K_SHARED : K_UNIQUE;
}

/* Key of the splitmix64 stream for one (kind, seed, page, gen) tuple. */
static uint64_t stream_key(const struct cfg *c, enum kind k, uint64_t page,
			   uint32_t gen)
{
	uint64_t key;

	if (k == K_SHARED)
		key = SALT_SHARED;
	else
		key = SALT_UNIQUE ^ mix64(c->seed + GOLDEN);
	key = mix64(key + GOLDEN * (page + 1));
	return mix64(key ^ (GOLDEN * ((uint64_t)gen + 1)));
}

/* Words w0..w0+n-1 of @page as if the whole page were at generation @gen. */
static void gen_words(const struct cfg *c, uint64_t page, uint32_t gen,
		      unsigned int w0, unsigned int n, uint64_t *out)
{
	enum kind k = page_kind(c, page);
	uint64_t key;
	unsigned int i, w;

	if (k == K_ZERO) {
		memset(out, 0, n * sizeof(*out));
		return;
	}
	key = stream_key(c, k, page, gen);
	for (i = 0; i < n; i++) {
		w = w0 + i;
		if (w == 0)
			out[i] = page;
		else if (w == 1)
			out[i] = HDR_MAGIC << 32 | gen;
		else
			out[i] = mix64(key + GOLDEN * (w + 1));
	}
}

/* Full expected content: blocks < subpage at @gen, the rest at gen 0. */
static void expect_page(const struct cfg *c, uint64_t page, uint32_t gen,
			uint64_t *out)
{
	unsigned int split = gen ? c->subpage * BLOCK_WORDS : PAGE_WORDS;

	gen_words(c, page, gen, 0, split, out);
	if (split < PAGE_WORDS)
		gen_words(c, page, 0, split, PAGE_WORDS - split, out + split);
}

/* Returns -1 if @mem holds the expected page, else first bad offset. */
static long check_page(const struct cfg *c, uint64_t page, uint32_t gen,
		       const void *mem)
{
	uint64_t exp[PAGE_WORDS];
	const unsigned char *a = mem, *b = (const unsigned char *)exp;
	long i;

	expect_page(c, page, gen, exp);
	if (!memcmp(mem, exp, PAGE_SZ))
		return -1;
	for (i = 0; a[i] == b[i]; i++)
		;
	return i;
}

static void note(uint64_t page, uint32_t gen, long off, uint64_t *mism)
{
	if (off < 0)
		return;
	if ((*mism)++ < MAX_REPORT && !quiet)
		fprintf(stderr, "MISMATCH page=%" PRIu64 " gen=%" PRIu32
			" offset=%ld\n", page, gen, off);
}

static uint64_t verify_mem(const struct cfg *c, const unsigned char *mem,
			   const uint32_t *gens)
{
	uint64_t p, mism = 0;
	uint32_t g;

	for (p = 0; p < c->npages; p++) {
		g = gens ? gens[p] : 0;
		note(p, g, check_page(c, p, g, mem + p * PAGE_SZ), &mism);
	}
	return mism;
}

static void fill_mem(const struct cfg *c, unsigned char *mem)
{
	uint64_t p;

	for (p = 0; p < c->npages; p++)
		expect_page(c, p, 0, (uint64_t *)(mem + p * PAGE_SZ));
}

static bool rewrite_page(const struct cfg *c, unsigned char *mem,
			 uint32_t *gens, uint64_t p)
{
	if (page_kind(c, p) == K_ZERO)
		return false;
	gens[p]++;
	gen_words(c, p, gens[p], 0, c->subpage * BLOCK_WORDS,
		  (uint64_t *)(mem + p * PAGE_SZ));
	return true;
}

static bool parse_u64(const char *s, uint64_t *out, char **end)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &e, 10);
	if (errno)
		return false;
	if (end)
		*end = e;
	return end || !*e;
}

static bool parse_size(const char *s, uint64_t *out)
{
	static const char sfx[] = "KkMmGg";
	unsigned int shift = 0;
	const char *p;
	uint64_t v;
	char *e;

	if (!parse_u64(s, &v, &e))
		return false;
	if (*e) {
		p = strchr(sfx, *e);
		if (!p || e[1])
			return false;
		shift = 10 * (1 + (p - sfx) / 2);
	}
	if (v > (UINT64_MAX >> shift))
		return false;
	v <<= shift;
	if (!v || v % PAGE_SZ || v > SIZE_MAX - ALIGN_2M)
		return false;
	*out = v;
	return true;
}

static bool parse_pattern(const char *s, unsigned int pct[3])
{
	uint64_t v, sum = 0;
	char *e;
	int i;

	memset(pct, 0, 3 * sizeof(*pct));
	if (!strcmp(s, "zero") || !strcmp(s, "shared") ||
	    !strcmp(s, "unique")) {
		pct[s[0] == 'z' ? 0 : s[0] == 's' ? 1 : 2] = 100;
		return true;
	}
	if (strncmp(s, "mixed:", 6))
		return false;
	s += 6;
	for (i = 0; i < 3; i++) {
		if (!parse_u64(s, &v, &e) || v > 100)
			return false;
		if (*e != (i < 2 ? ',' : '\0'))
			return false;
		pct[i] = v;
		sum += v;
		s = e + 1;
	}
	return sum == 100;
}

static void set_layout(struct cfg *c)
{
	c->npages = c->size / PAGE_SZ;
	c->zero_end = c->npages * c->pct[0] / 100;
	c->shared_end = c->npages * (c->pct[0] + c->pct[1]) / 100;
}

static void write_atomic(const char *path, const char *line)
{
	char tmp[4096];
	size_t len = strlen(line);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len ||
	    close(fd) || rename(tmp, path)) {
		fprintf(stderr, "kvmx-fill: cannot write %s: %s\n", path,
			strerror(errno));
		unlink(tmp);
	}
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_stop = 1;
}

static uint64_t report(const struct cfg *c, const unsigned char *mem,
		       const uint32_t *gens, uint64_t rewrites)
{
	uint64_t mism = verify_mem(c, mem, gens);
	char line[160];

	snprintf(line, sizeof(line), "VERIFY pages=%" PRIu64 " mismatches=%"
		 PRIu64 " rewrites=%" PRIu64 "\n", c->npages, mism, rewrites);
	fputs(line, stdout);
	fflush(stdout);
	if (c->status)
		write_atomic(c->status, line);
	return mism;
}

static unsigned char *map_aligned(uint64_t size)
{
	size_t len = size + ALIGN_2M, head, tail;
	unsigned char *raw, *mem;

	raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap of %zu bytes failed: %s", len, strerror(errno));
	mem = (unsigned char *)(((uintptr_t)raw + ALIGN_2M - 1) &
				~(uintptr_t)(ALIGN_2M - 1));
	head = mem - raw;
	tail = len - head - size;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(mem + size, tail);
	return mem;
}

/*
 * --kvm: stand in for a VM. Create a KVM VM (no vCPUs) whose memslot 0 is
 * the workload's memory, so that kvmx can attach this process like QEMU.
 * The descriptors stay open until exit.
 */
static void become_vm(void *mem, uint64_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("cannot open /dev/kvm: %s", strerror(errno));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM failed: %s", strerror(errno));
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION failed: %s", strerror(errno));
}

static int do_hold(struct cfg *c)
{
	uint64_t rewrites = 0, done = 0, cand, target, p, rng;
	struct sigaction sa = { .sa_handler = on_signal };
	double t, t0, base;
	unsigned char *mem;
	uint32_t *gens;
	char line[128];

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (c->have_reseed)
		sigaction(SIGUSR2, &sa, NULL);

	gens = calloc(c->npages, sizeof(*gens));
	if (!gens)
		die("cannot allocate generation array");
	mem = map_aligned(c->size);
	if (c->mergeable && madvise(mem, c->size, MADV_MERGEABLE))
		die("madvise(MADV_MERGEABLE) failed: %s", strerror(errno));
	if (c->thp && madvise(mem, c->size, c->thp > 0 ? MADV_HUGEPAGE :
			      MADV_NOHUGEPAGE))
		die("madvise(%s) failed: %s", c->thp > 0 ? "MADV_HUGEPAGE" :
		    "MADV_NOHUGEPAGE", strerror(errno));
	fill_mem(c, mem);
	if (c->kvm)
		become_vm(mem, c->size);

	snprintf(line, sizeof(line), "READY pages=%" PRIu64 " pid=%d\n",
		 c->npages, (int)getpid());
	fputs(line, stdout);
	fflush(stdout);
	if (c->ready)
		write_atomic(c->ready, line);

	cand = (c->npages - c->zero_end) * c->frac / 100;
	if (!cand && c->frac && c->npages > c->zero_end)
		cand = 1;
	rng = mix64(c->seed ^ 0x7265777269746500ULL);
	t0 = base = now_sec();
	while (!got_stop) {
		struct timespec ts = { 0, 1000000000L / TICKS_PER_SEC };

		if (got_usr2) {
			/* Rewrite every page with the content of --reseed. */
			got_usr2 = 0;
			c->seed = c->reseed;
			memset(gens, 0, c->npages * sizeof(*gens));
			fill_mem(c, mem);
			snprintf(line, sizeof(line), "RESEEDED seed=%" PRIu64
				 "\n", c->seed);
			fputs(line, stdout);
			fflush(stdout);
			if (c->ready)
				write_atomic(c->ready, line);
			continue;
		}
		if (got_usr1) {
			got_usr1 = 0;
			report(c, mem, gens, rewrites);
			base = now_sec();
			done = 0;
			continue;
		}
		t = now_sec();
		if (c->duration > 0 && t - t0 >= c->duration)
			break;
		if (c->rate && cand) {
			target = (uint64_t)((t - base) * (double)c->rate);
			if (target > done + c->rate) {
				/* more than a second behind: drop backlog */
				base = t;
				done = 0;
				target = c->rate / TICKS_PER_SEC;
			}
			for (; done < target; done++) {
				rng += GOLDEN;
				p = c->zero_end + mix64(rng) % cand;
				rewrites += rewrite_page(c, mem, gens, p);
			}
		}
		if (c->duration > 0 && c->duration - (t - t0) < 1.0 /
		    TICKS_PER_SEC)
			ts.tv_nsec = (long)((c->duration - (t - t0)) * 1e9);
		nanosleep(&ts, NULL);
	}
	return report(c, mem, gens, rewrites) ? 1 : 0;
}

static ssize_t io_full(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (wr)
			n = write(fd, (char *)buf + done, len - done);
		else
			n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int do_file(const struct cfg *c, bool verify)
{
	uint64_t buf[PAGE_WORDS], p, mism = 0;
	ssize_t n;
	int fd;

	fd = open(c->path, verify ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC,
		  0644);
	if (fd < 0)
		die("cannot open %s: %s", c->path, strerror(errno));
	for (p = 0; p < c->npages; p++) {
		if (!verify) {
			expect_page(c, p, 0, buf);
			if (io_full(fd, buf, PAGE_SZ, true) != PAGE_SZ)
				die("write to %s failed: %s", c->path,
				    strerror(errno));
			continue;
		}
		n = io_full(fd, buf, PAGE_SZ, false);
		if (n < 0)
			die("read from %s failed: %s", c->path,
			    strerror(errno));
		if (n < (ssize_t)PAGE_SZ)	/* short file */
			note(p, 0, n, &mism);
		else
			note(p, 0, check_page(c, p, 0, buf), &mism);
	}
	if (close(fd))
		die("close of %s failed: %s", c->path, strerror(errno));
	if (!verify)
		return 0;
	printf("VERIFY pages=%" PRIu64 " mismatches=%" PRIu64 " rewrites=0\n",
	       c->npages, mism);
	return mism ? 1 : 0;
}

static int nchecks, nfailed;

static void check(bool ok, int line)
{
	nchecks++;
	nfailed += !ok;
	if (!ok)
		printf("selftest: check at line %d failed\n", line);
}

#define CHECK(cond) check((cond), __LINE__)

static struct cfg test_cfg(const char *pattern, uint64_t seed,
			   unsigned int subpage)
{
	struct cfg c = { .size = 64 * PAGE_SZ, .seed = seed, .frac = 100,
			 .subpage = subpage };

	parse_pattern(pattern, c.pct);
	set_layout(&c);
	return c;
}

static int selftest(void)
{
	/* each of these is neither a valid size nor a valid pattern */
	static const char *const bad[] = {
		"0", "4097", "abc", "-4096", "4KB", "", "1T", "99999999999G",
		"nope", "Zero", "mixed:50,50,10", "mixed:50,50", "mixed:",
		"mixed:50,50,0,0", "mixed:a,50,50", "mixed:101,0,0",
	};
	uint64_t pa[PAGE_WORDS], pb[PAGE_WORDS], v, rng;
	unsigned int pct[3], sp, i, j;
	unsigned char *mem;
	uint32_t gens[64];
	struct cfg a, b;
	bool ok;

	quiet = true;
	CHECK(parse_size("4096", &v) && v == 4096);
	CHECK(parse_size("8K", &v) && v == 8192);
	CHECK(parse_size("2M", &v) && v == 2UL << 20);
	CHECK(parse_size("1g", &v) && v == 1UL << 30);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(!parse_size(bad[i], &v) && !parse_pattern(bad[i], pct));
	CHECK(parse_pattern("mixed:25,50,25", pct) && pct[0] == 25 &&
	      pct[1] == 50 && pct[2] == 25);
	a = test_cfg("mixed:25,50,25", 7, 64);
	CHECK(a.zero_end == 16 && a.shared_end == 48);
	a = test_cfg("mixed:50,50,0", 7, 64);
	CHECK(a.shared_end == 64);

	a = test_cfg("zero", 1, 64);
	expect_page(&a, 3, 0, pa);
	memset(pb, 0, sizeof(pb));
	CHECK(!memcmp(pa, pb, PAGE_SZ));

	/* shared ignores the seed, carries page and gen in its header */
	a = test_cfg("shared", 1, 64);
	b = test_cfg("shared", 2, 64);
	expect_page(&a, 5, 3, pa);
	expect_page(&b, 5, 3, pb);
	CHECK(!memcmp(pa, pb, PAGE_SZ));
	CHECK(pa[0] == 5 && (uint32_t)pa[1] == 3);
	expect_page(&b, 5, 4, pb);
	CHECK(memcmp(pa + 2, pb + 2, PAGE_SZ - 16));

	/* unique depends on the seed, is deterministic, no two pages equal */
	a = test_cfg("unique", 1, 64);
	b = test_cfg("unique", 2, 64);
	expect_page(&a, 5, 0, pa);
	expect_page(&b, 5, 0, pb);
	CHECK(memcmp(pa + 2, pb + 2, PAGE_SZ - 16));
	expect_page(&a, 5, 0, pb);
	CHECK(!memcmp(pa, pb, PAGE_SZ));
	ok = true;
	for (i = 0; i < 64; i++) {
		expect_page(&a, i, 0, pa);
		for (j = i + 1; j < 64; j++) {
			expect_page(&a, j, 0, pb);
			ok &= memcmp(pa + 2, pb + 2, PAGE_SZ - 16) != 0;
		}
	}
	CHECK(ok);

	/* --subpage 4: blocks 0..3 change, blocks 4..63 keep gen 0 */
	a = test_cfg("unique", 9, 4);
	expect_page(&a, 7, 0, pa);
	expect_page(&a, 7, 1, pb);
	CHECK(!memcmp(pa + 32, pb + 32, PAGE_SZ - 256));
	for (i = 0; i < 4; i++)
		CHECK(memcmp(pa + i * 8 + 2, pb + i * 8 + 2, 48));

	mem = aligned_alloc(PAGE_SZ, 64 * PAGE_SZ);
	if (!mem)
		die("selftest: out of memory");
	for (sp = 1; sp <= NBLOCKS; sp = sp < NBLOCKS ? sp * 4 : sp + 1) {
		a = test_cfg("mixed:25,50,25", 11, sp);
		memset(gens, 0, sizeof(gens));
		fill_mem(&a, mem);
		CHECK(verify_mem(&a, mem, gens) == 0);
		for (i = 0, rng = 1; i < 500; i++) {
			rng = mix64(rng + GOLDEN);
			rewrite_page(&a, mem, gens, rng % 64);
		}
		CHECK(gens[3] == 0 && gens[40] > 0);
		CHECK(verify_mem(&a, mem, gens) == 0);
		mem[20 * PAGE_SZ + 1234] ^= 0x40;
		CHECK(verify_mem(&a, mem, gens) == 1);
		CHECK(check_page(&a, 20, gens[20], mem + 20 * PAGE_SZ) == 1234);
		mem[20 * PAGE_SZ + 1234] ^= 0x40;
		memcpy(mem + 31 * PAGE_SZ, mem + 30 * PAGE_SZ, PAGE_SZ);
		CHECK(check_page(&a, 31, gens[31], mem + 31 * PAGE_SZ) == 0);
		fill_mem(&a, mem);
		memset(gens, 0, sizeof(gens));
		gens[50] = 1;	/* stale generation is caught by the header */
		CHECK(check_page(&a, 50, 1, mem + 50 * PAGE_SZ) == 8);
		mem[2 * PAGE_SZ + 4095] = 1;
		CHECK(verify_mem(&a, mem, gens) == 2);
	}
	free(mem);
	printf("selftest: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed ? 1 : 0;
}

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  kvmx-fill hold --size SIZE --pattern P [--seed N] [--mergeable] [--kvm]\n"
	      "            [--thp|--nothp] [--rewrite-rate PAGES_PER_SEC]\n"
	      "            [--rewrite-frac PCT] [--subpage K] [--duration SEC]\n"
	      "            [--ready-file PATH] [--status-file PATH] [--reseed N]\n"
	      "            [--name guest=NAME] (ignored: a QEMU-like -name for kvmxd)\n"
	      "  kvmx-fill file PATH --size SIZE --pattern P [--seed N]\n"
	      "  kvmx-fill verify-file PATH --size SIZE --pattern P [--seed N]\n"
	      "  kvmx-fill selftest\n"
	      "SIZE: bytes or K/M/G suffix, multiple of 4096\n"
	      "P: zero | shared | unique | mixed:Z,S,U (percent, sum 100)\n"
	      "SIGUSR1 verifies now; SIGTERM/SIGINT verify and exit.\n"
	      "With --reseed N, SIGUSR2 rewrites every page with the content of\n"
	      "seed N (the ready file then says RESEEDED).\n", f);
}

static uint64_t parse_num(const char *val, const char *opt, uint64_t lo,
			  uint64_t hi)
{
	uint64_t v;

	if (!parse_u64(val, &v, NULL) || v < lo || v > hi)
		die("bad value '%s' for --%s (%" PRIu64 "..%" PRIu64 ")",
		    val, opt, lo, hi);
	return v;
}

enum {
	O_SIZE, O_PATTERN, O_SEED, O_RATE, O_FRAC, O_SUBPAGE, O_DURATION,
	O_RESEED, O_READY, O_STATUS, O_NAME, O_MERGEABLE, O_KVM, O_THP, O_NOTHP,
	O_COUNT
};

static const char *const opt_names[O_COUNT] = {
	"size", "pattern", "seed", "rewrite-rate", "rewrite-frac", "subpage",
	"duration", "reseed", "ready-file", "status-file", "name", "mergeable",
	"kvm", "thp", "nothp",
};

static void parse_opts(struct cfg *c, enum mode mode, int argc, char **argv)
{
	char *a, *val, *e;
	int i, o;

	for (i = 2; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2)) {
			if (mode == M_HOLD || c->path)
				die("unexpected argument '%s'", a);
			c->path = a;
			continue;
		}
		a += 2;
		val = strchr(a, '=');
		if (val)
			*val++ = '\0';
		for (o = 0; o < O_COUNT && strcmp(a, opt_names[o]); o++)
			;
		if (o == O_COUNT)
			die("unknown option --%s", a);
		if (o > O_SEED && mode != M_HOLD)
			die("option --%s is only valid for hold", a);
		if (o >= O_MERGEABLE && val)
			die("option --%s takes no value", a);
		if (o < O_MERGEABLE && !val && i + 1 >= argc)
			die("option --%s needs a value", a);
		if (o < O_MERGEABLE && !val)
			val = argv[++i];
		if (o == O_SIZE && !parse_size(val, &c->size))
			die("bad size '%s' (positive multiple of 4096, "
			    "optional K/M/G suffix)", val);
		else if (o == O_PATTERN && !parse_pattern(val, c->pct))
			die("unknown pattern '%s' (zero, shared, unique or "
			    "mixed:Z,S,U summing to 100)", val);
		else if (o == O_SEED)
			c->seed = parse_num(val, a, 0, UINT64_MAX);
		else if (o == O_RATE)
			c->rate = parse_num(val, a, 0, UINT32_MAX);
		else if (o == O_FRAC)
			c->frac = parse_num(val, a, 0, 100);
		else if (o == O_RESEED) {
			c->reseed = parse_num(val, a, 0, UINT64_MAX);
			c->have_reseed = true;
		} else if (o == O_SUBPAGE)
			c->subpage = parse_num(val, a, 1, NBLOCKS);
		else if (o == O_READY)
			c->ready = val;
		else if (o == O_STATUS)
			c->status = val;
		else if (o == O_MERGEABLE)
			c->mergeable = true;
		else if (o == O_KVM)
			c->kvm = true;
		else if (o >= O_THP && c->thp)
			die("--thp and --nothp are exclusive");
		else if (o >= O_THP)
			c->thp = o == O_THP ? 1 : -1;
		if (o == O_PATTERN)
			c->have_pattern = true;
		if (o != O_DURATION)
			continue;
		errno = 0;
		c->duration = strtod(val, &e);
		if (errno || e == val || *e || !(c->duration >= 0))
			die("bad duration '%s'", val);
	}
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {
		[M_HOLD] = "hold", [M_FILE] = "file",
		[M_VERIFY_FILE] = "verify-file", [M_SELFTEST] = "selftest",
	};
	struct cfg c = { .frac = 100, .subpage = NBLOCKS };
	unsigned int mode;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (mode = 0; mode <= M_SELFTEST && strcmp(argv[1], modes[mode]);)
		mode++;
	if (mode > M_SELFTEST)
		die("unknown mode '%s' (try --help)", argv[1]);
	if (mode == M_SELFTEST && argc > 2)
		die("selftest takes no arguments");
	if (mode == M_SELFTEST)
		return selftest();
	parse_opts(&c, mode, argc, argv);
	if (mode != M_HOLD && !c.path)
		die("%s needs a PATH", argv[1]);
	if (!c.size || !c.have_pattern)
		die("--size and --pattern are required");
	set_layout(&c);
	if (mode == M_HOLD)
		return do_hold(&c);
	return do_file(&c, mode == M_VERIFY_FILE);
}
