/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmx_core's KSM hook: the interface of the module that supplies page keys.
 *
 * While a policy is registered, ksmd's calls to memcmp_pages() order pages
 * by (domain, class, content) instead of content alone, and two pages are
 * equal only if key and content are. A page of an attached VM gets its key
 * from the policy; every other page gets key {0, 0}: stock KSM behaviour.
 * A KSM page keeps the key of the page it was made from.
 *
 * Every callback runs in ksmd (start_scan in a tracepoint in ksmd) under
 * rcu_read_lock() with no other lock held: it must not sleep.
 */
#ifndef _KVMX_KSM_H
#define _KVMX_KSM_H

#include <linux/types.h>

struct kvmx_vm;

/* Rows of the per-class statistics in debugfs (kvmx/ksm_classes). */
#define KVMX_KSM_STAT_CLASSES	64

/* Most sub-blocks the checksum of a page is split into. */
#define KVMX_KSM_MAX_SUBBLOCKS	16

struct kvmx_ksm_key {
	u32 domain;
	u32 class;
	u16 stat_class;	/* statistics row, < KVMX_KSM_STAT_CLASSES */
	bool protect;	/* never equal to anything; ordered by page */
};

/* A guest page as ksmd sees it. */
struct kvmx_ksm_page {
	struct kvmx_vm *vm;
	unsigned long hva;	/* address in the QEMU process */
	u64 gfn;		/* guest frame, or U64_MAX outside memslots */
};

/* What a policy asks of one KSM pass. */
struct kvmx_ksm_pass {
	/*
	 * Sub-blocks per page the policy wants checksums of: 0 for none,
	 * else a power of two up to KVMX_KSM_MAX_SUBBLOCKS.
	 */
	unsigned int nsub;
	/*
	 * The unique-page filter (core/uniq_policy.h): a VM page that no
	 * other page of its domain matched in the last passes, and whose
	 * content is no KSM page, is reported to KSM as changed. On 6.12 that
	 * keeps it out of both trees: KSM's checksum gate comes before its
	 * stable-tree search.
	 */
	bool hold_unique;
	/*
	 * The class is a page's recent history (write_count, subpage): a
	 * KSM page, which never changes, is compared by domain and content
	 * only, so that a page whose content is already a KSM page finds it
	 * whatever its history.
	 */
	bool ksm_classless;
	/*
	 * The class is a hash of the page's content (checksum): a page the
	 * policy holds no history of (a page of no attached VM, a VM page
	 * outside the memslots such as a ROM QEMU keeps) gets the class its
	 * content gives through hash_class(), so that it meets its twins in
	 * the VMs. Without this flag such a page is class 0.
	 */
	bool content_classes;
};

struct kvmx_ksm_policy {
	const char *name;
	/*
	 * A KSM pass starts (tracepoint context). @seq counts passes since
	 * the hook was installed. Fill in @pass, which comes zeroed.
	 */
	void (*start_scan)(unsigned long seq, struct kvmx_ksm_pass *pass);
	/*
	 * KSM computed the per-pass checksum of @pg; @sub holds one hash per
	 * sub-block, @nsub of them. Called at most once per page per pass,
	 * before the page is compared in that pass.
	 */
	void (*page_checksum)(const struct kvmx_ksm_page *pg, unsigned long seq,
			      const u64 *sub, unsigned int nsub);
	/*
	 * The KSM domain of @pg (optional: 0 without). Called for every page
	 * ksmd checksums; must agree with page_key()'s domain.
	 */
	u32 (*page_domain)(const struct kvmx_ksm_page *pg);
	/* The key of @pg. It must not change between two start_scan calls. */
	void (*page_key)(const struct kvmx_ksm_page *pg, unsigned long seq,
			 struct kvmx_ksm_key *key);
	/*
	 * True once pages of different domains exist. KSM pages whose key is
	 * unknown (merged before the hook was installed, or moved by page
	 * migration since) then never match, instead of counting as {0, 0}.
	 */
	bool (*isolating)(void);
	/*
	 * The class of content whose xxh64 is @hash (required for
	 * content_classes): the class page_key() gives a VM page whose last
	 * checksum saw that content.
	 */
	u32 (*hash_class)(u64 hash);
};

/*
 * Install @policy; -EBUSY if one is installed already. The first
 * registration installs the hook (ftrace on memcmp_pages, a kprobe on
 * xxh64, KSM tracepoints) and the last unregistration removes it.
 */
int kvmx_ksm_register_policy(const struct kvmx_ksm_policy *policy);
void kvmx_ksm_unregister_policy(const struct kvmx_ksm_policy *policy);

/*
 * Keys of pages may have changed in mid-pass (a VM moved to another
 * domain): ksmd must not use keys it looked up before.
 */
void kvmx_ksm_keys_changed(void);

/*
 * Break every KSM sharing of the mergeable memory of @vm's QEMU process
 * (guest memory, firmware tables, ROMs): each page gets a private
 * copy, for instance after its domain changed. May sleep; call from a
 * sysfs handler of the VM or a client callback.
 */
int kvmx_ksm_unmerge_vm(struct kvmx_vm *vm);

#endif /* _KVMX_KSM_H */
