/* cmocka tests of the board: the port table, byte splitting, unclaimed ports, IRQ wiring, deadlines, stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

static struct board *new_board(struct console *con)
{
	struct board *b = malloc(sizeof(*b));
	char err[100];

	assert_non_null(b);
	assert_int_equal(console_open(con, "none", err, sizeof(err)), 0);
	board_init(b, 256ull << 20, 1700000000, con);
	return b;
}

static void test_port_table(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	assert_string_equal(board_pio_name(b, 0x3f8), "com1");
	assert_string_equal(board_pio_name(b, 0x3ff), "com1");
	assert_string_equal(board_pio_name(b, 0xa1), "pic-slave");
	assert_string_equal(board_pio_name(b, 0xcfc), "pci");
	assert_null(board_pio_name(b, 0x2f8));
	free(b);
}

static void test_unclaimed(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	assert_int_equal(board_pio_read(b, 0x2f8, 1), 0xff);
	assert_int_equal(board_pio_read(b, 0x2f8, 2), 0xffff);
	assert_int_equal(board_pio_read(b, 0x1234, 4), 0xffffffff);
	board_pio_write(b, 0x1234, 4, 0);
	assert_int_equal(b->unclaimed_pio, 4);
	assert_int_equal(board_mmio_read(b, 0xfee00000, 4), 0xffffffff);
	assert_int_equal(board_mmio_read(b, 0xfee00000, 8), ~0ull);
	assert_int_equal(b->unclaimed_mmio, 2);
	free(b);
}

static void test_byte_splitting(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	/* outw to 0x21 writes the master IMR and then 0x22, which is not the PIC. */
	board_pio_write(b, 0x21, 2, 0x55aa);
	assert_int_equal(board_pio_read(b, 0x21, 1), 0xaa);
	/* A word read of 0x3fe/0x3ff: MSR then SCR. */
	board_pio_write(b, 0x3ff, 1, 0x5a);
	assert_int_equal(board_pio_read(b, 0x3fe, 2) >> 8, 0x5a);
	/* The PCI window is not byte-split: a dword goes to CONFIG_ADDRESS whole. */
	board_pio_write(b, 0xcf8, 4, 0x80000000);
	assert_int_equal(board_pio_read(b, 0xcfc, 4), 0x00081b36);
	free(b);
}

static void test_irq_wiring(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	/* Program the PIC as Linux does, then raise COM1's THRE interrupt. */
	board_pio_write(b, 0x20, 1, 0x11);
	board_pio_write(b, 0x21, 1, 0x30);
	board_pio_write(b, 0x21, 1, 0x04);
	board_pio_write(b, 0x21, 1, 0x01);
	board_pio_write(b, 0x21, 1, 0x00);
	board_pio_write(b, 0x3fc, 1, UART_MCR_OUT2);
	board_pio_write(b, 0x3f9, 1, UART_IER_ETBEI);
	assert_true(b->pic.intr);
	assert_int_equal(pic_ack(&b->pic), 0x34);
	free(b);
}

static void test_timer_deadline(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	assert_int_equal(b->deadline, UINT64_MAX);
	b->now = 1000;
	board_pio_write(b, 0x43, 1, 0x34);
	board_pio_write(b, 0x40, 1, 0x9c);
	board_pio_write(b, 0x40, 1, 0x2e);	/* 11932: 100 Hz */
	assert_true(b->deadline > 1000 && b->deadline < 1000 + 10001000);
	b->now = b->deadline;
	board_service(b);
	assert_true(b->pic.chip[0].irr & 1);
	assert_true(b->deadline > b->now);
	free(b);
}

static void test_stops(void **state)
{
	struct console con;
	struct board *b = new_board(&con);

	(void)state;
	assert_int_equal(b->stop, BOARD_RUNNING);
	board_pio_write(b, 0xf4, 4, 0x107);
	assert_int_equal(b->stop, BOARD_STOP_DEBUG_EXIT);
	assert_int_equal(b->exit_code, 0x107);
	board_pio_write(b, 0x64, 1, 0xfe);	/* the first stop wins */
	assert_int_equal(b->stop, BOARD_STOP_DEBUG_EXIT);
	free(b);
	b = new_board(&con);
	board_pio_write(b, 0xcf9, 1, 0x06);
	assert_int_equal(b->stop, BOARD_STOP_RESET);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_table),
		cmocka_unit_test(test_unclaimed),
		cmocka_unit_test(test_byte_splitting),
		cmocka_unit_test(test_irq_wiring),
		cmocka_unit_test(test_timer_deadline),
		cmocka_unit_test(test_stops),
	};
	return cmocka_run_group_tests_name("board", tests, NULL, NULL);
}
