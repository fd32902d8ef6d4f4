// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx_test_client: a kvmx_core client used by the selftests. It adds a
 * per-VM attribute group, counts attach and detach callbacks and memory
 * state notifications, and shows the counts in debugfs
 * (/sys/kernel/debug/kvmx/test_client).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <kvmx/core.h>

#define TEST_VALUE_MAX 100

struct test_vm {
	unsigned int seq;
	unsigned int value;
};

static atomic_t test_attached = ATOMIC_INIT(0);
static atomic_t test_detached = ATOMIC_INIT(0);
static atomic_t test_events = ATOMIC_INIT(0);
static atomic_t test_last_state = ATOMIC_INIT(-1);
static atomic_t test_live = ATOMIC_INIT(0);
static struct dentry *test_dentry;
static struct kvmx_client test_client;

static struct test_vm *test_vm_of(struct kobject *kobj)
{
	return kvmx_vm_priv(kvmx_vm_from_kobj(kobj), &test_client);
}

static ssize_t test_seq_show(struct kobject *kobj,
			     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", test_vm_of(kobj)->seq);
}

static ssize_t test_value_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(test_vm_of(kobj)->value));
}

static ssize_t test_value_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret)
		return ret;
	if (v > TEST_VALUE_MAX)
		return -ERANGE;
	WRITE_ONCE(test_vm_of(kobj)->value, v);
	return count;
}

static struct kobj_attribute test_attr_seq = __ATTR_RO(test_seq);
static struct kobj_attribute test_attr_value =
	__ATTR_RW_MODE(test_value, 0644);

static struct attribute *test_attrs[] = {
	&test_attr_seq.attr,
	&test_attr_value.attr,
	NULL,
};

static const struct attribute_group test_group = {
	.attrs = test_attrs,
};

static int test_attach(struct kvmx_vm *vm)
{
	struct test_vm *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	t->seq = atomic_inc_return(&test_attached);
	atomic_inc(&test_live);
	kvmx_vm_set_priv(vm, &test_client, t);
	return 0;
}

static void test_detach(struct kvmx_vm *vm)
{
	kfree(kvmx_vm_priv(vm, &test_client));
	atomic_inc(&test_detached);
	atomic_dec(&test_live);
}

static struct kvmx_client test_client = {
	.name = "kvmx_test_client",
	.vm_group = &test_group,
	.attach = test_attach,
	.detach = test_detach,
};

static int test_memstate_event(struct notifier_block *nb, unsigned long state,
			       void *data)
{
	struct kvmx_memstate_event *ev = data;

	if (ev->new_state != state)
		pr_err("event state mismatch\n");
	atomic_inc(&test_events);
	atomic_set(&test_last_state, state);
	return NOTIFY_OK;
}

static struct notifier_block test_nb = {
	.notifier_call = test_memstate_event,
};

static int test_show(struct seq_file *m, void *unused)
{
	int last = atomic_read(&test_last_state);

	seq_printf(m, "attached %d\n", atomic_read(&test_attached));
	seq_printf(m, "detached %d\n", atomic_read(&test_detached));
	seq_printf(m, "live %d\n", atomic_read(&test_live));
	seq_printf(m, "events %d\n", atomic_read(&test_events));
	seq_printf(m, "last_state %s\n",
		   last < 0 ? "none" : kvmx_memstate_name(last));
	seq_printf(m, "state %s\n", kvmx_memstate_name(kvmx_memstate()));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(test);

static int __init test_init(void)
{
	int ret;

	ret = kvmx_memstate_register_notifier(&test_nb);
	if (ret)
		return ret;
	ret = kvmx_register_client(&test_client);
	if (ret) {
		kvmx_memstate_unregister_notifier(&test_nb);
		return ret;
	}
	test_dentry = debugfs_create_file("test_client", 0400,
					  kvmx_debugfs_root(), NULL,
					  &test_fops);
	return 0;
}

static void __exit test_exit(void)
{
	debugfs_remove(test_dentry);
	kvmx_unregister_client(&test_client);
	kvmx_memstate_unregister_notifier(&test_nb);
	if (atomic_read(&test_live))
		pr_err("%d VMs still attached at unload\n",
		       atomic_read(&test_live));
}

module_init(test_init);
module_exit(test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmx_core test client");
