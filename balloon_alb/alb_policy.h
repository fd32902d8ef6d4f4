/* SPDX-License-Identifier: GPL-2.0 */
/*
 * balloon_alb policy: who gives the memory the host asks for, after
 * Salomie et al., "Application Level Ballooning for Efficient Server
 * Consolidation", EuroSys 2013.
 *
 * The host sets a balloon target. What it wants beyond what the balloon
 * already holds (the deficit) is first asked of the applications
 * registered on /dev/balloon_alb, which shrink their own caches; only what
 * they cannot cover, or do not cover by the deadline, is taken by the OS
 * balloon, the stock driver's way. When the host gives memory back, the
 * applications that gave it are offered it first.
 *
 * Integer arithmetic only (it runs in the kernel); no allocation, no
 * locks, no sleeping. Memory is counted in bytes that are whole
 * ALB_PAGE_SIZE pages; inputs are rounded down to pages.
 *
 * The balloon's memory falls in three parts:
 *
 *   os      inflated by the OS fallback (the stock way), or given by an
 *           application that has since left
 *   app     given by the applications (each one's balance, "given")
 *   ask     asked of the applications and not yet given
 *
 * The balloon holds os + app. Each new target starts a round:
 *
 *   - inflation, target above os + app: open offers are taken back into
 *     the balloon first (their pages are still at hand). The rest is split
 *     between the applications by weight, none asked for more than it can
 *     give above its floor (water-filling), and what nobody can cover goes
 *     to os at once. The asks share one deadline; what is still open at it
 *     goes to os. A new target never postpones a deadline that is open:
 *     a target that kept moving would otherwise keep the fallback waiting
 *     for ever.
 *   - deflation, target below os + app: the applications' balances come
 *     out first, in proportion to each balance, and are offered back to
 *     them until the offer deadline (one for all open offers, set anew
 *     by each deflation); the rest comes out of os. An offer not taken by
 *     its deadline returns to the OS.
 *
 * Every round first closes the open asks (a new split replaces them).
 * With no application registered, every deficit goes to os at once and
 * every surplus comes out of os: the stock driver. A repeated identical
 * target starts no round (QEMU raises a config interrupt for every QMP
 * balloon command, changed or not).
 *
 * Outside OOM deflation, os + app + ask == target after every call, no
 * application ever has an open ask and an open offer at once, and each
 * application's statistics add up (see struct alb_app_stats).
 *
 * Ownership and concurrency. A struct alb_ctx and the slot array it was
 * given at alb_init() belong to one balloon device; the caller frees them
 * after its last call. None of these functions takes a lock: the caller
 * serializes every call on a context, and every read of its fields, with
 * one lock of its own (a mutex: alb_plan() is O(n^2) in the registered
 * applications at worst, at most ALB_APPS_MAX). The policy only counts;
 * the caller's pages must follow the counts: after each call it moves its
 * pages so that the balloon holds os_bytes + app_bytes and it keeps
 * offer_bytes aside for the open offers (alb_plan_read()). It must not
 * allocate memory that may reclaim while holding its lock: to credit a
 * give it reads the ask under the lock (alb_app_state()), allocates
 * without the lock, and calls alb_give() under the lock again, which
 * credits no more than the ask at that moment; the caller frees the rest.
 * An application's id is its slot, valid from alb_register() until
 * alb_unregister(), which the caller calls exactly once per registration.
 */
#ifndef _KVMX_ALB_POLICY_H
#define _KVMX_ALB_POLICY_H

#include <kvmx/policy.h>

#define ALB_PAGE_SHIFT			12
#define ALB_PAGE_SIZE			(1ULL << ALB_PAGE_SHIFT)
/* Largest byte count accepted anywhere: 64 TiB (2^34 pages). */
#define ALB_BYTES_MAX			(1ULL << 46)
#define ALB_PAGES_MAX			(ALB_BYTES_MAX >> ALB_PAGE_SHIFT)

#define ALB_WEIGHT_MIN			1
#define ALB_WEIGHT_MAX			1000
/* Largest number of applications registered at once. */
#define ALB_APPS_MAX			256

/*
 * Time applications get to cover an ask before the OS fallback takes the
 * rest. It must stay below idle_tax's balloon_grace_ms on the host
 * (default 10000), the time the balloon gets before the host pages the VM
 * out: after the deadline the fallback still needs time to inflate.
 */
#define ALB_DEADLINE_MIN_MS		100
#define ALB_DEADLINE_MAX_MS		8000
#define ALB_DEADLINE_DEFAULT_MS		3000

/* How long memory given back is offered to applications; 0: no offers. */
#define ALB_OFFER_MAX_MS		60000
#define ALB_OFFER_DEFAULT_MS		5000

struct alb_cfg {
	u32 deadline_ms;	/* ALB_DEADLINE_MIN_MS..ALB_DEADLINE_MAX_MS */
	u32 offer_ms;		/* 0..ALB_OFFER_MAX_MS */
};

extern const struct alb_cfg alb_cfg_default;

