/* cmocka tests of the register layouts: 'g'/'G' round trips, 'p'/'P' by number, and target.xml from the same table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "regs.h"

static struct gdb_regs sample(void)
{
	struct gdb_regs r;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 16; i++)
		r.gpr[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
	r.rip = 0xffffffff81000000ull;
	r.rflags = 0x246;
	r.seg[0] = 0x10;
	r.mxcsr = 0x1f80;
	r.xmm[15][15] = 0xab;
	r.fs_base = 0x7f0000001000ull;
	return r;
}

static void test_layout_sizes(void **state)
{
	(void)state;
	/* 16 GPRs + rip (8 each), eflags + 6 segments (4), 8 st (10), 8 x87 control (4), 16 xmm (16), mxcsr, 2 bases. */
	assert_int_equal(gdb_reg_count(GDB_ARCH_X86_64), 16 + 1 + 1 + 6 + 16 + 16 + 1 + 2);
	assert_int_equal(gdb_regs_hex_len(GDB_ARCH_X86_64), 2 * (17 * 8 + 7 * 4 + 80 + 32 + 256 + 4 + 16));
	assert_int_equal(gdb_regs_hex_len(GDB_ARCH_I386), 2 * (10 * 4 + 6 * 4 + 80 + 32 + 128 + 4));
}

static void test_g_round_trip(void **state)
{
	struct gdb_regs r = sample(), back;
	static char hex[4096];
	size_t n;

	(void)state;
	n = gdb_regs_to_hex(&r, GDB_ARCH_X86_64, hex);
	assert_int_equal(n, gdb_regs_hex_len(GDB_ARCH_X86_64));
	/* rax first, little-endian. */
	assert_memory_equal(hex, "1111111111111111", 16);
	memset(&back, 0, sizeof(back));
	assert_int_equal(gdb_regs_from_hex(&back, GDB_ARCH_X86_64, hex, n), 0);
	assert_memory_equal(&back, &r, sizeof(r));
	/* A short or non-hex 'G' changes nothing. */
	assert_int_equal(gdb_regs_from_hex(&back, GDB_ARCH_X86_64, hex, n - 2), -1);
	hex[5] = 'z';
	back.rip = 1;
	assert_int_equal(gdb_regs_from_hex(&back, GDB_ARCH_X86_64, hex, n), -1);
	assert_int_equal(back.rip, 1);
}

static void test_i386_order_and_halves(void **state)
{
	struct gdb_regs r = sample();
	char hex[64];

	(void)state;
	/* i386 register 1 is ecx (amd64 index 2), 4 bytes. */
	assert_int_equal(gdb_reg_to_hex(&r, GDB_ARCH_I386, 1, hex), 8);
	assert_string_equal(hex, "33333333");
	assert_int_equal(gdb_reg_to_hex(&r, GDB_ARCH_I386, 8, hex), 8);	/* eip: the low half of rip */
	assert_string_equal(hex, "00000081");
	/* 'P' of a 32-bit register keeps the upper half. */
	assert_int_equal(gdb_reg_from_hex(&r, GDB_ARCH_I386, 0, "78563412", 8), 0);
	assert_int_equal(r.gpr[0], 0x1111111112345678ull);
	assert_int_equal(gdb_reg_from_hex(&r, GDB_ARCH_I386, 0, "785634", 6), -1);
	assert_int_equal(gdb_reg_to_hex(&r, GDB_ARCH_I386, gdb_reg_count(GDB_ARCH_I386), hex), -1);
	/* amd64 register 16 is rip. */
	assert_int_equal(gdb_reg_from_hex(&r, GDB_ARCH_X86_64, 16, "0010000000000000", 16), 0);
	assert_int_equal(r.rip, 0x1000);
}

static void test_target_xml(void **state)
{
	const char *x64 = gdb_target_xml(GDB_ARCH_X86_64), *x32 = gdb_target_xml(GDB_ARCH_I386);

	(void)state;
	assert_non_null(strstr(x64, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(x32, "<architecture>i386</architecture>"));
	assert_non_null(strstr(x64, "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"/>"));
	assert_non_null(strstr(x32, "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\" regnum=\"8\"/>"));
	assert_non_null(strstr(x64, "<reg name=\"gs_base\""));
	assert_null(strstr(x32, "xmm8"));
	assert_non_null(strstr(x64, "</feature></target>"));
	assert_true(strlen(x64) < 8000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_sizes),
		cmocka_unit_test(test_g_round_trip),
		cmocka_unit_test(test_i386_order_and_halves),
		cmocka_unit_test(test_target_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
