/* Multiboot v1 loader: ELF32 or a.out-kludge kernels, multiboot_info with memory map, command line and initrd module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "boot_internal.h"

#define MULTIBOOT_HEADER_MAGIC		0x1badb002
#define MULTIBOOT_BOOTLOADER_MAGIC	0x2badb002
#define MULTIBOOT_SEARCH		8192
#define MULTIBOOT_PAGE_ALIGN		(1u << 0)
#define MULTIBOOT_MEMORY_INFO		(1u << 1)
#define MULTIBOOT_VIDEO_MODE		(1u << 2)
#define MULTIBOOT_AOUT_KLUDGE		(1u << 16)

#define MBI_FLAG_MEM			(1u << 0)
#define MBI_FLAG_CMDLINE		(1u << 2)
#define MBI_FLAG_MODS			(1u << 3)
#define MBI_FLAG_MMAP			(1u << 6)
#define MBI_FLAG_LOADER_NAME		(1u << 9)
#define MBI_SIZE			88

static long multiboot_find(const uint8_t *k, size_t len)
{
	size_t lim = len < MULTIBOOT_SEARCH ? len : MULTIBOOT_SEARCH;

	for (size_t off = 0; off + 12 <= lim; off += 4) {
		uint32_t magic = get_le32(k + off), flags = get_le32(k + off + 4);

		if (magic == MULTIBOOT_HEADER_MAGIC &&
		    (uint32_t)(magic + flags + get_le32(k + off + 8)) == 0)
			return (long)off;
	}
	return -1;
}

static int load_aout(const struct guest_mem *mem, const struct boot_config *cfg, size_t hdr,
		     uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
	const uint8_t *h = cfg->kernel + hdr;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t file_off, len, mem_end;

	if (hdr + 32 > cfg->kernel_len) {
		snprintf(err, errlen, "multiboot header truncated");
		return -EINVAL;
	}
	header_addr = get_le32(h + 12);
	load_addr = get_le32(h + 16);
	load_end = get_le32(h + 20);
	bss_end = get_le32(h + 24);
	*entry = get_le32(h + 28);
	if (header_addr < load_addr || header_addr - load_addr > hdr) {
		snprintf(err, errlen, "multiboot header_addr 0x%x inconsistent with load_addr 0x%x",
			 header_addr, load_addr);
		return -EINVAL;
	}
	file_off = hdr - (header_addr - load_addr);
	len = load_end ? (uint64_t)load_end - load_addr : cfg->kernel_len - file_off;
	if (load_end && load_end < load_addr) {
		snprintf(err, errlen, "multiboot load_end_addr below load_addr");
		return -EINVAL;
	}
	if (len > cfg->kernel_len - file_off) {
		snprintf(err, errlen, "multiboot load range extends past the end of the file");
		return -EINVAL;
	}
	mem_end = bss_end ? bss_end : load_addr + len;
	if (mem_end < load_addr + len) {
		snprintf(err, errlen, "multiboot bss_end_addr below the loaded image");
		return -EINVAL;
	}
	if (load_addr < BOOT_LOW_END) {
		snprintf(err, errlen, "multiboot load_addr 0x%x overlaps the boot data below 0x%x",
			 load_addr, BOOT_LOW_END);
		return -EINVAL;
	}
	if (!gmem_ptr(mem, load_addr, mem_end - load_addr)) {
		snprintf(err, errlen, "kernel (0x%x-0x%llx) does not fit in %llu MiB of guest memory",
			 load_addr, (unsigned long long)mem_end, (unsigned long long)(mem->size >> 20));
		return -E2BIG;
	}
	gmem_write(mem, load_addr, cfg->kernel + file_off, len);
	gmem_fill(mem, load_addr + len, 0, mem_end - load_addr - len);
	*end = mem_end;
	return 0;
}

static int load_elf(const struct guest_mem *mem, const struct boot_config *cfg,
		    uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
	struct elf_image elf;
	int r;

	if ((r = elf_open(&elf, cfg->kernel, cfg->kernel_len, err, errlen)) < 0)
		goto fail;
	if (elf.is64 || elf.machine != 3) {
		snprintf(err, errlen, "multiboot kernel must be ELF32 for i386 (or use the a.out kludge)");
		return -EINVAL;
	}
	if ((r = boot_load_elf_segments(mem, &elf, end, err, errlen)) < 0)
		return r;
	/* A higher-half kernel gives a virtual entry: translate it through its segment. */
	*entry = (uint32_t)elf.entry;
	for (unsigned i = 0; i < elf.phnum; i++) {
		struct elf_phdr ph;

		if (elf_phdr(&elf, i, &ph, err, errlen) == 0 && ph.type == ELF_PT_LOAD &&
		    elf.entry >= ph.vaddr && elf.entry < ph.vaddr + ph.memsz) {
			*entry = (uint32_t)(elf.entry - ph.vaddr + ph.paddr);
			break;
		}
	}
	return 0;
