/* HLTs planted in kernel code: breakpoints on KVMs whose debug registers do not fire. */
#include "plant.h"

#include <errno.h>
#include <sys/ioctl.h>

#include "paging.h"
#include "vm.h"

int plant_add(struct plants *ps, struct vm *vm, uint64_t rip)
{
	struct kvm_sregs s;
	struct paging_mode pm;
	uint64_t gpa, left;
	uint8_t *host;
	int r;

	if (ps->n >= PLANTS_MAX)
		return -E2BIG;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	pm = (struct paging_mode){ s.cr0, s.cr3, s.cr4, s.efer };
	if ((r = paging_translate(&vm->mem, &pm, s.cs.base + rip, &gpa, &left)) < 0)
		return r;
	if (!(host = gmem_ptr(&vm->mem, gpa, 1)))
		return -EFAULT;
	ps->p[ps->n++] = (struct plant){ rip, host, 0 };
	return 0;
}

void plants_on(struct plants *ps)
{
	for (unsigned i = 0; i < ps->n; i++) {
		ps->p[i].orig = *ps->p[i].host;
		*ps->p[i].host = OPCODE_HLT;	/* over a HLT of the guest's own, the same stop */
	}
}

void plants_off(struct plants *ps)
{
	/* In reverse: two plants on one byte give it back as it was. */
	for (unsigned i = ps->n; i-- > 0;)
		if (*ps->p[i].host == OPCODE_HLT)
			*ps->p[i].host = ps->p[i].orig;
}

int plant_hit(const struct plants *ps, struct vm *vm)
{
	struct kvm_regs regs;

	if (!ps->n || vm->run->exit_reason != KVM_EXIT_HLT)
		return 0;
	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	for (unsigned i = 0; i < ps->n; i++) {
		if (regs.rip != ps->p[i].rip + 1)
			continue;
		regs.rip = ps->p[i].rip;
		if (vm_set_regs(vm, &regs) < 0)
			return -errno;
		return 1;
	}
	return 0;
}
