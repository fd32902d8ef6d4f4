// SPDX-License-Identifier: GPL-2.0
/*
 * idle_tax: share-based memory allocation between VMs with an idle memory
 * tax, after Waldspurger (OSDI 2002).
 *
 * Every interval the module reads each VM's sampled active fraction from
 * kvmx_core's access sampler, smooths it (idle_tax_policy.c), and, while
 * the host memory state is below high, computes every VM's target by
 * min-funding revocation. Reclamation follows ESX's order: the balloon
 * target is published for kvmx-balloon-relay; page-out of the VM's idle
 * memory (MADV_PAGEOUT, carried out by kvmxd through kvmx_core's advice
 * channel) follows when the VM has no balloon, the balloon falls short,
 * or the host is in the hard or low state. Without kvmxd, page-out is
 * refused (ENOTCONN) and the interval goes on without it.
 *
 * /sys/kernel/kvmx/idle_tax/
 *   tax_rate          tau as a decimal fraction, 0 .. 0.999 (default 0.75)
 *   period_ms         sampling period, 100..3600000 (the sampler's knob)
 *   sample_pages      pages sampled per VM per period, 1..10000
 *   sample_view       auto (default), 4k or 2m: the sampler's view for f
 *   interval_ms       allocation period, 100..60000 (default 1000)
 *   pool_bytes        memory the VMs share; 0 (default): their resident
 *                     memory plus what the host can spare above `high`
 *   pageout           auto (default) or off
 *   pageout_step_bytes  most bytes paged out per VM per interval
 *   balloon_grace_ms  time a balloon gets before page-out helps it
 *
 * /sys/kernel/kvmx/vms/<vm>/idle_tax/
 *   shares min_bytes max_bytes          read-write
 *   balloon_actual_bytes                written by the relay
 *   active_permille rho target_bytes balloon_target_bytes
 *   resident_bytes reclaimed_bytes      read-only
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <kvmx/core.h>
#include "idle_tax_policy.h"

#define ITAX_INTERVAL_MIN_MS	100
#define ITAX_INTERVAL_MAX_MS	60000
#define ITAX_GRACE_MAX_MS	600000
#define ITAX_REGION_PAGES	512	/* 2 MiB */
#define ITAX_REGION_BYTES	(ITAX_REGION_PAGES * IDLE_TAX_PAGE_SIZE)
#define ITAX_IDLE_MAX		256
/* The relay reports every second; older than this means no balloon. */
#define ITAX_BALLOON_STALE	(5 * HZ)

struct itax_vm {
	struct list_head node;
	struct kvmx_vm *vm;
	u64 vm_bytes;
	u32 shares;
	u64 min_bytes;
	u64 max_bytes;
	bool max_set;			/* by the operator; else the VM's size */
	struct idle_tax_active active;
	u64 sample_seq;
	u64 resident;
	u64 target;
	u64 rho;
	u64 balloon_actual;
	unsigned long balloon_seen;	/* jiffies of the last report, or 0 */
	unsigned long over_since;	/* jiffies since above target, or 0 */
	u64 reclaimed;
	u64 clock_gfn;			/* next region of the page-out sweep */
	u64 pageout_bytes;		/* this interval's page-out budget */
	bool busy;			/* page-out in flight */
};

static DEFINE_MUTEX(itax_lock);		/* the list, every field, the knobs */
static LIST_HEAD(itax_vms);
static DECLARE_WAIT_QUEUE_HEAD(itax_idle_wq);
static unsigned int itax_tau = IDLE_TAX_TAU_DEFAULT;
static unsigned int itax_interval_ms = 1000;
static u64 itax_pool_bytes;
static bool itax_pageout_on = true;
enum itax_view { ITAX_VIEW_AUTO, ITAX_VIEW_4K, ITAX_VIEW_2M };
static const char * const itax_view_names[] = { "auto", "4k", "2m" };
static unsigned int itax_view = ITAX_VIEW_AUTO;
static u64 itax_step_bytes = 64ULL << 20;
static unsigned int itax_grace_ms = 10000;
static bool itax_stopping;

/* Counters (itax_lock). */
static u64 itax_ticks;
static u64 itax_last_pool;
static u64 itax_pageout_total;
static u64 itax_pageout_calls;
static u64 itax_pageout_errors;
static int itax_pageout_last_error;	/* -errno of the last failed call */
static u64 itax_nospc;

