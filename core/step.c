/* Single-stepping that leaves no trace: the TF a step sets is taken back out of what the guest saved of RFLAGS. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "paging.h"
#include "vm.h"

#define RFLAGS_TF	(1ull << 8)
#define RFLAGS_RF	(1ull << 16)
#define RFLAGS_VM	(1ull << 17)
#define OP_PUSHF	0x9c

/* PUSHF with its prefixes (operand size, REX) at rip: the instruction that just ran. */
static bool was_pushf(struct vm *vm, const struct paging_mode *pm, uint64_t rip)
{
	uint8_t insn[4];

	if (vm_read_virt(vm, pm, rip, insn, sizeof(insn)) < 0)
		return false;
	for (unsigned i = 0; i < sizeof(insn); i++) {
		if (insn[i] == OP_PUSHF)
			return true;
		if (insn[i] != 0x66 && (insn[i] & 0xf0) != 0x40)
			return false;
	}
	return false;
}

/* Clear TF in the size-byte RFLAGS image at gva if it is the stepped one. */
static int fix_image(struct vm *vm, const struct paging_mode *pm, uint64_t gva, unsigned size, uint64_t want,
		     uint64_t ignore)
{
	uint64_t v = 0, mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;

	if (vm_read_virt(vm, pm, gva, &v, size) < 0 || ((v ^ want) & mask & ~ignore))
		return 0;
	v &= ~RFLAGS_TF;
	return vm_write_virt(vm, pm, gva, &v, size) < 0 ? 0 : 1;
}

/*
 * KVM steps by setting RFLAGS.TF and hides it from KVM_GET_REGS, but not from
 * what the stepped instruction saves: PUSHF's image, SYSCALL's R11, the frame
 * of an interrupt or exception delivered on the way. Left there, the guest's
 * memory differs from a run that was not stepped (replay finds no landmark by
 * its fingerprint), and a later POPF, SYSRET or IRET turns the guest's own
 * TF on. before: the registers KVM reported before the step. Returns 1 when
 * something was put right, 0 when nothing needed it, or -errno.
 */
int vm_step_fixup(struct vm *vm, const struct kvm_regs *before)
{
	uint64_t image = (before->rflags & ~(RFLAGS_RF | RFLAGS_VM)) | RFLAGS_TF;
	struct paging_mode pm;
	struct kvm_regs after;
	int64_t moved;
	int r;

	if (before->rflags & RFLAGS_TF)
		return 0;	/* the guest's own TF: saved as it should be */
	if (vm_get_regs(vm, &after) < 0)
		return -errno;
	if (after.r11 == image && after.rcx == before->rip + 2 && before->r11 != image) {
		after.r11 &= ~RFLAGS_TF;	/* SYSCALL */
		return vm_set_regs(vm, &after) < 0 ? -errno : 1;
	}
	moved = (int64_t)(before->rsp - after.rsp);
	if (moved == 0 || (moved >= -8 && moved < 2) || moved == 6 || (moved > 8 && moved < 24))
		return 0;	/* no push that could hold RFLAGS */
	if ((r = vm_paging_mode(vm, &pm)) < 0)
		return r;
	if (moved == 2 || moved == 4 || moved == 8)
		return was_pushf(vm, &pm, before->rip) ? fix_image(vm, &pm, after.rsp, (unsigned)moved, image, 0) : 0;
	/*
	 * An event delivered in long mode: [error code,] RIP, CS, RFLAGS, RSP, SS
	 * on a new or the same stack. Faults push RF set, so RF is not compared.
	 */
	if (!(pm.efer & (1ull << 10)))
		return 0;
	for (unsigned slot = 2; slot <= 3; slot++) {
		uint64_t cs = 0;

		if (vm_read_virt(vm, &pm, after.rsp + 8 * (slot - 1), &cs, 8) < 0 || cs > 0xffff)
			continue;
		if ((r = fix_image(vm, &pm, after.rsp + 8 * slot, 8, image, RFLAGS_RF)) != 0)
			return r;
	}
	return 0;
}
