// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_cmd: classification-based memory deduplication (CMD) for KSM, and
 * KSM isolation domains between VMs.
 *
 * kvmx_core's KSM hook asks us for the key of every guest page ksmd
 * compares: (domain, class). Pages of different keys are never compared by
 * content. The class comes from the classifier chosen in
 * /sys/kernel/kvmx/ksm_cmd/classifier; the change history it needs comes
 * from KSM's own per-pass checksum, which the hook hands us per sub-block.
 * Knob changes take effect at the start of the next KSM pass, so that keys
 * stay fixed for a whole pass.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kobject.h>
#include <linux/kvm_host.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <kvmx/core.h>
#include <kvmx/ksm.h>
#include "cmd_policy.h"

/* Page records come in chunks of this many consecutive guest frames. */
#define CMD_CHUNK_SHIFT	4
#define CMD_CHUNK_PAGES	(1U << CMD_CHUNK_SHIFT)
#define CMD_CHUNK_BYTES	(CMD_CHUNK_PAGES * sizeof(struct cmd_page))
#define CMD_MAX_DOMAIN	65535

struct cmd_vm {
	struct xarray chunks;	/* gfn >> CMD_CHUNK_SHIFT -> cmd_page[] */
	struct cmd_ranges ram;	/* guest memory, for the address classifier */
	u32 domain;
	/*
	 * Set from a domain move until an unmerge of the VM completes (one
	 * interrupted by a signal leaves it set): meanwhile the VM's pages
	 * merge with nothing, and the next write of ksm_domain, even of the
	 * same value, runs the unmerge again. Written under cmd_domain_lock.
	 */
	bool unmerging;
	/*
	 * Held from attach, while kvmxd runs, until ksm_domain is written
	 * (kvmxd writes it from the VM's policy) or attach_hold_ms has
	 * passed: meanwhile the VM's pages merge with nothing, so that a VM
	 * configured into a domain never shares a page in domain 0 first.
	 * Without kvmxd nobody would configure it: no hold. A VM that
	 * attached before kvmxd started is configured by kvmxd's first scan,
	 * which moves it, unmerging what it shared. Jiffies; 0 once released.
	 * Released under cmd_domain_lock; expiry is judged by the time of
	 * the pass start, so that a page's key stays fixed for a pass.
	 */
	unsigned long held_until;
	atomic_long_t nchunks;
	atomic_long_t tracked;	/* pages with a record */
};

static DEFINE_SPINLOCK(cmd_lock);	/* cmd_pending */
static struct cmd_params cmd_pending = {
	.classifier = CMD_CHECKSUM, .classes = 8, .subblocks = 8, .history = 4,
	.unique_filter = true,
};
static DEFINE_MUTEX(cmd_domain_lock);
static bool cmd_isolating;

#define CMD_MAX_HOLD_MS	60000
static unsigned int cmd_hold_ms = 2000;	/* attach_hold_ms */
static unsigned long cmd_pass_jiffies;	/* ksmd: when this pass began */

/* Used by ksmd only: published at each pass start. */
static struct cmd_params cmd_active = {
	.classifier = CMD_CHECKSUM, .classes = 8, .subblocks = 8, .history = 4,
	.unique_filter = true,
};
static struct cmd_wc_map cmd_wc;
static u64 cmd_counts[CMD_MAX_HISTORY + 1];

static atomic_long_t cmd_chunks_total = ATOMIC_LONG_INIT(0);
static atomic_long_t cmd_tracked_total = ATOMIC_LONG_INIT(0);
static u64 cmd_nomem;
static u64 cmd_domain_moves;

static struct kvmx_client cmd_client;
static struct dentry *cmd_debugfs;

/* --- per-page records ------------------------------------------------------ */

static struct cmd_page *cmd_page_find(struct cmd_vm *cv, u64 gfn)
{
	struct cmd_page *chunk;

	if (gfn == U64_MAX)
		return NULL;
	chunk = xa_load(&cv->chunks, gfn >> CMD_CHUNK_SHIFT);
	return chunk ? &chunk[gfn & (CMD_CHUNK_PAGES - 1)] : NULL;
}

static struct cmd_page *cmd_page_get(struct cmd_vm *cv, u64 gfn)
{
	unsigned long idx = gfn >> CMD_CHUNK_SHIFT;
	struct cmd_page *chunk, *old;

