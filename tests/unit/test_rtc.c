/* cmocka tests of the MC146818 core: calendar, formats, SET, update cycle, interrupts, CMOS bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rtc.h"

#define SEC 1000000000ull
#define T0 1700000000	/* Tuesday 2023-11-14 22:13:20 UTC */

static int irq_level, irq_rises;

static void set_irq(void *o, int l)
{
	(void)o;
	if (l && !irq_level)
		irq_rises++;
	irq_level = l;
}

static uint8_t rd(struct rtc *r, uint8_t idx, uint64_t now)
{
	rtc_write(r, 0, idx, now);
	return rtc_read(r, 1, now);
}

static void wr(struct rtc *r, uint8_t idx, uint8_t v, uint64_t now)
{
	rtc_write(r, 0, idx, now);
	rtc_write(r, 1, v, now);
}

static void setup(struct rtc *r)
{
	irq_level = irq_rises = 0;
	rtc_init(r, T0, 256ull << 20, set_irq, NULL);
}

static void test_calendar(void **state)
{
	int64_t y;
	unsigned m, d;

	(void)state;
	assert_int_equal(rtc_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(rtc_days_from_civil(2000, 3, 1), 11017);
	rtc_civil_from_days(19675, &y, &m, &d);	/* 2023-11-14 */
	assert_int_equal(y, 2023);
	assert_int_equal(m, 11);
	assert_int_equal(d, 14);
	for (int64_t z = -1000; z < 200000; z += 97) {
		rtc_civil_from_days(z, &y, &m, &d);
		assert_int_equal(rtc_days_from_civil(y, m, d), z);
	}
	rtc_civil_from_days(rtc_days_from_civil(2024, 2, 29), &y, &m, &d);
	assert_int_equal(m * 100 + d, 229);
}

static void test_time_registers(void **state)
{
	struct rtc r;

	(void)state;
	setup(&r);
	assert_int_equal(rd(&r, RTC_SECONDS, 0), 0x20);
	assert_int_equal(rd(&r, RTC_MINUTES, 0), 0x13);
	assert_int_equal(rd(&r, RTC_HOURS, 0), 0x22);
	assert_int_equal(rd(&r, RTC_DAY_OF_WEEK, 0), 3);
	assert_int_equal(rd(&r, RTC_DAY_OF_MONTH, 0), 0x14);
	assert_int_equal(rd(&r, RTC_MONTH, 0), 0x11);
	assert_int_equal(rd(&r, RTC_YEAR, 0), 0x23);
	assert_int_equal(rd(&r, RTC_CENTURY, 0), 0x20);
	assert_int_equal(rd(&r, RTC_SECONDS, 41 * SEC), 0x01);	/* 22:14:01 */
	assert_int_equal(rd(&r, RTC_MINUTES, 41 * SEC), 0x14);
	wr(&r, RTC_REG_B, RTC_B_DM_BINARY, 0);			/* binary, 12 h */
	assert_int_equal(rd(&r, RTC_HOURS, 0), 0x80 | 10);
	assert_int_equal(rd(&r, RTC_YEAR, 0), 23);
	wr(&r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H, 0);
	assert_int_equal(rd(&r, RTC_HOURS, 0), 22);
}

static void test_set_and_write(void **state)
{
	struct rtc r;

	(void)state;
	setup(&r);
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H, 0);
	wr(&r, RTC_SECONDS, 0x59, 0);
	wr(&r, RTC_MINUTES, 0x59, 0);
	wr(&r, RTC_HOURS, 0x23, 0);
	wr(&r, RTC_DAY_OF_MONTH, 0x31, 0);
	wr(&r, RTC_MONTH, 0x12, 0);
	wr(&r, RTC_YEAR, 0x99, 0);
	wr(&r, RTC_CENTURY, 0x19, 0);
	assert_int_equal(rd(&r, RTC_SECONDS, 5 * SEC), 0x59);	/* frozen while SET */
	assert_int_equal(rd(&r, RTC_REG_A, 5 * SEC - 1000) & RTC_A_UIP, 0);
	wr(&r, RTC_REG_B, RTC_B_24H, 5 * SEC);
	assert_int_equal(rd(&r, RTC_YEAR, 6 * SEC), 0x00);
	assert_int_equal(rd(&r, RTC_CENTURY, 6 * SEC), 0x20);
	assert_int_equal(rd(&r, RTC_MONTH, 6 * SEC), 0x01);
	/* Writing one field while running moves the clock by that much. */
	wr(&r, RTC_MINUTES, 0x30, 6 * SEC);
	assert_int_equal(rd(&r, RTC_MINUTES, 7 * SEC), 0x30);
	assert_int_equal(rd(&r, RTC_HOURS, 7 * SEC), 0x00);
}

