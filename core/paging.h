/* Guest page-table walks: no paging, 32-bit, PAE and 4/5-level, from the control registers. */
#ifndef VMM_PAGING_H
#define VMM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"

#define X86_CR0_MP	(1ull << 1)
#define X86_CR0_TS	(1ull << 3)
#define X86_CR0_NE	(1ull << 5)
#define X86_CR0_PG	(1ull << 31)
#define X86_CR4_PSE	(1ull << 4)
#define X86_CR4_PAE	(1ull << 5)
#define X86_CR4_LA57	(1ull << 12)
#define X86_CR4_PKS	(1ull << 24)
#define X86_EFER_SCE	(1ull << 0)
#define X86_EFER_LMA	(1ull << 10)

/* What vmm's own steps of guest instructions (rep_string.c, insn_step.c) check and clear. */
#define X86_RFLAGS_DF	(1ull << 10)
#define X86_RFLAGS_RF	(1ull << 16)

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)

struct paging_mode {
	uint64_t cr0, cr3, cr4, efer;
};

/*
 * The guest physical address of linear address gva, as the MMU would find
 * it; *page_left (if not NULL) gets the bytes from gpa to the end of its page.
 * -EFAULT: not mapped; -ERANGE: a table lies outside guest RAM.
 */
int paging_translate(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
		     uint64_t *gpa, uint64_t *page_left);
/* The same, and *user: whether code at CPL 3 may reach the page (U/S set at every level; true without paging). */
int paging_translate_user(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
			  uint64_t *gpa, uint64_t *page_left, bool *user);

/* The bits of every level's entry ANDed (W, U, A at all levels), and the last entry's own (D). */
struct paging_flags {
	uint64_t all, leaf;
	uint64_t entry[5];	/* the guest-physical address of each entry read */
	unsigned n;
};
/* paging_translate in long mode with the entries' bits; -ENOTSUP in any other mode. */
int paging_translate_flags(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
			   uint64_t *gpa, uint64_t *page_left, struct paging_flags *f);
/* In long mode: sign-extended from bit 47 (bit 56 with 5-level paging), else an access raises #GP. */
bool paging_canonical(const struct paging_mode *pm, uint64_t gva);

#endif
