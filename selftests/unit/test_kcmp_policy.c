// SPDX-License-Identifier: GPL-2.0
/* Userspace unit tests of core/kcmp_policy.c: ksmd's comparisons by key. */
#include <stdio.h>
#include "kcmp_policy.h"

#include "unit_tap.h"

#define KSM_NO_NODE	3UL	/* PAGE_MAPPING_KSM: a KSM page without a stable node */

static int cmp(const struct kcmp_page *a, const struct kcmp_page *b)
{
	return kcmp_keys(a, b, false);
}

int main(void)
{
	struct kcmp_page a = { .domain = 1, .class = 2, .pfn = 100, .order = 100 };
	struct kcmp_page b = a, z = { .zero = true, .pfn = 1, .order = 1 };
	struct kcmp_page u1 = { .domain = ~0U, .protect = true,
				.order = KSM_NO_NODE, .pfn = 500 };
	struct kcmp_page u2 = u1;
	struct kcmp_page pages[4];
	int i, j, bad;

	b.pfn = b.order = 200;
	CHECK(cmp(&a, &b) == KCMP_CONTENT, "same key: the content decides");
	b.domain = 2;
	CHECK(cmp(&a, &b) == -1 && cmp(&b, &a) == 1,
	      "different domains order without content");
	b.domain = 1;
	b.class = 1;
	CHECK(cmp(&a, &b) == 1, "then classes");

	/* Two KSM pages without a stable node and without a known key. */
	u2.pfn = 501;
	CHECK(cmp(&u1, &u2) != 0 && cmp(&u1, &u2) == -cmp(&u2, &u1),
	      "two unknown KSM pages are never equal (mapping 0x3 on both)");
	CHECK(cmp(&u1, &u1) == 0, "a protected page equals itself");
	u2.order = 0xffff888000001000UL;
	u2.pfn = 500;
	CHECK(cmp(&u1, &u2) == -1, "protected pages order by their order value first");
	u2.order = u1.order;
	u2.pfn = 499;
	CHECK(cmp(&u1, &u2) == 1, "then by pfn");

	/* A protected page and an ordinary one of the same domain and class. */
	b = a;
	b.pfn = 300;
	b.protect = true;
	CHECK(cmp(&a, &b) == -1 && cmp(&b, &a) == 1,
	      "protected pages sort after the others of their class");

	/* The zero page: content only, whatever the other key. */
	CHECK(cmp(&a, &z) == KCMP_CONTENT && cmp(&z, &a) == KCMP_CONTENT,
	      "a page of domain 1, class 2 is compared with the zero page by content");
	CHECK(cmp(&u1, &z) == KCMP_CONTENT,
	      "even a protected page: the zero-page path is kept off by the checksum");

	/* Antisymmetry and "0 only for the same page" over protected pages. */
	pages[0] = u1;
	pages[1] = u1;
	pages[1].pfn = 501;
	pages[2] = u1;
	pages[2].order = 77;
	pages[3] = u1;
	pages[3].domain = 5;
	bad = 0;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			int r = cmp(&pages[i], &pages[j]);

			if (r == KCMP_CONTENT || r != -cmp(&pages[j], &pages[i]))
				bad++;
			if ((r == 0) != (i == j))
				bad++;
		}
	CHECK(!bad, "protected pages: antisymmetric, equal only to themselves (%d bad)",
	      bad);

	/* History classes: a KSM page has none. */
	a = (struct kcmp_page){ .domain = 1, .class = 3, .pfn = 10, .order = 10 };
	b = (struct kcmp_page){ .domain = 1, .class = 0, .ksm = true, .pfn = 20,
				.order = 0xffff888000002003UL };
	CHECK(kcmp_keys(&a, &b, false) == 1, "classes order a page and a KSM page");
	CHECK(kcmp_keys(&a, &b, true) == KCMP_CONTENT &&
	      kcmp_keys(&b, &a, true) == KCMP_CONTENT,
	      "ksm_classless: a page meets a KSM page of its domain by content");
	b.domain = 2;
	CHECK(kcmp_keys(&a, &b, true) == -1, "but never one of another domain");
	b.domain = 1;
	a.ksm = false;
	b.ksm = false;
	CHECK(kcmp_keys(&a, &b, true) == 1,
	      "two ordinary pages still order by class (the unstable tree)");

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
