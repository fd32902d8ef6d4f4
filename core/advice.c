// SPDX-License-Identifier: GPL-2.0
/*
 * The advice channel: memory advice on VMs, carried out by kvmxd.
 *
 * Some work on a VM's memory has no exported kernel interface: page-out
 * (MADV_PAGEOUT), splitting a huge page (MADV_COLD on one of its 4 KiB
 * pages) and collapsing one (MADV_COLLAPSE). kvmx never calls an
 * unexported kernel function: on IBT kernels objtool seals the ENDBR of
 * every function whose address is never taken (do_madvise is one), and an
 * indirect call to it is a #CP and a BUG() on CPUs that enforce IBT. The
 * supported interface is process_madvise(2) on a pidfd of the QEMU
 * process, so modules queue requests here and kvmxd, a root daemon, reads
 * them from /dev/kvmx_advice, carries them out and writes the results
 * back. The ABI is include/uapi/kvmx/advice.h.
 *
 * Why a character device rather than generic netlink: the channel is
 * point to point between kvmx_core and one daemon. With a device, open()
 * excludes a second daemon and release() tells us exactly when the daemon
 * is gone; a bad write gets its errno from the write() itself; the queue
 * is ours and bounded, so a daemon that stops reading makes requests
 * fail at once with EBUSY instead of being dropped in a socket buffer
 * behind our back; the file mode and one capability check make it
 * root-only; and the daemon needs no netlink library. The cost: an open
 * device pins kvmx_core, so kvmxd has to stop before kvmx_core can be
 * unloaded (feature modules unload at any time).
 *
 * Identity: a request names the QEMU process by its pid and by the inode
 * number of a pidfd of it (pidfs gives every struct pid its own number,
 * never reused while the system runs). kvmxd opens a pidfd for the pid and
 * advises only if fstat() of that pidfd has the same inode number, so an
 * exited VM's request can never reach a process that got its pid.
 *
 * A request is on the queue (not yet read), then on the sent list (read,
 * not answered), and off both once answered or failed. Each list holds a
 * reference and so does the caller until kvmx_advice_put(). Its result is
 * final once set: by kvmxd's answer, by the VM's detach (ESRCH), kvmxd
 * closing the device (ENOTCONN), or its caller giving up (ETIMEDOUT,
 * ECANCELED). A request that kvmxd has read stays on the sent list until
 * kvmxd answers or closes, even after its caller gave up: it still counts
 * against the bound, and kvmxd's answer for it is accepted ("late").
 *
 * Locking: kvmx_adv_lock, a spinlock, protects both lists, the counters
 * and the daemon. It nests inside the registry lock (detach cancels).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/miscdevice.h>
#include <linux/mman.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <uapi/kvmx/advice.h>

#include "internal.h"

#define KVMX_ADV_MAX		KVMX_ADVICE_MAX_IN_FLIGHT
#define KVMX_ADV_BATCH		16	/* records copied per lock hold */
#define KVMX_PAGEOUT_RUNS	8	/* requests one page-out call waits for */

enum kvmx_adv_state {
	KVMX_ADV_QUEUED,	/* on kvmx_adv_queue */
	KVMX_ADV_SENT,		/* on kvmx_adv_sent */
	KVMX_ADV_OFF,		/* on neither */
};

struct kvmx_advice {
	struct list_head node;
	refcount_t ref;
	struct kvmx_vm *vm;	/* NULL once the VM detached */
	struct pid *pid;	/* the VM's process */
	u64 id;
	u64 pid_ino;
	u64 start;
	u64 len;
	int advice;
	enum kvmx_adv_state state;
	bool final;		/* result is set; read with acquire */
	long result;
};

static DEFINE_SPINLOCK(kvmx_adv_lock);
static LIST_HEAD(kvmx_adv_queue);
static LIST_HEAD(kvmx_adv_sent);
static unsigned int kvmx_adv_count;	/* on either list */
static struct file *kvmx_adv_daemon;
static pid_t kvmx_adv_daemon_pid;
static u64 kvmx_adv_next_id = 1;
static bool kvmx_adv_warned;		/* "no kvmxd" said since it left */
static DECLARE_WAIT_QUEUE_HEAD(kvmx_adv_readq);
static DECLARE_WAIT_QUEUE_HEAD(kvmx_adv_doneq);
static struct kmem_cache *kvmx_adv_cache;
static atomic_t kvmx_adv_objects = ATOMIC_INIT(0);
static struct kobject *kvmx_adv_kobj;

