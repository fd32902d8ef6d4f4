/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Application-level ballooning: /dev/balloon_alb, the ABI between the
 * guest's balloon_alb driver and the applications that give memory back
 * to the host themselves (after Salomie et al., "Application Level
 * Ballooning for Efficient Server Consolidation", EuroSys 2013).
 *
 * The device is root-only by default (mode 0600). An open file holds at
 * most one registration. The registration belongs to the process (thread
 * group) that made it: every other ioctl on the file from another process,
 * a forked child included, gets EPERM, and so does a REGISTER on a file
 * that another process registered. Closing the file, UNREGISTER or the
 * exit of the process ends the registration: an ask still open then goes
 * to the OS balloon at once, memory already given stays in the balloon and
 * an open offer returns to the OS.
 *
 * The exchange:
 *
 *   1. REGISTER: how much memory the application manages now, what part
 *      of that it could give cheaply, a floor it never goes below, and a
 *      weight.
 *   2. poll() reports EPOLLIN | EPOLLRDNORM when there is a new ask or a
 *      new offer that STATE has not yet returned on this file: its seq
 *      differs from the last one STATE returned. A file without a
 *      registration reports EPOLLERR.
 *   3. STATE: how much it is asked for now and by when.
 *   4. GIVE, as often as it likes until the deadline: either "I freed N
 *      bytes myself" (the driver credits only what it can take at once
 *      without reclaim) or "release this private anonymous range for me".
 *      Or DECLINE: the rest of the ask goes to the OS balloon at once.
 *      What is neither given nor declined by the deadline goes to the OS
 *      balloon then.
 *   5. When the host gives memory back, part of it is offered to the
 *      applications that gave it, in proportion to what each gave: OFFER
 *      says how much and until when, TAKE claims it. What is not taken by
 *      the offer's deadline returns to the OS.
 *
 * An application never has an open ask and an open offer at once.
 *
 * Every struct has a fixed size (BALLOON_ALB_*_SIZE) with no implicit
 * padding, and the same layout on 32- and 64-bit userspace. Fields marked
 * "in" are read by the driver, "out" are written by it. Reserved and
 * flags fields that are "in" must be zero (EINVAL otherwise); "out"
 * reserved fields are written as zero. Byte counts are at most
 * BALLOON_ALB_BYTES_MAX (ERANGE above), and the balloon works in whole
 * pages of BALLOON_ALB_PAGE_SIZE bytes: counts the driver returns are
 * multiples of it. Deadlines are CLOCK_MONOTONIC nanoseconds, the clock of
 * clock_gettime(CLOCK_MONOTONIC) in the guest, together with the
 * milliseconds left when the call was made.
 *
 * Errors common to every ioctl: ENOTTY for an unknown command (or a known
 * one with a wrong size, which is another command number), EFAULT for a
 * bad pointer, EPERM for a process that does not own the registration,
 * ENOENT for a file that holds no registration (except GET_VERSION and
 * REGISTER), ENODEV once the device is gone.
 */
#ifndef _UAPI_KVMX_BALLOON_ALB_H
#define _UAPI_KVMX_BALLOON_ALB_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BALLOON_ALB_DEVICE		"/dev/balloon_alb"

/* The ABI version this header describes. */
#define BALLOON_ALB_VERSION		1

#define BALLOON_ALB_PAGE_SIZE		4096
/* Largest byte count accepted anywhere: 64 TiB. */
#define BALLOON_ALB_BYTES_MAX		(1ULL << 46)
#define BALLOON_ALB_WEIGHT_MIN		1
#define BALLOON_ALB_WEIGHT_MAX		1000

/* ioctl magic: 0xBA, numbers 0x00..0x0F. */
#define BALLOON_ALB_IOC_MAGIC		0xBA

/*
 * BALLOON_ALB_GET_VERSION (_IOR): what the driver speaks. Needs no
 * registration and may be called by any process.
 */
