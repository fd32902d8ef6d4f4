// SPDX-License-Identifier: GPL-2.0
/* The key order of ksmd's page comparisons (see kcmp_policy.h). */
#include "kcmp_policy.h"

static int kcmp_ul(unsigned long x, unsigned long y)
{
	return x == y ? 0 : x < y ? -1 : 1;
}

int kcmp_keys(const struct kcmp_page *a, const struct kcmp_page *b,
	      bool ksm_classless)
{
	int r;

	if (a->zero || b->zero)
		return KCMP_CONTENT;
	r = kcmp_ul(a->domain, b->domain);
	if (!r && (!ksm_classless || !(a->ksm || b->ksm)))
		r = kcmp_ul(a->class, b->class);
	if (!r)
		r = kcmp_ul(a->protect, b->protect);
	if (r)
		return r;
	if (!a->protect)
		return KCMP_CONTENT;
	r = kcmp_ul(a->order, b->order);
	return r ? r : kcmp_ul(a->pfn, b->pfn);
}