/* Counters (kvmx_adv_lock). */
static u64 kvmx_adv_requests;	/* accepted */
static u64 kvmx_adv_done;	/* answered with bytes advised */
static u64 kvmx_adv_failed;	/* answered with an error, or failed here */
static u64 kvmx_adv_refused;	/* not accepted: no kvmxd, or the queue full */
static u64 kvmx_adv_late;	/* answers after the request had failed */
static u64 kvmx_adv_bytes;	/* advised, as kvmxd reported */

/*
 * pidfs (6.9 and later) numbers each struct pid from a 64-bit counter and
 * gives a pidfd of it that inode number.
 */
static u64 kvmx_pid_ino(struct pid *pid)
{
	return pid->ino;
}

static const char *kvmx_advice_name(int advice)
{
	switch (advice) {
	case MADV_PAGEOUT:
		return "pageout";
	case MADV_COLD:
		return "cold";
	case MADV_COLLAPSE:
		return "collapse";
	}
	return "?";
}

static void kvmx_adv_free(struct kvmx_advice *adv)
{
	if (refcount_dec_and_test(&adv->ref)) {
		put_pid(adv->pid);
		kmem_cache_free(kvmx_adv_cache, adv);
		atomic_dec(&kvmx_adv_objects);
	}
}

/* Lock held: the result, once. */
static void kvmx_adv_finish(struct kvmx_advice *adv, long result)
{
	lockdep_assert_held(&kvmx_adv_lock);
	if (adv->final)
		return;
	adv->result = result;
	/* Waiters test final without the lock, then read result. */
	smp_store_release(&adv->final, true);
	if (result >= 0) {
		kvmx_adv_done++;
		kvmx_adv_bytes += result;
	} else {
		kvmx_adv_failed++;
	}
}

/* Lock held: off its list, dropping the list's reference. */
static void kvmx_adv_unlist(struct kvmx_advice *adv)
{
	lockdep_assert_held(&kvmx_adv_lock);
	list_del_init(&adv->node);
	adv->state = KVMX_ADV_OFF;
	kvmx_adv_count--;
	kvmx_adv_free(adv);
}

/* --- for kvmx modules -------------------------------------------------------- */

struct kvmx_adv_range {
	u64 start;
	u64 end;
	bool found;
};

static int kvmx_adv_find_slot(struct kvmx_vm *vm,
			      const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_adv_range *r = arg;
	u64 lo = slot->userspace_addr;
	u64 hi = lo + ((u64)slot->npages << PAGE_SHIFT);

	if (slot->flags & KVM_MEM_READONLY)
		return 0;
	if (r->start >= lo && r->end <= hi) {
		r->found = true;
		return 1;
	}
	return 0;
}

/* Advice kvmxd may carry out, on guest RAM of @vm's process. */
static int kvmx_adv_check(struct kvmx_vm *vm, unsigned long hva, u64 len,
			  int advice)
{
	struct kvmx_adv_range r = { .start = hva, .end = hva + len };
	struct task_struct *task;
	bool same_mm;

	if (advice != MADV_PAGEOUT && advice != MADV_COLD &&
	    advice != MADV_COLLAPSE)
		return -EINVAL;
	if (!len || !PAGE_ALIGNED(hva) || !PAGE_ALIGNED(len) || r.end < r.start)
		return -EINVAL;
	/* Only memory of one writable memslot: guest RAM, nothing else. */
	kvmx_vm_walk_memslots(vm, kvmx_adv_find_slot, &r);
	if (!r.found)
		return -EINVAL;
	/* The process must still run the VM's address space. */
	rcu_read_lock();
	task = pid_task(kvmx_vm_tgid(vm), PIDTYPE_TGID);
	same_mm = task && READ_ONCE(task->mm) == kvmx_vm_mm(vm);
	rcu_read_unlock();
	return same_mm ? 0 : -ESRCH;
}

