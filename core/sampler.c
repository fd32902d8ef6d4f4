// SPDX-License-Identifier: GPL-2.0
/*
 * Access sampler: Waldspurger's statistical working-set sampling, done
 * through KVM. Every period, for each attached VM, pick `pages` random
 * guest pages (weighted by memslot size), remove their second-level
 * (NPT/EPT) mappings with kvm_zap_gfn_range(), and watch KVM's
 * kvm_page_fault tracepoint for the guest touching them again. The touched
 * share estimates the VM's active memory. A zapped 2 MiB mapping refaults
 * as a whole, so the result is also given per 2 MiB region.
 *
 * Sampling runs while a module holds kvmx_sampler_get() or the operator
 * writes 1 to /sys/kernel/kvmx/sampler/enabled. It needs TDP: with shadow
 * paging the fault address is a guest virtual address, and the VM is
 * refused with a message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kvm_host.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

/* Exported by kvm.ko; declared in its private trace header. */
extern struct tracepoint __tracepoint_kvm_page_fault;

#define KVMX_SAMPLER_MAX_PAGES	10000
#define KVMX_SAMPLER_IDLE_REGIONS	256

/* One period's samples of one VM, sorted by gfn. */
struct kvmx_sample_set {
	struct rcu_head rcu;
	struct kvmx_sample_set *retired;	/* tick: sets to free once unpublished */
	struct kvm *kvm;
	unsigned int n;
	unsigned long *touched;		/* bit per sample */
	unsigned long *touched_2m;	/* bit per sample: its region touched */
	u64 gfn[];
};

struct kvmx_sampler_vm {
	struct kvmx_vm *vm;
	struct kvmx_sample_set __rcu *set;
	struct kvmx_sample last;	/* result of the last full period */
	bool no_tdp;
	/* Idle 2 MiB regions (first gfn), newest first. */
	unsigned int nidle;
	u64 idle[KVMX_SAMPLER_IDLE_REGIONS];
};

static DEFINE_MUTEX(kvmx_sampler_lock);	/* config, users, the VM table */
/* Results: read from sysfs handlers the registry may be draining. */
static DEFINE_SPINLOCK(kvmx_sampler_result_lock);
static unsigned int kvmx_sampler_period_ms = 30000;
static unsigned int kvmx_sampler_pages = 100;
static unsigned int kvmx_sampler_users;
static bool kvmx_sampler_forced;
static bool kvmx_sampler_probe_on;
static struct delayed_work kvmx_sampler_work;
static atomic64_t kvmx_sampler_faults = ATOMIC64_INIT(0);
static atomic64_t kvmx_sampler_zapped = ATOMIC64_INIT(0);

/*
 * The sets being watched, one per sampled VM, for the tracepoint: an RCU
 * published array, rebuilt every period.
 */
struct kvmx_sample_table {
	struct rcu_head rcu;
	unsigned int n;
	struct kvmx_sample_set *sets[];
};

static struct kvmx_sample_table __rcu *kvmx_sample_table;

static struct kvmx_client kvmx_sampler_client;

/* --- the tracepoint -------------------------------------------------------- */

static void kvmx_sampler_mark(struct kvmx_sample_set *s, u64 gfn)
{
	unsigned int lo = 0, hi = s->n, i;

	/* First sample in gfn's 2 MiB region. */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if ((s->gfn[mid] >> 9) < (gfn >> 9))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < s->n && (s->gfn[i] >> 9) == (gfn >> 9); i++) {
		if (!test_bit(i, s->touched_2m))
			set_bit(i, s->touched_2m);
		if (s->gfn[i] == gfn && !test_and_set_bit(i, s->touched))
			atomic64_inc(&kvmx_sampler_faults);
	}
}

static void kvmx_sampler_fault(void *data, struct kvm_vcpu *vcpu,
			       u64 fault_address, u64 error_code)
{
	struct kvmx_sample_table *t;
	unsigned int i;

	rcu_read_lock();
	t = rcu_dereference(kvmx_sample_table);
	for (i = 0; t && i < t->n; i++) {
		if (t->sets[i]->kvm == vcpu->kvm) {
			kvmx_sampler_mark(t->sets[i], fault_address >> PAGE_SHIFT);
			break;
		}
	}
	rcu_read_unlock();
}