/* What an application registers. */
struct alb_app_cfg {
	u64 size_bytes;		/* memory it manages now */
	u64 cheap_bytes;	/* of it, what it could give cheaply */
	u64 floor_bytes;	/* it never goes below this */
	u32 weight;		/* ALB_WEIGHT_MIN..ALB_WEIGHT_MAX */
};

/*
 * One application's history, in bytes unless said otherwise. At all
 * times:
 *
 *   asked   == given + declined + missed + cancelled + ask
 *   offered == taken + withdrawn + expired + offer
 *   balance == given + withdrawn - offered - returned - lost
 *
 * with ask, offer and balance the slot's ask, offer and given.
 */
struct alb_app_stats {
	u64 asked;		/* every rise of its ask */
	u64 given;		/* credited by alb_give() */
	u64 declined;		/* passed to the OS by alb_decline() */
	u64 missed;		/* still open at a deadline */
	u64 cancelled;		/* ask lowered or closed by a new target */
	u64 offered;		/* offered back on deflation */
	u64 taken;		/* offers taken by alb_take() */
	u64 withdrawn;		/* offers taken back into the balloon */
	u64 expired;		/* offers not taken by their deadline */
	u64 returned;		/* balance deflated with offers off */
	u64 lost;		/* balance deflated on OOM */
	u32 asks;		/* rounds that asked it for something */
	u32 gives;		/* alb_give() calls that credited something */
	u32 declines;		/* alb_decline() calls that declined something */
	u32 misses;		/* deadlines it missed with something open */
};

/* One slot of the array given to alb_init(); an application when used. */
struct alb_app {
	bool used;
	struct alb_app_cfg cfg;	/* lowered by gives, raised by takes */
	u64 seq;		/* context seq of its last new ask or offer */
	u64 ask;		/* still asked for in the open round */
	u64 given;		/* balance: given and still in the balloon */
	u64 offer;		/* offered back and not yet taken */
	struct alb_app_stats st;
	/*
	 * In- and output of alb_waterfill() and alb_prorate(), in pages;
	 * scratch for the context functions, meaningless between calls.
	 */
	u64 cap;
	u64 share;
	u64 rem;
	u8 mark;
};

/* Totals over the context's life, in bytes unless said otherwise. */
struct alb_stats {
	u64 rounds;		/* targets that started a round */
	u64 asked;		/* rises of the applications' asks */
	u64 given;		/* credited to applications */
	u64 os_at_once;		/* deficits no application could cover */
	u64 os_declined;	/* declined by applications */
	u64 os_missed;		/* open at a deadline */
	u64 os_left;		/* asks and balances of applications that left */
	u64 offered;
	u64 taken;
	u64 withdrawn;
	u64 expired;		/* offers not taken, including those of leavers */
	u64 returned;		/* balances deflated with offers off */
	u64 oom;		/* deflated on OOM */
	u64 misses;		/* asks open at a deadline, one per application */
	u64 declines;		/* alb_decline() calls that declined something */
};

struct alb_ctx {
	struct alb_cfg cfg;
	struct alb_app *apps;	/* the caller's slots */
	unsigned int nr_slots;
	unsigned int nr_apps;	/* slots used */
	bool started;		/* a target was seen */
	u64 target;		/* the last one, in whole pages */
	u64 now_ms;		/* the latest time alb_plan() was given */
	u64 seq;		/* last seq given to an application */
	u64 os;			/* the OS fallback's part of the balloon */
	u64 ask_deadline_ms;	/* of the open asks; 0: none */
	u64 offer_deadline_ms;	/* of the open offers; 0: none */
	struct alb_stats st;
};

/* What the balloon should look like now, for the caller to carry out. */
struct alb_plan {
	u64 seq;		/* the context's seq */
	u64 target;		/* the last target, in whole pages */
	u64 os_bytes;		/* inflate or deflate the OS fallback to this */
	u64 app_bytes;		/* given by applications, in the balloon */
	u64 ask_bytes;		/* asked of applications, not yet given */
	u64 offer_bytes;	/* out of the balloon, kept for open offers */
	u64 next_ms;		/* call alb_plan() again then; 0: no deadline */
	bool new_round;		/* this call started a round */
};

/* One application's view, for STATE and OFFER. */
struct alb_app_state {
	u64 seq;
	u64 ask_bytes;
	u64 ask_deadline_ms;	/* 0 with no open ask */
	u64 offer_bytes;
	u64 offer_deadline_ms;	/* 0 with no open offer */
	u64 given_bytes;
	u32 ask_left_ms;	/* 0 once the deadline passed or with no ask */
	u32 offer_left_ms;
};

/* ------------------------------------------------------------------ */
/* Validation: 0, -EINVAL or -ERANGE; nothing is changed. */

/* -EINVAL for 0 or less, -ERANGE outside the knob's range. */
int alb_deadline_check(s64 ms);
/* -EINVAL below 0, -ERANGE above ALB_OFFER_MAX_MS. */
int alb_offer_check(s64 ms);
/* Both of the above; -EINVAL for NULL. */
int alb_cfg_check(const struct alb_cfg *cfg);
/*
 * -EINVAL for NULL or a weight of 0; -ERANGE for a weight above
 * ALB_WEIGHT_MAX or a byte count above ALB_BYTES_MAX. A floor at or above
 * the size is valid: the application can give nothing.
 */
