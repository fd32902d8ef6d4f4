// SPDX-License-Identifier: GPL-2.0
/*
 * The VM registry: which KVM VMs kvmx manages.
 *
 * A VM is found through the file table of its QEMU process: a file for
 * which KVM's file_is_kvm() is true (its "kvm-vm" anon-inode file). We
 * hold a reference on its struct kvm while it is attached, and an MMU
 * notifier on its mm tells us when the process's address space goes away,
 * at which point a work item detaches it.
 *
 * Locking: kvmx_lock (a mutex) protects the VM list, the client list and
 * every attach and detach. sysfs handlers of a VM's directory never take it,
 * so removing the directory under the lock cannot deadlock against them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kvm_host.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "internal.h"

/* Most VMs one process is expected to hold; more are attached in batches. */
#define KVMX_SCAN_MAX 32

enum {
	KVMX_VM_DETACHING,	/* detach started; the notifier must not queue */
	KVMX_VM_RELEASE_QUEUED,	/* release_work queued and holds a reference */
	KVMX_VM_RELEASED,	/* the address space is going away */
};

struct kvmx_vm {
	struct list_head node;
	struct kobject kobj;
	struct kvm *kvm;
	struct mm_struct *mm;
	struct mmu_notifier mn;
	struct work_struct release_work;
	unsigned long flags;
	unsigned long clients;	/* bit per client slot attached */
	void *priv[KVMX_MAX_CLIENTS];
	struct pid *tgid;	/* the QEMU process, for the advice channel */
	pid_t pid;
	int fd;
	u64 attached_ns;	/* boot time at attach: unique per attach */
	char name[24];
};

static DEFINE_MUTEX(kvmx_lock);
static LIST_HEAD(kvmx_vms);
static LIST_HEAD(kvmx_clients);
static unsigned long kvmx_client_slots;
static struct kobject *kvmx_vms_kobj;
static struct workqueue_struct *kvmx_wq;

/* Counters shown in debugfs; the leak tests read them. */
static atomic_t kvmx_vm_objects = ATOMIC_INIT(0);
static unsigned long kvmx_attached_total;
static unsigned long kvmx_detached_total;
static unsigned long kvmx_released_total;
static u64 kvmx_last_attach_ns;		/* kvmx_lock */

/* --- per-VM object and sysfs directory ---------------------------------- */

/* --- for the KSM hook ----------------------------------------------------- */

void kvmx_registry_lock(void)
{
	mutex_lock(&kvmx_lock);
}

void kvmx_registry_unlock(void)
{
	mutex_unlock(&kvmx_lock);
}

int kvmx_vms_walk_locked(int (*fn)(struct kvmx_vm *vm, void *arg), void *arg)
{
	struct kvmx_vm *vm;
	int ret;

	lockdep_assert_held(&kvmx_lock);
	list_for_each_entry(vm, &kvmx_vms, node) {
		ret = fn(vm, arg);
		if (ret)
			return ret;
	}
	return 0;
}

struct mm_struct *kvmx_vm_mm(struct kvmx_vm *vm)
{
	return vm->mm;
}

bool kvmx_vm_released(struct kvmx_vm *vm)
{
	return test_bit(KVMX_VM_RELEASED, &vm->flags);
}

bool kvmx_vm_gone(struct kvmx_vm *vm)
{
	return test_bit(KVMX_VM_DETACHING, &vm->flags) ||
	       test_bit(KVMX_VM_RELEASED, &vm->flags);
}

struct pid *kvmx_vm_tgid(struct kvmx_vm *vm)
{
	return vm->tgid;
}

static void kvmx_vm_release_kobj(struct kobject *kobj)
{
	struct kvmx_vm *vm = container_of(kobj, struct kvmx_vm, kobj);

	put_pid(vm->tgid);
	kfree(vm);
	atomic_dec(&kvmx_vm_objects);
}

struct kvmx_vm *kvmx_vm_from_kobj(struct kobject *kobj)
{
	return container_of(kobj, struct kvmx_vm, kobj);
}
EXPORT_SYMBOL_GPL(kvmx_vm_from_kobj);

struct kvm *kvmx_vm_kvm(struct kvmx_vm *vm)
{
	return vm->kvm;
}
EXPORT_SYMBOL_GPL(kvmx_vm_kvm);