/* --- one period ------------------------------------------------------------ */

struct kvmx_slot_pick {
	u64 total;
	unsigned int n;
	u64 *want;	/* sorted offsets into the concatenated slots */
	u64 *gfn;
	u64 seen;
	unsigned int done;
};

static int kvmx_sampler_count(struct kvmx_vm *vm,
			      const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_slot_pick *p = arg;

	if (!(slot->flags & KVM_MEM_READONLY))
		p->total += slot->npages;
	return 0;
}

static int kvmx_sampler_pick(struct kvmx_vm *vm,
			     const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_slot_pick *p = arg;

	if (slot->flags & KVM_MEM_READONLY)
		return 0;
	while (p->done < p->n && p->want[p->done] < p->seen + slot->npages) {
		p->gfn[p->done] = slot->base_gfn + (p->want[p->done] - p->seen);
		p->done++;
	}
	p->seen += slot->npages;
	return 0;
}

static int kvmx_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void kvmx_sample_set_free(struct rcu_head *rcu)
{
	struct kvmx_sample_set *s = container_of(rcu, struct kvmx_sample_set,
						 rcu);

	bitmap_free(s->touched);
	bitmap_free(s->touched_2m);
	kfree(s);
}

/* Result lock held: region @r was seen @touched; keep the idle list. */
static void kvmx_sampler_note_region(struct kvmx_sampler_vm *sv, u64 r,
				     bool touched)
{
	unsigned int i, n = sv->nidle;

	for (i = 0; i < n && sv->idle[i] != r; i++)
		;
	if (i < n) {
		memmove(&sv->idle[i], &sv->idle[i + 1],
			(n - i - 1) * sizeof(sv->idle[0]));
		n--;
	}
	if (!touched) {
		if (n == KVMX_SAMPLER_IDLE_REGIONS)
			n--;
		memmove(&sv->idle[1], &sv->idle[0], n * sizeof(sv->idle[0]));
		sv->idle[0] = r;
		n++;
	}
	sv->nidle = n;
}

/* Fold the finished period of @sv into sv->last. */
static void kvmx_sampler_finish(struct kvmx_sampler_vm *sv,
				struct kvmx_sample_set *s)
{
	struct kvmx_sample r = { .seq = sv->last.seq + 1 };
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		bool first = !i || (s->gfn[i] >> 9) != (s->gfn[i - 1] >> 9);

		r.sampled++;
		r.touched += test_bit(i, s->touched);
		if (first) {
			r.sampled_2m++;
			r.touched_2m += test_bit(i, s->touched_2m);
		}
	}
	spin_lock(&kvmx_sampler_result_lock);
	sv->last = r;
	for (i = 0; i < s->n; i++)
		if (!i || (s->gfn[i] >> 9) != (s->gfn[i - 1] >> 9))
			kvmx_sampler_note_region(sv, s->gfn[i] & ~511ULL,
						 test_bit(i, s->touched_2m));
	spin_unlock(&kvmx_sampler_result_lock);
}

static bool kvmx_vm_has_tdp(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	/* With TDP every vCPU's root MMU maps guest-physical addresses. */
	kvm_for_each_vcpu(i, vcpu, kvm)
		if (!vcpu->arch.root_mmu.root_role.direct)
			return false;
	return true;
}

