// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of balloon_alb/alb_policy.c, and of the layout of
 * the /dev/balloon_alb ABI (include/uapi/kvmx/balloon_alb.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/ioctl.h>
#include <uapi/kvmx/balloon_alb.h>
#include "alb_policy.h"

#include "unit_tap.h"

#define PG	ALB_PAGE_SIZE
#define MIB	(1024ULL * 1024)
#define GIB	(1024ULL * MIB)
#define TIB	(1024ULL * GIB)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exact arithmetic for the references. */
#define u128 unsigned __int128

/* ------------------------------------------------------------------ */
/* The ABI, checked at compile time: sizes, offsets, no padding. */

#define SIZE_IS(type, size)						\
	_Static_assert(sizeof(struct type) == (size), #type " size")
#define AT(type, field, off)						\
	_Static_assert(offsetof(struct type, field) == (off),		\
		       #type "." #field " offset")

SIZE_IS(balloon_alb_version, BALLOON_ALB_VERSION_SIZE);
SIZE_IS(balloon_alb_register, BALLOON_ALB_REGISTER_SIZE);
SIZE_IS(balloon_alb_state, BALLOON_ALB_STATE_SIZE);
SIZE_IS(balloon_alb_give, BALLOON_ALB_GIVE_SIZE);
SIZE_IS(balloon_alb_decline, BALLOON_ALB_DECLINE_SIZE);
SIZE_IS(balloon_alb_offer, BALLOON_ALB_OFFER_SIZE);
SIZE_IS(balloon_alb_take, BALLOON_ALB_TAKE_SIZE);
_Static_assert(BALLOON_ALB_VERSION_SIZE == 32, "version is 32 bytes");
_Static_assert(BALLOON_ALB_REGISTER_SIZE == 64, "register is 64 bytes");
_Static_assert(BALLOON_ALB_STATE_SIZE == 80, "state is 80 bytes");
_Static_assert(BALLOON_ALB_GIVE_SIZE == 64, "give is 64 bytes");
_Static_assert(BALLOON_ALB_DECLINE_SIZE == 32, "decline is 32 bytes");
_Static_assert(BALLOON_ALB_OFFER_SIZE == 48, "offer is 48 bytes");
_Static_assert(BALLOON_ALB_TAKE_SIZE == 32, "take is 32 bytes");

AT(balloon_alb_version, version, 0);
AT(balloon_alb_version, page_size, 4);
AT(balloon_alb_version, weight_max, 8);
AT(balloon_alb_version, reserved0, 12);
AT(balloon_alb_version, bytes_max, 16);
AT(balloon_alb_version, reserved, 24);

AT(balloon_alb_register, version, 0);
AT(balloon_alb_register, weight, 4);
AT(balloon_alb_register, size_bytes, 8);
AT(balloon_alb_register, cheap_bytes, 16);
AT(balloon_alb_register, floor_bytes, 24);
AT(balloon_alb_register, flags, 32);
AT(balloon_alb_register, reserved, 40);

AT(balloon_alb_state, seq, 0);
AT(balloon_alb_state, ask_bytes, 8);
AT(balloon_alb_state, ask_deadline_ns, 16);
AT(balloon_alb_state, ask_left_ms, 24);
AT(balloon_alb_state, reserved0, 28);
AT(balloon_alb_state, offer_bytes, 32);
AT(balloon_alb_state, given_bytes, 40);
AT(balloon_alb_state, reserved, 48);

AT(balloon_alb_give, mode, 0);
AT(balloon_alb_give, flags, 4);
AT(balloon_alb_give, addr, 8);
AT(balloon_alb_give, len, 16);
AT(balloon_alb_give, credited, 24);
AT(balloon_alb_give, reserved, 32);

AT(balloon_alb_decline, seq, 0);
AT(balloon_alb_decline, reserved, 8);

AT(balloon_alb_offer, seq, 0);
AT(balloon_alb_offer, offer_bytes, 8);
AT(balloon_alb_offer, deadline_ns, 16);
AT(balloon_alb_offer, left_ms, 24);
AT(balloon_alb_offer, reserved0, 28);
AT(balloon_alb_offer, reserved, 32);

AT(balloon_alb_take, bytes, 0);
AT(balloon_alb_take, taken, 8);
AT(balloon_alb_take, reserved, 16);

/* The policy and the ABI agree on their limits. */
_Static_assert(BALLOON_ALB_PAGE_SIZE == ALB_PAGE_SIZE, "page size");
_Static_assert(BALLOON_ALB_BYTES_MAX == ALB_BYTES_MAX, "byte limit");
_Static_assert(BALLOON_ALB_WEIGHT_MIN == ALB_WEIGHT_MIN, "weight min");
_Static_assert(BALLOON_ALB_WEIGHT_MAX == ALB_WEIGHT_MAX, "weight max");

static void test_abi(void)
{
	const unsigned long cmd[] = {
		BALLOON_ALB_GET_VERSION, BALLOON_ALB_REGISTER,
		BALLOON_ALB_UNREGISTER, BALLOON_ALB_STATE, BALLOON_ALB_GIVE,
		BALLOON_ALB_DECLINE, BALLOON_ALB_OFFER, BALLOON_ALB_TAKE,
	};
	const unsigned int size[] = {
		32, 64, 0, 80, 64, 32, 48, 32,
	};
	const unsigned int dir[] = {
		_IOC_READ, _IOC_WRITE, _IOC_NONE, _IOC_READ,
		_IOC_READ | _IOC_WRITE, _IOC_WRITE, _IOC_READ,
		_IOC_READ | _IOC_WRITE,
	};
	unsigned int i, ok = 1;

	for (i = 0; i < ARRAY_SIZE(cmd); i++) {
		if (_IOC_TYPE(cmd[i]) != BALLOON_ALB_IOC_MAGIC ||
		    _IOC_NR(cmd[i]) != i || _IOC_SIZE(cmd[i]) != size[i] ||
		    _IOC_DIR(cmd[i]) != dir[i]) {
			printf("# ioctl %u: type %#x nr %u size %u dir %u\n", i,
			       (unsigned int)_IOC_TYPE(cmd[i]),
			       (unsigned int)_IOC_NR(cmd[i]),
			       (unsigned int)_IOC_SIZE(cmd[i]),
			       (unsigned int)_IOC_DIR(cmd[i]));
			ok = 0;
		}
	}
	CHECK(ok, "ioctl numbers: magic 0xBA, numbers 0..7, sizes, directions");
	CHECK(BALLOON_ALB_VERSION == 1 && BALLOON_ALB_GIVE_FREED == 1 &&
	      BALLOON_ALB_GIVE_RANGE == 2 &&
	      !strcmp(BALLOON_ALB_DEVICE, "/dev/balloon_alb"),
	      "version 1, give modes, device path");
}

/* ------------------------------------------------------------------ */
/* Helpers */

static struct alb_app slots[ALB_APPS_MAX];
static struct alb_ctx ctx;

static struct alb_app_cfg app(u64 size, u64 cheap, u64 floor, u32 weight)
{
	return (struct alb_app_cfg){
		.size_bytes = size,
		.cheap_bytes = cheap,
		.floor_bytes = floor,
		.weight = weight,
	};
}

static int fresh(unsigned int nr, u32 deadline_ms, u32 offer_ms)
{
	struct alb_cfg cfg = {
		.deadline_ms = deadline_ms,
		.offer_ms = offer_ms,
	};

	return alb_init(&ctx, &cfg, slots, nr);
}

/*
 * Every invariant the header states: per-application books balance, no
 * open ask together with an open offer, and (@exact, outside OOM)
 * os + app + ask == target. Prints the first that fails.
 */
static int sound(const struct alb_ctx *c, int exact)
{
	u64 app = 0, ask = 0, offer = 0;
	unsigned int i, used = 0;
	struct alb_plan p;

	for (i = 0; i < c->nr_slots; i++) {
		const struct alb_app *a = &c->apps[i];
		const struct alb_app_stats *s = &a->st;

		if (!a->used)
			continue;
		used++;
		if (s->asked != s->given + s->declined + s->missed +
				s->cancelled + a->ask) {
			printf("# app %u: asked %llu != given %llu + declined %llu + missed %llu + cancelled %llu + ask %llu\n",
			       i, (unsigned long long)s->asked,
			       (unsigned long long)s->given,
			       (unsigned long long)s->declined,
			       (unsigned long long)s->missed,
			       (unsigned long long)s->cancelled,
			       (unsigned long long)a->ask);
			return 0;
		}
		if (s->offered != s->taken + s->withdrawn + s->expired +
				  a->offer) {
			printf("# app %u: offers do not add up\n", i);
			return 0;
		}
		if (a->given != s->given + s->withdrawn - s->offered -
				s->returned - s->lost) {
			printf("# app %u: balance does not add up\n", i);
			return 0;
		}
		if (a->ask && a->offer) {
			printf("# app %u: an ask and an offer at once\n", i);
			return 0;
		}
		if ((a->ask | a->given | a->offer) & (PG - 1)) {
			printf("# app %u: not whole pages\n", i);
			return 0;
		}
		app += a->given;
		ask += a->ask;
		offer += a->offer;
	}
	alb_plan_read(c, &p);
	if (used != c->nr_apps || p.app_bytes != app || p.ask_bytes != ask ||
	    p.offer_bytes != offer || p.os_bytes != c->os) {
		printf("# plan does not match the slots\n");
		return 0;
	}
	if (c->os & (PG - 1)) {
		printf("# os not whole pages\n");
		return 0;
	}
	if (exact && c->started && c->os + app + ask != c->target) {
		printf("# os %llu + app %llu + ask %llu != target %llu\n",
		       (unsigned long long)c->os, (unsigned long long)app,
		       (unsigned long long)ask, (unsigned long long)c->target);
		return 0;
	}
	if (!exact && c->started && c->os + app + ask > c->target) {
		printf("# os + app + ask above the target\n");
		return 0;
	}
	return 1;
}

/* A small deterministic generator (xorshift64*). */
static u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* ------------------------------------------------------------------ */
/* Validation */

static void test_checks(void)
{
	struct alb_app_cfg c;
	struct alb_cfg cfg;

	CHECK(alb_deadline_check(ALB_DEADLINE_DEFAULT_MS) == 0 &&
	      alb_deadline_check(ALB_DEADLINE_MIN_MS) == 0 &&
	      alb_deadline_check(ALB_DEADLINE_MAX_MS) == 0,
	      "deadline: default, min and max accepted");
	CHECK(alb_deadline_check(0) == -EINVAL &&
	      alb_deadline_check(-1) == -EINVAL,
	      "deadline: 0 and negative are -EINVAL");
	CHECK(alb_deadline_check(ALB_DEADLINE_MIN_MS - 1) == -ERANGE &&
	      alb_deadline_check(ALB_DEADLINE_MAX_MS + 1) == -ERANGE &&
	      alb_deadline_check((s64)1 << 40) == -ERANGE,
	      "deadline: outside 100..8000 is -ERANGE");
	CHECK(ALB_DEADLINE_DEFAULT_MS == 3000 && ALB_DEADLINE_MAX_MS < 10000,
	      "deadline: default 3 s, never up to idle_tax's balloon_grace_ms (10000)");
	CHECK(alb_offer_check(0) == 0 && alb_offer_check(ALB_OFFER_MAX_MS) == 0 &&
	      alb_offer_check(-1) == -EINVAL &&
	      alb_offer_check(ALB_OFFER_MAX_MS + 1) == -ERANGE,
	      "offer window: 0..60000, -EINVAL below, -ERANGE above");
	cfg = alb_cfg_default;
	CHECK(alb_cfg_check(&cfg) == 0 && alb_cfg_check(NULL) == -EINVAL,
	      "the default configuration is valid; NULL is -EINVAL");
	cfg.deadline_ms = 0;
	CHECK(alb_cfg_check(&cfg) == -EINVAL, "cfg with deadline 0: -EINVAL");
	cfg.deadline_ms = 50;
	CHECK(alb_cfg_check(&cfg) == -ERANGE, "cfg with deadline 50: -ERANGE");
	cfg = alb_cfg_default;
	cfg.offer_ms = ALB_OFFER_MAX_MS + 1;
	CHECK(alb_cfg_check(&cfg) == -ERANGE, "cfg with a long offer: -ERANGE");

	c = app(GIB, GIB, 0, 1);
	CHECK(alb_app_check(&c) == 0, "app: weight 1 accepted");
	c.weight = ALB_WEIGHT_MAX;
	CHECK(alb_app_check(&c) == 0, "app: weight 1000 accepted");
	c.weight = 0;
	CHECK(alb_app_check(&c) == -EINVAL, "app: weight 0 is -EINVAL");
	c.weight = ALB_WEIGHT_MAX + 1;
	CHECK(alb_app_check(&c) == -ERANGE, "app: weight 1001 is -ERANGE");
	c.weight = 0xffffffffU;
	CHECK(alb_app_check(&c) == -ERANGE, "app: weight 2^32-1 is -ERANGE");
	c = app(ALB_BYTES_MAX, ALB_BYTES_MAX, ALB_BYTES_MAX, 5);
	CHECK(alb_app_check(&c) == 0, "app: every byte count at the limit");
	c.size_bytes++;
	CHECK(alb_app_check(&c) == -ERANGE, "app: size above the limit");
	c = app(GIB, U64_MAX, 0, 5);
	CHECK(alb_app_check(&c) == -ERANGE, "app: cheap above the limit");
	c = app(GIB, GIB, ALB_BYTES_MAX + 1, 5);
	CHECK(alb_app_check(&c) == -ERANGE, "app: floor above the limit");
	c = app(GIB, GIB, 2 * GIB, 5);
	CHECK(alb_app_check(&c) == 0, "app: a floor above the size is valid");
	CHECK(alb_app_check(NULL) == -EINVAL, "app: NULL is -EINVAL");
}

/* ------------------------------------------------------------------ */
/* Splitting, on bare slot arrays */

static struct alb_app parts[ALB_APPS_MAX];

static void parts_set(unsigned int nr, const u64 *cap, const u32 *w)
{
	unsigned int i;

	memset(parts, 0, sizeof(parts));
	for (i = 0; i < nr; i++) {
		parts[i].used = true;
		parts[i].cap = cap[i];
		parts[i].cfg.weight = w ? w[i] : 1;
	}
}

/*
 * The exact water-filling split, another way: visit the slots in the
 * order of cap / weight, capping while the cap fits under the level of
 * those left. Slot i's exact part is num[i] / den[i].
 */
static void ref_waterfill(unsigned int nr, u64 pages, u128 *num,
			  u128 *den)
{
	unsigned int order[ALB_APPS_MAX], i, j, t;
	u128 left = pages, wsum = 0, sum_cap = 0;

	for (i = 0; i < nr; i++) {
		order[i] = i;
		sum_cap += parts[i].cap;
		wsum += parts[i].cfg.weight;
	}
	if (sum_cap <= pages) {
		for (i = 0; i < nr; i++) {
			num[i] = parts[i].cap;
			den[i] = 1;
		}
		return;
	}
	for (i = 1; i < nr; i++) {
		for (j = i; j > 0; j--) {
			const struct alb_app *a = &parts[order[j - 1]];
			const struct alb_app *b = &parts[order[j]];

			if ((u128)a->cap * b->cfg.weight <=
			    (u128)b->cap * a->cfg.weight)
				break;
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	}
	for (i = 0; i < nr; i++) {
		const struct alb_app *a = &parts[order[i]];

		if ((u128)a->cap * wsum > left * a->cfg.weight)
			break;
		num[order[i]] = a->cap;
		den[order[i]] = 1;
		left -= a->cap;
		wsum -= a->cfg.weight;
	}
	for (; i < nr; i++) {
		num[order[i]] = left * parts[order[i]].cfg.weight;
		den[order[i]] = wsum;
	}
}

/* The split is within a page of the exact one and adds up. */
static int waterfill_matches(unsigned int nr, u64 pages)
{
	static u128 num[ALB_APPS_MAX], den[ALB_APPS_MAX];
	u128 sum = 0, sum_cap = 0, lo, hi;
	unsigned int i;
	u64 split = 0;

	if (alb_waterfill(parts, nr, pages, &split))
		return 0;
	ref_waterfill(nr, pages, num, den);
	for (i = 0; i < nr; i++) {
		lo = num[i] / den[i];
		hi = lo + (num[i] % den[i] ? 1 : 0);
		if (parts[i].share < lo || parts[i].share > hi ||
		    parts[i].share > parts[i].cap) {
			printf("# slot %u: share %llu, exact %llu..%llu, cap %llu\n",
			       i, (unsigned long long)parts[i].share,
			       (unsigned long long)lo, (unsigned long long)hi,
			       (unsigned long long)parts[i].cap);
			return 0;
		}
		sum += parts[i].share;
		sum_cap += parts[i].cap;
	}
	if (sum != split || split != (sum_cap < pages ? sum_cap : pages)) {
		printf("# split %llu, sum %llu\n", (unsigned long long)split,
		       (unsigned long long)sum);
		return 0;
	}
	return 1;
}

/* Each part is within a page of pages * cap / C and they add up. */
static int prorate_matches(unsigned int nr, u64 pages)
{
	u128 sum_cap = 0, sum = 0, lo;
	unsigned int i;
	u64 split = 0;

	if (alb_prorate(parts, nr, pages, &split))
		return 0;
	for (i = 0; i < nr; i++)
		sum_cap += parts[i].cap;
	for (i = 0; i < nr; i++) {
		if (pages >= sum_cap)
			lo = parts[i].cap;
		else
			lo = (u128)pages * parts[i].cap / sum_cap;
		if (parts[i].share < lo || parts[i].share > lo + 1 ||
		    parts[i].share > parts[i].cap) {
			printf("# slot %u: share %llu, exact floor %llu\n", i,
			       (unsigned long long)parts[i].share,
			       (unsigned long long)lo);
			return 0;
		}
		sum += parts[i].share;
	}
	return sum == split && split == (sum_cap < pages ? sum_cap : pages);
}

static void test_waterfill(void)
{
	u64 cap[ALB_APPS_MAX], split;
	u32 w[ALB_APPS_MAX];
	unsigned int i, r, nr, ok;

	cap[0] = 1000;
	cap[1] = 1000;
	w[0] = 1;
	w[1] = 3;
	parts_set(2, cap, w);
	CHECK(alb_waterfill(parts, 2, 400, &split) == 0 && split == 400 &&
	      parts[0].share == 100 && parts[1].share == 300,
	      "weights 1:3 split 400 pages 100:300");

	cap[0] = 50;
	cap[1] = 1000;
	cap[2] = 1000;
	w[0] = w[1] = w[2] = 10;
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 600, &split) == 0 && split == 600 &&
	      parts[0].share == 50 && parts[1].share == 275 &&
	      parts[2].share == 275,
	      "a capped slot's excess goes to the others: 50, 275, 275");

	cap[0] = 10;
	cap[1] = 20;
	cap[2] = 1000;
	w[0] = 100;
	w[1] = 100;
	w[2] = 1;
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 100, &split) == 0 && split == 100 &&
	      parts[0].share == 10 && parts[1].share == 20 &&
	      parts[2].share == 70,
	      "heavy slots capped, a light one takes the rest: 10, 20, 70");

	cap[0] = 10;
	cap[1] = 20;
	cap[2] = 30;
	w[0] = 1;
	w[1] = 500;
	w[2] = 1000;
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 1000, &split) == 0 && split == 60 &&
	      parts[0].share == 10 && parts[1].share == 20 &&
	      parts[2].share == 30,
	      "caps below the amount: every slot at its cap, split 60");

	cap[0] = 0;
	cap[1] = 100;
	w[0] = 1000;
	w[1] = 1;
	parts_set(2, cap, w);
	CHECK(alb_waterfill(parts, 2, 40, &split) == 0 && split == 40 &&
	      parts[0].share == 0 && parts[1].share == 40,
	      "a slot with no capacity gets nothing, whatever its weight");

	cap[0] = cap[1] = cap[2] = 100;
	w[0] = w[1] = w[2] = 1;
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 10, &split) == 0 && split == 10 &&
	      parts[0].share == 4 && parts[1].share == 3 &&
	      parts[2].share == 3,
	      "10 pages in three: the leftover page goes to the lowest index");

	cap[0] = cap[1] = cap[2] = 100;
	w[0] = 1;
	w[1] = 2;
	w[2] = 2;
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 7, &split) == 0 && split == 7 &&
	      parts[0].share == 1 && parts[1].share == 3 &&
	      parts[2].share == 3,
	      "7 pages at 1:2:2: largest remainders (0.4, 0.8, 0.8) win");

	parts_set(3, cap, w);
	parts[1].used = false;
	CHECK(alb_waterfill(parts, 3, 30, &split) == 0 && split == 30 &&
	      parts[0].share == 10 && parts[2].share == 20,
	      "unused slots are skipped");

	CHECK(alb_waterfill(parts, 0, 30, &split) == 0 && split == 0,
	      "no slots: nothing split");
	parts_set(3, cap, w);
	CHECK(alb_waterfill(parts, 3, 0, &split) == 0 && split == 0 &&
	      !parts[0].share && !parts[1].share && !parts[2].share,
	      "0 pages: every share 0");

	/* against the reference, random */
	ok = 1;
	for (r = 0; r < 3000 && ok; r++) {
		nr = 1 + rnd_below(r < 2000 ? 8 : ALB_APPS_MAX);
		for (i = 0; i < nr; i++) {
			switch (rnd_below(4)) {
			case 0:
				cap[i] = 0;
				break;
			case 1:
				cap[i] = rnd_below(100);
				break;
			case 2:
				cap[i] = rnd_below(1 << 20);
				break;
			default:
				cap[i] = rnd_below(ALB_PAGES_MAX + 1);
			}
			w[i] = 1 + rnd_below(rnd_below(2) ? 3 : ALB_WEIGHT_MAX);
		}
		parts_set(nr, cap, w);
		ok = waterfill_matches(nr, rnd_below(2) ?
				       rnd_below(1 << 22) :
				       rnd_below(ALB_PAGES_MAX + 1));
	}
	CHECK(ok, "3000 random splits within a page of the exact water level");

	/* fairness: no uncapped slot is more than a page behind another */
	ok = 1;
	for (r = 0; r < 1000 && ok; r++) {
		unsigned int j;

		nr = 2 + rnd_below(30);
		for (i = 0; i < nr; i++) {
			cap[i] = rnd_below(5000);
			w[i] = 1 + rnd_below(ALB_WEIGHT_MAX);
		}
		parts_set(nr, cap, w);
		alb_waterfill(parts, nr, rnd_below(50000), &split);
		for (i = 0; i < nr && ok; i++) {
			if (parts[i].share >= parts[i].cap)
				continue;
			for (j = 0; j < nr; j++) {
				/* (s_j - 1) / w_j < (s_i + 1) / w_i */
				if (parts[j].share &&
				    (parts[j].share - 1) * w[i] >=
				    (parts[i].share + 1) * w[j])
					ok = 0;
			}
		}
	}
	CHECK(ok, "water level: an uncapped slot is never a page behind");

	/* the largest figures */
	for (i = 0; i < ALB_APPS_MAX; i++) {
		cap[i] = ALB_PAGES_MAX;
		w[i] = i & 1 ? ALB_WEIGHT_MAX : 1;
	}
	parts_set(ALB_APPS_MAX, cap, w);
	CHECK(waterfill_matches(ALB_APPS_MAX, ALB_PAGES_MAX),
	      "256 slots with 2^34-page caps, weights 1 and 1000, 2^34 pages");
	for (i = 0; i < ALB_APPS_MAX; i++)
		cap[i] = i < 255 ? 1 : ALB_PAGES_MAX;
	parts_set(ALB_APPS_MAX, cap, w);
	CHECK(waterfill_matches(ALB_APPS_MAX, ALB_PAGES_MAX) &&
	      parts[255].share == ALB_PAGES_MAX - 255,
	      "255 one-page caps, one huge: it takes the rest");

	/* bad input */
	parts_set(2, cap, w);
	CHECK(alb_waterfill(parts, 2, 10, NULL) == -EINVAL &&
	      alb_waterfill(NULL, 2, 10, &split) == -EINVAL,
	      "waterfill: NULL pointers are -EINVAL");
	CHECK(alb_waterfill(parts, ALB_APPS_MAX + 1, 10, &split) == -ERANGE,
	      "waterfill: more than ALB_APPS_MAX slots is -ERANGE");
	CHECK(alb_waterfill(parts, 2, ALB_PAGES_MAX + 1, &split) == -ERANGE,
	      "waterfill: more than 2^34 pages is -ERANGE");
	parts[1].cap = ALB_PAGES_MAX + 1;
	CHECK(alb_waterfill(parts, 2, 10, &split) == -ERANGE &&
	      alb_prorate(parts, 2, 10, &split) == -ERANGE,
	      "a cap above 2^34 pages is -ERANGE");
	parts_set(2, cap, w);
	parts[0].cfg.weight = 0;
	CHECK(alb_waterfill(parts, 2, 10, &split) == -EINVAL,
	      "waterfill: weight 0 is -EINVAL");
	parts[0].cfg.weight = ALB_WEIGHT_MAX + 1;
	CHECK(alb_waterfill(parts, 2, 10, &split) == -ERANGE,
	      "waterfill: weight 1001 is -ERANGE");
	CHECK(alb_prorate(parts, 2, 10, &split) == 0,
	      "prorate does not look at weights");
}

