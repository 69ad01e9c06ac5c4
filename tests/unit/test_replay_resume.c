/* cmocka tests of VMM_REPLAY_RESUME: what a re-executed replay is to do survives the text, and bad text is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rr.h"

static void fill(struct replay_resume *r, unsigned marks)
{
	memset(r, 0, sizeof(*r));
	r->goal = REPLAY_GOAL_SEEK;
	r->target_end = false;
	r->target_start = true;
	r->target_boundary = true;
	r->answer = true;
	r->mute_until = 1234567;
	r->window = 16;
	r->target.events = 77;
	r->target.fp = 0xfeedfacecafebeefull;
	r->target.regs.rip = 0xffffffff81000000ull;
	r->target.regs.rax = 1;
	r->target.regs.rflags = 0x246;
	snprintf(r->reply, sizeof(r->reply), "checkpoint 3: ");
	r->n_marks = marks;
	for (unsigned i = 0; i < marks; i++) {
		r->marks[i].kind = (enum replay_mark_kind)(i % 3);
		r->marks[i].pos.events = 1000 + i;
		r->marks[i].pos.fp = i * 0x1111;
		r->marks[i].pos.regs.rip = 0x100000 + i;
		r->marks[i].pos.regs.r15 = ~(uint64_t)i;
	}
	snprintf(r->gdb, sizeof(r->gdb), "fd=5 noack=1 phys=0");
}

static void test_round_trip(void **state)
{
	static struct replay_resume in, out;
	static char text[REPLAY_RESUME_MAX];

	(void)state;
	for (unsigned marks = 0; marks <= REPLAY_MARKS; marks += REPLAY_MARKS / 2) {
		fill(&in, marks);
		assert_int_equal(replay_resume_format(&in, text, sizeof(text)), 0);
		assert_int_equal(replay_resume_parse(text, &out), 0);
		assert_int_equal(out.goal, in.goal);
		assert_int_equal(out.target_start, 1);
		assert_int_equal(out.target_end, 0);
		assert_int_equal(out.target_boundary, 1);
		assert_int_equal(out.answer, 1);
		assert_int_equal(out.mute_until, in.mute_until);
		assert_int_equal(out.window, 16);
		assert_int_equal(out.target.events, 77);
		assert_int_equal(out.target.fp, in.target.fp);
		assert_memory_equal(&out.target.regs, &in.target.regs, sizeof(in.target.regs));
		assert_string_equal(out.reply, "checkpoint 3: ");
		assert_int_equal(out.n_marks, marks);
		assert_memory_equal(out.marks, in.marks, marks * sizeof(in.marks[0]));
		assert_string_equal(out.gdb, "fd=5 noack=1 phys=0");
	}
}

/* An empty reply travels as its NUL alone, so the field is never empty. */
static void test_empty_reply(void **state)
{
	static struct replay_resume in, out;
	static char text[REPLAY_RESUME_MAX];

	(void)state;
	fill(&in, 1);
	in.reply[0] = 0;
	in.goal = REPLAY_GOAL_GOTO;
	assert_int_equal(replay_resume_format(&in, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "reply=00 "));
	assert_int_equal(replay_resume_parse(text, &out), 0);
	assert_string_equal(out.reply, "");
	assert_int_equal(out.goal, REPLAY_GOAL_GOTO);
}

static void test_too_small(void **state)
{
	static struct replay_resume in;
	char text[200];

	(void)state;
	fill(&in, 2);
	assert_int_equal(replay_resume_format(&in, text, sizeof(text)), -ENOSPC);
	in.n_marks = REPLAY_MARKS + 1;
	assert_int_equal(replay_resume_format(&in, text, sizeof(text)), -EINVAL);
}

/* Each damage to a good text is refused. */
static void test_refused(void **state)
{
	static struct replay_resume in, out;
	static char good[REPLAY_RESUME_MAX], bad[REPLAY_RESUME_MAX];
	static const struct {
		const char *find, *put;
	} damage[] = {
		{ "goal=3", "goal=9" },		/* no such goal */
		{ "window=16", "window=x" },	/* not a number */
		{ "marks=2", "marks=17" },	/* more than there can be */
		{ "marks=2", "marks=3" },	/* fewer than it says */
		{ ",1:1001:", ",7:1001:" },	/* no such kind */
		{ " gdb=", " gbd=" },		/* the connection missing */
		{ "regs=", "regs=zz" },		/* not hex */
		{ "answer=1 reply=", "answer=1 reply=0" },	/* an odd number of digits */
	};

	(void)state;
	fill(&in, 2);
	assert_int_equal(replay_resume_format(&in, good, sizeof(good)), 0);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		const char *at = strstr(good, damage[i].find);

		assert_non_null(at);
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(at - good), good, damage[i].put,
			 at + strlen(damage[i].find));
		assert_int_equal(replay_resume_parse(bad, &out), -EINVAL);
	}
	/* Cut short anywhere before the connection: refused. */
	for (size_t len = 0; len < (size_t)(strstr(good, " gdb=") - good); len += 97) {
		snprintf(bad, sizeof(bad), "%.*s", (int)len, good);
		assert_int_equal(replay_resume_parse(bad, &out), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_reply),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("replay resume", tests, NULL, NULL);
}
