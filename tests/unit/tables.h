/* The guest the tests of vmm's own instruction steps run on: 4 MiB of RAM, long-mode tables mapping the first 2 MiB 1:1 in 4 KiB pages. */
#ifndef VMM_TEST_TABLES_H
#define VMM_TEST_TABLES_H

#include <stdint.h>
#include <string.h>

#include "paging.h"

#define RAM (4u << 20)
#define PT 0x4000ull	/* the page table: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000 */
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_A)
#define PAGE_FLAGS (PTE_P | PTE_W | PTE_A | PTE_D)
#define CODE 0x10000ull

static struct guest_mem mem;
static uint64_t dirty[RAM / 4096 / 64];
static struct paging_mode pm;

static inline void put64(uint64_t gpa, uint64_t v)
{
	memcpy(mem.host + gpa, &v, 8);
}

/* Page n of the first 2 MiB maps to gpa with flags. */
static inline void map(unsigned n, uint64_t gpa, uint64_t flags)
{
	put64(PT + n * 8, gpa | flags);
}

static inline int setup(void **state)
{
	(void)state;
	if (gmem_alloc(&mem, RAM) < 0)
		return -1;
	memset(dirty, 0, sizeof(dirty));
	mem.dma_dirty = dirty;
	pm = (struct paging_mode){ X86_CR0_PG, 0x1000, X86_CR4_PAE, X86_EFER_LMA };
	put64(0x1000, 0x2000 | TABLE_FLAGS);
	put64(0x2000, 0x3000 | TABLE_FLAGS);
	put64(0x3000, PT | TABLE_FLAGS);
	for (unsigned i = 0; i < 512; i++)
		map(i, i * 4096ull, PAGE_FLAGS);
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	gmem_free(&mem);
	return 0;
}

#endif