static void test_prorate(void)
{
	u64 cap[ALB_APPS_MAX], split;
	unsigned int i, r, nr, ok;

	cap[0] = 100;
	cap[1] = 300;
	parts_set(2, cap, NULL);
	CHECK(alb_prorate(parts, 2, 200, &split) == 0 && split == 200 &&
	      parts[0].share == 50 && parts[1].share == 150,
	      "200 from balances 100 and 300: 50 and 150");
	parts_set(2, cap, NULL);
	CHECK(alb_prorate(parts, 2, 1000, &split) == 0 && split == 400 &&
	      parts[0].share == 100 && parts[1].share == 300,
	      "more than the balances: all of them");
	cap[0] = cap[1] = cap[2] = 1;
	parts_set(3, cap, NULL);
	CHECK(alb_prorate(parts, 3, 2, &split) == 0 && split == 2 &&
	      parts[0].share == 1 && parts[1].share == 1 && !parts[2].share,
	      "2 of three single pages: the lower indexes");
	cap[0] = 0;
	cap[1] = 7;
	parts_set(2, cap, NULL);
	CHECK(alb_prorate(parts, 2, 3, &split) == 0 && split == 3 &&
	      !parts[0].share && parts[1].share == 3,
	      "an empty balance gives nothing");

	ok = 1;
	for (r = 0; r < 3000 && ok; r++) {
		nr = 1 + rnd_below(r < 2000 ? 8 : ALB_APPS_MAX);
		for (i = 0; i < nr; i++)
			cap[i] = rnd_below(2) ? rnd_below(1000) :
				 rnd_below(ALB_PAGES_MAX + 1);
		parts_set(nr, cap, NULL);
		ok = prorate_matches(nr, rnd_below(ALB_PAGES_MAX + 1));
	}
	CHECK(ok, "3000 random proportional splits, exact to a page");

	/* products of 2^68: the 128-bit division */
	for (i = 0; i < ALB_APPS_MAX; i++)
		cap[i] = ALB_PAGES_MAX - i;
	parts_set(ALB_APPS_MAX, cap, NULL);
	CHECK(prorate_matches(ALB_APPS_MAX, ALB_PAGES_MAX),
	      "256 balances of 2^34 pages, 2^34 pages out: exact");
	cap[0] = ALB_PAGES_MAX;
	cap[1] = ALB_PAGES_MAX - 1;
	cap[2] = 3;
	parts_set(3, cap, NULL);
	CHECK(prorate_matches(3, ALB_PAGES_MAX - 7),
	      "two 2^34 balances and a small one: exact");
}

