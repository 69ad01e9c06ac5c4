/*
 * Instructions KVM's emulator gives up on that vmm completes itself, and the
 * report for those it cannot: the KVM_EXIT_INTERNAL_ERROR handler.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "loop.h"

#define X87_FSW_ES	(1u << 7)	/* error summary: an unmasked exception is pending */

/* Read guest-virtual memory through the vCPU's current page tables. */
static unsigned read_virt(struct vm *vm, uint64_t addr, uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	while (n < len) {
		struct kvm_translation tr = { .linear_address = addr + n };
		const uint8_t *p;

		if (ioctl(vm->vcpu_fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			break;
		p = gmem_ptr(&vm->mem, tr.physical_address, 1);
		if (!p)
			break;
		buf[n++] = *p;
	}
	return n;
}

/*
 * Instructions this host's emulator lacks in kernel mode but whose whole
 * effect vmm can reproduce exactly: RIP moves past them, and what they raise
 * is injected as the CPU would raise it. The exit keeps its own RIP in the
 * journal (exit_rip).
 */
static int complete_insn(struct vm *vm, struct kvm_regs *regs, unsigned len, int vector)
{
	struct kvm_vcpu_events ev;

	if (vector >= 0 && ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	vm->exit_rip = regs->rip;
	vm->rip_moved = true;
	regs->rip += len;
	if (vm_set_regs(vm, regs) < 0)
		return -errno;
	if (vector < 0)
		return 0;
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)vector;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	if (vm_set_events(vm, &ev) < 0)
		return -errno;
	vm->event_queued = true;	/* no interrupt may join the exception on this entry */
	return 0;
}

/* INT3 (Linux's int3_selftest): a trap, so #BP is delivered with RIP past it. */
static int complete_int3(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	(void)sregs;
	return complete_insn(vm, regs, 1, 3);
}

/*
 * FWAIT (Linux's fpu__drop at every exec and exit): #NM with CR0.MP and TS
 * set, #MF when an unmasked x87 exception is pending (FSW.ES), else nothing.
 * Both faults leave RIP on the FWAIT. A pending exception with CR0.NE clear
 * would signal FERR#, which this board does not wire: not completed.
 */
static int complete_fwait(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	struct kvm_fpu fpu;

	if ((sregs->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
		return complete_insn(vm, regs, 0, 7);
	if (ioctl(vm->vcpu_fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	if (fpu.fsw & X87_FSW_ES)
		return sregs->cr0 & X86_CR0_NE ? complete_insn(vm, regs, 0, 16) : -ENOTSUP;
	return complete_insn(vm, regs, 1, -1);
}

static const struct insn_completion {
	uint8_t opcode;
	const char *name;
	int (*complete)(struct vm *vm, struct kvm_regs *regs, const struct kvm_sregs *sregs);
} insn_completions[VM_INSN_COMPLETIONS] = {
	{ 0xcc, "int3", complete_int3 },
	{ 0x9b, "fwait", complete_fwait },
};

const char *vm_insn_name(unsigned i)
{
	return i < VM_INSN_COMPLETIONS ? insn_completions[i].name : "?";
}

bool vm_insn_completed(struct vm *vm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t op;

	if (vm_get_regs(vm, &regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0 ||
	    read_virt(vm, sregs.cs.base + regs.rip, &op, 1) != 1)
		return false;
	for (unsigned i = 0; i < VM_INSN_COMPLETIONS; i++)
		if (insn_completions[i].opcode == op)
			return true;
	return false;
}

unsigned insn_rep_string(const uint8_t *code, unsigned n, unsigned *size, bool *movs)
{
	bool rep = false, opsize = false, rex_w = false;
	unsigned i;

	for (i = 0; i < n && i < 15; i++) {
		uint8_t b = code[i];

		if (b == 0xf3 || b == 0xf2)
			rep = true;
		else if (b == 0x66)
			opsize = true;
		else if (b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65)
			continue;	/* a segment override: movs's source */
		else if (b == 0x67)
			return 0;	/* ECX, EDI and ESI count: not handled */
		else
			break;
	}
	if (i < n && (code[i] & 0xf0) == 0x40) {	/* REX, right before the opcode */
		rex_w = code[i] & 8;
		i++;
	}
	if (!rep || i >= n)
		return 0;
	switch (code[i]) {
	case 0xaa: case 0xa4:
		*size = 1;
		break;
	case 0xab: case 0xa5:
		*size = rex_w ? 8 : opsize ? 2 : 4;
		break;
	default:
		return 0;
	}
	*movs = code[i] == 0xa4 || code[i] == 0xa5;
	return i + 1;
}

/* Whether condition code cc (the low nibble of Jcc) holds for rflags. */
static bool condition(unsigned cc, uint64_t f)
{
	bool cf = f & 1, pf = f >> 2 & 1, zf = f >> 6 & 1, sf = f >> 7 & 1, of = f >> 11 & 1, t;

	switch (cc >> 1) {
	case 0: t = of; break;
	case 1: t = cf; break;
	case 2: t = zf; break;
	case 3: t = cf || zf; break;
	case 4: t = sf; break;
	case 5: t = pf; break;
	case 6: t = sf != of; break;
	default: t = zf || sf != of; break;
	}
	return cc & 1 ? !t : t;
}

unsigned insn_jump(const uint8_t *code, unsigned n, uint64_t rflags, int64_t *disp)
{
	int32_t d32;

	if (n >= 2 && ((code[0] & 0xf0) == 0x70 || code[0] == 0xeb)) {
		*disp = code[0] == 0xeb || condition(code[0] & 0xf, rflags) ? (int8_t)code[1] : 0;
		return 2;
	}
	if (n >= 5 && code[0] == 0xe9) {
		memcpy(&d32, code + 1, 4);
		*disp = d32;
		return 5;
	}
	if (n >= 6 && code[0] == 0x0f && (code[1] & 0xf0) == 0x80) {
		memcpy(&d32, code + 2, 4);
		*disp = condition(code[1] & 0xf, rflags) ? d32 : 0;
		return 6;
	}
	return 0;
}

/*
 * A KVM that emulated a port write (kvm_pvm emulates all kernel code) has
 * moved RIP past the out by the time it exits; VT-x and SVM exit at it. The
 * journal keeps the second convention, so that a recording replays on either:
 * there, the out that ends at RIP and writes that port of that size is found
 * by its bytes (imm8 forms by their port, dx forms by DX).
 */
uint64_t vm_exit_rip(struct vm *vm, const struct kvm_regs *regs)
{
	const struct kvm_run *run = vm->run;
	unsigned size = run->io.size, port = run->io.port;
	bool dx = (regs->rdx & 0xffff) == port;
	struct kvm_sregs sregs;
	struct paging_mode pm;
	uint8_t b[3];

	/* One ioctl on this hot path: the page walk reads guest memory, not KVM_TRANSLATE a byte each. */
	if (!vm->caps || vm->caps->out_past != KVM_YES || run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1 || regs->rip < 3 ||
	    ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return regs->rip;
	pm = (struct paging_mode){ sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer };
	if (vm_read_virt(vm, &pm, sregs.cs.base + regs->rip - 3, b, 3) < 0)
		return regs->rip;
	if (port < 256 && b[2] == port) {
		if ((size == 1 && b[1] == 0xe6) || (size == 4 && b[1] == 0xe7 && b[0] != 0x66))
			return regs->rip - 2;	/* out %al, $imm8 / out %eax, $imm8 */
		if (size == 2 && b[1] == 0xe7 && b[0] == 0x66)
			return regs->rip - 3;	/* out %ax, $imm8 */
	}
	if (dx && ((size == 1 && b[2] == 0xee) || (size == 4 && b[2] == 0xef && b[1] != 0x66)))
		return regs->rip - 1;		/* out %al, %dx / out %eax, %dx */
	if (dx && size == 2 && b[2] == 0xef && b[1] == 0x66)
		return regs->rip - 2;		/* out %ax, %dx */
	return regs->rip;
}

int vm_exit_internal_error(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_run *run = vm->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t insn[15];
	unsigned n = 0;
	char bytes[15 * 3 + 1] = "";

	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		snprintf(err, errlen, "KVM internal error (suberror %u)", run->internal.suberror);
		return -EIO;
	}
	if (vm_get_regs(vm, &regs) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(err, errlen, "KVM emulation failure, and the registers cannot be read: %s",
			 strerror(errno));
		return -EIO;
	}
	if ((run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size) {
		n = run->emulation_failure.insn_size;
		if (n > sizeof(insn))
			n = sizeof(insn);
		memcpy(insn, run->emulation_failure.insn_bytes, n);
	} else {
		n = read_virt(vm, sregs.cs.base + regs.rip, insn, sizeof(insn));
	}
	for (unsigned i = 0; n >= 1 && i < VM_INSN_COMPLETIONS; i++) {
		const struct insn_completion *c = &insn_completions[i];
		int r;

		if (insn[0] != c->opcode)
			continue;
		r = c->complete(vm, &regs, &sregs);
		if (r == 0) {
			vm->stats.completed[i]++;
			return 0;
		}
		if (r != -ENOTSUP) {
			snprintf(err, errlen, "completing %s at RIP 0x%llx: %s", c->name,
				 (unsigned long long)regs.rip, strerror(-r));
			return r;
		}
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", insn[i]);
	if (n)
		bytes[3 * n - 1] = 0;
	snprintf(err, errlen, "KVM cannot emulate the instruction at RIP 0x%llx (CS base 0x%llx, CPL %u): "
		 "bytes %s", (unsigned long long)regs.rip, (unsigned long long)sregs.cs.base,
		 sregs.cs.dpl, n ? bytes : "unreadable");
	return -EIO;
}

