/* cmocka tests of the chipset registers: reset sources, port 0x61, POST, debug-exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chipset.h"

static int resets, exits;
static uint32_t exit_code;
static bool gate2, out2;

static void event(void *o, enum chipset_event ev, uint32_t code)
{
	(void)o;
	if (ev == CHIPSET_RESET)
		resets++;
	else {
		exits++;
		exit_code = code;
	}
}

static void set_gate2(void *o, bool l) { (void)o; gate2 = l; }
static bool get_out2(void *o) { (void)o; return out2; }

static const struct chipset_ops ops = { event, set_gate2, get_out2 };

static void setup(struct chipset *c)
{
	resets = exits = 0;
	gate2 = out2 = false;
	chipset_init(c, &ops, NULL);
}

static void test_reset_sources(void **state)
{
	struct chipset c;

	(void)state;
	setup(&c);
	chipset_write(&c, 0x64, 1, 0xd1);	/* another i8042 command: nothing */
	assert_int_equal(resets, 0);
	chipset_write(&c, 0x64, 1, CHIPSET_I8042_RESET);
	assert_int_equal(resets, 1);
	chipset_write(&c, 0xcf9, 1, CHIPSET_RCR_SYS_RST);
	assert_int_equal(resets, 1);
	assert_int_equal(chipset_read(&c, 0xcf9, 1), CHIPSET_RCR_SYS_RST);
	chipset_write(&c, 0xcf9, 1, CHIPSET_RCR_SYS_RST | CHIPSET_RCR_RST_CPU);
	assert_int_equal(resets, 2);
	chipset_write(&c, 0xcf9, 2, 0xffff);	/* not a byte access: not the RCR */
	assert_int_equal(resets, 2);
	assert_int_equal(chipset_read(&c, 0x92, 1), CHIPSET_PORTA_A20);
	chipset_write(&c, 0x92, 1, CHIPSET_PORTA_RESET);
	assert_int_equal(resets, 3);
}

static void test_port61(void **state)
{
	struct chipset c;
	uint32_t a, b;

	(void)state;
	setup(&c);
	chipset_write(&c, 0x61, 1, 0xff);
	assert_true(gate2);
	out2 = true;
	a = chipset_read(&c, 0x61, 1);
	b = chipset_read(&c, 0x61, 1);
	assert_int_equal(a & 0x23, 0x23);
	assert_int_not_equal(a & CHIPSET_P61_REFRESH, b & CHIPSET_P61_REFRESH);
	chipset_write(&c, 0x61, 1, 0x00);
	assert_false(gate2);
}

static void test_post_and_debug_exit(void **state)
{
	struct chipset c;

	(void)state;
	setup(&c);
	chipset_write(&c, 0x80, 1, 0x42);
	assert_int_equal(chipset_read(&c, 0x80, 1), 0x42);
	chipset_write(&c, 0xf4, 4, 0x12345603);
	assert_int_equal(exits, 1);
	assert_int_equal(exit_code, 0x12345603);
	assert_int_equal(chipset_read(&c, 0x1234, 2), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_sources),
		cmocka_unit_test(test_port61),
		cmocka_unit_test(test_post_and_debug_exit),
	};
	return cmocka_run_group_tests_name("chipset", tests, NULL, NULL);
}
