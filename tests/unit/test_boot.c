/* cmocka tests of the loaders on synthetic images: multiboot (ELF and a.out kludge), bzImage, PVH, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

#define MEM (64ull << 20)

static struct guest_mem mem;
static uint8_t img[64 * 1024];
static char err[BOOT_ERR_LEN];

static int setup(void **state)
{
	(void)state;
	mem.size = MEM;
	mem.host = malloc(MEM);
	memset(mem.host, 0xaa, MEM);
	memset(img, 0, sizeof(img));
	err[0] = 0;
	return mem.host ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem.host);
	return 0;
}

static uint32_t m32(uint64_t gpa) { return get_le32(mem.host + gpa); }
static uint64_t m64(uint64_t gpa) { return get_le64(mem.host + gpa); }

static struct boot_config config(size_t len, const char *cmdline)
{
	return (struct boot_config){ .kernel = img, .kernel_len = len, .cmdline = cmdline };
}

/* ELF32 executable: one PT_LOAD of filesz/memsz at paddr, file data at 0x100. */
static size_t make_elf32(uint32_t paddr, uint32_t filesz, uint32_t memsz, uint32_t entry, uint16_t machine)
{
	memcpy(img, "\177ELF", 4);
	img[4] = 1;
	img[5] = 1;
	put_le16(img + 16, 2);
	put_le16(img + 18, machine);
	put_le32(img + 24, entry);
	put_le32(img + 28, 52);
	put_le16(img + 42, 32);
	put_le16(img + 44, 1);
	put_le32(img + 52, 1);			/* PT_LOAD */
	put_le32(img + 52 + 4, 0x100);
	put_le32(img + 52 + 8, paddr);
	put_le32(img + 52 + 12, paddr);
	put_le32(img + 52 + 16, filesz);
	put_le32(img + 52 + 20, memsz);
	return 0x100 + filesz;
}

static void multiboot_header(size_t off, uint32_t flags)
{
	put_le32(img + off, 0x1badb002);
	put_le32(img + off + 4, flags);
	put_le32(img + off + 8, (uint32_t)-(0x1badb002 + flags));
}

static void test_multiboot_elf(void **state)
{
	struct boot_entry e;
	struct boot_config c;
	size_t len;
	uint32_t mmap;

	(void)state;
	len = make_elf32(0x100000, 0x200, 0x1000, 0x100010, 3);
	multiboot_header(0x100, 0x3);
	memset(img + 0x110, 0x90, 0x1f0);
	c = config(len, "hello=1");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, BOOT_MULTIBOOT);
	assert_int_equal(e.eip, 0x100010);
	assert_int_equal(e.eax, 0x2badb002);
	assert_int_equal(e.ebx, BOOT_INFO_ADDR);
	assert_memory_equal(mem.host + 0x100000, img + 0x100, 0x200);
	assert_int_equal(mem.host[0x100200], 0);	/* bss zeroed */
	assert_int_equal(mem.host[0x100fff], 0);
	assert_int_equal(mem.host[0x101000], 0xaa);	/* and no further */
	assert_int_equal(m32(BOOT_INFO_ADDR) & 0x245, 0x245);	/* mem, cmdline, mmap, loader name */
	assert_int_equal(m32(BOOT_INFO_ADDR + 4), 639);
	assert_int_equal(m32(BOOT_INFO_ADDR + 8), (MEM >> 10) - 1024);
	assert_string_equal((char *)mem.host + m32(BOOT_INFO_ADDR + 16), "hello=1");
	assert_int_equal(m32(BOOT_INFO_ADDR + 44), 3 * 24);
	mmap = m32(BOOT_INFO_ADDR + 48);
	assert_int_equal(m32(mmap), 20);
	assert_int_equal(m64(mmap + 4), 0);
	assert_int_equal(m64(mmap + 12), BOOT_LOWMEM_END);
	assert_int_equal(m32(mmap + 20), E820_RAM);
	assert_int_equal(m32(mmap + 24 + 20), E820_RESERVED);
	assert_int_equal(m64(mmap + 48 + 4), BOOT_HIMEM_START);
	assert_int_equal(m64(mmap + 48 + 12), MEM - BOOT_HIMEM_START);
	assert_string_equal((char *)mem.host + m32(BOOT_INFO_ADDR + 64), "vmm");
	/* The boot GDT is in place for every loader. */
	assert_int_equal(m64(BOOT_GDT_ADDR + BOOT_CODE_SEL), 0x00cf9b000000ffffull);
}

