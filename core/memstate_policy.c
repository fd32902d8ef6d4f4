// SPDX-License-Identifier: GPL-2.0
/*
 * Host memory state policy (see memstate_policy.h). No kernel headers here:
 * selftests/unit builds this file as it is.
 */
#include "memstate_policy.h"

/*
 * Defaults in the spirit of ESX: large pages are broken from "clear" on,
 * ballooning starts at "soft", host page-out at "hard" and "low".
 */
const struct memstate_cfg memstate_default_cfg = {
	.limit = { 80, 60, 40, 20 },
	.hysteresis = 10,
};

int memstate_cfg_check(const struct memstate_cfg *cfg)
{
	int i;

	for (i = 0; i < MEMSTATE_NR_LIMITS; i++)
		if (cfg->limit[i] > MEMSTATE_PERMILLE_MAX)
			return -ERANGE;
	if (cfg->hysteresis > MEMSTATE_HYST_MAX)
		return -ERANGE;
	for (i = 1; i < MEMSTATE_NR_LIMITS; i++)
		if (cfg->limit[i] >= cfg->limit[i - 1])
			return -EINVAL;
	return 0;
}

unsigned int memstate_permille(u64 available, u64 total)
{
	if (!total || available >= total)
		return MEMSTATE_PERMILLE_MAX;
	/* Divide first where the product could overflow. */
	if (available > ~(u64)0 / MEMSTATE_PERMILLE_MAX)
		return (unsigned int)(available / (total / MEMSTATE_PERMILLE_MAX));
	return (unsigned int)(available * MEMSTATE_PERMILLE_MAX / total);
}

/* The state that @pm per mille falls in when every limit is raised by @bias. */
static int memstate_band(const struct memstate_cfg *cfg, unsigned int pm,
			 unsigned int bias)
{
	int i;

	for (i = 0; i < MEMSTATE_NR_LIMITS; i++)
		if (pm >= cfg->limit[i] + bias)
			return i;
	return MEMSTATE_NR_LIMITS;
}

int memstate_next(const struct memstate_cfg *cfg, int cur, u64 available,
		  u64 total)
{
	unsigned int pm = memstate_permille(available, total);
	int plain = memstate_band(cfg, pm, 0);
	int raised;

	if (cur < 0 || cur >= MEMSTATE_NR_STATES || plain >= cur)
		return plain;
	/* Getting better: every step up must clear the hysteresis. */
	raised = memstate_band(cfg, pm, cfg->hysteresis);
	return raised < cur ? raised : cur;
}
