// SPDX-License-Identifier: GPL-2.0
/*
 * balloon_alb policy (see alb_policy.h). No kernel headers here:
 * selftests/unit builds this file as it is.
 *
 * Every function works on a context its caller has locked (see the
 * header): nothing here is shared otherwise, and nothing is static but
 * the defaults.
 */
#include "alb_policy.h"

#define ALB_PAGE_MASK	(ALB_PAGE_SIZE - 1)

const struct alb_cfg alb_cfg_default = {
	.deadline_ms = ALB_DEADLINE_DEFAULT_MS,
	.offer_ms = ALB_OFFER_DEFAULT_MS,
};

static u64 min_u64(u64 a, u64 b)
{
	return a < b ? a : b;
}

static u64 add_sat(u64 a, u64 b)
{
	return a + b < a ? U64_MAX : a + b;
}

static u64 pages_of(u64 bytes)
{
	return bytes >> ALB_PAGE_SHIFT;
}

static u64 bytes_of(u64 pages)
{
	return pages << ALB_PAGE_SHIFT;
}

/*
 * a * b / c rounded down, and the remainder in *@rem, exactly: the
 * product is formed in 128 bits from 32-bit halves and divided bit by
 * bit. The quotient must fit in 64 bits (it does when a <= c or b <= c),
 * and c must be in 1..2^63, so that the running remainder (below c)
 * shifted left by one still fits. Here c is a sum of at most
 * ALB_APPS_MAX balances of at most 2^34 pages: below 2^42.
 */
static u64 mul_div(u64 a, u64 b, u64 c, u64 *rem)
{
	u64 p0 = (a & 0xffffffffULL) * (b & 0xffffffffULL);
	u64 p1 = (a & 0xffffffffULL) * (b >> 32);
	u64 p2 = (a >> 32) * (b & 0xffffffffULL);
	u64 p3 = (a >> 32) * (b >> 32);
	u64 mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
	u64 lo = (mid << 32) | (p0 & 0xffffffffULL);
	u64 hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
	u64 q = 0, r = 0;
	int i;

	if (!hi) {
		*rem = lo % c;
		return lo / c;
	}
	for (i = 127; i >= 0; i--) {
		r = (r << 1) | ((i >= 64 ? hi >> (i - 64) : lo >> i) & 1);
		q <<= 1;
		if (r >= c) {
			r -= c;
			q |= 1;
		}
	}
	*rem = r;
	return q;
}

/* ------------------------------------------------------------------ */
/* Validation */

int alb_deadline_check(s64 ms)
{
	if (ms <= 0)
		return -EINVAL;
	if (ms < ALB_DEADLINE_MIN_MS || ms > ALB_DEADLINE_MAX_MS)
		return -ERANGE;
	return 0;
}

int alb_offer_check(s64 ms)
{
	if (ms < 0)
		return -EINVAL;
	if (ms > ALB_OFFER_MAX_MS)
		return -ERANGE;
	return 0;
}

int alb_cfg_check(const struct alb_cfg *cfg)
{
	int err;

	if (!cfg)
		return -EINVAL;
	err = alb_deadline_check(cfg->deadline_ms);
	if (err)
		return err;
	return alb_offer_check(cfg->offer_ms);
}

static int weight_check(u32 weight)
{
	if (weight < ALB_WEIGHT_MIN)
		return -EINVAL;
	if (weight > ALB_WEIGHT_MAX)
		return -ERANGE;
	return 0;
}