	chunk = xa_load(&cv->chunks, idx);
	if (chunk)
		return &chunk[gfn & (CMD_CHUNK_PAGES - 1)];
	/* In ksmd under rcu_read_lock(): no sleeping allocations. */
	chunk = kzalloc(CMD_CHUNK_BYTES, GFP_NOWAIT | __GFP_NOWARN);
	if (!chunk)
		goto nomem;
	old = xa_cmpxchg(&cv->chunks, idx, NULL, chunk,
			 GFP_NOWAIT | __GFP_NOWARN);
	if (old) {
		kfree(chunk);
		if (xa_is_err(old))
			goto nomem;
		chunk = old;
	} else {
		atomic_long_inc(&cv->nchunks);
		atomic_long_inc(&cmd_chunks_total);
	}
	return &chunk[gfn & (CMD_CHUNK_PAGES - 1)];
nomem:
	cmd_nomem++;
	return NULL;
}

/* --- the policy --------------------------------------------------------- */

static void cmd_start_scan(unsigned long seq, struct kvmx_ksm_pass *pass)
{
	struct cmd_params p;

	spin_lock(&cmd_lock);
	p = cmd_pending;
	spin_unlock(&cmd_lock);
	if (p.classifier == CMD_WRITE_COUNT) {
		cmd_wc_boundaries(cmd_counts, p.history, p.classes, &cmd_wc);
		memset(cmd_counts, 0, sizeof(cmd_counts));
	}
	cmd_active = p;
	WRITE_ONCE(cmd_pass_jiffies, jiffies);
	pass->nsub = cmd_subblocks_needed(&p);
	pass->hold_unique = p.unique_filter;
	pass->ksm_classless = p.classifier == CMD_WRITE_COUNT ||
			      p.classifier == CMD_SUBPAGE;
	pass->content_classes = p.classifier == CMD_CHECKSUM;
}

static void cmd_page_checksum(const struct kvmx_ksm_page *pg,
			      unsigned long seq, const u64 *sub,
			      unsigned int nsub)
{
	struct cmd_vm *cv = kvmx_vm_priv(pg->vm, &cmd_client);
	struct cmd_page *rec;
	unsigned int changes;
	bool fresh;

	/* Checksums for the unique-page filter alone need no record. */
	if (!cv || pg->gfn == U64_MAX || !cmd_subblocks_needed(&cmd_active))
		return;
	rec = cmd_page_get(cv, pg->gfn);
	if (!rec)
		return;
	fresh = !rec->valid;
	changes = cmd_page_update(rec, &cmd_active, sub, nsub, seq);
	if (fresh) {
		atomic_long_inc(&cv->tracked);
		atomic_long_inc(&cmd_tracked_total);
	}
	if (changes <= CMD_MAX_HISTORY)
		cmd_counts[changes]++;
}

/* Held (see struct cmd_vm), as of the start of this pass. */
static bool cmd_held(const struct cmd_vm *cv)
{
	unsigned long until = READ_ONCE(cv->held_until);

	return until && time_before(READ_ONCE(cmd_pass_jiffies), until);
}

static void cmd_page_key(const struct kvmx_ksm_page *pg, unsigned long seq,
			 struct kvmx_ksm_key *key)
{
	struct cmd_vm *cv = kvmx_vm_priv(pg->vm, &cmd_client);
	const struct cmd_page *rec = NULL;

	if (!cv)
		return;
	key->domain = READ_ONCE(cv->domain);
	/* Pairs with ksm_domain_store(): a new domain comes with the flag. */
	smp_rmb();
	if (READ_ONCE(cv->unmerging) || cmd_held(cv)) {
		key->protect = true;
		return;
	}
	if (cmd_active.classifier == CMD_NONE)
		return;
	if (cmd_active.classifier == CMD_ADDRESS) {
		key->class = cmd_page_class(&cmd_active, &cmd_wc, NULL,
					    cmd_ranges_offset(&cv->ram, pg->gfn),
					    cv->ram.total);
	} else {
		rec = cmd_page_find(cv, pg->gfn);
		key->class = cmd_page_class(&cmd_active, &cmd_wc, rec, pg->gfn,
					    0);
	}
	key->stat_class = key->class % KVMX_KSM_STAT_CLASSES;
}

static u32 cmd_page_domain(const struct kvmx_ksm_page *pg)
{
	struct cmd_vm *cv = kvmx_vm_priv(pg->vm, &cmd_client);

	return cv ? READ_ONCE(cv->domain) : 0;
}

static bool cmd_is_isolating(void)
{
	return READ_ONCE(cmd_isolating);
}

