// SPDX-License-Identifier: GPL-2.0
/* Userspace unit tests of core/memstate_policy.c. */
#include <stdio.h>
#include "memstate_policy.h"

#include "unit_tap.h"

enum { HIGH, CLEAR, SOFT, HARD, LOW };
#define GB (1024ULL * 1024 * 1024)

/* State for @pm per mille of a host with 1000 MiB, coming from @cur. */
static int at(const struct memstate_cfg *cfg, int cur, unsigned int pm)
{
	return memstate_next(cfg, cur, (u64)pm << 20, 1000ULL << 20);
}

int main(void)
{
	struct memstate_cfg cfg = memstate_default_cfg;
	struct memstate_cfg bad;
	int s;

	CHECK(memstate_cfg_check(&cfg) == 0, "defaults are valid");
	bad = cfg;
	bad.limit[0] = 1001;
	CHECK(memstate_cfg_check(&bad) == -ERANGE, "limit over 1000: ERANGE");
	bad = cfg;
	bad.hysteresis = 101;
	CHECK(memstate_cfg_check(&bad) == -ERANGE, "hysteresis over 100: ERANGE");
	bad = cfg;
	bad.limit[2] = bad.limit[1];
	CHECK(memstate_cfg_check(&bad) == -EINVAL, "equal limits: EINVAL");
	bad = cfg;
	bad.limit[0] = 10;
	CHECK(memstate_cfg_check(&bad) == -EINVAL, "increasing limits: EINVAL");
	bad.limit[0] = 1000;
	bad.limit[1] = 999;
	bad.limit[2] = 998;
	bad.limit[3] = 0;
	CHECK(memstate_cfg_check(&bad) == 0, "extreme but ordered limits are valid");

	CHECK(memstate_permille(0, 0) == 1000, "no total counts as plenty");
	CHECK(memstate_permille(5, 4) == 1000, "available above total is 1000");
	CHECK(memstate_permille(GB / 2, GB) == 500, "half is 500");
	CHECK(memstate_permille(~0ULL / 2, ~0ULL) == 499 ||
	      memstate_permille(~0ULL / 2, ~0ULL) == 500,
	      "huge values do not overflow");

	/* Defaults: high >= 80, clear >= 60, soft >= 40, hard >= 20, else low. */
	CHECK(at(&cfg, HIGH, 900) == HIGH, "90%% is high");
	CHECK(at(&cfg, HIGH, 80) == HIGH, "exactly the high limit is high");
	CHECK(at(&cfg, HIGH, 79) == CLEAR, "just below it is clear");
	CHECK(at(&cfg, HIGH, 50) == SOFT, "5%% is soft");
	CHECK(at(&cfg, HIGH, 30) == HARD, "3%% is hard");
	CHECK(at(&cfg, HIGH, 10) == LOW, "1%% is low: worse states at once");
	CHECK(at(&cfg, HIGH, 0) == LOW, "nothing available is low");

	/* Hysteresis 10: leaving low needs 30, reaching high needs 90. */
	CHECK(at(&cfg, LOW, 25) == LOW, "low stays low at 2.5%% (hard limit 2%%)");
	CHECK(at(&cfg, LOW, 30) == HARD, "low becomes hard at 3%%");
	CHECK(at(&cfg, LOW, 85) == CLEAR,
	      "from low, 8.5%% clears clear's limit plus hysteresis only");
	CHECK(at(&cfg, LOW, 95) == HIGH, "from low, 9.5%% is high");
	CHECK(at(&cfg, CLEAR, 85) == CLEAR, "clear stays clear at 8.5%%");
	CHECK(at(&cfg, SOFT, 65) == SOFT, "soft stays soft at 6.5%%");
	CHECK(at(&cfg, SOFT, 70) == CLEAR, "soft becomes clear at 7%%");
	CHECK(at(&cfg, CLEAR, 59) == SOFT, "worse by one per mille: at once");

	cfg.hysteresis = 0;
	CHECK(at(&cfg, LOW, 20) == HARD, "no hysteresis: hard at its limit");
	CHECK(at(&cfg, HARD, 80) == HIGH, "no hysteresis: high at its limit");

	/* A walk down and up never skips the rules. */
	cfg = memstate_default_cfg;
	s = HIGH;
	for (unsigned int pm = 1000; pm > 0; pm--) {
		int next = at(&cfg, s, pm);

		if (next < s)
			break;
		s = next;
	}
	CHECK(s == LOW, "falling memory only ever worsens the state");
	for (unsigned int pm = 0; pm <= 1000; pm++) {
		int next = at(&cfg, s, pm);

		if (next > s)
			break;
		s = next;
	}
	CHECK(s == HIGH, "rising memory only ever improves the state");
	CHECK(memstate_next(&cfg, 7, 0, 10) == LOW,
	      "an invalid current state is replaced");

	printf("1..%d\n", n);
	printf("# memstate_policy: %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
