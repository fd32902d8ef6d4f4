/* SPDX-License-Identifier: GPL-2.0 */
/*
 * idle_tax policy: the arithmetic of share-based memory allocation with an
 * idle memory tax, after Waldspurger, "Memory Resource Management in VMware
 * ESX Server", OSDI 2002.
 *
 * Integer arithmetic only (it runs in the kernel). Scales:
 *
 *   tax rate tau      per mille, 0..999 (750 means 0.75)
 *   fractions         2^16 == 1.0 (IDLE_TAX_FRAC_ONE): the active fraction
 *                     f and the smoothing weights of its moving averages
 *   k = 1 / (1 - tau) 2^16 == 1.0
 *   rho               shares per 4 KiB page, 2^42 == one share per page
 *   memory            bytes; allocation targets are whole 4 KiB pages
 *
 * The cost of a page to a VM is f + k * (1 - f): an idle page costs k times
 * an active one. The VM's adjusted shares per page is
 *
 *   rho = S / (P * (f + k * (1 - f)))
 *
 * with S its shares and P its allocation. Memory is revoked from the VM with
 * the lowest rho first.
 */
#ifndef _KVMX_IDLE_TAX_POLICY_H
#define _KVMX_IDLE_TAX_POLICY_H

#include <kvmx/policy.h>

#define IDLE_TAX_PERMILLE		1000
#define IDLE_TAX_TAU_MAX		999
#define IDLE_TAX_TAU_DEFAULT		750

#define IDLE_TAX_FRAC_SHIFT		16
#define IDLE_TAX_FRAC_ONE		(1U << IDLE_TAX_FRAC_SHIFT)

/*
 * 2^42: for one share on 16 TiB at the highest tax rho is still at least 1,
 * and a million shares on a single page (2^62) fits in a u64.
 */
#define IDLE_TAX_RHO_SHIFT		42
/* rho of a VM that has no memory: it is never the one to give memory up. */
#define IDLE_TAX_RHO_INFINITE		(~(u64)0)

#define IDLE_TAX_PAGE_SHIFT		12
#define IDLE_TAX_PAGE_SIZE		(1ULL << IDLE_TAX_PAGE_SHIFT)

#define IDLE_TAX_SHARES_MAX		1000000
#define IDLE_TAX_SHARES_DEFAULT		1000
/* Largest VM (max_bytes) the allocator accepts: 64 TiB. */
#define IDLE_TAX_BYTES_MAX		(1ULL << 46)
/* Largest number of VMs in one allocation. */
#define IDLE_TAX_VMS_MAX		4096

/* Sampling: period in milliseconds and pages sampled per period. */
#define IDLE_TAX_PERIOD_MIN_MS		100
#define IDLE_TAX_PERIOD_MAX_MS		3600000
#define IDLE_TAX_PERIOD_DEFAULT_MS	30000
#define IDLE_TAX_SAMPLE_MIN		1
#define IDLE_TAX_SAMPLE_MAX		10000
#define IDLE_TAX_SAMPLE_DEFAULT		100

/* ------------------------------------------------------------------ */
/* Tax rate */

/* 0 for 0..999; -EINVAL if negative, -ERANGE if 1000 or more. */
int idle_tax_tau_check(s64 tau);

/*
 * k = 1 / (1 - tau) in 2^16 fixed point, rounded down: 4 << 16 for tau 750,
 * 1 << 16 for tau 0. 0 if tau is out of range.
 */
u32 idle_tax_k(unsigned int tau);

/* ------------------------------------------------------------------ */
/* Active fraction */

/*
 * Smoothing weights, 2^16 == 1.0, each in 1..IDLE_TAX_FRAC_ONE: every period
 * an average moves by alpha times its distance to the new sample (rounded
 * away from the old value, so it always reaches a steady input exactly).
 */
struct idle_tax_ewma_cfg {
	u32 fast_alpha;
	u32 slow_alpha;
};

#define IDLE_TAX_FAST_ALPHA_DEFAULT	(IDLE_TAX_FRAC_ONE / 2)	/* 0.5 */
#define IDLE_TAX_SLOW_ALPHA_DEFAULT	6554			/* 0.1 */

extern const struct idle_tax_ewma_cfg idle_tax_ewma_default;

/* 0; -EINVAL for a zero weight; -ERANGE for a weight above 1.0. */
int idle_tax_ewma_check(const struct idle_tax_ewma_cfg *cfg);

/* Per-VM estimator state. Fractions are 2^16 == 1.0. */
struct idle_tax_active {
	u32 fast;
	u32 slow;
	bool primed;	/* a sample has been taken */
};

void idle_tax_active_init(struct idle_tax_active *a);

/*
 * Feed one period's sample: @touched of @sampled pages were accessed. The
 * first sample sets both averages. @cfg NULL means idle_tax_ewma_default.
 * 0; -EINVAL if @a is NULL or @sampled is 0 or below @touched; for a bad
 * @cfg what idle_tax_ewma_check() returns. On error the state is unchanged.
 */
int idle_tax_active_sample(struct idle_tax_active *a,
			   const struct idle_tax_ewma_cfg *cfg,
			   u32 touched, u32 sampled);

/* The same with the sampled fraction in per mille: -ERANGE above 1000. */
int idle_tax_active_sample_permille(struct idle_tax_active *a,
				    const struct idle_tax_ewma_cfg *cfg,
				    u32 permille);

