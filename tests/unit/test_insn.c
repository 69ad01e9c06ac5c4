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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rep_stos_and_movs),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
