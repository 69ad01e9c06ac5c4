/* cmocka tests of the guest page-table walks on synthetic tables: none, 32-bit, PSE, PAE, 4- and 5-level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "paging.h"

#define RAM (4u << 20)

static struct guest_mem mem;

static int setup(void **state)
{
	(void)state;
	return gmem_alloc(&mem, RAM);
}

static int teardown(void **state)
{
	(void)state;
	gmem_free(&mem);
	return 0;
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(mem.host + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(mem.host + gpa, &v, 8);
}

static uint64_t xlate(const struct paging_mode *pm, uint64_t gva, int *r, uint64_t *left)
{
	uint64_t gpa = 0xdead;

	*r = paging_translate(&mem, pm, gva, &gpa, left);
	return gpa;
}

static void test_no_paging(void **state)
{
	struct paging_mode pm = { 0 };
	uint64_t left;
	int r;

	(void)state;
	assert_int_equal(xlate(&pm, 0x12345, &r, &left), 0x12345);
	assert_int_equal(r, 0);
	assert_int_equal(left, 0x1000 - 0x345);
	/* Outside long mode linear addresses wrap at 4 GiB. */
	assert_int_equal(xlate(&pm, 0x100001000ull, &r, NULL), 0x1000);
}

static void test_32bit(void **state)
{
	struct paging_mode pm = { .cr0 = X86_CR0_PG, .cr3 = 0x1000 };
	uint64_t left;
	int r;

	(void)state;
	/* 0x00403abc: PDE 1 -> table at 0x2000, PTE 3 -> frame 0x55000. */
	put32(0x1000 + 1 * 4, 0x2000 | PTE_P | PTE_W);
	put32(0x2000 + 3 * 4, 0x55000 | PTE_P);
	assert_int_equal(xlate(&pm, 0x00403abc, &r, &left), 0x55abc);
	assert_int_equal(r, 0);
	assert_int_equal(left, 0x1000 - 0xabc);
	/* A PS bit without CR4.PSE is ignored: the entry still names a table. */
	put32(0x1000 + 2 * 4, 0x2000 | PTE_P | PTE_PS);
	assert_int_equal(xlate(&pm, 0x00803abc, &r, NULL), 0x55abc);
	/* With PSE it is a 4 MiB page, and PSE-36 supplies physical bits 39:32. */
	pm.cr4 = X86_CR4_PSE;
	put32(0x1000 + 2 * 4, 0x00c00000 | (0x3u << 13) | PTE_P | PTE_PS);
	assert_int_equal(xlate(&pm, 0x00812345, &r, &left), 0x300c12345ull);
	assert_int_equal(r, 0);
	assert_int_equal(left, (4u << 20) - 0x12345);
	/* Not present at either level. */
	xlate(&pm, 0x00c00000, &r, NULL);
	assert_int_equal(r, -EFAULT);
	xlate(&pm, 0x00404000, &r, NULL);
	assert_int_equal(r, -EFAULT);
}

static void test_pae(void **state)
{
	struct paging_mode pm = { .cr0 = X86_CR0_PG, .cr4 = X86_CR4_PAE, .cr3 = 0x1020 };
	int r;

	(void)state;
	/* CR3 is 32-byte aligned in PAE mode: the PDPT sits at 0x1020. */
	put64(0x1020 + 3 * 8, 0x3000 | PTE_P);				/* 0xc0000000.. */
	put64(0x3000 + 1 * 8, 0x4000 | PTE_P);				/* +2 MiB */
	put64(0x4000 + 5 * 8, 0x123456000ull | PTE_P);			/* above 4 GiB */
	assert_int_equal(xlate(&pm, 0xc0205678, &r, NULL), 0x123456678ull);
	assert_int_equal(r, 0);
	put64(0x3000 + 2 * 8, 0x00600000 | PTE_P | PTE_PS);		/* a 2 MiB page */
	assert_int_equal(xlate(&pm, 0xc0412345, &r, NULL), 0x00612345);
	xlate(&pm, 0x40000000, &r, NULL);
	assert_int_equal(r, -EFAULT);
}