static struct kobject *itax_kobj;
static struct dentry *itax_debugfs;
static struct kvmx_client itax_client;
static void itax_tick(struct work_struct *work);
static DECLARE_DELAYED_WORK(itax_work, itax_tick);

/* --- the allocation --------------------------------------------------------- */

static void itax_feed_sample(struct itax_vm *iv)
{
	struct kvmx_sample r;
	unsigned int view = READ_ONCE(itax_view);
	u32 touched, sampled;

	if (kvmx_sampler_result(iv->vm, &r) || r.seq == iv->sample_seq)
		return;
	iv->sample_seq = r.seq;
	/*
	 * Where KVM maps guest memory in 2 MiB pages (THP), zapping a sample
	 * zaps its whole region, and the 4 KiB view reads too low. Where it
	 * maps 4 KiB pages, only sampled pages refault and the views agree.
	 * auto takes the larger.
	 */
	if (view == ITAX_VIEW_AUTO)
		view = (u64)r.touched_2m * r.sampled >
		       (u64)r.touched * r.sampled_2m ? ITAX_VIEW_2M :
		       ITAX_VIEW_4K;
	touched = view == ITAX_VIEW_2M ? r.touched_2m : r.touched;
	sampled = view == ITAX_VIEW_2M ? r.sampled_2m : r.sampled;
	if (sampled)
		idle_tax_active_sample(&iv->active, NULL, touched, sampled);
}

/* Whether a balloon (the relay) serves the VM now. */
static bool itax_balloon_live(struct itax_vm *iv)
{
	return iv->balloon_seen &&
	       time_before(jiffies, iv->balloon_seen + ITAX_BALLOON_STALE);
}

/* Bytes above target the VM should page out this interval. */
static u64 itax_pageout_want(struct itax_vm *iv, enum kvmx_mem_state state)
{
	struct idle_tax_reclaim r = {
		.resident = iv->resident,
		.target = iv->target,
		.grace_ms = itax_grace_ms,
		.step_bytes = itax_step_bytes,
		.pageout_on = itax_pageout_on,
		.balloon_live = itax_balloon_live(iv),
		.host_hard = state >= KVMX_MEM_HARD,
	};

	if (!idle_tax_over_target(iv->resident, iv->target)) {
		iv->over_since = 0;
		return 0;
	}
	if (!iv->over_since)
		iv->over_since = jiffies ? jiffies : 1;
	r.over_ms = jiffies_to_msecs(jiffies - iv->over_since);
	return idle_tax_pageout_bytes(&r);
}

/*
 * itax_lock held. QEMU adds memslots after the VM is created (and may
 * hotplug more): follow the VM's size, and keep the limits inside it.
 */
static void itax_update_size(struct itax_vm *iv)
{
	iv->vm_bytes = min_t(u64, kvmx_vm_memory_bytes(iv->vm),
			     IDLE_TAX_BYTES_MAX);
	if (!iv->max_set || iv->max_bytes > iv->vm_bytes)
		iv->max_bytes = iv->vm_bytes;
	if (iv->min_bytes > iv->max_bytes)
		iv->min_bytes = iv->max_bytes;
}

/* itax_lock held: new targets for every VM; marks VMs to page out. */
static void itax_allocate(void)
{
	enum kvmx_mem_state state = kvmx_memstate();
	struct idle_tax_vm *v;
	struct itax_vm *iv;
	u64 avail, total, floor, pool = 0, sum_res = 0, sum_max = 0;
	unsigned int n = 0, i;
	int ret;

	list_for_each_entry(iv, &itax_vms, node)
		n++;
	if (!n)
		return;
	v = kcalloc(n, sizeof(*v), GFP_KERNEL);
	if (!v)
		return;
	i = 0;
	list_for_each_entry(iv, &itax_vms, node) {
		itax_update_size(iv);
		itax_feed_sample(iv);
		iv->resident = kvmx_vm_resident_bytes(iv->vm);
		v[i].shares = iv->shares;
		v[i].active = idle_tax_active_frac(&iv->active);
		v[i].cur_bytes = min(iv->resident, iv->vm_bytes);
		v[i].min_bytes = iv->min_bytes;
		v[i].max_bytes = iv->max_bytes;
		sum_res += v[i].cur_bytes;
		sum_max += iv->max_bytes;
		i++;
	}
	kvmx_memstate_info(&avail, &total, &floor);
	if (itax_pool_bytes)
		pool = itax_pool_bytes;
	else if (state == KVMX_MEM_HIGH)
		pool = sum_max;
	else if (sum_res + avail > floor)
		pool = sum_res + avail - floor;
	itax_last_pool = pool;
	ret = idle_tax_allocate(v, n, pool, itax_tau);
	if (ret == -ENOSPC)
		itax_nospc++;
	else if (ret)
		pr_warn_ratelimited("allocation failed (%d)\n", ret);
	i = 0;
	list_for_each_entry(iv, &itax_vms, node) {
		if (!ret || ret == -ENOSPC)
			iv->target = v[i].target_bytes;
		iv->rho = idle_tax_rho(iv->shares, v[i].cur_bytes, v[i].active,
				       itax_tau);
		iv->pageout_bytes = itax_pageout_want(iv, state);
		i++;
	}
	kfree(v);
}

