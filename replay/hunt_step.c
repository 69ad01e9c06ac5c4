/*
 * The steps a landmark hunt takes without the CPU's trap flag: an interrupt's
 * delivery, an STI, a relative jump, a rep string run whole or up to the
 * landmark inside it, and KVM's pending I/O completed without running.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "replayer.h"
#include "../core/insn_step.h"
#include "../core/rep_string.h"

/* vmm wrote guest memory where the CPU would have: its pages count as written, as the CPU's would. */
static void wrote_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, uint64_t len)
{
	uint64_t gpa, left;

	for (uint64_t at = gva; at < gva + len; at += left) {
		if (paging_translate(&vm->mem, pm, at, &gpa, &left) < 0)
			return;
		gmem_mark_dirty(&vm->mem, gpa, left < gva + len - at ? left : gva + len - at);
	}
}

/*
 * The interrupt KVM holds injected, delivered here as a 64-bit CPU at CPL 0
 * delivers it: a single-step entry would deliver it with the gate clearing
 * TF, and the handler would run unwatched past a landmark inside it. 1 when
 * delivered, 0 when this is no case it knows (KVM delivers it then).
 */
static int deliver_by_hand(struct vm *vm, struct kvm_regs *r, struct kvm_sregs *s, struct kvm_vcpu_events *ev)
{
	struct paging_mode pm = { s->cr0, s->cr3, s->cr4, s->efer };
	uint64_t lo, hi, desc, ist_rsp = 0, frame[5], rsp;
	unsigned vector = ev->interrupt.nr, type, ist;
	uint16_t sel;

	if (!ev->interrupt.injected || ev->exception.injected || ev->exception.pending || ev->nmi.injected ||
	    !(s->efer & X86_EFER_LMA) || !s->cs.l || (s->cs.selector & 3) || vector * 16 + 15 > s->idt.limit ||
	    vm_read_virt(vm, &pm, s->idt.base + vector * 16, &lo, 8) < 0 ||
	    vm_read_virt(vm, &pm, s->idt.base + vector * 16 + 8, &hi, 8) < 0)
		return 0;
	type = (unsigned)(lo >> 40 & 0xf);
	ist = (unsigned)(lo >> 32 & 7);
	sel = (uint16_t)(lo >> 16);
	if (!(lo >> 47 & 1) || (type != 0xe && type != 0xf) || (sel & 4) || (sel | 7) > s->gdt.limit ||
	    vm_read_virt(vm, &pm, s->gdt.base + (sel & ~7u), &desc, 8) < 0 ||
	    !(desc >> 47 & 1) || (desc >> 45 & 3) || !(desc >> 53 & 1))
		return 0;	/* a present 64-bit code segment of DPL 0: no privilege change */
	if (ist && vm_read_virt(vm, &pm, s->tr.base + 0x24 + 8 * (ist - 1), &ist_rsp, 8) < 0)
		return 0;
	rsp = (ist ? ist_rsp : r->rsp) & ~0xfull;
	frame[0] = r->rip;
	frame[1] = s->cs.selector;
	frame[2] = r->rflags;
	frame[3] = r->rsp;
	frame[4] = s->ss.selector;
	rsp -= sizeof(frame);
	if (vm_write_virt(vm, &pm, rsp, frame, sizeof(frame)) < 0)
		return 0;
	wrote_virt(vm, &pm, rsp, sizeof(frame));
	r->rsp = rsp;
	r->rip = (lo & 0xffff) | (lo >> 32 & 0xffff0000u) | hi << 32;
	r->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
	if (type == 0xe)
		r->rflags &= ~RFLAGS_IF;
	s->cs.selector = sel;
	s->cs.type = (uint8_t)(desc >> 40 & 0xf);
	s->cs.dpl = 0;
	ev->interrupt.injected = 0;
	ev->flags = 0;
	/* KVM_SET_SREGS queues the vector its bitmap names: the one delivered here must not come again. */
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
	if (vm_set_events(vm, ev) < 0 || ioctl(vm->vcpu_fd, KVM_SET_SREGS, s) < 0 ||
	    vm_set_regs(vm, r) < 0)
		return -errno;
	return 1;
}

