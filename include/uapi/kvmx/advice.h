/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The kvmx advice channel: /dev/kvmx_advice, the ABI between kvmx_core and
 * kvmxd, the daemon that carries out memory advice on VMs with
 * process_madvise(2).
 *
 * The device is root-only (mode 0600 and CAP_SYS_ADMIN at open) and has
 * one reader at a time, which must open it read-write: a second open gets
 * EBUSY.
 *
 * read() returns whole struct kvmx_advice_request records, as many as fit
 * in the buffer and are queued; a buffer smaller than one record gets
 * EINVAL, an empty queue EAGAIN (O_NONBLOCK) or a wait. poll() reports
 * POLLIN while requests are queued.
 *
 * write() takes whole struct kvmx_advice_result records, one per request
 * read. A size that is not a multiple of the record gets EINVAL. Records
 * are taken in order; the first bad one ends the write, which then returns
 * the bytes taken before it, or its errno if it was the first:
 *   ENOENT    no request with that id was read from the device
 *   EALREADY  the request was answered before (or failed when the
 *             previous reader closed the device)
 *   EINVAL    result above the request's length, or below -4095
 *
 * Closing the device fails every request not yet answered with ENOTCONN.
 * At most KVMX_ADVICE_MAX_IN_FLIGHT requests are queued or read and not
 * answered; the kernel refuses more (EBUSY) until kvmxd catches up.
 */
#ifndef _UAPI_KVMX_ADVICE_H
#define _UAPI_KVMX_ADVICE_H

#include <linux/types.h>

#define KVMX_ADVICE_DEVICE		"/dev/kvmx_advice"
#define KVMX_ADVICE_MAX_IN_FLIGHT	256

/*
 * One piece of advice for one VM. The VM is its QEMU process: @pid in the
 * reader's pid namespace, and @pid_ino, the inode number of a pidfd of
 * that process (pidfs numbers every struct pid once per boot, so an
 * exited process's number never comes back, unlike its pid). The reader
 * opens a pidfd for @pid and advises only if fstat() of it gives @pid_ino.
 */
struct kvmx_advice_request {
	__u64 id;		/* never 0, never reused while loaded */
	__u64 pid_ino;		/* st_ino of a pidfd of the VM's process */
	__s32 pid;		/* the VM's process (thread group id) */
	__s32 advice;		/* MADV_PAGEOUT, MADV_COLD or MADV_COLLAPSE */
	__u64 start;		/* host virtual address, page aligned */
	__u64 len;		/* bytes, page aligned, not 0 */
};

/* What became of a request: bytes advised (0..len) or a negative errno. */
struct kvmx_advice_result {
	__u64 id;
	__s64 result;
};

#endif /* _UAPI_KVMX_ADVICE_H */