/* What page-out of @iv has freed since it started at @before bytes. */
static u64 itax_freed(struct itax_vm *iv, u64 before)
{
	u64 now = kvmx_vm_resident_bytes(iv->vm);

	return before > now ? before - now : 0;
}

/*
 * One page-out call; false when this interval's page-out of the VM should
 * end: the VM is going away, the channel to kvmxd is down, full or slow
 * (the next interval tries again), or the module is unloading.
 */
static bool itax_pageout_one(struct itax_vm *iv, u64 gfn, u64 *calls,
			     u64 *errors, int *last_err)
{
	int ret = kvmx_vm_pageout(iv->vm, gfn, ITAX_REGION_PAGES);

	(*calls)++;
	if (ret) {
		(*errors)++;
		*last_err = ret;
	}
	switch (ret) {
	case -ESRCH:
	case -ENOTCONN:
	case -EBUSY:
	case -ETIMEDOUT:
		return false;
	}
	return !READ_ONCE(itax_stopping);
}

/* Page out up to @budget bytes of @iv, idle regions first. No locks held. */
static u64 itax_pageout(struct itax_vm *iv, u64 budget, u64 *calls,
			u64 *errors, int *last_err)
{
	u64 *idle, before = kvmx_vm_resident_bytes(iv->vm), gfn;
	u64 end_gfn = iv->vm_bytes >> IDLE_TAX_PAGE_SHIFT;
	unsigned int nidle, i, steps;

	idle = kmalloc_array(ITAX_IDLE_MAX, sizeof(*idle), GFP_KERNEL);
	nidle = idle ? kvmx_sampler_idle_regions(iv->vm, idle, ITAX_IDLE_MAX) :
		0;
	/* Regions the sampler saw idle; those already out cost little. */
	for (i = 0; i < nidle && itax_freed(iv, before) < budget; i++)
		if (!itax_pageout_one(iv, idle[i], calls, errors, last_err))
			goto out;
	/*
	 * Then a sweep over guest memory, resumed where the last one stopped.
	 * Guest-physical space has holes (the PCI hole), so the sweep covers
	 * the VM's size plus 4 GiB; steps over holes cost nothing.
	 */
	end_gfn += (4ULL << 30) >> IDLE_TAX_PAGE_SHIFT;
	for (steps = 0; itax_freed(iv, before) < budget && steps < 4096;
	     steps++) {
		gfn = iv->clock_gfn;
		iv->clock_gfn = gfn + ITAX_REGION_PAGES >= end_gfn ? 0 :
				gfn + ITAX_REGION_PAGES;
		if (!itax_pageout_one(iv, gfn, calls, errors, last_err))
			break;
	}
out:
	kfree(idle);
	return itax_freed(iv, before);
}