/* ------------------------------------------------------------------ */
/* The context */

static void test_init(void)
{
	struct alb_cfg bad = { .deadline_ms = 0, .offer_ms = 0 };

	CHECK(alb_init(&ctx, NULL, slots, ALB_APPS_MAX) == 0 &&
	      ctx.cfg.deadline_ms == ALB_DEADLINE_DEFAULT_MS &&
	      ctx.cfg.offer_ms == ALB_OFFER_DEFAULT_MS && ctx.nr_apps == 0 &&
	      !ctx.started,
	      "init: NULL cfg takes the defaults");
	CHECK(alb_init(NULL, NULL, slots, 4) == -EINVAL &&
	      alb_init(&ctx, NULL, NULL, 4) == -EINVAL,
	      "init: NULL context or slots: -EINVAL");
	CHECK(alb_init(&ctx, NULL, slots, ALB_APPS_MAX + 1) == -ERANGE,
	      "init: more than ALB_APPS_MAX slots: -ERANGE");
	CHECK(alb_init(&ctx, &bad, slots, 4) == -EINVAL,
	      "init: a bad cfg is refused");
	CHECK(alb_init(&ctx, NULL, NULL, 0) == 0,
	      "init: no slots at all is valid");
	fresh(4, 3000, 5000);
	bad.deadline_ms = 9000;
	CHECK(alb_set_cfg(&ctx, &bad) == -ERANGE &&
	      ctx.cfg.deadline_ms == 3000,
	      "set_cfg: a deadline of 9 s is refused, nothing changes");
	bad.deadline_ms = 1000;
	bad.offer_ms = 0;
	CHECK(alb_set_cfg(&ctx, &bad) == 0 && ctx.cfg.deadline_ms == 1000 &&
	      ctx.cfg.offer_ms == 0, "set_cfg: a valid cfg is taken");
	CHECK(alb_set_cfg(NULL, &bad) == -EINVAL &&
	      alb_set_cfg(&ctx, NULL) == -EINVAL,
	      "set_cfg: NULL pointers are -EINVAL");
}

