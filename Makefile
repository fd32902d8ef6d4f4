# SPDX-License-Identifier: GPL-2.0
#
# kvmx: the user's entry points.
#
#   make                 build every module against KDIR (the running kernel)
#   make install         install modules, udev rule and tools on this host
#   make dkms-install    register, build and install the DKMS package
#   make check           userspace unit tests (seconds, no VM)
#   make vmtest          kernel suites inside the test host VM
#   make vmtest-debug    the hook and sampler suites in a test host booted
#                        with slub_debug and KFENCE
#   make test            check + hosttest + vmtest and vmtest-debug side by
#                        side (what CI runs)
#   make demo            boot the test host, start guests, show the registry
#                        and idle_tax at work
#   make bench           benchmarks (BENCH=name runs one; BENCH_ARGS="NAME=VALUE
#                        ..." sets the benchmark's variables in the test host)
#   make soak            long integrity run of ksm_cmd (11 minutes)
#   make lint            checkpatch, W=1 and sparse over the kernel code
#   make clean

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(TOP)/build
PYTHON ?= python3
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)

# Suites run by vmtest; SUITES=core runs one, SUITES=core:cycles+race two of
# its tests, SUITES=core:-cycles+race all but those two. Test host size and
# time limit.
SUITES ?= core ksm_cmd idle_tax
VM_MEM ?= 6144
VM_CPUS ?= 1
VM_TIMEOUT ?= 2400
BENCH ?=
BENCH_ARGS ?=
# The debug boot: slab poisoning and red zones, KFENCE on every allocation
# it can take, lazy RCU callbacks (rcu_nocbs) so that a missing rcu_barrier()
# shows. Suites that touch the KSM hook and the sampler.
DEBUG_ARGS ?= slub_debug=FZP kfence.sample_interval=1 rcu_nocbs=0
DEBUG_HOOK_TESTS := unique+late_twins+compaction+zero_pages+domain_moves+domain_swap+migrate_keys+nonvm+robust+filter_domains
DEBUG_SUITES ?= debug core:sampler+unload+race ksm_cmd:$(DEBUG_HOOK_TESTS)
DEBUG_MEM ?= 4096
# make test runs every test once: the hook and sampler tests in the debug
# host, the others in the main one, side by side.
TEST_SUITES ?= core:-sampler+unload+race ksm_cmd:-$(DEBUG_HOOK_TESTS) idle_tax

.PHONY: all modules tools install-tools install dkms-install dkms-uninstall check vmtest test \
	vmtest-debug vmtest-run vmtest-debug-run \
	demo bench soak lint clean deps test-kernel-modules hosttest

all: modules

modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "No kernel build tree at $(KDIR)."; \
		echo "Install the headers of the kernel you build for, or set KDIR= or KVER=."; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(TOP) modules

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(TOP) clean; \
		$(MAKE) -C $(KDIR) M=$(TOP)/selftests/modules clean; fi
	rm -rf $(BUILD)