struct balloon_alb_version {
	__u32 version;		/* out: BALLOON_ALB_VERSION */
	__u32 page_size;	/* out: BALLOON_ALB_PAGE_SIZE */
	__u32 weight_max;	/* out: BALLOON_ALB_WEIGHT_MAX */
	__u32 reserved0;	/* out: 0 */
	__u64 bytes_max;	/* out: BALLOON_ALB_BYTES_MAX */
	__u64 reserved[1];	/* out: 0 */
};
#define BALLOON_ALB_VERSION_SIZE	32

/*
 * BALLOON_ALB_REGISTER (_IOW): register the calling process, or update
 * the figures of its registration on this file (an ask or offer already
 * open is kept; the next ask uses the new figures).
 *
 * What the application can be asked for is
 *
 *   min(cheap_bytes, size_bytes - floor_bytes)	(0 if size <= floor)
 *
 * rounded down to whole pages, and a deficit is split between the
 * applications in proportion to their weights, none asked for more than
 * that (water-filling). A GIVE lowers size_bytes and cheap_bytes by what
 * is credited, a TAKE raises size_bytes by what is taken.
 *
 * Errors: EPROTO for a version other than BALLOON_ALB_VERSION; EINVAL for
 * non-zero flags or reserved fields or a weight of 0; ERANGE for a weight
 * above BALLOON_ALB_WEIGHT_MAX or a byte count above BALLOON_ALB_BYTES_MAX;
 * ENOSPC when the driver holds as many registrations as it can; EPERM for
 * a file registered by another process.
 */
struct balloon_alb_register {
	__u32 version;		/* in: BALLOON_ALB_VERSION */
	__u32 weight;		/* in: BALLOON_ALB_WEIGHT_MIN..MAX */
	__u64 size_bytes;	/* in: memory the application manages now */
	__u64 cheap_bytes;	/* in: of it, what it could give cheaply */
	__u64 floor_bytes;	/* in: it never goes below this */
	__u64 flags;		/* in: 0 */
	__u64 reserved[3];	/* in: 0 */
};
#define BALLOON_ALB_REGISTER_SIZE	64

/*
 * BALLOON_ALB_STATE (_IOR): the application's ask, and the seq that
 * poll() compares. @seq changes with every new ask or offer to this
 * application (a new amount, a new deadline, an ask closed by the
 * deadline or withdrawn because the host wants less); it never goes back
 * and is never 0 once anything was asked or offered.
 */
struct balloon_alb_state {
	__u64 seq;		/* out: see above */
	__u64 ask_bytes;	/* out: still asked for now; 0: no open ask */
	__u64 ask_deadline_ns;	/* out: CLOCK_MONOTONIC; 0 with no open ask */
	__u32 ask_left_ms;	/* out: ms to the deadline, 0 once it passed */
	__u32 reserved0;	/* out: 0 */
	__u64 offer_bytes;	/* out: the open offer (details: OFFER) */
	__u64 given_bytes;	/* out: given and still in the balloon */
	__u64 reserved[4];	/* out: 0 */
};
#define BALLOON_ALB_STATE_SIZE		80

/* BALLOON_ALB_GIVE modes. */
#define BALLOON_ALB_GIVE_FREED		1	/* freed by the application */
#define BALLOON_ALB_GIVE_RANGE		2	/* release [addr, addr + len) */

/*
 * BALLOON_ALB_GIVE (_IOWR): report memory given against the open ask.
 *
 * BALLOON_ALB_GIVE_FREED: the application has freed @len bytes itself
 * (@addr must be 0). The driver takes free pages for the balloon without
 * reclaim, at most @len rounded down to pages and at most the open ask,
 * and credits what it got: @credited may be less than @len.
 *
 * BALLOON_ALB_GIVE_RANGE: the driver releases the first @credited bytes
 * of [@addr, @addr + @len), at most the open ask, as MADV_DONTNEED would,
 * and takes the freed pages without reclaim. @addr and @len must be
 * page aligned, and the whole range must lie in private anonymous
 * mappings of the caller (not shared, not file-backed, not locked, not
 * hugetlb): EINVAL otherwise, and nothing is released. After the call the
 * released part reads as zeroes; the rest is untouched.
 *
 * With no open ask @credited is 0 and nothing is released. Errors:
 * EINVAL for an unknown mode, non-zero flags or reserved fields, a
 * non-zero @addr with GIVE_FREED, @len 0, or a range as above; ERANGE for
 * @len above BALLOON_ALB_BYTES_MAX.
 */