static void test_multiboot_module_and_higher_half_entry(void **state)
{
	static const uint8_t initrd[5000] = { 1, 2, 3 };
	struct boot_entry e;
	struct boot_config c;
	size_t len;

	(void)state;
	len = make_elf32(0x200000, 0x100, 0x100, 0xc0200020, 3);
	put_le32(img + 52 + 8, 0xc0200000);		/* vaddr in the higher half */
	multiboot_header(0x100, 0x1);
	c = config(len, "");
	c.initrd = initrd;
	c.initrd_len = sizeof(initrd);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), 0);
	assert_int_equal(e.eip, 0x200020);
	assert_true(m32(BOOT_INFO_ADDR) & 0x8);
	assert_int_equal(m32(BOOT_INFO_ADDR + 20), 1);
	assert_int_equal(m32(BOOT_MODS_ADDR), e.initrd_addr);
	assert_int_equal(m32(BOOT_MODS_ADDR + 4) - m32(BOOT_MODS_ADDR), sizeof(initrd));
	assert_int_equal(e.initrd_addr & 0xfff, 0);
	assert_true(e.initrd_addr >= 0x200100);
	assert_memory_equal(mem.host + e.initrd_addr, initrd, sizeof(initrd));
}

static void test_multiboot_aout_kludge(void **state)
{
	struct boot_entry e;
	struct boot_config c;

	(void)state;
	/* Header at file offset 0x40 describes a load of the whole file at 0x300000. */
	multiboot_header(0x40, 0x10000);
	put_le32(img + 0x4c, 0x300040);		/* header_addr */
	put_le32(img + 0x50, 0x300000);		/* load_addr */
	put_le32(img + 0x54, 0x300400);		/* load_end_addr */
	put_le32(img + 0x58, 0x301000);		/* bss_end_addr */
	put_le32(img + 0x5c, 0x300080);		/* entry */
	img[0x3ff] = 0x77;
	c = config(0x400, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), 0);
	assert_int_equal(e.eip, 0x300080);
	assert_int_equal(mem.host[0x3003ff], 0x77);
	assert_int_equal(mem.host[0x300400], 0);
	assert_int_equal(mem.host[0x301000], 0xaa);
	/* load_end beyond the file is refused. */
	put_le32(img + 0x54, 0x310000);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "past the end"));
}

static void test_multiboot_refusals(void **state)
{
	struct boot_entry e;
	struct boot_config c;
	size_t len;

	(void)state;
	len = make_elf32(0x100000, 0x100, 0x100, 0x100000, 3);
	multiboot_header(0x100, 0x3 | 0x8);		/* bit 3: not a feature we know */
	c = config(len, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unsupported"));
	multiboot_header(0x100, 0x3);
	put_le32(img + 52 + 12, 0x1000);		/* over the boot data */
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlaps"));
	put_le32(img + 52 + 12, (uint32_t)MEM - 0x80);	/* runs off the end of RAM */
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "does not fit"));
	put_le32(img + 52 + 12, 0x100000);
	put_le32(img + 52 + 16, 0x200);			/* filesz > memsz */
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	put_le32(img + 52 + 16, 0x100);
	put_le32(img + 52 + 4, 0xfffffff0);		/* segment outside the file */
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "outside the file"));
	/* A bad checksum means no header at all. */
	put_le32(img + 52 + 4, 0x100);
	put_le32(img + 0x108, 0);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -ENOEXEC);
}

/* A bzImage: 4 setup sectors, protected-mode code after them. */
static size_t make_bzimage(uint16_t version, uint8_t loadflags, uint32_t init_size, int is64)
{
	size_t pm = 5 * 512, len = pm + 0x2000;

	img[0x1f1] = 4;
	put_le16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x66;				/* header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	put_le16(img + 0x206, version);
	img[0x211] = loadflags;
	put_le32(img + 0x214, 0x100000);
	put_le32(img + 0x22c, 0x37ffffff);		/* initrd_addr_max */
	put_le32(img + 0x238, 255);			/* cmdline_size */
	put_le16(img + 0x236, is64 ? 0x1 : 0);
	put_le64(img + 0x258, 0x1000000);		/* pref_address */
	put_le32(img + 0x260, init_size);
	memset(img + pm, 0xc3, 0x2000);
	return len;
}

