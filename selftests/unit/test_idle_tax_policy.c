// SPDX-License-Identifier: GPL-2.0
/* Userspace unit tests of idle_tax/idle_tax_policy.c. */
#include <stdio.h>
#include <string.h>
#include "idle_tax_policy.h"

#include "unit_tap.h"

#define ONE	IDLE_TAX_FRAC_ONE
#define PG	IDLE_TAX_PAGE_SIZE
#define MIB	(1024ULL * 1024)
#define GIB	(1024ULL * MIB)
#define TIB	(1024ULL * GIB)

/* ------------------------------------------------------------------ */
/* A page by page reference, written from the definitions. */

/*
 * c = f + k * (1 - f) with f = active / 2^16 and k = 1000 / (1000 - tau),
 * times 2^16 * (1000 - tau), which is the same for every VM.
 */
static unsigned __int128 ref_cost(u32 active, unsigned int tau)
{
	unsigned __int128 f = active, k_num = 1000, k_den = 1000 - tau;

	return f * k_den + k_num * (ONE - f);
}

/* rho(a at pa) < rho(b at pb), exactly: S_a / (pa c_a) < S_b / (pb c_b) */
static int ref_rho_less(const struct idle_tax_vm *a, u64 pa,
			const struct idle_tax_vm *b, u64 pb, unsigned int tau)
{
	return (unsigned __int128)a->shares * pb * ref_cost(b->active, tau) <
	       (unsigned __int128)b->shares * pa * ref_cost(a->active, tau);
}

static u64 ref_up(u64 bytes)
{
	return (bytes + PG - 1) / PG;
}

/* Targets in pages, as the greedy of the OSDI paper: one page at a time. */
static int ref_allocate(const struct idle_tax_vm *v, int nr, u64 total_bytes,
			unsigned int tau, u64 *p)
{
	u64 total = total_bytes / PG, sum = 0, sum_min = 0;
	int i, best;

	for (i = 0; i < nr; i++) {
		u64 lo = ref_up(v[i].min_bytes), hi = v[i].max_bytes / PG;

		p[i] = ref_up(v[i].cur_bytes);
		if (p[i] < lo)
			p[i] = lo;
		if (p[i] > hi)
			p[i] = hi;
		sum += p[i];
		sum_min += lo;
	}
	if (sum_min > total) {
		for (i = 0; i < nr; i++)
			p[i] = ref_up(v[i].min_bytes);
		return -ENOSPC;
	}
	/* revoke from the lowest rho; on ties the later VM gives */
	while (sum > total) {
		best = -1;
		for (i = 0; i < nr; i++) {
			if (p[i] <= ref_up(v[i].min_bytes))
				continue;
			if (best < 0 ||
			    !ref_rho_less(&v[best], p[best], &v[i], p[i], tau))
				best = i;
		}
		p[best]--;
		sum--;
	}
	/* grant to the highest rho after the grant; ties to the earlier VM */
	while (sum < total) {
		best = -1;
		for (i = 0; i < nr; i++) {
			if (p[i] >= v[i].max_bytes / PG)
				continue;
			if (best < 0 ||
			    ref_rho_less(&v[best], p[best] + 1, &v[i], p[i] + 1,
					 tau))
				best = i;
		}
		if (best < 0)
			break;
		p[best]++;
		sum++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* uniform-ish in [0, n] */
static u64 upto(u64 n)
{
	return n == ~0ULL ? rnd() : rnd() % (n + 1);
}

static struct idle_tax_vm mkvm(u32 shares, u32 active, u64 cur, u64 min,
			       u64 max)
{
	struct idle_tax_vm vm = {
		.shares = shares, .active = active, .cur_bytes = cur,
		.min_bytes = min, .max_bytes = max, .target_bytes = 12345,
	};

	return vm;
}

static u64 sum_targets(const struct idle_tax_vm *v, int nr)
{
	u64 s = 0;
	int i;

	for (i = 0; i < nr; i++)
		s += v[i].target_bytes;
	return s;
}

static int diff_pages(u64 a, u64 b)
{
	return (int)((a > b ? a - b : b - a) / PG);
}

/* One revocation round for simulations: active VMs fault in @grow bytes. */
static void demand_round(struct idle_tax_vm *v, int nr, u64 total,
			 unsigned int tau, u64 grow)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (v[i].active > ONE / 2)
			v[i].cur_bytes += grow;
		if (v[i].cur_bytes > v[i].max_bytes)
			v[i].cur_bytes = v[i].max_bytes;
	}
	idle_tax_allocate(v, nr, total, tau);
	for (i = 0; i < nr; i++)
		v[i].cur_bytes = v[i].target_bytes;
}

static void test_tax_rate(void)
{
	CHECK(idle_tax_k(750) == 4 * ONE, "tau 0.75 gives k = 4 exactly");
	CHECK(idle_tax_k(0) == ONE, "tau 0 gives k = 1");
	CHECK(idle_tax_k(500) == 2 * ONE, "tau 0.5 gives k = 2");
	CHECK(idle_tax_k(999) == 1000 * ONE, "tau 0.999 gives k = 1000");
	CHECK(idle_tax_k(900) == 655360, "tau 0.9 gives k = 10");
	CHECK(idle_tax_k(1000) == 0 && idle_tax_k(~0U) == 0,
	      "k of an invalid tau is 0");
	CHECK(idle_tax_tau_check(0) == 0 && idle_tax_tau_check(999) == 0 &&
	      idle_tax_tau_check(750) == 0, "tau 0, 750, 999 are valid");
	CHECK(idle_tax_tau_check(1000) == -ERANGE, "tau 1000: ERANGE");
	CHECK(idle_tax_tau_check(1LL << 40) == -ERANGE, "huge tau: ERANGE");
	CHECK(idle_tax_tau_check(-1) == -EINVAL, "negative tau: EINVAL");
}

