/* cmocka tests of the gdb stub's state as text (replay's handover to another process): breakpoints of both kinds survive it, bad text is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gdbstub.h"
#include "rr.h"

static int fds[2];

static int setup(void **state)
{
	(void)state;
	return pipe(fds);
}

static int teardown(void **state)
{
	(void)state;
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* Every slot and every software breakpoint in use, at the widest addresses. */
static void fill(struct gdbstub *g)
{
	memset(g, 0, sizeof(*g));
	g->fd = fds[0];
	g->listen_fd = -1;
	g->no_ack = true;
	g->phys = true;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++)
		g->slot[i] = (struct gdb_slot){ true, 0xffffffff81000000ull + i, i % 5, 8, 0xfffff000ull + i, { 0 } };
	for (unsigned i = 0; i < GDB_SW_BPS; i++)
		g->swbp[i] = (struct gdb_swbp){ true, 0xffffffffffffff00ull + i, 0xffffffffff000ull + i };
}

static void test_round_trip(void **state)
{
	static struct gdbstub in, out;
	char text[4096];

	(void)state;
	fill(&in);
	in.swbp[3].used = false;	/* a gap stays a gap */
	assert_int_equal(gdbstub_save(&in, text, sizeof(text)), 0);
	/* It must fit where replay carries it across. */
	assert_true(strlen(text) < sizeof(((struct replay_resume *)0)->gdb));
	assert_int_equal(gdbstub_restore(&out, text), 0);
	assert_int_equal(out.fd, fds[0]);
	assert_true(out.no_ack);
	assert_true(out.phys);
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		assert_true(out.slot[i].used);
		assert_int_equal(out.slot[i].addr, in.slot[i].addr);
		assert_int_equal(out.slot[i].kind, in.slot[i].kind);
		assert_int_equal(out.slot[i].len, in.slot[i].len);
		assert_int_equal(out.slot[i].gpa, in.slot[i].gpa);
	}
	for (unsigned i = 0; i < GDB_SW_BPS; i++) {
		assert_int_equal(out.swbp[i].used, i != 3);
		if (i == 3)
			continue;
		assert_int_equal(out.swbp[i].addr, in.swbp[i].addr);
		assert_int_equal(out.swbp[i].gpa, in.swbp[i].gpa);
	}
}

static void test_too_small(void **state)
{
	static struct gdbstub in;
	char text[300];

	(void)state;
	fill(&in);
	assert_int_equal(gdbstub_save(&in, text, sizeof(text)), -E2BIG);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"fd=%d,bp=32:100000:100000",	/* past the last software breakpoint */
		"fd=%d,bp=1:100000",		/* no physical address */
		"fd=%d,bp=1:xyz:100000",
		"fd=%d,slot=4:0:100000:1:0",	/* past the last slot */
		"fd=%d,slot=0:5:100000:1:0",	/* no such kind */
		"fd=%d,bp=1:100000:100000;",
		"fd=%d,frob=1",
	};
	static struct gdbstub out;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), bad[i], fds[0]);
		assert_int_equal(gdbstub_restore(&out, text), -EINVAL);
	}
	/* Well formed, but the connection is not open here. */
	assert_int_equal(gdbstub_restore(&out, "fd=1000,bp=1:100000:100000"), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("gdb stub state", tests, setup, teardown);
}
