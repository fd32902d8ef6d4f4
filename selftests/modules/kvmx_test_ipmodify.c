// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: another ftrace IPMODIFY user of memcmp_pages, the way
 * a livepatch of that function would be. While it is loaded, kvmx's KSM
 * hook must refuse to install. It modifies nothing: its callback leaves the
 * instruction pointer alone.
 */
#include <linux/module.h>
#include <linux/ftrace.h>

static void notrace kvmx_test_ipmodify_cb(unsigned long ip,
					  unsigned long parent_ip,
					  struct ftrace_ops *ops,
					  struct ftrace_regs *fregs)
{
}

static struct ftrace_ops kvmx_test_ipmodify_ops = {
	.func = kvmx_test_ipmodify_cb,
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
#else
	.flags = FTRACE_OPS_FL_IPMODIFY,
#endif
};

static int __init kvmx_test_ipmodify_init(void)
{
	int ret;

	ret = ftrace_set_filter(&kvmx_test_ipmodify_ops, "memcmp_pages",
				strlen("memcmp_pages"), 1);
	if (ret)
		return ret;
	ret = register_ftrace_function(&kvmx_test_ipmodify_ops);
	if (ret)
		ftrace_set_filter(&kvmx_test_ipmodify_ops, NULL, 0, 1);
	return ret;
}

static void __exit kvmx_test_ipmodify_exit(void)
{
	unregister_ftrace_function(&kvmx_test_ipmodify_ops);
	ftrace_set_filter(&kvmx_test_ipmodify_ops, NULL, 0, 1);
}

module_init(kvmx_test_ipmodify_init);
module_exit(kvmx_test_ipmodify_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmx test: a competing IPMODIFY user of memcmp_pages");