/*
 * Where only single-stepping finds a landmark, the steps a trap flag cannot
 * take: an injected interrupt's delivery (above), and an STI, whose interrupt
 * shadow holds back the step's trap too (nested kvm_amd runs the instruction
 * after it unwatched). Done here instead, as the CPU does them. And the
 * steps an entry need not take: a relative jump in 64-bit code, which changes
 * RIP alone (a window exit found by a planted HLT is often one, stopped at
 * hundreds of times), and a mov, lea, push or pop where the CPU would change
 * nothing else (core/insn_step.h). 1 when a step was taken, 0 when the next
 * one is KVM's.
 */
int hunt_step_by_hand(struct vm *vm)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;
	struct kvm_regs r;
	uint8_t code[15];
	unsigned len, n;
	int64_t disp;

	if (vm_get_regs(vm, &r) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	if (ev.interrupt.injected)
		return deliver_by_hand(vm, &r, &s, &ev);
	if (ev.exception.injected || ev.exception.pending || ev.nmi.injected || ev.interrupt.shadow)
		return 0;
	{
		struct paging_mode pm = { s.cr0, s.cr3, s.cr4, s.efer };
		uint64_t at = s.cs.base + r.rip, to_page_end = 4096 - (at & 4095);

		/* As many of its bytes as there are, up to the end of its page when the next is not mapped. */
		if (vm_read_virt(vm, &pm, at, code, sizeof(code)) == 0)
			n = sizeof(code);
		else if (to_page_end < sizeof(code) && vm_read_virt(vm, &pm, at, code, to_page_end) == 0)
			n = (unsigned)to_page_end;
		else if (vm_read_virt(vm, &pm, at, code, 1) == 0)
			n = 1;
		else
			return 0;
		if (s.cs.l && !ev.nmi.pending && !(r.rflags & RFLAGS_TF)) {
			if ((len = insn_jump(code, n, r.rflags, &disp)) && paging_canonical(&pm, r.rip + len + disp)) {
				r.rip += len + disp;
				r.rflags &= ~RFLAGS_RF;
				return vm_set_regs_lazy(vm, &r) < 0 ? -errno : 1;
			}
			/* Not where gdb's breakpoints or trapped pages would see the access. */
			if (!vm->n_traps && !vm->n_swbps &&
			    insn_step(&vm->mem, &pm, s.cs.selector & 3, &r, code, n) == 1)
				return vm_set_regs_lazy(vm, &r) < 0 ? -errno : 1;
		}
		if ((r.rflags & RFLAGS_IF) || code[0] != OPCODE_STI)
			return 0;
	}
	r.rip++;
	r.rflags |= RFLAGS_IF;
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
	if (vm_set_regs(vm, &r) < 0 || vm_set_events(vm, &ev) < 0)
		return -errno;
	return 1;
}

/*
 * KVM completes a port or MMIO read or write on the next KVM_RUN: do that
 * now, without running the guest, so that the state the hunt starts from is
 * the one a kick right after the exit saw.
 */
void hunt_complete_io(struct vm *vm)
{
	vm->run->immediate_exit = 1;
	(void)vm_kvm_run(vm);	/* EINTR, with the I/O done */
	vm->run->immediate_exit = 0;
}

/*
 * A landmark between the iterations of a rep stos or rep movs (memset,
 * memcpy, clear_page), at a stop on that instruction: stepping from there is
 * one stop per iteration, thousands for a page. The other registers do not
 * change while it runs, so unless they are the landmark's, and RCX, RDI and
 * RSI lie on the way to the landmark's, it is not in this execution of the
 * instruction: run it whole (REP_SKIPPED). If it is, have the CPU run exactly
 * the iterations before it (RCX cut to their number), then put the count
 * left back in RCX, with RF as the journal says (REP_INSIDE): what
 * stepping would have reached. Either way by a stop at the next instruction.
 * 0 when this is no rep stos or movs, -errno.
 */
