// SPDX-License-Identifier: GPL-2.0
/*
 * Host memory state: high, clear, soft, hard or low, from the share of RAM
 * that is available (MemAvailable). A delayed work polls it; modules hear
 * about changes through a blocking notifier chain.
 *
 * /sys/kernel/kvmx/memstate/
 *   state            current state (read-only)
 *   available_bytes  MemAvailable at the last poll (read-only)
 *   thresholds       "high clear soft hard": lowest per mille of RAM that
 *                    is still that state, strictly decreasing
 *   hysteresis       extra per mille needed to move to a better state
 *   poll_ms          polling period, 10..60000
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "memstate_policy.h"

#define KVMX_POLL_MS_MIN 10
#define KVMX_POLL_MS_MAX 60000

static const char *const kvmx_state_names[MEMSTATE_NR_STATES] = {
	[KVMX_MEM_HIGH] = "high",
	[KVMX_MEM_CLEAR] = "clear",
	[KVMX_MEM_SOFT] = "soft",
	[KVMX_MEM_HARD] = "hard",
	[KVMX_MEM_LOW] = "low",
};

static DEFINE_MUTEX(memstate_lock);	/* cfg, poll_ms, evaluation */
static struct memstate_cfg memstate_cfg;
static unsigned int memstate_poll_ms = 1000;
static int memstate_cur = KVMX_MEM_HIGH;
static u64 memstate_available;
static struct kobject *memstate_kobj;
static BLOCKING_NOTIFIER_HEAD(memstate_chain);
static void memstate_poll(struct work_struct *work);
static DECLARE_DELAYED_WORK(memstate_work, memstate_poll);

enum kvmx_mem_state kvmx_memstate(void)
{
	return READ_ONCE(memstate_cur);
}
EXPORT_SYMBOL_GPL(kvmx_memstate);

void kvmx_memstate_info(u64 *available, u64 *total, u64 *high_floor)
{
	u64 t = (u64)totalram_pages() << PAGE_SHIFT;

	mutex_lock(&memstate_lock);
	*available = memstate_available;
	*high_floor = div_u64(t * memstate_cfg.limit[0], 1000);
	mutex_unlock(&memstate_lock);
	*total = t;
}
EXPORT_SYMBOL_GPL(kvmx_memstate_info);

const char *kvmx_memstate_name(enum kvmx_mem_state state)
{
	if ((unsigned int)state >= MEMSTATE_NR_STATES)
		return "invalid";
	return kvmx_state_names[state];
}
EXPORT_SYMBOL_GPL(kvmx_memstate_name);

int kvmx_memstate_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&memstate_chain, nb);
}
EXPORT_SYMBOL_GPL(kvmx_memstate_register_notifier);

int kvmx_memstate_unregister_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&memstate_chain, nb);
}
EXPORT_SYMBOL_GPL(kvmx_memstate_unregister_notifier);

static void memstate_evaluate(void)
{
	struct kvmx_memstate_event ev;
	int next;

	mutex_lock(&memstate_lock);
	ev.available_bytes = (u64)si_mem_available() << PAGE_SHIFT;
	ev.total_bytes = (u64)totalram_pages() << PAGE_SHIFT;
	WRITE_ONCE(memstate_available, ev.available_bytes);
	ev.old_state = memstate_cur;
	next = memstate_next(&memstate_cfg, memstate_cur, ev.available_bytes,
			     ev.total_bytes);
	ev.new_state = next;
	WRITE_ONCE(memstate_cur, next);
	mutex_unlock(&memstate_lock);

	if (ev.new_state == ev.old_state)
		return;
	pr_info_ratelimited("memory state %s -> %s (available %llu MiB of %llu MiB)\n",
			    kvmx_state_names[ev.old_state],
			    kvmx_state_names[ev.new_state],
			    ev.available_bytes >> 20, ev.total_bytes >> 20);
	blocking_notifier_call_chain(&memstate_chain, ev.new_state, &ev);
}

static void memstate_poll(struct work_struct *work)
{
	memstate_evaluate();
	schedule_delayed_work(&memstate_work,
			      msecs_to_jiffies(READ_ONCE(memstate_poll_ms)));
}

/* Re-evaluate now, after a configuration change. */
static void memstate_kick(void)
{
	mod_delayed_work(system_wq, &memstate_work, 0);
}

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", kvmx_state_names[kvmx_memstate()]);
}

static ssize_t available_bytes_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(memstate_available));
}

