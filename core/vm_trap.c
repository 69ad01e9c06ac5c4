/* Trapping the guest: trapped pages, gdb's software breakpoints (int3 or a planted hlt), entering KVM_RUN with them, debug registers. */
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

bool vm_trapped(const struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->n_traps; i++)
		if (gpa - vm->trap[i].gpa < VM_PAGE_SIZE)
			return true;
	return false;
}

bool vm_trap_refused(const struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < VM_REFUSED_MAX; i++)
		if (vm->refused[i] && gpa - (vm->refused[i] - 1) < VM_PAGE_SIZE)
			return true;
	return false;
}

/* The guest physical address of the byte off bytes past RIP, as the guest's paging maps it now. */
static int rip_gpa(struct vm *vm, uint64_t off, uint64_t *gpa)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct paging_mode pm;
	uint64_t left;

	if (vm_get_regs(vm, &regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	pm = (struct paging_mode){ sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer };
	return paging_translate(&vm->mem, &pm, sregs.cs.base + regs.rip + off, gpa, &left);
}

/* Which pages trapped for every access (a bit each) hold the bytes of the instruction at RIP: KVM cannot fetch it. */
static uint64_t code_traps(struct vm *vm)
{
	uint64_t bits = 0;

	for (uint64_t off = 0; off < 16; off += 15) {	/* an instruction is at most 15 bytes */
		uint64_t gpa;

		if (rip_gpa(vm, off, &gpa) < 0)
			continue;
		for (unsigned i = 0; i < vm->n_traps; i++)
			if (vm->trap[i].reads && gpa - vm->trap[i].gpa < VM_PAGE_SIZE)
				bits |= 1ull << i;
	}
	return bits;
}

int vm_trap_failed(struct vm *vm)
{
	struct vm_trap keep[VM_TRAPS_MAX];
	unsigned n = 0;
	uint64_t code;
	int r;

	if (vm->run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
	    vm->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION || !vm->n_traps)
		return 0;
	/*
	 * KVM could not emulate an instruction, and it ran while pages were
	 * trapped: one fetched from a trapped page, or a kind of access KVM's
	 * emulator lacks (AVX). Nothing of it was done: map again, for good, the
	 * page the code is on if it is trapped, else every trapped page (which
	 * one the access was to is not told), and let it run natively.
	 */
	code = code_traps(vm);
	/* Not if the exit handlers complete the instruction (int3, fwait): the emulator fails on it anyway. */
	if (!code && vm_insn_completed(vm))
		return 0;

	for (unsigned i = 0; i < vm->n_traps; i++) {
		if (code && !(code & 1ull << i)) {
			keep[n++] = vm->trap[i];
			continue;
		}
		vm->refused[vm->n_refused % VM_REFUSED_MAX] = vm->trap[i].gpa + 1;
		vm->n_refused++;
	}
	if ((r = vm_set_traps(vm, keep, n)) < 0)
		return r;
	return 1;
}

bool vm_trap_exit(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	uint64_t gpa = run->mmio.phys_addr;
	uint8_t *host;

	if (run->exit_reason != KVM_EXIT_MMIO || !vm_trapped(vm, gpa) || run->mmio.len > sizeof(run->mmio.data) ||
	    !(host = gmem_ptr(&vm->mem, gpa, run->mmio.len)))
		return false;
	if (run->mmio.is_write) {
		memcpy(host, run->mmio.data, run->mmio.len);
		gmem_mark_dirty(&vm->mem, gpa, run->mmio.len);
	} else {
		memcpy(run->mmio.data, host, run->mmio.len);
	}
	return true;
}

int vm_set_swbps(struct vm *vm, const uint64_t *gpa, unsigned n)
{
	if (n > VM_SWBPS_MAX)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++)
		if (!gmem_ptr(&vm->mem, gpa[i], 1))
			return -EFAULT;
	vm->n_swbps = 0;
	for (unsigned i = 0; i < n; i++) {
		bool twice = false;

		for (unsigned j = 0; j < vm->n_swbps; j++)
			twice |= vm->swbp[j].gpa == gpa[i];
		if (!twice)
			vm->swbp[vm->n_swbps++] = (struct vm_swbp){ gpa[i], 0, false };
	}
	return 0;
}