fail:
	if (r == -ENOEXEC) {
		/* A multiboot header was found, so this is no longer "some other format". */
		snprintf(err, errlen, "multiboot kernel is not ELF and has no a.out kludge");
		r = -EINVAL;
	}
	return r;
}

int boot_load_multiboot(const struct guest_mem *mem, const struct boot_config *cfg,
			struct boot_entry *entry, char *err, size_t errlen)
{
	uint8_t mbi[MBI_SIZE], mmap[BOOT_E820_MAX * 24], mod[16];
	uint64_t end = 0, initrd = 0;
	uint32_t flags, mbi_flags;
	long hdr;
	int n, r;

	hdr = multiboot_find(cfg->kernel, cfg->kernel_len);
	if (hdr < 0)
		return -ENOEXEC;
	flags = get_le32(cfg->kernel + hdr + 4);
	/* Bits 0-15 are requirements: refuse what we cannot honour rather than boot wrongly. */
	if (flags & 0xffff & ~(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_VIDEO_MODE)) {
		snprintf(err, errlen, "multiboot header requires unsupported features (flags 0x%x)", flags);
		return -EINVAL;
	}
	if (flags & MULTIBOOT_AOUT_KLUDGE)
		r = load_aout(mem, cfg, (size_t)hdr, &entry->eip, &end, err, errlen);
	else
		r = load_elf(mem, cfg, &entry->eip, &end, err, errlen);
	if (r < 0)
		return r;
	if ((r = boot_write_cmdline(mem, cfg->cmdline, BOOT_CMDLINE_MAX, err, errlen)) < 0)
		return r;
	if ((r = boot_place_initrd(mem, cfg, end, 0xffffffffull, &initrd, err, errlen)) < 0)
		return r;

	n = boot_encode_e820(mem->size, mmap, 24, 4);
	for (int i = 0; i < n; i++)
		put_le32(mmap + 24 * i, 20);	/* size of the rest of the entry */
	gmem_write(mem, BOOT_MMAP_ADDR, mmap, 24 * (size_t)n);
	gmem_write(mem, BOOT_LOADER_NAME_ADDR, "vmm", 4);

	memset(mbi, 0, sizeof(mbi));
	mbi_flags = MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME;
	put_le32(mbi + 4, BOOT_LOWMEM_END >> 10);			/* mem_lower, KiB */
	put_le32(mbi + 8, (uint32_t)((mem->size - BOOT_HIMEM_START) >> 10)); /* mem_upper */
	put_le32(mbi + 16, BOOT_CMDLINE_ADDR);
	if (cfg->initrd) {
		mbi_flags |= MBI_FLAG_MODS;
		put_le32(mod, (uint32_t)initrd);
		put_le32(mod + 4, (uint32_t)(initrd + cfg->initrd_len));
		put_le32(mod + 8, BOOT_LOADER_NAME_ADDR + 3);	/* empty string */
		put_le32(mod + 12, 0);
		gmem_write(mem, BOOT_MODS_ADDR, mod, sizeof(mod));
		put_le32(mbi + 20, 1);
		put_le32(mbi + 24, BOOT_MODS_ADDR);
	}
	put_le32(mbi + 44, 24 * (uint32_t)n);
	put_le32(mbi + 48, BOOT_MMAP_ADDR);
	put_le32(mbi + 64, BOOT_LOADER_NAME_ADDR);
	put_le32(mbi, mbi_flags);
	gmem_write(mem, BOOT_INFO_ADDR, mbi, sizeof(mbi));

	entry->kind = BOOT_MULTIBOOT;
	entry->eax = MULTIBOOT_BOOTLOADER_MAGIC;
	entry->ebx = BOOT_INFO_ADDR;
	entry->initrd_addr = initrd;
	return 0;
}