/* Lock held: refuse because no kvmxd is attached, and say so once. */
static int kvmx_adv_nodaemon_locked(void)
{
	lockdep_assert_held(&kvmx_adv_lock);
	kvmx_adv_refused++;
	if (!kvmx_adv_warned) {
		kvmx_adv_warned = true;
		pr_warn_ratelimited("advice: kvmxd is not running (no reader on %s): page-out and other memory advice are refused with ENOTCONN until it starts\n",
				    KVMX_ADVICE_DEVICE);
	}
	return -ENOTCONN;
}

bool kvmx_advice_daemon_connected(void)
{
	return READ_ONCE(kvmx_adv_daemon);
}
EXPORT_SYMBOL_GPL(kvmx_advice_daemon_connected);

static int kvmx_adv_nodaemon(void)
{
	int ret;

	spin_lock(&kvmx_adv_lock);
	ret = kvmx_adv_nodaemon_locked();
	spin_unlock(&kvmx_adv_lock);
	return ret;
}

struct kvmx_advice *kvmx_vm_advise_start(struct kvmx_vm *vm, unsigned long hva,
					 u64 len, int advice)
{
	struct kvmx_advice *adv;
	int ret;

	ret = kvmx_adv_check(vm, hva, len, advice);
	if (ret)
		return ERR_PTR(ret);
	if (!READ_ONCE(kvmx_adv_daemon))
		return ERR_PTR(kvmx_adv_nodaemon());

	adv = kmem_cache_zalloc(kvmx_adv_cache, GFP_KERNEL);
	if (!adv)
		return ERR_PTR(-ENOMEM);
	atomic_inc(&kvmx_adv_objects);
	INIT_LIST_HEAD(&adv->node);
	refcount_set(&adv->ref, 1);
	adv->vm = vm;
	adv->pid = get_pid(kvmx_vm_tgid(vm));
	adv->pid_ino = kvmx_pid_ino(adv->pid);
	adv->start = hva;
	adv->len = len;
	adv->advice = advice;
	adv->state = KVMX_ADV_OFF;

	spin_lock(&kvmx_adv_lock);
	if (!kvmx_adv_daemon) {
		ret = kvmx_adv_nodaemon_locked();
	} else if (kvmx_vm_gone(vm)) {
		ret = -ESRCH;
	} else if (kvmx_adv_count >= KVMX_ADV_MAX) {
		kvmx_adv_refused++;
		ret = -EBUSY;
	} else {
		adv->id = kvmx_adv_next_id++;
		refcount_inc(&adv->ref);
		list_add_tail(&adv->node, &kvmx_adv_queue);
		adv->state = KVMX_ADV_QUEUED;
		kvmx_adv_count++;
		kvmx_adv_requests++;
	}
	spin_unlock(&kvmx_adv_lock);
	if (ret) {
		kvmx_adv_free(adv);
		return ERR_PTR(ret);
	}
	wake_up_interruptible(&kvmx_adv_readq);
	return adv;
}
EXPORT_SYMBOL_GPL(kvmx_vm_advise_start);

long kvmx_advice_result(const struct kvmx_advice *adv)
{
	/* Pairs with the release in kvmx_adv_finish(). */
	return smp_load_acquire(&adv->final) ? adv->result : -EINPROGRESS;
}
EXPORT_SYMBOL_GPL(kvmx_advice_result);

/* Lock held: the caller stops waiting; a request not yet read is dropped. */
static void kvmx_adv_abandon(struct kvmx_advice *adv, long result)
{
	if (adv->final)
		return;
	kvmx_adv_finish(adv, result);
	if (adv->state == KVMX_ADV_QUEUED)
		kvmx_adv_unlist(adv);
}