static void test_active(void)
{
	struct idle_tax_ewma_cfg cfg = idle_tax_ewma_default, bad;
	struct idle_tax_active a;
	u32 before;
	int i, ok;

	CHECK(idle_tax_ewma_check(&cfg) == 0 &&
	      cfg.fast_alpha == ONE / 2 && cfg.slow_alpha == 6554,
	      "default weights are 0.5 and 0.1 and valid");
	bad = cfg;
	bad.fast_alpha = 0;
	CHECK(idle_tax_ewma_check(&bad) == -EINVAL, "zero weight: EINVAL");
	bad = cfg;
	bad.slow_alpha = ONE + 1;
	CHECK(idle_tax_ewma_check(&bad) == -ERANGE, "weight above 1: ERANGE");

	idle_tax_active_init(&a);
	CHECK(idle_tax_active_frac(&a) == ONE,
	      "before any sample a VM counts as fully active");
	CHECK(idle_tax_active_sample(&a, NULL, 30, 100) == 0 &&
	      a.fast == 19661 && a.slow == 19661 &&
	      idle_tax_active_frac(&a) == 19661,
	      "first sample (30 of 100) sets both averages to 0.3");

	idle_tax_active_init(&a);
	idle_tax_active_sample(&a, &cfg, 0, 100);
	idle_tax_active_sample(&a, &cfg, 100, 100);
	CHECK(a.fast == ONE / 2 && a.slow == 6554 &&
	      idle_tax_active_frac(&a) == ONE / 2,
	      "a jump to 1.0 moves fast to 0.5 and slow to 0.1; f = fast");
	for (i = 0; i < 4; i++)
		idle_tax_active_sample(&a, &cfg, 100, 100);
	CHECK(a.fast > 62000 && a.slow < 30000,
	      "after 5 busy periods fast is near 1, slow still low");
	for (i = 0; i < 100; i++)
		idle_tax_active_sample(&a, &cfg, 100, 100);
	CHECK(a.fast == ONE && a.slow == ONE,
	      "a steady input is reached exactly by both averages");
	idle_tax_active_sample(&a, &cfg, 0, 100);
	CHECK(a.fast == ONE / 2 && a.slow == ONE - 6554 &&
	      idle_tax_active_frac(&a) == ONE - 6554,
	      "going idle: fast halves, slow keeps 0.9, f = slow");
	for (i = 0; i < 5; i++)
		idle_tax_active_sample(&a, &cfg, 0, 100);
	CHECK(a.fast < 1100 && idle_tax_active_frac(&a) == a.slow &&
	      a.slow > 30000,
	      "idle for 6 periods: fast near 0, f still remembers (slow)");
	ok = 1;
	before = idle_tax_active_frac(&a);
	for (i = 0; i < 200; i++) {
		u32 f;

		idle_tax_active_sample(&a, &cfg, 0, 100);
		f = idle_tax_active_frac(&a);
		ok &= f <= before;
		before = f;
	}
	CHECK(ok && idle_tax_active_frac(&a) == 0,
	      "f decays monotonically to exactly 0");

	idle_tax_active_init(&a);
	CHECK(idle_tax_active_sample_permille(&a, NULL, 250) == 0 &&
	      idle_tax_active_frac(&a) == ONE / 4, "250 per mille is 0.25");
	CHECK(idle_tax_active_sample_permille(&a, NULL, 1000) == 0 &&
	      a.fast == ONE / 4 + (3 * ONE / 4) / 2,
	      "per mille samples feed the same averages");
	before = a.fast;
	CHECK(idle_tax_active_sample_permille(&a, NULL, 1001) == -ERANGE &&
	      a.fast == before, "1001 per mille: ERANGE, state unchanged");
	CHECK(idle_tax_active_sample(&a, NULL, 1, 0) == -EINVAL &&
	      idle_tax_active_sample(&a, NULL, 0, 0) == -EINVAL &&
	      a.fast == before, "no pages sampled: EINVAL");
	CHECK(idle_tax_active_sample(&a, NULL, 11, 10) == -EINVAL,
	      "more touched than sampled: EINVAL");
	CHECK(idle_tax_active_sample(NULL, NULL, 1, 10) == -EINVAL,
	      "NULL state: EINVAL");
	bad = cfg;
	bad.slow_alpha = 0;
	CHECK(idle_tax_active_sample(&a, &bad, 1, 10) == -EINVAL &&
	      a.fast == before, "bad weights: EINVAL, state unchanged");
	idle_tax_active_init(&a);
	CHECK(idle_tax_active_sample(&a, NULL, 0xffffffffU, 0xffffffffU) ==
	      0 && idle_tax_active_frac(&a) == ONE,
	      "largest counts do not overflow");
	idle_tax_active_init(&a);
	idle_tax_active_sample(&a, NULL, 1, 3);
	CHECK(a.fast == 21845, "1 of 3 rounds to nearest (21845)");

	cfg.fast_alpha = ONE;
	cfg.slow_alpha = 1;
	idle_tax_active_init(&a);
	idle_tax_active_sample(&a, &cfg, 0, 10);
	idle_tax_active_sample(&a, &cfg, 7, 10);
	CHECK(a.fast == 45875 && a.slow == 1,
	      "weight 1.0 follows the sample, the smallest weight crawls");
}