int alb_app_check(const struct alb_app_cfg *cfg);

/* ------------------------------------------------------------------ */
/* Splitting */

/*
 * Split @pages between the used slots of @apps[0..@nr) in proportion to
 * their weights (cfg.weight), none above its cap (the slot's cap, in
 * pages): a slot whose fair part exceeds its cap gets its cap and the
 * excess goes to the others, again by weight, until every part fits.
 * Each slot's part is left in its share; *@split gets their sum, which is
 * @pages unless the caps add up to less (then every slot gets its cap).
 * Rounding: each slot of the final level gets the floor of its exact part,
 * and the pages left over go one each to the largest remainders (ties to
 * the lower index). 0; -EINVAL for NULL pointers or a weight of 0;
 * -ERANGE for @nr above ALB_APPS_MAX, a weight above ALB_WEIGHT_MAX, or
 * @pages or a cap above ALB_PAGES_MAX.
 */
int alb_waterfill(struct alb_app *apps, unsigned int nr, u64 pages,
		  u64 *split);

/*
 * Split @pages between the used slots in proportion to their caps (the
 * same rounding): what an offer or a deflation takes from each balance.
 * All of it if @pages is at least the sum of the caps. Same errors, weights
 * not looked at.
 */
int alb_prorate(struct alb_app *apps, unsigned int nr, u64 pages,
		u64 *split);

/* ------------------------------------------------------------------ */
/* The context */

/*
 * Start a context over @nr slots (0: no application can register, the
 * stock driver). @cfg NULL means alb_cfg_default. -EINVAL for a NULL
 * @ctx, or @apps NULL with @nr above 0; -ERANGE for @nr above
 * ALB_APPS_MAX; a bad @cfg as alb_cfg_check().
 */
int alb_init(struct alb_ctx *ctx, const struct alb_cfg *cfg,
	     struct alb_app *apps, unsigned int nr);

/* Change the knobs; open deadlines keep their time. As alb_cfg_check(). */
int alb_set_cfg(struct alb_ctx *ctx, const struct alb_cfg *cfg);

/*
 * Errors of the functions below that take an @id: -EINVAL for a NULL
 * pointer or an id outside the slots, -ENOENT for a slot not in use,
 * -ERANGE for a byte count above ALB_BYTES_MAX; on error nothing changes.
 */

/*
 * Register an application: its id (>= 0), or -ENOSPC with every slot
 * used, or what alb_app_check() returns. It is asked for nothing before
 * the next round.
 */
int alb_register(struct alb_ctx *ctx, const struct alb_app_cfg *cfg);

/* New figures for @id, used from the next round. As alb_app_check(). */
int alb_update(struct alb_ctx *ctx, int id, const struct alb_app_cfg *cfg);

/*
 * The application left: its open ask and its balance pass to os, its
 * offer returns to the OS (counted as expired).
 */
int alb_unregister(struct alb_ctx *ctx, int id);

/*
 * The application gave @bytes (rounded down to pages): *@credited gets
 * what counts against its open ask, at most the ask. Its size and cheap
 * figures drop by as much.
 */
int alb_give(struct alb_ctx *ctx, int id, u64 bytes, u64 *credited);

/*
 * The application declines the rest of the ask it saw with @seq: it
 * passes to os at once. -ESTALE if @seq is not the application's seq;
 * 0 and nothing done with no open ask.
 */
int alb_decline(struct alb_ctx *ctx, int id, u64 seq);

/*
 * The application takes up to @bytes (rounded down to pages) of its open
 * offer: *@taken gets how much. Its size rises by as much.
 */
int alb_take(struct alb_ctx *ctx, int id, u64 bytes, u64 *taken);

/*
 * OOM: the guest needs @bytes back (rounded down to pages), whatever the
 * target. They come from the open offers first (their pages are at
 * hand), then from os, then from the applications' balances in
 * proportion; *@freed gets how much, at most what the offers and the
 * balloon hold. The target stays; the next round starts with the next
 * different one.
 */
int alb_oom(struct alb_ctx *ctx, u64 bytes, u64 *freed);

/*
 * The host's target is @target_bytes (rounded down to pages) at @now_ms
 * (a monotonic clock). Closes the asks and offers whose deadline is at or
 * before @now_ms, starts a round if the target differs from the last
 * one, and fills @plan. 0; -EINVAL for NULL pointers or a time before
 * the latest one given; -ERANGE for a target above ALB_BYTES_MAX. On
 * error nothing changes.
 */
int alb_plan(struct alb_ctx *ctx, u64 target_bytes, u64 now_ms,
	     struct alb_plan *plan);

/* The plan as it stands, without moving time: after any other call. */
void alb_plan_read(const struct alb_ctx *ctx, struct alb_plan *plan);

/* Application @id's ask and offer as seen at @now_ms. */
int alb_app_state(const struct alb_ctx *ctx, int id, u64 now_ms,
		  struct alb_app_state *st);

#endif /* _KVMX_ALB_POLICY_H */