const char *kvmx_vm_name(struct kvmx_vm *vm)
{
	return vm->name;
}
EXPORT_SYMBOL_GPL(kvmx_vm_name);

pid_t kvmx_vm_pid(struct kvmx_vm *vm)
{
	return vm->pid;
}
EXPORT_SYMBOL_GPL(kvmx_vm_pid);

void *kvmx_vm_priv(struct kvmx_vm *vm, const struct kvmx_client *client)
{
	return vm->priv[client->slot];
}
EXPORT_SYMBOL_GPL(kvmx_vm_priv);

void kvmx_vm_set_priv(struct kvmx_vm *vm, const struct kvmx_client *client,
		      void *priv)
{
	vm->priv[client->slot] = priv;
}
EXPORT_SYMBOL_GPL(kvmx_vm_set_priv);

int kvmx_vm_walk_memslots(struct kvmx_vm *vm, kvmx_memslot_cb_t fn,
			  void *arg)
{
	struct kvm *kvm = vm->kvm;
	struct kvm_memory_slot *slot;
	int bkt, idx, ret = 0;

	idx = srcu_read_lock(&kvm->srcu);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm)) {
		if (slot->id >= KVM_USER_MEM_SLOTS || !slot->userspace_addr)
			continue;
		ret = fn(vm, slot, arg);
		if (ret)
			break;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_vm_walk_memslots);

struct kvmx_mem_sum {
	u64 bytes;
	unsigned int slots;
};

static int kvmx_sum_slot(struct kvmx_vm *vm, const struct kvm_memory_slot *slot,
			 void *arg)
{
	struct kvmx_mem_sum *sum = arg;

	sum->slots++;
	if (!(slot->flags & KVM_MEM_READONLY))
		sum->bytes += (u64)slot->npages << PAGE_SHIFT;
	return 0;
}

static struct kvmx_mem_sum kvmx_vm_mem_sum(struct kvmx_vm *vm)
{
	struct kvmx_mem_sum sum = { 0, 0 };

	kvmx_vm_walk_memslots(vm, kvmx_sum_slot, &sum);
	return sum;
}

u64 kvmx_vm_memory_bytes(struct kvmx_vm *vm)
{
	return kvmx_vm_mem_sum(vm).bytes;
}
EXPORT_SYMBOL_GPL(kvmx_vm_memory_bytes);

u64 kvmx_vm_resident_bytes(struct kvmx_vm *vm)
{
	u64 pages;

	if (kvmx_vm_released(vm))
		return 0;
	pages = get_mm_counter(vm->mm, MM_ANONPAGES) +
		get_mm_counter(vm->mm, MM_SHMEMPAGES);
	return pages << PAGE_SHIFT;
}
EXPORT_SYMBOL_GPL(kvmx_vm_resident_bytes);

static ssize_t pid_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", kvmx_vm_from_kobj(kobj)->pid);
}

static ssize_t memory_bytes_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  kvmx_vm_mem_sum(kvmx_vm_from_kobj(kobj)).bytes);
}

static ssize_t memslots_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  kvmx_vm_mem_sum(kvmx_vm_from_kobj(kobj)).slots);
}

/*
 * Boot-time nanoseconds at attach, distinct for every attach since boot
 * (kvmx_core reloads included): what tells kvmxd that a VM of the same
 * name is another attach, whose knobs are the modules' defaults again.
 * The file is made last, once every client has added its files, so that
 * kvmxd, which waits for it, finds a VM's knobs all there.
 */
static ssize_t attached_ns_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", kvmx_vm_from_kobj(kobj)->attached_ns);
}

static struct kobj_attribute kvmx_vm_attr_pid = __ATTR_RO_MODE(pid, 0400);
static struct kobj_attribute kvmx_vm_attr_attached_ns =
	__ATTR_RO_MODE(attached_ns, 0400);
static struct kobj_attribute kvmx_vm_attr_memory_bytes =
	__ATTR_RO_MODE(memory_bytes, 0400);
static struct kobj_attribute kvmx_vm_attr_memslots = __ATTR_RO_MODE(memslots, 0400);