struct balloon_alb_give {
	__u32 mode;		/* in: BALLOON_ALB_GIVE_* */
	__u32 flags;		/* in: 0 */
	__u64 addr;		/* in: RANGE: start; FREED: 0 */
	__u64 len;		/* in: bytes freed, or the range's length */
	__u64 credited;		/* out: bytes credited against the ask */
	__u64 reserved[4];	/* in: 0 */
};
#define BALLOON_ALB_GIVE_SIZE		64

/*
 * BALLOON_ALB_DECLINE (_IOW): decline the rest of the ask whose seq STATE
 * returned: it goes to the OS balloon at once. ESTALE when @seq is not
 * the application's current seq (a newer ask or offer came: read STATE
 * again); with no open ask it does nothing. Errors: EINVAL for non-zero
 * reserved fields.
 */
struct balloon_alb_decline {
	__u64 seq;		/* in: the ask declined */
	__u64 reserved[3];	/* in: 0 */
};
#define BALLOON_ALB_DECLINE_SIZE	32

/* BALLOON_ALB_OFFER (_IOR): memory offered back to the application. */
struct balloon_alb_offer {
	__u64 seq;		/* out: as in STATE */
	__u64 offer_bytes;	/* out: what TAKE may claim; 0: no offer */
	__u64 deadline_ns;	/* out: CLOCK_MONOTONIC; 0 with no offer */
	__u32 left_ms;		/* out: ms to the deadline, 0 once it passed */
	__u32 reserved0;	/* out: 0 */
	__u64 reserved[2];	/* out: 0 */
};
#define BALLOON_ALB_OFFER_SIZE		48

/*
 * BALLOON_ALB_TAKE (_IOWR): claim up to @bytes (rounded down to pages) of
 * the open offer; @taken says how much the application may now allocate
 * again (0 with no open offer). Errors: EINVAL for non-zero reserved
 * fields; ERANGE for @bytes above BALLOON_ALB_BYTES_MAX.
 */
struct balloon_alb_take {
	__u64 bytes;		/* in: wanted */
	__u64 taken;		/* out: granted */
	__u64 reserved[2];	/* in: 0 */
};
#define BALLOON_ALB_TAKE_SIZE		32

#define BALLOON_ALB_GET_VERSION	_IOR(BALLOON_ALB_IOC_MAGIC, 0x00, \
				     struct balloon_alb_version)
#define BALLOON_ALB_REGISTER	_IOW(BALLOON_ALB_IOC_MAGIC, 0x01, \
				     struct balloon_alb_register)
/* End the registration of this file, as close() does. */
#define BALLOON_ALB_UNREGISTER	_IO(BALLOON_ALB_IOC_MAGIC, 0x02)
#define BALLOON_ALB_STATE	_IOR(BALLOON_ALB_IOC_MAGIC, 0x03, \
				     struct balloon_alb_state)
#define BALLOON_ALB_GIVE	_IOWR(BALLOON_ALB_IOC_MAGIC, 0x04, \
				      struct balloon_alb_give)
#define BALLOON_ALB_DECLINE	_IOW(BALLOON_ALB_IOC_MAGIC, 0x05, \
				     struct balloon_alb_decline)
#define BALLOON_ALB_OFFER	_IOR(BALLOON_ALB_IOC_MAGIC, 0x06, \
				     struct balloon_alb_offer)
#define BALLOON_ALB_TAKE	_IOWR(BALLOON_ALB_IOC_MAGIC, 0x07, \
				      struct balloon_alb_take)

#endif /* _UAPI_KVMX_BALLOON_ALB_H */
