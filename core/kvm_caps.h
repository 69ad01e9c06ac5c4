/* What this host's KVM can do for a debugger and a replayer, found by running a tiny probe VM. */
#ifndef VMM_KVM_CAPS_H
#define VMM_KVM_CAPS_H

#include <stdbool.h>
#include <stddef.h>

enum kvm_answer { KVM_UNKNOWN, KVM_NO, KVM_YES };

/* How an int3 under KVM_GUESTDBG_USE_SW_BP comes back. */
enum kvm_int3 {
	KVM_INT3_UNKNOWN,
	KVM_INT3_EXIT,		/* a #BP debug exit (VT-x, SVM) */
	KVM_INT3_EMULATION,	/* a failure to emulate it (kvm_pvm in kernel mode) */
	KVM_INT3_GUEST,		/* delivered to the guest as its own #BP: not interceptable */
};

struct kvm_caps {
	char module[16];		/* kvm_intel, kvm_amd, kvm_pvm, or kvm */
	char hypervisor[13];		/* the host's own hypervisor (CPUID 0x40000000), "" on bare metal */
	enum kvm_answer singlestep;	/* KVM_GUESTDBG_SINGLESTEP exits after one instruction */
	enum kvm_answer hw_bp;		/* a debug-register breakpoint on kernel code fires */
	enum kvm_int3 int3;
	enum kvm_answer exact_window;	/* the interrupt-window exit comes right after sti's shadow */
	enum kvm_answer out_past;	/* a port OUT's exit reports RIP past the instruction (KVM emulated it) */
	enum kvm_answer sync_regs;	/* KVM_CAP_SYNC_REGS, used (VMM_NO_SYNC_REGS unset) */
	char why[200];			/* the probe's own failure, if it could not run */
};

/* Probe /dev/kvm. Never fails: what could not be found out stays KVM_UNKNOWN, with why set. */
void kvm_caps_probe(struct kvm_caps *c);
/* "kvm_amd (nested, TCG)", "kvm_intel", ... */
const char *kvm_caps_name(const struct kvm_caps *c, char *buf, size_t len);
/* Software breakpoints work: an int3 comes back to vmm, one way or the other. */
bool kvm_caps_int3(const struct kvm_caps *c);
/* One line per capability, "name: answer (detail)". */
void kvm_caps_describe(const struct kvm_caps *c, char *buf, size_t len);

#endif