static const struct kvmx_ksm_policy cmd_policy = {
	.name = "ksm_cmd",
	.start_scan = cmd_start_scan,
	.page_checksum = cmd_page_checksum,
	.page_key = cmd_page_key,
	.page_domain = cmd_page_domain,
	.isolating = cmd_is_isolating,
	.hash_class = cmd_hash_class,
};

/* --- per-VM sysfs: ksm_domain, ksm_tracked_pages ------------------------ */

static struct cmd_vm *cmd_vm_of(struct kobject *kobj)
{
	return kvmx_vm_priv(kvmx_vm_from_kobj(kobj), &cmd_client);
}

static ssize_t ksm_domain_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct cmd_vm *cv = cmd_vm_of(kobj);

	return sysfs_emit(buf, "%u\n", cv ? READ_ONCE(cv->domain) : 0);
}

static ssize_t ksm_domain_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	struct kvmx_vm *vm = kvmx_vm_from_kobj(kobj);
	struct cmd_vm *cv = kvmx_vm_priv(vm, &cmd_client);
	unsigned int domain;
	int ret;

	ret = kvmx_parse_uint(buf, count, &domain);
	if (ret)
		return ret;
	if (domain > CMD_MAX_DOMAIN)
		return -ERANGE;
	if (!cv)
		return -ENODEV;
	mutex_lock(&cmd_domain_lock);
	if (domain == READ_ONCE(cv->domain) && !cv->unmerging) {
		/* Configured: a held VM may merge in its domain now. */
		if (READ_ONCE(cv->held_until)) {
			WRITE_ONCE(cv->held_until, 0);
			kvmx_ksm_keys_changed();
		}
		mutex_unlock(&cmd_domain_lock);
		return count;
	}
	if (domain != READ_ONCE(cv->domain)) {
		if (domain)
			WRITE_ONCE(cmd_isolating, true);
		WRITE_ONCE(cv->unmerging, true);
		/*
		 * Unmergeable first: whoever reads the new domain reads the
		 * flag too (the smp_rmb() in cmd_page_key()).
		 */
		smp_wmb();
		WRITE_ONCE(cv->domain, domain);
		cmd_domain_moves++;
	}
	kvmx_ksm_keys_changed();
	/*
	 * From now on the VM's pages carry the new domain; what it shares
	 * under the old one is broken up, and once that is done KSM merges
	 * it again inside the new domain. A signal stops the unmerge
	 * (-ERESTARTSYS, or -EINTR to the writer): the VM stays unmergeable
	 * and a restarted write finishes the job.
	 */
	ret = kvmx_ksm_unmerge_vm(vm);
	if (!ret) {
		WRITE_ONCE(cv->held_until, 0);
		WRITE_ONCE(cv->unmerging, false);
		kvmx_ksm_keys_changed();
	}
	mutex_unlock(&cmd_domain_lock);
	if (ret) {
		if (ret != -ERESTARTSYS)
			pr_warn_ratelimited("VM %s: unmerging for domain %u failed (%d)\n",
					    kvmx_vm_name(vm), domain, ret);
		return ret;
	}
	pr_info("VM %s moved to KSM domain %u\n", kvmx_vm_name(vm), domain);
	return count;
}

static ssize_t ksm_held_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct cmd_vm *cv = cmd_vm_of(kobj);
	unsigned long until = cv ? READ_ONCE(cv->held_until) : 0;

	/* As the next pass will see it. */
	return sysfs_emit(buf, "%d\n", until && time_before(jiffies, until));
}

static ssize_t ksm_tracked_pages_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct cmd_vm *cv = cmd_vm_of(kobj);

	return sysfs_emit(buf, "%ld\n", cv ? atomic_long_read(&cv->tracked) : 0);
}

static struct kobj_attribute cmd_attr_domain =
	__ATTR_RW_MODE(ksm_domain, 0600);
static struct kobj_attribute cmd_attr_tracked =
	__ATTR_RO_MODE(ksm_tracked_pages, 0400);
static struct kobj_attribute cmd_attr_held = __ATTR_RO_MODE(ksm_held, 0400);

static struct attribute *cmd_vm_attrs[] = {
	&cmd_attr_domain.attr,
	&cmd_attr_held.attr,
	&cmd_attr_tracked.attr,
	NULL,
};

static const struct attribute_group cmd_vm_group = {
	.attrs = cmd_vm_attrs,
};

/* --- attach / detach ------------------------------------------------------ */

