// SPDX-License-Identifier: GPL-2.0
/*
 * idle_tax policy (see idle_tax_policy.h). No kernel headers here:
 * selftests/unit builds this file as it is.
 */
#include "idle_tax_policy.h"

const struct idle_tax_ewma_cfg idle_tax_ewma_default = {
	.fast_alpha = IDLE_TAX_FAST_ALPHA_DEFAULT,
	.slow_alpha = IDLE_TAX_SLOW_ALPHA_DEFAULT,
};

int idle_tax_tau_check(s64 tau)
{
	if (tau < 0)
		return -EINVAL;
	if (tau > IDLE_TAX_TAU_MAX)
		return -ERANGE;
	return 0;
}

u32 idle_tax_k(unsigned int tau)
{
	if (tau > IDLE_TAX_TAU_MAX)
		return 0;
	return (u32)(((u64)IDLE_TAX_PERMILLE << IDLE_TAX_FRAC_SHIFT) /
		     (IDLE_TAX_PERMILLE - tau));
}

/*
 * The cost of one page, f + k * (1 - f), scaled by 2^16 * (1000 - tau) so
 * that it is an exact integer:
 *
 *   f * (1000 - tau) + 1000 * (2^16 - f)	(f in 2^16 units)
 *
 * From 2^16 (an active page at tau 999) to 1000 * 2^16 (an idle page, or any
 * page at tau 0). The scale depends only on tau, so for one tau the costs of
 * different VMs compare directly.
 */
static u64 page_cost(u32 active, unsigned int tau)
{
	return (u64)active * (IDLE_TAX_PERMILLE - tau) +
	       (u64)IDLE_TAX_PERMILLE * (IDLE_TAX_FRAC_ONE - active);
}

static u64 pages_up(u64 bytes)
{
	return (bytes >> IDLE_TAX_PAGE_SHIFT) +
	       !!(bytes & (IDLE_TAX_PAGE_SIZE - 1));
}

