/* cmocka tests of the 8259A pair: initialization, priorities, EOI forms, cascade, spurious, poll, modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pic.h"

/* Linux's sequence: master at 0x30, slave at 0x38, 8086 mode, all masked. */
static void init_pair(struct pic *p, uint8_t icw4)
{
	pic_init(p);
	pic_write(p, 0, 0, 0x11);
	pic_write(p, 0, 1, 0x30);
	pic_write(p, 0, 1, 0x04);
	pic_write(p, 0, 1, icw4);
	pic_write(p, 1, 0, 0x11);
	pic_write(p, 1, 1, 0x38);
	pic_write(p, 1, 1, 0x02);
	pic_write(p, 1, 1, icw4);
	pic_write(p, 0, 1, 0x00);
	pic_write(p, 1, 1, 0x00);
}

static uint8_t isr(struct pic *p, unsigned chip)
{
	pic_write(p, chip, 0, 0x0b);
	return pic_read(p, chip, 0);
}

static uint8_t irr(struct pic *p, unsigned chip)
{
	pic_write(p, chip, 0, 0x0a);
	return pic_read(p, chip, 0);
}

static void test_edge_delivery_and_eoi(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	assert_false(p.intr);
	pic_set_irq(&p, 1, 1);
	assert_true(p.intr);
	assert_int_equal(pic_ack(&p), 0x31);
	assert_int_equal(isr(&p, 0), 0x02);
	assert_int_equal(irr(&p, 0), 0x00);	/* edge request consumed */
	assert_false(p.intr);
	pic_set_irq(&p, 1, 1);			/* still high: no new edge */
	assert_false(p.intr);
	pic_write(&p, 0, 0, 0x20);		/* non-specific EOI */
	assert_int_equal(isr(&p, 0), 0x00);
	pic_set_irq(&p, 1, 0);
	pic_set_irq(&p, 1, 1);
	assert_true(p.intr);
}

static void test_priority_and_nesting(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_set_irq(&p, 5, 1);
	pic_set_irq(&p, 3, 1);
	assert_int_equal(pic_ack(&p), 0x33);	/* IR3 before IR5 */
	assert_false(p.intr);			/* IR5 is lower than in-service IR3 */
	pic_set_irq(&p, 0, 1);
	assert_true(p.intr);			/* IR0 nests above IR3 */
	assert_int_equal(pic_ack(&p), 0x30);
	pic_write(&p, 0, 0, 0x20);		/* EOI clears the highest: IR0 */
	assert_int_equal(isr(&p, 0), 0x08);
	pic_write(&p, 0, 0, 0x20);
	assert_int_equal(pic_ack(&p), 0x35);
}

static void test_mask(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_write(&p, 0, 1, 0x10);
	assert_int_equal(pic_read(&p, 0, 1), 0x10);
	pic_set_irq(&p, 4, 1);
	assert_false(p.intr);
	assert_int_equal(irr(&p, 0), 0x10);
	pic_write(&p, 0, 1, 0x00);
	assert_true(p.intr);
}

static void test_cascade(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_set_irq(&p, 8, 1);
	assert_true(p.intr);
	assert_int_equal(pic_ack(&p), 0x38);
	assert_int_equal(isr(&p, 1), 0x01);
	assert_int_equal(isr(&p, 0), 0x04);
	pic_set_irq(&p, 14, 1);
	assert_false(p.intr);			/* slave IR0 in service blocks IR6 on the slave */
	pic_write(&p, 1, 0, 0x20);
	pic_write(&p, 0, 0, 0x20);
	assert_true(p.intr);
	assert_int_equal(pic_ack(&p), 0x3e);
}

static void test_spurious(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	/* INTA with nothing pending: IR7's vector and no ISR bit. */
	assert_int_equal(pic_ack(&p), 0x37);
	assert_int_equal(isr(&p, 0), 0x00);
	/* A level line dropping between INT and INTA on the slave: spurious IRQ15. */
	pic_elcr_write(&p, 1, 0x02);		/* IRQ9 level-triggered */
	pic_set_irq(&p, 9, 1);
	assert_true(p.intr);
	pic_set_irq(&p, 9, 0);
	p.chip[0].irr |= 0x04;		/* the master latched the cascade before the drop */
	assert_int_equal(pic_ack(&p), 0x3f);
	assert_int_equal(isr(&p, 1), 0x00);
	assert_int_equal(isr(&p, 0), 0x04);	/* the master does not know */
}

