# Keel: `make` builds build/keel; `make check` runs every test; `make run`
# boots Keel (with dom0 when one has been fetched) in QEMU on this terminal.

BUILD      ?= build
CC         := gcc
LD         := ld
OBJCOPY    := objcopy
PYTHON     ?= python3

# ---------------------------------------------------------------- hypervisor
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector \
	-fpie -fvisibility=hidden -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fcf-protection=none -fno-common -fno-strict-aliasing \
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers \
	-Ihv/include -Ihv/arch/x86/include -isystem $(BUILD)/xen-include \
	-include hv/include/keel/visibility.h -MMD -MP
HV_ASFLAGS := -Ihv/include -Ihv/arch/x86/include -D__ASSEMBLER__ -MMD -MP

HV_SRCS := $(sort $(wildcard hv/common/*.c) $(wildcard hv/arch/x86/*.c) \
	$(wildcard hv/arch/x86/*.S) $(wildcard hv/arch/x86/boot/*.S))
HV_OBJS := $(patsubst %,$(BUILD)/%.o,$(HV_SRCS))

all: $(BUILD)/keel

$(BUILD)/xen-include/xen:
	@mkdir -p $(BUILD)/xen-include
	@test -f /usr/include/xen/xen.h || { echo "Xen public headers missing: run scripts/deps.sh (libxen-dev)"; exit 1; }
	ln -sfn /usr/include/xen $@

$(BUILD)/hv/%.c.o: hv/%.c | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/%.S.o: hv/%.S
	@mkdir -p $(dir $@)
	$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/keel.lds: hv/keel.lds.S hv/arch/x86/include/asm/layout.h
	@mkdir -p $(BUILD)
	$(CC) -E -P -x c -D__ASSEMBLER__ -Ihv/arch/x86/include -Ihv/include $< -o $@

$(BUILD)/keel-syms: $(HV_OBJS) $(BUILD)/keel.lds
	$(LD) -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
		--no-warn-rwx-segments -T $(BUILD)/keel.lds -o $@ $(HV_OBJS)

# The loadable image: a flat memory image carrying Multiboot 1 and 2 headers.
$(BUILD)/keel: $(BUILD)/keel-syms
	$(OBJCOPY) -O binary $< $@

# ---------------------------------------------------------------- host tests
# Core sources that must also build and run on the host under ASan/UBSan.
CORE_HOST_SRCS := hv/common/format.c hv/common/cmdline.c hv/common/multiboot.c \
	hv/common/memmap.c hv/common/frametable.c hv/common/page_alloc.c

HOST_CFLAGS := -std=gnu11 -O1 -g -DKEEL_HOST -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Ihv/include -Itests/unit -isystem $(BUILD)/xen-include -MMD -MP

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
CORE_HOST_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(CORE_HOST_SRCS))

$(BUILD)/host/%.c.o: %.c | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c tests/unit/harness.c $(CORE_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $< tests/unit/harness.c $(CORE_HOST_OBJS) -o $@

unit-build: $(UNIT_BINS)

# libFuzzer targets for the parsers (clang only); `make fuzz-build` builds
# them, then e.g. `build/fuzz/fuzz_multiboot -max_total_time=10`.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -DKEEL_HOST -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Ihv/include -isystem $(BUILD)/xen-include
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_HOST_SRCS) | $(BUILD)/xen-include/xen
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(CORE_HOST_SRCS) -o $@

fuzz-build: $(FUZZ_BINS)

# ---------------------------------------------------------------- workflows
deps:
	@scripts/deps.sh

check: deps
	$(MAKE) all unit-build
	$(PYTHON) tests/run.py --build $(BUILD)

run: deps all
	$(PYTHON) tests/system/qemu.py --build $(BUILD) --interactive

clean:
	rm -rf $(BUILD)

.PHONY: all deps check run clean unit-build fuzz-build
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
