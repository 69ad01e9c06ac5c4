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
		if (vm_set_regs_lazy(vm, &regs) < 0)
			return -errno;
		return 1;
	}
	return 0;
}

#define MSR_LSTAR 0xc0000082u

static uint64_t read_msr(struct vm *vm, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	return ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) == 1 ? m.e.data : 0;
}

/* The handler address of an interrupt or trap gate, or 0. */
static uint64_t gate_target(struct vm *vm, const struct kvm_sregs *s, const struct paging_mode *pm, unsigned vector)
{
	bool lm = s->efer & X86_EFER_LMA;
	unsigned size = lm ? 16 : 8;
	uint32_t hi = 0;
	uint64_t lo, off;

	if ((vector + 1) * size - 1 > s->idt.limit ||
	    vm_read_virt(vm, pm, s->idt.base + vector * size, &lo, 8) < 0 ||
	    (lm && vm_read_virt(vm, pm, s->idt.base + vector * size + 8, &hi, 4) < 0))
		return 0;
	/* Present, 32/64-bit interrupt (0xe) or trap (0xf) gate. */
	if (!(lo >> 47 & 1) || ((lo >> 40 & 0xf) != 0xe && (lo >> 40 & 0xf) != 0xf))
		return 0;
	off = (lo & 0xffff) | (lo >> 32 & 0xffff0000u);
	return lm ? off | (uint64_t)hi << 32 : off;
}

static unsigned add_once(uint64_t *addr, unsigned n, unsigned max, uint64_t a)
{
	if (!a || n >= max)
		return n;
	for (unsigned i = 0; i < n; i++)
		if (addr[i] == a)
			return n;
	addr[n] = a;
	return n + 1;
}

unsigned plant_entries_find(struct vm *vm, const struct kvm_sregs *s, const uint8_t *vectors, unsigned nvec,
			    uint64_t *addr, unsigned max)
{
	struct paging_mode pm = { s->cr0, s->cr3, s->cr4, s->efer };
	unsigned n = 0;

	for (unsigned i = 0; i < nvec; i++)
		n = add_once(addr, n, max, gate_target(vm, s, &pm, vectors[i]));
	if ((s->efer & X86_EFER_LMA) && (s->efer & X86_EFER_SCE))
		return add_once(addr, n, max, read_msr(vm, MSR_LSTAR));
	return add_once(addr, n, max, gate_target(vm, s, &pm, 0x80));
}

unsigned plant_entries_all(struct plants *ps, struct vm *vm)
{
	uint8_t vectors[33];
	uint64_t addr[PLANTS_MAX];
	struct kvm_sregs s;
	unsigned n;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return 0;
	for (unsigned i = 0; i < 32; i++)
		vectors[i] = (uint8_t)i;
	vectors[32] = 0x80;
	n = plant_entries_find(vm, &s, vectors, sizeof(vectors), addr, PLANTS_MAX);
	ps->n = 0;
	for (unsigned i = 0; i < n; i++)
		(void)plant_add(ps, vm, addr[i]);	/* one outside RAM is left out */
	return ps->n;
}
