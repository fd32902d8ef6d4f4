// SPDX-License-Identifier: GPL-2.0
/* The key order of ksmd's page comparisons (see kcmp_policy.h). */
#include "kcmp_policy.h"

#define CMP(x, y) do {					\
	if ((x) != (y))					\
		return (x) < (y) ? -1 : 1;		\
} while (0)

int kcmp_keys(const struct kcmp_page *a, const struct kcmp_page *b,
	      bool ksm_classless)
{
	if (a->zero || b->zero)
		return KCMP_CONTENT;
	CMP(a->domain, b->domain);
	if (!ksm_classless || !(a->ksm || b->ksm))
		CMP(a->class, b->class);
	CMP(a->protect, b->protect);
	if (!a->protect)
		return KCMP_CONTENT;
	CMP(a->order, b->order);
	CMP(a->pfn, b->pfn);
	return 0;
}