/* Start a new period for @sv; returns the new set (not yet published). */
static struct kvmx_sample_set *kvmx_sampler_start(struct kvmx_sampler_vm *sv,
						  unsigned int n)
{
	struct kvm *kvm = kvmx_vm_kvm(sv->vm);
	struct kvmx_slot_pick p = { .n = n };
	struct kvmx_sample_set *s;
	unsigned int i, k;

	if (!kvmx_vm_has_tdp(kvm)) {
		if (!sv->no_tdp)
			pr_warn("VM %s uses shadow paging: access sampling needs TDP (NPT/EPT), not sampling it\n",
				kvmx_vm_name(sv->vm));
		sv->no_tdp = true;
		return NULL;
	}
	kvmx_vm_walk_memslots(sv->vm, kvmx_sampler_count, &p);
	if (!p.total)
		return NULL;
	s = kzalloc(struct_size(s, gfn, n), GFP_KERNEL);
	p.want = kmalloc_array(n, sizeof(u64), GFP_KERNEL);
	if (!s || !p.want)
		goto err;
	s->touched = bitmap_zalloc(n, GFP_KERNEL);
	s->touched_2m = bitmap_zalloc(n, GFP_KERNEL);
	if (!s->touched || !s->touched_2m)
		goto err;
	for (i = 0; i < n; i++)
		p.want[i] = get_random_u64() % p.total;
	sort(p.want, n, sizeof(u64), kvmx_u64_cmp, NULL);
	/* A page drawn twice is sampled once. */
	for (i = 0, k = 0; i < n; i++)
		if (!k || p.want[i] != p.want[k - 1])
			p.want[k++] = p.want[i];
	p.n = k;
	p.gfn = s->gfn;
	kvmx_vm_walk_memslots(sv->vm, kvmx_sampler_pick, &p);
	s->n = p.done;
	s->kvm = kvm;
	kfree(p.want);
	return s;
err:
	kfree(p.want);
	if (s) {
		bitmap_free(s->touched);
		bitmap_free(s->touched_2m);
		kfree(s);
	}
	return NULL;
}

struct kvmx_tick {
	struct kvmx_sample_table *t;
	unsigned int cap;
	unsigned int n;
	struct kvmx_sample_set *retired;	/* last period's sets */
};

static int kvmx_sampler_tick_vm(struct kvmx_vm *vm, void *arg)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	struct kvmx_tick *tk = arg;
	struct kvmx_sample_set *old, *s;

	if (!sv || kvmx_vm_released(vm))
		return 0;
	old = rcu_dereference_protected(sv->set, true);
	if (old)
		kvmx_sampler_finish(sv, old);
	s = kvmx_sampler_start(sv, tk->n);
	rcu_assign_pointer(sv->set, s);
	/*
	 * The published table still points to @old, and a fault probe may
	 * be about to mark it: it is freed only once the new table is
	 * published (kvmx_sampler_tick()).
	 */
	if (old) {
		old->retired = tk->retired;
		tk->retired = old;
	}
	if (!s)
		return 0;
	if (tk->t && tk->t->n < tk->cap)
		tk->t->sets[tk->t->n++] = s;
	return 0;
}

static int kvmx_sampler_zap_vm(struct kvmx_vm *vm, void *arg)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	struct kvmx_sample_set *s;
	unsigned int i;

	if (!sv || kvmx_vm_released(vm))
		return 0;
	s = rcu_dereference_protected(sv->set, true);
	for (i = 0; s && i < s->n; i++) {
		kvm_zap_gfn_range(kvmx_vm_kvm(vm), s->gfn[i], s->gfn[i] + 1);
		atomic64_inc(&kvmx_sampler_zapped);
		cond_resched();
	}
	return 0;
}

