/* Helpers shared by the loaders only. */
#ifndef VMM_BOOT_INTERNAL_H
#define VMM_BOOT_INTERNAL_H

#include "boot.h"
#include "elf.h"

int boot_load_elf_segments(const struct guest_mem *mem, const struct elf_image *elf,
			   uint64_t *end, char *err, size_t errlen);

#endif