static void test_rho(void)
{
	u64 r, r2;

	CHECK(idle_tax_rho(1, PG, ONE, 750) == 1ULL << 42,
	      "one share on one active page is 1 << 42");
	CHECK(idle_tax_rho(1, PG, 0, 750) == 1ULL << 40,
	      "idle at tau 0.75 costs 4: rho / 4");
	CHECK(idle_tax_rho(1, PG, 0, 0) == 1ULL << 42 &&
	      idle_tax_rho(1, PG, ONE, 0) == 1ULL << 42,
	      "tau 0: idle and active pages cost the same");
	CHECK(idle_tax_rho(1000, 1000 * PG, ONE / 2, 0) ==
	      idle_tax_rho(1, PG, ONE / 2, 0),
	      "shares and pages scale together");
	CHECK(idle_tax_rho(3, PG, ONE / 2, 750) == 3 * (1ULL << 42) * 2 / 5,
	      "f 0.5 at tau 0.75: cost 2.5");
	CHECK(idle_tax_rho(1, 1, ONE, 750) == idle_tax_rho(1, PG, ONE, 750),
	      "a partial page counts as a page");
	CHECK(idle_tax_rho(5, 0, ONE, 750) == IDLE_TAX_RHO_INFINITE,
	      "no memory: infinitely valuable");
	CHECK(idle_tax_rho(0, PG, ONE, 750) == 0, "no shares: rho 0");
	r = idle_tax_rho(IDLE_TAX_SHARES_MAX, PG, ONE, 999);
	CHECK(r == (u64)IDLE_TAX_SHARES_MAX << 42 && r < IDLE_TAX_RHO_INFINITE,
	      "a million shares on one page fits (%llu)",
	      (unsigned long long)r);
	r = idle_tax_rho(1, 16 * TIB, 0, 999);
	CHECK(r >= 1, "one share on 16 TiB at tau 0.999, idle: still >= 1 (%llu)",
	      (unsigned long long)r);
	r2 = idle_tax_rho(1, 16 * TIB, ONE, 999);
	CHECK(r2 > 1000 * r - 1000 && r2 < 1000 * r + 1000,
	      "... and 1000 times that when active");
	r = idle_tax_rho(IDLE_TAX_SHARES_MAX, 16 * TIB, 0, 0);
	CHECK(r == ((u64)IDLE_TAX_SHARES_MAX << 42) / (4ULL << 30),
	      "a million shares on 16 TiB, tau 0: exact (%llu)",
	      (unsigned long long)r);
	r = idle_tax_rho(IDLE_TAX_SHARES_MAX, 16 * TIB, 0, 999);
	CHECK(r == ((u64)IDLE_TAX_SHARES_MAX << 42) / (4ULL << 30) / 1000,
	      "a million shares on 16 TiB, idle at tau 0.999: exact (%llu)",
	      (unsigned long long)r);
	r = idle_tax_rho(7, ~0ULL, ONE / 3, 500);
	r2 = idle_tax_rho(7, 1ULL << 60, ONE / 3, 500);
	CHECK(r <= r2 && r2 <= idle_tax_rho(7, 16 * TIB, ONE / 3, 500),
	      "beyond 16 TiB rho keeps falling and nothing overflows");
	CHECK(idle_tax_rho(~0U, PG, ONE, 999) == IDLE_TAX_RHO_INFINITE - 1,
	      "out-of-range shares saturate below infinite");
	CHECK(idle_tax_rho(1, PG, ONE + 7, 5000) == idle_tax_rho(1, PG, ONE, 999),
	      "out-of-range f and tau are clamped");
	CHECK(idle_tax_rho(2, 8 * GIB, ONE, 750) > idle_tax_rho(1, 8 * GIB, ONE, 750) &&
	      idle_tax_rho(1, 4 * GIB, ONE, 750) > idle_tax_rho(1, 8 * GIB, ONE, 750) &&
	      idle_tax_rho(1, 8 * GIB, ONE, 750) > idle_tax_rho(1, 8 * GIB, 100, 750),
	      "rho rises with shares and activity, falls with memory");
}