/*
 * The active fraction f = max(fast, slow), 2^16 == 1.0. Before the first
 * sample a VM counts as fully active: it is not taxed on a guess.
 */
u32 idle_tax_active_frac(const struct idle_tax_active *a);

/* ------------------------------------------------------------------ */
/* Shares per page */

/*
 * rho = S / (P * (f + k * (1 - f))) in units of 2^-42 shares per 4 KiB page
 * (IDLE_TAX_RHO_SHIFT), rounded down. @bytes is P (a partial page counts as a
 * page), @active is f (2^16 == 1.0), @tau the tax rate in per mille. Values
 * from the same tau compare across VMs. IDLE_TAX_RHO_INFINITE when @bytes is
 * 0; 0 when @shares is 0. Out-of-range @active and @tau are clamped to 1.0
 * and 999; results too large for a u64 saturate below IDLE_TAX_RHO_INFINITE.
 */
u64 idle_tax_rho(u32 shares, u64 bytes, u32 active, unsigned int tau);

/* ------------------------------------------------------------------ */
/* Min-funding revocation */

struct idle_tax_vm {
	u32 shares;		/* S, 1..IDLE_TAX_SHARES_MAX */
	u32 active;		/* f, 2^16 == 1.0 */
	u64 cur_bytes;		/* current allocation */
	u64 min_bytes;		/* guaranteed */
	u64 max_bytes;		/* limit, at most IDLE_TAX_BYTES_MAX */
	u64 target_bytes;	/* result */
};

/*
 * Compute every VM's target allocation when @total_bytes are available for
 * @nr VMs at tax rate @tau (per mille).
 *
 * Work is in 4 KiB pages: min rounds up, max and the total round down, a
 * partial current page counts as a page. Each VM starts from its current
 * allocation clamped to [min, max]. Then, if that does not fit, pages are
 * revoked one at a time from the VM with the lowest rho (rho recomputed as
 * its allocation drops, ties go to the later VM), never below min, until the
 * total fits. If memory is left over, pages are granted one at a time to the
 * VM whose rho stays highest after the grant (ties to the earlier VM), never
 * above max, until the total is used. The result is exactly that of the page
 * by page greedy, found by a binary search on the rho level instead of page
 * steps: about 80 passes over the VMs, plus one pass per distinct rho among
 * the few pages (at most one per VM) that straddle the final level.
 *
 * Returns 0 on success. -EINVAL (targets untouched) for @vms NULL with @nr
 * above 0, zero shares, min above max, or a [min, max] that holds no whole
 * page; -ERANGE (targets untouched) for shares above IDLE_TAX_SHARES_MAX,
 * active above 1.0, max above IDLE_TAX_BYTES_MAX, @nr above
 * IDLE_TAX_VMS_MAX or @tau above 999. -ENOSPC when the minimums alone
 * exceed the total: every target is then set to its min. @nr 0 is a valid
 * empty allocation.
 */
int idle_tax_allocate(struct idle_tax_vm *vms, unsigned int nr,
		      u64 total_bytes, unsigned int tau);

/* ------------------------------------------------------------------ */
/* Reclamation order */

/* Resident memory this close above the target counts as at target. */
#define IDLE_TAX_SLACK_BYTES		(2ULL << 20)

struct idle_tax_reclaim {
	u64 resident;		/* the VM's resident memory now */
	u64 target;		/* its allocation target */
	u64 over_ms;		/* how long it has been above target */
	u64 grace_ms;		/* time the balloon gets first */
	u64 step_bytes;		/* most bytes paged out per interval */
	bool pageout_on;	/* the operator allows page-out */
	bool balloon_live;	/* a balloon relay serves the VM */
	bool host_hard;		/* the host is in the hard or low state */
};

/* Whether @resident is above @target by more than the slack. */
bool idle_tax_over_target(u64 resident, u64 target);

/*
 * Bytes to page out of the VM this interval, in ESX's order: nothing while
 * it is at its target or page-out is off; with a live balloon, nothing
 * until the balloon has had grace_ms to get there, unless the host is in
 * the hard or low state; otherwise the excess, at most step_bytes.
 */
u64 idle_tax_pageout_bytes(const struct idle_tax_reclaim *r);

/* ------------------------------------------------------------------ */
/* sysfs input */

/* Shares: 1..IDLE_TAX_SHARES_MAX; -EINVAL for 0 or less, else -ERANGE. */
int idle_tax_shares_check(s64 shares);

/*
 * Per-VM limits for a VM of @vm_bytes: -ERANGE if @max_bytes exceeds the VM
 * size or IDLE_TAX_BYTES_MAX; -EINVAL if @min_bytes is above @max_bytes or
 * no whole page lies between them (the allocator would refuse them).
 */
int idle_tax_minmax_check(u64 min_bytes, u64 max_bytes, u64 vm_bytes);

/* Sampling period in ms: -EINVAL for 0 or less, -ERANGE outside 100..3600000. */
int idle_tax_period_check(s64 ms);

/* Pages sampled per period: -EINVAL for 0 or less, -ERANGE above 10000. */
int idle_tax_sample_check(s64 pages);

#endif /* _KVMX_IDLE_TAX_POLICY_H */
