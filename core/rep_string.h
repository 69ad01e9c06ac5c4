/* A rep stos or rep movs run by vmm itself, exactly as the CPU would run it, or left to the CPU. */
#ifndef VMM_REP_STRING_H
#define VMM_REP_STRING_H

#include <linux/kvm.h>
#include <stdint.h>

#include "paging.h"

/* Bytes a run may write: a longer string is the CPU's to run. */
#define REP_RUN_MAX (1u << 20)

/*
 * The rep stos or movs in code[0..n) (insn_rep_string's kind) at r->rip, run
 * to its end on guest RAM, with r moved as the CPU moves it (RCX 0, RDI and RSI
 * past the string, RIP past the instruction, RF clear). Only where the CPU
 * would do nothing else: 64-bit code at CPL 0, no FS or GS override,
 * DF clear, a string at most REP_RUN_MAX bytes that neither overlaps itself
 * nor leaves RAM, on supervisor pages whose entries at every level already
 * have their accessed bit, and writable ones their dirty bit (so no
 * page-table byte changes), without protection keys. Each page written is
 * marked in m->dma_dirty, as a device's DMA is. 1 when run; 0 when left to the CPU.
 */
int rep_string_run(const struct guest_mem *m, const struct paging_mode *pm, unsigned cpl, struct kvm_regs *r,
		   const uint8_t *code, unsigned n);

#endif
