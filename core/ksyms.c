// SPDX-License-Identifier: GPL-2.0
/*
 * The audited table of kernel functions kvmx calls although the kernel does
 * not export them. Every entry is resolved by name when kvmx_core loads;
 * if one is missing the module refuses to load and names it. Nothing else
 * in kvmx reaches for unexported symbols.
 *
 *   do_madvise   MADV_PAGEOUT on a VM's guest memory from a kernel thread:
 *                the kernel's own reclaim path, as process_madvise(2) uses
 *                it on another process (idle_tax page-out).
 *
 * Resolution: a kprobe registered on the name yields its address (kprobes
 * resolve names through kallsyms); the probe is removed at once. On kernels
 * built with IBT the probe sits after the ENDBR instruction, so the address
 * is moved back onto it. sprint_symbol() then has to name the symbol at
 * offset 0, or the entry counts as missing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/kvm_host.h>
#include <linux/mman.h>
#include <linux/utsname.h>
#include <asm/ibt.h>

#include "internal.h"

static int (*kvmx_do_madvise)(struct mm_struct *mm, unsigned long start,
			      size_t len, int behavior);

struct kvmx_ksym {
	const char *name;
	void **addr;
};

static const struct kvmx_ksym kvmx_ksyms[] = {
	{ "do_madvise", (void **)&kvmx_do_madvise },
};

static unsigned long kvmx_ksym_resolve(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	char buf[KSYM_SYMBOL_LEN];
	unsigned long addr;
	size_t len = strlen(name);

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT) &&
	    is_endbr(*(u32 *)(addr - ENDBR_INSN_SIZE)))
		addr -= ENDBR_INSN_SIZE;
	sprint_symbol(buf, addr);
	if (strncmp(buf, name, len) || strncmp(buf + len, "+0x0/", 5))
		return 0;
	return addr;
}

int kvmx_ksyms_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvmx_ksyms); i++) {
		unsigned long addr = kvmx_ksym_resolve(kvmx_ksyms[i].name);

		if (!addr) {
			pr_err("kernel %s has no usable symbol %s: not loading\n",
			       init_utsname()->release, kvmx_ksyms[i].name);
			return -ENOENT;
		}
		*kvmx_ksyms[i].addr = (void *)addr;
	}
	return 0;
}

struct kvmx_pageout {
	u64 gfn;
	u64 end;
	unsigned long hva[2];	/* one run of guest memory, [start, end) */
};

static int kvmx_pageout_find(struct kvmx_vm *vm,
			     const struct kvm_memory_slot *slot, void *arg)
{
	struct kvmx_pageout *po = arg;
	u64 lo = max(po->gfn, slot->base_gfn);
	u64 hi = min(po->end, slot->base_gfn + slot->npages);

	if ((slot->flags & KVM_MEM_READONLY) || lo >= hi)
		return 0;
	po->hva[0] = slot->userspace_addr + ((lo - slot->base_gfn) << PAGE_SHIFT);
	po->hva[1] = po->hva[0] + ((hi - lo) << PAGE_SHIFT);
	po->gfn = hi;
	return 1;
}

int kvmx_vm_pageout(struct kvmx_vm *vm, u64 gfn, u64 npages)
{
	struct mm_struct *mm = kvmx_vm_mm(vm);
	struct kvmx_pageout po = { .gfn = gfn, .end = gfn + npages };
	int ret = 0;

	if (!npages || po.end < gfn)
		return -EINVAL;
	if (kvmx_vm_released(vm) || !mmget_not_zero(mm))
		return -ESRCH;
	while (po.gfn < po.end && !ret) {
		if (kvmx_vm_walk_memslots(vm, kvmx_pageout_find, &po) != 1)
			break;
		ret = kvmx_do_madvise(mm, po.hva[0], po.hva[1] - po.hva[0],
				      MADV_PAGEOUT);
		cond_resched();
	}
	mmput(mm);
	return ret;
}
EXPORT_SYMBOL_GPL(kvmx_vm_pageout);
