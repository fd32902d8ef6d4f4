// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx_test_client: a kvmx_core client used by the selftests. It adds a
 * per-VM attribute group, counts attach and detach callbacks and memory
 * state notifications, and shows the counts in debugfs
 * (/sys/kernel/debug/kvmx/test_client).
 *
 * debugfs kvmx/test_advise drives the advice API. Write one command:
 *   VM pageout GFN NPAGES       kvmx_vm_pageout()
 *   VM advise ADVICE HVA LEN    kvmx_vm_advise(), any advice number
 *   VM cold HVA LEN             MADV_COLD on the first 4 KiB page of every
 *                               2 MiB region of the range (a huge page
 *                               split, as largepage_break does it)
 *   VM collapse HVA LEN         MADV_COLLAPSE of every 2 MiB region
 *   VM queue N ADVICE HVA LEN   kvmx_vm_advise_start() N times, keeping
 *                               the handles without waiting
 *   release                     kvmx_advice_put() every handle kept
 * VM is the registry name (<pid>-<fd>). The write fails with the first
 * error of the command (queue: only if nothing was accepted). Reading
 * shows the last command's outcome and the results of the handles kept.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/mman.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <kvmx/core.h>

#define TEST_VALUE_MAX 100
#define TEST_HELD_MAX 512
#define TEST_REGION (2UL << 20)

struct test_vm {
	struct list_head node;
	struct kvmx_vm *vm;
	unsigned int seq;
	unsigned int value;
};

/* test_advise: the VMs, the handles kept, the last command's outcome. */
static DEFINE_MUTEX(test_lock);
static LIST_HEAD(test_vms);
static struct kvmx_advice *test_held[TEST_HELD_MAX];
static unsigned int test_nheld;
static struct {
	long last;
	unsigned int ok, failed, accepted, refused;
	long first_error;
	u64 bytes;
} test_out;

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
	t->vm = vm;
	atomic_inc(&test_live);
	kvmx_vm_set_priv(vm, &test_client, t);
	mutex_lock(&test_lock);
	list_add_tail(&t->node, &test_vms);
	mutex_unlock(&test_lock);
	return 0;
}

