/* cmocka tests of the serial backend: spec parsing, file output, input flow control. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

static void test_specs(void **state)
{
	struct console c;
	char err[200];

	(void)state;
	assert_int_equal(console_open(&c, "none", err, sizeof(err)), 0);
	assert_int_equal(c.kind, CONSOLE_NONE);
	console_putc(&c, 'x');				/* goes nowhere, harmlessly */
	console_close(&c);
	assert_int_equal(console_open(&c, "stdio", err, sizeof(err)), 0);
	assert_int_equal(c.kind, CONSOLE_STDIO);
	assert_int_equal(console_open(&c, "file:", err, sizeof(err)), -EINVAL);
	assert_int_equal(console_open(&c, "tcp:1234", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tcp:1234"));
	assert_int_equal(console_open(&c, "file:/nonexistent-dir/x", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/x"));
}

static void test_file_output(void **state)
{
	char path[] = "/tmp/vmm-console-XXXXXX", spec[64], buf[16] = { 0 }, err[200];
	struct console c;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(console_open(&c, spec, err, sizeof(err)), 0);
	console_putc(&c, 'o');
	console_putc(&c, 'k');
	console_close(&c);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ok");
	close(fd);
	unlink(path);
}

static unsigned room;
static uint8_t got[16];
static unsigned ngot;

static int accept_some(void *opaque, uint8_t b)
{
	(void)opaque;
	if (!room)
		return -EAGAIN;
	room--;
	got[ngot++] = b;
	return 0;
}

static void test_pump_flow_control(void **state)
{
	struct console c;
	char err[200];

	(void)state;
	assert_int_equal(console_open(&c, "stdio", err, sizeof(err)), 0);
	memcpy(c.ring, "abcde", 5);
	c.count = 5;
	room = 3;
	ngot = 0;
	assert_int_equal(console_pump(&c, accept_some, NULL), 3);
	assert_memory_equal(got, "abc", 3);
	assert_int_equal(c.count, 2);			/* the rest waits, nothing is lost */
	room = 10;
	assert_int_equal(console_pump(&c, accept_some, NULL), 2);
	assert_memory_equal(got, "abcde", 5);
	assert_int_equal(console_pump(&c, accept_some, NULL), 0);
	assert_false(console_quit_requested(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_file_output),
		cmocka_unit_test(test_pump_flow_control),
	};
	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