static void test_allocate_cases(void)
{
	struct idle_tax_vm v[4], w[4];
	u64 t0_idle, t0_active;
	int i, err, ok;

	/* tau 0: pure shares */
	v[0] = mkvm(1000, 0, 8 * GIB, 0, 8 * GIB);
	v[1] = mkvm(1000, ONE, 8 * GIB, 0, 8 * GIB);
	err = idle_tax_allocate(v, 2, 8 * GIB, 0);
	CHECK(err == 0 && v[0].target_bytes == 4 * GIB &&
	      v[1].target_bytes == 4 * GIB,
	      "tau 0, equal shares, one idle: equal targets (4 + 4 GiB)");
	t0_idle = v[0].target_bytes;
	t0_active = v[1].target_bytes;

	/* tau 0.75: the idle VM pays: idle = active / 4, 1.6 + 6.4 GiB */
	v[0] = mkvm(1000, 0, 8 * GIB, 0, 8 * GIB);
	v[1] = mkvm(1000, ONE, 8 * GIB, 0, 8 * GIB);
	err = idle_tax_allocate(v, 2, 8 * GIB, 750);
	CHECK(err == 0 && v[0].target_bytes < t0_idle &&
	      v[1].target_bytes > t0_active &&
	      sum_targets(v, 2) == 8 * GIB,
	      "tau 0.75: the idle VM loses memory to the active one");
	CHECK(diff_pages(v[1].target_bytes, 8 * GIB / 5 * 4) <= 1 &&
	      diff_pages(v[0].target_bytes, 8 * GIB / 5) <= 1,
	      "tau 0.75: split is 4:1 (active %llu MiB, idle %llu MiB)",
	      (unsigned long long)(v[1].target_bytes / MIB),
	      (unsigned long long)(v[0].target_bytes / MIB));

	/* demand-driven rounds: the active VM keeps faulting, the idle not */
	v[0] = mkvm(1000, 0, 3 * GIB, 0, 8 * GIB);
	v[1] = mkvm(1000, ONE, 3 * GIB, 0, 8 * GIB);
	for (i = 0; i < 40; i++)
		demand_round(v, 2, 6 * GIB, 750, 256 * MIB);
	CHECK(diff_pages(v[1].target_bytes, 6 * GIB / 5 * 4) <= 1 &&
	      diff_pages(v[0].target_bytes, 6 * GIB / 5) <= 1,
	      "rounds of demand move idle memory to the active VM (4:1)");

	/* shares 2:1, both active */
	v[0] = mkvm(2000, ONE, 4 * GIB, 0, 4 * GIB);
	v[1] = mkvm(1000, ONE, 4 * GIB, 0, 4 * GIB);
	err = idle_tax_allocate(v, 2, 3 * GIB, 750);
	CHECK(err == 0 && v[0].target_bytes == 2 * GIB &&
	      v[1].target_bytes == GIB, "shares 2:1, both active: 2 + 1 GiB");
	v[0] = mkvm(2000, ONE, GIB / 2, 0, 4 * GIB);
	v[1] = mkvm(1000, ONE, 5 * GIB / 2, 0, 4 * GIB);
	for (i = 0; i < 40; i++)
		demand_round(v, 2, 3 * GIB, 750, 128 * MIB);
	CHECK(diff_pages(v[0].target_bytes, 2 * GIB) <= 1 &&
	      diff_pages(v[1].target_bytes, GIB) <= 1,
	      "shares 2:1 from a 1:5 start converge to 2:1 under demand");
	v[0] = mkvm(2000, ONE / 2, 4 * GIB, 0, 4 * GIB);
	v[1] = mkvm(1000, ONE / 2, 4 * GIB, 0, 4 * GIB);
	idle_tax_allocate(v, 2, 3 * GIB, 750);
	CHECK(v[0].target_bytes == 2 * GIB && v[1].target_bytes == GIB,
	      "shares 2:1 at equal activity: still 2:1");

	/* min and max */
	v[0] = mkvm(1000, 0, 8 * GIB, 3 * GIB, 8 * GIB);
	v[1] = mkvm(1000, ONE, 8 * GIB, 0, 8 * GIB);
	idle_tax_allocate(v, 2, 8 * GIB, 750);
	CHECK(v[0].target_bytes == 3 * GIB && v[1].target_bytes == 5 * GIB,
	      "the idle VM stops at its min (3 GiB)");
	v[0] = mkvm(1000, ONE, GIB, 0, 2 * GIB);
	v[1] = mkvm(1000, 0, GIB, 0, 8 * GIB);
	idle_tax_allocate(v, 2, 8 * GIB, 750);
	CHECK(v[0].target_bytes == 2 * GIB && v[1].target_bytes == 6 * GIB,
	      "surplus: grants stop at max, the rest goes on");
	v[0] = mkvm(1000, ONE, GIB, 0, 2 * GIB);
	v[1] = mkvm(1000, 0, GIB, 0, 2 * GIB);
	idle_tax_allocate(v, 2, 100 * GIB, 750);
	CHECK(v[0].target_bytes == 2 * GIB && v[1].target_bytes == 2 * GIB,
	      "plenty of memory: every VM gets its max");
	v[0] = mkvm(1000, ONE, GIB, 0, 4 * GIB);
	v[1] = mkvm(1000, 0, GIB, 0, 4 * GIB);
	idle_tax_allocate(v, 2, 4 * GIB, 750);
	CHECK(v[0].target_bytes == 3 * GIB && v[1].target_bytes == GIB,
	      "surplus is granted, never taken: the idle VM keeps its 1 GiB");
	v[0] = mkvm(1000, ONE, GIB / 2, 0, 4 * GIB);
	v[1] = mkvm(1000, 0, GIB / 2, 0, 4 * GIB);
	idle_tax_allocate(v, 2, 4 * GIB, 750);
	CHECK(v[0].target_bytes == 16 * GIB / 5 / PG * PG + PG &&
	      v[1].target_bytes == 4 * GIB - v[0].target_bytes,
	      "surplus goes to the highest rho first: 4:1 (%llu + %llu pages)",
	      (unsigned long long)(v[0].target_bytes / PG),
	      (unsigned long long)(v[1].target_bytes / PG));
	v[0] = mkvm(1000, ONE, 9 * GIB, GIB, 4 * GIB);
	v[1] = mkvm(1000, ONE, 0, GIB, 4 * GIB);
	idle_tax_allocate(v, 2, 100 * GIB, 750);
	CHECK(v[0].target_bytes == 4 * GIB && v[1].target_bytes == 4 * GIB,
	      "current above max is cut to max; below min raised to min");
	v[0] = mkvm(1000, ONE, 9 * GIB, GIB, 4 * GIB);
	v[1] = mkvm(1000, ONE, 0, GIB, 4 * GIB);
	idle_tax_allocate(v, 2, 5 * GIB, 750);
	CHECK(v[0].target_bytes == 4 * GIB && v[1].target_bytes == GIB,
	      "... and that holds when the total fits exactly");

	/* P = 0 */
	v[0] = mkvm(1, 0, 0, 0, 4 * GIB);
	v[1] = mkvm(1000000, ONE, 4 * GIB, 0, 4 * GIB);
	idle_tax_allocate(v, 2, 4 * GIB, 999);
	CHECK(v[0].target_bytes == 0 && v[1].target_bytes == 4 * GIB,
	      "a VM with nothing is never the victim and others keep theirs");
	v[0] = mkvm(1, 0, 0, 0, 4 * GIB);
	v[1] = mkvm(1000000, ONE, 4 * GIB, 0, 4 * GIB);
	idle_tax_allocate(v, 2, 4 * GIB + PG, 999);
	CHECK(v[0].target_bytes == PG, "one spare page goes to the empty VM");
	v[0] = mkvm(1, 0, 0, 0, 0);
	v[1] = mkvm(5, ONE, 0, 0, 0);
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == 0 &&
	      v[0].target_bytes == 0 && v[1].target_bytes == 0,
	      "VMs with max 0 get 0");

	/*
	 * Near ties: 999999 and 1000000 shares, active, tau 0.999. Page p of
	 * the second VM is worth a hair more (one part in a million) than
	 * page p of the first and a lot more than its own page p + 1, so
	 * grants alternate, second VM first.
	 */
	ok = 1;
	for (i = 0; i < 20; i++) {
		v[0] = mkvm(999999, ONE, 0, 0, 40 * PG);
		v[1] = mkvm(1000000, ONE, 0, 0, 40 * PG);
		idle_tax_allocate(v, 2, (2 * i + 1) * PG, 999);
		ok &= v[0].target_bytes == i * PG &&
		      v[1].target_bytes == (i + 1) * PG;
	}
	CHECK(ok, "near-equal rho is still ordered exactly");

	/* rounding to pages */
	v[0] = mkvm(1000, ONE, 4 * GIB - 1, PG + 1, 4 * GIB - 1);
	v[1] = mkvm(1000, ONE, 1, 1, 4 * GIB);
	err = idle_tax_allocate(v, 2, 8 * GIB - 1, 750);
	ok = err == 0;
	for (i = 0; i < 2; i++)
		ok &= v[i].target_bytes % PG == 0 &&
		      v[i].target_bytes >= v[i].min_bytes &&
		      v[i].target_bytes <= v[i].max_bytes;
	CHECK(ok && sum_targets(v, 2) <= 8 * GIB - 1,
	      "unaligned bytes: whole pages, min rounds up, max and total down");

	/* ENOSPC */
	v[0] = mkvm(1000, ONE, 8 * GIB, 5 * GIB, 8 * GIB);
	v[1] = mkvm(1000, 0, 8 * GIB, 4 * GIB + 1, 8 * GIB);
	err = idle_tax_allocate(v, 2, 9 * GIB, 750);
	CHECK(err == -ENOSPC && v[0].target_bytes == 5 * GIB &&
	      v[1].target_bytes == 4 * GIB + PG,
	      "mins above the total: ENOSPC and every target at its min");
	v[0] = mkvm(1000, ONE, 8 * GIB, 5 * GIB, 8 * GIB);
	v[1] = mkvm(1000, 0, 8 * GIB, 4 * GIB, 8 * GIB);
	CHECK(idle_tax_allocate(v, 2, 9 * GIB, 750) == 0 &&
	      v[0].target_bytes == 5 * GIB && v[1].target_bytes == 4 * GIB,
	      "mins exactly equal to the total: no error");
	CHECK(idle_tax_allocate(v, 2, 0, 750) == -ENOSPC,
	      "no memory at all with mins: ENOSPC");

	/* idempotence */
	v[0] = mkvm(3000, ONE / 3, 7 * GIB, GIB / 2, 8 * GIB);
	v[1] = mkvm(1000, ONE, 5 * GIB, 0, 6 * GIB);
	v[2] = mkvm(500, 0, 2 * GIB, 0, 6 * GIB);
	idle_tax_allocate(v, 3, 9 * GIB, 750);
	memcpy(w, v, sizeof(w));
	for (i = 0; i < 3; i++)
		w[i].cur_bytes = w[i].target_bytes;
	idle_tax_allocate(w, 3, 9 * GIB, 750);
	CHECK(v[0].target_bytes == w[0].target_bytes &&
	      v[1].target_bytes == w[1].target_bytes &&
	      v[2].target_bytes == w[2].target_bytes,
	      "applying the targets and allocating again changes nothing");
}

