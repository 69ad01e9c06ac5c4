/* Linux loaders: bzImage through the 32-bit boot protocol (2.06+), and vmlinux through the PVH entry note. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "boot_internal.h"

/* Offsets into boot_params / the setup header (Documentation/x86/boot.rst, zero-page.rst). */
#define BP_EXT_MEM_K		0x002
#define BP_ALT_MEM_K		0x1e0
#define BP_E820_ENTRIES		0x1e8
#define BP_SETUP_SECTS		0x1f1
#define BP_VID_MODE		0x1fa
#define BP_BOOT_FLAG		0x1fe
#define BP_JUMP			0x200
#define BP_HEADER		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_CODE32_START		0x214
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_HEAP_END_PTR		0x224
#define BP_CMD_LINE_PTR		0x228
#define BP_INITRD_ADDR_MAX	0x22c
#define BP_CMDLINE_SIZE		0x238
#define BP_XLOADFLAGS		0x236
#define BP_PREF_ADDRESS		0x258
#define BP_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			4096

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01
#define LOADER_UNDEFINED	0xff

int boot_load_bzimage(const struct guest_mem *mem, const struct boot_config *cfg,
		      struct boot_entry *entry, char *err, size_t errlen)
{
	const uint8_t *k = cfg->kernel;
	uint8_t bp[BP_SIZE];
	uint64_t pm_off, pm_len, need_end, initrd = 0;
	uint32_t setup_sects, hdr_end, cmdline_size, initrd_max;
	uint16_t version;
	int r;

	if (cfg->kernel_len < BP_HEADER + 4 || memcmp(k + BP_HEADER, "HdrS", 4) != 0 ||
	    get_le16(k + BP_BOOT_FLAG) != 0xaa55)
		return -ENOEXEC;
	if (cfg->kernel_len < 0x270) {
		snprintf(err, errlen, "bzImage header truncated");
		return -EINVAL;
	}
	version = get_le16(k + BP_VERSION);
	if (version < 0x0206) {
		snprintf(err, errlen, "Linux boot protocol %u.%02u is too old (need 2.06 or later)",
			 version >> 8, version & 0xff);
		return -EINVAL;
	}
	if (!(k[BP_LOADFLAGS] & LOADED_HIGH)) {
		snprintf(err, errlen, "zImage (loaded low) is not supported, only bzImage");
		return -EINVAL;
	}
	setup_sects = k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	if (pm_off >= cfg->kernel_len) {
		snprintf(err, errlen, "bzImage has no protected-mode kernel after %u setup sectors",
			 setup_sects);
		return -EINVAL;
	}
	pm_len = cfg->kernel_len - pm_off;
	/* The decompressor needs init_size bytes at its preferred address (protocol 2.10+). */
	need_end = BOOT_HIMEM_START + pm_len;
	if (version >= 0x020a) {
		uint64_t pref = get_le64(k + BP_PREF_ADDRESS), init = get_le32(k + BP_INIT_SIZE);

		if (pref + init > need_end)
			need_end = pref + init;
	}
	if (need_end > mem->size) {
		snprintf(err, errlen, "kernel needs %llu MiB of guest memory, only %llu MiB given",
			 (unsigned long long)((need_end + (1 << 20) - 1) >> 20),
			 (unsigned long long)(mem->size >> 20));
		return -E2BIG;
	}
	gmem_write(mem, BOOT_HIMEM_START, k + pm_off, pm_len);

	cmdline_size = get_le32(k + BP_CMDLINE_SIZE);
	if ((r = boot_write_cmdline(mem, cfg->cmdline, (size_t)cmdline_size + 1, err, errlen)) < 0)
		return r;
	initrd_max = get_le32(k + BP_INITRD_ADDR_MAX);
	if ((r = boot_place_initrd(mem, cfg, need_end, initrd_max, &initrd, err, errlen)) < 0)
		return r;

