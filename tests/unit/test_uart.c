/* cmocka tests of the 16550A core against the datasheet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "uart.h"

struct sink {
	int irq;
	int irq_changes;
	uint8_t tx[64];
	unsigned ntx;
};

static void set_irq(void *o, int level)
{
	struct sink *s = o;

	s->irq = level;
	s->irq_changes++;
}

static void tx(void *o, uint8_t b)
{
	struct sink *s = o;

	if (s->ntx < sizeof(s->tx))
		s->tx[s->ntx++] = b;
}

static const struct uart_ops ops = { set_irq, tx };

static void setup(struct uart *u, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	uart_init(u, &ops, s);
}

static void test_reset_state(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	assert_int_equal(uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(uart_read(&u, UART_IER), 0);
	assert_int_equal(s.irq, 0);
}

static void test_transmit(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_THR, 'h');
	uart_write(&u, UART_THR, 'i');
	assert_int_equal(s.ntx, 2);
	assert_memory_equal(s.tx, "hi", 2);
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_THRE);
}

static void test_dlab(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_LCR, UART_LCR_DLAB | 3);
	uart_write(&u, UART_DLL, 0x01);
	uart_write(&u, UART_DLM, 0x02);
	assert_int_equal(uart_read(&u, UART_DLL), 0x01);
	assert_int_equal(uart_read(&u, UART_DLM), 0x02);
	assert_int_equal(s.ntx, 0);	/* a DLL write is not a transmission */
	uart_write(&u, UART_LCR, 3);
	assert_int_equal(uart_read(&u, UART_IER), 0);
}

static void test_receive_fifo_and_overrun(void **state)
{
	struct uart u;
	struct sink s;
	int i;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_FCR, UART_FCR_ENABLE);
	for (i = 0; i < UART_FIFO_LEN; i++)
		assert_int_equal(uart_receive(&u, (uint8_t)i), 0);
	assert_int_equal(uart_receive(&u, 99), -EAGAIN);	/* host input waits, no loss */
	assert_int_equal(uart_rx_room(&u), 0);
	for (i = 0; i < UART_FIFO_LEN; i++)
		assert_int_equal(uart_read(&u, UART_RBR), i);
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_DR);
	/* Without FIFO the receiver holds one byte. */
	uart_write(&u, UART_FCR, 0);
	assert_int_equal(uart_receive(&u, 'a'), 0);
	assert_int_equal(uart_receive(&u, 'b'), -EAGAIN);
}

static void test_loopback(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_FCR, UART_FCR_ENABLE);
	uart_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT1);
	uart_write(&u, UART_THR, 'x');
	assert_int_equal(s.ntx, 0);
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart_read(&u, UART_RBR), 'x');
	assert_int_equal(uart_read(&u, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI);
	assert_int_equal(uart_receive(&u, 'y'), -EAGAIN);	/* line input disconnected in loopback */
	for (int i = 0; i < 17; i++)
		uart_write(&u, UART_THR, 'z');
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_OE);
	assert_false(uart_read(&u, UART_LSR) & UART_LSR_OE);
}

static void test_interrupts_and_out2(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_int_equal(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(s.irq, 0);			/* OUT2 clear: gated */
	uart_write(&u, UART_IER, 0);
	uart_write(&u, UART_MCR, UART_MCR_OUT2);
	uart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_int_equal(s.irq, 1);
	assert_int_equal(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_THRI);	/* acknowledges */
	assert_int_equal(s.irq, 0);
	assert_int_equal(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	uart_write(&u, UART_THR, '!');
	assert_int_equal(s.irq, 1);
	/* Received data outranks THRE. */
	uart_write(&u, UART_IER, UART_IER_ETBEI | UART_IER_ERBFI);
	uart_receive(&u, 'r');
	assert_int_equal(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_RDI);
	uart_read(&u, UART_RBR);
	assert_int_equal(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
}

static void test_trigger_levels(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_FCR, UART_FCR_ENABLE | 0x80);	/* trigger 8 */
	uart_write(&u, UART_IER, UART_IER_ERBFI);
	for (int i = 0; i < 7; i++)
		uart_receive(&u, 'a');
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
	uart_receive(&u, 'a');
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	uart_write(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLR_RX);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
}

static void test_scratch_and_register_aliasing(void **state)
{
	struct uart u;
	struct sink s;

	(void)state;
	setup(&u, &s);
	uart_write(&u, UART_SCR, 0xa5);
	assert_int_equal(uart_read(&u, UART_SCR), 0xa5);
	assert_int_equal(uart_read(&u, 8 + UART_SCR), 0xa5);	/* only 3 address bits */
	uart_write(&u, UART_LSR, 0x00);				/* factory test: ignored */
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_THRE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_transmit),
		cmocka_unit_test(test_dlab),
		cmocka_unit_test(test_receive_fifo_and_overrun),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_interrupts_and_out2),
		cmocka_unit_test(test_trigger_levels),
		cmocka_unit_test(test_scratch_and_register_aliasing),
	};
	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