int alb_app_check(const struct alb_app_cfg *cfg)
{
	int err;

	if (!cfg)
		return -EINVAL;
	err = weight_check(cfg->weight);
	if (err)
		return err;
	if (cfg->size_bytes > ALB_BYTES_MAX ||
	    cfg->cheap_bytes > ALB_BYTES_MAX ||
	    cfg->floor_bytes > ALB_BYTES_MAX)
		return -ERANGE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Splitting */

static int split_check(const struct alb_app *apps, unsigned int nr,
		       u64 pages, const u64 *split, bool weights)
{
	unsigned int i;
	int err;

	if ((!apps && nr) || !split)
		return -EINVAL;
	if (nr > ALB_APPS_MAX || pages > ALB_PAGES_MAX)
		return -ERANGE;
	for (i = 0; i < nr; i++) {
		if (!apps[i].used)
			continue;
		if (weights) {
			err = weight_check(apps[i].cfg.weight);
			if (err)
				return err;
		}
		if (apps[i].cap > ALB_PAGES_MAX)
			return -ERANGE;
	}
	return 0;
}

/*
 * Give each marked slot the floor of @amount * v / @sum pages, v its cap
 * (@by_cap) or its weight, and the pages left over one each to the
 * largest remainders, ties to the lower index. @sum is the sum of v over
 * the marked slots, above 0, and @amount * v / @sum is below each marked
 * slot's cap, so that one more page still fits. The leftover is below the
 * number of slots with a non-zero remainder, so each gets at most one.
 */
static void apportion(struct alb_app *apps, unsigned int nr, u64 amount,
		      u64 sum, bool by_cap)
{
	struct alb_app *a, *best;
	u64 dealt = 0, left;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		a = &apps[i];
		if (!a->used || !a->mark)
			continue;
		a->share = mul_div(amount, by_cap ? a->cap : a->cfg.weight,
				   sum, &a->rem);
		dealt += a->share;
	}
	for (left = amount - dealt; left; left--) {
		best = NULL;
		for (i = 0; i < nr; i++) {
			a = &apps[i];
			if (!a->used || !a->mark || !a->rem)
				continue;
			if (!best || a->rem > best->rem)
				best = a;
		}
		if (!best)
			break;	/* cannot happen, see above */
		best->share++;
		best->rem = 0;
	}
}

/*
 * Water-filling. The level l (pages per unit of weight) is at least
 * left / W, with W the weight of the slots still open: a slot whose cap is
 * at most its part at that level is capped in the final split too, so
 * every such slot is fixed at its cap at once, and the level is recomputed
 * for the rest. It stops when no open slot fits under the level, after at
 * most one pass per slot. Since the caps add up to more than @pages, some
 * slot stays open: were all fixed, the caps would add up to at most
 * @pages. Products stay below 2^64: caps and @pages are at most 2^34
 * pages, weights at most 2^10, and W at most ALB_APPS_MAX * 1000 < 2^18.
 */
int alb_waterfill(struct alb_app *apps, unsigned int nr, u64 pages,
		  u64 *split)
{
	u64 sum_cap = 0, left, l0, w0;
	struct alb_app *a;
	unsigned int i;
	bool fixed;
	int err;

	err = split_check(apps, nr, pages, split, true);
	if (err)
		return err;
	for (i = 0; i < nr; i++) {
		a = &apps[i];
		if (!a->used)
			continue;
		a->share = 0;
		a->rem = 0;
		a->mark = a->cap > 0;
		sum_cap += a->cap;
	}
	if (sum_cap <= pages) {
		for (i = 0; i < nr; i++) {
			if (apps[i].used)
				apps[i].share = apps[i].cap;
		}
		*split = sum_cap;
		return 0;
	}

	left = pages;
	do {
		l0 = left;
		w0 = 0;
		for (i = 0; i < nr; i++) {
			if (apps[i].used && apps[i].mark)
				w0 += apps[i].cfg.weight;
		}
		fixed = false;
		for (i = 0; i < nr; i++) {
			a = &apps[i];
			if (!a->used || !a->mark)
				continue;
			if (a->cap * w0 <= l0 * a->cfg.weight) {
				a->share = a->cap;
				a->mark = 0;
				left -= a->cap;
				fixed = true;
			}
		}
	} while (fixed);

	w0 = 0;
	for (i = 0; i < nr; i++) {
		if (apps[i].used && apps[i].mark)
			w0 += apps[i].cfg.weight;
	}
	if (w0)
		apportion(apps, nr, left, w0, false);
	*split = pages;
	return 0;
}