static int cmd_ram_slot(struct kvmx_vm *vm, const struct kvm_memory_slot *slot,
			void *arg)
{
	/* Read-only slots are ROMs and flash, not memory. */
	if (!(slot->flags & KVM_MEM_READONLY))
		cmd_ranges_add(arg, slot->base_gfn, slot->npages);
	return 0;
}

static int cmd_attach(struct kvmx_vm *vm)
{
	struct cmd_vm *cv = kzalloc(sizeof(*cv), GFP_KERNEL);

	if (!cv)
		return -ENOMEM;
	xa_init(&cv->chunks);
	atomic_long_set(&cv->nchunks, 0);
	atomic_long_set(&cv->tracked, 0);
	/* Memslots added later (hotplug) count from the next attach. */
	kvmx_vm_walk_memslots(vm, cmd_ram_slot, &cv->ram);
	if (READ_ONCE(cmd_hold_ms) && kvmx_advice_daemon_connected())
		cv->held_until = (jiffies +
				  msecs_to_jiffies(READ_ONCE(cmd_hold_ms))) | 1;
	kvmx_vm_set_priv(vm, &cmd_client, cv);
	return 0;
}

/* kvmx_core has made the VM unreachable from ksmd before calling this. */
static void cmd_detach(struct kvmx_vm *vm)
{
	struct cmd_vm *cv = kvmx_vm_priv(vm, &cmd_client);
	struct cmd_page *chunk;
	unsigned long idx;

	if (!cv)
		return;
	kvmx_vm_set_priv(vm, &cmd_client, NULL);
	xa_for_each(&cv->chunks, idx, chunk)
		kfree(chunk);
	xa_destroy(&cv->chunks);
	atomic_long_sub(atomic_long_read(&cv->nchunks), &cmd_chunks_total);
	atomic_long_sub(atomic_long_read(&cv->tracked), &cmd_tracked_total);
	kfree(cv);
}

static struct kvmx_client cmd_client = {
	.name = "ksm_cmd",
	.vm_group = &cmd_vm_group,
	.attach = cmd_attach,
	.detach = cmd_detach,
};

/* --- global sysfs: /sys/kernel/kvmx/ksm_cmd/ ------------------------------ */

static struct kobject *cmd_kobj;

static ssize_t classifier_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	enum cmd_classifier c;

	spin_lock(&cmd_lock);
	c = cmd_pending.classifier;
	spin_unlock(&cmd_lock);
	return sysfs_emit(buf, "%s\n", cmd_classifier_name(c));
}

static ssize_t classifier_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	int c = cmd_classifier_parse(buf, count);

	if (c < 0)
		return c;
	spin_lock(&cmd_lock);
	cmd_pending.classifier = c;
	spin_unlock(&cmd_lock);
	return count;
}

/* classes, subblocks, history: numbers checked as a whole. */
static unsigned int *cmd_field(struct cmd_params *p, size_t off)
{
	return (unsigned int *)((char *)p + off);
}

static ssize_t cmd_num_show(size_t off, char *buf)
{
	unsigned int v;

	spin_lock(&cmd_lock);
	v = *cmd_field(&cmd_pending, off);
	spin_unlock(&cmd_lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t cmd_num_store(size_t off, const char *buf, size_t count)
{
	struct cmd_params p;
	unsigned int v;
	int ret;

	ret = kvmx_parse_uint(buf, count, &v);
	if (ret)
		return ret;
	spin_lock(&cmd_lock);
	p = cmd_pending;
	*cmd_field(&p, off) = v;
	ret = cmd_params_check(&p);
	if (!ret)
		cmd_pending = p;
	spin_unlock(&cmd_lock);
	return ret ? ret : count;
}

#define CMD_NUM_ATTR(name)						\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	return cmd_num_show(offsetof(struct cmd_params, name), buf);			\
}									\
static ssize_t name##_store(struct kobject *kobj,			\
			    struct kobj_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	return cmd_num_store(offsetof(struct cmd_params, name), buf,	\
			     count);		\
}									\
static struct kobj_attribute cmd_attr_##name = __ATTR_RW(name)

CMD_NUM_ATTR(classes);
CMD_NUM_ATTR(subblocks);
CMD_NUM_ATTR(history);

static ssize_t unique_filter_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	bool on;

	spin_lock(&cmd_lock);
	on = cmd_pending.unique_filter;
	spin_unlock(&cmd_lock);
	return sysfs_emit(buf, "%d\n", on);
}

