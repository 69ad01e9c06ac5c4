/* Guest physical memory allocation and bounds-checked copies. */
#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

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
	return 0;
}

void gmem_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
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