/*
 * @pages is below the sum of the caps C, so @pages * cap / C is below
 * each cap: apportion()'s condition holds.
 */
int alb_prorate(struct alb_app *apps, unsigned int nr, u64 pages,
		u64 *split)
{
	struct alb_app *a;
	unsigned int i;
	u64 sum = 0;
	int err;

	err = split_check(apps, nr, pages, split, false);
	if (err)
		return err;
	for (i = 0; i < nr; i++) {
		a = &apps[i];
		if (!a->used)
			continue;
		a->share = 0;
		a->rem = 0;
		a->mark = a->cap > 0;
		sum += a->cap;
	}
	if (pages >= sum) {
		for (i = 0; i < nr; i++) {
			if (apps[i].used)
				apps[i].share = apps[i].cap;
		}
		*split = sum;
		return 0;
	}
	apportion(apps, nr, pages, sum, true);
	*split = pages;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The context */

struct totals {
	u64 app;
	u64 ask;
	u64 offer;
};

static void totals(const struct alb_ctx *ctx, struct totals *t)
{
	const struct alb_app *a;
	unsigned int i;

	t->app = 0;
	t->ask = 0;
	t->offer = 0;
	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (!a->used)
			continue;
		t->app += a->given;
		t->ask += a->ask;
		t->offer += a->offer;
	}
}

/* A new ask or offer for @a: what poll() and STATE see change. */
static void bump(struct alb_ctx *ctx, struct alb_app *a)
{
	a->seq = ++ctx->seq;
}

/* What @a can be asked for, in pages. */
static u64 capacity(const struct alb_app_cfg *cfg)
{
	u64 room = 0;

	if (cfg->size_bytes > cfg->floor_bytes)
		room = cfg->size_bytes - cfg->floor_bytes;
	return pages_of(min_u64(cfg->cheap_bytes, room));
}

int alb_init(struct alb_ctx *ctx, const struct alb_cfg *cfg,
	     struct alb_app *apps, unsigned int nr)
{
	unsigned int i;
	int err;

	if (!ctx || (!apps && nr))
		return -EINVAL;
	if (nr > ALB_APPS_MAX)
		return -ERANGE;
	if (!cfg)
		cfg = &alb_cfg_default;
	err = alb_cfg_check(cfg);
	if (err)
		return err;
	*ctx = (struct alb_ctx){
		.cfg = *cfg,
		.apps = apps,
		.nr_slots = nr,
	};
	for (i = 0; i < nr; i++)
		apps[i] = (struct alb_app){ .used = false };
	return 0;
}

int alb_set_cfg(struct alb_ctx *ctx, const struct alb_cfg *cfg)
{
	int err;

	if (!ctx)
		return -EINVAL;
	err = alb_cfg_check(cfg);
	if (err)
		return err;
	ctx->cfg = *cfg;
	return 0;
}

/* 0 if @id names a used slot of @ctx; -EINVAL or -ENOENT otherwise. */
static int id_check(const struct alb_ctx *ctx, int id)
{
	if (!ctx || id < 0 || (unsigned int)id >= ctx->nr_slots)
		return -EINVAL;
	if (!ctx->apps[id].used)
		return -ENOENT;
	return 0;
}

static struct alb_app *app_get(struct alb_ctx *ctx, int id, int *err)
{
	*err = id_check(ctx, id);
	return *err ? NULL : &ctx->apps[id];
}

int alb_register(struct alb_ctx *ctx, const struct alb_app_cfg *cfg)
{
	unsigned int i;
	int err;

	if (!ctx)
		return -EINVAL;
	err = alb_app_check(cfg);
	if (err)
		return err;
	for (i = 0; i < ctx->nr_slots; i++) {
		if (ctx->apps[i].used)
			continue;
		ctx->apps[i] = (struct alb_app){ .used = true, .cfg = *cfg };
		ctx->nr_apps++;
		return i;
	}
	return -ENOSPC;
}