static void test_specific_eoi_and_rotation(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_set_irq(&p, 2 + 1, 1);
	pic_ack(&p);
	pic_write(&p, 0, 0, 0x60 | 4);		/* wrong IR */
	assert_int_equal(isr(&p, 0), 0x08);
	pic_write(&p, 0, 0, 0x60 | 3);
	assert_int_equal(isr(&p, 0), 0x00);
	/* Set priority: IR4 lowest, so IR5 is highest. */
	pic_write(&p, 0, 0, 0xc0 | 4);
	pic_set_irq(&p, 0, 1);
	pic_set_irq(&p, 5, 1);
	assert_int_equal(pic_ack(&p), 0x35);
	/* Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest. */
	pic_write(&p, 0, 0, 0xa0);
	assert_int_equal(p.chip[0].lowest, 5);
	assert_int_equal(pic_ack(&p), 0x30);
}

static void test_auto_eoi(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x03);
	pic_set_irq(&p, 6, 1);
	assert_int_equal(pic_ack(&p), 0x36);
	assert_int_equal(isr(&p, 0), 0x00);
	pic_write(&p, 0, 0, 0x80);		/* rotate in auto-EOI: set */
	pic_set_irq(&p, 6, 0);
	pic_set_irq(&p, 6, 1);
	pic_ack(&p);
	assert_int_equal(p.chip[0].lowest, 6);
}

static void test_poll(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_write(&p, 0, 0, 0x0c);
	assert_int_equal(pic_read(&p, 0, 0), 0x00);
	pic_set_irq(&p, 3, 1);
	pic_write(&p, 0, 0, 0x0c);
	assert_int_equal(pic_read(&p, 0, 0), 0x83);
	assert_int_equal(isr(&p, 0), 0x08);
	assert_int_equal(pic_read(&p, 0, 0), 0x08);	/* poll is one-shot; back to ISR reads */
}

static void test_level_and_elcr(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_elcr_write(&p, 0, 0xff);
	pic_elcr_write(&p, 1, 0xff);
	assert_int_equal(pic_elcr_read(&p, 0), 0xf8);
	assert_int_equal(pic_elcr_read(&p, 1), 0xde);
	pic_set_irq(&p, 5, 1);
	assert_int_equal(pic_ack(&p), 0x35);
	assert_int_equal(irr(&p, 0), 0x20);	/* still high: still requested */
	pic_set_irq(&p, 5, 0);
	assert_int_equal(irr(&p, 0), 0x00);
	/* A level line survives ICW1. */
	pic_set_irq(&p, 5, 1);
	pic_write(&p, 0, 0, 0x11);
	assert_int_equal(p.chip[0].irr, 0x20);
}

static void test_special_mask_mode(void **state)
{
	struct pic p;

	(void)state;
	init_pair(&p, 0x01);
	pic_set_irq(&p, 1, 1);
	pic_ack(&p);
	pic_set_irq(&p, 6, 1);
	assert_false(p.intr);
	pic_write(&p, 0, 0, 0x68);		/* SMM on */
	pic_write(&p, 0, 1, 0x02);		/* mask the in-service IR1 */
	assert_true(p.intr);
	assert_int_equal(pic_ack(&p), 0x36);
}

static void test_icw_sequence_single_no_icw4(void **state)
{
	struct pic p;

	(void)state;
	pic_init(&p);
	pic_write(&p, 0, 0, 0x12);		/* single, no ICW4 */
	pic_write(&p, 0, 1, 0x48);
	pic_write(&p, 0, 1, 0x00);		/* already operational: this is OCW1 */
	assert_int_equal(pic_read(&p, 0, 1), 0x00);
	pic_set_irq(&p, 0, 1);
	assert_int_equal(pic_ack(&p), 0x48);
	pic_set_irq(&p, 2, 1);			/* the cascade input cannot be driven */
	assert_false(p.chip[0].irr & 0x04);
	pic_set_irq(&p, 99, 1);			/* out of range: ignored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_delivery_and_eoi),
		cmocka_unit_test(test_priority_and_nesting),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_cascade),
		cmocka_unit_test(test_spurious),
		cmocka_unit_test(test_specific_eoi_and_rotation),
		cmocka_unit_test(test_auto_eoi),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_level_and_elcr),
		cmocka_unit_test(test_special_mask_mode),
		cmocka_unit_test(test_icw_sequence_single_no_icw4),
	};
	return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