static struct attribute *kvmx_vm_attrs[] = {
	&kvmx_vm_attr_pid.attr,
	&kvmx_vm_attr_memory_bytes.attr,
	&kvmx_vm_attr_memslots.attr,
	NULL,
};
ATTRIBUTE_GROUPS(kvmx_vm);

static const struct kobj_type kvmx_vm_ktype = {
	.release = kvmx_vm_release_kobj,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kvmx_vm_groups,
};

/* --- clients -------------------------------------------------------------- */

static void kvmx_client_attach_vm(struct kvmx_client *c, struct kvmx_vm *vm)
{
	int ret;

	lockdep_assert_held(&kvmx_lock);
	if (c->attach) {
		ret = c->attach(vm);
		if (ret) {
			pr_warn_ratelimited("%s: not attached to %s: %d\n",
					    c->name, vm->name, ret);
			return;
		}
	}
	if (c->vm_group) {
		ret = sysfs_create_group(&vm->kobj, c->vm_group);
		if (ret) {
			pr_warn_ratelimited("%s: no sysfs group for %s: %d\n",
					    c->name, vm->name, ret);
			if (c->detach)
				c->detach(vm);
			vm->priv[c->slot] = NULL;
			return;
		}
	}
	__set_bit(c->slot, &vm->clients);
}

static void kvmx_client_detach_vm(struct kvmx_client *c, struct kvmx_vm *vm)
{
	lockdep_assert_held(&kvmx_lock);
	if (!__test_and_clear_bit(c->slot, &vm->clients))
		return;
	if (c->vm_group)
		sysfs_remove_group(&vm->kobj, c->vm_group);
	if (c->detach)
		c->detach(vm);
	vm->priv[c->slot] = NULL;
}