static void test_stock(void)
{
	struct alb_plan p;
	u64 seq;

	fresh(8, 3000, 5000);
	CHECK(alb_plan(&ctx, GIB, 1000, &p) == 0 && p.new_round &&
	      p.os_bytes == GIB && p.ask_bytes == 0 && p.app_bytes == 0 &&
	      p.offer_bytes == 0 && p.next_ms == 0 && sound(&ctx, 1),
	      "no application: the whole target to the OS at once");
	seq = p.seq;
	CHECK(alb_plan(&ctx, GIB, 2000, &p) == 0 && !p.new_round &&
	      p.os_bytes == GIB && p.seq == seq && ctx.st.rounds == 1,
	      "a repeated identical target starts no round");
	CHECK(alb_plan(&ctx, 256 * MIB + 123, 3000, &p) == 0 &&
	      p.new_round && p.os_bytes == 256 * MIB &&
	      p.target == 256 * MIB && p.offer_bytes == 0 && sound(&ctx, 1),
	      "a lower target deflates the OS part; bytes round down to pages");
	CHECK(alb_plan(&ctx, 256 * MIB + 4000, 3500, &p) == 0 &&
	      !p.new_round, "the same target in pages is the same target");
	CHECK(alb_plan(&ctx, 0, 4000, &p) == 0 && p.os_bytes == 0 &&
	      sound(&ctx, 1), "target 0: the balloon empties");
	CHECK(alb_plan(&ctx, 8 * TIB, 5000, &p) == 0 &&
	      p.os_bytes == 8 * TIB && sound(&ctx, 1),
	      "a target larger than the guest: all of it to the OS");

	alb_init(&ctx, NULL, NULL, 0);
	CHECK(alb_plan(&ctx, 100 * MIB, 0, &p) == 0 &&
	      p.os_bytes == 100 * MIB && sound(&ctx, 1),
	      "a context with no slots is the stock driver");
	CHECK(alb_register(&ctx, &(struct alb_app_cfg){ .weight = 1 }) ==
	      -ENOSPC, "no slots: register is -ENOSPC");
	alb_init(&ctx, NULL, slots, 4);
	CHECK(alb_plan(&ctx, 0, 0, &p) == 0 && p.new_round && p.os_bytes == 0,
	      "the first target starts a round even at 0");
}

