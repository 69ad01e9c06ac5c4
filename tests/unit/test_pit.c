/* cmocka tests of the 8254 core, with time passed in by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pit.h"

#define MS 1000000ull

static int edges, level;

static void set_irq(void *o, int l)
{
	(void)o;
	if (l && !level)
		edges++;
	level = l;
}

static void setup(struct pit *p)
{
	edges = 0;
	level = 0;
	pit_init(p, set_irq, NULL);
}

static void load(struct pit *p, unsigned ch, uint8_t mode_bits, uint16_t count, uint64_t now)
{
	pit_write(p, 3, (uint8_t)(ch << 6 | 0x30 | mode_bits), now);
	pit_write(p, ch, (uint8_t)count, now);
	pit_write(p, ch, (uint8_t)(count >> 8), now);
}

/* Two reads, LSB first: sequenced, since the order within one expression is unspecified. */
static uint16_t read_word(struct pit *p, unsigned ch, uint64_t t_lsb, uint64_t t_msb)
{
	uint16_t lo = pit_read(p, ch, t_lsb);

	return (uint16_t)(lo | pit_read(p, ch, t_msb) << 8);
}

static uint16_t latch(struct pit *p, unsigned ch, uint64_t now)
{
	uint16_t v;

	pit_write(p, 3, (uint8_t)(ch << 6), now);
	v = pit_read(p, ch, now);
	return (uint16_t)(v | pit_read(p, ch, now) << 8);
}

static void test_mode2_periodic_irq0(void **state)
{
	struct pit p;
	uint64_t t;

	(void)state;
	setup(&p);
	assert_int_equal(pit_next_event(&p), PIT_NEVER);
	load(&p, 0, 0x04, 11932, 0);		/* 100 Hz */
	t = pit_next_event(&p);
	assert_true(t >= 9999 * 1000 && t <= 10001 * 1000);
	for (unsigned i = 0; i < 10; i++) {
		pit_service(&p, pit_next_event(&p));
	}
	assert_int_equal(edges, 10);
	/* The host was late by 5 periods: they coalesce into one edge, as IRR would. */
	pit_service(&p, pit_next_event(&p) + 50 * MS);
	assert_int_equal(edges, 11);
	assert_true(pit_next_event(&p) > 150 * MS);
}

static void test_counter_and_latch(void **state)
{
	struct pit p;
	uint16_t a;

	(void)state;
	setup(&p);
	load(&p, 0, 0x04, 1000, 0);
	/* 1193182 Hz: 1 ms is 1193 clocks, 193 into the second period. */
	a = latch(&p, 0, 1 * MS);
	assert_int_equal(a, 1000 - 193);
	/* A latched value holds while time passes, until read. */
	pit_write(&p, 3, 0x00, 1 * MS);
	assert_int_equal(read_word(&p, 0, 2 * MS, 3 * MS), 1000 - 193);
}

static void test_mode0_terminal_count_once(void **state)
{
	struct pit p;

	(void)state;
	setup(&p);
	load(&p, 0, 0x00, 1193, 0);
	assert_false(pit_out(&p, 0, 0));
	pit_service(&p, 2 * MS);
	assert_int_equal(edges, 1);
	assert_true(pit_out(&p, 0, 2 * MS));
	assert_int_equal(pit_next_event(&p), PIT_NEVER);
	pit_service(&p, 100 * MS);
	assert_int_equal(edges, 1);
	/* Writing the first byte in mode 0 stops the count. */
	pit_write(&p, 0, 0x10, 100 * MS);
	assert_int_equal(pit_next_event(&p), PIT_NEVER);
}

static void test_readback_status(void **state)
{
	struct pit p;

	(void)state;
	setup(&p);
	pit_write(&p, 3, 0xb6, 0);		/* ch2, word, mode 3 */
	pit_write(&p, 3, 0xe8, 0);		/* read-back status of ch2 */
	assert_int_equal(pit_read(&p, 2, 0), 0x40 | 0x30 | 0x06 | 0x80);	/* null count, OUT high */
	pit_write(&p, 2, 0x00, 0);
	pit_write(&p, 2, 0x10, 0);
	pit_write(&p, 3, 0xe8, 0);
	assert_int_equal(pit_read(&p, 2, 0) & 0x40, 0);
	/* Status then count, when both are latched. */
	pit_write(&p, 3, 0xc8, 0);
	assert_int_equal(pit_read(&p, 2, 0) & 0x3f, 0x36);
	assert_int_equal(read_word(&p, 2, 0, 0), 0x1000);
	/* Mode 7 is an alias of mode 3. */
	pit_write(&p, 3, 0xbe, 0);
	assert_int_equal(p.ch[2].mode, 3);
}