int kvmx_register_client(struct kvmx_client *client)
{
	struct kvmx_vm *vm;
	int slot;

	mutex_lock(&kvmx_lock);
	slot = find_first_zero_bit(&kvmx_client_slots, KVMX_MAX_CLIENTS);
	if (slot >= KVMX_MAX_CLIENTS) {
		mutex_unlock(&kvmx_lock);
		return -EBUSY;
	}
	__set_bit(slot, &kvmx_client_slots);
	client->slot = slot;
	list_add_tail(&client->node, &kvmx_clients);
	list_for_each_entry(vm, &kvmx_vms, node)
		kvmx_client_attach_vm(client, vm);
	mutex_unlock(&kvmx_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(kvmx_register_client);

void kvmx_unregister_client(struct kvmx_client *client)
{
	struct kvmx_vm *vm;

	mutex_lock(&kvmx_lock);
	list_for_each_entry(vm, &kvmx_vms, node)
		kvmx_client_detach_vm(client, vm);
	list_del(&client->node);
	__clear_bit(client->slot, &kvmx_client_slots);
	mutex_unlock(&kvmx_lock);
}
EXPORT_SYMBOL_GPL(kvmx_unregister_client);

/* --- attach and detach ---------------------------------------------------- */

static void kvmx_vm_detach(struct kvmx_vm *vm)
{
	struct kvmx_client *c;

	lockdep_assert_held(&kvmx_lock);
	set_bit(KVMX_VM_DETACHING, &vm->flags);
	list_del_init(&vm->node);
	/* The KSM hook forgets the VM before its clients free their state. */
	kvmx_ksm_vms_changed();
	/*
	 * Its advice requests fail now (ESRCH): a client waiting for one in
	 * its detach callback is woken, and nothing queued for the VM is
	 * given to kvmxd any more.
	 */
	kvmx_advice_cancel_vm(vm);
	list_for_each_entry_reverse(c, &kvmx_clients, node)
		kvmx_client_detach_vm(c, vm);
	kobject_uevent(&vm->kobj, KOBJ_REMOVE);
	/* Waits for sysfs readers of this VM's directory. */
	kobject_del(&vm->kobj);
	/* Waits for a release callback in flight; calls none of ours. */
	mmu_notifier_unregister(&vm->mn, vm->mm);
	kvm_put_kvm(vm->kvm);
	vm->kvm = NULL;
	kvmx_detached_total++;
	pr_info("detached VM %s\n", vm->name);
	kobject_put(&vm->kobj);
}

static void kvmx_vm_release_work(struct work_struct *work)
{
	struct kvmx_vm *vm = container_of(work, struct kvmx_vm, release_work);

	mutex_lock(&kvmx_lock);
	if (!test_bit(KVMX_VM_DETACHING, &vm->flags)) {
		kvmx_released_total++;
		kvmx_vm_detach(vm);
	}
	mutex_unlock(&kvmx_lock);
	kobject_put(&vm->kobj);
}

/*
 * The QEMU process's address space is being torn down (process exit), or
 * mmu_notifier_unregister() found it still alive. Never detach from here:
 * we are inside the mm's SRCU section.
 */
static void kvmx_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct kvmx_vm *vm = container_of(mn, struct kvmx_vm, mn);

	/* The KSM hook stops trusting this VM's anon_vma pointers. */
	set_bit(KVMX_VM_RELEASED, &vm->flags);
	if (test_bit(KVMX_VM_DETACHING, &vm->flags))
		return;
	if (test_and_set_bit(KVMX_VM_RELEASE_QUEUED, &vm->flags))
		return;
	kobject_get(&vm->kobj);
	queue_work(kvmx_wq, &vm->release_work);
}

/*
 * Part of the QEMU process's address space is unmapped: an anon_vma the
 * KSM hook maps to this VM may be freed and, being SLAB_TYPESAFE_BY_RCU,
 * reused by another process at once. May not sleep.
 */
static int kvmx_mn_invalidate_start(struct mmu_notifier *mn,
				    const struct mmu_notifier_range *range)
{
	struct kvmx_vm *vm = container_of(mn, struct kvmx_vm, mn);

	if (range->event == MMU_NOTIFY_UNMAP)
		kvmx_ksm_vm_unmapped(vm, range->start, range->end);
	return 0;
}

static const struct mmu_notifier_ops kvmx_mn_ops = {
	.release = kvmx_mn_release,
	.invalidate_range_start = kvmx_mn_invalidate_start,
};

static struct kvmx_vm *kvmx_find_kvm(struct kvm *kvm)
{
	struct kvmx_vm *vm;

	list_for_each_entry(vm, &kvmx_vms, node)
		if (vm->kvm == kvm)
			return vm;
	return NULL;
}

/*
 * Attach one VM found in process @tgid at descriptor @fd. Consumes the
 * reference on @kvm in every case.
 */
static int kvmx_attach_kvm(struct kvm *kvm, struct pid *tgid, int fd)
{
	pid_t pid = pid_nr(tgid);
	struct kvmx_client *c;
	struct kvmx_vm *vm;
	int ret;

	lockdep_assert_held(&kvmx_lock);
	if (kvmx_find_kvm(kvm)) {
		ret = -EEXIST;
		goto err_put_kvm;
	}
	/*
	 * The KSM hook tells VMs apart by their process's memory: two VMs of
	 * one process would share one domain, whichever each is given, and a
	 * second one left in domain 0 would bridge domains. One VM per
	 * process; the other is refused.
	 */
	list_for_each_entry(vm, &kvmx_vms, node) {
		if (vm->mm == kvm->mm && !kvmx_vm_released(vm)) {
			pr_info_ratelimited("process %d has another VM attached (%s): not attaching its fd %d, one VM per process\n",
					    pid, vm->name, fd);
			ret = -EBUSY;
			goto err_put_kvm;
		}
	}
	/* The address space must be alive to register a notifier on it. */
	if (!mmget_not_zero(kvm->mm)) {
		ret = -ESRCH;
		goto err_put_kvm;
	}

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm) {
		ret = -ENOMEM;
		goto err_mmput;
	}
	atomic_inc(&kvmx_vm_objects);
	INIT_LIST_HEAD(&vm->node);
	INIT_WORK(&vm->release_work, kvmx_vm_release_work);
	vm->kvm = kvm;
	vm->mm = kvm->mm;
	vm->tgid = get_pid(tgid);
	vm->pid = pid;
	vm->fd = fd;
	vm->attached_ns = max(ktime_get_boottime_ns(), kvmx_last_attach_ns + 1);
	kvmx_last_attach_ns = vm->attached_ns;
	snprintf(vm->name, sizeof(vm->name), "%d-%d", pid, fd);
	kobject_init(&vm->kobj, &kvmx_vm_ktype);

	vm->mn.ops = &kvmx_mn_ops;
	ret = mmu_notifier_register(&vm->mn, vm->mm);
	if (ret)
		goto err_free;

	ret = kobject_add(&vm->kobj, kvmx_vms_kobj, "%s", vm->name);
	if (ret) {
		set_bit(KVMX_VM_DETACHING, &vm->flags);
		mmu_notifier_unregister(&vm->mn, vm->mm);
		goto err_free;
	}
	list_add_tail(&vm->node, &kvmx_vms);
	list_for_each_entry(c, &kvmx_clients, node)
		kvmx_client_attach_vm(c, vm);
	kvmx_ksm_vms_changed();
	if (sysfs_create_file(&vm->kobj, &kvmx_vm_attr_attached_ns.attr))
		pr_warn("VM %s: no attached_ns file: kvmxd will not see it\n",
			vm->name);
	kobject_uevent(&vm->kobj, KOBJ_ADD);
	kvmx_attached_total++;
	pr_info("attached VM %s\n", vm->name);
	/* May run exit_mmap() and our release callback: that only queues. */
	mmput(kvm->mm);
	return 0;

err_free:
	kobject_put(&vm->kobj);
err_mmput:
	mmput(kvm->mm);
err_put_kvm:
	kvm_put_kvm(kvm);
	return ret;
}