long kvmx_advice_wait(struct kvmx_advice *adv, unsigned int timeout_ms)
{
	/* Pairs with the release in kvmx_adv_finish(). */
	if (!wait_event_timeout(kvmx_adv_doneq, smp_load_acquire(&adv->final),
				msecs_to_jiffies(timeout_ms))) {
		spin_lock(&kvmx_adv_lock);
		kvmx_adv_abandon(adv, -ETIMEDOUT);
		spin_unlock(&kvmx_adv_lock);
	}
	return adv->result;
}
EXPORT_SYMBOL_GPL(kvmx_advice_wait);

void kvmx_advice_put(struct kvmx_advice *adv)
{
	if (IS_ERR_OR_NULL(adv))
		return;
	spin_lock(&kvmx_adv_lock);
	kvmx_adv_abandon(adv, -ECANCELED);
	spin_unlock(&kvmx_adv_lock);
	kvmx_adv_free(adv);
}
EXPORT_SYMBOL_GPL(kvmx_advice_put);

long kvmx_vm_advise(struct kvmx_vm *vm, unsigned long hva, u64 len,
		    int advice)
{
	struct kvmx_advice *adv = kvmx_vm_advise_start(vm, hva, len, advice);
	long ret;

	if (IS_ERR(adv))
		return PTR_ERR(adv);
	ret = kvmx_advice_wait(adv, KVMX_ADVICE_TIMEOUT_MS);
	kvmx_advice_put(adv);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_vm_advise);

struct kvmx_pageout {
	u64 gfn;
	u64 end;
	u64 lo;			/* the lowest run found so far in [gfn, end) */
	u64 hi;
	unsigned long hva;
};

/* Memslots come in no particular order: find the first run after gfn. */
static int kvmx_pageout_find(struct kvmx_vm *vm,
			     const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_pageout *po = arg;
	u64 lo = max(po->gfn, slot->base_gfn);
	u64 hi = min(po->end, slot->base_gfn + slot->npages);

	if ((slot->flags & KVM_MEM_READONLY) || lo >= hi ||
	    (po->hi && lo >= po->lo))
		return 0;
	po->lo = lo;
	po->hi = hi;
	po->hva = slot->userspace_addr + ((lo - slot->base_gfn) << PAGE_SHIFT);
	return 0;
}

/*
 * One request per run of guest memory in one memslot, in batches; each
 * batch waits at most KVMX_ADVICE_TIMEOUT_MS. The first error is returned.
 */
int kvmx_vm_pageout(struct kvmx_vm *vm, u64 gfn, u64 npages)
{
	struct kvmx_pageout po = { .gfn = gfn, .end = gfn + npages };
	struct kvmx_advice *adv[KVMX_PAGEOUT_RUNS];
	unsigned long deadline;
	unsigned int n, i;
	long r;
	int ret = 0;

	if (!npages || po.end < gfn)
		return -EINVAL;
	if (kvmx_vm_released(vm))
		return -ESRCH;
	if (!READ_ONCE(kvmx_adv_daemon))
		return kvmx_adv_nodaemon();
	while (po.gfn < po.end && !ret) {
		for (n = 0; n < KVMX_PAGEOUT_RUNS && po.gfn < po.end; n++) {
			po.hi = 0;
			kvmx_vm_walk_memslots(vm, kvmx_pageout_find, &po);
			if (!po.hi) {
				po.gfn = po.end;
				break;
			}
			adv[n] = kvmx_vm_advise_start(vm, po.hva,
						      (po.hi - po.lo) <<
						      PAGE_SHIFT, MADV_PAGEOUT);
			if (IS_ERR(adv[n])) {
				ret = PTR_ERR(adv[n]);
				break;
			}
			po.gfn = po.hi;
		}
		if (!n)
			break;
		deadline = jiffies + msecs_to_jiffies(KVMX_ADVICE_TIMEOUT_MS);
		for (i = 0; i < n; i++) {
			long left = (long)(deadline - jiffies);

			r = kvmx_advice_wait(adv[i], left > 0 ?
					     jiffies_to_msecs(left) : 0);
			if (r < 0 && !ret)
				ret = r;
			kvmx_advice_put(adv[i]);
		}
	}
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_vm_pageout);