static void test_allocate_errors(void)
{
	struct idle_tax_vm v[2];

	v[0] = mkvm(1000, ONE, GIB, 0, GIB);
	v[1] = mkvm(1000, ONE, GIB, 0, GIB);
	CHECK(idle_tax_allocate(NULL, 2, GIB, 750) == -EINVAL, "NULL: EINVAL");
	CHECK(idle_tax_allocate(NULL, 0, GIB, 750) == 0 &&
	      idle_tax_allocate(v, 0, GIB, 750) == 0 &&
	      v[0].target_bytes == 12345, "no VMs: nothing to do");
	CHECK(idle_tax_allocate(v, 2, GIB, 1000) == -ERANGE &&
	      v[0].target_bytes == 12345, "tau 1000: ERANGE, targets untouched");
	CHECK(idle_tax_allocate(v, IDLE_TAX_VMS_MAX + 1, GIB, 750) == -ERANGE,
	      "too many VMs: ERANGE");
	v[1].shares = 0;
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -EINVAL &&
	      v[0].target_bytes == 12345, "zero shares: EINVAL, untouched");
	v[1].shares = IDLE_TAX_SHARES_MAX + 1;
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -ERANGE,
	      "shares above a million: ERANGE");
	v[1] = mkvm(1000, ONE + 1, GIB, 0, GIB);
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -ERANGE,
	      "active above 1.0: ERANGE");
	v[1] = mkvm(1000, ONE, GIB, 2 * GIB, GIB);
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -EINVAL,
	      "min above max: EINVAL");
	v[1] = mkvm(1000, ONE, GIB, PG + 1, 2 * PG - 1);
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -EINVAL,
	      "min and max within one page: EINVAL");
	v[1] = mkvm(1000, ONE, GIB, 0, IDLE_TAX_BYTES_MAX + PG);
	CHECK(idle_tax_allocate(v, 2, GIB, 750) == -ERANGE,
	      "max above 64 TiB: ERANGE");
	v[1] = mkvm(1000, ONE, ~0ULL, 0, IDLE_TAX_BYTES_MAX);
	CHECK(idle_tax_allocate(v, 2, ~0ULL, 750) == 0 &&
	      v[1].target_bytes == IDLE_TAX_BYTES_MAX,
	      "64 TiB max, huge current and total: fine");
}