/*
 * KVM exports file_is_kvm() for exactly this question. (The file's f_op
 * owner is the vendor module, kvm_amd or kvm_intel, not kvm.)
 */
static bool kvmx_file_is_vm(struct file *file)
{
	return file_is_kvm(file);
}

struct kvmx_scan {
	struct kvm *kvm[KVMX_SCAN_MAX];
	int fd[KVMX_SCAN_MAX];
	int nr;
	unsigned int next_fd;	/* where to resume when the batch was full */
};

/* Runs under the task lock and the file table spinlock: no sleeping. */
static int kvmx_scan_fd(const void *arg, struct file *file, unsigned int fd)
{
	struct kvmx_scan *scan = (struct kvmx_scan *)arg;
	struct kvm *kvm;

	if (!kvmx_file_is_vm(file))
		return 0;
	if (scan->nr == KVMX_SCAN_MAX) {
		scan->next_fd = fd;
		return 1;
	}
	kvm = file->private_data;
	if (kvm_get_kvm_safe(kvm)) {
		scan->kvm[scan->nr] = kvm;
		scan->fd[scan->nr] = fd;
		scan->nr++;
	}
	return 0;
}

/* Attach every VM of @task: number attached, or -ENOENT / -EEXIST. */
static int kvmx_attach_task(struct task_struct *task)
{
	struct pid *tgid = get_task_pid(task, PIDTYPE_TGID);
	struct kvmx_scan *scan;
	int i, ret, found = 0, attached = 0, err = 0;
	unsigned int start = 0;
	bool more;

	if (!tgid)
		return -ESRCH;	/* exiting: its pids are gone */
	scan = kzalloc(sizeof(*scan), GFP_KERNEL);
	if (!scan) {
		put_pid(tgid);
		return -ENOMEM;
	}
	do {
		scan->nr = 0;
		task_lock(task);
		more = iterate_fd(task->files, start, kvmx_scan_fd, scan);
		task_unlock(task);
		start = scan->next_fd;

		mutex_lock(&kvmx_lock);
		for (i = 0; i < scan->nr; i++) {
			found++;
			ret = kvmx_attach_kvm(scan->kvm[i], tgid, scan->fd[i]);
			if (!ret)
				attached++;
			else if (ret != -EEXIST || !err)
				err = ret;
		}
		mutex_unlock(&kvmx_lock);
	} while (more);
	kfree(scan);
	put_pid(tgid);

	if (attached)
		return attached;
	if (!found)
		return -ENOENT;
	return err;
}

static int kvmx_attach_pid(pid_t nr)
{
	struct task_struct *task;
	struct pid *pid;
	int ret;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	/* KVM's uevent names the creating thread; any thread will do. */
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	if (task->flags & PF_KTHREAD)
		ret = -ENOENT;
	else
		ret = kvmx_attach_task(task);
	put_task_struct(task);
	return ret;
}

