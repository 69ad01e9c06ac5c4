/* cmocka tests of the sandbox: what a filtered vmm may still do (helper threads' memory) and what stops it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "status.h"

/*
 * A helper thread's malloc arena grown by many blocks under the mmap
 * threshold, then freed whole: glibc trims such an arena, and the first trim
 * of a process reads /proc/sys/vm/overcommit_memory.
 */
static void *churn(void *arg)
{
	enum { N = 64, SIZE = 100 * 1024 };
	void *b[N];

	(void)arg;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++)
			if ((b[i] = malloc(SIZE)))
				memset(b[i], i, SIZE);
		for (int i = N; i-- > 0;)
			free(b[i]);
	}
	return NULL;
}

/* Runs fn in a child under the filter; its exit status, or 128 + the signal that ended it. */
static int sandboxed(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[200];

		/* The filter's message goes to stderr: keep the test's output clean. */
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);
		if (sandbox_enter(NULL, err, sizeof(err)) < 0)
			_exit(100);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void helper_thread_memory(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, churn, NULL) != 0)
		_exit(101);
	pthread_join(t, NULL);
}

static void runs_a_program(void)
{
	char *const argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
}

static void test_helper_threads_may_free_memory(void **state)
{
	(void)state;
	assert_int_equal(sandboxed(helper_thread_memory), 0);
}

static void test_an_exec_stops_vmm(void **state)
{
	(void)state;
	assert_int_equal(sandboxed(runs_a_program), VMM_EXIT_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helper_threads_may_free_memory),
		cmocka_unit_test(test_an_exec_stops_vmm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
