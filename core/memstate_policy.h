/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host memory state policy: thresholds on available memory, as a share of
 * RAM in per mille, with hysteresis on the way back up.
 */
#ifndef _KVMX_MEMSTATE_POLICY_H
#define _KVMX_MEMSTATE_POLICY_H

#include <kvmx/policy.h>

#define MEMSTATE_NR_STATES	5	/* high, clear, soft, hard, low */
#define MEMSTATE_NR_LIMITS	4	/* lower bounds of high, clear, soft, hard */
#define MEMSTATE_PERMILLE_MAX	1000
#define MEMSTATE_HYST_MAX	100

struct memstate_cfg {
	/*
	 * limit[i] is the lowest available memory, in per mille of RAM, that
	 * still counts as state i: limit[0] for high, [1] clear, [2] soft,
	 * [3] hard. Below limit[3] is low. Strictly decreasing.
	 */
	unsigned int limit[MEMSTATE_NR_LIMITS];
	/* Extra per mille needed to move to a better state. */
	unsigned int hysteresis;
};

extern const struct memstate_cfg memstate_default_cfg;

/* 0, -ERANGE (a value too large) or -EINVAL (thresholds out of order). */
int memstate_cfg_check(const struct memstate_cfg *cfg);

/* Available memory in per mille of total, rounded down, at most 1000. */
unsigned int memstate_permille(u64 available, u64 total);

/*
 * The state after observing @available of @total bytes, coming from state
 * @cur. Worse states are entered at once; better ones only once available
 * memory clears their threshold by the hysteresis.
 */
int memstate_next(const struct memstate_cfg *cfg, int cur, u64 available,
		  u64 total);

#endif /* _KVMX_MEMSTATE_POLICY_H */
