/* Guest page-table walks, read straight from guest RAM: every table address is bounds-checked. */
#include "paging.h"

#include <errno.h>
#include <string.h>

#define ADDR_MASK_64	0x000ffffffffff000ull

static int read_entry(const struct guest_mem *m, uint64_t gpa, unsigned size, uint64_t *out)
{
	const void *p = gmem_ptr(m, gpa, size);
	uint32_t v32;

	if (!p)
		return -ERANGE;
	if (size == 4) {
		memcpy(&v32, p, 4);
		*out = v32;
	} else {
		memcpy(out, p, 8);
	}
	return 0;
}

static int done(uint64_t base, uint64_t page_size, uint64_t gva, uint64_t *gpa, uint64_t *page_left)
{
	uint64_t off = gva & (page_size - 1);

	*gpa = base + off;
	if (page_left)
		*page_left = page_size - off;
	return 0;
}

/* Long mode and PAE share the 8-byte format; levels gives the shift of the top index. */
static int walk64(const struct guest_mem *m, uint64_t table, int top_shift, uint64_t gva,
		  uint64_t *gpa, uint64_t *page_left, bool *user, struct paging_flags *f)
{
	uint64_t e;
	int r;

	for (int shift = top_shift; shift >= 12; shift -= 9) {
		if ((r = read_entry(m, table + ((gva >> shift) & 511) * 8, 8, &e)) < 0)
			return r;
		if (!(e & PTE_P))
			return -EFAULT;
		*user &= !!(e & PTE_U);
		if (f) {
			f->all &= e;
			f->leaf = e;
			if (f->n < 5)
				f->entry[f->n++] = table + ((gva >> shift) & 511) * 8;
		}
		/* 1 GiB and 2 MiB pages; PS in a PML4E/PML5E is reserved, not a page. */
		if ((shift == 30 || shift == 21) && (e & PTE_PS)) {
			uint64_t size = 1ull << shift;

			return done(e & ADDR_MASK_64 & ~(size - 1), size, gva, gpa, page_left);
		}
		table = e & ADDR_MASK_64;
	}
	return done(table, 4096, gva, gpa, page_left);
}

static int walk_pae(const struct guest_mem *m, uint64_t cr3, uint64_t gva, uint64_t *gpa, uint64_t *page_left,
		    bool *user)
{
	uint64_t e;
	int r;

	gva &= 0xffffffffull;
	if ((r = read_entry(m, (cr3 & 0xffffffe0ull) + (gva >> 30) * 8, 8, &e)) < 0)
		return r;
	if (!(e & PTE_P))
		return -EFAULT;
	return walk64(m, e & ADDR_MASK_64, 21, gva, gpa, page_left, user, NULL);
}

static int walk32(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
		  uint64_t *gpa, uint64_t *page_left, bool *user)
{
	uint64_t e;
	int r;

	gva &= 0xffffffffull;
	if ((r = read_entry(m, (pm->cr3 & 0xfffff000ull) + (gva >> 22) * 4, 4, &e)) < 0)
		return r;
	if (!(e & PTE_P))
		return -EFAULT;
	*user &= !!(e & PTE_U);
	if ((e & PTE_PS) && (pm->cr4 & X86_CR4_PSE)) {
		/* 4 MiB page; PSE-36 puts physical bits 39:32 in bits 20:13. */
		uint64_t base = (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32;

		return done(base, 4u << 20, gva, gpa, page_left);
	}
	if ((r = read_entry(m, (e & 0xfffff000ull) + ((gva >> 12) & 1023) * 4, 4, &e)) < 0)
		return r;
	if (!(e & PTE_P))
		return -EFAULT;
	*user &= !!(e & PTE_U);
	return done(e & 0xfffff000ull, 4096, gva, gpa, page_left);
}

int paging_translate(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
		     uint64_t *gpa, uint64_t *page_left)
{
	bool user;

	return paging_translate_user(m, pm, gva, gpa, page_left, &user);
}

int paging_translate_user(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
			  uint64_t *gpa, uint64_t *page_left, bool *user)
{
	*user = true;
	if (!(pm->cr0 & X86_CR0_PG)) {
		/* Outside long mode linear addresses are 32 bits wide. */
		if (!(pm->efer & X86_EFER_LMA))
			gva &= 0xffffffffull;
		return done(gva & ~4095ull, 4096, gva, gpa, page_left);
	}
	if (pm->efer & X86_EFER_LMA)
		return walk64(m, pm->cr3 & ADDR_MASK_64, pm->cr4 & X86_CR4_LA57 ? 48 : 39, gva, gpa, page_left, user,
			      NULL);
	if (pm->cr4 & X86_CR4_PAE)
		return walk_pae(m, pm->cr3, gva, gpa, page_left, user);
	return walk32(m, pm, gva, gpa, page_left, user);
}

int paging_translate_flags(const struct guest_mem *m, const struct paging_mode *pm, uint64_t gva,
			   uint64_t *gpa, uint64_t *page_left, struct paging_flags *f)
{
	bool user = true;

	if (!(pm->cr0 & X86_CR0_PG) || !(pm->efer & X86_EFER_LMA))
		return -ENOTSUP;
	f->all = ~0ull;
	f->leaf = 0;
	f->n = 0;
	return walk64(m, pm->cr3 & ADDR_MASK_64, pm->cr4 & X86_CR4_LA57 ? 48 : 39, gva, gpa, page_left, &user, f);
}

bool paging_canonical(const struct paging_mode *pm, uint64_t gva)
{
	unsigned bits = pm->cr4 & X86_CR4_LA57 ? 57 : 48;

	return (uint64_t)((int64_t)(gva << (64 - bits)) >> (64 - bits)) == gva;
}
