/* SPDX-License-Identifier: GPL-2.0 */
/* TAP output for the userspace unit tests: CHECK(cond, fmt, ...). */
#ifndef _KVMX_UNIT_TAP_H
#define _KVMX_UNIT_TAP_H

#include <stdio.h>

static int n, failed;

#define CHECK(cond, ...) do {						\
	n++;								\
	if (cond) {							\
		printf("ok %d - ", n);					\
	} else {							\
		failed++;						\
		printf("not ok %d - ", n);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

#endif /* _KVMX_UNIT_TAP_H */