static void test_uip_window(void **state)
{
	struct rtc r;

	(void)state;
	setup(&r);
	assert_int_equal(rd(&r, RTC_REG_A, 500000000) & RTC_A_UIP, 0);
	assert_int_equal(rd(&r, RTC_REG_A, SEC - 100000) & RTC_A_UIP, RTC_A_UIP);
	assert_int_equal(rd(&r, RTC_REG_D, 0), RTC_D_VRT);
	wr(&r, RTC_REG_A, 0xff, 0);
	assert_int_equal(rd(&r, RTC_REG_A, 0), 0x7f);	/* UIP is read-only */
}

static void test_periodic_interrupt(void **state)
{
	struct rtc r;
	uint64_t t;

	(void)state;
	setup(&r);
	wr(&r, RTC_REG_A, 0x2f, 0);			/* rate 15: 500 ms */
	assert_int_equal(rtc_next_event(&r, 0), RTC_NEVER);	/* PIE off: no timer needed */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE, 0);
	t = rtc_next_event(&r, 0);
	assert_int_equal(t, SEC / 2);
	rtc_service(&r, t);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(&r, RTC_REG_C, t), RTC_C_IRQF | RTC_C_PF);
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(&r, RTC_REG_C, t), 0);
	assert_int_equal(irq_rises, 1);
	/* Rates 1 and 2 are 256 Hz and 128 Hz. */
	wr(&r, RTC_REG_A, 0x21, 0);
	assert_int_equal(rtc_next_event(&r, 0), SEC / 256);
}

static void test_update_and_alarm(void **state)
{
	struct rtc r;

	(void)state;
	setup(&r);
	wr(&r, RTC_REG_A, 0x20, 0);			/* no periodic rate: PF stays clear */
	wr(&r, RTC_SECONDS_ALARM, 0x22, 0);		/* 22:13:22 */
	wr(&r, RTC_MINUTES_ALARM, 0x13, 0);
	wr(&r, RTC_HOURS_ALARM, 0xc0, 0);		/* any hour */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_AIE, 0);
	assert_int_equal(rtc_next_event(&r, 0), SEC);
	rtc_service(&r, SEC);
	assert_int_equal(irq_level, 0);			/* 22:13:21: no match */
	rtc_service(&r, 2 * SEC);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(&r, RTC_REG_C, 2 * SEC) & 0xf0, RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE, 2 * SEC);
	rtc_service(&r, 3 * SEC);
	assert_int_equal(rd(&r, RTC_REG_C, 3 * SEC) & 0xf0, RTC_C_IRQF | RTC_C_UF);
}

static void test_cmos_bytes_and_index(void **state)
{
	struct rtc r;
	unsigned sum = 0;

	(void)state;
	setup(&r);
	assert_int_equal(rd(&r, 0x15, 0) | rd(&r, 0x16, 0) << 8, 640);
	assert_int_equal(rd(&r, 0x17, 0) | rd(&r, 0x18, 0) << 8, 0xffff);	/* 16 bits of KiB saturate */
	assert_int_equal(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 240 * 16);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rd(&r, (uint8_t)i, 0);
	assert_int_equal(rd(&r, 0x2e, 0) << 8 | rd(&r, 0x2f, 0), sum & 0xffff);
	rtc_write(&r, 0, 0x80 | 0x50, 0);
	assert_true(r.nmi_disabled);
	rtc_write(&r, 1, 0x77, 0);
	assert_int_equal(rd(&r, 0x50, 0), 0x77);
	assert_int_equal(rtc_read(&r, 0, 0), 0xff);	/* index port reads nothing */
	/* A guest with 3 GiB: extended memory saturates at 0xffff. */
	rtc_init(&r, T0, 3072ull << 20, set_irq, NULL);
	assert_int_equal(rd(&r, 0x30, 0) | rd(&r, 0x31, 0) << 8, 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_time_registers),
		cmocka_unit_test(test_set_and_write),
		cmocka_unit_test(test_uip_window),
		cmocka_unit_test(test_periodic_interrupt),
		cmocka_unit_test(test_update_and_alarm),
		cmocka_unit_test(test_cmos_bytes_and_index),
	};
	return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
