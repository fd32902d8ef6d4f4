/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmxd's view of the VMs that kvmx_core has attached, and the writing of
 * a policy section into a VM's sysfs files. Plain C and libc.
 *
 * A VM is the directory ROOT/vms/<pid>-<fd> (ROOT is /sys/kernel/kvmx)
 * once its file attached_ns is there: kvmx_core makes that file last, when
 * the modules have made theirs. It is new to kvmxd when its name was not
 * there at the last scan, or when its attached_ns differs from the one
 * kvmxd knew: it was detached and attached again (kvmx_core reloaded,
 * say), or it exited and a new VM got its pid and descriptor, between two
 * scans.
 *
 * What a section sets goes to these files, in this order:
 *   ksm_domain            (ksm_cmd): first, so that a VM configured into a
 *                         domain spends as little time as possible in
 *                         another one
 *   idle_tax/max_bytes, idle_tax/min_bytes
 *                         (idle_tax): max first; if that fails, it is
 *                         tried again after min (lowering both below the
 *                         old min takes max after min, raising both above
 *                         the old max takes max first)
 *   idle_tax/shares       (idle_tax)
 * A file that is missing is that module not loaded: reported, not fatal.
 */
#ifndef KVMXD_VMS_H
#define KVMXD_VMS_H

#include <stdbool.h>
#include <stddef.h>

#include "kvmxd_conf.h"

#define KVMXD_SYSFS_ROOT	"/sys/kernel/kvmx"
#define KVMXD_VM_ID_MAX		32	/* "<pid>-<fd>" and its NUL */

struct kvmxd_vm {
	char id[KVMXD_VM_ID_MAX];
	int pid;
	unsigned long long start;	/* its attached_ns */
	bool seen;			/* in the scan in hand */
};

struct kvmxd_vms {
	const char *root;		/* ROOT above */
	struct kvmxd_vm *vm;
	unsigned int n, cap;
};

/*
 * Scan ROOT/vms: @fresh is called for each VM that is new (see above),
 * after it is added; VMs no longer there are forgotten. 0, or -errno
 * when ROOT/vms cannot be read (kvmx_core not loaded), the list kept.
 */
int kvmxd_vms_scan(struct kvmxd_vms *vms,
		   void (*fresh)(const struct kvmxd_vm *vm, void *arg),
		   void *arg);
void kvmxd_vms_free(struct kvmxd_vms *vms);

/*
 * What the command line of process @pid says about its VM. 0, or -errno
 * (the process is gone, or its command line is empty).
 */
int kvmxd_vm_identify(int pid, struct kvmxd_vm_id *id);

/*
 * Write the keys @sec sets into VM @id's files under @root. @done gets
 * "key=value ..." of what was written, @failed "file: error; ..." of what
 * was not (both may be cut at their @len). The number of keys not
 * written.
 */
int kvmxd_apply(const char *root, const char *id,
		const struct kvmxd_section *sec,
		char *done, char *failed, size_t len);

#endif /* KVMXD_VMS_H */