static void itax_tick(struct work_struct *work)
{
	struct itax_vm *iv;
	u64 budget, got, calls, errors;
	int last_err;
	bool again;

	mutex_lock(&itax_lock);
	if (itax_stopping) {
		mutex_unlock(&itax_lock);
		return;
	}
	itax_ticks++;
	itax_allocate();
	/* Page out one VM at a time, without the lock. */
	do {
		again = false;
		list_for_each_entry(iv, &itax_vms, node) {
			if (!iv->pageout_bytes || itax_stopping)
				continue;
			budget = iv->pageout_bytes;
			iv->pageout_bytes = 0;
			iv->busy = true;
			mutex_unlock(&itax_lock);
			calls = 0;
			errors = 0;
			last_err = 0;
			got = itax_pageout(iv, budget, &calls, &errors,
					   &last_err);
			mutex_lock(&itax_lock);
			if (last_err)
				itax_pageout_last_error = last_err;
			iv->busy = false;
			iv->reclaimed += got;
			itax_pageout_total += got;
			itax_pageout_calls += calls;
			itax_pageout_errors += errors;
			wake_up_all(&itax_idle_wq);
			/* The list may have changed meanwhile: start over. */
			again = true;
			break;
		}
	} while (again);
	if (!itax_stopping)
		schedule_delayed_work(&itax_work,
				      msecs_to_jiffies(itax_interval_ms));
	mutex_unlock(&itax_lock);
}

/* --- per-VM sysfs ------------------------------------------------------------ */

static struct itax_vm *itax_vm_of(struct kobject *kobj)
{
	/* The group's directory is below the VM's. */
	return kvmx_vm_priv(kvmx_vm_from_kobj(kobj), &itax_client);
}

#define ITAX_SHOW_U64(name, expr)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct itax_vm *iv = itax_vm_of(kobj);				\
	u64 v;								\
									\
	if (!iv)							\
		return -ENODEV;						\
	mutex_lock(&itax_lock);						\
	v = (expr);							\
	mutex_unlock(&itax_lock);					\
	return sysfs_emit(buf, "%llu\n", v);				\
}

ITAX_SHOW_U64(shares, iv->shares)
ITAX_SHOW_U64(min_bytes, iv->min_bytes)
ITAX_SHOW_U64(max_bytes, iv->max_bytes)
ITAX_SHOW_U64(target_bytes, iv->target)
ITAX_SHOW_U64(balloon_target_bytes, iv->target)
ITAX_SHOW_U64(balloon_actual_bytes, iv->balloon_actual)
ITAX_SHOW_U64(resident_bytes, iv->resident)
ITAX_SHOW_U64(reclaimed_bytes, iv->reclaimed)

static ssize_t shares_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct itax_vm *iv = itax_vm_of(kobj);
	u64 v;
	int ret = kvmx_parse_u64(buf, count, &v);

	if (ret)
		return ret;
	ret = v > IDLE_TAX_SHARES_MAX ? -ERANGE : idle_tax_shares_check(v);
	if (ret)
		return ret;
	if (!iv)
		return -ENODEV;
	mutex_lock(&itax_lock);
	iv->shares = v;
	mutex_unlock(&itax_lock);
	return count;
}

static ssize_t itax_store_limit(struct kobject *kobj, const char *buf,
				size_t count, bool is_max)
{
	struct itax_vm *iv = itax_vm_of(kobj);
	u64 v, lo, hi;
	int ret = kvmx_parse_bytes(buf, count, &v);

	if (ret)
		return ret;
	if (!iv)
		return -ENODEV;
	mutex_lock(&itax_lock);
	itax_update_size(iv);
	lo = is_max ? iv->min_bytes : v;
	hi = is_max ? v : iv->max_bytes;
	ret = idle_tax_minmax_check(lo, hi, iv->vm_bytes);
	/* A min above the VM's size is out of range, not out of order. */
	if (!is_max && v > iv->vm_bytes)
		ret = -ERANGE;
	/* A VM is never allowed less than a page. */
	if (!ret && is_max && v < IDLE_TAX_PAGE_SIZE)
		ret = -EINVAL;
	if (!ret) {
		iv->min_bytes = lo;
		iv->max_bytes = hi;
		if (is_max)
			iv->max_set = true;
	}
	mutex_unlock(&itax_lock);
	return ret ? ret : count;
}

static ssize_t min_bytes_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	return itax_store_limit(kobj, buf, count, false);
}

static ssize_t max_bytes_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	return itax_store_limit(kobj, buf, count, true);
}

static ssize_t balloon_actual_bytes_store(struct kobject *kobj,
					  struct kobj_attribute *attr,
					  const char *buf, size_t count)
{
	struct itax_vm *iv = itax_vm_of(kobj);
	u64 v;
	int ret = kvmx_parse_bytes(buf, count, &v);

	if (ret)
		return ret;
	if (!iv)
		return -ENODEV;
	mutex_lock(&itax_lock);
	itax_update_size(iv);
	if (v > iv->vm_bytes)
		ret = -ERANGE;
	else {
		iv->balloon_actual = v;
		iv->balloon_seen = jiffies ? jiffies : 1;
	}
	mutex_unlock(&itax_lock);
	return ret ? ret : count;
}

