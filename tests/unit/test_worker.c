/* cmocka tests of the backend worker: completion order, and cancelling a reset device's queued jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "worker.h"

static int gate[2];

/* The first job waits for the test to open the gate, so the others stay queued meanwhile. */
static void wait_gate(struct worker_job *job)
{
	char c;

	(void)job;
	assert_int_equal(read(gate[0], &c, 1), 1);
}

static void nothing(struct worker_job *job)
{
	(void)job;
}

static struct worker_job *job_of(void *owner, void (*run)(struct worker_job *), uint16_t head)
{
	struct worker_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->owner = owner;
	j->run = run;
	j->head = head;
	return j;
}

static void test_cancel_drops_queued_jobs_of_one_owner(void **state)
{
	struct worker w = { 0 };
	int a, b, c;
	uint16_t heads[8];
	unsigned n = 0;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_start(&w, NULL, NULL), 0);
	worker_submit(&w, job_of(&c, wait_gate, 1));
	worker_submit(&w, job_of(&a, nothing, 2));
	worker_submit(&w, job_of(&b, nothing, 3));
	worker_submit(&w, job_of(&a, nothing, 4));
	worker_submit(&w, job_of(&b, nothing, 5));
	worker_cancel(&w, &a);
	worker_submit(&w, job_of(&a, nothing, 6));	/* after the cancel: kept */
	assert_int_equal(write(gate[1], "x", 1), 1);
	for (int tries = 0; tries < 500 && n < 4; tries++) {
		struct worker_job *j = worker_take_done(&w), *next;

		for (; j; j = next) {
			next = j->next;
			heads[n++] = j->head;
			free(j);
		}
		usleep(2000);
	}
	worker_stop(&w);
	close(gate[0]);
	close(gate[1]);
	/* 2 and 4 were dropped, queued or not yet started; the rest run in order. */
	assert_int_equal(n, 4);
	assert_int_equal(heads[0], 1);
	assert_int_equal(heads[1], 3);
	assert_int_equal(heads[2], 5);
	assert_int_equal(heads[3], 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_drops_queued_jobs_of_one_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
