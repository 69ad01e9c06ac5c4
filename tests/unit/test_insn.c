/* cmocka tests of the instruction decoding replay relies on: which rep strings it runs at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vm.h"

static unsigned decode(const uint8_t *code, unsigned n, unsigned *size, bool *movs)
{
	*size = 0;
	*movs = true;
	return insn_rep_string(code, n, size, movs);
}

static void test_rep_stos_and_movs(void **state)
{
	static const uint8_t stosb[] = { 0xf3, 0xaa }, stosq[] = { 0xf3, 0x48, 0xab }, stosw[] = { 0x66, 0xf3, 0xab },
			     movsb[] = { 0xf3, 0xa4 }, movsl[] = { 0xf3, 0xa5 }, es_movsq[] = { 0xf3, 0x26, 0x48, 0xa5 };
	unsigned size;
	bool movs;

	(void)state;
	assert_int_equal(decode(stosb, sizeof(stosb), &size, &movs), 2);
	assert_int_equal(size, 1);
	assert_false(movs);
	assert_int_equal(decode(stosq, sizeof(stosq), &size, &movs), 3);
	assert_int_equal(size, 8);
	assert_int_equal(decode(stosw, sizeof(stosw), &size, &movs), 3);
	assert_int_equal(size, 2);
	assert_int_equal(decode(movsb, sizeof(movsb), &size, &movs), 2);
	assert_true(movs);
	assert_int_equal(size, 1);
	assert_int_equal(decode(movsl, sizeof(movsl), &size, &movs), 2);
	assert_int_equal(size, 4);
	assert_int_equal(decode(es_movsq, sizeof(es_movsq), &size, &movs), 4);
	assert_int_equal(size, 8);
}

/* Not handled: no rep, 32-bit addressing, the compares (they stop early), and bytes cut short. */
static void test_refused(void **state)
{
	static const uint8_t plain[] = { 0xaa }, addr32[] = { 0x67, 0xf3, 0xaa }, scas[] = { 0xf3, 0xae },
			     cmps[] = { 0xf3, 0xa6 }, nop[] = { 0xf3, 0x90 }, cut[] = { 0xf3, 0x48 };
	unsigned size;
	bool movs;

	(void)state;
	assert_int_equal(decode(plain, sizeof(plain), &size, &movs), 0);
	assert_int_equal(decode(addr32, sizeof(addr32), &size, &movs), 0);
	assert_int_equal(decode(scas, sizeof(scas), &size, &movs), 0);
	assert_int_equal(decode(cmps, sizeof(cmps), &size, &movs), 0);
	assert_int_equal(decode(nop, sizeof(nop), &size, &movs), 0);
	assert_int_equal(decode(cut, sizeof(cut), &size, &movs), 0);
	assert_int_equal(decode(cut, 0, &size, &movs), 0);
}

#define CF 0x001
#define PF 0x004
#define ZF 0x040
#define SF 0x080
#define OF 0x800

/* Each condition code against the flags that make it hold and those that do not. */
static void test_jumps(void **state)
{
	static const struct {
		uint8_t cc;
		uint64_t yes, no;
	} cond[] = {
		{ 0x0, OF, 0 }, { 0x1, 0, OF }, { 0x2, CF, 0 }, { 0x3, 0, CF }, { 0x4, ZF, 0 }, { 0x5, 0, ZF },
		{ 0x6, ZF, 0 }, { 0x6, CF, 0 }, { 0x7, 0, CF | ZF }, { 0x8, SF, 0 }, { 0x9, 0, SF },
		{ 0xa, PF, 0 }, { 0xb, 0, PF }, { 0xc, SF, SF | OF }, { 0xc, OF, 0 }, { 0xd, SF | OF, SF },
		{ 0xe, ZF | SF | OF, 0 }, { 0xe, SF, SF | OF }, { 0xf, 0, ZF }, { 0xf, SF | OF, SF },
	};
	uint8_t code[6];
	int64_t disp;

	(void)state;
	for (size_t i = 0; i < sizeof(cond) / sizeof(cond[0]); i++) {
		code[0] = (uint8_t)(0x70 | cond[i].cc);
		code[1] = 0xf0;	/* -16 */
		assert_int_equal(insn_jump(code, 2, cond[i].yes | 2, &disp), 2);
		assert_int_equal(disp, -16);
		assert_int_equal(insn_jump(code, 2, cond[i].no | 2, &disp), 2);
		assert_int_equal(disp, 0);
		code[0] = 0x0f;
		code[1] = (uint8_t)(0x80 | cond[i].cc);
		memcpy(code + 2, &(int32_t){ 0x12345 }, 4);
		assert_int_equal(insn_jump(code, 6, cond[i].yes, &disp), 6);
		assert_int_equal(disp, 0x12345);
		assert_int_equal(insn_jump(code, 6, cond[i].no, &disp), 6);
		assert_int_equal(disp, 0);
	}
	code[0] = 0xeb;
	code[1] = 0x7f;
	assert_int_equal(insn_jump(code, 2, 0, &disp), 2);
	assert_int_equal(disp, 127);
	code[0] = 0xe9;
	memcpy(code + 1, &(int32_t){ -5 }, 4);
	assert_int_equal(insn_jump(code, 5, 0, &disp), 5);
	assert_int_equal(disp, -5);
	/* Cut short, prefixed (66 truncates the target on AMD), or no jump at all. */
	assert_int_equal(insn_jump(code, 4, 0, &disp), 0);
	code[0] = 0x66;
	code[1] = 0xeb;
	assert_int_equal(insn_jump(code, 6, 0, &disp), 0);
	code[0] = 0xff;
	code[1] = 0xe0;	/* jmp *%rax */
	assert_int_equal(insn_jump(code, 6, 0, &disp), 0);
	code[0] = 0x0f;
	code[1] = 0x05;	/* syscall */
	assert_int_equal(insn_jump(code, 6, 0, &disp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rep_stos_and_movs),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_jumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
