/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMX_CORE_INTERNAL_H
#define _KVMX_CORE_INTERNAL_H

#include <linux/kobject.h>
#include <kvmx/core.h>

extern struct kobject *kvmx_kobj;
extern struct dentry *kvmx_debugfs;

int kvmx_registry_init(bool attach_existing);
void kvmx_registry_exit(void);

int kvmx_memstate_init(void);
void kvmx_memstate_exit(void);

#endif /* _KVMX_CORE_INTERNAL_H */
