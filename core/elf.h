/* Minimal bounds-checked ELF reader for the multiboot and PVH loaders. */
#ifndef VMM_ELF_H
#define VMM_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4

struct elf_image {
	const uint8_t *data;
	size_t len;
	int is64;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	uint16_t phnum, phentsize;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* 0 if data is a little-endian ELF executable whose headers lie in the file. */
int elf_open(struct elf_image *elf, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Program header i; -EINVAL if it points outside the file or overflows. */
int elf_phdr(const struct elf_image *elf, unsigned i, struct elf_phdr *ph, char *err, size_t errlen);

#endif