static void check_bzimage(int is64)
{
	static const uint8_t initrd[10000] = { 9, 8, 7 };
	struct boot_entry e;
	struct boot_config c;
	uint8_t *bp = mem.host + BOOT_ZEROPAGE_ADDR;

	c = config(make_bzimage(0x020f, 0x01, 0x800000, is64), "console=ttyS0");
	c.initrd = initrd;
	c.initrd_len = sizeof(initrd);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, BOOT_BZIMAGE);
	assert_int_equal(e.eip, 0x100000);
	assert_int_equal(e.esi, BOOT_ZEROPAGE_ADDR);
	assert_memory_equal(mem.host + 0x100000, img + 5 * 512, 0x2000);
	assert_memory_equal(bp + 0x202, "HdrS", 4);		/* setup header copied */
	assert_int_equal(get_le16(bp + 0x236), is64 ? 1 : 0);
	assert_int_equal(bp[0x210], 0xff);			/* type_of_loader */
	assert_int_equal(bp[0x211], 0x81);			/* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(get_le16(bp + 0x224), 0xde00);
	assert_string_equal((char *)mem.host + get_le32(bp + 0x228), "console=ttyS0");
	assert_int_equal(bp[0x1e8], 3);
	assert_int_equal(get_le64(bp + 0x2d0 + 40), BOOT_HIMEM_START);
	assert_int_equal(get_le32(bp + 0x2d0 + 40 + 16), E820_RAM);
	assert_int_equal(get_le16(bp + 0x1fa), 0xffff);
	assert_int_equal(get_le32(bp + 0x218), e.initrd_addr);
	assert_int_equal(get_le32(bp + 0x21c), sizeof(initrd));
	/* The initrd sits page-aligned above the decompressor's room, at the top of RAM. */
	assert_int_equal(e.initrd_addr & 0xfff, 0);
	assert_true(e.initrd_addr >= 0x1000000 + 0x800000);
	assert_true(e.initrd_addr + sizeof(initrd) <= MEM);
	assert_true(e.initrd_addr + sizeof(initrd) > MEM - 0x1000 - sizeof(initrd));
	assert_memory_equal(mem.host + e.initrd_addr, initrd, sizeof(initrd));
}

static void test_bzimage_32bit(void **state)
{
	(void)state;
	check_bzimage(0);
}

static void test_bzimage_64bit(void **state)
{
	(void)state;
	check_bzimage(1);
}