uint8_t vm_swbp_opcode(const struct vm *vm)
{
	return vm->caps && vm->caps->int3 == KVM_INT3_GUEST ? OPCODE_HLT : OPCODE_INT3;
}

int vm_kvm_run(struct vm *vm)
{
	int r;

	if (vm->rearm_ns)
		vm_arm_watchdog(vm, vm->rearm_ns);
	r = ioctl(vm->vcpu_fd, KVM_RUN, 0);

	/* KVM stores the registers on its way out, EINTR included; other failures may not. */
	vm->regs_fresh = vm->sync_regs && (r == 0 || errno == EINTR);
	return r;
}

int vm_get_regs(struct vm *vm, struct kvm_regs *regs)
{
	if (vm->regs_fresh) {
		*regs = vm->run->s.regs.regs;
		return 0;
	}
	return ioctl(vm->vcpu_fd, KVM_GET_REGS, regs);
}

#define RFLAGS_FIXED (1ull << 1)
#define RFLAGS_TF_BIT (1ull << 8)

/* KVM's view of registers just set: RFLAGS bit 1 is always 1, and TF is hidden while KVM single-steps. */
static void regs_shown(const struct vm *vm, struct kvm_regs *to, const struct kvm_regs *regs)
{
	*to = *regs;
	to->rflags |= RFLAGS_FIXED;
	if (vm->debug.control & KVM_GUESTDBG_SINGLESTEP)
		to->rflags &= ~RFLAGS_TF_BIT;
}

int vm_set_regs(struct vm *vm, const struct kvm_regs *regs)
{
	int r;

	/* This set supersedes one that kvm_run still holds for the next entry. */
	if (vm->sync_regs)
		vm->run->kvm_dirty_regs &= ~(__u64)KVM_SYNC_X86_REGS;
	r = ioctl(vm->vcpu_fd, KVM_SET_REGS, regs);
	vm->regs_fresh = r == 0 && vm->sync_regs;
	if (vm->regs_fresh)
		regs_shown(vm, &vm->run->s.regs.regs, regs);
	return r;
}

int vm_set_regs_lazy(struct vm *vm, const struct kvm_regs *regs)
{
	/* What KVM loads is what it would then show: no TF of the guest's own under KVM's single-step. */
	if (!vm->sync_regs || ((regs->rflags & RFLAGS_TF_BIT) && (vm->debug.control & KVM_GUESTDBG_SINGLESTEP)))
		return vm_set_regs(vm, regs);
	regs_shown(vm, &vm->run->s.regs.regs, regs);
	vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	vm->regs_fresh = true;
	return 0;
}

int vm_regs_flush(struct vm *vm)
{
	struct kvm_regs regs;

	if (!vm->sync_regs || !(vm->run->kvm_dirty_regs & KVM_SYNC_X86_REGS))
		return 0;
	regs = vm->run->s.regs.regs;
	return vm_set_regs(vm, &regs);
}

int vm_set_events(struct vm *vm, struct kvm_vcpu_events *ev)
{
	/* Loading registers cancels a pending exception (KVM's __set_regs): not one set here after them. */
	if (vm_regs_flush(vm) < 0)
		return -1;
	return ioctl(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, ev);
}

int vm_set_guest_debug(struct vm *vm, const struct kvm_guest_debug *dbg)
{
	int r;

	/* A hunt sets the same breakpoint before each of thousands of entries. */
	if (vm->debug_set && !(dbg->control & KVM_GUESTDBG_SINGLESTEP) && !memcmp(dbg, &vm->debug, sizeof(*dbg)))
		return 0;
	/* KVM steps from the RIP it has at this call. */
	if (vm_regs_flush(vm) < 0)
		return -1;
	vm->regs_fresh = false;
	r = ioctl(vm->vcpu_fd, KVM_SET_GUEST_DEBUG, dbg);
	vm->debug_set = r == 0;
	vm->debug = *dbg;
	return r;
}

