// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx_core: VM registry and host memory state shared by the kvmx modules.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>

#include "internal.h"

static bool attach_existing;
module_param(attach_existing, bool, 0444);
MODULE_PARM_DESC(attach_existing, "Attach every running VM at load time");

struct kobject *kvmx_kobj;
struct dentry *kvmx_debugfs;

struct kobject *kvmx_sysfs_root(void)
{
	return kvmx_kobj;
}
EXPORT_SYMBOL_GPL(kvmx_sysfs_root);

struct dentry *kvmx_debugfs_root(void)
{
	return kvmx_debugfs;
}
EXPORT_SYMBOL_GPL(kvmx_debugfs_root);

static int __init kvmx_core_init(void)
{
	int ret;

	kvmx_kobj = kobject_create_and_add("kvmx", kernel_kobj);
	if (!kvmx_kobj)
		return -ENOMEM;
	kvmx_debugfs = debugfs_create_dir("kvmx", NULL);

	ret = kvmx_ksm_init();
	if (ret)
		goto err_kobj;
	ret = kvmx_memstate_init();
	if (ret)
		goto err_ksm;
	/* Before the registry: a detaching VM cancels its advice. */
	ret = kvmx_advice_init();
	if (ret)
		goto err_memstate;
	ret = kvmx_registry_init(attach_existing);
	if (ret)
		goto err_advice;
	ret = kvmx_sampler_init();
	if (ret)
		goto err_registry;
	pr_info("loaded\n");
	return 0;

err_registry:
	kvmx_registry_exit();
err_advice:
	kvmx_advice_exit();
err_memstate:
	kvmx_memstate_exit();
err_ksm:
	kvmx_ksm_exit();
err_kobj:
	debugfs_remove(kvmx_debugfs);
	kobject_put(kvmx_kobj);
	return ret;
}

static void __exit kvmx_core_exit(void)
{
	/* Readers of debugfs files may take registry locks: remove them first. */
	debugfs_remove(kvmx_debugfs);
	kvmx_debugfs = NULL;
	kvmx_sampler_exit();
	kvmx_registry_exit();
	kvmx_advice_exit();
	kvmx_memstate_exit();
	kvmx_ksm_exit();
	kobject_put(kvmx_kobj);
	/*
	 * The map and sample-set callbacks queued with call_rcu() run this
	 * module's code; with lazy RCU they may wait seconds. Nothing queues
	 * more by now.
	 */
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(kvmx_core_init);
module_exit(kvmx_core_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmx core: VM registry, KSM hook and host memory state");
MODULE_SOFTDEP("pre: kvm");