/* Called by the registry when @vm detaches: its requests fail (ESRCH). */
void kvmx_advice_cancel_vm(struct kvmx_vm *vm)
{
	struct kvmx_advice *adv, *tmp;

	spin_lock(&kvmx_adv_lock);
	list_for_each_entry_safe(adv, tmp, &kvmx_adv_queue, node) {
		if (adv->vm != vm)
			continue;
		adv->vm = NULL;
		kvmx_adv_finish(adv, -ESRCH);
		kvmx_adv_unlist(adv);
	}
	/* kvmxd has these; its answers are taken when they come. */
	list_for_each_entry(adv, &kvmx_adv_sent, node) {
		if (adv->vm != vm)
			continue;
		adv->vm = NULL;
		kvmx_adv_finish(adv, -ESRCH);
	}
	spin_unlock(&kvmx_adv_lock);
	wake_up_all(&kvmx_adv_doneq);
}

/* --- /dev/kvmx_advice ------------------------------------------------------------ */

static int kvmx_adv_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* kvmxd reads requests and writes results on the same file. */
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		return -EINVAL;
	spin_lock(&kvmx_adv_lock);
	if (kvmx_adv_daemon) {
		ret = -EBUSY;
	} else {
		kvmx_adv_daemon = file;
		kvmx_adv_daemon_pid = task_tgid_nr(current);
		kvmx_adv_warned = false;
	}
	spin_unlock(&kvmx_adv_lock);
	if (ret)
		return ret;
	pr_info("advice: kvmxd attached (pid %d)\n", task_tgid_nr(current));
	return stream_open(inode, file);
}

static int kvmx_adv_release(struct inode *inode, struct file *file)
{
	struct kvmx_advice *adv, *tmp;
	unsigned int failed = 0;
	pid_t pid;

	spin_lock(&kvmx_adv_lock);
	list_for_each_entry_safe(adv, tmp, &kvmx_adv_queue, node) {
		failed += !adv->final;
		kvmx_adv_finish(adv, -ENOTCONN);
		kvmx_adv_unlist(adv);
	}
	list_for_each_entry_safe(adv, tmp, &kvmx_adv_sent, node) {
		failed += !adv->final;
		kvmx_adv_finish(adv, -ENOTCONN);
		kvmx_adv_unlist(adv);
	}
	kvmx_adv_daemon = NULL;
	pid = kvmx_adv_daemon_pid;
	kvmx_adv_daemon_pid = 0;
	spin_unlock(&kvmx_adv_lock);
	wake_up_all(&kvmx_adv_doneq);
	pr_info("advice: kvmxd (pid %d) detached; %u requests failed\n", pid,
		failed);
	return 0;
}

/*
 * Lock held: move up to @max queued requests to the sent list and describe
 * them in @rec, taking a reference for @taken. Requests whose process is
 * gone, or invisible in the reader's pid namespace, fail here instead.
 */
static unsigned int kvmx_adv_take(struct kvmx_advice_request *rec,
				  struct kvmx_advice **taken, unsigned int max,
				  bool *failed)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct kvmx_advice *adv, *tmp;
	unsigned int n = 0;
	pid_t nr;

	lockdep_assert_held(&kvmx_adv_lock);
	list_for_each_entry_safe(adv, tmp, &kvmx_adv_queue, node) {
		if (n == max)
			break;
		rcu_read_lock();
		nr = pid_task(adv->pid, PIDTYPE_TGID) ? pid_nr_ns(adv->pid, ns) :
			0;
		rcu_read_unlock();
		if (!nr || !adv->vm || kvmx_vm_released(adv->vm)) {
			kvmx_adv_finish(adv, -ESRCH);
			kvmx_adv_unlist(adv);
			*failed = true;
			continue;
		}
		rec[n] = (struct kvmx_advice_request){
			.id = adv->id,
			.pid_ino = adv->pid_ino,
			.pid = nr,
			.advice = adv->advice,
			.start = adv->start,
			.len = adv->len,
		};
		list_move_tail(&adv->node, &kvmx_adv_sent);
		adv->state = KVMX_ADV_SENT;
		refcount_inc(&adv->ref);
		taken[n++] = adv;
	}
	return n;
}