static void test_one_app(void)
{
	struct alb_app_state s;
	struct alb_app_cfg c;
	struct alb_plan p;
	u64 credited, seq;
	int id;

	fresh(8, 3000, 5000);
	c = app(500 * MIB, 300 * MIB, 100 * MIB, 10);
	id = alb_register(&ctx, &c);
	CHECK(id == 0 && ctx.nr_apps == 1, "register: the first slot");
	CHECK(alb_plan(&ctx, 200 * MIB, 10000, &p) == 0 && p.new_round &&
	      p.ask_bytes == 200 * MIB && p.os_bytes == 0 &&
	      p.next_ms == 13000 && sound(&ctx, 1),
	      "a deficit it can cover: all asked of it, deadline in 3 s");
	CHECK(alb_app_state(&ctx, id, 10500, &s) == 0 &&
	      s.ask_bytes == 200 * MIB && s.ask_deadline_ms == 13000 &&
	      s.ask_left_ms == 2500 && s.offer_bytes == 0 &&
	      s.offer_deadline_ms == 0 && s.seq == ctx.apps[id].seq &&
	      s.seq != 0,
	      "state: the ask, its deadline and the time left");
	seq = s.seq;

	CHECK(alb_give(&ctx, id, 50 * MIB + 100, &credited) == 0 &&
	      credited == 50 * MIB && ctx.apps[id].cfg.size_bytes == 450 * MIB &&
	      ctx.apps[id].cfg.cheap_bytes == 250 * MIB && sound(&ctx, 1),
	      "give: whole pages credited, size and cheap drop");
	alb_plan(&ctx, 200 * MIB, 11000, &p);
	CHECK(p.app_bytes == 50 * MIB && p.ask_bytes == 150 * MIB &&
	      p.os_bytes == 0 && p.seq == seq && !p.new_round,
	      "after the give: 50 MiB in the balloon from it, 150 MiB asked");
	CHECK(alb_give(&ctx, id, GIB, &credited) == 0 &&
	      credited == 150 * MIB && ctx.apps[id].ask == 0 &&
	      sound(&ctx, 1), "a give above the ask is credited up to the ask");
	CHECK(alb_give(&ctx, id, MIB, &credited) == 0 && credited == 0,
	      "a give with no open ask credits nothing");
	CHECK(alb_app_state(&ctx, id, 11000, &s) == 0 && s.seq == seq &&
	      s.ask_bytes == 0 && s.ask_deadline_ms == 0 &&
	      s.given_bytes == 200 * MIB,
	      "its own gives do not change its seq");
	alb_plan(&ctx, 200 * MIB, 20000, &p);
	CHECK(p.app_bytes == 200 * MIB && p.os_bytes == 0 &&
	      ctx.st.misses == 0 && ctx.apps[id].st.misses == 0 &&
	      p.next_ms == 0, "covered in time: no miss at the deadline");

	/* the rest above its capacity goes to the OS at once */
	c = app(500 * MIB, 300 * MIB, 100 * MIB, 10);
	alb_update(&ctx, id, &c);
	CHECK(alb_plan(&ctx, 1000 * MIB, 21000, &p) == 0 &&
	      p.ask_bytes == 300 * MIB && p.os_bytes == 500 * MIB &&
	      p.app_bytes == 200 * MIB && ctx.st.os_at_once == 500 * MIB &&
	      sound(&ctx, 1),
	      "deficit 800 MiB, capacity 300 MiB: 500 MiB to the OS at once");
	c = app(500 * MIB, 300 * MIB, 450 * MIB, 10);
	CHECK(alb_update(&ctx, id, &c) == 0 &&
	      ctx.apps[id].ask == 300 * MIB,
	      "update: the open ask is kept until the next round");
	CHECK(alb_plan(&ctx, 1100 * MIB, 22000, &p) == 0 &&
	      p.ask_bytes == 50 * MIB && p.os_bytes == 850 * MIB &&
	      ctx.apps[id].st.cancelled == 250 * MIB && sound(&ctx, 1),
	      "the floor: size 500, floor 450, only 50 MiB asked");
	c = app(500 * MIB, 300 * MIB, 600 * MIB, 10);
	alb_update(&ctx, id, &c);
	CHECK(alb_plan(&ctx, 1200 * MIB, 22500, &p) == 0 &&
	      p.ask_bytes == 0 && p.os_bytes == 1000 * MIB && sound(&ctx, 1),
	      "a floor above the size: nothing asked, all to the OS");
}

static void test_weights(void)
{
	struct alb_plan p;
	int a, b, c;

	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 100 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 300 });
	alb_plan(&ctx, 400 * MIB, 0, &p);
	CHECK(ctx.apps[a].ask == 100 * MIB && ctx.apps[b].ask == 300 * MIB &&
	      p.os_bytes == 0 && sound(&ctx, 1),
	      "weights 100 and 300: asks of 100 and 300 MiB");

	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, 64 * MIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	c = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB,
						      GIB - 100 * MIB, 1 });
	alb_plan(&ctx, 600 * MIB, 0, &p);
	CHECK(ctx.apps[a].ask == 64 * MIB && ctx.apps[c].ask == 100 * MIB &&
	      ctx.apps[b].ask == 436 * MIB && p.os_bytes == 0 &&
	      sound(&ctx, 1),
	      "capped by cheap (64) and by the floor (100): the third takes 436");
	alb_plan(&ctx, 3 * GIB, 100, &p);
	CHECK(ctx.apps[a].ask == 64 * MIB && ctx.apps[c].ask == 100 * MIB &&
	      ctx.apps[b].ask == GIB && p.os_bytes == 3 * GIB - GIB -
	      164 * MIB && sound(&ctx, 1),
	      "beyond every capacity: each at its cap, the rest to the OS");
	CHECK(ctx.apps[b].st.asked == GIB && ctx.apps[b].st.cancelled == 0 &&
	      ctx.apps[a].st.asked == 64 * MIB && ctx.apps[a].st.asks == 2,
	      "a re-ask counts only its rise as asked");
}

static void test_decline(void)
{
	struct alb_app_state s;
	struct alb_plan p;
	u64 credited;
	int a, b;

	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	alb_plan(&ctx, 200 * MIB, 0, &p);
	alb_app_state(&ctx, a, 0, &s);
	CHECK(alb_decline(&ctx, a, s.seq + 1) == -ESTALE &&
	      ctx.apps[a].ask == 100 * MIB,
	      "decline with a stale seq: -ESTALE, nothing changes");
	alb_give(&ctx, a, 30 * MIB, &credited);
	CHECK(alb_decline(&ctx, a, s.seq) == 0 && ctx.apps[a].ask == 0 &&
	      ctx.os == 70 * MIB && ctx.apps[a].st.declined == 70 * MIB &&
	      ctx.apps[a].st.declines == 1 && ctx.st.os_declined == 70 * MIB &&
	      sound(&ctx, 1),
	      "give 30 and decline: the other 70 MiB to the OS at once");
	alb_plan(&ctx, 200 * MIB, 10, &p);
	CHECK(p.os_bytes == 70 * MIB && p.app_bytes == 30 * MIB &&
	      p.ask_bytes == 100 * MIB && ctx.apps[b].ask == 100 * MIB &&
	      !p.new_round, "the other application's ask stands");
	CHECK(alb_decline(&ctx, a, s.seq) == 0 &&
	      ctx.apps[a].st.declines == 1,
	      "declining again with no open ask does nothing");
	alb_app_state(&ctx, b, 10, &s);
	CHECK(alb_decline(&ctx, b, s.seq) == 0 && ctx.os == 170 * MIB &&
	      sound(&ctx, 1), "both declined: the OS covers everything");
	alb_plan(&ctx, 200 * MIB, 20, &p);
	CHECK(p.next_ms == 0 && p.ask_bytes == 0,
	      "nothing open: no deadline to wake for");
	alb_plan(&ctx, 400 * MIB, 100, &p);
	CHECK(ctx.apps[a].ask == 100 * MIB && ctx.apps[b].ask == 100 * MIB,
	      "a decline does not keep an application out of the next ask");
}