static void test_long_mode(void **state)
{
	struct paging_mode pm = { .cr0 = X86_CR0_PG, .cr4 = X86_CR4_PAE, .efer = X86_EFER_LMA, .cr3 = 0x1000 };
	uint64_t va = 0xffffffff81234567ull, left;
	int r;

	(void)state;
	put64(0x1000 + ((va >> 39) & 511) * 8, 0x2000 | PTE_P);
	put64(0x2000 + ((va >> 30) & 511) * 8, 0x3000 | PTE_P);
	put64(0x3000 + ((va >> 21) & 511) * 8, 0x4000 | PTE_P);
	put64(0x4000 + ((va >> 12) & 511) * 8, 0x9000 | PTE_P | (1ull << 63));	/* NX is not address */
	assert_int_equal(xlate(&pm, va, &r, &left), 0x9567);
	assert_int_equal(r, 0);
	assert_int_equal(left, 0x1000 - 0x567);
	/* 2 MiB page. */
	put64(0x3000 + ((va >> 21) & 511) * 8, 0x00200000 | PTE_P | PTE_PS);
	assert_int_equal(xlate(&pm, va, &r, &left), 0x00234567);
	assert_int_equal(left, (2u << 20) - 0x34567);
	/* 1 GiB page. */
	put64(0x2000 + ((va >> 30) & 511) * 8, 0x40000000 | PTE_P | PTE_PS);
	assert_int_equal(xlate(&pm, va, &r, NULL), 0x41234567);
	/* A table outside RAM is an error of its own, not "unmapped". */
	put64(0x2000 + ((va >> 30) & 511) * 8, 0x7ffff000ull | PTE_P);
	xlate(&pm, va, &r, NULL);
	assert_int_equal(r, -ERANGE);
	xlate(&pm, 0x1000, &r, NULL);
	assert_int_equal(r, -EFAULT);
}

static void test_five_level(void **state)
{
	struct paging_mode pm = { .cr0 = X86_CR0_PG, .cr4 = X86_CR4_PAE | X86_CR4_LA57,
				  .efer = X86_EFER_LMA, .cr3 = 0x1000 };
	uint64_t va = 0x0100000000401000ull;
	int r;

	(void)state;
	put64(0x1000 + ((va >> 48) & 511) * 8, 0x2000 | PTE_P);
	put64(0x2000 + ((va >> 39) & 511) * 8, 0x3000 | PTE_P);
	put64(0x3000 + ((va >> 30) & 511) * 8, 0x4000 | PTE_P);
	put64(0x4000 + ((va >> 21) & 511) * 8, 0x5000 | PTE_P);
	put64(0x5000 + ((va >> 12) & 511) * 8, 0x77000 | PTE_P);
	assert_int_equal(xlate(&pm, va + 0x10, &r, NULL), 0x77010);
	assert_int_equal(r, 0);
}

/* U/S: user mode reaches a page only when every level allows it; without paging, always. */
static void test_user_bit(void **state)
{
	struct paging_mode pm = { .cr0 = X86_CR0_PG, .cr4 = X86_CR4_PAE, .efer = X86_EFER_LMA, .cr3 = 0x1000 };
	struct paging_mode flat = { 0 };
	uint64_t va = 0x400000, gpa;
	bool user = false;

	(void)state;
	put64(0x1000, 0x2000 | PTE_P | PTE_U);
	put64(0x2000, 0x3000 | PTE_P | PTE_U);
	put64(0x3000 + ((va >> 21) & 511) * 8, 0x4000 | PTE_P | PTE_U);
	put64(0x4000, 0x9000 | PTE_P | PTE_U);
	assert_int_equal(paging_translate_user(&mem, &pm, va, &gpa, NULL, &user), 0);
	assert_true(user);
	assert_int_equal(gpa, 0x9000);
	put64(0x2000, 0x3000 | PTE_P);	/* a supervisor PDPTE: the whole 1 GiB is kernel's */
	assert_int_equal(paging_translate_user(&mem, &pm, va, &gpa, NULL, &user), 0);
	assert_false(user);
	put64(0x2000, 0x3000 | PTE_P | PTE_U);
	put64(0x4000, 0x9000 | PTE_P);	/* a supervisor PTE */
	assert_int_equal(paging_translate_user(&mem, &pm, va, &gpa, NULL, &user), 0);
	assert_false(user);
	user = false;
	assert_int_equal(paging_translate_user(&mem, &flat, va, &gpa, NULL, &user), 0);
	assert_true(user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_five_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_bit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