static u64 clamp_u64(u64 v, u64 lo, u64 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------------------ */
/* Active fraction */

int idle_tax_ewma_check(const struct idle_tax_ewma_cfg *cfg)
{
	if (!cfg->fast_alpha || !cfg->slow_alpha)
		return -EINVAL;
	if (cfg->fast_alpha > IDLE_TAX_FRAC_ONE ||
	    cfg->slow_alpha > IDLE_TAX_FRAC_ONE)
		return -ERANGE;
	return 0;
}

void idle_tax_active_init(struct idle_tax_active *a)
{
	a->fast = 0;
	a->slow = 0;
	a->primed = false;
}

/* Move @old towards @x by @alpha of the distance, at least one unit. */
static u32 ewma_step(u32 old, u32 x, u32 alpha)
{
	u64 step;

	if (x >= old) {
		step = ((u64)(x - old) * alpha + IDLE_TAX_FRAC_ONE - 1) >>
		       IDLE_TAX_FRAC_SHIFT;
		return old + (u32)step;
	}
	step = ((u64)(old - x) * alpha + IDLE_TAX_FRAC_ONE - 1) >>
	       IDLE_TAX_FRAC_SHIFT;
	return old - (u32)step;
}

static int active_feed(struct idle_tax_active *a,
		       const struct idle_tax_ewma_cfg *cfg, u32 frac)
{
	int err;

	if (!cfg)
		cfg = &idle_tax_ewma_default;
	err = idle_tax_ewma_check(cfg);
	if (err)
		return err;
	if (!a->primed) {
		a->fast = frac;
		a->slow = frac;
		a->primed = true;
		return 0;
	}
	a->fast = ewma_step(a->fast, frac, cfg->fast_alpha);
	a->slow = ewma_step(a->slow, frac, cfg->slow_alpha);
	return 0;
}

int idle_tax_active_sample(struct idle_tax_active *a,
			   const struct idle_tax_ewma_cfg *cfg,
			   u32 touched, u32 sampled)
{
	u64 frac;

	if (!a || !sampled || touched > sampled)
		return -EINVAL;
	frac = (((u64)touched << IDLE_TAX_FRAC_SHIFT) + sampled / 2) / sampled;
	return active_feed(a, cfg, (u32)frac);
}

int idle_tax_active_sample_permille(struct idle_tax_active *a,
				    const struct idle_tax_ewma_cfg *cfg,
				    u32 permille)
{
	u64 frac;

	if (!a)
		return -EINVAL;
	if (permille > IDLE_TAX_PERMILLE)
		return -ERANGE;
	frac = (((u64)permille << IDLE_TAX_FRAC_SHIFT) +
		IDLE_TAX_PERMILLE / 2) / IDLE_TAX_PERMILLE;
	return active_feed(a, cfg, (u32)frac);
}

u32 idle_tax_active_frac(const struct idle_tax_active *a)
{
	if (!a->primed)
		return IDLE_TAX_FRAC_ONE;
	return a->fast > a->slow ? a->fast : a->slow;
}

/* ------------------------------------------------------------------ */
/* Shares per page */

/*
 * floor(a * 2^shift / d) for d in 1..2^62, by long division, without a
 * 128-bit type. Saturates just below IDLE_TAX_RHO_INFINITE.
 */
static u64 shl_div(u64 a, unsigned int shift, u64 d)
{
	u64 q = a / d;
	u64 r = a % d;

	while (shift--) {
		if (q >> 63)
			return IDLE_TAX_RHO_INFINITE - 1;
		q <<= 1;
		r <<= 1;
		if (r >= d) {
			r -= d;
			q++;
		}
	}
	return q < IDLE_TAX_RHO_INFINITE ? q : IDLE_TAX_RHO_INFINITE - 1;
}

u64 idle_tax_rho(u32 shares, u64 bytes, u32 active, unsigned int tau)
{
	unsigned int shift = IDLE_TAX_RHO_SHIFT + IDLE_TAX_FRAC_SHIFT;
	u64 pages;

	if (!bytes)
		return IDLE_TAX_RHO_INFINITE;
	if (!shares)
		return 0;
	if (tau > IDLE_TAX_TAU_MAX)
		tau = IDLE_TAX_TAU_MAX;
	if (active > IDLE_TAX_FRAC_ONE)
		active = IDLE_TAX_FRAC_ONE;
	/*
	 * rho * 2^42 = S * 2^16 * (1000 - tau) * 2^42 / (P * cost). Keep the
	 * divisor below 2^62: past 2^36 pages (256 TiB) drop low bits of P.
	 */
	pages = pages_up(bytes);
	while (pages > (1ULL << 36)) {
		pages >>= 1;
		shift--;
	}
	return shl_div((u64)shares * (IDLE_TAX_PERMILLE - tau), shift,
		       pages * page_cost(active, tau));
}

/* ------------------------------------------------------------------ */
/* Min-funding revocation */

/*
 * Think of a VM's pages as numbered 1, 2, ... P. Page p is worth
 * rho(p) = S / (p * cost): revoking from the VM with the lowest rho takes
 * its top page, the least valuable page anywhere; granting to the VM whose
 * rho stays highest gives the most valuable page not yet held. Within one VM
 * values fall as p grows, so both greedy walks keep, out of every VM's band
 * of pages (lo, hi], the K most valuable ones, ties going to earlier VMs.
 *
 * Sorting by key = p * cost / S (rising) is the same order. A VM holds
 * floor(L * S / cost) of its pages with a key up to L, so a binary search
 * on L finds the level below which exactly the wanted pages lie, save those
 * whose keys fall within one step of L; they are handed out in exact key
 * order. L is searched twice: with @frac fraction bits over the whole range,
 * then with FINE_BITS more inside the step found. After that at most one
 * page per VM is left in the last step (and usually none but exact ties).
 */
#define FINE_BITS	20

struct alloc_ctx {
	struct idle_tax_vm *vms;
	unsigned int nr;
	unsigned int tau;
	bool grow;		/* band is (cur, max], else (min, cur] */
	unsigned int frac;
};

static u64 vm_min_pages(const struct idle_tax_vm *vm)
{
	return pages_up(vm->min_bytes);
}

static u64 vm_max_pages(const struct idle_tax_vm *vm)
{
	return vm->max_bytes >> IDLE_TAX_PAGE_SHIFT;
}

static u64 vm_cur_pages(const struct idle_tax_vm *vm)
{
	return clamp_u64(pages_up(vm->cur_bytes), vm_min_pages(vm),
			 vm_max_pages(vm));
}

static void vm_band(const struct alloc_ctx *ctx, const struct idle_tax_vm *vm,
		    u64 *lo, u64 *hi)
{
	if (ctx->grow) {
		*lo = vm_cur_pages(vm);
		*hi = vm_max_pages(vm);
	} else {
		*lo = vm_min_pages(vm);
		*hi = vm_cur_pages(vm);
	}
}

static u64 vm_cost(const struct alloc_ctx *ctx, const struct idle_tax_vm *vm)
{
	return page_cost(vm->active, ctx->tau);
}

/*
 * Pages of @vm, within [lo, hi], whose key is at most
 * L = (level + fine / 2^FINE_BITS) / 2^frac, that is floor(L * S / cost).
 * With d = cost * 2^frac below 2^42 and S below 2^20 no product overflows.
 */
static u64 pages_at(const struct alloc_ctx *ctx, const struct idle_tax_vm *vm,
		    u64 level, u64 fine, u64 lo, u64 hi)
{
	u64 d = vm_cost(ctx, vm) << ctx->frac;
	u64 q = level / d;
	u64 r = (level % d) * vm->shares;
	u64 n;

	if (q >= hi)
		return hi;
	n = q * vm->shares + r / d;
	n += (((r % d) << FINE_BITS) + fine * vm->shares) / (d << FINE_BITS);
	return clamp_u64(n, lo, hi);
}

/* Band pages, over all VMs, with a key up to the level. */
static u64 kept_at(const struct alloc_ctx *ctx, u64 level, u64 fine)
{
	u64 lo, hi, sum = 0;
	unsigned int i;

	for (i = 0; i < ctx->nr; i++) {
		vm_band(ctx, &ctx->vms[i], &lo, &hi);
		sum += pages_at(ctx, &ctx->vms[i], level, fine, lo, hi) - lo;
	}
	return sum;
}

/*
 * Compare keys x_a / s_a and x_b / s_b exactly: integer parts first, then
 * the remainders, whose cross products stay below 2^40.
 */
static int key_cmp(u64 xa, u64 sa, u64 xb, u64 sb)
{
	u64 qa = xa / sa, qb = xb / sb;

	if (qa != qb)
		return qa < qb ? -1 : 1;
	xa = (xa % sa) * sb;
	xb = (xb % sb) * sa;
	return xa < xb ? -1 : xa > xb;
}

/* Key of the next page of @vm (target_bytes holds its pages), times S. */
static u64 next_key(const struct alloc_ctx *ctx, const struct idle_tax_vm *vm)
{
	return (vm->target_bytes + 1) * vm_cost(ctx, vm);
}

/*
 * Hand out @left more pages in exact key order, ties to earlier VMs: find
 * the lowest next key, then grant it to every VM that has it, in order.
 */
static void grant_exact(const struct alloc_ctx *ctx, u64 left)
{
	u64 lo, hi, x, bx = 0, bs = 1;
	unsigned int i, best;

	while (left) {
		best = ctx->nr;
		for (i = 0; i < ctx->nr; i++) {
			const struct idle_tax_vm *vm = &ctx->vms[i];

			vm_band(ctx, vm, &lo, &hi);
			if (vm->target_bytes >= hi)
				continue;
			x = next_key(ctx, vm);
			if (best == ctx->nr || key_cmp(x, vm->shares, bx, bs) < 0) {
				best = i;
				bx = x;
				bs = vm->shares;
			}
		}
		for (i = best; i < ctx->nr && left; i++) {
			struct idle_tax_vm *vm = &ctx->vms[i];

			vm_band(ctx, vm, &lo, &hi);
			if (vm->target_bytes >= hi ||
			    key_cmp(next_key(ctx, vm), vm->shares, bx, bs))
				continue;
			vm->target_bytes++;
			left--;
		}
	}
}

/*
 * Keep @want of the band pages; target_bytes holds pages until the caller
 * converts it. The caller guarantees @want is below the band total.
 */
static void allocate_band(struct alloc_ctx *ctx, u64 want)
{
	u64 lo, hi, top = 0, a, b, mid, left;
	unsigned int i;

	/* the highest key of any band page, rounded up: below 2^60 */
	for (i = 0; i < ctx->nr; i++) {
		struct idle_tax_vm *vm = &ctx->vms[i];
		u64 x;

		vm_band(ctx, vm, &lo, &hi);
		if (hi == lo)
			continue;
		x = hi * vm_cost(ctx, vm);
		x = x / vm->shares + !!(x % vm->shares);
		if (x > top)
			top = x;
	}
	/* as many fraction bits as fit, up to 16 (see pages_at) */
	ctx->frac = 0;
	while (ctx->frac < 16 && top <= (1ULL << 62) >> (ctx->frac + 1))
		ctx->frac++;

	/* kept_at(a) <= want < kept_at(b) */
	a = 0;
	b = top << ctx->frac;
	while (b - a > 1) {
		mid = a + (b - a) / 2;
		if (kept_at(ctx, mid, 0) <= want)
			a = mid;
		else
			b = mid;
	}
	/* the same inside (a, a + 1] */
	lo = 0;
	hi = 1ULL << FINE_BITS;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (kept_at(ctx, a, mid) <= want)
			lo = mid;
		else
			hi = mid;
	}
	b = lo;

	left = want;
	for (i = 0; i < ctx->nr; i++) {
		struct idle_tax_vm *vm = &ctx->vms[i];

		vm_band(ctx, vm, &lo, &hi);
		vm->target_bytes = pages_at(ctx, vm, a, b, lo, hi);
		left -= vm->target_bytes - lo;
	}
	grant_exact(ctx, left);
}