# The userspace tools: kvmxd, kvmx-balloon-relay and kvmx-idle-top.
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))
tools: $(TOOLS)
# Each links the shared code in tools/lib.
TOOL_LIBS := $(wildcard tools/lib/*.c)
$(BUILD)/tools/%: tools/%.c tools/kvmx_tool.h $(TOOL_LIBS) $(wildcard tools/lib/*.h) \
		$(wildcard include/uapi/kvmx/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Wl,--gc-sections -ffunction-sections -o $@ $< $(TOOL_LIBS)

install-tools: tools
	install -D -m 0755 tools/kvmx-attach $(DESTDIR)/usr/lib/kvmx/kvmx-attach
	install -D -m 0644 udev/99-kvmx.rules $(DESTDIR)/etc/udev/rules.d/99-kvmx.rules
	install -D -m 0644 tools/kvmxd.service $(DESTDIR)/etc/systemd/system/kvmxd.service
	install -D -m 0644 tools/kvmxd.conf.example $(DESTDIR)/etc/kvmx/kvmxd.conf.example
	install -d $(DESTDIR)/etc/kvmx/vms.d
	install -d $(DESTDIR)/usr/local/bin
	install -m 0755 $(TOOLS) $(DESTDIR)/usr/local/bin/

install: modules install-tools
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_DIR=updates/kvmx modules_install
	depmod -a $(KVER)

dkms-install:
	rm -rf /usr/src/kvmx-$(VERSION)
	mkdir -p /usr/src/kvmx-$(VERSION)
	git -C $(TOP) archive HEAD | tar -x -C /usr/src/kvmx-$(VERSION) 2>/dev/null || \
		tar -C $(TOP) --exclude=./build --exclude=.git -cf - . | tar -x -C /usr/src/kvmx-$(VERSION)
	dkms add -m kvmx -v $(VERSION)
	dkms build -m kvmx -v $(VERSION) -k $(KVER)
	dkms install -m kvmx -v $(VERSION) -k $(KVER)
	$(MAKE) --no-print-directory install-tools

dkms-uninstall:
	-dkms remove -m kvmx -v $(VERSION) --all
	rm -rf /usr/src/kvmx-$(VERSION)

# --- tests -----------------------------------------------------------------

deps:
	@bash $(TOP)/scripts/deps.sh

# Build the modules for the test kernel (the one deps installed), with the
# warnings and sparse checks on: a warning fails the build.
test-kernel-modules: deps
	@kv=$$(cat $(BUILD)/kver); \
	{ $(MAKE) -C /lib/modules/$$kv/build M=$(TOP) W=1 C=1 modules && \
	  $(MAKE) -C /lib/modules/$$kv/build M=$(TOP)/selftests/modules \
		KBUILD_EXTRA_SYMBOLS=$(TOP)/Module.symvers W=1 C=1 modules; } \
		>$(BUILD)/modules.log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ] || grep -E 'warning:|error:' $(BUILD)/modules.log; then \
		cat $(BUILD)/modules.log; echo "module build for $$kv failed or warned"; exit 1; \
	fi; echo "modules built for $$kv (W=1, sparse: clean)"

check:
	@mkdir -p $(BUILD)/results
	@bash $(TOP)/selftests/unit/run.sh $(BUILD)

hosttest: deps
	@mkdir -p $(BUILD)/results
	@bash $(TOP)/selftests/dkms/run.sh $(BUILD)

vmtest: test-kernel-modules
	@$(MAKE) --no-print-directory vmtest-run

vmtest-run:
	@mkdir -p $(BUILD)/results
	@$(PYTHON) $(TOP)/selftests/vm/run.py --kver $$(cat $(BUILD)/kver) \
		--mem $(VM_MEM) --cpus $(VM_CPUS) --timeout $(VM_TIMEOUT) \
		--results $(BUILD)/results/vm.txt $(SUITES)

vmtest-debug: test-kernel-modules
	@$(MAKE) --no-print-directory vmtest-debug-run

vmtest-debug-run:
	@mkdir -p $(BUILD)/results
	@$(PYTHON) $(TOP)/selftests/vm/run.py --kver $$(cat $(BUILD)/kver) \
		--mem $(DEBUG_MEM) --cpus $(VM_CPUS) --timeout $(VM_TIMEOUT) \
		--vmdir vm-debug --kernel-args "$(DEBUG_ARGS)" \
		--results $(BUILD)/results/vm-debug.txt $(DEBUG_SUITES)

# The two test hosts have one vCPU each: they run side by side, the debug
# one's output in build/vm-debug/run.log.
test:
	@rm -rf $(BUILD)/results
	@$(MAKE) --no-print-directory check; a=$$?; \
	$(MAKE) --no-print-directory hosttest; b=$$?; \
	$(MAKE) --no-print-directory test-kernel-modules || exit 1; \
	mkdir -p $(BUILD)/vm-debug; \
	$(MAKE) --no-print-directory vmtest-debug-run >$(BUILD)/vm-debug/run.log 2>&1 & d=$$!; \
	$(MAKE) --no-print-directory vmtest-run SUITES="$(TEST_SUITES)"; c=$$?; \
	wait $$d; e=$$?; \
	echo "[vm-debug] $$(tail -n 1 $(BUILD)/vm-debug/run.log)"; \
	[ $$e -eq 0 ] || grep -E '^\[vm\]|FAIL' $(BUILD)/vm-debug/run.log; \
	bash $(TOP)/selftests/summary.sh $(BUILD)/results && \
		[ $$a -eq 0 ] && [ $$b -eq 0 ] && [ $$c -eq 0 ] && [ $$e -eq 0 ]

demo: test-kernel-modules
	@$(PYTHON) $(TOP)/selftests/vm/run.py --kver $$(cat $(BUILD)/kver) \
		--mem $(VM_MEM) --cpus $(VM_CPUS) --timeout $(VM_TIMEOUT) \
		--demo demo

bench: test-kernel-modules
	@BENCH_ARGS='$(BENCH_ARGS)' bash $(TOP)/bench/run.sh $(BUILD) $(BENCH)

# The long ksm_cmd integrity run (11 minutes of merging under every classifier).
soak: test-kernel-modules
	@$(MAKE) --no-print-directory vmtest SUITES=ksm_cmd_soak

lint: deps
	@bash $(TOP)/scripts/lint.sh