/* Random small cases against the page by page reference. */
static void test_against_reference(void)
{
	static const u32 share_pick[] = { 1, 2, 3, 7, 1000, 2000, 999983,
					  IDLE_TAX_SHARES_MAX };
	static const unsigned int tau_pick[] = { 0, 750, 999, 500, 1, 900 };
	static const u32 near_pick[] = { 999979, 999983, 999999, 1000000 };
	struct idle_tax_vm v[8];
	u64 ref[8];
	int c, i, nr, cases = 10000, mismatch = 0, bounds = 0, sums = 0;
	int errs = 0, shrinks = 0, grows = 0;

	for (c = 0; c < cases; c++) {
		u64 total, sum_max = 0, sum_cur = 0;
		unsigned int tau;
		int e1, e2, near;

		/* one case in four: rho values that differ by a hair */
		near = rnd() % 4 == 0;
		nr = 1 + (int)upto(6);
		tau = rnd() % 3 ? tau_pick[rnd() % 6] : (unsigned int)upto(999);
		if (near)
			tau = 999;
		for (i = 0; i < nr; i++) {
			u64 max = upto(rnd() % 4 ? 300 : 40) * PG;
			u64 min = upto(rnd() % 3 ? 0 : max / PG) * PG;
			u64 cur = upto(max / PG + 40) * PG;
			u32 active;

			if (rnd() % 5 == 0 && max)
				max += upto(PG - 1);
			if (rnd() % 5 == 0 && min)
				min -= upto(PG - 1);
			if (rnd() % 7 == 0 && cur)
				cur -= upto(PG - 1);
			switch (rnd() % 4) {
			case 0:
				active = 0;
				break;
			case 1:
				active = ONE;
				break;
			default:
				active = (u32)upto(ONE);
			}
			v[i] = mkvm(rnd() % 2 ? share_pick[rnd() % 8] :
				    1 + (u32)upto(5000), active, cur, min, max);
			if (near) {
				v[i].shares = near_pick[rnd() % 4];
				v[i].active = ONE - (u32)upto(1);
			}
			sum_max += max / PG;
			sum_cur += cur / PG;
		}
		total = upto(sum_max + 50) * PG + (rnd() % 3 ? 0 : upto(PG - 1));
		e1 = ref_allocate(v, nr, total, tau, ref);
		e2 = idle_tax_allocate(v, nr, total, tau);
		if (e1 != e2) {
			errs++;
			continue;
		}
		if (sum_cur > total / PG)
			shrinks++;
		else
			grows++;
		for (i = 0; i < nr; i++) {
			if (v[i].target_bytes != ref[i] * PG)
				mismatch++;
			if (v[i].target_bytes < v[i].min_bytes ||
			    v[i].target_bytes > v[i].max_bytes)
				bounds++;
		}
		if (!e2 && sum_targets(v, nr) > total)
			sums++;
	}
	CHECK(errs == 0, "reference and policy agree on errors in %d cases",
	      cases);
	CHECK(mismatch == 0,
	      "%d random cases (%d shrinking, %d growing) equal the page by page greedy (%d differ)",
	      cases, shrinks, grows, mismatch);
	CHECK(bounds == 0, "min and max never violated in %d cases", cases);
	CHECK(sums == 0, "targets never exceed the total in %d cases", cases);
}

/* Current pages clamped to [min, max], as the allocator starts. */
static u64 ref_cur(const struct idle_tax_vm *v)
{
	u64 p = ref_up(v->cur_bytes);

	if (p < ref_up(v->min_bytes))
		p = ref_up(v->min_bytes);
	if (p > v->max_bytes / PG)
		p = v->max_bytes / PG;
	return p;
}