	/* Zero page: the setup header as the image has it, then what a loader fills in. */
	memset(bp, 0, sizeof(bp));
	hdr_end = BP_JUMP + 2 + k[BP_JUMP + 1];
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	memcpy(bp + BP_SETUP_SECTS, k + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	put_le16(bp + BP_VID_MODE, 0xffff);
	bp[BP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[BP_LOADFLAGS] |= CAN_USE_HEAP;
	put_le32(bp + BP_CODE32_START, BOOT_HIMEM_START);
	put_le16(bp + BP_HEAP_END_PTR, 0xe000 - 0x200);
	put_le32(bp + BP_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put_le32(bp + BP_RAMDISK_IMAGE, (uint32_t)initrd);
	put_le32(bp + BP_RAMDISK_SIZE, cfg->initrd ? (uint32_t)cfg->initrd_len : 0);
	{
		uint64_t ext_k = (mem->size - BOOT_HIMEM_START) >> 10;

		put_le16(bp + BP_EXT_MEM_K, ext_k > 0xffff ? 0xffff : (uint16_t)ext_k);
		put_le32(bp + BP_ALT_MEM_K, (uint32_t)ext_k);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)boot_encode_e820(mem->size, bp + BP_E820_TABLE, 20, 0);
	gmem_write(mem, BOOT_ZEROPAGE_ADDR, bp, sizeof(bp));

	entry->kind = BOOT_BZIMAGE;
	entry->eip = BOOT_HIMEM_START;
	entry->esi = BOOT_ZEROPAGE_ADDR;
	entry->initrd_addr = initrd;
	return 0;
}

/* PVH: xen/include/public/arch-x86/hvm/start_info.h and elfnote.h. */
#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578
#define HVM_START_INFO_SIZE		56

static int pvh_find_entry(const struct elf_image *elf, uint32_t *entry, char *err, size_t errlen)
{
	for (unsigned i = 0; i < elf->phnum; i++) {
		struct elf_phdr ph;
		uint64_t off, end;

		if (elf_phdr(elf, i, &ph, err, errlen) < 0 || ph.type != ELF_PT_NOTE)
			continue;
		off = ph.offset;
		end = ph.offset + ph.filesz;
		while (end - off >= 12) {
			uint32_t namesz = get_le32(elf->data + off);
			uint32_t descsz = get_le32(elf->data + off + 4);
			uint32_t type = get_le32(elf->data + off + 8);
			uint64_t name = off + 12;
			uint64_t desc = name + ((namesz + 3ull) & ~3ull);
			uint64_t next = desc + ((descsz + 3ull) & ~3ull);

			if (next > end)
				break;
			if (namesz == 4 && memcmp(elf->data + name, "Xen", 4) == 0 &&
			    type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
				*entry = get_le32(elf->data + desc);
				return 0;
			}
			off = next;
		}
	}
	return -ENOEXEC;
}

int boot_load_pvh(const struct guest_mem *mem, const struct boot_config *cfg,
		  struct boot_entry *entry, char *err, size_t errlen)
{
	uint8_t info[HVM_START_INFO_SIZE], map[BOOT_E820_MAX * 24], mod[32];
	struct elf_image elf;
	uint64_t end, initrd = 0;
	uint32_t pvh_entry;
	char ignore[BOOT_ERR_LEN];
	int n, r;

	if (elf_open(&elf, cfg->kernel, cfg->kernel_len, ignore, sizeof(ignore)) < 0)
		return -ENOEXEC;
	if (pvh_find_entry(&elf, &pvh_entry, ignore, sizeof(ignore)) < 0)
		return -ENOEXEC;
	if ((r = boot_load_elf_segments(mem, &elf, &end, err, errlen)) < 0)
		return r;
	if ((r = boot_write_cmdline(mem, cfg->cmdline, BOOT_CMDLINE_MAX, err, errlen)) < 0)
		return r;
	if ((r = boot_place_initrd(mem, cfg, end, 0xffffffffull, &initrd, err, errlen)) < 0)
		return r;

	memset(map, 0, sizeof(map));
	n = boot_encode_e820(mem->size, map, 24, 0);
	gmem_write(mem, BOOT_MMAP_ADDR, map, 24 * (size_t)n);

	memset(info, 0, sizeof(info));
	put_le32(info, HVM_START_MAGIC);
	put_le32(info + 4, 1);				/* version: has the memmap */
	if (cfg->initrd) {
		memset(mod, 0, sizeof(mod));
		put_le64(mod, initrd);
		put_le64(mod + 8, cfg->initrd_len);
		gmem_write(mem, BOOT_MODS_ADDR, mod, sizeof(mod));
		put_le32(info + 12, 1);
		put_le64(info + 16, BOOT_MODS_ADDR);
	}
	put_le64(info + 24, BOOT_CMDLINE_ADDR);
	put_le64(info + 40, BOOT_MMAP_ADDR);
	put_le32(info + 48, (uint32_t)n);
	gmem_write(mem, BOOT_INFO_ADDR, info, sizeof(info));

	entry->kind = BOOT_PVH;
	entry->eip = pvh_entry;
	entry->ebx = BOOT_INFO_ADDR;
	entry->initrd_addr = initrd;
	return 0;
}
