# Keel: `make` builds build/keel; `make check` runs every test; `make run`
# boots Keel (with dom0 when one has been fetched) in QEMU on this terminal.

BUILD      ?= build
CC         := gcc
LD         := ld
OBJCOPY    := objcopy
PYTHON     ?= python3

# ---------------------------------------------------------------- hypervisor
# Xen's headers fall back to pre-3.0 hypercall numbers unless told otherwise.
XEN_ABI := -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__

HV_CFLAGS := $(XEN_ABI) -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector \
	-fpie -fvisibility=hidden -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fcf-protection=none -fno-common -fno-strict-aliasing \
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers \
	-Ihv/include -Ihv/arch/x86/include -isystem $(BUILD)/xen-include \
	-include hv/include/keel/visibility.h -MMD -MP
HV_ASFLAGS := -Ihv/include -Ihv/arch/x86/include -I$(BUILD)/include -D__ASSEMBLER__ -MMD -MP
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T $(BUILD)/keel.lds

# asm-offsets.c is not part of Keel: it only feeds asm-offsets.h.
ASM_OFFSETS_SRC := hv/arch/x86/asm-offsets.c
HV_SRCS := $(sort $(filter-out $(ASM_OFFSETS_SRC),$(wildcard hv/common/*.c) \
	$(wildcard hv/arch/x86/*.c)) $(wildcard hv/arch/x86/*.S) $(wildcard hv/arch/x86/pv/*.c) $(wildcard hv/arch/x86/pv/*.S) $(wildcard hv/arch/x86/hvm/*.c) $(wildcard hv/arch/x86/hvm/*.S) $(wildcard hv/arch/x86/boot/*.S))
HV_OBJS := $(patsubst %,$(BUILD)/%.o,$(HV_SRCS))

all: $(BUILD)/keel

$(BUILD)/xen-include/xen:
	@mkdir -p $(BUILD)/xen-include
	@test -f /usr/include/xen/xen.h || { echo "Xen public headers missing: run scripts/deps.sh (libxen-dev)"; exit 1; }
	ln -sfn /usr/include/xen $@

$(BUILD)/hv/%.c.o: hv/%.c | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/%.S.o: hv/%.S | $(BUILD)/include/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(HV_ASFLAGS) -c $< -o $@

# Structure offsets for assembly, computed by the C compiler.
$(BUILD)/include/asm-offsets.h: $(ASM_OFFSETS_SRC) | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP -g,$(HV_CFLAGS)) -MMD -MP -MT $@ -MF $@.d -S $< -o $@.s
	{ echo '/* Generated from $<: do not edit. */'; \
	  sed -n 's/^@@asmoff \([A-Za-z0-9_]*\) \(.*\)$$/#define \1 \2/p' $@.s; } > $@.tmp
	mv $@.tmp $@

$(BUILD)/keel.lds: hv/keel.lds.S hv/arch/x86/include/asm/layout.h
	@mkdir -p $(BUILD)
	$(CC) -E -P -x c -D__ASSEMBLER__ -Ihv/arch/x86/include -Ihv/include $< -o $@

# Two links: the first, with an empty symbol table, gives the addresses of
# all text symbols; the second carries them.  The table sits after the text,
# so no text may move between the passes; the check makes sure of it.
$(BUILD)/syms-empty.S: scripts/gensyms.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/gensyms.py empty > $@

$(BUILD)/keel-pass1: $(HV_OBJS) $(BUILD)/syms-empty.o $(BUILD)/keel.lds
	$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(BUILD)/syms-empty.o
	nm -n -S --defined-only $@ > $@.nm

$(BUILD)/syms.S: $(BUILD)/keel-pass1 scripts/gensyms.py
	$(PYTHON) scripts/gensyms.py table $<.nm > $@

$(BUILD)/syms.o $(BUILD)/syms-empty.o: $(BUILD)/%.o: $(BUILD)/%.S
	$(CC) -c $< -o $@

$(BUILD)/keel-syms: $(HV_OBJS) $(BUILD)/syms.o $(BUILD)/keel.lds
	$(LD) $(HV_LDFLAGS) -o $@.tmp $(HV_OBJS) $(BUILD)/syms.o
	nm -n -S --defined-only $@.tmp > $@.nm
	$(PYTHON) scripts/gensyms.py check $(BUILD)/keel-pass1.nm $@.nm
	mv $@.tmp $@

# The loadable image: a flat memory image carrying Multiboot 1 and 2 headers.
$(BUILD)/keel: $(BUILD)/keel-syms
	$(OBJCOPY) -O binary $< $@

# ---------------------------------------------------------------- host tests
# Core sources that must also build and run on the host under ASan/UBSan.
# One per line, so parallel work merges cleanly.
CORE_HOST_SRCS := hv/common/format.c
CORE_HOST_SRCS += hv/common/cmdline.c
CORE_HOST_SRCS += hv/common/timerq.c
CORE_HOST_SRCS += hv/common/time_scale.c
CORE_HOST_SRCS += hv/common/symbols.c
CORE_HOST_SRCS += hv/common/elf.c
CORE_HOST_SRCS += hv/common/event_channel.c
CORE_HOST_SRCS += hv/common/event_fifo.c
CORE_HOST_SRCS += hv/common/grant_table.c
CORE_HOST_SRCS += hv/common/acpi.c
CORE_HOST_SRCS += hv/common/multiboot.c
CORE_HOST_SRCS += hv/common/memmap.c
CORE_HOST_SRCS += hv/common/frametable.c
CORE_HOST_SRCS += hv/common/page_alloc.c
CORE_HOST_SRCS += hv/common/ioport.c
CORE_HOST_SRCS += hv/common/pci_cfg.c
CORE_HOST_SRCS += hv/common/pv_mm.c
CORE_HOST_SRCS += hv/common/desc_check.c
CORE_HOST_SRCS += hv/common/vtime.c
CORE_HOST_SRCS += hv/common/sched_rr.c
CORE_HOST_SRCS += hv/common/sched_credit2.c
CORE_HOST_SRCS += hv/common/sched_rtds.c
CORE_HOST_SRCS += hv/common/xz.c
CORE_HOST_SRCS += hv/common/inflate.c
CORE_HOST_SRCS += hv/common/bzimage.c
CORE_HOST_SRCS += hv/common/pirq.c
CORE_HOST_SRCS += hv/common/x86_decode.c
CORE_HOST_SRCS += hv/common/domain_mem.c
CORE_HOST_SRCS += hv/common/domctl_worker.c
CORE_HOST_SRCS += hv/common/cpupool.c
CORE_HOST_SRCS += hv/common/rcu_gp.c
CORE_HOST_SRCS += hv/common/cpu_policy.c
CORE_HOST_SRCS += hv/common/tlbclock.c
CORE_HOST_SRCS += hv/common/memory.c
CORE_HOST_SRCS += hv/common/debugreg.c
CORE_HOST_SRCS += hv/common/pv_ctx.c
CORE_HOST_SRCS += hv/common/p2m.c
CORE_HOST_SRCS += hv/common/guest_walk.c
CORE_HOST_SRCS += hv/common/svm_exit.c
CORE_HOST_SRCS += hv/common/hvm_mmio.c
CORE_HOST_SRCS += hv/common/hvm_param.c
CORE_HOST_SRCS += hv/common/hvm_context.c
CORE_HOST_SRCS += hv/common/vlapic.c
CORE_HOST_SRCS += hv/common/hvm_upcall.c

HOST_CFLAGS := $(XEN_ABI) -std=gnu11 -O1 -g -DKEEL_HOST -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Ihv/include -Ihv/arch/x86/include -Itests/unit -isystem $(BUILD)/xen-include -MMD -MP

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
CORE_HOST_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(CORE_HOST_SRCS))
# Test helpers linked into every unit test and fuzz target (the scheduling
# simulator drives the policies through the framework's contract).
TEST_HELPER_SRCS := tests/unit/sim_sched.c
TEST_HELPER_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(TEST_HELPER_SRCS))

$(BUILD)/host/%.c.o: %.c | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c tests/unit/harness.c $(CORE_HOST_OBJS) $(TEST_HELPER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $< tests/unit/harness.c $(CORE_HOST_OBJS) $(TEST_HELPER_OBJS) -o $@

unit-build: $(UNIT_BINS)

# ---------------------------------------------------------------- PV test guests
# Every tests/guests/<name>/ (except the runtime rt/) becomes
# build/guests/<name>.elf: its C files linked with the runtime, plus the
# compiler flags listed in an optional tests/guests/<name>/flags file.  An
# optional tests/guests/<name>/embed names one other guest whose ELF it
# carries (EMBED_ELF: its path, for .incbin), e.g. a domU it builds.
GUEST_NAMES := $(sort $(filter-out rt,$(notdir $(patsubst %/,%,$(dir \
	$(wildcard tests/guests/*/*.c tests/guests/*/*.S))))))
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES))
GUEST_RT := $(wildcard tests/guests/rt/*.c tests/guests/rt/*.S)
# Without an interface version Xen's headers fall back to pre-3.0 hypercall
# numbers (sched_op would become sched_op_compat).
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-builtin \
	-Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ \
	-Itests/guests/rt -isystem $(BUILD)/xen-include
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,tests/guests/rt/guest.lds \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

guest_embed = $(strip $(shell cat tests/guests/$(1)/embed 2>/dev/null))

define GUEST_RULE
$(BUILD)/guests/$(1).elf: $(wildcard tests/guests/$(1)/*.c tests/guests/$(1)/*.S \
		tests/guests/$(1)/*.h tests/guests/$(1)/flags tests/guests/$(1)/embed) \
		$(GUEST_RT) $(wildcard tests/guests/rt/*.h) tests/guests/rt/guest.lds \
		$(if $(call guest_embed,$(1)),$(BUILD)/guests/$(call guest_embed,$(1)).elf) \
		| $(BUILD)/xen-include/xen
	@mkdir -p $$(dir $$@)
	$(CC) $(GUEST_CFLAGS) -DGUEST_NAME='"$(1)"' \
		$(if $(call guest_embed,$(1)),-DEMBED_ELF='"$(BUILD)/guests/$(call guest_embed,$(1)).elf"') \
		$$(shell cat tests/guests/$(1)/flags 2>/dev/null) $(GUEST_LDFLAGS) \
		-o $$@ $(GUEST_RT) $(wildcard tests/guests/$(1)/*.c tests/guests/$(1)/*.S)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_RULE,$(g))))
# The domU build of the fuzz guest compiles ../fuzz/fuzz.c into itself.
$(BUILD)/guests/fuzz-domu.elf: tests/guests/fuzz/fuzz.c

# The PVH test domU: its own entry (32-bit, no runtime), linked at its
# physical address; carried by the pvh launcher (tests/guests/pvh).
PVH_DOMU_SRCS := $(wildcard tests/pvh/domu/*.c tests/pvh/domu/*.S)
$(BUILD)/guests/pvh-domu.elf: $(PVH_DOMU_SRCS) tests/pvh/domu/pvh.lds tests/pvh/comm.h \
		| $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
		-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
		-fcf-protection=none -fno-builtin -Wall -Wextra -Werror \
		-Wno-missing-field-initializers -isystem $(BUILD)/xen-include \
		-nostdlib -static -no-pie -Wl,-T,tests/pvh/domu/pvh.lds -Wl,--build-id=none \
		-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-o $@ $(PVH_DOMU_SRCS)

guests: $(GUEST_ELFS) $(BUILD)/guests/pvh-domu.elf

# ---------------------------------------------------------------- fuzzing
# libFuzzer targets (clang): every tests/fuzz/fuzz_<name>.c is linked with
# all the host-buildable core sources.  `make fuzz-build` builds them all;
# `make fuzz` runs each for FUZZ_TIME seconds (findings fail the rule),
# starting from the seeds kept in tests/fuzz/corpus/<name>/ (refresh them
# with `make fuzz-seeds`, which merges what the campaign found into them).
FUZZ_CC ?= clang
FUZZ_TIME ?= 30
FUZZ_CFLAGS := $(XEN_ABI) -std=gnu11 -O1 -g -DKEEL_HOST -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-Wno-missing-field-initializers -Ihv/include -Ihv/arch/x86/include -isystem $(BUILD)/xen-include
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_HOST_SRCS) $(TEST_HELPER_SRCS) | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(CORE_HOST_SRCS) $(TEST_HELPER_SRCS) -o $@

fuzz-build: $(FUZZ_BINS)

# Then the guest-level fuzzer: the racing fuzz guest (tests/guests/fuzz-race,
# both vCPUs at once) on Keel for GUEST_FUZZ_CALLS calls a vCPU, once per
# seed of GUEST_FUZZ_SEEDS (tests/system/guest_fuzz.py prints calls and time;
# 4-8 minutes a seed at 10^6 under TCG).  GUEST_FUZZ_CALLS=0 skips it.
GUEST_FUZZ_CALLS ?= 1000000
GUEST_FUZZ_SEEDS ?= 0x6b65656c66757a7a 0x1 0xdeadbeef
fuzz: $(FUZZ_BINS) all guests
	@for f in $(FUZZ_BINS); do \
		seeds=tests/fuzz/corpus/$$(basename $$f); mkdir -p $$f.corpus $$seeds && \
		echo "== $$f" && \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=16384 -print_final_stats=0 \
			$$f.corpus $$seeds || exit 1; done
	@[ "$(GUEST_FUZZ_CALLS)" = 0 ] || GUEST_FUZZ_SEEDS="$(GUEST_FUZZ_SEEDS)" \
		$(PYTHON) tests/system/guest_fuzz.py --build $(BUILD) --calls $(GUEST_FUZZ_CALLS)

fuzz-seeds: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		seeds=tests/fuzz/corpus/$$(basename $$f); mkdir -p $$f.corpus $$seeds && \
		$$f -merge=1 $$seeds $$f.corpus 2>&1 | tail -1; done

# ---------------------------------------------------------------- test tools
# mbshim: a 32-bit Multiboot 1 kernel that boots Keel with crafted boot
# information (malformed structures, odd memory maps) for the system tests.
SHIM_SRCS := tests/tools/mbshim/entry.S tests/tools/mbshim/shim.c
SHIM_OBJS := $(patsubst %,$(BUILD)/%.o,$(SHIM_SRCS))
SHIM_CFLAGS := -m32 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mgeneral-regs-only -Wall -Wextra -Werror -MMD -MP

$(BUILD)/tests/tools/mbshim/%.o: tests/tools/mbshim/%
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(BUILD)/mbshim: $(SHIM_OBJS) tests/tools/mbshim/shim.lds
	$(LD) -m elf_i386 -nostdlib -static -no-pie -z noexecstack \
		--no-warn-rwx-segments -T tests/tools/mbshim/shim.lds -o $@ $(SHIM_OBJS)

shim: $(BUILD)/mbshim

# ---------------------------------------------------------------- workflows
deps:
	@scripts/deps.sh

# The Linux dom0 scenarios need Debian's kernel and a busybox initramfs, the
# toolstack ones Debian's Xen 4.17 userland in a dom0 initramfs and a domU
# initramfs: fetched once into cache/ (outside git) by the project's own
# script, which rebuilds the toolstack initramfs when their inputs change.
fetch:
	@scripts/fetch-debian.sh --toolstack

check: deps fetch
	$(MAKE) all unit-build shim guests fuzz-build
	$(PYTHON) tests/run.py --build $(BUILD)

# The differential harness: every PV test guest on Debian's Xen 4.17 and on
# Keel under the same QEMU, hypercall by hypercall; prints each difference
# and "N same, N different", and records Xen's answers in
# tests/conformance/xen/ (which make check compares Keel's runs against).
conformance: deps all guests
	scripts/fetch-debian.sh --xen
	$(PYTHON) tests/conformance/run.py --build $(BUILD)

# Benchmarks (not tests, so not part of check): bench/run.sh compares Keel
# with Xen 4.17 on the benchmark guest tests/guests/bench; bench/boot.sh
# times the boot of Debian's Linux to /init natively, on Xen and on Keel;
# bench/irq.sh its device interrupts and disk reads the same three ways;
# bench/mm.sh fork, clone, mmap, mremap, mprotect and page faults.
bench: deps all guests
	scripts/fetch-debian.sh --bench --xen
	bench/run.sh
	bench/boot.sh
	bench/irq.sh
	bench/mm.sh

# The XZ decoder's exact instruction count on Debian's kernel (callgrind):
# xz.c and Keel's memcpy/memset built with the hypervisor's code-generation
# flags, driven by a host program that checks the output byte for byte.
BENCH_XZ_CFLAGS := $(XEN_ABI) -std=gnu11 -O2 -ffreestanding -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -fno-omit-frame-pointer -fcf-protection=none \
	-fno-common -fno-strict-aliasing -g -Wall -Wextra -Werror -Ihv/include
$(BUILD)/bench/xz_count: bench/xz_count.c hv/common/xz.c hv/common/string.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_XZ_CFLAGS) -c hv/common/xz.c -o $@-xz.o
	$(CC) $(BENCH_XZ_CFLAGS) -c hv/common/string.c -o $@-string.o
	$(CC) -O2 -Wall -Wextra -Ihv/include bench/xz_count.c $@-xz.o $@-string.o -o $@

# xl create/destroy of a PV domU from Debian's toolstack in dom0, on Xen 4.17
# and on Keel (KEEL_TOOLSTACK=0 leaves it out); long, so not part of `make bench`.
bench-toolstack: deps all
	bench/toolstack.sh

# Scheduling (issue 12): wake-up of a blocked vCPU, alone and beside two CPU
# hogs, and switches between two vCPUs on one CPU; credit2 on both.
bench-sched: deps all
	GROUP=sched bench/toolstack.sh

# blkback/netback serving a PV domU (256 MiB direct dd on xvda each way,
# 256 MiB TCP each way), Xen 4.17 and Keel booted at once; not in `make bench`.
bench-splitdrv: deps all
	bench/splitdrv.sh

bench-xz: $(BUILD)/bench/xz_count
	valgrind --tool=callgrind --toggle-collect=xz_decode --toggle-collect=xz_decoded_size --callgrind-out-file=$(BUILD)/bench/xz.callgrind \
		$(BUILD)/bench/xz_count cache/vmlinuz cache/vmlinux
	callgrind_annotate $(BUILD)/bench/xz.callgrind | head -30

run: deps fetch all
	$(PYTHON) tests/system/qemu.py --build $(BUILD) --interactive

# A bootable GRUB CD image (Multiboot 2; a Multiboot 1 entry too), with the
# dom0 from cache/ when one has been fetched.
iso: deps all
	$(PYTHON) tests/system/qemu.py --build $(BUILD) --make-iso $(BUILD)/keel.iso

clean:
	rm -rf $(BUILD)

# Keep intermediate objects (the host test objects), so reruns rebuild nothing.
.SECONDARY:

.PHONY: all deps fetch check conformance run iso bench bench-toolstack bench-sched bench-splitdrv bench-xz clean unit-build shim guests fuzz fuzz-build fuzz-seeds
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
