/* cmocka tests of chaos recording's generator: one stream per seed, bounded draws, holds that end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chaos.h"

static void test_seeds(void **state)
{
	struct chaos a, b, c;
	unsigned same = 0;

	(void)state;
	chaos_init(&a, 7);
	chaos_init(&b, 7);
	chaos_init(&c, 8);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = chaos_u64(&a);

		assert_true(x == chaos_u64(&b));	/* a seed names one stream */
		same += x == chaos_u64(&c);
	}
	assert_true(same < 2);
	chaos_init(&a, 0);			/* seed 0 is a stream like any other */
	assert_true(chaos_u64(&a) != chaos_u64(&a));
}

static void test_draws_bounded(void **state)
{
	struct chaos c;
	unsigned zero_defer = 0, on_time = 0;

	(void)state;
	chaos_init(&c, 42);
	assert_int_equal(chaos_below(&c, 0), 0);
	for (int i = 0; i < 4000; i++) {
		chaos_draw_defer(&c, 1000000);
		assert_true(c.defer_ns <= 2000000);
		zero_defer += c.defer_ns == 0;
		chaos_draw_late(&c, 1000000);
		assert_true(c.tick_late_ns < 250000);
		on_time += c.tick_late_ns == 0;
	}
	/* Half at once, half on time: each within a few percent of 2000 of 4000. */
	assert_true(zero_defer > 1800 && zero_defer < 2200);
	assert_true(on_time > 1800 && on_time < 2200);
	assert_int_equal(c.late_ticks, 4000 - on_time);
}

static void test_holds_end(void **state)
{
	struct chaos c;
	unsigned held = 0;

	(void)state;
	for (uint64_t seed = 0; seed < 200; seed++) {
		uint64_t now = 5000000;

		chaos_init(&c, seed);
		if (!chaos_hold(&c, CHAOS_COMPLETION, now)) {
			/* Let go at once: the decision stands until the work is applied. */
			assert_false(chaos_hold(&c, CHAOS_COMPLETION, now + 1));
			assert_int_equal(chaos_next_release(&c), UINT64_MAX);
			continue;
		}
		held++;
		assert_true(chaos_next_release(&c) > now && chaos_next_release(&c) <= now + 2 + CHAOS_HOLD_MAX_NS);
		assert_false(chaos_released(&c, now));
		/* Other sources are not held by it. */
		assert_int_equal(c.hold_until[CHAOS_NET], 0);
		now = chaos_next_release(&c);
		assert_true(chaos_released(&c, now));
		assert_false(chaos_hold(&c, CHAOS_COMPLETION, now));
		chaos_release(&c, CHAOS_COMPLETION);
		assert_int_equal(chaos_next_release(&c), UINT64_MAX);
		assert_int_equal(c.held[CHAOS_COMPLETION], 1);
	}
	assert_true(held > 60 && held < 140);
}

static void test_off_never_holds(void **state)
{
	struct chaos c = { 0 };

	(void)state;
	assert_false(chaos_hold(&c, CHAOS_INPUT, 0));
	assert_false(chaos_released(&c, UINT64_MAX));
	assert_int_equal(chaos_next_release(&c), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_draws_bounded),
		cmocka_unit_test(test_holds_end),
		cmocka_unit_test(test_off_never_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