static void test_gate_modes(void **state)
{
	struct pit p;

	(void)state;
	setup(&p);
	/* Mode 0 with the gate low: the count is held. */
	load(&p, 2, 0x00, 5000, 0);
	assert_int_equal(latch(&p, 2, 3 * MS), 5000);
	pit_set_gate(&p, 2, true, 3 * MS);
	assert_true(latch(&p, 2, 4 * MS) < 5000);
	pit_set_gate(&p, 2, false, 4 * MS);
	assert_int_equal(latch(&p, 2, 4 * MS), latch(&p, 2, 9 * MS));
	/* Mode 1: triggered by a rising gate, OUT low for the count. */
	pit_set_gate(&p, 2, false, 10 * MS);
	load(&p, 2, 0x02, 1193, 10 * MS);
	assert_true(pit_out(&p, 2, 11 * MS));
	pit_set_gate(&p, 2, true, 12 * MS);
	assert_false(pit_out(&p, 2, 12 * MS + 1000));
	assert_true(pit_out(&p, 2, 14 * MS));
	/* Mode 2 and 3: gate low forces OUT high; a rising gate reloads. */
	load(&p, 2, 0x06, 1000, 20 * MS);
	pit_set_gate(&p, 2, false, 20 * MS);
	assert_true(pit_out(&p, 2, 25 * MS));
	pit_set_gate(&p, 2, true, 30 * MS);
	assert_int_equal(latch(&p, 2, 30 * MS), 1000);
	/* Mode 5: waits for the trigger. */
	pit_set_gate(&p, 2, false, 40 * MS);
	load(&p, 2, 0x0a, 3000, 40 * MS);
	assert_int_equal(latch(&p, 2, 41 * MS), 3000);
	pit_set_gate(&p, 2, true, 42 * MS);
	assert_true(latch(&p, 2, 43 * MS) < 3000);
}

static void test_mode3_square_wave(void **state)
{
	struct pit p;
	uint64_t period_ns = 1000ull * 1000000000ull / PIT_HZ;

	(void)state;
	setup(&p);
	load(&p, 0, 0x06, 1000, 0);
	assert_true(pit_out(&p, 0, period_ns / 4));
	assert_false(pit_out(&p, 0, period_ns * 3 / 4));
	assert_int_equal(latch(&p, 0, period_ns / 4) & 1, 0);
	pit_service(&p, period_ns + 1000);
	assert_int_equal(edges, 1);
}

static void test_mode4_strobe(void **state)
{
	struct pit p;

	(void)state;
	setup(&p);
	load(&p, 0, 0x08, 100, 0);
	assert_true(pit_out(&p, 0, 10000));
	pit_service(&p, pit_next_event(&p));
	assert_int_equal(edges, 1);
	assert_int_equal(pit_next_event(&p), PIT_NEVER);
}

static void test_bcd_and_byte_access(void **state)
{
	struct pit p;

	(void)state;
	setup(&p);
	pit_write(&p, 3, 0xb1, 0);		/* ch2, word, mode 0, BCD */
	pit_write(&p, 2, 0x00, 0);
	pit_write(&p, 2, 0x10, 0);		/* 1000 decimal */
	assert_int_equal(p.ch[2].period, 1000);
	assert_int_equal(latch(&p, 2, 0), 0x1000);
	pit_write(&p, 3, 0xb1, 0);
	pit_write(&p, 2, 0x00, 0);
	pit_write(&p, 2, 0x00, 0);		/* 0 is 10000 in BCD */
	assert_int_equal(p.ch[2].period, 10000);
	pit_write(&p, 3, 0x90, 0);		/* LSB only */
	pit_write(&p, 2, 0x55, 0);
	assert_int_equal(p.ch[2].period, 0x55);
	assert_int_equal(pit_read(&p, 2, 0), 0x55);
	pit_write(&p, 3, 0xa0, 0);		/* MSB only */
	pit_write(&p, 2, 0x12, 0);
	assert_int_equal(p.ch[2].period, 0x1200);
	assert_int_equal(pit_read(&p, 2, 0), 0x12);
	assert_int_equal(pit_read(&p, 3, 0), 0xff);	/* control port is write-only */
	/* Binary count 0 is 65536. */
	load(&p, 0, 0x04, 0, 0);
	assert_int_equal(p.ch[0].period, 65536);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode2_periodic_irq0),
		cmocka_unit_test(test_counter_and_latch),
		cmocka_unit_test(test_mode0_terminal_count_once),
		cmocka_unit_test(test_readback_status),
		cmocka_unit_test(test_gate_modes),
		cmocka_unit_test(test_mode3_square_wave),
		cmocka_unit_test(test_mode4_strobe),
		cmocka_unit_test(test_bcd_and_byte_access),
	};
	return cmocka_run_group_tests_name("pit", tests, NULL, NULL);
}
