/* Minimal bounds-checked ELF reader: every offset and size is checked against the file. */
#include "elf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"

int elf_open(struct elf_image *elf, const uint8_t *d, size_t len, char *err, size_t errlen)
{
	memset(elf, 0, sizeof(*elf));
	if (len < 52 || memcmp(d, "\177ELF", 4) != 0) {
		snprintf(err, errlen, "not an ELF file");
		return -ENOEXEC;
	}
	if (d[5] != 1) {
		snprintf(err, errlen, "ELF file is not little-endian");
		return -ENOEXEC;
	}
	if (get_le16(d + 16) != 2) {
		snprintf(err, errlen, "ELF file is not an executable (e_type %u)", get_le16(d + 16));
		return -ENOEXEC;
	}
	elf->data = d;
	elf->len = len;
	elf->machine = get_le16(d + 18);
	if (d[4] == 1) {
		elf->entry = get_le32(d + 24);
		elf->phoff = get_le32(d + 28);
		elf->phentsize = get_le16(d + 42);
		elf->phnum = get_le16(d + 44);
		if (elf->phentsize < 32)
			goto bad_ph;
	} else if (d[4] == 2) {
		if (len < 64) {
			snprintf(err, errlen, "ELF64 header truncated");
			return -EINVAL;
		}
		elf->is64 = 1;
		elf->entry = get_le64(d + 24);
		elf->phoff = get_le64(d + 32);
		elf->phentsize = get_le16(d + 54);
		elf->phnum = get_le16(d + 56);
		if (elf->phentsize < 56)
			goto bad_ph;
	} else {
		snprintf(err, errlen, "unknown ELF class %u", d[4]);
		return -ENOEXEC;
	}
	if (elf->phoff > len || (uint64_t)elf->phnum * elf->phentsize > len - elf->phoff)
		goto bad_ph;
	return 0;
bad_ph:
	snprintf(err, errlen, "ELF program header table lies outside the file");
	return -EINVAL;
}

int elf_phdr(const struct elf_image *elf, unsigned i, struct elf_phdr *ph, char *err, size_t errlen)
{
	const uint8_t *p = elf->data + elf->phoff + (uint64_t)i * elf->phentsize;

	if (i >= elf->phnum)
		return -EINVAL;
	if (elf->is64) {
		ph->type = get_le32(p);
		ph->offset = get_le64(p + 8);
		ph->vaddr = get_le64(p + 16);
		ph->paddr = get_le64(p + 24);
		ph->filesz = get_le64(p + 32);
		ph->memsz = get_le64(p + 40);
	} else {
		ph->type = get_le32(p);
		ph->offset = get_le32(p + 4);
		ph->vaddr = get_le32(p + 8);
		ph->paddr = get_le32(p + 12);
		ph->filesz = get_le32(p + 16);
		ph->memsz = get_le32(p + 20);
	}
	if (ph->offset > elf->len || ph->filesz > elf->len - ph->offset) {
		snprintf(err, errlen, "ELF segment %u lies outside the file", i);
		return -EINVAL;
	}
	if (ph->type == ELF_PT_LOAD && ph->filesz > ph->memsz) {
		snprintf(err, errlen, "ELF segment %u has filesz > memsz", i);
		return -EINVAL;
	}
	return 0;
}
