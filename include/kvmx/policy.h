/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy code is plain C: it builds in the kernel and in userspace unit
 * tests. This header is its only window on the environment.
 */
#ifndef _KVMX_POLICY_H
#define _KVMX_POLICY_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/limits.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
typedef int64_t s64;
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
#define U64_MAX UINT64_MAX
#endif

#endif /* _KVMX_POLICY_H */