static ssize_t unique_filter_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	bool on;
	int ret = kvmx_parse_bool(buf, count, &on);

	if (ret)
		return ret;
	spin_lock(&cmd_lock);
	cmd_pending.unique_filter = on;
	spin_unlock(&cmd_lock);
	return count;
}

static ssize_t attach_hold_ms_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(cmd_hold_ms));
}

static ssize_t attach_hold_ms_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	unsigned int v;
	int ret = kvmx_parse_uint(buf, count, &v);

	if (ret)
		return ret;
	if (v > CMD_MAX_HOLD_MS)
		return -ERANGE;
	/* For VMs attached from now on. */
	WRITE_ONCE(cmd_hold_ms, v);
	return count;
}

static ssize_t metadata_bytes_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  atomic_long_read(&cmd_chunks_total) * CMD_CHUNK_BYTES);
}

static ssize_t tracked_pages_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&cmd_tracked_total));
}

static struct kobj_attribute cmd_attr_classifier = __ATTR_RW(classifier);
static struct kobj_attribute cmd_attr_unique = __ATTR_RW(unique_filter);
static struct kobj_attribute cmd_attr_hold = __ATTR_RW(attach_hold_ms);
static struct kobj_attribute cmd_attr_meta = __ATTR_RO(metadata_bytes);
static struct kobj_attribute cmd_attr_tracked_total = __ATTR_RO(tracked_pages);

static struct attribute *cmd_attrs[] = {
	&cmd_attr_classifier.attr,
	&cmd_attr_classes.attr,
	&cmd_attr_subblocks.attr,
	&cmd_attr_history.attr,
	&cmd_attr_unique.attr,
	&cmd_attr_hold.attr,
	&cmd_attr_meta.attr,
	&cmd_attr_tracked_total.attr,
	NULL,
};

static const struct attribute_group cmd_group = {
	.attrs = cmd_attrs,
};

/* --- debugfs: kvmx/ksm_cmd ------------------------------------------------ */

static int cmd_debug_show(struct seq_file *m, void *unused)
{
	unsigned int v;

	seq_printf(m, "active_classifier %s\nactive_classes %u\n"
		   "active_subblocks %u\nactive_history %u\n",
		   cmd_classifier_name(cmd_active.classifier),
		   cmd_active.classes, cmd_active.subblocks,
		   cmd_active.history);
	seq_printf(m, "metadata_bytes %lu\nchunks %ld\ntracked_pages %ld\n"
		   "nomem %llu\ndomain_moves %llu\nisolating %d\n",
		   atomic_long_read(&cmd_chunks_total) * CMD_CHUNK_BYTES,
		   atomic_long_read(&cmd_chunks_total),
		   atomic_long_read(&cmd_tracked_total), cmd_nomem,
		   cmd_domain_moves, READ_ONCE(cmd_isolating));
	seq_puts(m, "write_count_class_of");
	for (v = 0; v <= CMD_MAX_HISTORY; v++)
		seq_printf(m, " %u", cmd_wc.class_of[v]);
	seq_puts(m, "\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cmd_debug);

static int __init cmd_init(void)
{
	struct dentry *root = kvmx_debugfs_root();
	int ret;

	cmd_kobj = kobject_create_and_add("ksm_cmd", kvmx_sysfs_root());
	if (!cmd_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(cmd_kobj, &cmd_group);
	if (ret)
		goto err_kobj;
	ret = kvmx_register_client(&cmd_client);
	if (ret)
		goto err_kobj;
	ret = kvmx_ksm_register_policy(&cmd_policy);
	if (ret)
		goto err_client;
	if (!IS_ERR_OR_NULL(root))
		cmd_debugfs = debugfs_create_file("ksm_cmd", 0400, root, NULL,
						  &cmd_debug_fops);
	pr_info("loaded\n");
	return 0;

err_client:
	kvmx_unregister_client(&cmd_client);
err_kobj:
	kobject_put(cmd_kobj);
	return ret;
}

static void __exit cmd_exit(void)
{
	debugfs_remove(cmd_debugfs);
	/* The hook first: no callback runs once this returns. */
	kvmx_ksm_unregister_policy(&cmd_policy);
	kvmx_unregister_client(&cmd_client);
	kobject_put(cmd_kobj);
	pr_info("unloaded\n");
}

module_init(cmd_init);
module_exit(cmd_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmx ksm_cmd: classification-based KSM and isolation domains");
MODULE_SOFTDEP("pre: kvmx_core");