static int kvmx_detach_name(const char *name)
{
	struct kvmx_vm *vm;
	int ret = -ENOENT;

	mutex_lock(&kvmx_lock);
	list_for_each_entry(vm, &kvmx_vms, node) {
		if (!strcmp(vm->name, name)) {
			kvmx_vm_detach(vm);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&kvmx_lock);
	return ret;
}

/* --- /sys/kernel/kvmx/{attach,detach} --------------------------------------- */

static ssize_t attach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	u64 pid;
	int ret;

	ret = kvmx_parse_u64(buf, count, &pid);
	if (ret)
		return ret;
	if (!pid)
		return -EINVAL;
	if (pid > INT_MAX)
		return -ERANGE;
	ret = kvmx_attach_pid((pid_t)pid);
	return ret < 0 ? ret : count;
}

/* "<pid>-<fd>", both decimal, as listed in /sys/kernel/kvmx/vms. */
static int kvmx_parse_id(const char *buf, size_t count, char *name, size_t size)
{
	u64 v[2];
	int ret;

	ret = kvmx_parse_u64s(buf, count, '-', v, 2);
	if (ret)
		return ret;
	if (!v[0] || v[0] > INT_MAX || v[1] > INT_MAX)
		return -ERANGE;
	snprintf(name, size, "%llu-%llu", v[0], v[1]);
	return 0;
}

static ssize_t detach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	char name[24];
	int ret;

	ret = kvmx_parse_id(buf, count, name, sizeof(name));
	if (!ret)
		ret = kvmx_detach_name(name);
	return ret ? ret : count;
}

static struct kobj_attribute kvmx_attr_attach = __ATTR_WO(attach);
static struct kobj_attribute kvmx_attr_detach = __ATTR_WO(detach);

static struct attribute *kvmx_registry_attrs[] = {
	&kvmx_attr_attach.attr,
	&kvmx_attr_detach.attr,
	NULL,
};

static const struct attribute_group kvmx_registry_group = {
	.attrs = kvmx_registry_attrs,
};

/* --- debugfs ---------------------------------------------------------------- */

static int kvmx_show_slot(struct kvmx_vm *vm, const struct kvm_memory_slot *slot,
			  void *arg)
{
	struct seq_file *m = arg;

	seq_printf(m, "  slot %u gfn 0x%llx npages %lu hva 0x%lx %s\n",
		   slot->id, slot->base_gfn, slot->npages, slot->userspace_addr,
		   slot->flags & KVM_MEM_READONLY ? "ro" : "rw");
	return 0;
}