static void test_deadline(void)
{
	struct alb_app_state s;
	struct alb_plan p;
	u64 credited, seq, seq_b;
	int a, b;

	fresh(8, 2000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, 50 * MIB, 0, 1 });
	alb_plan(&ctx, 300 * MIB, 1000, &p);
	CHECK(ctx.apps[a].ask == 250 * MIB && ctx.apps[b].ask == 50 * MIB &&
	      p.next_ms == 3000, "asks 250 and 50 MiB, deadline at 3000");
	alb_give(&ctx, a, 100 * MIB, &credited);
	alb_give(&ctx, b, 50 * MIB, &credited);
	seq = ctx.apps[a].seq;
	seq_b = ctx.apps[b].seq;
	alb_plan(&ctx, 300 * MIB, 2999, &p);
	CHECK(p.ask_bytes == 150 * MIB && p.os_bytes == 0 &&
	      ctx.apps[a].seq == seq, "a millisecond before: still open");
	alb_plan(&ctx, 300 * MIB, 3000, &p);
	CHECK(p.ask_bytes == 0 && p.os_bytes == 150 * MIB &&
	      p.app_bytes == 150 * MIB && ctx.apps[a].st.missed == 150 * MIB &&
	      ctx.apps[a].st.misses == 1 && ctx.apps[b].st.misses == 0 &&
	      ctx.st.misses == 1 && ctx.st.os_missed == 150 * MIB &&
	      p.next_ms == 0 && !p.new_round && sound(&ctx, 1),
	      "at the deadline the rest goes to the OS; one miss, by a");
	CHECK(ctx.apps[a].seq != seq && ctx.apps[b].seq == seq_b,
	      "the closed ask changes a's seq, not b's");
	CHECK(alb_give(&ctx, a, 10 * MIB, &credited) == 0 && credited == 0,
	      "a give after the deadline credits nothing");
	alb_app_state(&ctx, a, 4000, &s);
	CHECK(s.ask_bytes == 0 && s.ask_left_ms == 0 &&
	      s.ask_deadline_ms == 0, "state after the deadline: no ask");

	/* a moving target never postpones an open deadline */
	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	alb_plan(&ctx, 100 * MIB, 0, &p);
	alb_plan(&ctx, 120 * MIB, 1000, &p);
	CHECK(p.new_round && ctx.apps[a].ask == 120 * MIB &&
	      p.next_ms == 3000 && ctx.apps[a].st.asked == 120 * MIB &&
	      ctx.apps[a].st.cancelled == 0,
	      "a new target with an ask open keeps the deadline");
	alb_plan(&ctx, 140 * MIB, 2000, &p);
	alb_plan(&ctx, 160 * MIB, 2999, &p);
	CHECK(p.next_ms == 3000, "however often it moves");
	alb_plan(&ctx, 160 * MIB, 3000, &p);
	CHECK(p.os_bytes == 160 * MIB && ctx.apps[a].st.missed == 160 * MIB,
	      "and then the fallback takes it all");
	alb_plan(&ctx, 200 * MIB, 4000, &p);
	CHECK(p.next_ms == 7000 && ctx.apps[a].ask == 40 * MIB,
	      "with no ask open, a new one gets the full deadline");
	alb_plan(&ctx, 180 * MIB, 5000, &p);
	CHECK(ctx.apps[a].ask == 20 * MIB &&
	      ctx.apps[a].st.cancelled == 20 * MIB && p.next_ms == 7000 &&
	      sound(&ctx, 1), "a lower target lowers the ask: cancelled");
	alb_plan(&ctx, 160 * MIB, 5100, &p);
	CHECK(ctx.apps[a].ask == 0 && p.ask_bytes == 0 && p.next_ms == 0 &&
	      ctx.apps[a].st.cancelled == 40 * MIB && sound(&ctx, 1),
	      "a target at what the balloon holds closes the asks");

	/* the deadline knob */
	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	alb_plan(&ctx, 100 * MIB, 0, &p);
	alb_set_cfg(&ctx, &(struct alb_cfg){ .deadline_ms = 100,
					      .offer_ms = 0 });
	CHECK(p.next_ms == 3000 && ctx.ask_deadline_ms == 3000,
	      "a knob change leaves the open deadline alone");
	alb_plan(&ctx, 200 * MIB, 1000, &p);
	CHECK(p.next_ms == 1100 && ctx.apps[a].ask == 200 * MIB,
	      "a shorter deadline applies from the next target on");
	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	alb_set_cfg(&ctx, &(struct alb_cfg){ .deadline_ms = 100,
					      .offer_ms = 0 });
	alb_plan(&ctx, 100 * MIB, 50, &p);
	CHECK(p.next_ms == 150, "a deadline of 100 ms");
}

static void test_deflate(void)
{
	struct alb_app_state s;
	struct alb_plan p;
	u64 credited, taken, seq;
	int a, b;

	fresh(8, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 3 });
	alb_plan(&ctx, 400 * MIB, 0, &p);
	alb_give(&ctx, a, 100 * MIB, &credited);
	alb_give(&ctx, b, 300 * MIB, &credited);
	alb_plan(&ctx, 600 * MIB, 100, &p);
	alb_decline(&ctx, a, ctx.apps[a].seq);
	alb_decline(&ctx, b, ctx.apps[b].seq);
	alb_plan(&ctx, 600 * MIB, 200, &p);
	CHECK(p.os_bytes == 200 * MIB && p.app_bytes == 400 * MIB &&
	      sound(&ctx, 1), "balloon: 400 MiB from applications, 200 from the OS");

	seq = ctx.apps[a].seq;
	alb_plan(&ctx, 400 * MIB, 1000, &p);
	CHECK(p.new_round && ctx.apps[a].offer == 50 * MIB &&
	      ctx.apps[b].offer == 150 * MIB && p.offer_bytes == 200 * MIB &&
	      p.app_bytes == 200 * MIB && p.os_bytes == 200 * MIB &&
	      p.next_ms == 6000 && sound(&ctx, 1),
	      "200 MiB back: offered 50 and 150, in proportion to what they gave");
	CHECK(ctx.apps[a].seq != seq, "an offer changes the seq");
	alb_app_state(&ctx, b, 2000, &s);
	CHECK(s.offer_bytes == 150 * MIB && s.offer_deadline_ms == 6000 &&
	      s.offer_left_ms == 4000 && s.ask_bytes == 0,
	      "state: the offer and its deadline");
	seq = ctx.apps[b].seq;
	CHECK(alb_take(&ctx, b, 100 * MIB + 5, &taken) == 0 &&
	      taken == 100 * MIB && ctx.apps[b].offer == 50 * MIB &&
	      ctx.apps[b].cfg.size_bytes == GIB - 300 * MIB + 100 * MIB &&
	      ctx.apps[b].seq == seq && sound(&ctx, 1),
	      "take 100 MiB: its size grows, its seq stays");
	CHECK(alb_take(&ctx, b, GIB, &taken) == 0 && taken == 50 * MIB &&
	      ctx.apps[b].offer == 0, "take more than offered: the offer");
	CHECK(alb_take(&ctx, b, MIB, &taken) == 0 && taken == 0,
	      "take with no offer: nothing");
	alb_plan(&ctx, 400 * MIB, 5999, &p);
	CHECK(p.offer_bytes == 50 * MIB && p.next_ms == 6000,
	      "a's offer still open before the deadline");
	alb_plan(&ctx, 400 * MIB, 6000, &p);
	CHECK(p.offer_bytes == 0 && ctx.apps[a].st.expired == 50 * MIB &&
	      ctx.st.expired == 50 * MIB && ctx.st.taken == 150 * MIB &&
	      p.next_ms == 0 && sound(&ctx, 1),
	      "at the deadline a's untaken offer returns to the OS");

	/* a deflation beyond the balances takes the rest from the OS */
	alb_plan(&ctx, 100 * MIB, 7000, &p);
	CHECK(p.app_bytes == 0 && p.os_bytes == 100 * MIB &&
	      p.offer_bytes == 200 * MIB && ctx.apps[a].offer == 50 * MIB &&
	      ctx.apps[b].offer == 150 * MIB && sound(&ctx, 1),
	      "down by 300: both balances offered, 100 MiB from the OS");
	alb_plan(&ctx, 0, 8000, &p);
	CHECK(p.os_bytes == 0 && p.offer_bytes == 200 * MIB &&
	      p.next_ms == 12000 && sound(&ctx, 1),
	      "down to 0: the OS part goes, the offers stand");

	/* inflation while offers are open takes them back first */
	alb_plan(&ctx, 120 * MIB, 9000, &p);
	CHECK(p.offer_bytes == 80 * MIB && p.app_bytes == 120 * MIB &&
	      p.ask_bytes == 0 && ctx.apps[a].offer == 20 * MIB &&
	      ctx.apps[b].offer == 60 * MIB && ctx.apps[a].given == 30 * MIB &&
	      ctx.apps[b].given == 90 * MIB &&
	      ctx.st.withdrawn == 120 * MIB && sound(&ctx, 1),
	      "up by 120 with 200 offered: 120 taken back, in proportion");
	alb_plan(&ctx, 300 * MIB, 9500, &p);
	CHECK(p.offer_bytes == 0 && p.app_bytes == 200 * MIB &&
	      p.ask_bytes == 100 * MIB && ctx.apps[a].ask == 25 * MIB &&
	      ctx.apps[b].ask == 75 * MIB && p.next_ms == 12500 &&
	      sound(&ctx, 1),
	      "up by 180 with 80 offered: all taken back, 100 asked by weight");

	/* offers off: balances return to the OS at once */
	alb_set_cfg(&ctx, &(struct alb_cfg){ .deadline_ms = 3000,
					      .offer_ms = 0 });
	alb_plan(&ctx, 0, 10000, &p);
	CHECK(p.offer_bytes == 0 && p.app_bytes == 0 && p.os_bytes == 0 &&
	      ctx.st.returned == 200 * MIB && ctx.apps[a].st.returned ==
	      50 * MIB && p.next_ms == 0 && sound(&ctx, 1),
	      "offers off: what apps gave returns to the OS, no offer");
}

