/* One backend thread per board: it runs jobs in submission order and hands results back under a lock. */
#include "worker.h"
#include "thread.h"

#include <stdlib.h>

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct worker_job *job;

		while (!w->todo && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stopping)
			break;
		job = w->todo;
		w->todo = job->next;
		if (!w->todo)
			w->todo_tail = &w->todo;
		pthread_mutex_unlock(&w->lock);
		job->run(job);
		job->next = NULL;
		pthread_mutex_lock(&w->lock);
		*w->done_tail = job;
		w->done_tail = &job->next;
		__atomic_store_n(&w->has_done, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&w->lock);
		if (w->wake)
			w->wake(w->wake_ctx);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int worker_start(struct worker *w, void (*wake)(void *ctx), void *ctx)
{
	int r;

	w->todo = w->done = NULL;
	w->todo_tail = &w->todo;
	w->done_tail = &w->done;
	w->stopping = false;
	w->has_done = 0;
	w->wake = wake;
	w->wake_ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if ((r = thread_start_quiet(&w->thread, worker_main, w)) < 0)
		return r;
	w->started = true;
	return 0;
}

static void free_list(struct worker_job *j)
{
	while (j) {
		struct worker_job *next = j->next;

		free(j->data);
		free(j->out);
		free(j);
		j = next;
	}
}

void worker_stop(struct worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	free_list(w->todo);
	free_list(w->done);
	w->todo = w->done = NULL;
	w->started = false;
}

void worker_submit(struct worker *w, struct worker_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	*w->todo_tail = job;
	w->todo_tail = &job->next;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

struct worker_job *worker_take_done(struct worker *w)
{
	struct worker_job *list;

	/* Called at every position: most find nothing, and need no lock to find it. */
	if (!w->started || !__atomic_load_n(&w->has_done, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_mutex_lock(&w->lock);
	list = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	w->has_done = 0;
	pthread_mutex_unlock(&w->lock);
	return list;
}

void worker_cancel(struct worker *w, const void *owner)
{
	struct worker_job **pp, *gone = NULL;

	pthread_mutex_lock(&w->lock);
	for (pp = &w->todo; *pp;) {
		struct worker_job *j = *pp;

		if (j->owner == owner) {
			*pp = j->next;
			j->next = gone;
			gone = j;
		} else {
			pp = &j->next;
		}
	}
	w->todo_tail = &w->todo;
	while (*w->todo_tail)
		w->todo_tail = &(*w->todo_tail)->next;
	pthread_mutex_unlock(&w->lock);
	free_list(gone);
}
