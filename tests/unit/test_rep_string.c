/* cmocka tests of vmm's own rep stos and rep movs: what they write, and every case left to the CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rep_string.h"
#include "tables.h"

static struct kvm_regs at(uint64_t rdi, uint64_t rsi, uint64_t rcx, uint64_t rax)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rdi = rdi;
	r.rsi = rsi;
	r.rcx = rcx;
	r.rax = rax;
	r.rflags = 0x2 | X86_RFLAGS_RF;
	return r;
}

static const uint8_t stosq[] = { 0xf3, 0x48, 0xab }, movsb[] = { 0xf3, 0xa4 };

static void test_stosq(void **state)
{
	struct kvm_regs r = at(0x20000, 0, 3, 0x1122334455667788ull);
	uint64_t v;

	(void)state;
	assert_int_equal(rep_string_run(&mem, &pm, 0, &r, stosq, sizeof(stosq)), 1);
	for (int i = 0; i < 3; i++) {
		memcpy(&v, mem.host + 0x20000 + 8 * i, 8);
		assert_int_equal(v, 0x1122334455667788ull);
	}
	assert_int_equal(mem.host[0x20018], 0);
	assert_int_equal(r.rdi, 0x20018);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(r.rip, CODE + 3);
	assert_int_equal(r.rflags & X86_RFLAGS_RF, 0);
	assert_true(dirty[0x20 / 64] >> (0x20 % 64) & 1);
	assert_false(dirty[0x21 / 64] >> (0x21 % 64) & 1);
}

static void test_movsb_across_pages(void **state)
{
	struct kvm_regs r = at(0x40ff8, 0x30ff0, 0x20, 0);

	(void)state;
	for (int i = 0; i < 0x20; i++)
		mem.host[0x30ff0 + i] = (uint8_t)(i + 1);
	/* Page 0x41 is mapped elsewhere: the copy follows the tables, not the addresses. */
	map(0x41, 0x50000, PAGE_FLAGS);
	assert_int_equal(rep_string_run(&mem, &pm, 0, &r, movsb, sizeof(movsb)), 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mem.host[0x40ff8 + i], i + 1);
	for (int i = 8; i < 0x20; i++)
		assert_int_equal(mem.host[0x50000 + i - 8], i + 1);
	assert_int_equal(mem.host[0x41000], 0);
	assert_int_equal(r.rsi, 0x31010);
	assert_int_equal(r.rdi, 0x41018);
	assert_true(dirty[0x50 / 64] >> (0x50 % 64) & 1);
}

static void test_zero_count(void **state)
{
	struct kvm_regs r = at(0x20000, 0, 0, 0xff);

	(void)state;
	assert_int_equal(rep_string_run(&mem, &pm, 0, &r, stosq, sizeof(stosq)), 1);
	assert_int_equal(r.rip, CODE + 3);
	assert_int_equal(mem.host[0x20000], 0);
}

/* Each case the CPU would do more (or fault): refused, nothing written, registers as they were. */
static void refused_at(int line, struct kvm_regs r, unsigned cpl, const uint8_t *code, unsigned n)
{
	struct kvm_regs before = r;
	uint8_t page[4096];

	memcpy(page, mem.host + 0x20000, sizeof(page));
	if (rep_string_run(&mem, &pm, cpl, &r, code, n) != 0)
		fail_msg("run, not refused, at line %d", line);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_memory_equal(page, mem.host + 0x20000, sizeof(page));
	assert_int_equal(dirty[0], 0);
}

#define refused(...) refused_at(__LINE__, __VA_ARGS__)

static void test_left_to_the_cpu(void **state)
{
	static const uint8_t fs_movsb[] = { 0x64, 0xf3, 0xa4 }, addr32[] = { 0x67, 0xf3, 0xab }, lods[] = { 0xf3, 0xac };
	struct kvm_regs r;

	(void)state;
	refused(at(0x20000, 0, 8, 1), 3, stosq, sizeof(stosq));		/* user mode */
	refused(at(0x20000, 0x30000, 8, 1), 0, fs_movsb, sizeof(fs_movsb));	/* FS's base */
	refused(at(0x20000, 0, 8, 1), 0, addr32, sizeof(addr32));
	refused(at(0x20000, 0x30000, 8, 1), 0, lods, sizeof(lods));
	r = at(0x20000, 0, 8, 1);
	r.rflags |= X86_RFLAGS_DF;
	refused(r, 0, stosq, sizeof(stosq));					/* backwards */
	refused(at(0x20000, 0, REP_RUN_MAX, 1), 0, stosq, sizeof(stosq));	/* too long */
	refused(at(0x20000, 0x20010, 0x20, 1), 0, movsb, sizeof(movsb));	/* overlapping */
	refused(at(PT + 0x20, 0, 1, 1), 0, stosq, sizeof(stosq));		/* the entry that maps it */
	refused(at(CODE, 0, 4, 1), 0, stosq, sizeof(stosq));			/* its own code */
	refused(at(0x1ff000, 0, 0x200 + 1, 1), 0, stosq, sizeof(stosq));	/* off the mapping */
	refused(at(0x0000800000000000ull, 0, 1, 1), 0, stosq, sizeof(stosq));	/* not canonical */
	map(0x21, 0x21000, PAGE_FLAGS & ~PTE_D);
	refused(at(0x20ff8, 0, 2, 1), 0, stosq, sizeof(stosq));		/* would set a dirty bit */
	map(0x21, 0x21000, PAGE_FLAGS & ~PTE_W);
	refused(at(0x20ff8, 0, 2, 1), 0, stosq, sizeof(stosq));		/* read-only */
	/* U at every level makes a user page (SMAP's, protection keys'); at the leaf alone it does not. */
	map(0x21, 0x21000, PAGE_FLAGS | PTE_U);
	put64(0x1000, 0x2000 | TABLE_FLAGS | PTE_U);
	put64(0x2000, 0x3000 | TABLE_FLAGS | PTE_U);
	put64(0x3000, PT | TABLE_FLAGS | PTE_U);
	refused(at(0x20ff8, 0, 2, 1), 0, stosq, sizeof(stosq));		/* a user page */
	put64(0x1000, 0x2000 | TABLE_FLAGS);
	map(0x31, 0x31000, PAGE_FLAGS & ~PTE_A);
	refused(at(0x20000, 0x30ff0, 0x20, 1), 0, movsb, sizeof(movsb));	/* would set an accessed bit */
	map(0x31, (RAM + 0x1000ull), PAGE_FLAGS);
	refused(at(0x20000, 0x30ff0, 0x20, 1), 0, movsb, sizeof(movsb));	/* outside RAM */
	map(0x31, 0x20000, PAGE_FLAGS);
	refused(at(0x20000, 0x31000, 0x20, 1), 0, movsb, sizeof(movsb));	/* two mappings of one page */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stosq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_movsb_across_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_to_the_cpu, setup, teardown),
	};

	return cmocka_run_group_tests_name("rep_string", tests, NULL, NULL);
}