static int vm_check(const struct idle_tax_vm *vm)
{
	if (!vm->shares)
		return -EINVAL;
	if (vm->shares > IDLE_TAX_SHARES_MAX ||
	    vm->active > IDLE_TAX_FRAC_ONE ||
	    vm->max_bytes > IDLE_TAX_BYTES_MAX)
		return -ERANGE;
	if (vm->min_bytes > vm->max_bytes ||
	    vm_min_pages(vm) > vm_max_pages(vm))
		return -EINVAL;
	return 0;
}

int idle_tax_allocate(struct idle_tax_vm *vms, unsigned int nr,
		      u64 total_bytes, unsigned int tau)
{
	struct alloc_ctx ctx = { .vms = vms, .nr = nr, .tau = tau };
	u64 sum_min = 0, sum_cur = 0, sum_max = 0;
	u64 total = total_bytes >> IDLE_TAX_PAGE_SHIFT;
	unsigned int i;
	int err;

	if (!nr)
		return 0;
	if (!vms)
		return -EINVAL;
	if (nr > IDLE_TAX_VMS_MAX || tau > IDLE_TAX_TAU_MAX)
		return -ERANGE;
	for (i = 0; i < nr; i++) {
		err = vm_check(&vms[i]);
		if (err)
			return err;
		sum_min += vm_min_pages(&vms[i]);
		sum_cur += vm_cur_pages(&vms[i]);
		sum_max += vm_max_pages(&vms[i]);
	}

	if (sum_min > total) {
		for (i = 0; i < nr; i++)
			vms[i].target_bytes = vm_min_pages(&vms[i]);
		err = -ENOSPC;
	} else if (sum_cur > total) {
		ctx.grow = false;
		allocate_band(&ctx, total - sum_min);
		err = 0;
	} else if (sum_max > total) {
		ctx.grow = true;
		allocate_band(&ctx, total - sum_cur);
		err = 0;
	} else {
		for (i = 0; i < nr; i++)
			vms[i].target_bytes = vm_max_pages(&vms[i]);
		err = 0;
	}

	for (i = 0; i < nr; i++)
		vms[i].target_bytes <<= IDLE_TAX_PAGE_SHIFT;
	return err;
}