static int kvmx_sampler_count_vm(struct kvmx_vm *vm, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static void kvmx_sampler_tick(struct work_struct *work)
{
	struct kvmx_sample_table *t = NULL, *old;
	struct kvmx_sample_set *s, *next;
	struct kvmx_tick tk = {};
	unsigned int nvms = 0, period;

	mutex_lock(&kvmx_sampler_lock);
	tk.n = kvmx_sampler_pages;
	period = kvmx_sampler_period_ms;
	kvmx_registry_lock();
	kvmx_vms_walk_locked(kvmx_sampler_count_vm, &nvms);
	t = kzalloc(struct_size(t, sets, nvms), GFP_KERNEL);
	tk.t = t;
	tk.cap = nvms;
	kvmx_vms_walk_locked(kvmx_sampler_tick_vm, &tk);
	old = rcu_replace_pointer(kvmx_sample_table, t, true);
	/*
	 * Readers that start from here on see @t, which holds none of the
	 * retired sets; those that started before are waited for by RCU.
	 */
	for (s = tk.retired; s; s = next) {
		next = s->retired;
		call_rcu(&s->rcu, kvmx_sample_set_free);
	}
	/* Watch first, then zap: a touch right after the zap is seen. */
	kvmx_vms_walk_locked(kvmx_sampler_zap_vm, NULL);
	kvmx_registry_unlock();
	if (old)
		kfree_rcu(old, rcu);
	if (kvmx_sampler_users || kvmx_sampler_forced)
		schedule_delayed_work(&kvmx_sampler_work,
				      msecs_to_jiffies(period));
	mutex_unlock(&kvmx_sampler_lock);
}

/* --- on and off ------------------------------------------------------------ */

static int kvmx_sampler_on(void)
{
	int ret;

	lockdep_assert_held(&kvmx_sampler_lock);
	if (kvmx_sampler_probe_on)
		return 0;
	ret = tracepoint_probe_register(&__tracepoint_kvm_page_fault,
					kvmx_sampler_fault, NULL);
	if (ret) {
		pr_err("sampler: cannot attach to kvm_page_fault (%d)\n", ret);
		return ret;
	}
	kvmx_sampler_probe_on = true;
	schedule_delayed_work(&kvmx_sampler_work, 0);
	return 0;
}

static void kvmx_sampler_off(void)
{
	struct kvmx_sample_table *t;

	lockdep_assert_held(&kvmx_sampler_lock);
	if (!kvmx_sampler_probe_on || kvmx_sampler_users || kvmx_sampler_forced)
		return;
	/* The work takes the lock: drop it while waiting for the work. */
	mutex_unlock(&kvmx_sampler_lock);
	cancel_delayed_work_sync(&kvmx_sampler_work);
	mutex_lock(&kvmx_sampler_lock);
	if (kvmx_sampler_users || kvmx_sampler_forced) {
		schedule_delayed_work(&kvmx_sampler_work, 0);
		return;
	}
	tracepoint_probe_unregister(&__tracepoint_kvm_page_fault,
				    kvmx_sampler_fault, NULL);
	tracepoint_synchronize_unregister();
	kvmx_sampler_probe_on = false;
	kvmx_registry_lock();
	t = rcu_replace_pointer(kvmx_sample_table, NULL, true);
	kvmx_registry_unlock();
	if (t)
		kfree_rcu(t, rcu);
}

int kvmx_sampler_get(void)
{
	int ret;

	mutex_lock(&kvmx_sampler_lock);
	kvmx_sampler_users++;
	ret = kvmx_sampler_on();
	if (ret)
		kvmx_sampler_users--;
	mutex_unlock(&kvmx_sampler_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_sampler_get);

void kvmx_sampler_put(void)
{
	mutex_lock(&kvmx_sampler_lock);
	if (!WARN_ON(!kvmx_sampler_users))
		kvmx_sampler_users--;
	kvmx_sampler_off();
	mutex_unlock(&kvmx_sampler_lock);
}
EXPORT_SYMBOL_GPL(kvmx_sampler_put);

int kvmx_sampler_result(struct kvmx_vm *vm, struct kvmx_sample *out)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	int ret = 0;

	if (!sv)
		return -ENODEV;
	spin_lock(&kvmx_sampler_result_lock);
	if (sv->no_tdp)
		ret = -EOPNOTSUPP;
	else if (!sv->last.seq)
		ret = -ENODATA;
	else
		*out = sv->last;
	spin_unlock(&kvmx_sampler_result_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_sampler_result);

int kvmx_sampler_idle_regions(struct kvmx_vm *vm, u64 *gfns, unsigned int max)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	unsigned int n;

	if (!sv)
		return 0;
	spin_lock(&kvmx_sampler_result_lock);
	n = min(max, sv->nidle);
	memcpy(gfns, sv->idle, n * sizeof(*gfns));
	spin_unlock(&kvmx_sampler_result_lock);
	return n;
}
EXPORT_SYMBOL_GPL(kvmx_sampler_idle_regions);

void kvmx_sampler_config(unsigned int *period_ms, unsigned int *pages)
{
	mutex_lock(&kvmx_sampler_lock);
	*period_ms = kvmx_sampler_period_ms;
	*pages = kvmx_sampler_pages;
	mutex_unlock(&kvmx_sampler_lock);
}
EXPORT_SYMBOL_GPL(kvmx_sampler_config);

static bool kvmx_sampler_config_ok(unsigned int period_ms, unsigned int pages)
{
	return period_ms >= 100 && period_ms <= 3600000 && pages >= 1 &&
	       pages <= KVMX_SAMPLER_MAX_PAGES;
}

/* Locked: a new period starts at once, so a new setting acts now. */
static void kvmx_sampler_restart(void)
{
	if (kvmx_sampler_probe_on)
		mod_delayed_work(system_wq, &kvmx_sampler_work, 0);
}

int kvmx_sampler_set_config(unsigned int period_ms, unsigned int pages)
{
	if (!kvmx_sampler_config_ok(period_ms, pages))
		return -ERANGE;
	mutex_lock(&kvmx_sampler_lock);
	kvmx_sampler_period_ms = period_ms;
	kvmx_sampler_pages = pages;
	kvmx_sampler_restart();
	mutex_unlock(&kvmx_sampler_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(kvmx_sampler_set_config);

/* --- per-VM state, sysfs --------------------------------------------------- */

static ssize_t sample_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct kvmx_sample r;
	int ret = kvmx_sampler_result(kvmx_vm_from_kobj(kobj), &r);

	if (ret == -ENODATA)
		return sysfs_emit(buf, "none yet\n");
	if (ret == -EOPNOTSUPP)
		return sysfs_emit(buf, "no TDP\n");
	if (ret)
		return ret;
	return sysfs_emit(buf, "%llu %u %u %u %u\n", r.seq, r.sampled,
			  r.touched, r.sampled_2m, r.touched_2m);
}

static struct kobj_attribute kvmx_attr_sample =
	__ATTR_RO_MODE(sample, 0400);
static struct attribute *kvmx_sampler_vm_attrs[] = {
	&kvmx_attr_sample.attr,
	NULL,
};

static const struct attribute_group kvmx_sampler_vm_group = {
	.attrs = kvmx_sampler_vm_attrs,
};

static int kvmx_sampler_attach(struct kvmx_vm *vm)
{
	struct kvmx_sampler_vm *sv = kzalloc(sizeof(*sv), GFP_KERNEL);

	if (!sv)
		return -ENOMEM;
	sv->vm = vm;
	kvmx_vm_set_priv(vm, &kvmx_sampler_client, sv);
	return 0;
}

/* Registry lock held; the tick holds it too, so no tick is in flight. */
static void kvmx_sampler_detach(struct kvmx_vm *vm)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	struct kvmx_sample_table *t, *nt;
	struct kvmx_sample_set *s;
	unsigned int i;

	if (!sv)
		return;
	kvmx_vm_set_priv(vm, &kvmx_sampler_client, NULL);
	s = rcu_dereference_protected(sv->set, true);
	t = rcu_dereference_protected(kvmx_sample_table, true);
	if (s && t) {
		/* Drop the set from the watched table before freeing it. */
		nt = kzalloc(struct_size(nt, sets, t->n), GFP_KERNEL);
		if (nt) {
			for (i = 0; i < t->n; i++)
				if (t->sets[i] != s)
					nt->sets[nt->n++] = t->sets[i];
		}
		rcu_assign_pointer(kvmx_sample_table, nt);
		synchronize_rcu();
		kfree(t);
	}
	if (s)
		kvmx_sample_set_free(&s->rcu);
	kfree(sv);
}

static struct kvmx_client kvmx_sampler_client = {
	.name = "sampler",
	.vm_group = &kvmx_sampler_vm_group,
	.attach = kvmx_sampler_attach,
	.detach = kvmx_sampler_detach,
};

/* --- global sysfs: /sys/kernel/kvmx/sampler/ ------------------------------- */

static struct kobject *kvmx_sampler_kobj;

static ssize_t kvmx_sampler_store_uint(const char *buf, size_t count,
				       unsigned int *field, unsigned int min,
				       unsigned int max)
{
	unsigned int v;
	int ret = kvmx_parse_uint(buf, count, &v);

	if (ret)
		return ret;
	if (!v)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	mutex_lock(&kvmx_sampler_lock);
	*field = v;
	kvmx_sampler_restart();
	mutex_unlock(&kvmx_sampler_lock);
	return count;
}

static ssize_t period_ms_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kvmx_sampler_period_ms));
}

