/* Boot loaders: multiboot v1, Linux bzImage (boot protocol 2.06+), Linux PVH ELF. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "le.h"

/*
 * Low-memory layout of what the loaders write (all below 640 KiB). It is part
 * of the guest-visible state, so it is fixed and documented here only.
 */
#define BOOT_GDT_ADDR		0x0500	/* 5 descriptors: null, null, code 0x10, data 0x18, TSS 0x20 */
#define BOOT_INFO_ADDR		0x1000	/* multiboot_info or hvm_start_info */
#define BOOT_MMAP_ADDR		0x2000	/* multiboot mmap or PVH memmap */
#define BOOT_MODS_ADDR		0x3000	/* multiboot module list or PVH modlist */
#define BOOT_LOADER_NAME_ADDR	0x3800
#define BOOT_ZEROPAGE_ADDR	0x7000	/* Linux boot_params */
#define BOOT_CMDLINE_ADDR	0x20000
#define BOOT_CMDLINE_MAX	0x10000	/* bytes including the NUL */
#define BOOT_LOW_END		0x30000	/* loaders refuse segments below this */
#define BOOT_LOWMEM_END		0x9fc00	/* 639 KiB of conventional RAM */
#define BOOT_HIMEM_START	0x100000
#define BOOT_MEM_MIN		(2ull << 20)
#define BOOT_MEM_MAX		(3072ull << 20)	/* the 32-bit PCI hole starts above */

#define BOOT_CODE_SEL		0x10
#define BOOT_DATA_SEL		0x18
#define BOOT_TSS_SEL		0x20

enum boot_kind { BOOT_MULTIBOOT, BOOT_BZIMAGE, BOOT_PVH };

struct boot_config {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;		/* NULL when there is none */
	size_t initrd_len;
	const char *cmdline;		/* never NULL; "" for none */
};

/* Register state for entry in 32-bit flat protected mode, paging off. */
struct boot_entry {
	enum boot_kind kind;
	uint32_t eip, eax, ebx, esi;
	uint64_t initrd_addr;
};

#define BOOT_ERR_LEN 200

/*
 * Detect the image format and load it. Returns 0, or -ENOEXEC (not a kernel
 * we know), -EINVAL (malformed), -E2BIG (does not fit in memory); err then
 * holds one line saying why.
 */
int boot_load(const struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen);

int boot_load_multiboot(const struct guest_mem *mem, const struct boot_config *cfg,
			struct boot_entry *entry, char *err, size_t errlen);
int boot_load_bzimage(const struct guest_mem *mem, const struct boot_config *cfg,
		      struct boot_entry *entry, char *err, size_t errlen);
int boot_load_pvh(const struct guest_mem *mem, const struct boot_config *cfg,
		  struct boot_entry *entry, char *err, size_t errlen);

const char *boot_kind_name(enum boot_kind kind);

/* Shared helpers (boot_common.c). */
#define E820_RAM	1
#define E820_RESERVED	2
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};
#define BOOT_E820_MAX 3
int boot_e820(uint64_t mem_size, struct e820_entry *out);
/* The map as entries of `stride` bytes, each (addr u64, size u64, type u32) `lead` bytes in; returns the count. */
int boot_encode_e820(uint64_t mem_size, uint8_t *out, size_t stride, size_t lead);
int boot_write_gdt(const struct guest_mem *mem);
int boot_write_cmdline(const struct guest_mem *mem, const char *cmdline, size_t max,
		       char *err, size_t errlen);
int boot_place_initrd(const struct guest_mem *mem, const struct boot_config *cfg,
		      uint64_t lowest, uint64_t highest, uint64_t *addr,
		      char *err, size_t errlen);

#endif