/*
 * The greedy's optimality condition: pages move within bands (min, cur]
 * when shrinking, (cur, max] when growing. No VM may keep a band page worth
 * less than a band page another VM went without.
 */
static int is_greedy_optimal(const struct idle_tax_vm *v, int nr,
			     u64 total, unsigned int tau)
{
	u64 lo[64], hi[64], sum_cur = 0;
	int i, j;

	for (i = 0; i < nr; i++)
		sum_cur += ref_cur(&v[i]);
	for (i = 0; i < nr; i++) {
		if (sum_cur > total / PG) {
			lo[i] = ref_up(v[i].min_bytes);
			hi[i] = ref_cur(&v[i]);
		} else {
			lo[i] = ref_cur(&v[i]);
			hi[i] = v[i].max_bytes / PG;
		}
	}
	for (i = 0; i < nr; i++) {
		u64 pi = v[i].target_bytes / PG;

		if (pi <= lo[i])
			continue;
		for (j = 0; j < nr; j++) {
			u64 pj = v[j].target_bytes / PG;

			if (i != j && pj < hi[j] &&
			    ref_rho_less(&v[i], pi, &v[j], pj + 1, tau))
				return 0;
		}
	}
	return 1;
}

/* Large random cases: bounds, totals, optimality and speed. */
static void test_large(void)
{
	static struct idle_tax_vm v[IDLE_TAX_VMS_MAX];
	int c, i, nr, bounds = 0, sums = 0, opt = 0, cases = 300;
	u64 sum;
	int err;

	for (c = 0; c < cases; c++) {
		u64 total, sum_max = 0, sum_min = 0;
		unsigned int tau = (unsigned int)upto(999);

		nr = 1 + (int)upto(c % 10 ? 40 : 1000);
		for (i = 0; i < nr; i++) {
			u64 max = upto(rnd() % 8 ? 64 * GIB : 16 * TIB);
			u64 min = upto(max / 2);
			u64 cur = upto(max + GIB);

			max = max / PG * PG;
			min = min / PG * PG;
			v[i] = mkvm(1 + (u32)upto(IDLE_TAX_SHARES_MAX - 1),
				    (u32)upto(ONE), cur, min, max);
			sum_max += max;
			sum_min += min;
		}
		total = sum_min + upto(sum_max - sum_min + 10 * GIB);
		err = idle_tax_allocate(v, nr, total, tau);
		if (err) {
			sums++;
			continue;
		}
		sum = 0;
		for (i = 0; i < nr; i++) {
			if (v[i].target_bytes < v[i].min_bytes ||
			    v[i].target_bytes > v[i].max_bytes)
				bounds++;
			sum += v[i].target_bytes;
		}
		if (sum != (total < sum_max ? total / PG * PG : sum_max))
			sums++;
		if (nr <= 40 && !is_greedy_optimal(v, nr, total, tau))
			opt++;
	}
	CHECK(bounds == 0, "large cases up to 16 TiB per VM: min/max hold");
	CHECK(sums == 0, "large cases: targets use exactly the total");
	CHECK(opt == 0, "large cases: no page could move to a higher rho");

	/* 4096 VMs of 4 GiB on 16 TiB minus a bit, all different */
	for (i = 0; i < IDLE_TAX_VMS_MAX; i++)
		v[i] = mkvm(1 + i * 200, (u32)(i * 16) % (ONE + 1), 4 * GIB,
			    0, 4 * GIB);
	err = idle_tax_allocate(v, IDLE_TAX_VMS_MAX, 12 * TIB + 12345, 750);
	sum = sum_targets(v, IDLE_TAX_VMS_MAX);
	CHECK(err == 0 && sum == 12 * TIB + 3 * PG,
	      "4096 VMs, 16 TiB cut to 12 TiB + 3 pages: exact total");

	/* 4096 identical VMs: an even split, the spare pages to the first */
	for (i = 0; i < IDLE_TAX_VMS_MAX; i++)
		v[i] = mkvm(1000, ONE, 4 * GIB, 0, 4 * GIB);
	err = idle_tax_allocate(v, IDLE_TAX_VMS_MAX, 8 * TIB + 100 * PG, 750);
	c = err == 0;
	for (i = 0; i < IDLE_TAX_VMS_MAX; i++)
		c &= v[i].target_bytes == 2 * GIB + (i < 100 ? PG : 0);
	CHECK(c, "4096 equal VMs: even split, 100 spare pages to the first 100");

	/* one huge idle VM next to thousands of dense ones */
	v[0] = mkvm(1, 0, 64 * TIB, 0, 64 * TIB);
	for (i = 1; i < IDLE_TAX_VMS_MAX; i++)
		v[i] = mkvm(IDLE_TAX_SHARES_MAX - i % 97, ONE, 0, 0, 4 * GIB);
	err = idle_tax_allocate(v, IDLE_TAX_VMS_MAX, 66 * TIB + 12345 * PG, 999);
	sum = sum_targets(v, IDLE_TAX_VMS_MAX);
	CHECK(err == 0 && sum == 66 * TIB + 12345 * PG &&
	      v[0].target_bytes == 64 * TIB,
	      "64 TiB idle VM beside 4095 busy ones: grants are exact");
	for (i = 0; i < IDLE_TAX_VMS_MAX; i++)
		v[i].cur_bytes = v[i].target_bytes;
	err = idle_tax_allocate(v, IDLE_TAX_VMS_MAX, 40 * TIB, 999);
	c = err == 0 && v[0].target_bytes == 38 * TIB - 12345 * PG;
	for (i = 1; i < IDLE_TAX_VMS_MAX; i++)
		c &= v[i].target_bytes == v[i].cur_bytes;
	CHECK(c, "... and under pressure only the idle giant gives memory back");
}