static ssize_t kvmx_adv_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct kvmx_advice_request rec[KVMX_ADV_BATCH];
	struct kvmx_advice *taken[KVMX_ADV_BATCH];
	size_t want = count / sizeof(rec[0]), copied = 0;
	unsigned int n, i;
	bool failed;
	int ret;

	if (!want)
		return -EINVAL;
	while (copied < want) {
		failed = false;
		spin_lock(&kvmx_adv_lock);
		n = kvmx_adv_take(rec, taken, min_t(size_t, want - copied,
						    KVMX_ADV_BATCH), &failed);
		spin_unlock(&kvmx_adv_lock);
		if (failed)
			wake_up_all(&kvmx_adv_doneq);
		if (!n) {
			if (copied)
				break;
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			ret = wait_event_interruptible(kvmx_adv_readq,
					!list_empty_careful(&kvmx_adv_queue));
			if (ret)
				return ret;
			continue;
		}
		ret = copy_to_user(buf + copied * sizeof(rec[0]), rec,
				   n * sizeof(rec[0])) ? -EFAULT : 0;
		spin_lock(&kvmx_adv_lock);
		for (i = 0; i < n; i++) {
			/* kvmxd never saw these: they fail. */
			if (ret && taken[i]->state == KVMX_ADV_SENT) {
				kvmx_adv_finish(taken[i], -EFAULT);
				kvmx_adv_unlist(taken[i]);
			}
			kvmx_adv_free(taken[i]);
		}
		spin_unlock(&kvmx_adv_lock);
		if (ret) {
			wake_up_all(&kvmx_adv_doneq);
			return copied ? copied * sizeof(rec[0]) : ret;
		}
		copied += n;
	}
	return copied * sizeof(rec[0]);
}

/* Lock held: whether @id is still on the queue (never read). */
static bool kvmx_adv_queued(u64 id)
{
	struct kvmx_advice *adv;

	list_for_each_entry(adv, &kvmx_adv_queue, node)
		if (adv->id == id)
			return true;
	return false;
}

static int kvmx_adv_answer(const struct kvmx_advice_result *res)
{
	struct kvmx_advice *adv, *found = NULL;
	int ret = 0;

	if (res->result < -MAX_ERRNO)
		return -EINVAL;
	spin_lock(&kvmx_adv_lock);
	list_for_each_entry(adv, &kvmx_adv_sent, node) {
		if (adv->id == res->id) {
			found = adv;
			break;
		}
	}
	if (!found) {
		if (!res->id || res->id >= kvmx_adv_next_id ||
		    kvmx_adv_queued(res->id))
			ret = -ENOENT;
		else
			ret = -EALREADY;
	} else if (res->result > 0 && (u64)res->result > found->len) {
		ret = -EINVAL;
	} else {
		if (found->final)
			kvmx_adv_late++;
		kvmx_adv_finish(found, res->result);
		kvmx_adv_unlist(found);
	}
	spin_unlock(&kvmx_adv_lock);
	if (!ret)
		wake_up_all(&kvmx_adv_doneq);
	return ret;
}

static ssize_t kvmx_adv_write(struct file *file, const char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct kvmx_advice_result res;
	size_t done = 0;
	int ret = 0;

	if (count % sizeof(res))
		return -EINVAL;
	while (done < count) {
		if (copy_from_user(&res, buf + done, sizeof(res))) {
			ret = -EFAULT;
			break;
		}
		ret = kvmx_adv_answer(&res);
		if (ret)
			break;
		done += sizeof(res);
	}
	return done ? done : ret;
}

static __poll_t kvmx_adv_poll(struct file *file, poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &kvmx_adv_readq, wait);
	if (!list_empty_careful(&kvmx_adv_queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static const struct file_operations kvmx_adv_fops = {
	.owner = THIS_MODULE,
	.open = kvmx_adv_open,
	.release = kvmx_adv_release,
	.read = kvmx_adv_read,
	.write = kvmx_adv_write,
	.poll = kvmx_adv_poll,
};

static struct miscdevice kvmx_adv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kvmx_advice",
	.fops = &kvmx_adv_fops,
	.mode = 0600,
};

/* --- /sys/kernel/kvmx/advice and debugfs kvmx/advice ---------------------------- */

static ssize_t daemon_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(kvmx_adv_daemon) ?
			  "connected" : "none");
}

