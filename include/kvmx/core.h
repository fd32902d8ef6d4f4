/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmx_core: the interface feature modules use.
 *
 * A VM is a struct kvm that kvmx_core holds a reference to, named like KVM's
 * own debugfs entry: "<pid>-<fd>" of the QEMU process and its VM file
 * descriptor. Feature modules register a client to hear about attach and
 * detach and to add attributes to /sys/kernel/kvmx/vms/<pid>-<fd>/.
 */
#ifndef _KVMX_CORE_H
#define _KVMX_CORE_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/sysfs.h>

struct kvm;
struct kobject;
struct dentry;
struct kvm_memory_slot;
struct kvmx_vm;

/* At most this many clients (feature modules) at once. */
#define KVMX_MAX_CLIENTS 8

struct kvmx_client {
	const char *name;
	/* Added to every VM's sysfs directory while the client is registered. */
	const struct attribute_group *vm_group;
	/*
	 * Called with the registry lock held, for every VM attached while the
	 * client is registered (including those present at registration).
	 * May sleep. A non-zero return keeps the client off that VM.
	 */
	int (*attach)(struct kvmx_vm *vm);
	/* The reverse of attach; also called at client unregistration. */
	void (*detach)(struct kvmx_vm *vm);

	/* Private to kvmx_core. */
	struct list_head node;
	int slot;
};

int kvmx_register_client(struct kvmx_client *client);
void kvmx_unregister_client(struct kvmx_client *client);

/* Per-VM data slot of a client, set in its attach callback. */
void *kvmx_vm_priv(struct kvmx_vm *vm, const struct kvmx_client *client);
void kvmx_vm_set_priv(struct kvmx_vm *vm, const struct kvmx_client *client,
		      void *priv);

/* The VM a per-VM sysfs attribute belongs to. */
struct kvmx_vm *kvmx_vm_from_kobj(struct kobject *kobj);

/*
 * Valid while the VM is attached, i.e. inside client callbacks and sysfs
 * handlers of the VM's directory.
 */
struct kvm *kvmx_vm_kvm(struct kvmx_vm *vm);
const char *kvmx_vm_name(struct kvmx_vm *vm);
pid_t kvmx_vm_pid(struct kvmx_vm *vm);

/*
 * Walk the user memslots (address space 0) that have a userspace address,
 * under the VM's SRCU read lock. The callback must not sleep; a non-zero
 * return stops the walk and is returned.
 */
typedef int (*kvmx_memslot_cb_t)(struct kvmx_vm *vm,
			       const struct kvm_memory_slot *slot, void *arg);
int kvmx_vm_walk_memslots(struct kvmx_vm *vm, kvmx_memslot_cb_t fn,
			  void *arg);
/* Bytes of guest memory in writable user memslots. */
u64 kvmx_vm_memory_bytes(struct kvmx_vm *vm);

/*
 * Memory advice on guest RAM, carried out by kvmxd with process_madvise(2)
 * on the QEMU process (core/advice.c, /dev/kvmx_advice). @advice is
 * MADV_PAGEOUT, MADV_COLD (on one 4 KiB page of a huge page, it splits the
 * huge page) or MADV_COLLAPSE; [hva, hva + len) is page aligned and inside
 * one writable memslot, else -EINVAL. Refused at once with -ENOTCONN while
 * kvmxd is not running, -EBUSY while KVMX_ADVICE_MAX_IN_FLIGHT requests
 * are outstanding, -ESRCH once the VM is going away.
 *
 * kvmx_vm_advise_start() queues one request and returns a handle, or an
 * error pointer; it does not sleep beyond an allocation. Then:
 *   kvmx_advice_result()  bytes advised or -errno, -EINPROGRESS until known
 *   kvmx_advice_wait()    sleeps until the result is known, at most
 *                         @timeout_ms; then -ETIMEDOUT, and a request not
 *                         yet read by kvmxd is dropped
 *   kvmx_advice_put()     releases the handle (a request not yet read is
 *                         dropped); call it exactly once
 * A request whose VM detaches fails with -ESRCH; when kvmxd exits, with
 * -ENOTCONN. kvmx_vm_advise() is start, wait KVMX_ADVICE_TIMEOUT_MS, put.
 */
#define KVMX_ADVICE_TIMEOUT_MS	5000
struct kvmx_advice;
/* kvmxd holds the advice channel now (it also applies per-VM policy). */
bool kvmx_advice_daemon_connected(void);
struct kvmx_advice *kvmx_vm_advise_start(struct kvmx_vm *vm, unsigned long hva,
					 u64 len, int advice);
long kvmx_advice_result(const struct kvmx_advice *adv);
long kvmx_advice_wait(struct kvmx_advice *adv, unsigned int timeout_ms);
void kvmx_advice_put(struct kvmx_advice *adv);
long kvmx_vm_advise(struct kvmx_vm *vm, unsigned long hva, u64 len,
		    int advice);