static void test_checks(void)
{
	CHECK(idle_tax_shares_check(1) == 0 &&
	      idle_tax_shares_check(IDLE_TAX_SHARES_MAX) == 0,
	      "shares 1 and 1000000 are valid");
	CHECK(idle_tax_shares_check(0) == -EINVAL, "shares 0: EINVAL");
	CHECK(idle_tax_shares_check(-5) == -EINVAL, "negative shares: EINVAL");
	CHECK(idle_tax_shares_check(IDLE_TAX_SHARES_MAX + 1) == -ERANGE,
	      "shares 1000001: ERANGE");
	CHECK(idle_tax_minmax_check(0, 4 * GIB, 4 * GIB) == 0 &&
	      idle_tax_minmax_check(GIB, GIB, 4 * GIB) == 0 &&
	      idle_tax_minmax_check(0, 0, 4 * GIB) == 0,
	      "min <= max <= size is valid");
	CHECK(idle_tax_minmax_check(2 * GIB, GIB, 4 * GIB) == -EINVAL,
	      "min above max: EINVAL");
	CHECK(idle_tax_minmax_check(0, 4 * GIB + 1, 4 * GIB) == -ERANGE,
	      "max above the VM size: ERANGE");
	CHECK(idle_tax_minmax_check(0, IDLE_TAX_BYTES_MAX + PG, ~0ULL) ==
	      -ERANGE, "max above 64 TiB: ERANGE");
	CHECK(idle_tax_minmax_check(PG + 1, 2 * PG - 1, GIB) == -EINVAL,
	      "no whole page between min and max: EINVAL");
	CHECK(idle_tax_period_check(IDLE_TAX_PERIOD_DEFAULT_MS) == 0 &&
	      idle_tax_period_check(100) == 0 &&
	      idle_tax_period_check(3600000) == 0, "periods 100 ms..1 h valid");
	CHECK(idle_tax_period_check(0) == -EINVAL &&
	      idle_tax_period_check(-1) == -EINVAL, "period 0 or negative: EINVAL");
	CHECK(idle_tax_period_check(99) == -ERANGE &&
	      idle_tax_period_check(3600001) == -ERANGE,
	      "period out of range: ERANGE");
	CHECK(idle_tax_sample_check(1) == 0 && idle_tax_sample_check(10000) == 0 &&
	      idle_tax_sample_check(IDLE_TAX_SAMPLE_DEFAULT) == 0,
	      "sample sizes 1..10000 valid");
	CHECK(idle_tax_sample_check(0) == -EINVAL &&
	      idle_tax_sample_check(-100) == -EINVAL,
	      "sample size 0 or negative: EINVAL");
	CHECK(idle_tax_sample_check(10001) == -ERANGE,
	      "sample size 10001: ERANGE");
}

static void test_reclaim_order(void)
{
	const u64 M = 1ULL << 20;
	struct idle_tax_reclaim r = {
		.resident = 500 * M, .target = 300 * M, .over_ms = 0,
		.grace_ms = 10000, .step_bytes = 64 * M, .pageout_on = true,
	};

	CHECK(idle_tax_pageout_bytes(&r) == 64 * M,
	      "no balloon: page out the excess, one step at a time");
	r.step_bytes = 1024 * M;
	CHECK(idle_tax_pageout_bytes(&r) == 200 * M,
	      "a large step pages out exactly the excess");
	r.balloon_live = true;
	CHECK(idle_tax_pageout_bytes(&r) == 0,
	      "a live balloon goes first");
	r.over_ms = 9999;
	CHECK(idle_tax_pageout_bytes(&r) == 0,
	      "still within the balloon's grace time");
	r.over_ms = 10000;
	CHECK(idle_tax_pageout_bytes(&r) == 200 * M,
	      "the balloon fell short: page-out helps");
	r.over_ms = 0;
	r.host_hard = true;
	CHECK(idle_tax_pageout_bytes(&r) == 200 * M,
	      "hard or low host state: page-out at once despite the balloon");
	r.pageout_on = false;
	CHECK(idle_tax_pageout_bytes(&r) == 0, "page-out off: never");
	r.pageout_on = true;
	r.resident = r.target + IDLE_TAX_SLACK_BYTES;
	CHECK(idle_tax_pageout_bytes(&r) == 0 &&
	      !idle_tax_over_target(r.resident, r.target),
	      "within the slack counts as at target");
	r.resident++;
	CHECK(idle_tax_over_target(r.resident, r.target) &&
	      idle_tax_pageout_bytes(&r) == IDLE_TAX_SLACK_BYTES + 1,
	      "one byte beyond the slack is over target");
	r.resident = 100 * M;
	CHECK(idle_tax_pageout_bytes(&r) == 0 &&
	      !idle_tax_over_target(r.resident, r.target),
	      "below target: nothing");
	CHECK(idle_tax_pageout_bytes(NULL) == 0, "NULL input: nothing");
}

int main(void)
{
	test_reclaim_order();
	test_tax_rate();
	test_active();
	test_rho();
	test_allocate_cases();
	test_allocate_errors();
	test_against_reference();
	test_large();
	test_checks();

	printf("1..%d\n", n);
	printf("# idle_tax_policy: %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