static int kvmx_vms_show(struct seq_file *m, void *unused)
{
	struct kvmx_vm *vm;

	mutex_lock(&kvmx_lock);
	list_for_each_entry(vm, &kvmx_vms, node) {
		struct kvmx_mem_sum sum = kvmx_vm_mem_sum(vm);

		seq_printf(m, "%s pid %d memory_bytes %llu memslots %u\n",
			   vm->name, vm->pid, sum.bytes, sum.slots);
		kvmx_vm_walk_memslots(vm, kvmx_show_slot, m);
	}
	mutex_unlock(&kvmx_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_vms);

static int kvmx_stats_show(struct seq_file *m, void *unused)
{
	unsigned int live = 0;
	struct kvmx_vm *vm;

	mutex_lock(&kvmx_lock);
	list_for_each_entry(vm, &kvmx_vms, node)
		live++;
	seq_printf(m, "attached %u\n", live);
	seq_printf(m, "attached_total %lu\n", kvmx_attached_total);
	seq_printf(m, "detached_total %lu\n", kvmx_detached_total);
	seq_printf(m, "released_total %lu\n", kvmx_released_total);
	seq_printf(m, "vm_objects %d\n", atomic_read(&kvmx_vm_objects));
	mutex_unlock(&kvmx_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_stats);

/* --- load and unload -------------------------------------------------------- */

static int kvmx_has_vm_fd(const void *arg, struct file *file, unsigned int fd)
{
	return kvmx_file_is_vm(file);
}

/* Fill @pids with the processes that hold a VM file; returns how many. */
static int kvmx_vm_processes(struct pid **pids, int max)
{
	struct task_struct *p;
	int n = 0;

	rcu_read_lock();
	for_each_process(p) {
		int has;

		if (p->flags & PF_KTHREAD)
			continue;
		task_lock(p);
		has = iterate_fd(p->files, 0, kvmx_has_vm_fd, NULL);
		task_unlock(p);
		if (!has)
			continue;
		if (n < max)
			pids[n] = get_pid(task_tgid(p));
		n++;
	}
	rcu_read_unlock();
	return n;
}

static void kvmx_attach_existing(void)
{
	struct pid **pids = NULL;
	int i, n, max = 0;

	/* Count, then fill; retry if VMs appeared in between. */
	for (;;) {
		n = kvmx_vm_processes(pids, max);
		if (n <= max)
			break;
		for (i = 0; i < max; i++)
			put_pid(pids[i]);
		kvfree(pids);
		max = n + 8;
		pids = kvcalloc(max, sizeof(*pids), GFP_KERNEL);
		if (!pids) {
			pr_warn("attach_existing: out of memory\n");
			return;
		}
	}
	for (i = 0; i < n; i++) {
		struct task_struct *task = get_pid_task(pids[i], PIDTYPE_TGID);

		if (task) {
			kvmx_attach_task(task);
			put_task_struct(task);
		}
		put_pid(pids[i]);
	}
	kvfree(pids);
}

/*
 * A VM whose process closed the VM's file (and every vCPU's) but lives on
 * is held by nothing but our reference: no uevent and no MMU notifier
 * release will come. Look every few seconds and let it go.
 */
#define KVMX_REAP_MS	5000
static void kvmx_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(kvmx_reap_work, kvmx_reap);
static bool kvmx_reap_stop;

static void kvmx_reap(struct work_struct *work)
{
	struct kvmx_vm *vm, *tmp;

	mutex_lock(&kvmx_lock);
	list_for_each_entry_safe(vm, tmp, &kvmx_vms, node) {
		if (refcount_read(&vm->kvm->users_count) > 1)
			continue;
		pr_info("VM %s: its process closed it; detaching\n", vm->name);
		kvmx_vm_detach(vm);
	}
	if (!READ_ONCE(kvmx_reap_stop))
		queue_delayed_work(kvmx_wq, &kvmx_reap_work,
				   msecs_to_jiffies(KVMX_REAP_MS));
	mutex_unlock(&kvmx_lock);
}

int kvmx_registry_init(bool attach_existing)
{
	int ret;

	kvmx_wq = alloc_workqueue("kvmx_core", WQ_UNBOUND, 0);
	if (!kvmx_wq)
		return -ENOMEM;
	kvmx_vms_kobj = kobject_create_and_add("vms", kvmx_kobj);
	if (!kvmx_vms_kobj) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = sysfs_create_group(kvmx_kobj, &kvmx_registry_group);
	if (ret)
		goto err_vms;
	debugfs_create_file("vms", 0400, kvmx_debugfs, NULL, &kvmx_vms_fops);
	debugfs_create_file("stats", 0400, kvmx_debugfs, NULL,
			    &kvmx_stats_fops);
	if (attach_existing)
		kvmx_attach_existing();
	queue_delayed_work(kvmx_wq, &kvmx_reap_work,
			   msecs_to_jiffies(KVMX_REAP_MS));
	return 0;

err_vms:
	kobject_put(kvmx_vms_kobj);
err_wq:
	destroy_workqueue(kvmx_wq);
	return ret;
}

void kvmx_registry_exit(void)
{
	/* No new attach or detach requests; waits for those in flight. */
	sysfs_remove_group(kvmx_kobj, &kvmx_registry_group);
	WRITE_ONCE(kvmx_reap_stop, true);
	cancel_delayed_work_sync(&kvmx_reap_work);

	mutex_lock(&kvmx_lock);
	WARN_ON(!list_empty(&kvmx_clients));
	while (!list_empty(&kvmx_vms))
		kvmx_vm_detach(list_first_entry(&kvmx_vms, struct kvmx_vm,
						node));
	mutex_unlock(&kvmx_lock);

	/* Queued release work finds its VM detached and drops its reference. */
	destroy_workqueue(kvmx_wq);
	kobject_put(kvmx_vms_kobj);
	WARN_ON(atomic_read(&kvmx_vm_objects));
}