/*
 * Host page-out of guest memory: MADV_PAGEOUT, the kernel's own reclaim,
 * on the host mappings of guest frames [gfn, gfn + npages) of writable
 * memslots, through kvmxd: one request per run of guest memory in one
 * memslot, waiting at most KVMX_ADVICE_TIMEOUT_MS. Process context; may
 * sleep. 0, -ENOTCONN without kvmxd (at once), -EBUSY when the channel is
 * full, -ETIMEDOUT, -ESRCH once the VM's process is gone, or the first
 * error madvise reported.
 */
int kvmx_vm_pageout(struct kvmx_vm *vm, u64 gfn, u64 npages);
/* Resident anonymous and shmem memory of the VM's process, in bytes. */
u64 kvmx_vm_resident_bytes(struct kvmx_vm *vm);

/*
 * Access sampler. While at least one user holds it, every period each
 * attached VM gets `pages` random guest pages unmapped from its NPT/EPT
 * tables, and the pages the guest touches again are counted.
 */
struct kvmx_sample {
	u64 seq;		/* periods completed */
	u32 sampled;		/* 4 KiB pages sampled in the last period */
	u32 touched;		/* of them touched again */
	u32 sampled_2m;		/* distinct 2 MiB regions among the samples */
	u32 touched_2m;		/* of them touched again anywhere */
};

int kvmx_sampler_get(void);
void kvmx_sampler_put(void);
/*
 * The last full period of @vm: -ENODATA before the first, -EOPNOTSUPP
 * without TDP. Safe in sysfs handlers of the VM's directory.
 */
int kvmx_sampler_result(struct kvmx_vm *vm, struct kvmx_sample *out);
/*
 * 2 MiB regions (first gfn of each) that recent periods sampled and saw
 * untouched, newest first; a region touched since is dropped. Returns how
 * many were written to @gfns, at most @max.
 */
int kvmx_sampler_idle_regions(struct kvmx_vm *vm, u64 *gfns, unsigned int max);
/* Sampling period and pages per VM (the sampler's sysfs knobs). */
void kvmx_sampler_config(unsigned int *period_ms, unsigned int *pages);
int kvmx_sampler_set_config(unsigned int period_ms, unsigned int pages);

/* Host memory states, from plenty to scarce. */
enum kvmx_mem_state {
	KVMX_MEM_HIGH,
	KVMX_MEM_CLEAR,
	KVMX_MEM_SOFT,
	KVMX_MEM_HARD,
	KVMX_MEM_LOW,
};

struct kvmx_memstate_event {
	enum kvmx_mem_state old_state;
	enum kvmx_mem_state new_state;
	u64 available_bytes;
	u64 total_bytes;
};

enum kvmx_mem_state kvmx_memstate(void);
/*
 * At the last poll: available and total bytes, and the available bytes
 * below which the state is no longer high.
 */
void kvmx_memstate_info(u64 *available, u64 *total, u64 *high_floor);
const char *kvmx_memstate_name(enum kvmx_mem_state state);
/*
 * Blocking notifier chain: called from process context on every state
 * change with action = new state and data = struct kvmx_memstate_event.
 */
int kvmx_memstate_register_notifier(struct notifier_block *nb);
int kvmx_memstate_unregister_notifier(struct notifier_block *nb);

/*
 * sysfs input: every kvmx knob parses what is written to it with these.
 * They read exactly @count bytes of @buf, the count a store gets, and
 * allow one trailing newline and nothing else: a NUL, a blank, a sign or
 * "0x" is malformed. Numbers are decimal, leading zeros included ("010" is
 * 10). 0, -EINVAL for malformed input or -ERANGE for a value too large for
 * the result, which is written only on success. The grammar is in
 * core/knob_parse.h.
 */
int kvmx_parse_u64(const char *buf, size_t count, u64 *v);
int kvmx_parse_uint(const char *buf, size_t count, unsigned int *v);
/* Bytes: a number, optionally followed by K, M, G or T (or k, m, g, t). */
int kvmx_parse_bytes(const char *buf, size_t count, u64 *v);
/* Exactly @n numbers, separated by one @sep each. */
int kvmx_parse_u64s(const char *buf, size_t count, char sep, u64 *v,
		    unsigned int n);
/*
 * A decimal fraction with at most @decimals digits after the point, in
 * units of 10^-@decimals ("0.75" is 750 with three); "0." is malformed.
 */
int kvmx_parse_fixed(const char *buf, size_t count, unsigned int decimals,
		     u64 *v);
/* 1, y, Y or on; 0, n, N or off. */
int kvmx_parse_bool(const char *buf, size_t count, bool *v);
/* The index of the one of the @n @words that @buf is exactly, or -EINVAL. */
int kvmx_parse_word(const char *buf, size_t count, const char *const *words,
		    unsigned int n);

/* /sys/kernel/kvmx: feature modules add their global knobs below it. */
struct kobject *kvmx_sysfs_root(void);

/* /sys/kernel/debug/kvmx, or an error pointer if debugfs is unavailable. */
struct dentry *kvmx_debugfs_root(void);

#endif /* _KVMX_CORE_H */