static void test_unregister(void)
{
	struct alb_plan p;
	u64 credited;
	int a, b, c;

	fresh(3, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	c = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	CHECK(a == 0 && b == 1 && c == 2 &&
	      alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 }) ==
	      -ENOSPC, "every slot used: -ENOSPC");
	alb_plan(&ctx, 300 * MIB, 0, &p);
	alb_give(&ctx, a, 60 * MIB, &credited);
	CHECK(alb_unregister(&ctx, a) == 0 && ctx.nr_apps == 2 &&
	      ctx.os == 100 * MIB && ctx.st.os_left == 100 * MIB &&
	      sound(&ctx, 1),
	      "a leaver's balance and open ask pass to the OS");
	CHECK(alb_unregister(&ctx, a) == -ENOENT &&
	      alb_give(&ctx, a, MIB, &credited) == -ENOENT &&
	      alb_decline(&ctx, a, 0) == -ENOENT,
	      "a slot not in use: -ENOENT");
	CHECK(alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 }) ==
	      a && ctx.apps[a].ask == 0 && ctx.apps[a].given == 0 &&
	      ctx.apps[a].st.asked == 0 && ctx.apps[a].seq == 0,
	      "the slot is reused clean");
	alb_give(&ctx, b, 100 * MIB, &credited);
	alb_plan(&ctx, 100 * MIB, 100, &p);
	CHECK(ctx.apps[b].offer == 100 * MIB && p.offer_bytes == 100 * MIB &&
	      p.os_bytes == 100 * MIB, "b is offered its 100 MiB back");
	CHECK(alb_unregister(&ctx, b) == 0 && ctx.st.expired == 100 * MIB &&
	      sound(&ctx, 1), "a leaver's offer returns to the OS");
	alb_plan(&ctx, 100 * MIB, 200, &p);
	CHECK(p.offer_bytes == 0 && p.os_bytes == 100 * MIB && p.next_ms == 0,
	      "nothing left open");
	alb_unregister(&ctx, a);
	alb_unregister(&ctx, c);
	alb_plan(&ctx, 50 * MIB, 300, &p);
	CHECK(ctx.nr_apps == 0 && p.os_bytes == 50 * MIB && sound(&ctx, 1),
	      "after the last leaver: stock behaviour");
}

static void test_oom(void)
{
	struct alb_plan p;
	u64 credited, freed;
	int a, b;

	fresh(4, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	alb_plan(&ctx, 400 * MIB, 0, &p);
	alb_give(&ctx, a, 200 * MIB, &credited);
	alb_give(&ctx, b, 200 * MIB, &credited);
	alb_plan(&ctx, 600 * MIB, 10, &p);
	alb_decline(&ctx, a, ctx.apps[a].seq);
	alb_decline(&ctx, b, ctx.apps[b].seq);
	alb_plan(&ctx, 500 * MIB, 20, &p);
	CHECK(p.os_bytes == 200 * MIB && p.app_bytes == 300 * MIB &&
	      p.offer_bytes == 100 * MIB, "os 200, apps 300, offered 100");
	CHECK(alb_oom(&ctx, 60 * MIB, &freed) == 0 && freed == 60 * MIB &&
	      ctx.apps[a].offer == 20 * MIB && ctx.apps[b].offer == 20 * MIB &&
	      sound(&ctx, 0), "OOM takes from the open offers first");
	CHECK(alb_oom(&ctx, 240 * MIB, &freed) == 0 && freed == 240 * MIB &&
	      ctx.os == 0 && ctx.apps[a].offer == 0 &&
	      ctx.apps[b].offer == 0 && ctx.apps[a].given == 150 * MIB &&
	      ctx.apps[b].given == 150 * MIB && ctx.apps[a].st.lost == 0 &&
	      sound(&ctx, 0),
	      "then the OS part (40 from offers, 200 from os, no balance)");
	CHECK(alb_oom(&ctx, 30 * MIB, &freed) == 0 && freed == 30 * MIB &&
	      ctx.apps[a].given == 135 * MIB && ctx.apps[b].given == 135 * MIB &&
	      ctx.apps[a].st.lost == 15 * MIB && sound(&ctx, 0),
	      "then the balances, in proportion");
	CHECK(alb_oom(&ctx, GIB, &freed) == 0 && freed == 270 * MIB &&
	      ctx.apps[a].given == 0 && ctx.apps[b].given == 0 &&
	      ctx.apps[a].st.lost == 150 * MIB && ctx.st.oom == 600 * MIB &&
	      sound(&ctx, 0), "more than the balloon holds: all of it");
	CHECK(alb_oom(&ctx, GIB, &freed) == 0 && freed == 0,
	      "an empty balloon frees nothing");
	alb_plan(&ctx, 500 * MIB, 100, &p);
	CHECK(!p.new_round && p.os_bytes == 0 && p.app_bytes == 0,
	      "the same target after OOM: no re-inflation");
	alb_plan(&ctx, 520 * MIB, 200, &p);
	CHECK(p.new_round && p.ask_bytes == 520 * MIB && sound(&ctx, 1),
	      "a new target inflates from what the balloon really holds");
	CHECK(alb_oom(NULL, 1, &freed) == -EINVAL &&
	      alb_oom(&ctx, 1, NULL) == -EINVAL &&
	      alb_oom(&ctx, ALB_BYTES_MAX + 1, &freed) == -ERANGE,
	      "oom: bad input");
}

static void test_seq(void)
{
	struct alb_plan p;
	u64 s0, s1, credited;
	int a, b;

	fresh(4, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	b = alb_register(&ctx, &(struct alb_app_cfg){ GIB, 0, 0, 1 });
	CHECK(ctx.apps[a].seq == 0, "nothing asked yet: seq 0");
	alb_plan(&ctx, 100 * MIB, 0, &p);
	s0 = ctx.apps[a].seq;
	CHECK(s0 != 0 && ctx.apps[b].seq == 0 && p.seq == ctx.seq,
	      "an ask sets the seq; an app asked nothing keeps its own");
	alb_plan(&ctx, 100 * MIB, 100, &p);
	CHECK(ctx.apps[a].seq == s0, "a repeated target: the same seq");
	alb_plan(&ctx, 200 * MIB, 200, &p);
	s1 = ctx.apps[a].seq;
	CHECK(s1 > s0, "a new ask: a higher seq");
	alb_give(&ctx, a, 200 * MIB, &credited);
	alb_plan(&ctx, 200 * MIB, 300, &p);
	CHECK(ctx.apps[a].seq == s1, "a full give: the same seq");
	alb_plan(&ctx, 100 * MIB, 400, &p);
	CHECK(ctx.apps[a].seq > s1 && ctx.apps[a].offer == 100 * MIB,
	      "an offer: a higher seq");
	s1 = ctx.apps[a].seq;
	alb_plan(&ctx, 100 * MIB, 5400, &p);
	CHECK(ctx.apps[a].seq > s1 && !ctx.apps[a].offer,
	      "an offer expiring: a higher seq");
}

static void test_bad_input(void)
{
	struct alb_app_state s;
	struct alb_plan p;
	u64 v;
	int a;

	fresh(4, 3000, 5000);
	a = alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	CHECK(alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 0 }) ==
	      -EINVAL && alb_register(&ctx, NULL) == -EINVAL &&
	      alb_register(NULL, &(struct alb_app_cfg){ 0, 0, 0, 1 }) ==
	      -EINVAL && ctx.nr_apps == 1,
	      "register: weight 0 or NULL refused, nothing registered");
	CHECK(alb_register(&ctx, &(struct alb_app_cfg){ ALB_BYTES_MAX + 1, 0,
							0, 1 }) == -ERANGE,
	      "register: a size above the limit is -ERANGE");
	CHECK(alb_update(&ctx, a, &(struct alb_app_cfg){ 0, 0, 0, 2000 }) ==
	      -ERANGE && ctx.apps[a].cfg.weight == 1,
	      "update: weight 2000 refused, figures unchanged");
	CHECK(alb_update(&ctx, 3, &(struct alb_app_cfg){ 0, 0, 0, 1 }) ==
	      -ENOENT && alb_update(&ctx, 4, &(struct alb_app_cfg){ 0, 0, 0,
						1 }) == -EINVAL,
	      "update: an unused slot -ENOENT, beyond the slots -EINVAL");
	CHECK(alb_give(&ctx, -1, 0, &v) == -EINVAL &&
	      alb_give(&ctx, 4, 0, &v) == -EINVAL &&
	      alb_give(&ctx, 1, 0, &v) == -ENOENT &&
	      alb_give(&ctx, a, 0, NULL) == -EINVAL &&
	      alb_give(NULL, a, 0, &v) == -EINVAL,
	      "give: bad ids and NULL pointers");
	alb_plan(&ctx, 100 * MIB, 1000, &p);
	CHECK(alb_give(&ctx, a, ALB_BYTES_MAX + 1, &v) == -ERANGE &&
	      ctx.apps[a].ask == 100 * MIB,
	      "give: above the byte limit -ERANGE, nothing credited");
	CHECK(alb_take(&ctx, a, ALB_BYTES_MAX + 1, &v) == -ERANGE &&
	      alb_take(&ctx, a, 0, NULL) == -EINVAL &&
	      alb_take(&ctx, 9, 0, &v) == -EINVAL,
	      "take: bad input");
	CHECK(alb_decline(&ctx, -5, 0) == -EINVAL &&
	      alb_unregister(&ctx, 100) == -EINVAL &&
	      alb_unregister(NULL, 0) == -EINVAL,
	      "decline and unregister: bad ids");
	CHECK(alb_plan(&ctx, 100 * MIB, 999, &p) == -EINVAL &&
	      ctx.now_ms == 1000,
	      "plan: time going backwards is -EINVAL");
	CHECK(alb_plan(&ctx, ALB_BYTES_MAX + 1, 2000, &p) == -ERANGE &&
	      ctx.target == 100 * MIB && ctx.now_ms == 1000,
	      "plan: a target above 64 TiB is -ERANGE, nothing changes");
	CHECK(alb_plan(NULL, 0, 2000, &p) == -EINVAL &&
	      alb_plan(&ctx, 0, 2000, NULL) == -EINVAL,
	      "plan: NULL pointers");
	CHECK(alb_app_state(&ctx, a, 0, NULL) == -EINVAL &&
	      alb_app_state(&ctx, 2, 0, &s) == -ENOENT &&
	      alb_app_state(NULL, a, 0, &s) == -EINVAL,
	      "state: bad input");
	CHECK(sound(&ctx, 1), "after all the refusals the books still balance");
}

