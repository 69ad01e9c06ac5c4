/* The commonest flag-free instructions (mov, lea, push, pop) stepped by vmm itself, exactly as the CPU would, or left to it. */
#ifndef VMM_INSN_STEP_H
#define VMM_INSN_STEP_H

#include <linux/kvm.h>
#include <stdint.h>

#include "paging.h"

/*
 * The instruction in code[0..n) at r->rip, run on r and guest RAM, when it is
 * one of: mov between registers or between a register and memory (89, 8B;
 * 32 and 64 bits), lea (8D), push and pop of a register, with no prefix but
 * REX, in 64-bit code (the caller checks CS.L). Memory only at CPL 0, on supervisor pages in RAM whose
 * accessed bits (and, written, dirty bit) are set already, within one page:
 * where the CPU would change nothing but the register or those bytes. A page
 * written is marked in m->dma_dirty. 1 when run (RIP past it, RF clear); 0
 * when left to the CPU.
 */
int insn_step(const struct guest_mem *m, const struct paging_mode *pm, unsigned cpl, struct kvm_regs *r,
	      const uint8_t *code, unsigned n);

#endif
