/* Guest physical memory: one host mapping, bounds-checked accessors. */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;		/* host address of guest physical 0 */
	uint64_t size;		/* bytes of RAM, from guest physical 0 */
};

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

#endif