static void test_large(void)
{
	struct alb_plan p;
	u64 credited, sum;
	unsigned int i;
	int ok;

	/* 256 applications at the limit, weights 1..1000 */
	fresh(ALB_APPS_MAX, 3000, 5000);
	ok = 1;
	for (i = 0; i < ALB_APPS_MAX; i++) {
		u32 w = 1 + (i * 37) % ALB_WEIGHT_MAX;

		if (alb_register(&ctx, &(struct alb_app_cfg){
				ALB_BYTES_MAX, ALB_BYTES_MAX, 0, w }) !=
		    (int)i)
			ok = 0;
	}
	CHECK(ok && ctx.nr_apps == ALB_APPS_MAX, "256 applications registered");
	CHECK(alb_plan(&ctx, ALB_BYTES_MAX, 0, &p) == 0 &&
	      p.ask_bytes == ALB_BYTES_MAX && p.os_bytes == 0 && sound(&ctx, 1),
	      "a 64 TiB target split between 256 applications of 64 TiB");
	ok = 1;
	for (i = 1; i < ALB_APPS_MAX; i++) {
		/* asks proportional to weight, to a page */
		const struct alb_app *x = &ctx.apps[i], *y = &ctx.apps[0];
		u128 l = (u128)x->ask * y->cfg.weight;
		u128 r = (u128)y->ask * x->cfg.weight;
		u128 d = l > r ? l - r : r - l;

		if (d > (u128)PG *
			(x->cfg.weight + y->cfg.weight))
			ok = 0;
	}
	CHECK(ok, "every ask is its weight's part, to a page");
	sum = 0;
	for (i = 0; i < ALB_APPS_MAX; i++) {
		alb_give(&ctx, i, ALB_BYTES_MAX, &credited);
		sum += credited;
	}
	alb_plan(&ctx, ALB_BYTES_MAX, 1, &p);
	CHECK(sum == ALB_BYTES_MAX && p.app_bytes == ALB_BYTES_MAX &&
	      p.ask_bytes == 0 && sound(&ctx, 1),
	      "all of it given: 64 TiB in the balloon from applications");
	CHECK(alb_plan(&ctx, PG, 2, &p) == 0 &&
	      p.offer_bytes == ALB_BYTES_MAX - PG &&
	      p.app_bytes == PG && sound(&ctx, 1),
	      "down to one page: 64 TiB less a page offered back");
	CHECK(alb_plan(&ctx, ALB_BYTES_MAX, 3, &p) == 0 &&
	      p.offer_bytes == 0 && p.app_bytes == ALB_BYTES_MAX &&
	      sound(&ctx, 1), "and taken back into the balloon at once");

	/* time near the end of the clock */
	fresh(4, 3000, 5000);
	alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1 });
	CHECK(alb_plan(&ctx, MIB, U64_MAX - 10, &p) == 0 &&
	      p.next_ms == U64_MAX && ctx.apps[0].ask == MIB,
	      "a deadline past the end of the clock saturates");
	CHECK(alb_plan(&ctx, MIB, U64_MAX, &p) == 0 && p.os_bytes == MIB &&
	      p.ask_bytes == 0, "and is reached at its end");

	/* a one-page ask among many applications */
	fresh(ALB_APPS_MAX, 3000, 5000);
	for (i = 0; i < ALB_APPS_MAX; i++)
		alb_register(&ctx, &(struct alb_app_cfg){ GIB, GIB, 0, 1000 });
	alb_plan(&ctx, 3 * PG, 0, &p);
	CHECK(ctx.apps[0].ask == PG && ctx.apps[1].ask == PG &&
	      ctx.apps[2].ask == PG && ctx.apps[3].ask == 0 &&
	      p.ask_bytes == 3 * PG && sound(&ctx, 1),
	      "three pages between 256 equals: one each to the first three");
}

/*
 * Random operations on a context, the books checked after each: any
 * order of targets, gives, declines, takes, updates, leavers, OOM and
 * time.
 */
static void test_random(void)
{
	unsigned int round, step, ok = 1, nr = 16;
	u64 now = 0, target = 0, v;
	struct alb_app_cfg c;
	struct alb_plan p;
	int id, oomed = 0;

	for (round = 0; round < 200 && ok; round++) {
		fresh(nr, ALB_DEADLINE_MIN_MS + rnd_below(3000),
		      rnd_below(4) ? rnd_below(10000) : 0);
		oomed = 0;
		for (step = 0; step < 300 && ok; step++) {
			id = rnd_below(nr);
			c = app(rnd_below(GIB), rnd_below(GIB), rnd_below(GIB),
				1 + rnd_below(ALB_WEIGHT_MAX));
			switch (rnd_below(10)) {
			case 0:
				alb_register(&ctx, &c);
				break;
			case 1:
				alb_update(&ctx, id, &c);
				break;
			case 2:
				if (!rnd_below(4))
					alb_unregister(&ctx, id);
				break;
			case 3:
				alb_give(&ctx, id, rnd_below(GIB / 2), &v);
				break;
			case 4:
				if (ctx.apps[id].used)
					alb_decline(&ctx, id,
						    ctx.apps[id].seq);
				break;
			case 5:
				alb_take(&ctx, id, rnd_below(GIB), &v);
				break;
			case 6:
				if (!rnd_below(8)) {
					alb_oom(&ctx, rnd_below(GIB), &v);
					oomed = 1;
				}
				break;
			default:
				now += rnd_below(2000);
				if (rnd_below(3))
					target = rnd_below(4 * GIB);
				if (alb_plan(&ctx, target, now, &p))
					ok = 0;
			}
			if (!sound(&ctx, !oomed))
				ok = 0;
		}
	}
	CHECK(ok, "200 random runs of 300 operations: the books always balance");
}

int main(void)
{
	test_abi();
	test_checks();
	test_waterfill();
	test_prorate();
	test_init();
	test_stock();
	test_one_app();
	test_weights();
	test_decline();
	test_deadline();
	test_deflate();
	test_unregister();
	test_oom();
	test_seq();
	test_bad_input();
	test_large();
	test_random();

	printf("1..%d\n", n);
	printf("# alb_policy: %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