int alb_update(struct alb_ctx *ctx, int id, const struct alb_app_cfg *cfg)
{
	struct alb_app *a;
	int err;

	a = app_get(ctx, id, &err);
	if (!a)
		return err;
	err = alb_app_check(cfg);
	if (err)
		return err;
	a->cfg = *cfg;
	return 0;
}

int alb_unregister(struct alb_ctx *ctx, int id)
{
	struct alb_app *a;
	int err;

	a = app_get(ctx, id, &err);
	if (!a)
		return err;
	/*
	 * Its balance stays in the balloon on the OS's account, and the OS
	 * fallback inflates what it was still asked for.
	 */
	ctx->os += a->ask + a->given;
	ctx->st.os_left += a->ask + a->given;
	/* the offer's pages go back to the OS now */
	ctx->st.expired += a->offer;
	*a = (struct alb_app){ .used = false };
	ctx->nr_apps--;
	return 0;
}

int alb_give(struct alb_ctx *ctx, int id, u64 bytes, u64 *credited)
{
	struct alb_app *a;
	u64 c;
	int err;

	a = app_get(ctx, id, &err);
	if (!a)
		return err;
	if (!credited)
		return -EINVAL;
	if (bytes > ALB_BYTES_MAX)
		return -ERANGE;
	c = min_u64(bytes & ~ALB_PAGE_MASK, a->ask);
	a->ask -= c;
	a->given += c;
	a->cfg.size_bytes -= min_u64(a->cfg.size_bytes, c);
	a->cfg.cheap_bytes -= min_u64(a->cfg.cheap_bytes, c);
	a->st.given += c;
	if (c)
		a->st.gives++;
	ctx->st.given += c;
	*credited = c;
	return 0;
}

int alb_decline(struct alb_ctx *ctx, int id, u64 seq)
{
	struct alb_app *a;
	int err;

	a = app_get(ctx, id, &err);
	if (!a)
		return err;
	if (seq != a->seq)
		return -ESTALE;
	if (!a->ask)
		return 0;
	ctx->os += a->ask;
	ctx->st.os_declined += a->ask;
	ctx->st.declines++;
	a->st.declined += a->ask;
	a->st.declines++;
	a->ask = 0;
	return 0;
}

int alb_take(struct alb_ctx *ctx, int id, u64 bytes, u64 *taken)
{
	struct alb_app *a;
	u64 t;
	int err;

	a = app_get(ctx, id, &err);
	if (!a)
		return err;
	if (!taken)
		return -EINVAL;
	if (bytes > ALB_BYTES_MAX)
		return -ERANGE;
	t = min_u64(bytes & ~ALB_PAGE_MASK, a->offer);
	a->offer -= t;
	a->cfg.size_bytes = min_u64(a->cfg.size_bytes + t, ALB_BYTES_MAX);
	a->st.taken += t;
	ctx->st.taken += t;
	*taken = t;
	return 0;
}

/* Take @pages out of the offers, in proportion: they return to the OS. */
static u64 offers_out(struct alb_ctx *ctx, u64 pages, bool into_balloon)
{
	struct alb_app *a;
	unsigned int i;
	u64 done = 0, s;

	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (a->used)
			a->cap = pages_of(a->offer);
	}
	alb_prorate(ctx->apps, ctx->nr_slots, pages, &done);
	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (!a->used || !a->share)
			continue;
		s = bytes_of(a->share);
		a->offer -= s;
		if (into_balloon) {
			a->given += s;
			a->st.withdrawn += s;
			ctx->st.withdrawn += s;
		} else {
			a->st.expired += s;
			ctx->st.expired += s;
		}
		bump(ctx, a);
	}
	return done;
}

