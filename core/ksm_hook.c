// SPDX-License-Identifier: GPL-2.0
/*
 * The KSM hook: ksmd orders pages by (domain, class, content).
 *
 * KSM's stable and unstable trees order pages with memcmp_pages(); the tree
 * walks themselves are inlined into ksmd. An ftrace IPMODIFY hook sends
 * ksmd's calls (and only ksmd's) to kvmx_ksm_memcmp_pages(), which compares
 * the keys a policy module supplies before it reads any content. KSM's
 * per-pass checksum (xxh64() of the page, called from ksmd) is taken over
 * by a return probe on xxh64 for ksmd's page-sized calls: it tells the
 * policy the page's hash (in sub-blocks if asked), and replaces the value
 * with one of KSM's semantics (same content, same value; an all-zero page
 * gives exactly the checksum of the zero page). Tracepoints mark the start of each pass, when keys are
 * published, and record the key of every KSM page KSM makes.
 *
 * page -> VM: an anonymous folio's mapping is the anon_vma of the VMA it was
 * faulted in. A map from anon_vma to VM, built from the mergeable VMAs of the
 * attached VMs' processes, is rebuilt at each pass start and at every attach and
 * detach, and published with RCU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kvm_host.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/tracepoint.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/sort.h>
#include <linux/xarray.h>
#include <linux/xxhash.h>
#include <linux/siphash.h>
#include <linux/hash.h>
#include <linux/random.h>
#include <linux/workqueue.h>
#include <linux/mman.h>
#include <linux/ksm.h>
#include <linux/utsname.h>
#include <linux/jump_label.h>
#include <linux/sched/clock.h>

#include <kvmx/ksm.h>
#include "internal.h"
#include "uniq_policy.h"
#include "kcmp_policy.h"

/* --- state ---------------------------------------------------------------- */

struct kvmx_ksm_slot {
	unsigned long hva;
	unsigned long npages;
	u64 gfn;
};

struct kvmx_ksm_vmmap {
	struct kvmx_vm *vm;
	unsigned int nslots;
	struct kvmx_ksm_slot *slots;
};

struct kvmx_ksm_av {
	unsigned long av;	/* anon_vma address, never dereferenced */
	unsigned long start;	/* of a VMA using it */
	unsigned long lo, end;	/* span of all the VM's VMAs using it */
	unsigned long pgoff;
	unsigned int vmi;	/* index in vms */
};

struct kvmx_ksm_map {
	struct rcu_head rcu;
	unsigned long seq;	/* pass during which it was built */
	unsigned long unmaps;	/* kvmx_ksm_unmaps when it was built */
	unsigned int nvms, navs;
	struct kvmx_ksm_vmmap *vms;
	struct kvmx_ksm_av *avs;
};

/*
 * The recorded key of a KSM page. A record is found by pfn (kvmx_kpages)
 * and, once bound to its stable node, by node (kvmx_knodes): the node is
 * what survives migration, the pfn is where the page was last seen. See
 * "KSM page records" below for the rules.
 */
struct kvmx_kpage {
	unsigned long node;	/* folio->mapping it belongs to */
	unsigned long pfn;	/* in kvmx_kpages there, or ULONG_MAX */
	const void *owner;	/* VM of the page it was made from (statistics) */
	struct kvmx_ksm_key key;
	/* Its content in the unique-page filter: keyed hash, table counted in. */
	u64 uq_hash;
	unsigned long uq_gen;	/* 0: not counted */
	struct rcu_head rcu;
};

struct kvmx_ksm_class_stats {
	u64 calls;		/* hook calls with a page of this class */
	u64 compares;		/* content comparisons */
	u64 bytes;		/* bytes of content compared */
	u64 key_settled;	/* decided by the key alone */
	u64 merges;		/* pages merged into a KSM page */
};

static DEFINE_MUTEX(kvmx_ksm_mutex);	/* registration */
static const struct kvmx_ksm_policy __rcu *kvmx_ksm_pol;
static bool kvmx_ksm_installed;
static struct task_struct *kvmx_ksmd;
static struct kvmx_ksm_map __rcu *kvmx_ksm_map;
/* Unmaps in VM processes that may have freed a mapped anon_vma. */
static atomic_long_t kvmx_ksm_unmaps = ATOMIC_LONG_INIT(0);
static DEFINE_XARRAY(kvmx_kpages);
static DEFINE_XARRAY(kvmx_knodes);
/* Serialises changes to the two indexes; lookups are under RCU. */
static DEFINE_SPINLOCK(kvmx_kpages_lock);
static struct work_struct kvmx_ksm_refresh_work;

/*
 * The record of the KSM page ksmd made last, while KSM has not yet given
 * it a stable node (ksmd only; ULONG_MAX: none). See kvmx_kpending_resolve().
 */
static unsigned long kvmx_kpending = ULONG_MAX;

/* Written by ksmd only. */
static unsigned long kvmx_ksm_seq;
static unsigned int kvmx_ksm_nsub;
static bool kvmx_ksm_classless;
static bool kvmx_ksm_content;
/*
 * The last two pages ksmd found equal, with the key they were compared
 * under and the key generation that key belongs to (kvmx_ksm_gen).
 */
static struct {
	unsigned long pfn[2];
	unsigned long gen;
	struct kvmx_ksm_key key;
	const void *owner;
	bool valid;
} kvmx_ksm_last_equal;

/*
 * ksmd compares the same pages over and over in a pass (the candidate on
 * every level of a search, the nodes near the roots in every search), so
 * their keys are cached: direct-mapped by pfn, valid for one pass, one
 * generation of the page -> VM map and one mapping of the page.
 */
#define KVMX_KC_BITS	13
struct kvmx_kc {
	struct page *page;
	unsigned long mapping;
	unsigned long seq;
	unsigned long gen;
	unsigned long order;
	const void *owner;
	struct kvmx_ksm_key key;
};
static struct kvmx_kc *kvmx_kc;
/* Bumped whenever keys may change in mid-pass (map rebuilt, domain moved). */
static atomic_long_t kvmx_ksm_gen = ATOMIC_LONG_INIT(1);

/* xxh64 of an all-zero page, and of an all-zero sub-block per split. */
static u64 kvmx_ksm_zero_full;
static u64 kvmx_ksm_zero_sub[ilog2(KVMX_KSM_MAX_SUBBLOCKS) + 1];

/* Statistics: written by ksmd, read racily by debugfs. */
static struct kvmx_ksm_class_stats kvmx_ksm_cs[KVMX_KSM_STAT_CLASSES];
static struct {
	u64 passes;
	u64 checksums;		/* page checksums ksmd computed */
	u64 checksums_vm;	/* ... of pages of attached VMs */
	u64 zero_merges;	/* pages merged with the zero page */
	u64 kpages_recorded;
	u64 kpages_unknown;	/* KSM pages compared without a known key */
	u64 nomem;		/* key records lost to allocation failure */
	u64 map_rebuilds;
	u64 unknown_anon;	/* anon pages compared while the map was stale */
	u64 cross_vm;		/* content comparisons between two VMs' pages */
	u64 key_cache_hits;
	u64 kpages_dropped;	/* records of merges KSM undid */
	u64 kpages_moved;	/* records that followed a migrated page */
	u64 kpages_kept;	/* records kept when a stale node was pruned */
	u64 kpages_adopted;	/* records of KSM pages made without the hook */
	u64 stale_keys;		/* new KSM pages whose key changed in flight */
	u64 swapin_passes;	/* unmerges that faulted swapped pages in */
	u64 content_keys;	/* classes read from the content of a page */
	u64 unique_volatile;	/* checksums reported changed: seen once */
	u64 unique_resizes;	/* filter tables swapped in */
	/* With ksm_timing on: ns in the hook, and in the work stock does. */
	u64 ns_memcmp;		/* in ksmd's memcmp_pages() */
	u64 ns_content;		/* ... comparing content */
	u64 ns_checksum;	/* in ksmd's page checksums */
	u64 ns_hash;		/* ... hashing */
} kvmx_ksm_st;
/* debugfs ksm_timing: clock the hook (two clock reads a call, so off). */
static DEFINE_STATIC_KEY_FALSE(kvmx_ksm_timing);

/* The value of @expr, with its time added to kvmx_ksm_st.@ctr if clocked. */
#define kvmx_clocked(ctr, expr) ({					\
	typeof(expr) __ret;						\
	u64 __t;							\
									\
	if (static_branch_unlikely(&kvmx_ksm_timing)) {		\
		__t = local_clock();					\
		__ret = (expr);						\
		kvmx_ksm_st.ctr += local_clock() - __t;			\
	} else {							\
		__ret = (expr);						\
	}								\
	__ret;								\
})

/*
 * The unique-page filter (see uniq_policy.h), when the policy asks for it.
 * The table is ksmd's alone: only ksmd's checksum calls and its pass-start
 * tracepoint touch it. The refresh work sizes it to the pages KSM tracks:
 * it prepares a table in kvmx_uq_next, ksmd swaps it in at a pass start
 * and leaves the one it replaced in kvmx_uq_done, and the work frees that.
 */
struct kvmx_uniq {
	unsigned int bits;
	u32 slots[];
};

static struct kvmx_uniq *kvmx_uq;		/* ksmd only */
static unsigned long kvmx_uq_gen = 1;		/* ksmd only: kvmx_uq's number */
/* The page ksmd checksummed last, which it may merge next (ksmd only). */
static struct {
	unsigned long pfn;
	u64 hash;
	bool valid;
} kvmx_uq_last;
/* Per-boot secret of the slot hash: no one can aim at another's slots. */
static siphash_key_t kvmx_uq_key;
static struct kvmx_uniq *kvmx_uq_next;		/* work -> ksmd */
static DEFINE_MUTEX(kvmx_uq_lock);		/* who prepares kvmx_uq_next */
static struct kvmx_uniq *kvmx_uq_done;		/* ksmd -> work */
/* The table kvmx_uq replaced, read until its entries expire (ksmd only). */
static struct kvmx_uniq *kvmx_uq_prev;
static unsigned long kvmx_uq_swapped;		/* pass kvmx_uq came in */
static unsigned long kvmx_uq_passes;		/* passes counted, resizes too */
static unsigned int kvmx_uq_warm = UNIQ_WINDOW;	/* passes before holding */
static unsigned long kvmx_uq_empty;		/* last pass begun without pages */
static unsigned long kvmx_uq_entries;		/* KSM's rmap items at pass start */
static unsigned int kvmx_uq_bits;		/* size of kvmx_uq, 0 without */
static bool kvmx_uq_want;			/* the policy asks for the filter */

