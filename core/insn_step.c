/* mov, lea, push and pop stepped by vmm: a landmark hunt's stop that is not the landmark costs no second entry. */
#include "insn_step.h"

#include <stdbool.h>
#include <string.h>


/* kvm_regs in the order instructions number the registers. */
static uint64_t *gpr(struct kvm_regs *r, unsigned n)
{
	uint64_t *const map[16] = { (uint64_t *)&r->rax, (uint64_t *)&r->rcx, (uint64_t *)&r->rdx, (uint64_t *)&r->rbx,
				    (uint64_t *)&r->rsp, (uint64_t *)&r->rbp, (uint64_t *)&r->rsi, (uint64_t *)&r->rdi,
				    (uint64_t *)&r->r8,  (uint64_t *)&r->r9,  (uint64_t *)&r->r10, (uint64_t *)&r->r11,
				    (uint64_t *)&r->r12, (uint64_t *)&r->r13, (uint64_t *)&r->r14, (uint64_t *)&r->r15 };

	return map[n & 15];
}


/* Host bytes of [gva, gva+len) at CPL 0, when the CPU would reach them without a fault or a page-table write. */
static uint8_t *reach(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva, unsigned len,
		      bool write, uint64_t *gpa)
{
	uint64_t need = PTE_P | PTE_A | (write ? PTE_W : 0), left;
	struct paging_flags f;

	if (!paging_canonical(pm, gva) || paging_translate_flags(m, pm, gva, gpa, &left, &f) < 0 || left < len ||
	    (f.all & need) != need || (f.all & PTE_U) || (write && !(f.leaf & PTE_D)))
		return NULL;
	return gmem_ptr(m, *gpa, len);
}

/*
 * ModRM (and SIB, displacement) at code[i]: *reg, and for a memory operand
 * its address in *addr; the bytes it takes, 0 when cut short.
 * *mem: the operand is memory (mod != 3), else *rm names a register.
 */
static bool disp32(const uint8_t *code, unsigned n, unsigned *i, int64_t *disp)
{
	int32_t d;

	if (*i + 4 > n)
		return false;
	memcpy(&d, code + *i, 4);
	*disp += d;
	*i += 4;
	return true;
}

static unsigned modrm(const uint8_t *code, unsigned n, unsigned i, unsigned rex, struct kvm_regs *r,
		      unsigned *reg, unsigned *rm, bool *mem, uint64_t *addr, bool *riprel)
{
	unsigned start = i, mod, base, index, scale;
	int64_t disp = 0;

	if (i >= n)
		return 0;
	mod = code[i] >> 6;
	*reg = (code[i] >> 3 & 7) | (rex & 4 ? 8 : 0);
	*rm = (code[i] & 7) | (rex & 1 ? 8 : 0);
	*mem = mod != 3;
	*riprel = false;
	i++;
	if (!*mem)
		return i - start;
	*addr = 0;
	if ((code[i - 1] & 7) == 4) {	/* SIB */
		if (i >= n)
			return 0;
		scale = code[i] >> 6;
		index = (code[i] >> 3 & 7) | (rex & 2 ? 8 : 0);
		base = (code[i] & 7) | (rex & 1 ? 8 : 0);
		i++;
		if (index != 4)
			*addr += *gpr(r, index) << scale;
		if ((base & 7) == 5 && mod == 0) {
			if (!disp32(code, n, &i, &disp))
				return 0;
		} else {
			*addr += *gpr(r, base);
		}
	} else if ((code[i - 1] & 7) == 5 && mod == 0) {
		if (!disp32(code, n, &i, &disp))
			return 0;
		*riprel = true;
	} else {
		*addr += *gpr(r, *rm);
	}
	if (mod == 1) {
		if (i >= n)
			return 0;
		disp += (int8_t)code[i++];
	} else if (mod == 2 && !disp32(code, n, &i, &disp)) {
		return 0;
	}
	*addr += (uint64_t)disp;
	return i - start;
}

int insn_step(const struct guest_mem *m, const struct paging_mode *pm, unsigned cpl, struct kvm_regs *r,
	      const uint8_t *code, unsigned n)
{
	unsigned i = 0, rex = 0, reg, rm, len, size;
	uint64_t addr = 0, gpa, v;
	bool mem, riprel, w;
	uint8_t *host;
	uint8_t op;

	if (!(pm->efer & X86_EFER_LMA) || (pm->cr4 & X86_CR4_PKS))
		return 0;
	if (n && (code[0] & 0xf0) == 0x40)
		rex = code[i++] & 0xf;
	if (i >= n)
		return 0;
	op = code[i++];
	w = rex & 8;
	size = w ? 8 : 4;
	if ((op & 0xf8) == 0x50 || (op & 0xf8) == 0x58) {	/* push, pop */
		uint64_t *x = gpr(r, (op & 7) | (rex & 1 ? 8 : 0));
		bool push = op < 0x58;
		uint64_t at = push ? r->rsp - 8 : r->rsp;

		if (cpl != 0 || !(host = reach(m, pm, at, 8, push, &gpa)))
			return 0;
		if (push) {
			memcpy(host, x, 8);
			gmem_mark_dirty(m, gpa, 8);
			r->rsp -= 8;
		} else {
			memcpy(&v, host, 8);
			r->rsp += 8;
			*x = v;	/* pop %rsp: the value read, not the incremented one */
		}
	} else if (op == 0x89 || op == 0x8b || op == 0x8d) {
		if (!(len = modrm(code, n, i, rex, r, &reg, &rm, &mem, &addr, &riprel)))
			return 0;
		i += len;
		if (riprel)
			addr += r->rip + i;
		if (op == 0x8d) {
			if (!mem)
				return 0;	/* #UD */
			*gpr(r, reg) = w ? addr : (uint32_t)addr;
		} else if (!mem) {
			v = op == 0x89 ? *gpr(r, reg) : *gpr(r, rm);
			*gpr(r, op == 0x89 ? rm : reg) = w ? v : (uint32_t)v;
		} else {
			if (cpl != 0 || !(host = reach(m, pm, addr, size, op == 0x89, &gpa)))
				return 0;
			if (op == 0x89) {
				memcpy(host, gpr(r, reg), size);
				gmem_mark_dirty(m, gpa, size);
			} else {
				v = 0;
				memcpy(&v, host, size);
				*gpr(r, reg) = v;
			}
		}
	} else {
		return 0;
	}
	r->rip += i;
	r->rflags &= ~X86_RFLAGS_RF;
	return 1;
}
