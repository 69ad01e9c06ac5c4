/* Guest physical memory: one host mapping, bounds-checked accessors. */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;		/* host address of guest physical 0 */
	uint64_t size;		/* bytes of RAM, from guest physical 0 */
	/*
	 * Pages the VMM itself wrote (device DMA), which KVM's dirty log cannot
	 * see: one bit per 4 KiB page, or NULL when nobody is tracking.
	 */
	uint64_t *dma_dirty;
	/* /proc/self/pagemap of the process pagemap_pid, opened with the RAM (before any sandbox). */
	bool has_pagemap;
	int pagemap_fd;
	int pagemap_pid;
};

/* A device wrote [gpa, gpa+len): tell whoever tracks written pages. */
static inline void gmem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->dma_dirty || !len)
		return;
	for (uint64_t p = gpa >> 12; p <= (gpa + len - 1) >> 12 && p < m->size >> 12; p++)
		__atomic_fetch_or(&m->dma_dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
}

/* Host pointer to [gpa, gpa+len), or NULL if any byte lies outside RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

int gmem_alloc(struct guest_mem *m, uint64_t size);
void gmem_free(struct guest_mem *m);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
int gmem_fill(const struct guest_mem *m, uint64_t gpa, int byte, size_t len);
/*
 * Which of pages pages from host (page-aligned, private and anonymous) this
 * process ever mapped or swapped out, by its pagemap: one bit each in bm.
 * Any other page was never touched and holds zeros, so a digest can take it
 * as a zero page without reading it (which would cost a page fault and a
 * hash each, for RAM the guest may never use). -errno when the map cannot be
 * read.
 */
int gmem_pages_touched(int pagemap_fd, const uint8_t *host, size_t pages, uint64_t *bm);
/* The same for guest RAM; -ENOENT without a pagemap, and in a process forked since it was opened (it shows the parent's). */
int gmem_touched(const struct guest_mem *m, uint64_t *bm);
/* (Re)open this process's pagemap: at allocation, and in a forked process that goes on with the RAM. */
void gmem_pagemap_reopen(struct guest_mem *m);

#endif