static ssize_t period_ms_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t count)
{
	return kvmx_sampler_store_uint(buf, count, &kvmx_sampler_period_ms,
				       100, 3600000);
}

static ssize_t pages_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kvmx_sampler_pages));
}

static ssize_t pages_store(struct kobject *k, struct kobj_attribute *a,
			   const char *buf, size_t count)
{
	return kvmx_sampler_store_uint(buf, count, &kvmx_sampler_pages, 1,
				       KVMX_SAMPLER_MAX_PAGES);
}

static ssize_t enabled_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(kvmx_sampler_forced));
}

static ssize_t enabled_store(struct kobject *k, struct kobj_attribute *a,
			     const char *buf, size_t count)
{
	bool on;
	int ret = kvmx_parse_bool(buf, count, &on);

	if (ret)
		return ret;
	mutex_lock(&kvmx_sampler_lock);
	kvmx_sampler_forced = on;
	ret = on ? kvmx_sampler_on() : 0;
	if (!on)
		kvmx_sampler_off();
	mutex_unlock(&kvmx_sampler_lock);
	return ret ? ret : count;
}

static ssize_t stats_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "zapped %lld\nrefaults %lld\n",
			  atomic64_read(&kvmx_sampler_zapped),
			  atomic64_read(&kvmx_sampler_faults));
}