static ssize_t thresholds_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct memstate_cfg cfg;

	mutex_lock(&memstate_lock);
	cfg = memstate_cfg;
	mutex_unlock(&memstate_lock);
	return sysfs_emit(buf, "%u %u %u %u\n", cfg.limit[0], cfg.limit[1],
			  cfg.limit[2], cfg.limit[3]);
}

/* Exactly MEMSTATE_NR_LIMITS decimals, one space between each. */
static int memstate_parse_limits(const char *buf, size_t count,
				 struct memstate_cfg *cfg)
{
	u64 v[MEMSTATE_NR_LIMITS];
	int i, ret;

	ret = kvmx_parse_u64s(buf, count, ' ', v, MEMSTATE_NR_LIMITS);
	if (ret)
		return ret;
	for (i = 0; i < MEMSTATE_NR_LIMITS; i++) {
		if (v[i] > MEMSTATE_PERMILLE_MAX)
			return -ERANGE;
		cfg->limit[i] = v[i];
	}
	return 0;
}

static int memstate_parse_hysteresis(const char *buf, size_t count,
				     struct memstate_cfg *cfg)
{
	return kvmx_parse_uint(buf, count, &cfg->hysteresis);
}

/*
 * Apply one sysfs write to a copy of the configuration; install the copy
 * only if it parses and passes the policy's checks, then re-evaluate.
 */
static ssize_t memstate_update(const char *buf, size_t count,
			       int (*parse)(const char *buf, size_t count,
					    struct memstate_cfg *cfg))
{
	struct memstate_cfg cfg;
	int ret;

	mutex_lock(&memstate_lock);
	cfg = memstate_cfg;
	ret = parse(buf, count, &cfg);
	if (!ret)
		ret = memstate_cfg_check(&cfg);
	if (!ret)
		memstate_cfg = cfg;
	mutex_unlock(&memstate_lock);
	if (ret)
		return ret;
	memstate_kick();
	return count;
}

static ssize_t thresholds_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	return memstate_update(buf, count, memstate_parse_limits);
}

static ssize_t hysteresis_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(memstate_cfg.hysteresis));
}

static ssize_t hysteresis_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	return memstate_update(buf, count, memstate_parse_hysteresis);
}

static ssize_t poll_ms_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(memstate_poll_ms));
}

static ssize_t poll_ms_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	unsigned int ms;
	int ret;

	ret = kvmx_parse_uint(buf, count, &ms);
	if (ret)
		return ret;
	if (ms < KVMX_POLL_MS_MIN || ms > KVMX_POLL_MS_MAX)
		return -ERANGE;
	WRITE_ONCE(memstate_poll_ms, ms);
	memstate_kick();
	return count;
}

static struct kobj_attribute memstate_attr_state = __ATTR_RO(state);
static struct kobj_attribute memstate_attr_available =
	__ATTR_RO(available_bytes);
static struct kobj_attribute memstate_attr_thresholds =
	__ATTR_RW_MODE(thresholds, 0644);
static struct kobj_attribute memstate_attr_hysteresis =
	__ATTR_RW_MODE(hysteresis, 0644);
static struct kobj_attribute memstate_attr_poll_ms =
	__ATTR_RW_MODE(poll_ms, 0644);

static struct attribute *memstate_attrs[] = {
	&memstate_attr_state.attr,
	&memstate_attr_available.attr,
	&memstate_attr_thresholds.attr,
	&memstate_attr_hysteresis.attr,
	&memstate_attr_poll_ms.attr,
	NULL,
};

static const struct attribute_group memstate_group = {
	.attrs = memstate_attrs,
};

int kvmx_memstate_init(void)
{
	int ret;

	memstate_cfg = memstate_default_cfg;
	memstate_kobj = kobject_create_and_add("memstate", kvmx_kobj);
	if (!memstate_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(memstate_kobj, &memstate_group);
	if (ret) {
		kobject_put(memstate_kobj);
		return ret;
	}
	/* Know the state before any client asks. */
	memstate_evaluate();
	schedule_delayed_work(&memstate_work,
			      msecs_to_jiffies(memstate_poll_ms));
	return 0;
}

void kvmx_memstate_exit(void)
{
	/* Removing the files waits for writers that may kick the work. */
	sysfs_remove_group(memstate_kobj, &memstate_group);
	cancel_delayed_work_sync(&memstate_work);
	kobject_put(memstate_kobj);
}