/* ------------------------------------------------------------------ */
/* sysfs input */

int idle_tax_shares_check(s64 shares)
{
	if (shares <= 0)
		return -EINVAL;
	if (shares > IDLE_TAX_SHARES_MAX)
		return -ERANGE;
	return 0;
}

int idle_tax_minmax_check(u64 min_bytes, u64 max_bytes, u64 vm_bytes)
{
	if (max_bytes > vm_bytes || max_bytes > IDLE_TAX_BYTES_MAX)
		return -ERANGE;
	if (min_bytes > max_bytes ||
	    pages_up(min_bytes) > max_bytes >> IDLE_TAX_PAGE_SHIFT)
		return -EINVAL;
	return 0;
}

int idle_tax_period_check(s64 ms)
{
	if (ms <= 0)
		return -EINVAL;
	if (ms < IDLE_TAX_PERIOD_MIN_MS || ms > IDLE_TAX_PERIOD_MAX_MS)
		return -ERANGE;
	return 0;
}

int idle_tax_sample_check(s64 pages)
{
	if (pages <= 0)
		return -EINVAL;
	if (pages > IDLE_TAX_SAMPLE_MAX)
		return -ERANGE;
	return 0;
}

bool idle_tax_over_target(u64 resident, u64 target)
{
	return resident > target && resident - target > IDLE_TAX_SLACK_BYTES;
}

u64 idle_tax_pageout_bytes(const struct idle_tax_reclaim *r)
{
	u64 excess;

	if (!r || !r->pageout_on || !idle_tax_over_target(r->resident, r->target))
		return 0;
	if (r->balloon_live && !r->host_hard && r->over_ms < r->grace_ms)
		return 0;
	excess = r->resident - r->target;
	return excess < r->step_bytes ? excess : r->step_bytes;
}