static struct kobj_attribute kvmx_attr_period = __ATTR_RW(period_ms);
static struct kobj_attribute kvmx_attr_pages = __ATTR_RW(pages);
static struct kobj_attribute kvmx_attr_enabled = __ATTR_RW(enabled);
static struct kobj_attribute kvmx_attr_sstats = __ATTR_RO(stats);

static struct attribute *kvmx_sampler_attrs[] = {
	&kvmx_attr_period.attr,
	&kvmx_attr_pages.attr,
	&kvmx_attr_enabled.attr,
	&kvmx_attr_sstats.attr,
	NULL,
};

static const struct attribute_group kvmx_sampler_group = {
	.attrs = kvmx_sampler_attrs,
};

/* --- debugfs kvmx/sampler -------------------------------------------------- */

static int kvmx_sampler_show_vm(struct kvmx_vm *vm, void *arg)
{
	struct kvmx_sampler_vm *sv = kvmx_vm_priv(vm, &kvmx_sampler_client);
	struct seq_file *m = arg;
	struct kvmx_sample r;
	unsigned int nidle;
	bool no_tdp;

	if (!sv)
		return 0;
	spin_lock(&kvmx_sampler_result_lock);
	r = sv->last;
	nidle = sv->nidle;
	no_tdp = sv->no_tdp;
	spin_unlock(&kvmx_sampler_result_lock);
	if (no_tdp) {
		seq_printf(m, "%s no-TDP\n", kvmx_vm_name(vm));
		return 0;
	}
	seq_printf(m, "%s %llu %u %u %u %u %u %u %u\n", kvmx_vm_name(vm), r.seq,
		   r.sampled, r.touched,
		   r.sampled ? 1000 * r.touched / r.sampled : 0,
		   r.sampled_2m, r.touched_2m,
		   r.sampled_2m ? 1000 * r.touched_2m / r.sampled_2m : 0, nidle);
	return 0;
}

static int kvmx_sampler_debug_show(struct seq_file *m, void *unused)
{
	seq_puts(m, "vm seq sampled touched permille_4k sampled_2m touched_2m permille_2m idle_regions\n");
	kvmx_registry_lock();
	kvmx_vms_walk_locked(kvmx_sampler_show_vm, m);
	kvmx_registry_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_sampler_debug);

int kvmx_sampler_init(void)
{
	int ret;

	INIT_DELAYED_WORK(&kvmx_sampler_work, kvmx_sampler_tick);
	kvmx_sampler_kobj = kobject_create_and_add("sampler", kvmx_kobj);
	if (!kvmx_sampler_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kvmx_sampler_kobj, &kvmx_sampler_group);
	if (ret)
		goto err;
	ret = kvmx_register_client(&kvmx_sampler_client);
	if (ret)
		goto err;
	if (!IS_ERR_OR_NULL(kvmx_debugfs))
		debugfs_create_file("sampler", 0400, kvmx_debugfs, NULL,
				    &kvmx_sampler_debug_fops);
	return 0;
err:
	kobject_put(kvmx_sampler_kobj);
	return ret;
}

void kvmx_sampler_exit(void)
{
	kobject_put(kvmx_sampler_kobj);
	mutex_lock(&kvmx_sampler_lock);
	kvmx_sampler_forced = false;
	kvmx_sampler_off();
	mutex_unlock(&kvmx_sampler_lock);
	kvmx_unregister_client(&kvmx_sampler_client);
}