/* Take @pages out of the balances, in proportion. */
static u64 balances_out(struct alb_ctx *ctx, u64 pages, bool oom)
{
	bool offer = !oom && ctx->cfg.offer_ms;
	struct alb_app *a;
	unsigned int i;
	u64 done = 0, s;

	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (a->used)
			a->cap = pages_of(a->given);
	}
	alb_prorate(ctx->apps, ctx->nr_slots, pages, &done);
	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (!a->used || !a->share)
			continue;
		s = bytes_of(a->share);
		a->given -= s;
		if (oom) {
			a->st.lost += s;
		} else if (offer) {
			a->offer += s;
			a->st.offered += s;
			ctx->st.offered += s;
			bump(ctx, a);
		} else {
			a->st.returned += s;
			ctx->st.returned += s;
		}
	}
	return done;
}

static void cancel_asks(struct alb_ctx *ctx)
{
	struct alb_app *a;
	unsigned int i;

	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (!a->used || !a->ask)
			continue;
		a->st.cancelled += a->ask;
		a->ask = 0;
		bump(ctx, a);
	}
	ctx->ask_deadline_ms = 0;
}

/*
 * The balloon should grow by @pages. Offers are taken back first, then
 * the rest is asked of the applications; their open asks are replaced by
 * the new ones, so a rise counts as asked and a fall as cancelled.
 */
static void inflate(struct alb_ctx *ctx, u64 pages, u64 now, bool asks_open)
{
	u64 covered = 0, deadline, old, ask;
	struct alb_app *a;
	unsigned int i;

	pages -= offers_out(ctx, pages, true);

	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (a->used)
			a->cap = capacity(&a->cfg);
	}
	alb_waterfill(ctx->apps, ctx->nr_slots, pages, &covered);

	ctx->os += bytes_of(pages - covered);
	ctx->st.os_at_once += bytes_of(pages - covered);

	/* a moving target must not keep the fallback waiting for ever */
	deadline = 0;
	if (covered) {
		deadline = add_sat(now, ctx->cfg.deadline_ms);
		if (asks_open && ctx->ask_deadline_ms)
			deadline = min_u64(deadline, ctx->ask_deadline_ms);
	}

	for (i = 0; i < ctx->nr_slots; i++) {
		a = &ctx->apps[i];
		if (!a->used)
			continue;
		old = a->ask;
		ask = bytes_of(a->share);
		if (ask > old) {
			a->st.asked += ask - old;
			ctx->st.asked += ask - old;
		} else {
			a->st.cancelled += old - ask;
		}
		if (ask)
			a->st.asks++;
		a->ask = ask;
		if (ask != old || (ask && deadline != ctx->ask_deadline_ms))
			bump(ctx, a);
	}
	ctx->ask_deadline_ms = deadline;
}

/*
 * The balloon should shrink by @pages: the applications' balances first,
 * offered back to them, then the OS's part.
 */
static void deflate(struct alb_ctx *ctx, u64 pages, u64 now)
{
	u64 from_apps;
	struct totals t;

	cancel_asks(ctx);
	from_apps = balances_out(ctx, pages, false);
	ctx->os -= bytes_of(pages - from_apps);
	totals(ctx, &t);
	if (from_apps && ctx->cfg.offer_ms)
		ctx->offer_deadline_ms = add_sat(now, ctx->cfg.offer_ms);
	else if (!t.offer)
		ctx->offer_deadline_ms = 0;
}

static void new_round(struct alb_ctx *ctx, u64 target, u64 now)
{
	struct totals t;
	u64 held;

	totals(ctx, &t);
	held = ctx->os + t.app;
	ctx->started = true;
	ctx->target = target;
	ctx->st.rounds++;
	if (target > held)
		inflate(ctx, pages_of(target - held), now, t.ask > 0);
	else if (target < held)
		deflate(ctx, pages_of(held - target), now);
	else
		cancel_asks(ctx);
}

