/* Guest physical memory allocation and bounds-checked copies. */
#include "guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int gmem_alloc(struct guest_mem *m, uint64_t size)
{
	/* NORESERVE: a 3 GiB guest that touches 100 MiB costs 100 MiB. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_MERGEABLE);
	m->host = p;
	m->size = size;
	m->has_pagemap = false;
	gmem_pagemap_reopen(m);
	return 0;
}

void gmem_pagemap_reopen(struct guest_mem *m)
{
	if (m->has_pagemap)
		close(m->pagemap_fd);
	m->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	m->has_pagemap = m->pagemap_fd >= 0;
	m->pagemap_pid = getpid();
}

void gmem_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	if (m->has_pagemap)
		close(m->pagemap_fd);
	m->has_pagemap = false;
	m->host = NULL;
	m->size = 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_fill(const struct guest_mem *m, uint64_t gpa, int byte, size_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memset(p, byte, len);
	return 0;
}

int gmem_pages_touched(int pagemap_fd, const uint8_t *host, size_t pages, uint64_t *bm)
{
	enum { CHUNK = 4096 };
	uint64_t *e = malloc(CHUNK * 8);
	size_t base = (uintptr_t)host / 4096;

	if (!e)
		return -ENOMEM;
	memset(bm, 0, (pages + 63) / 64 * 8);
	for (size_t i = 0; i < pages; i += CHUNK) {
		size_t n = pages - i < CHUNK ? pages - i : CHUNK;
		ssize_t got = pread(pagemap_fd, e, n * 8, (off_t)((base + i) * 8));

		if (got != (ssize_t)(n * 8)) {
			free(e);
			return got < 0 ? -errno : -EIO;
		}
		for (size_t j = 0; j < n; j++)
			if (e[j] & (3ull << 62))	/* present, or swapped */
				bm[(i + j) / 64] |= 1ull << ((i + j) % 64);
	}
	free(e);
	return 0;
}

int gmem_touched(const struct guest_mem *m, uint64_t *bm)
{
	if (!m->has_pagemap || getpid() != m->pagemap_pid)
		return -ENOENT;
	return gmem_pages_touched(m->pagemap_fd, m->host, m->size / 4096, bm);
}
