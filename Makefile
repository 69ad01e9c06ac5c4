# vmm: one build. `make` builds ./vmm; `make test` is the fast suite; `make check` is everything.
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
LDLIBS  := -lzstd -lpthread -lrt

ifeq ($(SANITIZE),1)
BUILD   := build/san
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
VMM     := $(BUILD)/vmm
else
BUILD   := build/release
VMM     := vmm
endif

CORE_SRC    := $(wildcard core/*.c)
DEVICE_SRC  := $(wildcard devices/*.c devices/virtio/*.c)
REPLAY_SRC  := $(wildcard replay/*.c)
GDB_SRC     := $(wildcard gdbstub/*.c)
CLI_SRC     := core/main.c core/cli_vm.c core/cli_opt.c core/cli_replay.c core/cli_journal.c core/cli_hunt.c core/cli_pack.c
LIB_SRC     := $(filter-out $(CLI_SRC),$(CORE_SRC)) $(DEVICE_SRC) $(REPLAY_SRC) $(GDB_SRC)
LIB_OBJ     := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

GUEST_DIR   := build/guests
GUEST_LIB   := $(wildcard tests/guests/lib/*.c) $(wildcard tests/guests/lib/*.S)
GUEST_SRC   := $(wildcard tests/guests/*.c)
GUEST_ELF   := $(GUEST_SRC:tests/guests/%.c=$(GUEST_DIR)/%.elf)
# Guests are 64-bit code behind a 32-bit multiboot entry (tests/guests/lib/entry.S), linked
# low (1 MiB) and converted to the ELF32 that multiboot loaders take.
GUEST_CFLAGS := -m64 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-builtin \
		-nostdlib -O2 -g -Wall -Wextra -Werror -Itests/guests/lib -mno-red-zone \
		-mcmodel=small -fno-asynchronous-unwind-tables -mno-sse -mno-mmx -mno-80387 -mgeneral-regs-only

LINUX_DIR   := build/guest

.PHONY: all test check layers unit guests guest-tests cli-tests rr-tests hunt-tests readme-tests net-tests gdb-tests kvm-tests nested-tests nested-linux-tests fuzz fuzz-seeds fuzz-coverage bench linux linux-tests demo deps deps-check clean help
all: $(VMM)

help:
	@echo "make           build ./vmm"
	@echo "make test      fast suite: unit tests, then the KVM suites on the host's KVM, or in a"
	@echo "               nested kvm_amd under QEMU when the host has none (SANITIZE=1: ASan+UBSan)"
	@echo "make check     everything: deps, fast suite, sanitizer suite, the KVM suites in the nested"
	@echo "               kvm_amd too, fuzzing, Linux boots (host KVM and nested)"
	@echo "make nested-tests  the KVM suites in the nested kvm_amd (tests/nested/run.sh)"
	@echo "make demo      build and boot the demo guest"
	@echo "make linux     build the guest kernel and initramfs (cached in build/guest)"
	@echo "make bench     an exit against a bare KVM loop, run vs record vs replay, on each KVM this"
	@echo "               machine has (the host's, and the nested kvm_amd), written to bench/RESULTS.md"
	@echo "make fuzz      fuzz the journal reader, the virtqueue and the GDB packet parser, FUZZ_SECONDS (60) each, under ASan+UBSan"

$(VMM): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# Unit tests link against an archive, so a device test pulls in that device alone.
$(BUILD)/libvmm.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libvmm.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -Icore -Idevices -Ireplay -Igdbstub -o $@ $< $(BUILD)/libvmm.a $(LDFLAGS) -lcmocka $(LDLIBS)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

# Test guests: freestanding multiboot ELF32 kernels.
$(GUEST_DIR)/lib/%.o: tests/guests/lib/%.c $(wildcard tests/guests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(GUEST_DIR)/lib/%.o: tests/guests/lib/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(GUEST_DIR)/%.o: tests/guests/%.c $(wildcard tests/guests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

GUEST_LIBOBJ := $(patsubst tests/guests/lib/%,$(GUEST_DIR)/lib/%,$(patsubst %.c,%.o,$(patsubst %.S,%.o,$(GUEST_LIB))))

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o $(GUEST_LIBOBJ) tests/guests/lib/guest.ld
	ld -m elf_x86_64 -nostdlib -z noexecstack --no-warn-rwx-segments -T tests/guests/lib/guest.ld \
		-o $(GUEST_DIR)/$*.elf64 $< $(GUEST_LIBOBJ)
	objcopy -O elf32-i386 $(GUEST_DIR)/$*.elf64 $@

guests: $(GUEST_ELF)

# The far end of --net udp: for the virtio-net guests and the Linux boot.
NETPEER := $(BUILD)/netpeer
$(NETPEER): tools/netpeer.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(WARN) -o $@ $<

guest-tests: $(VMM) guests $(NETPEER)
	@VMM=$(abspath $(VMM)) NETPEER=$(abspath $(NETPEER)) tests/run-guests.sh $(GUEST_ELF)

cli-tests: $(VMM) $(GUEST_DIR)/exit42.elf $(GUEST_DIR)/virtio_console.elf $(GUEST_DIR)/race.elf $(GUEST_DIR)/spin.elf $(GUEST_DIR)/demo.elf $(NETPEER)
	@VMM=$(abspath $(VMM)) NETPEER=$(abspath $(NETPEER)) tests/cli.sh $(GUEST_DIR)/exit42.elf

# Fuzz targets (journal reader, virtqueue, GDB packet framing), always under ASan+UBSan, each driven for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_JOURNAL_SRC := replay/journal.c replay/journal_write.c replay/xxh64.c replay/pack.c replay/exit_rec.c replay/rr.c replay/hash.c core/cpuid.c core/vm.c core/vm_trap.c core/run.c core/wake.c core/place.c core/plant.c core/insn.c core/chaos.c core/board.c core/kvm_caps.c \
		core/boot_common.c core/boot_multiboot.c core/boot_linux.c core/elf.c \
		core/console.c core/guest_mem.c core/paging.c core/step.c core/worker.c core/netdev.c core/ioevent.c $(DEVICE_SRC) $(GDB_SRC)
build/fuzz/fuzz_journal: tests/fuzz/fuzz_journal.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_JOURNAL_SRC) $(wildcard replay/*.h core/*.h gdbstub/*.h)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(FUZZ_FLAGS) $(WARN) -Ireplay -Icore -Igdbstub -o $@ tests/fuzz/fuzz_journal.c tests/fuzz/driver.c \
		$(FUZZ_JOURNAL_SRC) -lzstd -lpthread -lrt
build/fuzz/fuzz_virtq: tests/fuzz/fuzz_virtq.c tests/fuzz/driver.c tests/fuzz/fuzz.h devices/virtio/virtq.c core/guest_mem.c $(wildcard devices/virtio/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(FUZZ_FLAGS) $(WARN) -Idevices -Icore -o $@ tests/fuzz/fuzz_virtq.c tests/fuzz/driver.c \
		devices/virtio/virtq.c core/guest_mem.c

build/fuzz/fuzz_rsp: tests/fuzz/fuzz_rsp.c tests/fuzz/driver.c tests/fuzz/fuzz.h gdbstub/rsp.c gdbstub/rsp.h
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(FUZZ_FLAGS) $(WARN) -Igdbstub -o $@ tests/fuzz/fuzz_rsp.c tests/fuzz/driver.c gdbstub/rsp.c

build/fuzz/fuzz_board: tests/fuzz/fuzz_board.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_JOURNAL_SRC) $(wildcard core/*.h devices/*.h devices/virtio/*.h)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(FUZZ_FLAGS) $(WARN) -Icore -Idevices -Ireplay -Igdbstub -o $@ tests/fuzz/fuzz_board.c tests/fuzz/driver.c \
		$(FUZZ_JOURNAL_SRC) -lzstd -lpthread -lrt

build/fuzz/fuzz_gdb: tests/fuzz/fuzz_gdb.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_JOURNAL_SRC) $(wildcard core/*.h gdbstub/*.h)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(FUZZ_FLAGS) $(WARN) -Icore -Idevices -Ireplay -Igdbstub -o $@ tests/fuzz/fuzz_gdb.c tests/fuzz/driver.c \
		$(FUZZ_JOURNAL_SRC) $(FUZZ_LDFLAGS_fuzz_gdb) -lzstd -lpthread -lrt

FUZZ_TARGETS := fuzz_journal fuzz_virtq fuzz_rsp fuzz_board fuzz_gdb
# Each target's sources besides its own file, for the libFuzzer and coverage builds (clang).
FUZZ_DEPS_fuzz_journal := $(FUZZ_JOURNAL_SRC)
FUZZ_DEPS_fuzz_board := $(FUZZ_JOURNAL_SRC)
FUZZ_DEPS_fuzz_gdb := $(FUZZ_JOURNAL_SRC)
FUZZ_DEPS_fuzz_virtq := devices/virtio/virtq.c core/guest_mem.c
FUZZ_DEPS_fuzz_rsp := gdbstub/rsp.c
# fuzz_gdb serves the vCPU's ioctls itself.
FUZZ_LDFLAGS_fuzz_gdb := -Wl,--wrap=ioctl
FUZZ_INC := -Icore -Idevices -Ireplay -Igdbstub
LIBFUZZER_FLAGS := -Wno-gnu-variable-sized-type-not-at-end -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
COVERAGE_FLAGS := -Wno-gnu-variable-sized-type-not-at-end -O0 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping

.SECONDEXPANSION:
build/libfuzzer/%: tests/fuzz/%.c tests/fuzz/libfuzzer.c tests/fuzz/fuzz.h $$(FUZZ_DEPS_$$*)
	@mkdir -p $(dir $@)
	clang -D_GNU_SOURCE $(WARN) $(LIBFUZZER_FLAGS) $(FUZZ_INC) -o $@ $< tests/fuzz/libfuzzer.c $(FUZZ_DEPS_$*) $(FUZZ_LDFLAGS_$*) -lzstd -lpthread -lrt
build/cov/%: tests/fuzz/%.c tests/fuzz/libfuzzer.c tests/fuzz/fuzz.h $$(FUZZ_DEPS_$$*)
	@mkdir -p $(dir $@)
	clang -D_GNU_SOURCE $(WARN) $(COVERAGE_FLAGS) $(FUZZ_INC) -o $@ $< tests/fuzz/libfuzzer.c $(FUZZ_DEPS_$*) $(FUZZ_LDFLAGS_$*) -lzstd -lpthread -lrt

fuzz:
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The seeds libFuzzer starts from, written by each target's own seed builder (committed).
fuzz-seeds: $(FUZZ_TARGETS:%=build/fuzz/%)
	@for t in $(FUZZ_TARGETS); do mkdir -p tests/fuzz/corpus/$$t && build/fuzz/$$t --seeds tests/fuzz/corpus/$$t; done

# Line coverage of each target's sources by the corpus `make fuzz` grew (llvm-cov).
fuzz-coverage: $(FUZZ_TARGETS:%=build/cov/%)
	@tests/fuzz/coverage.sh $(FUZZ_TARGETS)

rr-tests: $(VMM) guests $(NETPEER)
	@VMM=$(abspath $(VMM)) NETPEER=$(abspath $(NETPEER)) tests/rr-guests.sh $(GUEST_ELF)

net-tests: $(VMM) $(GUEST_DIR)/virtio_net.elf
	@VMM=$(abspath $(VMM)) tests/net-tap.sh $(GUEST_DIR)/virtio_net.elf

readme-tests: $(VMM) guests
	@VMM=$(abspath $(VMM)) tests/readme.sh README.md

hunt-tests: $(VMM) guests
	@VMM=$(abspath $(VMM)) tests/hunt.sh $(GUEST_DIR)/race.elf $(GUEST_DIR)/exit42.elf

gdb-tests: $(VMM) $(GUEST_DIR)/gdb_target.elf $(GUEST_DIR)/landmarks.elf
	@VMM=$(abspath $(VMM)) tests/gdb-run.sh $(GUEST_DIR)/gdb_target.elf

# The suites that need a KVM run on the host's /dev/kvm (kvm-tests) and, for every run of `make
# check`, inside a QEMU TCG VM whose kernel serves a nested kvm_amd (nested-tests), so a second
# KVM is always tried and a host without /dev/kvm still runs them all.
KVM_SUITES := guest-tests cli-tests rr-tests hunt-tests readme-tests gdb-tests net-tests
HOST_KVM := $(shell [ -c /dev/kvm ] && [ -r /dev/kvm ] && echo yes)
NESTED_TIMEOUT ?= 2400
NESTED_VARS := $(if $(filter 1,$(SANITIZE)),SANITIZE=1)

ifeq ($(HOST_KVM),yes)
kvm-tests: $(KVM_SUITES)
else
kvm-tests: nested-tests
endif

nested-tests: $(VMM) guests $(NETPEER)
	tests/nested/run.sh --timeout $(NESTED_TIMEOUT) $(NESTED_VARS) $(KVM_SUITES)

nested-linux-tests: $(VMM) linux $(NETPEER)
	tests/nested/run.sh --timeout $(NESTED_TIMEOUT) linux-tests

# The include arrows point down (tests/layers.sh).
layers:
	@tests/layers.sh

test: deps-check layers unit kvm-tests

# Linux: kernel from Debian's linux-source-6.1, busybox initramfs.
linux: $(LINUX_DIR)/bzImage $(LINUX_DIR)/initramfs.cpio
$(LINUX_DIR)/bzImage: tools/build-linux.sh tools/linux.config $(wildcard tools/linux-*.patch)
	tools/build-linux.sh $(LINUX_DIR)
$(LINUX_DIR)/initramfs.cpio: tools/mkinitramfs.sh tools/init.sh $(LINUX_DIR)/bzImage
	tools/mkinitramfs.sh $(LINUX_DIR)/gen_init_cpio $@

# The README's Linux blocks (<!-- linux -->) run here, where the kernel is built.
linux-tests: $(VMM) linux $(NETPEER)
	@VMM=$(abspath $(VMM)) NETPEER=$(abspath $(NETPEER)) tests/linux-boot.sh $(LINUX_DIR); s=$$?; \
	VMM=$(abspath $(VMM)) tests/readme.sh --linux README.md && exit $$s

check: deps
	$(MAKE) test
	$(MAKE) test SANITIZE=1
ifeq ($(HOST_KVM),yes)
	$(MAKE) nested-tests
endif
	$(MAKE) fuzz FUZZ_SECONDS=30
ifeq ($(HOST_KVM),yes)
	$(MAKE) linux-tests
endif
	$(MAKE) nested-linux-tests

# The bare KVM loop that `make bench` measures an exit against.
KVMLOOP := $(BUILD)/kvmloop
$(KVMLOOP): bench/kvmloop.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(WARN) -o $@ $<

bench: $(VMM) guests linux $(KVMLOOP)
	VMM=$(abspath $(VMM)) KVMLOOP=$(abspath $(KVMLOOP)) bench/run.sh

demo: deps-check $(VMM) $(GUEST_DIR)/demo.elf
ifeq ($(HOST_KVM),yes)
	./$(VMM) run $(GUEST_DIR)/demo.elf
else
	@echo "vmm: this host has no /dev/kvm: the demo boots in the nested kvm_amd (tests/nested/run.sh)"
	@tests/nested/run.sh --timeout 600 --sh './$(VMM) run $(GUEST_DIR)/demo.elf'
endif

deps:
	@tools/install-deps.sh
deps-check:
	@tools/install-deps.sh --check-build

clean:
	rm -rf build/release build/san build/guests build/fuzz vmm

-include $(shell find build/release build/san -name '*.d' 2>/dev/null)