static const char * const kvmx_ksm_tp_names[] = {
	"ksm_start_scan", "ksm_merge_with_ksm_page", "ksm_merge_one_page",
	"ksm_remove_ksm_page",
};

static struct tracepoint *kvmx_ksm_tps[ARRAY_SIZE(kvmx_ksm_tp_names)];

/* --- page -> VM map ------------------------------------------------------- */

static void kvmx_ksm_map_free(struct kvmx_ksm_map *map)
{
	unsigned int i;

	if (!map)
		return;
	for (i = 0; i < map->nvms; i++)
		kfree(map->vms[i].slots);
	kfree(map->vms);
	kfree(map->avs);
	kfree(map);
}

static void kvmx_ksm_map_free_rcu(struct rcu_head *rcu)
{
	kvmx_ksm_map_free(container_of(rcu, struct kvmx_ksm_map, rcu));
}

struct kvmx_ksm_build {
	struct kvmx_ksm_map *map;
	unsigned int vms_cap, avs_cap;
	int err;
};

struct kvmx_ksm_slots_arg {
	struct kvmx_ksm_vmmap *vmm;
	unsigned int cap;
};

static int kvmx_ksm_count_slot(struct kvmx_vm *vm,
			       const struct kvm_memory_slot *slot, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static int kvmx_ksm_copy_slot(struct kvmx_vm *vm,
			      const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_ksm_slots_arg *a = arg;
	struct kvmx_ksm_slot *s;

	if (a->vmm->nslots >= a->cap)
		return 1;
	s = &a->vmm->slots[a->vmm->nslots++];
	s->hva = slot->userspace_addr;
	s->npages = slot->npages;
	s->gfn = slot->base_gfn;
	return 0;
}

static int kvmx_ksm_add_av(struct kvmx_ksm_build *b, unsigned long av,
			   struct vm_area_struct *vma, unsigned int vmi)
{
	struct kvmx_ksm_map *map = b->map;
	struct kvmx_ksm_av *e;

	/* Duplicates are dropped once the list is sorted (kvmx_ksm_rebuild). */
	if (map->navs == b->avs_cap) {
		unsigned int cap = b->avs_cap ? 2 * b->avs_cap : 16;

		e = krealloc_array(map->avs, cap, sizeof(*e), GFP_KERNEL);
		if (!e)
			return -ENOMEM;
		map->avs = e;
		b->avs_cap = cap;
	}
	e = &map->avs[map->navs++];
	e->av = av;
	e->start = vma->vm_start;
	e->lo = vma->vm_start;
	e->end = vma->vm_end;
	e->pgoff = vma->vm_pgoff;
	e->vmi = vmi;
	return 0;
}

static int kvmx_ksm_map_vm(struct kvmx_vm *vm, void *arg)
{
	struct kvmx_ksm_build *b = arg;
	struct kvmx_ksm_map *map = b->map;
	struct kvmx_ksm_slots_arg sa;
	struct kvmx_ksm_vmmap *vmm;
	struct mm_struct *mm = kvmx_vm_mm(vm);
	struct vma_iterator vmi_iter;
	struct vm_area_struct *vma;
	unsigned int vmi, n = 0;
	int ret = 0;

	if (kvmx_vm_released(vm))
		return 0;
	if (map->nvms == b->vms_cap) {
		unsigned int cap = b->vms_cap ? 2 * b->vms_cap : 8;

		vmm = krealloc_array(map->vms, cap, sizeof(*vmm), GFP_KERNEL);
		if (!vmm)
			return -ENOMEM;
		map->vms = vmm;
		b->vms_cap = cap;
	}
	kvmx_vm_walk_memslots(vm, kvmx_ksm_count_slot, &n);
	vmi = map->nvms;
	vmm = &map->vms[vmi];
	vmm->vm = vm;
	vmm->nslots = 0;
	/* Slots added between the count and the copy wait for the next pass. */
	vmm->slots = kcalloc(max(n, 1U), sizeof(*vmm->slots), GFP_KERNEL);
	if (!vmm->slots)
		return -ENOMEM;
	map->nvms++;
	sa.vmm = vmm;
	sa.cap = n;
	kvmx_vm_walk_memslots(vm, kvmx_ksm_copy_slot, &sa);

	if (!mmget_not_zero(mm))
		return 0;
	/*
	 * Every mergeable VMA of the process, not only guest memory: QEMU
	 * also keeps firmware tables and ROMs of the VM in mergeable memory
	 * outside the memslots, and those belong to the VM's domain too.
	 */
	mmap_read_lock(mm);
	vma_iter_init(&vmi_iter, mm, 0);
	for_each_vma(vmi_iter, vma) {
		struct anon_vma *av = READ_ONCE(vma->anon_vma);

		if (!(vma->vm_flags & VM_MERGEABLE) || !av)
			continue;
		ret = kvmx_ksm_add_av(b, (unsigned long)av, vma, vmi);
		if (!ret && av->root != av)
			ret = kvmx_ksm_add_av(b, (unsigned long)av->root, vma,
					      vmi);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static int kvmx_ksm_av_cmp(const void *a, const void *b)
{
	const struct kvmx_ksm_av *x = a, *y = b;

	if (x->av != y->av)
		return x->av < y->av ? -1 : 1;
	if (x->vmi != y->vmi)
		return x->vmi < y->vmi ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Sorted, an anon_vma shared by several VMAs of one VM (the root of a
 * split VMA, say) has adjacent entries: keep the first of each (av, VM),
 * as the lookup only ever uses that one. O(n log n) at every pass start
 * instead of a linear search per VMA.
 */
static void kvmx_ksm_av_dedup(struct kvmx_ksm_map *map)
{
	unsigned int i, n = 0;

	for (i = 0; i < map->navs; i++) {
		if (n && map->avs[n - 1].av == map->avs[i].av &&
		    map->avs[n - 1].vmi == map->avs[i].vmi) {
			struct kvmx_ksm_av *k = &map->avs[n - 1];

			k->lo = min(k->lo, map->avs[i].lo);
			k->end = max(k->end, map->avs[i].end);
			continue;
		}
		map->avs[n++] = map->avs[i];
	}
	map->navs = n;
}

/* Rebuild the page -> VM map. Registry lock held. */
static void kvmx_ksm_rebuild(bool sync)
{
	struct kvmx_ksm_build b = {};
	struct kvmx_ksm_map *old;

	if (!READ_ONCE(kvmx_ksm_installed))
		return;
	b.map = kzalloc(sizeof(*b.map), GFP_KERNEL);
	if (b.map) {
		b.map->seq = READ_ONCE(kvmx_ksm_seq);
		/* Read before the walk: an unmap during it makes the map stale. */
		b.map->unmaps = atomic_long_read(&kvmx_ksm_unmaps);
		b.err = kvmx_vms_walk_locked(kvmx_ksm_map_vm, &b);
		if (b.err) {
			pr_warn_ratelimited("cannot map guest memory for KSM (%d)\n",
					    b.err);
			kvmx_ksm_map_free(b.map);
			b.map = NULL;
		} else {
			sort(b.map->avs, b.map->navs, sizeof(*b.map->avs),
			     kvmx_ksm_av_cmp, NULL);
			kvmx_ksm_av_dedup(b.map);
		}
	}
	/*
	 * Without a new map, keep none: a stale map could name a freed
	 * anon_vma. Pages then get the stale-map treatment (never equal).
	 */
	old = rcu_replace_pointer(kvmx_ksm_map, b.map, true);
	atomic_long_inc(&kvmx_ksm_gen);
	kvmx_ksm_st.map_rebuilds++;
	if (!old)
		return;
	if (sync) {
		synchronize_rcu();
		kvmx_ksm_map_free(old);
	} else {
		call_rcu(&old->rcu, kvmx_ksm_map_free_rcu);
	}
}

static void kvmx_uq_refresh(void);

void kvmx_ksm_vms_changed(void)
{
	/* A detach must not leave the VM reachable: wait for readers. */
	kvmx_ksm_rebuild(true);
	/* A filter table for the new guest memory, ready at the next pass. */
	if (READ_ONCE(kvmx_ksm_installed))
		kvmx_uq_refresh();
}

/*
 * MMU notifier, any context: @vm's process unmaps [start, end). If that
 * overlaps a VMA the map knows, the anon_vma behind it may be freed and
 * reused by another process within this pass, and its pages would take
 * @vm's domain. The map is marked stale at once (lookups of its anon_vmas
 * then say "unknown", which never compares equal) and rebuilt by the work.
 */
void kvmx_ksm_vm_unmapped(struct kvmx_vm *vm, unsigned long start,
			  unsigned long end)
{
	struct kvmx_ksm_map *map;
	bool hit = false;
	unsigned int i;

	rcu_read_lock();
	map = rcu_dereference(kvmx_ksm_map);
	for (i = 0; map && i < map->navs && !hit; i++)
		hit = map->vms[map->avs[i].vmi].vm == vm &&
		      map->avs[i].lo < end && start < map->avs[i].end;
	rcu_read_unlock();
	if (!hit)
		return;
	atomic_long_inc(&kvmx_ksm_unmaps);
	atomic_long_inc(&kvmx_ksm_gen);
	if (READ_ONCE(kvmx_ksm_installed))
		queue_work(system_unbound_wq, &kvmx_ksm_refresh_work);
}

static struct kretprobe kvmx_ksm_krp;

static void kvmx_ksm_refresh(struct work_struct *work)
{
	bool want = READ_ONCE(kvmx_ksm_nsub);

	kvmx_registry_lock();
	kvmx_ksm_rebuild(false);
	kvmx_registry_unlock();
	/*
	 * The xxh64 probe runs on every checksum KSM computes: keep it armed
	 * only while the policy wants checksums. A probe already
	 * unregistered (the hook is going away) is refused harmlessly.
	 */
	if (want && kprobe_disabled(&kvmx_ksm_krp.kp))
		enable_kretprobe(&kvmx_ksm_krp);
	else if (!want && !kprobe_disabled(&kvmx_ksm_krp.kp))
		disable_kretprobe(&kvmx_ksm_krp);
	kvmx_uq_refresh();
}

enum kvmx_page_kind {
	KVMX_PAGE_OTHER,	/* not a page of an attached VM: key {0, 0} */
	KVMX_PAGE_VM,
	KVMX_PAGE_UNKNOWN,	/* anonymous, but the map is not current */
};

static enum kvmx_page_kind kvmx_ksm_lookup(struct folio *folio,
					   struct page *page,
					   unsigned long mapping,
					   struct kvmx_ksm_page *pg)
{
	struct kvmx_ksm_map *map = rcu_dereference(kvmx_ksm_map);
	unsigned long av = mapping & ~PAGE_MAPPING_FLAGS;
	unsigned int lo = 0, hi, i;
	unsigned long index;

	if (!map)
		return KVMX_PAGE_UNKNOWN;
	hi = map->navs;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (map->avs[mid].av < av)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < map->navs && map->avs[i].av == av; i++) {
		const struct kvmx_ksm_av *e = &map->avs[i];
		const struct kvmx_ksm_vmmap *vmm = &map->vms[e->vmi];
		unsigned int s;

		if (kvmx_vm_released(vmm->vm))
			continue;
		if (map->unmaps != atomic_long_read(&kvmx_ksm_unmaps))
			return KVMX_PAGE_UNKNOWN;
		index = folio->index + folio_page_idx(folio, page);
		pg->vm = vmm->vm;
		pg->hva = e->start + ((index - e->pgoff) << PAGE_SHIFT);
		pg->gfn = U64_MAX;
		for (s = 0; s < vmm->nslots; s++) {
			const struct kvmx_ksm_slot *sl = &vmm->slots[s];

			if (pg->hva >= sl->hva &&
			    pg->hva - sl->hva < (sl->npages << PAGE_SHIFT)) {
				pg->gfn = sl->gfn +
					  ((pg->hva - sl->hva) >> PAGE_SHIFT);
				break;
			}
		}
		return KVMX_PAGE_VM;
	}
	if (map->nvms && map->seq != READ_ONCE(kvmx_ksm_seq))
		return KVMX_PAGE_UNKNOWN;
	return KVMX_PAGE_OTHER;
}

/* --- keys ----------------------------------------------------------------- */

/* The key of a page no one vouches for: its own domain, never equal. */
static void kvmx_ksm_key_unknown(struct kvmx_ksm_key *key)
{
	*key = (struct kvmx_ksm_key){ .domain = U32_MAX, .protect = true };
}

/*
 * The key of @page, and in *order the value that orders protected pages:
 * the pfn, or for a KSM page its stable node (which survives migration).
 */

static u64 kvmx_xxh64_buf(const void *buf, size_t len);

/*
 * The class of a page the policy has no history of, under content classes:
 * the one its content gives (a read of the page, cached with the key).
 */
static void kvmx_ksm_content_key(const struct kvmx_ksm_policy *pol,
				 struct page *page, struct kvmx_ksm_key *key)
{
	const void *p;
	u64 hash;

	if (key->protect || !READ_ONCE(kvmx_ksm_content))
		return;
	p = kmap_local_page(page);
	hash = kvmx_xxh64_buf(p, PAGE_SIZE);
	kunmap_local(p);
	key->class = pol->hash_class(hash);
	key->stat_class = key->class % KVMX_KSM_STAT_CLASSES;
	kvmx_ksm_st.content_keys++;
}

static struct kvmx_kpage *kvmx_kpage_find(const struct kvmx_ksm_policy *pol,
					  struct page *page, unsigned long pfn,
					  unsigned long mapping);

static void kvmx_ksm_key_of(const struct kvmx_ksm_policy *pol,
			    struct page *page, struct kvmx_ksm_key *key,
			    unsigned long *order, const void **owner)
{
	struct folio *folio = page_folio(page);
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	unsigned long pfn = page_to_pfn(page);
	struct kvmx_ksm_page pg;
	struct kvmx_kpage *kp;

	*key = (struct kvmx_ksm_key){};
	*order = pfn;
	*owner = NULL;
	switch (mapping & PAGE_MAPPING_FLAGS) {
	case PAGE_MAPPING_KSM:
		*order = mapping;
		kp = kvmx_kpage_find(pol, page, pfn, mapping);
		if (kp) {
			*key = kp->key;
			*owner = kp->owner;
			return;
		}
		kvmx_ksm_st.kpages_unknown++;
		kvmx_ksm_key_unknown(key);
		return;
	case PAGE_MAPPING_ANON:
		switch (kvmx_ksm_lookup(folio, page, mapping, &pg)) {
		case KVMX_PAGE_VM:
			*owner = pg.vm;
			pol->page_key(&pg, kvmx_ksm_seq, key);
			if (key->stat_class >= KVMX_KSM_STAT_CLASSES)
				key->stat_class = KVMX_KSM_STAT_CLASSES - 1;
			if (pg.gfn == U64_MAX)
				kvmx_ksm_content_key(pol, page, key);
			return;
		case KVMX_PAGE_UNKNOWN:
			kvmx_ksm_st.unknown_anon++;
			kvmx_ksm_key_unknown(key);
			return;
		default:
			kvmx_ksm_content_key(pol, page, key);
			return;
		}
	default:
		return;
	}
}

static void kvmx_ksm_key_cached(const struct kvmx_ksm_policy *pol,
				struct page *page, struct kvmx_ksm_key *key,
				unsigned long *order, const void **owner)
{
	unsigned long mapping = (unsigned long)READ_ONCE(page_folio(page)->mapping);
	unsigned long gen = atomic_long_read(&kvmx_ksm_gen);
	struct kvmx_kc *c;

	if (!kvmx_kc) {
		kvmx_ksm_key_of(pol, page, key, order, owner);
		return;
	}
	c = &kvmx_kc[page_to_pfn(page) & ((1UL << KVMX_KC_BITS) - 1)];
	if (c->page == page && c->mapping == mapping &&
	    c->seq == kvmx_ksm_seq && c->gen == gen) {
		*key = c->key;
		*order = c->order;
		*owner = c->owner;
		kvmx_ksm_st.key_cache_hits++;
		return;
	}
	kvmx_ksm_key_of(pol, page, key, order, owner);
	/* Keys that depend on a stale map are not worth keeping. */
	if (key->domain == U32_MAX) {
		c->page = NULL;
		return;
	}
	c->page = page;
	c->mapping = mapping;
	c->seq = kvmx_ksm_seq;
	c->gen = gen;
	c->order = *order;
	c->owner = *owner;
	c->key = *key;
}

/* Forget the cached key of the page at @pfn (it became or left KSM). */
static void kvmx_kc_forget(unsigned long pfn)
{
	if (kvmx_kc)
		kvmx_kc[pfn & ((1UL << KVMX_KC_BITS) - 1)].page = NULL;
}

static void kvmx_uq_ksm_count(struct kvmx_kpage *kp, bool get);

/* --- KSM page records ------------------------------------------------------
 *
 * KSM orders its stable tree by the keys kvmx gives, so a KSM page's key
 * must not change while the page is in the tree. A key is made once, when
 * ksmd makes the page (kvmx_ksm_record(), from the pages it found equal),
 * and kept in a record, first by pfn only: the page has no stable node yet.
 * Once KSM has inserted it (kvmx_kpending_resolve()), the record is bound
 * to the node, the folio->mapping value of the page, and indexed by it too.
 *
 * - Migration moves a KSM page to another pfn with the same node and sends
 *   no tracepoint. A lookup at the new pfn finds the record by node and
 *   moves its pfn index (kpages_moved).
 * - KSM's remove tracepoint gives the pfn of the node it removes. A stale
 *   node is pruned after its page was freed, when the pfn may hold a newer
 *   KSM page already: the record at the pfn is kept when it belongs to the
 *   page there now (kpages_kept).
 * - A record whose pfn index was lost (a migration and a removal before
 *   ksmd looked again) stays in the node index. Stable nodes come from a
 *   slab cache, so the address comes back for a new node, and every new node
 *   is bound through kvmx_kpending_resolve(), which then frees the old
 *   record. A node index entry is thus never the record of another node's
 *   page when a lookup uses it.
 * - A KSM page with no record (merged before the hook was installed) gets
 *   one at first sight, with the key it has then, {0, 0} or its content
 *   class, or none while pages of several domains exist (it then equals
 *   nothing). Its key never changes afterwards.
 *
 * Changes to the indexes take kvmx_kpages_lock. Records are freed after a
 * grace period; ksmd reads them under RCU.
 */

static unsigned long kvmx_knode_idx(unsigned long node)
{
	/* Nodes are 8-byte aligned; mapping adds PAGE_MAPPING_KSM (3). */
	return node >> 3;
}

static bool kvmx_knode_real(unsigned long node)
{
	return (node & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM &&
	       node != PAGE_MAPPING_KSM;
}

/* Take @kp out of both indexes and free it. Locked. */
static void kvmx_kpage_free(struct kvmx_kpage *kp)
{
	lockdep_assert_held(&kvmx_kpages_lock);
	if (kp->pfn != ULONG_MAX) {
		xa_cmpxchg(&kvmx_kpages, kp->pfn, kp, NULL, 0);
		kvmx_kc_forget(kp->pfn);
	}
	if (kvmx_knode_real(kp->node))
		xa_cmpxchg(&kvmx_knodes, kvmx_knode_idx(kp->node), kp, NULL, 0);
	/*
	 * The filter's table is ksmd's: elsewhere (an unmerge through
	 * sysfs, memory hot-remove) the count stays, which only makes
	 * that content look shared.
	 */
	if (current == kvmx_ksmd)
		kvmx_uq_ksm_count(kp, false);
	kfree_rcu(kp, rcu);
}

/*
 * The record at @pfn is not that of the page there (any more): a record
 * bound to a node stays in the node index, its page may have moved; any
 * other is freed. Locked.
 */
static void kvmx_kpage_unlink(struct kvmx_kpage *kp)
{
	lockdep_assert_held(&kvmx_kpages_lock);
	if (kvmx_knode_real(kp->node) &&
	    xa_load(&kvmx_knodes, kvmx_knode_idx(kp->node)) == kp) {
		if (kp->pfn != ULONG_MAX) {
			xa_cmpxchg(&kvmx_kpages, kp->pfn, kp, NULL, 0);
			kvmx_kc_forget(kp->pfn);
			kp->pfn = ULONG_MAX;
		}
		return;
	}
	kvmx_ksm_st.kpages_dropped++;
	kvmx_kpage_free(kp);
}

/* ksmd: bind @kp to its stable node @node. */
static void kvmx_kpage_bind(struct kvmx_kpage *kp, unsigned long node)
{
	unsigned long idx = kvmx_knode_idx(node);
	struct kvmx_kpage *old;

	spin_lock(&kvmx_kpages_lock);
	WRITE_ONCE(kp->node, node);
	old = xa_store(&kvmx_knodes, idx, kp, GFP_NOWAIT | __GFP_NOWARN);
	if (xa_is_err(old)) {
		kvmx_ksm_st.nomem++;
		/* No stale record of a former node at this address may stay. */
		old = xa_erase(&kvmx_knodes, idx);
	}
	/* The record of a node that was freed: this address is reused. */
	if (old && old != kp) {
		old->node = PAGE_MAPPING_KSM;
		kvmx_kpage_free(old);
	}
	spin_unlock(&kvmx_kpages_lock);
}

/* ksmd: a new KSM page has no record (no memory); clear its node's entry. */
static void kvmx_knode_forget(unsigned long node)
{
	struct kvmx_kpage *old;

	spin_lock(&kvmx_kpages_lock);
	old = xa_erase(&kvmx_knodes, kvmx_knode_idx(node));
	if (old) {
		old->node = PAGE_MAPPING_KSM;
		kvmx_kpage_free(old);
	}
	spin_unlock(&kvmx_kpages_lock);
}

/* ksmd: @kp's page (node) is at @pfn now. */
static void kvmx_kpage_move(struct kvmx_kpage *kp, unsigned long pfn)
{
	struct kvmx_kpage *old;

	spin_lock(&kvmx_kpages_lock);
	if (xa_load(&kvmx_knodes, kvmx_knode_idx(kp->node)) != kp)
		goto out;	/* removed meanwhile */
	old = xa_store(&kvmx_kpages, pfn, kp, GFP_NOWAIT | __GFP_NOWARN);
	if (xa_is_err(old)) {
		kvmx_ksm_st.nomem++;
		goto out;	/* found by node again next time */
	}
	if (old && old != kp) {
		/* Its entry is gone already: unlink must not erase ours. */
		old->pfn = ULONG_MAX;
		kvmx_kpage_unlink(old);
	}
	if (kp->pfn != ULONG_MAX && kp->pfn != pfn) {
		xa_cmpxchg(&kvmx_kpages, kp->pfn, kp, NULL, 0);
		kvmx_kc_forget(kp->pfn);
	}
	kp->pfn = pfn;
	kvmx_kc_forget(pfn);
	kvmx_ksm_st.kpages_moved++;
out:
	spin_unlock(&kvmx_kpages_lock);
}

static struct kvmx_kpage *kvmx_kpage_new(unsigned long pfn,
					 const struct kvmx_ksm_key *key,
					 const void *owner);

/*
 * ksmd, under RCU: the record of the KSM page at @pfn whose folio->mapping
 * is @mapping, or NULL.
 */
static struct kvmx_kpage *kvmx_kpage_find(const struct kvmx_ksm_policy *pol,
					  struct page *page, unsigned long pfn,
					  unsigned long mapping)
{
	struct kvmx_kpage *kp = xa_load(&kvmx_kpages, pfn);
	struct kvmx_ksm_key key;

	if (kp) {
		unsigned long node = READ_ONCE(kp->node);

		/*
		 * A record without a stable node vouches only for the page
		 * ksmd is merging now; any other is stale (the merge was
		 * undone).
		 */
		if (node == PAGE_MAPPING_KSM && kvmx_knode_real(mapping) &&
		    pfn == kvmx_kpending) {
			kvmx_kpage_bind(kp, mapping);
			node = mapping;
		}
		if (node == mapping &&
		    (node != PAGE_MAPPING_KSM || pfn == kvmx_kpending))
			return kp;
		if (pfn != kvmx_kpending) {
			spin_lock(&kvmx_kpages_lock);
			if (xa_load(&kvmx_kpages, pfn) == kp)
				kvmx_kpage_unlink(kp);
			spin_unlock(&kvmx_kpages_lock);
		}
	}
	if (!kvmx_knode_real(mapping))
		return NULL;
	kp = xa_load(&kvmx_knodes, kvmx_knode_idx(mapping));
	if (kp && READ_ONCE(kp->node) == mapping) {
		/* The node's page migrated here: its record follows it. */
		kvmx_kpage_move(kp, pfn);
		return kp;
	}
	/* First sight of a KSM page made without the hook. */
	if (pol->isolating && pol->isolating())
		return NULL;
	key = (struct kvmx_ksm_key){};
	kvmx_ksm_content_key(pol, page, &key);
	kp = kvmx_kpage_new(pfn, &key, NULL);
	if (kp) {
		kvmx_kpage_bind(kp, mapping);
		kvmx_ksm_st.kpages_adopted++;
	}
	return kp;
}

/*
 * ksmd: the KSM page recorded last has its stable node by now, or the
 * merge was undone. KSM makes a page a KSM page (the merge tracepoint,
 * where its record is made, with no stable node yet), merges the tree
 * page into it, and inserts it into the stable tree, all in one call of
 * cmp_and_merge_page(); if a step fails it breaks the new KSM page again.
 * Every comparison in that call involves the new page. So at ksmd's next
 * comparison of two other pages, its next checksum, its next new KSM page
 * or the next pass, the outcome is known: the record is bound to the
 * stable node, which survives migration, or dropped. Only a record bound
 * to a node vouches for a page's key; a KSM page that lands on the pfn
 * later has another node, and never takes the record's domain.
 */
static void kvmx_kpending_resolve(void)
{
	unsigned long pfn = kvmx_kpending, mapping;
	struct kvmx_kpage *kp;

	if (pfn == ULONG_MAX)
		return;
	kvmx_kpending = ULONG_MAX;
	mapping = (unsigned long)READ_ONCE(pfn_folio(pfn)->mapping);
	rcu_read_lock();
	kp = xa_load(&kvmx_kpages, pfn);
	if (!kp) {
		rcu_read_unlock();
		/* Made without a record: no former node's may answer for it. */
		if (kvmx_knode_real(mapping))
			kvmx_knode_forget(mapping);
		return;
	}
	if (READ_ONCE(kp->node) != PAGE_MAPPING_KSM) {
		rcu_read_unlock();
		return;
	}
	if (kvmx_knode_real(mapping)) {
		kvmx_kpage_bind(kp, mapping);
		rcu_read_unlock();
		return;
	}
	spin_lock(&kvmx_kpages_lock);
	if (xa_load(&kvmx_kpages, pfn) == kp) {
		kvmx_ksm_st.kpages_dropped++;
		kvmx_kpage_free(kp);
	}
	spin_unlock(&kvmx_kpages_lock);
	rcu_read_unlock();
}

void kvmx_ksm_keys_changed(void)
{
	/* Whoever sees the new generation sees the key change before it. */
	smp_mb__before_atomic();
	atomic_long_inc(&kvmx_ksm_gen);
}
EXPORT_SYMBOL_GPL(kvmx_ksm_keys_changed);

static void kvmx_kcmp_page(struct kcmp_page *c, struct page *page,
			   const struct kvmx_ksm_key *key, unsigned long order)
{
	unsigned long mapping = (unsigned long)READ_ONCE(page_folio(page)->mapping);

	c->pfn = page_to_pfn(page);
	c->zero = is_zero_pfn(c->pfn);
	c->ksm = (mapping & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM;
	c->domain = key->domain;
	c->class = key->class;
	c->protect = key->protect;
	c->order = order;
}

/* memcmp() of two pages that also says how many bytes it looked at. */
static int __kvmx_ksm_content_cmp(struct page *p1, struct page *p2,
				  unsigned int *bytes)
{
	const unsigned long *a = kmap_local_page(p1);
	const unsigned long *b = kmap_local_page(p2);
	unsigned int i, n = PAGE_SIZE / sizeof(long);
	int ret = 0;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			break;
	if (i < n) {
		/* The differing word decides, byte by byte, as memcmp does. */
		ret = memcmp(&a[i], &b[i], sizeof(long));
		*bytes = (i + 1) * sizeof(long);
	} else {
		*bytes = PAGE_SIZE;
	}
	kunmap_local(b);
	kunmap_local(a);
	return ret;
}

static int kvmx_ksm_content_cmp(struct page *p1, struct page *p2,
				unsigned int *bytes)
{
	return kvmx_clocked(ns_content, __kvmx_ksm_content_cmp(p1, p2, bytes));
}

/*
 * ksmd's memcmp_pages(). The keys decide first (kcmp_policy.h): only
 * pages of one domain and class are compared by content, a protected page
 * equals nothing but itself, and a comparison with the shared zero page
 * (KSM's use_zero_pages path, the zero remap of a THP split) is a plain
 * content comparison, whatever the other page's key.
 */
static int __kvmx_ksm_memcmp_pages(struct page *page1, struct page *page2)
{
	const struct kvmx_ksm_policy *pol;
	struct kvmx_ksm_key k1, k2;
	struct kvmx_ksm_class_stats *cs;
	struct kcmp_page c1, c2;
	const void *vm1, *vm2;
	unsigned long o1, o2, gen;
	unsigned int bytes;
	int ret;

	if (is_zero_pfn(page_to_pfn(page1)) || is_zero_pfn(page_to_pfn(page2)))
		return kvmx_ksm_content_cmp(page1, page2, &bytes);
	if (kvmx_kpending != ULONG_MAX && page_to_pfn(page1) != kvmx_kpending &&
	    page_to_pfn(page2) != kvmx_kpending)
		kvmx_kpending_resolve();
	rcu_read_lock();
	pol = rcu_dereference(kvmx_ksm_pol);
	if (!pol) {
		rcu_read_unlock();
		return kvmx_ksm_content_cmp(page1, page2, &bytes);
	}
	/* Read first: the keys below are of this generation or a later one. */
	gen = atomic_long_read_acquire(&kvmx_ksm_gen);
	kvmx_ksm_key_cached(pol, page1, &k1, &o1, &vm1);
	kvmx_ksm_key_cached(pol, page2, &k2, &o2, &vm2);
	rcu_read_unlock();

	cs = &kvmx_ksm_cs[k1.stat_class];
	cs->calls++;
	kvmx_kcmp_page(&c1, page1, &k1, o1);
	kvmx_kcmp_page(&c2, page2, &k2, o2);
	ret = kcmp_keys(&c1, &c2, READ_ONCE(kvmx_ksm_classless));
	if (ret != KCMP_CONTENT) {
		cs->key_settled++;
		WARN_ON_ONCE(!ret && page1 != page2);
		return ret;
	}
	ret = kvmx_ksm_content_cmp(page1, page2, &bytes);
	cs->compares++;
	cs->bytes += bytes;
	if (vm1 && vm2 && vm1 != vm2)
		kvmx_ksm_st.cross_vm++;
	if (!ret) {
		kvmx_ksm_last_equal.pfn[0] = page_to_pfn(page1);
		kvmx_ksm_last_equal.pfn[1] = page_to_pfn(page2);
		kvmx_ksm_last_equal.gen = gen;
		kvmx_ksm_last_equal.key = k1;
		kvmx_ksm_last_equal.owner = vm1 ? vm1 : vm2;
		kvmx_ksm_last_equal.valid = true;
	}
	return ret;
}

static int kvmx_ksm_memcmp_pages(struct page *page1, struct page *page2)
{
	return kvmx_clocked(ns_memcmp, __kvmx_ksm_memcmp_pages(page1, page2));
}

/* --- checksums ------------------------------------------------------------- */

static u64 __kvmx_xxh64_buf(const void *buf, size_t len)
{
	struct xxh64_state st;

	/* The streaming API, not xxh64(): that is where the kprobe sits. */
	xxh64_reset(&st, 0);
	xxh64_update(&st, buf, len);
	return xxh64_digest(&st);
}

static u64 kvmx_xxh64_buf(const void *buf, size_t len)
{
	return kvmx_clocked(ns_hash, __kvmx_xxh64_buf(buf, len));
}

/* KSM keeps its checksums as u32: compare as it does. */
static bool kvmx_ksm_is_zero_sum(u64 sum)
{
	return (u32)sum == (u32)kvmx_ksm_zero_full;
}

/* The checksum KSM sees for a page held with pass tag @tag. */
static u64 kvmx_uq_perturb(u64 sum, unsigned int tag)
{
	sum ^= (tag + 1) * 0x9e3779b97f4a7c15ULL;
	return kvmx_ksm_is_zero_sum(sum) ? sum ^ 1 : sum;
}

/*
 * The unique-page filter's answer for the page-sized checksum @sum of
 * @page, in KSM domain @domain. Every anonymous page ksmd checksums is
 * counted, so that a VM page with a twin elsewhere is seen as shared; only
 * a VM's page (@vm) is ever held back. Pages count against their own
 * domain only, under a keyed hash: whether a page is held back never
 * depends on what another domain holds.
 */
static u64 kvmx_uq_filter(u64 sum, struct page *page, u32 domain, bool vm)
{
	struct kvmx_uniq *uq = kvmx_uq;
	unsigned long pfn = page_to_pfn(page);
	unsigned int tag = 0;
	u32 *slot;
	u64 h;

	kvmx_uq_last.valid = false;
	if (!uq || kvmx_ksm_is_zero_sum(sum))
		return sum;
	h = siphash_2u64((u32)sum, domain, &kvmx_uq_key);
	kvmx_uq_last.pfn = pfn;
	kvmx_uq_last.hash = h;
	kvmx_uq_last.valid = true;
	slot = &uq->slots[uniq_slot(h, uq->bits)];
	if (kvmx_uq_prev)
		uniq_adopt(slot, kvmx_uq_prev->slots[uniq_slot(h,
							kvmx_uq_prev->bits)]);
	switch (uniq_see(slot, hash_long(pfn, 32), kvmx_ksm_seq,
			 vm && kvmx_uq_passes > kvmx_uq_warm, &tag)) {
	case UNIQ_HOLD:
		kvmx_ksm_st.unique_volatile++;
		/* Different in every pass, so KSM sees the page changing. */
		return kvmx_uq_perturb(sum, uniq_tag(kvmx_ksm_seq));
	case UNIQ_KEEP:
		/* What KSM stored at the last hold: unchanged for it. */
		return kvmx_uq_perturb(sum, tag);
	default:
		return sum;
	}
}

/* ksmd: a KSM page with the content hashed @h was made, or went away. */
static void kvmx_uq_ksm_count(struct kvmx_kpage *kp, bool get)
{
	struct kvmx_uniq *uq = kvmx_uq;
	u32 *slot;

	if (!uq || !kp->uq_gen || kp->uq_gen != kvmx_uq_gen)
		return;
	slot = &uq->slots[uniq_slot(kp->uq_hash, uq->bits)];
	if (get)
		uniq_ksm_get(slot);
	else
		uniq_ksm_put(slot);
}

/*
 * The checksum KSM is to see for the page at @input, of which the kernel's
 * xxh64(input, PAGE_SIZE, 0) is @stock: ksmd's page checksum, from the
 * return probe on xxh64 (preemption off).
 */
static u64 __kvmx_ksm_checksum(const void *input, u64 stock)
{
	const struct kvmx_ksm_policy *pol;
	u64 sub[KVMX_KSM_MAX_SUBBLOCKS];
	unsigned int i, nsub, bsize;
	struct kvmx_ksm_page pg;
	struct folio *folio;
	struct page *page;
	unsigned long mapping;
	bool zero = true, vm;
	u32 domain = 0;
	u64 ret;

	kvmx_ksm_st.checksums++;
	kvmx_uq_last.valid = false;
	kvmx_kpending_resolve();
	nsub = READ_ONCE(kvmx_ksm_nsub);
	if (!nsub || !virt_addr_valid(input))
		return stock;
	page = virt_to_page(input);
	folio = page_folio(page);
	mapping = (unsigned long)READ_ONCE(folio->mapping);
	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_ANON)
		return stock;

	rcu_read_lock();
	pol = rcu_dereference(kvmx_ksm_pol);
	vm = pol && kvmx_ksm_lookup(folio, page, mapping, &pg) == KVMX_PAGE_VM;
	if (vm && pol->page_domain)
		domain = pol->page_domain(&pg);
	if (!vm && (!kvmx_uq || nsub == 1)) {
		rcu_read_unlock();
		return kvmx_uq_filter(stock, page, 0, false);
	}
	/* Other pages too, so that equal contents get equal checksums. */
	if (nsub == 1) {
		/* One sub-block is the whole page: the kernel hashed it. */
		sub[0] = stock;
		zero = stock == kvmx_ksm_zero_sub[0];
	} else {
		bsize = PAGE_SIZE / nsub;
		for (i = 0; i < nsub; i++) {
			sub[i] = kvmx_xxh64_buf(input + i * bsize, bsize);
			if (sub[i] != kvmx_ksm_zero_sub[ilog2(nsub)])
				zero = false;
		}
	}
	if (vm) {
		pol->page_checksum(&pg, kvmx_ksm_seq, sub, nsub);
		kvmx_ksm_st.checksums_vm++;
	}
	rcu_read_unlock();

	if (zero) {
		kvmx_uq_last.valid = false;
		return kvmx_ksm_zero_full;
	}
	ret = nsub == 1 ? stock : kvmx_xxh64_buf(sub, nsub * sizeof(sub[0]));
	/* Only an all-zero page may look like one to KSM's zero-page path. */
	if (nsub > 1 && kvmx_ksm_is_zero_sum(ret))
		ret ^= 1;
	return kvmx_uq_filter(ret, page, domain, vm);
}

/*
 * The xxh64 probe is a return probe: its entry handler picks ksmd's
 * page-sized calls and notes the page, and its return handler replaces the
 * value xxh64 returns. Neither redirects execution, so the kernel can turn
 * the entry's int3 into a jump (an optimized kprobe): a scanned page costs
 * a jump and the return trampoline instead of a breakpoint exception, and
 * the page is hashed once, by the kernel, wherever one sub-block is asked
 * for. The return handler runs from the trampoline with preemption off:
 * nothing in it sleeps (allocations are GFP_NOWAIT).
 *
 * Unload: unregister_kretprobe() waits for handlers running, and a call
 * still inside xxh64 then returns through the trampoline to no handler.
 */
struct kvmx_xxh_call {
	const void *input;
};

static int kvmx_ksm_xxh_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct kvmx_xxh_call *call = (struct kvmx_xxh_call *)ri->data;

	if (current != kvmx_ksmd || !READ_ONCE(kvmx_ksm_nsub) ||
	    regs_get_kernel_argument(regs, 1) != PAGE_SIZE ||
	    regs_get_kernel_argument(regs, 2) != 0)
		return 1;	/* not ours: no return handler */
	call->input = (const void *)regs_get_kernel_argument(regs, 0);
	return 0;
}

static int kvmx_ksm_xxh_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct kvmx_xxh_call *call = (struct kvmx_xxh_call *)ri->data;
	u64 stock = regs_return_value(regs);

	WARN_ON_ONCE(current != kvmx_ksmd);
	regs_set_return_value(regs, kvmx_clocked(ns_checksum,
			__kvmx_ksm_checksum(call->input, stock)));
	return 0;
}

/* --- memcmp_pages ftrace hook ---------------------------------------------- */

static void notrace kvmx_ksm_ftrace(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
	if (current == kvmx_ksmd)
		ftrace_regs_set_instruction_pointer(fregs,
				(unsigned long)kvmx_ksm_memcmp_pages);
}

static struct ftrace_ops kvmx_ksm_ops = {
	.func = kvmx_ksm_ftrace,
	/*
	 * With ftrace_regs the light trampoline can redirect, as livepatch
	 * does. The callback calls nothing that can be traced, so it needs no
	 * recursion guard from ftrace (FTRACE_OPS_FL_RECURSION): the
	 * trampoline calls it directly.
	 */
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION,
#else
	.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION,
#endif
};

/* --- tracepoints ----------------------------------------------------------- */

/*
 * ksmd, with a new table: count the content of every KSM page with a known
 * hash in it. KSM pages are never checksummed, so this is the only way a
 * new table learns which content is already merged. Runs once per resize,
 * over the records of KSM pages (one xarray walk).
 */
static void kvmx_uq_count_kpages(void)
{
	struct kvmx_kpage *kp;
	unsigned long pfn;

	kvmx_uq_gen++;
	/* Records are freed after a grace period, by any task. */
	rcu_read_lock();
	xa_for_each(&kvmx_kpages, pfn, kp) {
		if (!kp->uq_gen)
			continue;
		kp->uq_gen = kvmx_uq_gen;
		kvmx_uq_ksm_count(kp, true);
	}
	/* Records whose page moved, not seen since: in the node index only. */
	xa_for_each(&kvmx_knodes, pfn, kp) {
		if (kp->pfn != ULONG_MAX || !kp->uq_gen)
			continue;
		kp->uq_gen = kvmx_uq_gen;
		kvmx_uq_ksm_count(kp, true);
	}
	rcu_read_unlock();
}

/*
 * ksmd, at a pass start: take up a table the work has prepared, or give
 * the tables back when the filter is off. A table handed over waits in
 * kvmx_uq_done until the work has freed the previous one.
 *
 * Only the work frees kvmx_uq_next, and only ksmd empties kvmx_uq_done;
 * the work may take kvmx_uq_next away (the filter was switched off) between
 * ksmd's look and its xchg, so the xchg's result is what counts.
 *
 * A resize keeps the history: the table replaced stays in kvmx_uq_prev,
 * and each slot of the new one takes over its old slot's state at its
 * first use (uniq_adopt()), until the old entries have expired. So the
 * warm-up is counted once, from the first table: one pass when KSM had no
 * page shortly before (every page is young, smart scan skips none of
 * them), smart scan's longest skip otherwise (uniq_warmup()).
 */
static void kvmx_uq_start_pass(bool want, unsigned long entries)
{
	struct kvmx_uniq *next;

	if (!entries)
		kvmx_uq_empty = kvmx_ksm_seq;
	WRITE_ONCE(kvmx_uq_entries, entries);
	WRITE_ONCE(kvmx_uq_want, want);
	if (!want) {
		/* A table kept over a pause in counting starts over. */
		kvmx_uq_passes = 0;
		kvmx_uq_warm = UNIQ_WINDOW;
		if (READ_ONCE(kvmx_uq_done))
			return;
		if (kvmx_uq_prev) {
			xchg(&kvmx_uq_done, kvmx_uq_prev);
			kvmx_uq_prev = NULL;
		} else if (kvmx_uq) {
			xchg(&kvmx_uq_done, kvmx_uq);
			kvmx_uq = NULL;
			kvmx_uq_gen++;
			WRITE_ONCE(kvmx_uq_bits, 0);
		}
		return;
	}
	if (kvmx_uq_prev && !READ_ONCE(kvmx_uq_done) &&
	    kvmx_ksm_seq - kvmx_uq_swapped > UNIQ_EXPIRE) {
		xchg(&kvmx_uq_done, kvmx_uq_prev);
		kvmx_uq_prev = NULL;
	}
	if (READ_ONCE(kvmx_uq_next) && !READ_ONCE(kvmx_uq_done)) {
		next = xchg(&kvmx_uq_next, NULL);
		if (next) {
			WARN_ON_ONCE(xchg(&kvmx_uq_done, kvmx_uq_prev));
			kvmx_uq_prev = kvmx_uq;
			if (!kvmx_uq) {
				kvmx_uq_passes = 0;
				kvmx_uq_warm = uniq_warmup(kvmx_ksm_seq,
							   kvmx_uq_empty);
			}
			kvmx_uq = next;
			kvmx_uq_swapped = kvmx_ksm_seq;
			WRITE_ONCE(kvmx_uq_bits, next->bits);
			kvmx_ksm_st.unique_resizes++;
			kvmx_uq_count_kpages();
		}
	}
	if (kvmx_uq)
		kvmx_uq_passes++;
}

/* The refresh work's part: free what ksmd gave back, size the table. */
static void kvmx_uq_refresh(void)
{
	unsigned long entries = READ_ONCE(kvmx_uq_entries), vm_pages = 0;
	const struct kvmx_ksm_map *map;
	struct kvmx_uniq *uq, *old;
	unsigned int bits, i, s;

	/* The work and a policy registration: one at a time. */
	guard(mutex)(&kvmx_uq_lock);
	vfree(xchg(&kvmx_uq_done, NULL));
	if (!READ_ONCE(kvmx_uq_want)) {
		vfree(xchg(&kvmx_uq_next, NULL));
		return;
	}
	/*
	 * KSM will track the attached VMs' memory at least: size for it
	 * from the start, rather than for the few pages KSM had at the last
	 * pass start, and resize less.
	 */
	rcu_read_lock();
	map = rcu_dereference(kvmx_ksm_map);
	for (i = 0; map && i < map->nvms; i++)
		for (s = 0; s < map->vms[i].nslots; s++)
			vm_pages += map->vms[i].slots[s].npages;
	rcu_read_unlock();
	bits = uniq_table_bits(max(entries, vm_pages), READ_ONCE(kvmx_uq_bits));
	old = READ_ONCE(kvmx_uq_next);
	if (bits == READ_ONCE(kvmx_uq_bits)) {
		/* The table in use fits again: none waits (ksmd's xchg wins). */
		if (old)
			vfree(xchg(&kvmx_uq_next, NULL));
		return;
	}
	if (old && old->bits == bits)
		return;
	/* Without memory the filter waits; KSM itself is not affected. */
	uq = vzalloc(struct_size(uq, slots, 1UL << bits));
	if (!uq)
		return;
	uq->bits = bits;
	/*
	 * A table of another size waiting (VMs came since) is replaced,
	 * unless ksmd took it meanwhile. Only this function frees a waiting
	 * table, under kvmx_uq_lock, so @old cannot have been freed and
	 * reused.
	 */
	if (cmpxchg(&kvmx_uq_next, old, uq) == old)
		vfree(old);
	else
		vfree(uq);
}

/* Once ksmd can no longer run our code. */
static void kvmx_uq_free_all(void)
{
	vfree(kvmx_uq);
	vfree(kvmx_uq_prev);
	vfree(kvmx_uq_next);
	vfree(kvmx_uq_done);
	kvmx_uq = NULL;
	kvmx_uq_prev = NULL;
	kvmx_uq_next = NULL;
	kvmx_uq_done = NULL;
	kvmx_uq_passes = 0;
	kvmx_uq_warm = UNIQ_WINDOW;
	kvmx_uq_empty = 0;
	kvmx_uq_bits = 0;
	kvmx_uq_want = false;
	kvmx_uq_last.valid = false;
	kvmx_uq_gen++;
}

static void kvmx_tp_start_scan(void *data, int seq, u32 rmap_entries)
{
	const struct kvmx_ksm_policy *pol;
	struct kvmx_ksm_pass pass = { 0 };
	bool content = false;

	kvmx_kpending_resolve();
	kvmx_ksm_seq++;
	kvmx_ksm_st.passes++;
	rcu_read_lock();
	pol = rcu_dereference(kvmx_ksm_pol);
	if (pol) {
		pol->start_scan(kvmx_ksm_seq, &pass);
		content = pass.content_classes && pol->hash_class;
	}
	rcu_read_unlock();
	if (pass.nsub > KVMX_KSM_MAX_SUBBLOCKS || !is_power_of_2(pass.nsub))
		pass.nsub = 0;
	/* The filter works on KSM's checksums: one block is the stock one. */
	if (pass.hold_unique && !pass.nsub)
		pass.nsub = 1;
	kvmx_uq_start_pass(pass.hold_unique, rmap_entries);
	WRITE_ONCE(kvmx_ksm_nsub, pass.nsub);
	WRITE_ONCE(kvmx_ksm_classless, pass.ksm_classless);
	WRITE_ONCE(kvmx_ksm_content, content);
	queue_work(system_unbound_wq, &kvmx_ksm_refresh_work);
}

/*
 * ksmd: a record of @key at @pfn, in the pfn index (the record there
 * before is freed), not yet bound to a node; NULL without memory.
 */
static struct kvmx_kpage *kvmx_kpage_new(unsigned long pfn,
					 const struct kvmx_ksm_key *key,
					 const void *owner)
{
	struct kvmx_kpage *kp, *old;

	kvmx_kc_forget(pfn);
	kp = kmalloc(sizeof(*kp), GFP_NOWAIT | __GFP_NOWARN);
	if (kp) {
		kp->node = PAGE_MAPPING_KSM;
		kp->pfn = pfn;
		kp->owner = owner;
		kp->key = *key;
		kp->uq_gen = 0;
	}
	spin_lock(&kvmx_kpages_lock);
	old = kp ? xa_store(&kvmx_kpages, pfn, kp, GFP_NOWAIT | __GFP_NOWARN) :
		   xa_load(&kvmx_kpages, pfn);
	if (xa_is_err(old)) {
		kfree(kp);
		kp = NULL;
		old = xa_load(&kvmx_kpages, pfn);
	}
	if (old && old != kp) {
		/* Not its page's any more: a new KSM page is at @pfn. */
		if (!kp)
			xa_cmpxchg(&kvmx_kpages, pfn, old, NULL, 0);
		old->pfn = ULONG_MAX;
		kvmx_kpage_unlink(old);
	}
	spin_unlock(&kvmx_kpages_lock);
	if (!kp)
		kvmx_ksm_st.nomem++;
	return kp;
}

/* ksmd: the page at @pfn is a new KSM page. */
static void kvmx_ksm_record(unsigned long pfn, const struct kvmx_ksm_key *key,
			    const void *owner)
{
	struct kvmx_kpage *kp;

	kvmx_kpending_resolve();
	kp = kvmx_kpage_new(pfn, key, owner);
	/* Resolved at the next other comparison, record or none. */
	kvmx_kpending = pfn;
	if (!kp)
		return;
	/* It was checksummed just before this merge, in this pass. */
	if (kvmx_uq_last.valid && kvmx_uq_last.pfn == pfn) {
		kp->uq_hash = kvmx_uq_last.hash;
		kp->uq_gen = kvmx_uq_gen;
	}
	kvmx_ksm_st.kpages_recorded++;
	kvmx_uq_ksm_count(kp, true);
}

static void kvmx_tp_merge_ksm(void *data, void *ksm_page, unsigned long pfn,
			      void *rmap_item, void *mm, int err)
{
	struct kvmx_kpage *kp;
	unsigned int row = 0;

	if (current != kvmx_ksmd || err)
		return;
	if (!ksm_page) {
		/*
		 * The page at @pfn became a new KSM page, with no comparison
		 * under its VM's mmap lock: its key is the one it was found
		 * equal under, unless keys changed since. A domain move
		 * bumps the generation before its unmerge takes the mmap
		 * write lock, and this merge step held the read lock. So
		 * either the step ran first and the unmerge breaks the page,
		 * or the unmerge ran first and the bump is visible here: the
		 * stale key is not kept, and the page, its key unknown,
		 * equals nothing (the second step fails, KSM breaks it).
		 */
		bool found = kvmx_ksm_last_equal.valid &&
			     (kvmx_ksm_last_equal.pfn[0] == pfn ||
			      kvmx_ksm_last_equal.pfn[1] == pfn);

		if (found && kvmx_ksm_last_equal.gen !=
			     atomic_long_read(&kvmx_ksm_gen)) {
			kvmx_ksm_st.stale_keys++;
			found = false;
		}
		if (found) {
			kvmx_ksm_record(pfn, &kvmx_ksm_last_equal.key,
					kvmx_ksm_last_equal.owner);
			row = kvmx_ksm_last_equal.key.stat_class;
		} else {
			struct kvmx_ksm_key key;

			kvmx_ksm_key_unknown(&key);
			kvmx_ksm_record(pfn, &key, NULL);
		}
	} else {
		rcu_read_lock();
		kp = xa_load(&kvmx_kpages,
			     page_to_pfn((struct page *)ksm_page));
		if (kp)
			row = kp->key.stat_class;
		rcu_read_unlock();
	}
	kvmx_ksm_cs[row].merges++;
}

static void kvmx_tp_merge_one(void *data, unsigned long pfn, void *rmap_item,
			      void *mm, int err)
{
	if (!err)
		kvmx_ksm_st.zero_merges++;
}

/*
 * KSM removes the stable node whose page is (or was) at @pfn. Any task
 * may get here (an unmerge, memory hot-remove), ksmd mostly.
 */
static void kvmx_tp_remove_ksm(void *data, unsigned long pfn)
{
	unsigned long mapping = (unsigned long)READ_ONCE(pfn_folio(pfn)->mapping);
	struct kvmx_kpage *kp;

	spin_lock(&kvmx_kpages_lock);
	kp = xa_load(&kvmx_kpages, pfn);
	if (!kp)
		goto out;
	/*
	 * A stale node is pruned after its page was freed: the record at
	 * @pfn may be that of the KSM page there now, or of the one ksmd is
	 * making there. Those stay. The node KSM removes otherwise has its
	 * page here with the mapping cleared, or freed.
	 */
	if ((kvmx_knode_real(kp->node) && mapping == kp->node) ||
	    (current == kvmx_ksmd && pfn == kvmx_kpending &&
	     kp->node == PAGE_MAPPING_KSM)) {
		kvmx_ksm_st.kpages_kept++;
		goto out;
	}
	kvmx_kpage_free(kp);
out:
	spin_unlock(&kvmx_kpages_lock);
}

static void * const kvmx_ksm_tp_funcs[] = {
	kvmx_tp_start_scan, kvmx_tp_merge_ksm, kvmx_tp_merge_one,
	kvmx_tp_remove_ksm,
};

static void kvmx_ksm_find_tp(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvmx_ksm_tp_names); i++)
		if (!strcmp(tp->name, kvmx_ksm_tp_names[i]))
			kvmx_ksm_tps[i] = tp;
}

