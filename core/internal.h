/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMX_CORE_INTERNAL_H
#define _KVMX_CORE_INTERNAL_H

#include <linux/kobject.h>
#include <kvmx/core.h>

extern struct kobject *kvmx_kobj;
extern struct dentry *kvmx_debugfs;

int kvmx_registry_init(bool attach_existing);
void kvmx_registry_exit(void);

/* Registry internals the KSM hook uses. */
void kvmx_registry_lock(void);
void kvmx_registry_unlock(void);
int kvmx_vms_walk_locked(int (*fn)(struct kvmx_vm *vm, void *arg), void *arg);
struct mm_struct *kvmx_vm_mm(struct kvmx_vm *vm);
bool kvmx_vm_released(struct kvmx_vm *vm);
/* Detach started, or the address space is going away. */
bool kvmx_vm_gone(struct kvmx_vm *vm);
/* The VM's process (its thread group), held while the VM object lives. */
struct pid *kvmx_vm_tgid(struct kvmx_vm *vm);

/* KSM hook (ksm_hook.c). */
int kvmx_ksm_init(void);
void kvmx_ksm_exit(void);
/* Called with the registry lock held after a VM was added or removed. */
void kvmx_ksm_vms_changed(void);
/* Part of @vm's address space, [start, end), is being unmapped. */
void kvmx_ksm_vm_unmapped(struct kvmx_vm *vm, unsigned long start,
			  unsigned long end);

/* The advice channel, /dev/kvmx_advice (advice.c). */
int kvmx_advice_init(void);
void kvmx_advice_exit(void);
/* Called by detach, registry lock held: the VM's requests fail. */
void kvmx_advice_cancel_vm(struct kvmx_vm *vm);

int kvmx_sampler_init(void);
void kvmx_sampler_exit(void);

int kvmx_memstate_init(void);
void kvmx_memstate_exit(void);

#endif /* _KVMX_CORE_INTERNAL_H */