int vm_enter(struct vm *vm, bool swbps)
{
	uint8_t op = vm_swbp_opcode(vm);
	int r, e;

	for (unsigned i = 0; i < vm->n_swbps; i++) {
		struct vm_swbp *b = &vm->swbp[i];
		uint8_t *host = gmem_ptr(&vm->mem, b->gpa, 1);

		/* An int3 (or HLT) of the guest's own needs none planted: it is the guest's to take. */
		b->planted = swbps && *host != op;
		if (b->planted) {
			b->orig = *host;
			*host = op;
		}
	}
	plants_on(&vm->entry_plants);
	r = vm_kvm_run(vm);
	e = errno;
	plants_off(&vm->entry_plants);
	for (unsigned i = 0; i < vm->n_swbps; i++) {
		struct vm_swbp *b = &vm->swbp[i];
		uint8_t *host = gmem_ptr(&vm->mem, b->gpa, 1);

		/*
		 * The guest's writes to a breakpoint's page exit (gdb traps it), so
		 * only KVM itself could have written here while it ran: then its
		 * byte stays.
		 */
		if (b->planted && *host == op)
			*host = b->orig;
	}
	errno = e;
	return r;
}

int vm_enter_once(struct vm *vm, bool step, bool swbps, const struct vm_debugger *dbg, void *ctx)
{
	struct kvm_regs before;
	int r;

	if (step && vm_get_regs(vm, &before) < 0)
		return -errno;
	if (vm_enter(vm, swbps) < 0)
		return -errno;
	vm->event_queued = false;
	/* gdb's step must not leave its TF in what the guest saved (it would be journaled). */
	if (step && vm->run->exit_reason == KVM_EXIT_DEBUG && (r = vm_step_fixup(vm, &before)) < 0)
		return r;
	/* One of gdb's int3s is a debug exit from here on; a #BP of the guest's own went back to it. */
	if ((r = vm_swbp_exit(vm)) < 0)
		return r;
	if (r == VM_SWBP_GUEST)
		return VM_ENTRY_AGAIN;
	if (dbg && (r = dbg->traps_failed(ctx, vm)) != 0)
		return r < 0 ? r : VM_ENTRY_AGAIN;
	/* A page gdb watches: the access is done here, and is no exit of the guest's (replay never sees it). */
	if (vm_trap_exit(vm)) {
		r = dbg ? dbg->trap(ctx, vm) : 0;
		return r < 0 ? r : r ? VM_ENTRY_EXIT : VM_ENTRY_AGAIN;
	}
	return VM_ENTRY_EXIT;
}

/*
 * The exit becomes the debug exit of one of gdb's breakpoints, with RIP moved
 * by back (onto the breakpoint, where a HLT exit left it past): VM_SWBP_HIT.
 */
static int swbp_hit(struct vm *vm, int back)
{
	struct kvm_run *run = vm->run;
	struct kvm_regs regs;

	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	if (back) {
		regs.rip += (uint64_t)(int64_t)back;
		if (vm_set_regs(vm, &regs) < 0)
			return -errno;
	}
	run->exit_reason = KVM_EXIT_DEBUG;
	memset(&run->debug, 0, sizeof(run->debug));
	run->debug.arch.exception = 3;
	run->debug.arch.pc = regs.rip;
	run->debug.arch.dr6 = 0xffff0ff0 | 1;	/* as if DR0 had fired: a breakpoint of gdb's */
	return VM_SWBP_HIT;
}

/*
 * A HLT exit on a planted HLT (KVM leaves RIP past it): a breakpoint's hit,
 * with RIP put back on it and the exit made the debug exit an int3 makes.
 */
static int swbp_hlt_exit(struct vm *vm)
{
	uint64_t gpa;
	bool any = false;

	for (unsigned i = 0; i < vm->n_swbps; i++)
		any |= vm->swbp[i].planted;
	if (!any || vm_swbp_opcode(vm) != OPCODE_HLT || rip_gpa(vm, (uint64_t)-1, &gpa) < 0)
		return 0;
	for (unsigned i = 0; i < vm->n_swbps; i++)
		if (vm->swbp[i].planted && vm->swbp[i].gpa == gpa)
			return swbp_hit(vm, -1);
	return 0;
}