static void test_detach(struct kvmx_vm *vm)
{
	struct test_vm *t = kvmx_vm_priv(vm, &test_client);

	/* Waits for a test_advise command on the VM. */
	mutex_lock(&test_lock);
	list_del(&t->node);
	mutex_unlock(&test_lock);
	kfree(t);
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

/* --- test_advise ---------------------------------------------------------- */

static struct kvmx_vm *test_find_vm(const char *name)
{
	struct test_vm *t;

	lockdep_assert_held(&test_lock);
	list_for_each_entry(t, &test_vms, node)
		if (!strcmp(kvmx_vm_name(t->vm), name))
			return t->vm;
	return NULL;
}

static void test_note(long r)
{
	test_out.last = r;
	if (r >= 0) {
		test_out.ok++;
		test_out.bytes += r;
	} else {
		test_out.failed++;
		if (!test_out.first_error)
			test_out.first_error = r;
	}
}

/* @advice on @len bytes at the start of every 2 MiB region of the range. */
static void test_each_region(struct kvmx_vm *vm, unsigned long hva, u64 size,
			     int advice, u64 len)
{
	u64 off;

	for (off = 0; off < size; off += TEST_REGION)
		test_note(kvmx_vm_advise(vm, hva + off, len, advice));
}

static void test_queue(struct kvmx_vm *vm, unsigned int n, int advice,
		       unsigned long hva, u64 len)
{
	struct kvmx_advice *adv;

	while (n--) {
		if (test_nheld == TEST_HELD_MAX) {
			test_out.refused++;
			continue;
		}
		adv = kvmx_vm_advise_start(vm, hva, len, advice);
		if (IS_ERR(adv)) {
			test_out.refused++;
			if (!test_out.first_error)
				test_out.first_error = PTR_ERR(adv);
			continue;
		}
		test_held[test_nheld++] = adv;
		test_out.accepted++;
	}
}

static void test_release(void)
{
	while (test_nheld)
		kvmx_advice_put(test_held[--test_nheld]);
}

static ssize_t test_advise_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char name[24], op[16];
	unsigned long long a = 0, b = 0, c = 0, d = 0;
	struct kvmx_vm *vm;
	char *buf;
	int n, ret = 0;

	buf = memdup_user_nul(ubuf, min_t(size_t, count, 255));
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&test_lock);
	memset(&test_out, 0, sizeof(test_out));
	if (sysfs_streq(buf, "release")) {
		test_release();
		goto out;
	}
	n = sscanf(buf, "%23s %15s %lli %lli %lli %lli", name, op, &a, &b, &c,
		   &d);
	vm = n >= 2 ? test_find_vm(name) : NULL;
	if (n < 2) {
		ret = -EINVAL;
	} else if (!vm) {
		ret = -ENOENT;
	} else if (!strcmp(op, "pageout") && n == 4) {
		test_out.last = kvmx_vm_pageout(vm, a, b);
		ret = test_out.last;
	} else if (!strcmp(op, "advise") && n == 5) {
		test_note(kvmx_vm_advise(vm, b, c, a));
	} else if (!strcmp(op, "cold") && n == 4) {
		test_each_region(vm, a, b, MADV_COLD, PAGE_SIZE);
	} else if (!strcmp(op, "collapse") && n == 4) {
		test_each_region(vm, a, b, MADV_COLLAPSE, TEST_REGION);
	} else if (!strcmp(op, "queue") && n == 6) {
		test_queue(vm, a, b, c, d);
		if (!test_out.accepted)
			ret = test_out.first_error;
	} else {
		ret = -EINVAL;
	}
	if (!ret && test_out.failed)
		ret = test_out.first_error;
out:
	mutex_unlock(&test_lock);
	kfree(buf);
	return ret ? ret : count;
}

static int test_advise_show(struct seq_file *m, void *unused)
{
	long r, prev = 0;
	unsigned int i, same = 0, busy = 0;

	mutex_lock(&test_lock);
	seq_printf(m, "last %ld\nok %u\nfailed %u\nbytes %llu\nfirst_error %ld\n",
		   test_out.last, test_out.ok, test_out.failed, test_out.bytes,
		   test_out.first_error);
	seq_printf(m, "accepted %u\nrefused %u\nheld %u\n", test_out.accepted,
		   test_out.refused, test_nheld);
	/* The handles' results, as "value:count" runs. */
	seq_puts(m, "results");
	for (i = 0; i <= test_nheld; i++) {
		r = i < test_nheld ? kvmx_advice_result(test_held[i]) : 0;
		if (i < test_nheld && r == -EINPROGRESS)
			busy++;
		if (i && (i == test_nheld || r != prev)) {
			seq_printf(m, " %ld:%u", prev, same);
			same = 0;
		}
		prev = r;
		same++;
	}
	seq_printf(m, "\nin_progress %u\n", busy);
	mutex_unlock(&test_lock);
	return 0;
}

static int test_advise_open(struct inode *inode, struct file *file)
{
	return single_open(file, test_advise_show, NULL);
}

static const struct file_operations test_advise_fops = {
	.owner = THIS_MODULE,
	.open = test_advise_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = test_advise_write,
};

static struct dentry *test_advise_dentry;

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
	test_advise_dentry = debugfs_create_file("test_advise", 0600,
						 kvmx_debugfs_root(), NULL,
						 &test_advise_fops);
	return 0;
}

static void __exit test_exit(void)
{
	debugfs_remove(test_advise_dentry);
	debugfs_remove(test_dentry);
	mutex_lock(&test_lock);
	test_release();
	mutex_unlock(&test_lock);
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