static ssize_t active_permille_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	struct itax_vm *iv = itax_vm_of(kobj);
	u32 f;
	bool primed;

	if (!iv)
		return -ENODEV;
	mutex_lock(&itax_lock);
	primed = iv->active.primed;
	f = idle_tax_active_frac(&iv->active);
	mutex_unlock(&itax_lock);
	if (!primed)
		return sysfs_emit(buf, "-\n");
	return sysfs_emit(buf, "%u\n",
			  (u32)(((u64)f * 1000 + IDLE_TAX_FRAC_ONE / 2) >>
				IDLE_TAX_FRAC_SHIFT));
}

/* rho in shares per GiB, three decimals. */
static ssize_t rho_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	struct itax_vm *iv = itax_vm_of(kobj);
	u64 milli;

	if (!iv)
		return -ENODEV;
	mutex_lock(&itax_lock);
	milli = iv->rho == IDLE_TAX_RHO_INFINITE ? U64_MAX :
		mul_u64_u32_shr(iv->rho, 1000, IDLE_TAX_RHO_SHIFT - 18);
	mutex_unlock(&itax_lock);
	if (milli == U64_MAX)
		return sysfs_emit(buf, "inf\n");
	return sysfs_emit(buf, "%llu.%03llu\n", div_u64(milli, 1000),
			  milli % 1000);
}

static struct kobj_attribute itax_vm_attr_list[] = {
	__ATTR_RW_MODE(shares, 0600),
	__ATTR_RW_MODE(min_bytes, 0600),
	__ATTR_RW_MODE(max_bytes, 0600),
	__ATTR_RW_MODE(balloon_actual_bytes, 0600),
	__ATTR_RO_MODE(active_permille, 0400),
	__ATTR_RO_MODE(rho, 0400),
	__ATTR_RO_MODE(target_bytes, 0400),
	__ATTR_RO_MODE(balloon_target_bytes, 0400),
	__ATTR_RO_MODE(resident_bytes, 0400),
	__ATTR_RO_MODE(reclaimed_bytes, 0400),
};

static struct attribute *itax_vm_attrs[ARRAY_SIZE(itax_vm_attr_list) + 1];

static const struct attribute_group itax_vm_group = {
	.name = "idle_tax",
	.attrs = itax_vm_attrs,
};

/* --- attach / detach --------------------------------------------------------- */

static int itax_attach(struct kvmx_vm *vm)
{
	struct itax_vm *iv = kzalloc(sizeof(*iv), GFP_KERNEL);

	if (!iv)
		return -ENOMEM;
	iv->vm = vm;
	iv->shares = IDLE_TAX_SHARES_DEFAULT;
	itax_update_size(iv);
	iv->target = iv->max_bytes;
	iv->rho = IDLE_TAX_RHO_INFINITE;
	idle_tax_active_init(&iv->active);
	mutex_lock(&itax_lock);
	list_add_tail(&iv->node, &itax_vms);
	mutex_unlock(&itax_lock);
	kvmx_vm_set_priv(vm, &itax_client, iv);
	return 0;
}

static void itax_detach(struct kvmx_vm *vm)
{
	struct itax_vm *iv = kvmx_vm_priv(vm, &itax_client);

	if (!iv)
		return;
	kvmx_vm_set_priv(vm, &itax_client, NULL);
	mutex_lock(&itax_lock);
	list_del(&iv->node);
	mutex_unlock(&itax_lock);
	/* A page-out of this VM may be in flight: it ends within one step. */
	wait_event(itax_idle_wq, !READ_ONCE(iv->busy));
	/* Its final bookkeeping ran under the lock; take it once more. */
	mutex_lock(&itax_lock);
	mutex_unlock(&itax_lock);
	kfree(iv);
}

static struct kvmx_client itax_client = {
	.name = "idle_tax",
	.vm_group = &itax_vm_group,
	.attach = itax_attach,
	.detach = itax_detach,
};

/* --- global sysfs: /sys/kernel/kvmx/idle_tax/ ---------------------------------- */

static ssize_t tax_rate_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	unsigned int t = READ_ONCE(itax_tau);

	return sysfs_emit(buf, "%u.%03u\n", t / 1000, t % 1000);
}