int vm_swbp_exit(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	bool bp = run->exit_reason == KVM_EXIT_DEBUG && run->debug.arch.exception == 3;
	bool emulated = run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
			run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION;
	struct kvm_vcpu_events ev;
	bool known, maybe = false;
	uint64_t gpa;

	if (run->exit_reason == KVM_EXIT_HLT)
		return swbp_hlt_exit(vm);
	if (run->exit_reason != KVM_EXIT_DEBUG && !emulated)
		return 0;
	/*
	 * A debug exit tells its linear address, whose page offset a planted
	 * int3 must share: the page walk below is only for those (replay's
	 * landmark hunts take debug exits by the hundred thousand).
	 */
	for (unsigned i = 0; i < vm->n_swbps; i++)
		maybe |= vm->swbp[i].planted &&
			   (emulated || ((run->debug.arch.pc ^ vm->swbp[i].gpa) & (VM_PAGE_SIZE - 1)) == 0);
	if (!maybe && !bp)
		return 0;
	if (!bp && !emulated) {
		/*
		 * A debug register or a step stopped the guest on a planted int3:
		 * that is the breakpoint's hit too (a step over it removes it first).
		 */
		if (rip_gpa(vm, 0, &gpa) == 0)
			for (unsigned i = 0; i < vm->n_swbps; i++)
				if (vm->swbp[i].planted && vm->swbp[i].gpa == gpa) {
					run->debug.arch.exception = 3;
					run->debug.arch.dr6 |= 1;
				}
		return 0;
	}
	/*
	 * A CPU that runs the int3 raises #BP, which KVM_GUESTDBG_USE_SW_BP turns
	 * into this exit; an emulating KVM (kvm_pvm, in kernel mode) cannot
	 * emulate int3 and fails on it. Either way RIP is on the int3.
	 */
	known = rip_gpa(vm, 0, &gpa) == 0;
	for (unsigned i = 0; known && i < vm->n_swbps; i++)
		if (vm->swbp[i].planted && vm->swbp[i].gpa == gpa)
			return swbp_hit(vm, 0);
	if (emulated)
		return 0;	/* the guest's own int3: the exit handlers complete it */
	/* The guest's own #BP, which USE_SW_BP took from it: deliver it as the CPU would have. */
	if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 3;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	if (vm_set_events(vm, &ev) < 0)
		return -errno;
	vm->event_queued = true;
	return VM_SWBP_GUEST;
}

int vm_complete_io(struct vm *vm, bool stepping)
{
	bool mmio_write = vm->run->exit_reason == KVM_EXIT_MMIO && vm->run->mmio.is_write;
	struct kvm_regs regs;
	int r;

	vm->run->immediate_exit = 1;
	r = vm_kvm_run(vm);
	vm->run->immediate_exit = 0;
	if (r == 0)
		return 1;
	if (errno != EINTR)
		return -errno;
	if (!stepping || !mmio_write)
		return 0;
	/*
	 * KVM finishes an MMIO write without the single-step trap it owes
	 * (x86.c, complete_emulated_mmio: "FIXME: return into emulator if
	 * single-stepping"), so the step would end one instruction late: make
	 * the debug exit the step should have made.
	 */
	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	vm->run->exit_reason = KVM_EXIT_DEBUG;
	memset(&vm->run->debug, 0, sizeof(vm->run->debug));
	vm->run->debug.arch.exception = 1;	/* #DB */
	vm->run->debug.arch.pc = regs.rip;
	vm->run->debug.arch.dr6 = 0xffff0ff0 | 0x4000;	/* DR6.BS */
	return 1;
}

int vm_set_breakpoints(struct vm *vm, uint32_t control, const uint64_t *addr, unsigned n)
{
	struct kvm_guest_debug dbg;

	if (n > 4)
		return -EINVAL;
	memset(&dbg, 0, sizeof(dbg));
	dbg.control = control;
	/* A planted int3 must never reach the guest: KVM keeps exiting on #BP while there are any. */
	if (vm->n_swbps)
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	for (unsigned i = 0; i < n; i++) {
		dbg.arch.debugreg[i] = addr[i];
		dbg.arch.debugreg[7] |= 1ull << (2 * i);	/* Li, execute, 1 byte */
	}
	return vm_set_guest_debug(vm, &dbg) < 0 ? -errno : 0;
}