int hunt_rep_forward(struct replayer *p, const struct rr_landmark *want, const struct kvm_regs *at, bool planted)
{
	struct vm *vm = p->vm;
	struct rr_landmark got;
	struct paging_mode pm;
	struct kvm_sregs s;
	struct kvm_regs r;
	uint8_t code[4];
	unsigned size, len;
	uint64_t n, step, next, held = 0;
	bool movs, inside = true, hit = false;
	int k = 0, err = 0;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	pm = (struct paging_mode){ s.cr0, s.cr3, s.cr4, s.efer };
	if (!s.cs.l || vm_read_virt(vm, &pm, s.cs.base + at->rip, code, sizeof(code)) < 0 ||
	    !(len = insn_rep_string(code, sizeof(code), &size, &movs)))
		return 0;
	rr_regs_to_landmark(at, &got);
	for (int i = 0; i < 16; i++)
		if (got.gpr[i] != want->gpr[i] && i != 2 && i != 5 && !(movs && i == 4))	/* rcx, rdi, rsi */
			inside = false;
	n = at->rcx - want->gpr[2];
	step = at->rflags & RFLAGS_DF ? -(uint64_t)size : size;
	if (got.rflags != want->rflags || at->rcx <= want->gpr[2] || want->gpr[5] != at->rdi + n * step ||
	    (movs && want->gpr[4] != at->rsi + n * step))
		inside = false;
	r = *at;
	if (inside) {
		held = want->gpr[2];
		r.rcx = n;
	}
	/*
	 * Not the landmark's execution of it: run it here, without an entry,
	 * where the CPU would change nothing but the string and the registers
	 * (a loop over pages stops here once a page). Not while gdb could stop
	 * inside it (a watchpoint, a trapped page).
	 */
	if (!inside && !p->gdb && !vm->n_traps &&
	    rep_string_run(&vm->mem, &pm, s.cs.selector & 3, &r, code, sizeof(code)) == 1) {
		if (vm_set_regs(vm, &r) < 0)
			return -errno;
		p->res->landmark_hits++;
		p->res->rep_runs++;
		return REP_SKIPPED;
	}
	next = at->rip + len;
	if (vm_set_regs(vm, &r) < 0)
		return -errno;
	for (;;) {
		struct plants pl = { .n = 0 };

		if (planted && (err = -plant_add(&pl, vm, next)) != 0)
			break;
		plants_on(&pl);
		k = replay_kvm_run(p, planted ? KVM_GUESTDBG_ENABLE : KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
				   next);
		plants_off(&pl);
		if (k < 0 && errno == EINTR) {
			vm_drain_signals();
			vm->event_queued = false;
			if (!vm_stop_signal()) {
				vm_rearm_watchdog(vm, HUNT_KICK_NS);	/* as in hunt(): the guest runs a period first */
				continue;
			}
			err = EINTR;
		} else if (k < 0) {
			err = errno;
		} else {
			hit = planted ? plant_hit(&pl, vm) == 1 : vm->run->exit_reason == KVM_EXIT_DEBUG;
		}
		break;
	}
	if (vm_get_regs(vm, &r) < 0)
		return -errno;
	r.rcx += held;	/* the count held back */
	hit = hit && r.rip == next && r.rcx == held;
	if (hit && inside) {
		r.rip = at->rip;
		/* As the recording's CPU had it (TCG, for one, leaves RF clear); older journals: the SDM's 1. */
		r.rflags = want->rf == 0 ? r.rflags & ~RFLAGS_RF : r.rflags | RFLAGS_RF;
	}
	if (vm_set_regs(vm, &r) < 0)
		return -errno;
	if (err)
		return -err;
	if (!hit) {
		char exp[96], act[160];

		vm_arm_watchdog(vm, 0);
		set_debug(vm, 0, 0);
		snprintf(exp, sizeof(exp), "landmark at rip 0x%llx", (unsigned long long)want->rip);
		snprintf(act, sizeof(act), "%s exit at rip 0x%llx in the rep string at 0x%llx",
			 exit_name(vm->run->exit_reason), (unsigned long long)r.rip, (unsigned long long)at->rip);
		return diverge(p, exp, act);
	}
	p->res->landmark_hits++;
	return inside ? REP_INSIDE : REP_SKIPPED;
}
