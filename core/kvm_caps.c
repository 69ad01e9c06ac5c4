/* The KVM capability probe: a few instructions in a 2 MiB VM show what this KVM does with guest debug. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "boot_internal.h"
#include "kvm_caps.h"
#include "vm.h"

#define PROBE_MEM	(2ull << 20)
#define PROBE_IDT	0x4000		/* 32 interrupt gates */
#define PROBE_HANDLERS	0x5000		/* vector v: mov $v,%al; out %al,$PROBE_PORT_EXC; hlt */
#define PROBE_CODE	0x10000
#define PROBE_PORT_EXC	0xe5		/* an exception reached the guest's IDT */

/* One probe: code at PROBE_CODE, run from its first byte with the given guest-debug setup. */
struct probe {
	const uint8_t *code;
	size_t len;
	uint32_t debug;			/* KVM_GUESTDBG_* */
	uint64_t dr0;			/* an execute breakpoint here, with KVM_GUESTDBG_USE_HW_BP */
	bool window;			/* request an interrupt window (IF starts clear) */
};

static int write_idt(struct vm *vm)
{
	uint8_t idt[32 * 8], h[16];

	for (unsigned v = 0; v < 32; v++) {
		uint64_t off = PROBE_HANDLERS + 16 * v;
		uint64_t d = (off & 0xffff) | (uint64_t)BOOT_CODE_SEL << 16 | 0x8eull << 40 | (off >> 16) << 48;

		for (unsigned i = 0; i < 8; i++)
			idt[8 * v + i] = (uint8_t)(d >> (8 * i));
		memset(h, 0xf4, sizeof(h));
		h[0] = 0xb0;			/* mov $v, %al */
		h[1] = (uint8_t)v;
		h[2] = 0xe6;			/* out %al, $PROBE_PORT_EXC */
		h[3] = PROBE_PORT_EXC;
		if (gmem_write(&vm->mem, off, h, sizeof(h)) < 0)
			return -EFAULT;
	}
	return gmem_write(&vm->mem, PROBE_IDT, idt, sizeof(idt));
}

/* Run one probe to its first exit; 0 with vm->run filled in, or -errno. */
static int probe_run(struct vm *vm, const struct probe *p)
{
	struct boot_entry entry = { .eip = PROBE_CODE };
	struct kvm_guest_debug dbg = { .control = p->debug };
	struct kvm_sregs sregs;
	char err[160];
	int r;

	if (gmem_write(&vm->mem, PROBE_CODE, p->code, p->len) < 0)
		return -EFAULT;
	if ((r = vm_set_entry(vm, &entry, err, sizeof(err))) < 0)
		return r;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.idt.base = PROBE_IDT;
	sregs.idt.limit = 32 * 8 - 1;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (p->debug & KVM_GUESTDBG_USE_HW_BP) {
		dbg.arch.debugreg[0] = p->dr0;
		dbg.arch.debugreg[7] = 0x1;	/* L0, execute, one byte */
	}
	if (vm_set_guest_debug(vm, &dbg) < 0)
		return -errno;
	vm->run->request_interrupt_window = p->window;
	do
		r = vm_kvm_run(vm);
	while (r < 0 && errno == EINTR);
	vm->run->request_interrupt_window = 0;
	return r < 0 ? -errno : 0;
}

static uint64_t probe_rip(struct vm *vm)
{
	struct kvm_regs regs;

	return vm_get_regs(vm, &regs) < 0 ? 0 : regs.rip;
}

static void probe_all(struct vm *vm, struct kvm_caps *c)
{
	/* nop; nop; out %al, $0xe0; hlt */
	static const uint8_t step[] = { 0x90, 0x90, 0xe6, 0xe0, 0xf4 };
	/* nop; nop; nop (DR0); out %al, $0xe1; hlt */
	static const uint8_t hwbp[] = { 0x90, 0x90, 0x90, 0xe6, 0xe1, 0xf4 };
	/* nop; int3; nop; out %al, $0xe2; hlt */
	static const uint8_t int3[] = { 0x90, 0xcc, 0x90, 0xe6, 0xe2, 0xf4 };
	/* nop; sti; nop (its shadow); nop (the window opens here); nop; out %al, $0xe3; hlt */
	static const uint8_t window[] = { 0x90, 0xfb, 0x90, 0x90, 0x90, 0xe6, 0xe3, 0xf4 };
	/* nop; out %al, $0xe4 (its exit); hlt */
	static const uint8_t out[] = { 0x90, 0xe6, 0xe4, 0xf4 };
	struct kvm_run *run = vm->run;

	if (probe_run(vm, &(struct probe){ step, sizeof(step), KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP }) == 0)
		c->singlestep = run->exit_reason == KVM_EXIT_DEBUG && probe_rip(vm) == PROBE_CODE + 1 ?
				KVM_YES : KVM_NO;
	if (probe_run(vm, &(struct probe){ hwbp, sizeof(hwbp), KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
					   PROBE_CODE + 2 }) == 0)
		c->hw_bp = run->exit_reason == KVM_EXIT_DEBUG && probe_rip(vm) == PROBE_CODE + 2 ? KVM_YES : KVM_NO;
	if (probe_run(vm, &(struct probe){ int3, sizeof(int3), KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP }) == 0) {
		if (run->exit_reason == KVM_EXIT_DEBUG && run->debug.arch.exception == 3)
			c->int3 = KVM_INT3_EXIT;
		else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			c->int3 = KVM_INT3_EMULATION;
		else if (run->exit_reason == KVM_EXIT_IO && run->io.port == PROBE_PORT_EXC &&
			 ((uint8_t *)run)[run->io.data_offset] == 3)
			c->int3 = KVM_INT3_GUEST;
	}
	if (probe_run(vm, &(struct probe){ window, sizeof(window), 0, 0, true }) == 0)
		c->exact_window = run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN && probe_rip(vm) == PROBE_CODE + 3 ?
				  KVM_YES : KVM_NO;
	if (probe_run(vm, &(struct probe){ out, sizeof(out), 0 }) == 0 && run->exit_reason == KVM_EXIT_IO) {
		uint64_t rip = probe_rip(vm);

		c->out_past = rip == PROBE_CODE + 3 ? KVM_YES : rip == PROBE_CODE + 1 ? KVM_NO : KVM_UNKNOWN;
	}
}

