/* Backend worker threads: jobs run off the vCPU thread; their results wait until the vCPU thread takes them. */
#ifndef VMM_WORKER_H
#define VMM_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker_job {
	struct worker_job *next;
	/* Runs on the worker thread; must not touch guest state (DESIGN.md section 1). */
	void (*run)(struct worker_job *job);
	void *owner;		/* the device that submitted it */
	uint32_t generation;	/* the owner's resets when it was submitted */
	unsigned queue;
	uint16_t head;		/* the chain it completes */
	uint32_t len;		/* bytes of data valid after run() */
	uint32_t cap;		/* bytes data can hold */
	int status;		/* device-specific result */
	uint8_t *data;		/* bytes for the chain's writable buffers, in order */
	uint8_t *out;		/* bytes from the guest for the backend (a disk write), or NULL */
	uint32_t out_len;
	uint64_t offset;	/* where in the backend (a disk byte offset) */
	int fd;
};

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct worker_job *todo, **todo_tail;
	struct worker_job *done, **done_tail;
	bool started, stopping;
	int has_done;			/* atomic: done is not empty; lets the exit loop skip the lock */
	void (*wake)(void *ctx);	/* a job finished: the vCPU thread should look */
	void *wake_ctx;
};

int worker_start(struct worker *w, void (*wake)(void *ctx), void *ctx);
void worker_stop(struct worker *w);
void worker_submit(struct worker *w, struct worker_job *job);
/* Free owner's jobs that have not started; one running now still finishes (and is stale). */
void worker_cancel(struct worker *w, const void *owner);
/* The finished jobs in completion order (the caller frees them), or NULL. */
struct worker_job *worker_take_done(struct worker *w);

#endif