static ssize_t tax_rate_store(struct kobject *kobj,
			      struct kobj_attribute *attr, const char *buf,
			      size_t count)
{
	u64 t;
	int ret = kvmx_parse_fixed(buf, count, 3, &t);

	if (ret)
		return ret;
	/* Three decimals: per mille. */
	if (t > IDLE_TAX_TAU_MAX)
		return -ERANGE;
	mutex_lock(&itax_lock);
	itax_tau = t;
	mutex_unlock(&itax_lock);
	mod_delayed_work(system_wq, &itax_work, 0);
	return count;
}

static ssize_t period_ms_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	unsigned int period, pages;

	kvmx_sampler_config(&period, &pages);
	return sysfs_emit(buf, "%u\n", period);
}

static ssize_t sample_pages_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	unsigned int period, pages;

	kvmx_sampler_config(&period, &pages);
	return sysfs_emit(buf, "%u\n", pages);
}

static ssize_t itax_store_sampler(const char *buf, size_t count, bool period)
{
	unsigned int p, n;
	u64 v;
	int ret = kvmx_parse_u64(buf, count, &v);

	if (ret)
		return ret;
	if (v > S64_MAX)
		ret = -ERANGE;
	else
		ret = period ? idle_tax_period_check(v) :
			       idle_tax_sample_check(v);
	if (ret)
		return ret;
	kvmx_sampler_config(&p, &n);
	ret = kvmx_sampler_set_config(period ? v : p, period ? n : v);
	return ret ? ret : count;
}

static ssize_t period_ms_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	return itax_store_sampler(buf, count, true);
}

static ssize_t sample_pages_store(struct kobject *kobj,
				  struct kobj_attribute *attr, const char *buf,
				  size_t count)
{
	return itax_store_sampler(buf, count, false);
}

static ssize_t sample_view_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", itax_view_names[READ_ONCE(itax_view)]);
}

static ssize_t sample_view_store(struct kobject *kobj,
				 struct kobj_attribute *attr, const char *buf,
				 size_t count)
{
	int i = kvmx_parse_word(buf, count, itax_view_names,
				ARRAY_SIZE(itax_view_names));

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(itax_view, i);
	return count;
}

static ssize_t pageout_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(itax_pageout_on) ? "auto" :
			  "off");
}

static ssize_t pageout_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	static const char * const words[] = { "off", "auto" };
	int i = kvmx_parse_word(buf, count, words, ARRAY_SIZE(words));

	if (i < 0)
		return i;
	WRITE_ONCE(itax_pageout_on, i == 1);
	return count;
}

/*
 * A number in @min..@max (@bytes: a size, where K, M, G and T count). A
 * value outside is ERANGE, or EINVAL if it is 0.
 */
static ssize_t itax_store_u64(const char *buf, size_t count, bool bytes,
			      u64 *field, u64 min, u64 max)
{
	u64 v;
	int ret = bytes ? kvmx_parse_bytes(buf, count, &v) :
			  kvmx_parse_u64(buf, count, &v);

	if (ret)
		return ret;
	if (v < min || v > max)
		return v ? -ERANGE : -EINVAL;
	mutex_lock(&itax_lock);
	*field = v;
	mutex_unlock(&itax_lock);
	mod_delayed_work(system_wq, &itax_work, 0);
	return count;
}

static ssize_t interval_ms_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(itax_interval_ms));
}

static ssize_t interval_ms_store(struct kobject *kobj,
				 struct kobj_attribute *attr, const char *buf,
				 size_t count)
{
	u64 v = itax_interval_ms;
	ssize_t ret = itax_store_u64(buf, count, false, &v,
				     ITAX_INTERVAL_MIN_MS, ITAX_INTERVAL_MAX_MS);

	if (ret > 0)
		WRITE_ONCE(itax_interval_ms, v);
	return ret;
}

static ssize_t pool_bytes_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(itax_pool_bytes));
}

static ssize_t pool_bytes_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	/* 0 is automatic; otherwise at most what RAM could hold. */
	return itax_store_u64(buf, count, true, &itax_pool_bytes, 0,
			      (u64)totalram_pages() << PAGE_SHIFT);
}

static ssize_t pageout_step_bytes_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(itax_step_bytes));
}