static void expire(struct alb_ctx *ctx, u64 now)
{
	struct alb_app *a;
	unsigned int i;

	if (ctx->ask_deadline_ms && now >= ctx->ask_deadline_ms) {
		for (i = 0; i < ctx->nr_slots; i++) {
			a = &ctx->apps[i];
			if (!a->used || !a->ask)
				continue;
			ctx->os += a->ask;
			ctx->st.os_missed += a->ask;
			ctx->st.misses++;
			a->st.missed += a->ask;
			a->st.misses++;
			a->ask = 0;
			bump(ctx, a);
		}
		ctx->ask_deadline_ms = 0;
	}
	if (ctx->offer_deadline_ms && now >= ctx->offer_deadline_ms) {
		for (i = 0; i < ctx->nr_slots; i++) {
			a = &ctx->apps[i];
			if (!a->used || !a->offer)
				continue;
			a->st.expired += a->offer;
			ctx->st.expired += a->offer;
			a->offer = 0;
			bump(ctx, a);
		}
		ctx->offer_deadline_ms = 0;
	}
}

int alb_oom(struct alb_ctx *ctx, u64 bytes, u64 *freed)
{
	u64 need, done, os;
	struct totals t;

	if (!ctx || !freed)
		return -EINVAL;
	if (bytes > ALB_BYTES_MAX)
		return -ERANGE;
	need = pages_of(bytes);
	done = offers_out(ctx, need, false);
	os = min_u64(need - done, pages_of(ctx->os));
	ctx->os -= bytes_of(os);
	done += os;
	done += balances_out(ctx, need - done, true);
	totals(ctx, &t);
	if (!t.offer)
		ctx->offer_deadline_ms = 0;
	*freed = bytes_of(done);
	ctx->st.oom += *freed;
	return 0;
}

int alb_plan(struct alb_ctx *ctx, u64 target_bytes, u64 now_ms,
	     struct alb_plan *plan)
{
	bool round;
	u64 target;

	if (!ctx || !plan || now_ms < ctx->now_ms)
		return -EINVAL;
	if (target_bytes > ALB_BYTES_MAX)
		return -ERANGE;
	ctx->now_ms = now_ms;
	expire(ctx, now_ms);
	target = target_bytes & ~ALB_PAGE_MASK;
	round = !ctx->started || target != ctx->target;
	if (round)
		new_round(ctx, target, now_ms);
	alb_plan_read(ctx, plan);
	plan->new_round = round;
	return 0;
}

void alb_plan_read(const struct alb_ctx *ctx, struct alb_plan *plan)
{
	struct totals t;
	u64 next = 0;

	totals(ctx, &t);
	if (t.ask && ctx->ask_deadline_ms)
		next = ctx->ask_deadline_ms;
	if (t.offer && ctx->offer_deadline_ms &&
	    (!next || ctx->offer_deadline_ms < next))
		next = ctx->offer_deadline_ms;
	*plan = (struct alb_plan){
		.seq = ctx->seq,
		.target = ctx->target,
		.os_bytes = ctx->os,
		.app_bytes = t.app,
		.ask_bytes = t.ask,
		.offer_bytes = t.offer,
		.next_ms = next,
	};
}

static u32 left_ms(u64 deadline, u64 now)
{
	if (deadline <= now)
		return 0;
	return (u32)min_u64(deadline - now, 0xffffffffULL);
}

int alb_app_state(const struct alb_ctx *ctx, int id, u64 now_ms,
		  struct alb_app_state *st)
{
	const struct alb_app *a;
	int err;

	err = id_check(ctx, id);
	if (err)
		return err;
	if (!st)
		return -EINVAL;
	a = &ctx->apps[id];
	*st = (struct alb_app_state){
		.seq = a->seq,
		.ask_bytes = a->ask,
		.offer_bytes = a->offer,
		.given_bytes = a->given,
	};
	if (a->ask) {
		st->ask_deadline_ms = ctx->ask_deadline_ms;
		st->ask_left_ms = left_ms(ctx->ask_deadline_ms, now_ms);
	}
	if (a->offer) {
		st->offer_deadline_ms = ctx->offer_deadline_ms;
		st->offer_left_ms = left_ms(ctx->offer_deadline_ms, now_ms);
	}
	return 0;
}