static void test_bzimage_refusals(void **state)
{
	static const uint8_t initrd[4096];
	struct boot_entry e;
	struct boot_config c;
	char longline[400];

	(void)state;
	c = config(make_bzimage(0x0205, 0x01, 0x800000, 1), "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too old"));
	c = config(make_bzimage(0x020f, 0x00, 0x800000, 1), "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "zImage"));
	c = config(make_bzimage(0x020f, 0x01, 0x8000000, 1), "");	/* needs 144 MiB */
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "needs 144 MiB"));
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	c = config(make_bzimage(0x020f, 0x01, 0x800000, 1), longline);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "at most 255"));
	/* initrd_addr_max below the kernel: nowhere to put the initrd. */
	c = config(make_bzimage(0x020f, 0x01, 0x800000, 1), "");
	put_le32(img + 0x22c, 0x00ffffff);
	c.initrd = initrd;
	c.initrd_len = sizeof(initrd);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "initrd"));
	/* Nothing after the setup sectors. */
	c = config(5 * 512, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	/* Truncated header. */
	c = config(0x210, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
}

/* ELF64 vmlinux with a PT_NOTE carrying XEN_ELFNOTE_PHYS32_ENTRY. */
static size_t make_pvh(uint32_t entry)
{
	memcpy(img, "\177ELF", 4);
	img[4] = 2;
	img[5] = 1;
	put_le16(img + 16, 2);
	put_le16(img + 18, 62);
	put_le64(img + 24, 0xffffffff81000000ull);
	put_le64(img + 32, 64);
	put_le16(img + 54, 56);
	put_le16(img + 56, 2);
	/* PT_LOAD: 0x1000 bytes at file 0x1000 to paddr 16 MiB, vaddr high. */
	put_le32(img + 64, 1);
	put_le64(img + 64 + 8, 0x1000);
	put_le64(img + 64 + 16, 0xffffffff81000000ull);
	put_le64(img + 64 + 24, 0x1000000);
	put_le64(img + 64 + 32, 0x1000);
	put_le64(img + 64 + 40, 0x3000);
	/* PT_NOTE at 0x200: an unrelated note first, then the PVH entry (8-byte desc). */
	put_le32(img + 120, 4);
	put_le64(img + 120 + 8, 0x200);
	put_le64(img + 120 + 32, 32 + 24);
	put_le32(img + 0x200, 4);
	put_le32(img + 0x204, 16);
	put_le32(img + 0x208, 1);
	memcpy(img + 0x20c, "GNU", 4);
	put_le32(img + 0x220, 4);
	put_le32(img + 0x224, 8);
	put_le32(img + 0x228, 18);
	memcpy(img + 0x22c, "Xen", 4);
	put_le64(img + 0x230, entry);
	memset(img + 0x1000, 0xf4, 0x1000);
	return 0x2000;
}

static void test_pvh(void **state)
{
	static const uint8_t initrd[3000] = { 5 };
	struct boot_entry e;
	struct boot_config c;
	uint64_t map;

	(void)state;
	c = config(make_pvh(0x1000123), "root=/dev/ram0");
	c.initrd = initrd;
	c.initrd_len = sizeof(initrd);
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, BOOT_PVH);
	assert_int_equal(e.eip, 0x1000123);
	assert_int_equal(e.ebx, BOOT_INFO_ADDR);
	assert_int_equal(m32(BOOT_INFO_ADDR), 0x336ec578);
	assert_int_equal(m32(BOOT_INFO_ADDR + 4), 1);
	assert_int_equal(m32(BOOT_INFO_ADDR + 12), 1);
	assert_string_equal((char *)mem.host + m64(BOOT_INFO_ADDR + 24), "root=/dev/ram0");
	assert_int_equal(m64(BOOT_INFO_ADDR + 32), 0);		/* no RSDP: no ACPI */
	map = m64(BOOT_INFO_ADDR + 40);
	assert_int_equal(m32(BOOT_INFO_ADDR + 48), 3);
	assert_int_equal(m64(map + 48), BOOT_HIMEM_START);
	assert_int_equal(m32(map + 48 + 16), E820_RAM);
	assert_int_equal(m64(m64(BOOT_INFO_ADDR + 16)), e.initrd_addr);
	assert_int_equal(m64(m64(BOOT_INFO_ADDR + 16) + 8), sizeof(initrd));
	assert_true(e.initrd_addr >= 0x1003000);
	assert_int_equal(mem.host[0x1000000], 0xf4);
	assert_int_equal(mem.host[0x1002fff], 0);
}

static void test_not_a_kernel(void **state)
{
	struct boot_entry e;
	struct boot_config c;

	(void)state;
	memcpy(img, "#!/bin/sh\necho hello\n", 21);
	c = config(21, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "not a kernel"));
	c = config(0, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -ENOEXEC);
	/* An ELF without multiboot header or PVH note is not ours either. */
	make_elf32(0x100000, 0x10, 0x10, 0x100000, 3);
	c = config(0x110, "");
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -ENOEXEC);
	/* Too little memory for anything. */
	mem.size = 1 << 20;
	assert_int_equal(boot_load(&mem, &c, &e, err, sizeof(err)), -EINVAL);
	mem.size = MEM;
}

/* Random and mutated images never crash a loader and never write outside RAM. */
static void test_fuzzed_images(void **state)
{
	struct boot_entry e;
	struct boot_config c;
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len = round % 3 == 0 ? make_pvh(0x1000000)
			   : round % 3 == 1 ? make_bzimage(0x020f, 1, 0x800000, 1)
			   : make_elf32(0x100000, 0x100, 0x200, 0x100000, 3);

		if (round % 3 == 2)
			multiboot_header(0x100, 0x3);
		for (int flips = 0; flips < 8; flips++) {
			seed = seed * 1103515245 + 12345;
			img[(seed >> 8) % 0x300] = (uint8_t)(seed >> 20);
		}
		c = config(len, "x");
		err[0] = 0;
		if (boot_load(&mem, &c, &e, err, sizeof(err)) < 0)
			assert_true(err[0] != 0);	/* every refusal says why */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_multiboot_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_module_and_higher_half_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_aout_kludge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_64bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pvh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzzed_images, setup, teardown),
	};
	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