static ssize_t pageout_step_bytes_store(struct kobject *kobj,
					struct kobj_attribute *attr,
					const char *buf, size_t count)
{
	return itax_store_u64(buf, count, true, &itax_step_bytes,
			      ITAX_REGION_BYTES, 1ULL << 34);
}

static ssize_t balloon_grace_ms_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(itax_grace_ms));
}

static ssize_t balloon_grace_ms_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	u64 v = itax_grace_ms;
	ssize_t ret = itax_store_u64(buf, count, false, &v, 0,
				     ITAX_GRACE_MAX_MS);

	if (ret > 0)
		WRITE_ONCE(itax_grace_ms, v);
	return ret;
}

static struct kobj_attribute itax_attr_list[] = {
	__ATTR_RW(tax_rate),
	__ATTR_RW(period_ms),
	__ATTR_RW(sample_pages),
	__ATTR_RW(sample_view),
	__ATTR_RW(interval_ms),
	__ATTR_RW(pool_bytes),
	__ATTR_RW(pageout),
	__ATTR_RW(pageout_step_bytes),
	__ATTR_RW(balloon_grace_ms),
};

static struct attribute *itax_attrs[ARRAY_SIZE(itax_attr_list) + 1];

static const struct attribute_group itax_group = {
	.attrs = itax_attrs,
};

/* --- debugfs kvmx/idle_tax ------------------------------------------------------ */

static int itax_debug_show(struct seq_file *m, void *unused)
{
	struct itax_vm *iv;

	mutex_lock(&itax_lock);
	seq_printf(m, "ticks %llu\npool_bytes %llu\npageout_bytes %llu\n",
		   itax_ticks, itax_last_pool, itax_pageout_total);
	seq_printf(m, "pageout_calls %llu\npageout_errors %llu\nnospc %llu\n",
		   itax_pageout_calls, itax_pageout_errors, itax_nospc);
	seq_printf(m, "pageout_last_error %d\n", itax_pageout_last_error);
	seq_puts(m, "vm shares f_permille resident target reclaimed balloon\n");
	list_for_each_entry(iv, &itax_vms, node)
		seq_printf(m, "%s %u %u %llu %llu %llu %llu\n",
			   kvmx_vm_name(iv->vm), iv->shares,
			   (idle_tax_active_frac(&iv->active) * 1000) >>
			   IDLE_TAX_FRAC_SHIFT, iv->resident, iv->target,
			   iv->reclaimed, iv->balloon_actual);
	mutex_unlock(&itax_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(itax_debug);

static void itax_fill_attrs(struct attribute **dst, struct kobj_attribute *src,
			    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = &src[i].attr;
	dst[n] = NULL;
}

static int __init itax_init(void)
{
	struct dentry *root = kvmx_debugfs_root();
	int ret;

	itax_fill_attrs(itax_attrs, itax_attr_list, ARRAY_SIZE(itax_attr_list));
	itax_fill_attrs(itax_vm_attrs, itax_vm_attr_list,
			ARRAY_SIZE(itax_vm_attr_list));
	itax_kobj = kobject_create_and_add("idle_tax", kvmx_sysfs_root());
	if (!itax_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(itax_kobj, &itax_group);
	if (ret)
		goto err_kobj;
	ret = kvmx_sampler_get();
	if (ret)
		goto err_kobj;
	ret = kvmx_register_client(&itax_client);
	if (ret)
		goto err_sampler;
	if (!IS_ERR_OR_NULL(root))
		itax_debugfs = debugfs_create_file("idle_tax", 0400, root, NULL,
						   &itax_debug_fops);
	schedule_delayed_work(&itax_work, 0);
	pr_info("loaded\n");
	return 0;

err_sampler:
	kvmx_sampler_put();
err_kobj:
	kobject_put(itax_kobj);
	return ret;
}

static void __exit itax_exit(void)
{
	debugfs_remove(itax_debugfs);
	/* No knob can queue the work once the directory is gone. */
	kobject_put(itax_kobj);
	mutex_lock(&itax_lock);
	itax_stopping = true;
	mutex_unlock(&itax_lock);
	cancel_delayed_work_sync(&itax_work);
	kvmx_unregister_client(&itax_client);
	kvmx_sampler_put();
	pr_info("unloaded\n");
}

module_init(itax_init);
module_exit(itax_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmx idle_tax: share-based VM memory with an idle memory tax");
MODULE_SOFTDEP("pre: kvmx_core");
