/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The order of ksmd's page comparisons by key: what kvmx_ksm_memcmp_pages()
 * decides before, or instead of, reading the content of two pages.
 *
 * Rules (see the KSM hook's comment in ksm_hook.c):
 *  - The shared zero page is compared by content alone: KSM's zero-page
 *    path and a THP split's zero remap ask "is this page all zeros?", and
 *    the answer must not depend on a key.
 *  - Otherwise pages order by (domain, class, protect). With
 *    @ksm_classless, a comparison that involves a KSM page leaves the
 *    class out: for classifiers whose class is a page's recent history,
 *    which a KSM page (write-protected, never changing) no longer has. The
 *    stable tree then stays ordered by (domain, content), consistently,
 *    since each of its comparisons involves a KSM page.
 *  - Two protected pages are equal only if they are the same page: they
 *    order by their order value (a KSM page's stable node, which survives
 *    migration, or the pfn), ties broken by pfn.
 *  - Everything else is decided by content, and only there can two
 *    different pages compare equal.
 */
#ifndef _KVMX_KCMP_POLICY_H
#define _KVMX_KCMP_POLICY_H

#include <kvmx/policy.h>

/* kcmp_keys(): the content decides. */
#define KCMP_CONTENT	2

struct kcmp_page {
	u32 domain;
	u32 class;
	bool protect;
	bool zero;		/* the shared zero page */
	bool ksm;		/* a KSM page */
	unsigned long order;	/* orders protected pages */
	unsigned long pfn;
};

/* -1, 0 or 1 if the keys decide, else KCMP_CONTENT. */
int kcmp_keys(const struct kcmp_page *a, const struct kcmp_page *b,
	      bool ksm_classless);

#endif /* _KVMX_KCMP_POLICY_H */