static void kvmx_ksm_tp_unregister(unsigned int n)
{
	while (n--)
		tracepoint_probe_unregister(kvmx_ksm_tps[n],
					    kvmx_ksm_tp_funcs[n], NULL);
	tracepoint_synchronize_unregister();
}

/* --- install / remove ------------------------------------------------------ */

static struct task_struct *kvmx_find_ksmd(void)
{
	struct task_struct *p, *found = NULL;

	rcu_read_lock();
	for_each_process(p) {
		if ((p->flags & PF_KTHREAD) && !strcmp(p->comm, "ksmd")) {
			found = get_task_struct(p);
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

static int kvmx_ksm_install(void)
{
	unsigned int i;
	int ret;

	/* Optional: without it every comparison looks its keys up. */
	kvmx_kc = vzalloc(sizeof(*kvmx_kc) << KVMX_KC_BITS);
	kvmx_ksmd = kvmx_find_ksmd();
	if (!kvmx_ksmd) {
		pr_err("KSM hook: no ksmd thread (kernel without CONFIG_KSM?)\n");
		ret = -ENODEV;
		goto err_ksmd;
	}
	memset(kvmx_ksm_tps, 0, sizeof(kvmx_ksm_tps));
	for_each_kernel_tracepoint(kvmx_ksm_find_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(kvmx_ksm_tps); i++) {
		if (!kvmx_ksm_tps[i]) {
			pr_err("KSM hook: kernel %s has no tracepoint %s\n",
			       init_utsname()->release, kvmx_ksm_tp_names[i]);
			ret = -ENOENT;
			goto err_ksmd;
		}
	}

	ret = ftrace_set_filter(&kvmx_ksm_ops, "memcmp_pages",
				strlen("memcmp_pages"), 1);
	if (ret) {
		pr_err("KSM hook: cannot trace memcmp_pages on %s (%d)\n",
		       init_utsname()->release, ret);
		goto err_ksmd;
	}
	ret = register_ftrace_function(&kvmx_ksm_ops);
	if (ret) {
		if (ret == -EBUSY)
			pr_err("KSM hook: another module modifies memcmp_pages (livepatch or ftrace IPMODIFY user); refusing to load\n");
		else
			pr_err("KSM hook: cannot hook memcmp_pages (%d)\n", ret);
		goto err_filter;
	}
	/* A kprobe keeps its resolved address: start from a clean one. */
	kvmx_ksm_krp = (struct kretprobe){
		.kp.symbol_name = "xxh64",
		.entry_handler = kvmx_ksm_xxh_entry,
		.handler = kvmx_ksm_xxh_ret,
		.data_size = sizeof(struct kvmx_xxh_call),
	};
	ret = register_kretprobe(&kvmx_ksm_krp);
	if (ret) {
		pr_err("KSM hook: cannot probe xxh64 on %s (%d)\n",
		       init_utsname()->release, ret);
		goto err_ftrace;
	}
	WRITE_ONCE(kvmx_ksm_installed, true);
	for (i = 0; i < ARRAY_SIZE(kvmx_ksm_tps); i++) {
		ret = tracepoint_probe_register(kvmx_ksm_tps[i],
						kvmx_ksm_tp_funcs[i], NULL);
		if (ret) {
			pr_err("KSM hook: cannot attach to %s (%d)\n",
			       kvmx_ksm_tp_names[i], ret);
			kvmx_ksm_tp_unregister(i);
			goto err_kprobe;
		}
	}
	return 0;

err_kprobe:
	WRITE_ONCE(kvmx_ksm_installed, false);
	unregister_kretprobe(&kvmx_ksm_krp);
err_ftrace:
	unregister_ftrace_function(&kvmx_ksm_ops);
err_filter:
	ftrace_set_filter(&kvmx_ksm_ops, NULL, 0, 1);
err_ksmd:
	if (kvmx_ksmd)
		put_task_struct(kvmx_ksmd);
	kvmx_ksmd = NULL;
	vfree(kvmx_kc);
	kvmx_kc = NULL;
	return ret;
}

static void kvmx_ksm_uninstall(void)
{
	struct kvmx_kpage *kp;
	struct kvmx_ksm_map *map;
	unsigned long pfn;

	kvmx_ksm_tp_unregister(ARRAY_SIZE(kvmx_ksm_tps));
	WRITE_ONCE(kvmx_ksm_nsub, 0);
	unregister_kretprobe(&kvmx_ksm_krp);
	unregister_ftrace_function(&kvmx_ksm_ops);
	ftrace_set_filter(&kvmx_ksm_ops, NULL, 0, 1);
	/*
	 * ksmd may still be inside one of our replacement functions, which
	 * never sleep: once it has scheduled voluntarily, it is out.
	 */
	synchronize_rcu_tasks();
	/* No new work once this is false (see kvmx_ksm_vm_unmapped()). */
	WRITE_ONCE(kvmx_ksm_installed, false);
	cancel_work_sync(&kvmx_ksm_refresh_work);

	kvmx_registry_lock();
	map = rcu_replace_pointer(kvmx_ksm_map, NULL, true);
	kvmx_registry_unlock();
	synchronize_rcu();
	kvmx_ksm_map_free(map);
	/* Every record is in one index at least; free each once. */
	xa_for_each(&kvmx_kpages, pfn, kp) {
		xa_erase(&kvmx_kpages, pfn);
		if (kvmx_knode_real(kp->node))
			xa_cmpxchg(&kvmx_knodes, kvmx_knode_idx(kp->node), kp,
				   NULL, 0);
		kfree(kp);
	}
	xa_for_each(&kvmx_knodes, pfn, kp) {
		xa_erase(&kvmx_knodes, pfn);
		kfree(kp);
	}
	kvmx_ksm_last_equal.valid = false;
	kvmx_kpending = ULONG_MAX;
	put_task_struct(kvmx_ksmd);
	kvmx_ksmd = NULL;
	vfree(kvmx_kc);
	kvmx_kc = NULL;
	kvmx_uq_free_all();
}

int kvmx_ksm_register_policy(const struct kvmx_ksm_policy *policy)
{
	int ret = 0;

	if (!policy || !policy->start_scan || !policy->page_key ||
	    !policy->page_checksum)
		return -EINVAL;
	mutex_lock(&kvmx_ksm_mutex);
	if (rcu_access_pointer(kvmx_ksm_pol)) {
		ret = -EBUSY;
		goto out;
	}
	ret = kvmx_ksm_install();
	if (ret)
		goto out;
	kvmx_registry_lock();
	kvmx_ksm_rebuild(true);
	kvmx_registry_unlock();
	/*
	 * A first filter table, ready for ksmd's next pass start, in case
	 * the policy wants the filter (that pass start gives it back if
	 * not): the probe is armed already, so the table counts that whole
	 * pass, and counting from a pass that began with KSM empty is what
	 * lets the filter hold pages back from the next pass on.
	 */
	WRITE_ONCE(kvmx_uq_want, true);
	kvmx_uq_refresh();
	rcu_assign_pointer(kvmx_ksm_pol, policy);
	pr_info("KSM hook installed, policy %s\n", policy->name);
out:
	mutex_unlock(&kvmx_ksm_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_ksm_register_policy);

void kvmx_ksm_unregister_policy(const struct kvmx_ksm_policy *policy)
{
	mutex_lock(&kvmx_ksm_mutex);
	if (rcu_access_pointer(kvmx_ksm_pol) == policy) {
		RCU_INIT_POINTER(kvmx_ksm_pol, NULL);
		synchronize_rcu();
		kvmx_ksm_uninstall();
		pr_info("KSM hook removed\n");
	}
	mutex_unlock(&kvmx_ksm_mutex);
}
EXPORT_SYMBOL_GPL(kvmx_ksm_unregister_policy);

/* --- unmerge --------------------------------------------------------------- */

/*
 * Fault the swapped-out pages of @vma back in. MADV_UNMERGEABLE breaks
 * the KSM pages a VM maps and those under migration, not swap entries:
 * a KSM page that reclaim unmapped but has not freed yet stays in the swap
 * cache, and the fault that maps it again maps the shared page as it is
 * (ksm_might_need_to_copy() keeps a KSM folio that has a stable node).
 * Once they are present, the unmerge that follows breaks them. Reads only:
 * a hole gets the zero page, nothing is allocated. The caller holds the
 * mmap lock for writing, so that nothing maps the pages in between; reclaim
 * can still unmap one again, which leaves it for the next move (stated in
 * the README).
 */
static int kvmx_ksm_swapin(struct mm_struct *mm, struct vm_area_struct *vma)
{
	unsigned long addr = vma->vm_start, n;
	long got;

	mmap_assert_write_locked(mm);
	while (addr < vma->vm_end) {
		if (signal_pending(current))
			return -ERESTARTSYS;
		n = min((vma->vm_end - addr) >> PAGE_SHIFT, 512UL);
		got = get_user_pages_remote(mm, addr, n, 0, NULL, NULL);
		if (got == -EINTR)
			return -ERESTARTSYS;
		/* A page that cannot be read is no KSM page either: skip it. */
		addr += got > 0 ? got << PAGE_SHIFT : PAGE_SIZE;
		cond_resched();
	}
	kvmx_ksm_st.swapin_passes++;
	return 0;
}

int kvmx_ksm_unmerge_vm(struct kvmx_vm *vm)
{
	struct mm_struct *mm = kvmx_vm_mm(vm);
	struct vma_iterator vmi;
	struct vm_area_struct *vma;
	bool swapped;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_write_lock(mm);
	swapped = get_mm_counter(mm, MM_SWAPENTS) > 0;
	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma) {
		/*
		 * A copy of the flags: the VMA stays mergeable and KSM merges
		 * its pages again, under their new key.
		 */
		unsigned long flags = vma->vm_flags;

		if (!(flags & VM_MERGEABLE))
			continue;
		if (swapped) {
			ret = kvmx_ksm_swapin(mm, vma);
			if (ret)
				break;
		}
		ret = ksm_madvise(vma, vma->vm_start, vma->vm_end,
				  MADV_UNMERGEABLE, &flags);
		if (ret)
			break;
	}
	mmap_write_unlock(mm);
	mmput(mm);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_ksm_unmerge_vm);

/* --- debugfs --------------------------------------------------------------- */

static int kvmx_ksm_classes_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	seq_puts(m, "class calls compares bytes key_settled merges\n");
	for (i = 0; i < KVMX_KSM_STAT_CLASSES; i++) {
		const struct kvmx_ksm_class_stats *c = &kvmx_ksm_cs[i];

		if (!c->calls && !c->merges)
			continue;
		seq_printf(m, "%u %llu %llu %llu %llu %llu\n", i, c->calls,
			   c->compares, c->bytes, c->key_settled, c->merges);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_ksm_classes);

static int kvmx_ksm_stats_show(struct seq_file *m, void *unused)
{
	struct kvmx_ksm_class_stats t = {};
	const struct kvmx_ksm_policy *pol;
	struct kvmx_ksm_map *map;
	unsigned int i;

	for (i = 0; i < KVMX_KSM_STAT_CLASSES; i++) {
		t.calls += kvmx_ksm_cs[i].calls;
		t.compares += kvmx_ksm_cs[i].compares;
		t.bytes += kvmx_ksm_cs[i].bytes;
		t.key_settled += kvmx_ksm_cs[i].key_settled;
		t.merges += kvmx_ksm_cs[i].merges;
	}
	rcu_read_lock();
	pol = rcu_dereference(kvmx_ksm_pol);
	seq_printf(m, "policy %s\n", pol ? pol->name : "-");
	map = rcu_dereference(kvmx_ksm_map);
	seq_printf(m, "mapped_vms %u\nmapped_anon_vmas %u\n",
		   map ? map->nvms : 0, map ? map->navs : 0);
	rcu_read_unlock();
	seq_printf(m, "passes %llu\ncalls %llu\ncompares %llu\nbytes %llu\n"
		   "key_settled %llu\nmerges %llu\nzero_merges %llu\n"
		   "checksums %llu\nchecksums_vm %llu\nsubblocks %u\n"
		   "kpages_recorded %llu\nkpages_unknown %llu\n"
		   "unknown_anon %llu\nnomem %llu\nmap_rebuilds %llu\n"
		   "cross_vm_compares %llu\nkey_cache_hits %llu\n"
		   "kpages_dropped %llu\nstale_keys %llu\n"
		   "swapin_passes %llu\ncontent_keys %llu\n"
		   "kpages_moved %llu\nkpages_kept %llu\nkpages_adopted %llu\n",
		   kvmx_ksm_st.passes, t.calls, t.compares, t.bytes,
		   t.key_settled, t.merges, kvmx_ksm_st.zero_merges,
		   kvmx_ksm_st.checksums, kvmx_ksm_st.checksums_vm,
		   READ_ONCE(kvmx_ksm_nsub), kvmx_ksm_st.kpages_recorded,
		   kvmx_ksm_st.kpages_unknown, kvmx_ksm_st.unknown_anon,
		   kvmx_ksm_st.nomem, kvmx_ksm_st.map_rebuilds,
		   kvmx_ksm_st.cross_vm, kvmx_ksm_st.key_cache_hits,
		   kvmx_ksm_st.kpages_dropped, kvmx_ksm_st.stale_keys,
		   kvmx_ksm_st.swapin_passes, kvmx_ksm_st.content_keys,
		   kvmx_ksm_st.kpages_moved, kvmx_ksm_st.kpages_kept,
		   kvmx_ksm_st.kpages_adopted);
	seq_printf(m, "unique_filter %s\nunique_volatile %llu\n"
		   "unique_table_bytes %lu\nunique_resizes %llu\n"
		   "unique_passes %lu\nunique_warmup %u\n",
		   READ_ONCE(kvmx_uq_want) ? "on" : "off",
		   kvmx_ksm_st.unique_volatile,
		   READ_ONCE(kvmx_uq_bits) ?
		   sizeof(u32) << READ_ONCE(kvmx_uq_bits) : 0,
		   kvmx_ksm_st.unique_resizes, READ_ONCE(kvmx_uq_passes),
		   READ_ONCE(kvmx_uq_warm));
	seq_printf(m, "ksm_timing %s\nns_memcmp %llu\nns_content %llu\n"
		   "ns_checksum %llu\nns_hash %llu\n",
		   static_key_enabled(&kvmx_ksm_timing) ? "on" : "off",
		   kvmx_ksm_st.ns_memcmp, kvmx_ksm_st.ns_content,
		   kvmx_ksm_st.ns_checksum, kvmx_ksm_st.ns_hash);
	/* Whether the kernel optimized it: debugfs kprobes/list. */
	seq_printf(m, "xxh64_probe %s\nxxh64_probe_missed %d\n",
		   !READ_ONCE(kvmx_ksm_installed) ? "-" :
		   kprobe_disabled(&kvmx_ksm_krp.kp) ? "disarmed" : "armed",
		   READ_ONCE(kvmx_ksm_krp.nmissed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvmx_ksm_stats);

/* Writing anything resets the counters (benchmarks do between runs). */
static ssize_t kvmx_ksm_reset_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	memset(kvmx_ksm_cs, 0, sizeof(kvmx_ksm_cs));
	memset(&kvmx_ksm_st, 0, sizeof(kvmx_ksm_st));
	return count;
}

static const struct file_operations kvmx_ksm_reset_fops = {
	.owner = THIS_MODULE,
	.write = kvmx_ksm_reset_write,
};

static int kvmx_ksm_timing_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", static_key_enabled(&kvmx_ksm_timing));
	return 0;
}

static int kvmx_ksm_timing_open(struct inode *inode, struct file *file)
{
	return single_open(file, kvmx_ksm_timing_show, NULL);
}

/* A boolean, as every kvmx knob takes it; the counters go on from where they are. */
static ssize_t kvmx_ksm_timing_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	char buf[8];
	bool on;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	ret = kvmx_parse_bool(buf, count, &on);
	if (ret)
		return ret;
	if (on)
		static_branch_enable(&kvmx_ksm_timing);
	else
		static_branch_disable(&kvmx_ksm_timing);
	return count;
}

static const struct file_operations kvmx_ksm_timing_fops = {
	.owner = THIS_MODULE,
	.open = kvmx_ksm_timing_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = kvmx_ksm_timing_write,
};

int kvmx_ksm_init(void)
{
	const void *zero = page_address(ZERO_PAGE(0));
	unsigned int i;

	INIT_WORK(&kvmx_ksm_refresh_work, kvmx_ksm_refresh);
	get_random_bytes(&kvmx_uq_key, sizeof(kvmx_uq_key));
	kvmx_ksm_zero_full = kvmx_xxh64_buf(zero, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(kvmx_ksm_zero_sub); i++)
		kvmx_ksm_zero_sub[i] = kvmx_xxh64_buf(zero, PAGE_SIZE >> i);
	debugfs_create_file("ksm_stats", 0400, kvmx_debugfs, NULL,
			    &kvmx_ksm_stats_fops);
	debugfs_create_file("ksm_classes", 0400, kvmx_debugfs, NULL,
			    &kvmx_ksm_classes_fops);
	debugfs_create_file("ksm_reset", 0200, kvmx_debugfs, NULL,
			    &kvmx_ksm_reset_fops);
	debugfs_create_file("ksm_timing", 0600, kvmx_debugfs, NULL,
			    &kvmx_ksm_timing_fops);
	return 0;
}

void kvmx_ksm_exit(void)
{
	/* Policies are modules that depend on us: all gone by now. */
	WARN_ON(rcu_access_pointer(kvmx_ksm_pol));
	/*
	 * An unmap notifier that saw the hook installed just before it went
	 * may have queued the work after the uninstall's cancel; the VMs and
	 * their notifiers are gone by now.
	 */
	cancel_work_sync(&kvmx_ksm_refresh_work);
}