static void host_cpuid(unsigned leaf, unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void host_hypervisor(struct kvm_caps *c)
{
	unsigned a, b, cx, d;

	host_cpuid(1, &a, &b, &cx, &d);
	if (!(cx & (1u << 31)))
		return;		/* no hypervisor under this host */
	host_cpuid(0x40000000, &a, &b, &cx, &d);
	memcpy(c->hypervisor, &b, 4);
	memcpy(c->hypervisor + 4, &cx, 4);
	memcpy(c->hypervisor + 8, &d, 4);
	c->hypervisor[12] = 0;
	for (int i = 11; i >= 0 && (c->hypervisor[i] == ' ' || !c->hypervisor[i]); i--)
		c->hypervisor[i] = 0;	/* "bhyve bhyve " */
}

void kvm_caps_probe(struct kvm_caps *c)
{
	static const char *const modules[] = { "kvm_pvm", "kvm_intel", "kvm_amd" };
	struct vm_config cfg = { .mem_size = PROBE_MEM };
	struct vm vm;
	char err[200];
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->module, sizeof(c->module), "kvm");
	for (unsigned i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/module/%s", modules[i]);
		if (access(path, F_OK) == 0) {
			snprintf(c->module, sizeof(c->module), "%s", modules[i]);
			break;
		}
	}
	host_hypervisor(c);
	if ((r = vm_create(&vm, &cfg, err, sizeof(err))) < 0) {
		snprintf(c->why, sizeof(c->why), "%s", err);
		vm_destroy(&vm);
		return;
	}
	c->sync_regs = vm.sync_regs ? KVM_YES : KVM_NO;
	if (boot_write_gdt(&vm.mem) < 0 || write_idt(&vm) < 0)
		snprintf(c->why, sizeof(c->why), "cannot write the probe's tables");
	else
		probe_all(&vm, c);
	vm_destroy(&vm);
}

const char *kvm_caps_name(const struct kvm_caps *c, char *buf, size_t len)
{
	static const struct { const char *sig, *name; } hv[] = {
		{ "TCGTCGTCGTCG", "TCG" }, { "KVMKVMKVM", "KVM" }, { "Microsoft Hv", "Hyper-V" },
		{ "VMwareVMware", "VMware" }, { "XenVMMXenVMM", "Xen" }, { "bhyve bhyve", "bhyve" },
	};
	const char *under = c->hypervisor;

	if (!c->hypervisor[0]) {
		snprintf(buf, len, "%s", c->module);
		return buf;
	}
	for (unsigned i = 0; i < sizeof(hv) / sizeof(hv[0]); i++)
		if (!strcmp(c->hypervisor, hv[i].sig))
			under = hv[i].name;
	snprintf(buf, len, "%s (nested, %s)", c->module, under);
	return buf;
}

bool kvm_caps_int3(const struct kvm_caps *c)
{
	return c->int3 == KVM_INT3_EXIT || c->int3 == KVM_INT3_EMULATION;
}

static const char *answer(enum kvm_answer a, const char *yes, const char *no)
{
	return a == KVM_YES ? yes : a == KVM_NO ? no : "unknown (the probe could not run)";
}

void kvm_caps_describe(const struct kvm_caps *c, char *buf, size_t len)
{
	static const char *const int3[] = {
		[KVM_INT3_UNKNOWN] = "unknown (the probe could not run)",
		[KVM_INT3_EXIT] = "yes (a #BP exit)",
		[KVM_INT3_EMULATION] = "yes (KVM fails to emulate it, in kernel mode only)",
		[KVM_INT3_GUEST] = "no (it reaches the guest as its own #BP)",
	};
	char name[48];

	snprintf(buf, len,
		 "kvm: %s\n"
		 "single-step: %s\n"
		 "debug-register breakpoints: %s\n"
		 "int3 intercepted: %s\n"
		 "interrupt-window exits: %s\n"
		 "port-write exits: %s\n"
		 "registers with each exit: %s\n"
		 "%s%s%s",
		 kvm_caps_name(c, name, sizeof(name)),
		 answer(c->singlestep, "yes", "no (KVM_GUESTDBG_SINGLESTEP did not stop after one instruction)"),
		 answer(c->hw_bp, "yes", "no (a breakpoint in DR0 did not fire)"),
		 int3[c->int3],
		 answer(c->exact_window, "exact (right after sti's shadow)", "late (not right after sti's shadow)"),
		 answer(c->out_past, "RIP past the out (KVM emulated it; the journal keeps it at the out)",
			"RIP at the out"),
		 answer(c->sync_regs, "yes (KVM_CAP_SYNC_REGS: no KVM_GET_REGS after an exit)",
			"no (a KVM_GET_REGS where they are needed)"),
		 c->why[0] ? "probe: " : "", c->why, c->why[0] ? "\n" : "");
}
