/* Helper threads (backends, serial input): they serve the vCPU thread and never take its signals. */
#ifndef VMM_THREAD_H
#define VMM_THREAD_H

#include <pthread.h>
#include <signal.h>

/*
 * pthread_create with every signal blocked in the new thread (kicks and
 * SIGINT are the vCPU's), but SIGSYS: the sandbox's message comes from its
 * handler, which a blocked SIGSYS would skip. 0 or -errno.
 */
static inline int thread_start_quiet(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

#endif