static ssize_t stats_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	u64 v[6];
	unsigned int in_flight;

	spin_lock(&kvmx_adv_lock);
	v[0] = kvmx_adv_requests;
	v[1] = kvmx_adv_done;
	v[2] = kvmx_adv_failed;
	v[3] = kvmx_adv_refused;
	v[4] = kvmx_adv_late;
	v[5] = kvmx_adv_bytes;
	in_flight = kvmx_adv_count;
	spin_unlock(&kvmx_adv_lock);
	return sysfs_emit(buf,
			  "requests %llu\ndone %llu\nfailed %llu\nrefused %llu\nlate %llu\nbytes %llu\nin_flight %u\nmax_in_flight %u\n",
			  v[0], v[1], v[2], v[3], v[4], v[5], in_flight,
			  KVMX_ADV_MAX);
}

static struct kobj_attribute kvmx_adv_attr_daemon = __ATTR_RO(daemon);
static struct kobj_attribute kvmx_adv_attr_stats = __ATTR_RO(stats);

static struct attribute *kvmx_adv_attrs[] = {
	&kvmx_adv_attr_daemon.attr,
	&kvmx_adv_attr_stats.attr,
	NULL,
};

static const struct attribute_group kvmx_adv_group = {
	.attrs = kvmx_adv_attrs,
};

static int kvmx_adv_debug_show(struct seq_file *m, void *unused)
{
	static const char * const states[] = { "queued", "sent", "off" };
	struct kvmx_advice *adv;
	struct list_head *lists[] = { &kvmx_adv_queue, &kvmx_adv_sent };
	unsigned int i;

	spin_lock(&kvmx_adv_lock);
	seq_printf(m, "daemon_pid %d\nobjects %d\nnext_id %llu\n",
		   kvmx_adv_daemon_pid, atomic_read(&kvmx_adv_objects),
		   kvmx_adv_next_id);
	seq_puts(m, "id state pid advice start len result\n");
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		list_for_each_entry(adv, lists[i], node)
			seq_printf(m, "%llu %s %d %s 0x%llx %llu %ld\n",
				   adv->id, states[adv->state],
				   pid_nr(adv->pid),
				   kvmx_advice_name(adv->advice), adv->start,
				   adv->len, adv->final ? adv->result : 0L);
	spin_unlock(&kvmx_adv_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_adv_debug);

/* --- load and unload ---------------------------------------------------------- */

int kvmx_advice_init(void)
{
	int ret;

	kvmx_adv_cache = kmem_cache_create("kvmx_advice",
					   sizeof(struct kvmx_advice), 0,
					   SLAB_NO_MERGE, NULL);
	if (!kvmx_adv_cache)
		return -ENOMEM;
	kvmx_adv_kobj = kobject_create_and_add("advice", kvmx_kobj);
	if (!kvmx_adv_kobj) {
		ret = -ENOMEM;
		goto err_cache;
	}
	ret = sysfs_create_group(kvmx_adv_kobj, &kvmx_adv_group);
	if (ret)
		goto err_kobj;
	ret = misc_register(&kvmx_adv_misc);
	if (ret) {
		pr_err("advice: cannot register %s (%d)\n", KVMX_ADVICE_DEVICE,
		       ret);
		goto err_kobj;
	}
	debugfs_create_file("advice", 0400, kvmx_debugfs, NULL,
			    &kvmx_adv_debug_fops);
	return 0;

err_kobj:
	kobject_put(kvmx_adv_kobj);
err_cache:
	kmem_cache_destroy(kvmx_adv_cache);
	return ret;
}

void kvmx_advice_exit(void)
{
	/* An open device holds the module: kvmxd is gone, and so is the queue. */
	misc_deregister(&kvmx_adv_misc);
	kobject_put(kvmx_adv_kobj);
	WARN_ON(kvmx_adv_count || atomic_read(&kvmx_adv_objects));
	kmem_cache_destroy(kvmx_adv_cache);
}
