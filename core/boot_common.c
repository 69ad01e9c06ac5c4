/* What the three boot loaders share: format detection, e820 map, boot GDT, command line, initrd placement. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "elf.h"
#include "boot_internal.h"

const char *boot_kind_name(enum boot_kind kind)
{
	static const char *const names[] = {
		[BOOT_MULTIBOOT] = "multiboot",
		[BOOT_BZIMAGE] = "bzImage",
		[BOOT_PVH] = "PVH",
	};
	return names[kind];
}

int boot_e820(uint64_t mem_size, struct e820_entry *out)
{
	out[0] = (struct e820_entry){ 0, BOOT_LOWMEM_END, E820_RAM };
	out[1] = (struct e820_entry){ BOOT_LOWMEM_END, BOOT_HIMEM_START - BOOT_LOWMEM_END, E820_RESERVED };
	out[2] = (struct e820_entry){ BOOT_HIMEM_START, mem_size - BOOT_HIMEM_START, E820_RAM };
	return 3;
}

int boot_encode_e820(uint64_t mem_size, uint8_t *out, size_t stride, size_t lead)
{
	struct e820_entry e820[BOOT_E820_MAX];
	int n = boot_e820(mem_size, e820);

	for (int i = 0; i < n; i++) {
		uint8_t *p = out + stride * (size_t)i + lead;

		put_le64(p, e820[i].addr);
		put_le64(p + 8, e820[i].size);
		put_le32(p + 16, e820[i].type);
	}
	return n;
}

int boot_write_gdt(const struct guest_mem *mem)
{
	/* Flat 4 GiB code and data at the selectors the Linux 32-bit boot protocol names. */
	static const uint64_t gdt[5] = {
		0,
		0,
		0x00cf9b000000ffffull,	/* 0x10: code, base 0, limit 4G, 32-bit */
		0x00cf93000000ffffull,	/* 0x18: data, base 0, limit 4G */
		0x00008b0000000067ull,	/* 0x20: 32-bit TSS (busy), base 0, limit 0x67 */
	};
	uint8_t buf[sizeof(gdt)];

	for (unsigned i = 0; i < 5; i++)
		put_le64(buf + 8 * i, gdt[i]);
	return gmem_write(mem, BOOT_GDT_ADDR, buf, sizeof(buf));
}

int boot_write_cmdline(const struct guest_mem *mem, const char *cmdline, size_t max,
		       char *err, size_t errlen)
{
	size_t len = strlen(cmdline) + 1;

	if (max > BOOT_CMDLINE_MAX)
		max = BOOT_CMDLINE_MAX;
	if (len > max) {
		snprintf(err, errlen, "command line is %zu bytes, the kernel accepts at most %zu",
			 len - 1, max - 1);
		return -E2BIG;
	}
	return gmem_write(mem, BOOT_CMDLINE_ADDR, cmdline, len);
}

/* Highest page-aligned spot for the initrd in [lowest, highest]; RAM above 1 MiB only. */
int boot_place_initrd(const struct guest_mem *mem, const struct boot_config *cfg,
		      uint64_t lowest, uint64_t highest, uint64_t *addr,
		      char *err, size_t errlen)
{
	uint64_t top = highest < mem->size - 1 ? highest : mem->size - 1;
	uint64_t len = cfg->initrd_len;

	*addr = 0;
	if (!cfg->initrd)
		return 0;
	lowest = (lowest + 0xfff) & ~0xfffull;
	if (len == 0 || top + 1 < lowest || top + 1 - lowest < len) {
		snprintf(err, errlen, "initrd of %zu bytes does not fit in guest memory "
			 "between 0x%llx and 0x%llx (try a larger -m)", cfg->initrd_len,
			 (unsigned long long)lowest, (unsigned long long)top + 1);
		return -E2BIG;
	}
	*addr = (top + 1 - len) & ~0xfffull;
	return gmem_write(mem, *addr, cfg->initrd, len);
}

/* Copy PT_LOAD segments to their physical addresses; returns the highest end. */
int boot_load_elf_segments(const struct guest_mem *mem, const struct elf_image *elf,
			   uint64_t *end, char *err, size_t errlen)
{
	unsigned loaded = 0;
	int r;

	*end = 0;
	for (unsigned i = 0; i < elf->phnum; i++) {
		struct elf_phdr ph;

		if ((r = elf_phdr(elf, i, &ph, err, errlen)) < 0)
			return r;
		if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.paddr < BOOT_LOW_END) {
			snprintf(err, errlen, "ELF segment %u at 0x%llx overlaps the boot data below 0x%x",
				 i, (unsigned long long)ph.paddr, BOOT_LOW_END);
			return -EINVAL;
		}
		if (!gmem_ptr(mem, ph.paddr, ph.memsz)) {
			snprintf(err, errlen, "ELF segment %u (0x%llx, %llu bytes) does not fit in %llu MiB "
				 "of guest memory", i, (unsigned long long)ph.paddr,
				 (unsigned long long)ph.memsz, (unsigned long long)(mem->size >> 20));
			return -E2BIG;
		}
		gmem_write(mem, ph.paddr, elf->data + ph.offset, ph.filesz);
		gmem_fill(mem, ph.paddr + ph.filesz, 0, ph.memsz - ph.filesz);
		if (ph.paddr + ph.memsz > *end)
			*end = ph.paddr + ph.memsz;
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "ELF file has no loadable segment");
		return -EINVAL;
	}
	return 0;
}

int boot_load(const struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	static int (*const loaders[])(const struct guest_mem *, const struct boot_config *,
				      struct boot_entry *, char *, size_t) = {
		boot_load_multiboot, boot_load_bzimage, boot_load_pvh,
	};
	int r;

	memset(entry, 0, sizeof(*entry));
	if (mem->size < BOOT_MEM_MIN) {
		snprintf(err, errlen, "guest memory must be at least %llu MiB", BOOT_MEM_MIN >> 20);
		return -EINVAL;
	}
	/* Each loader answers -ENOEXEC when the image is not its format. */
	for (unsigned i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		r = loaders[i](mem, cfg, entry, err, errlen);
		if (r != -ENOEXEC)
			return r < 0 ? r : boot_write_gdt(mem);
	}
	snprintf(err, errlen, "not a kernel: no multiboot header, no Linux boot header, "
		 "no PVH entry note");
	return -ENOEXEC;
}
