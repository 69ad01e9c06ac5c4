/* virtio queue notifications through KVM_IOEVENTFD: a driver's kick signals an eventfd instead of exiting. */
#ifndef VMM_IOEVENT_H
#define VMM_IOEVENT_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "board.h"

#define IOEVENT_MAX (BOARD_VIRTIO_MAX * VIRTIO_QUEUES_MAX)

/* One queue's notification address, as KVM knows it. */
struct ioevent {
	int fd;			/* the eventfd KVM signals */
	unsigned dev, queue;
	uint64_t gpa;		/* where it is registered, while assigned */
	bool assigned;
};

/*
 * The kick is not applied where the guest wrote it: the vCPU thread takes it
 * at its next position (DESIGN.md section 1) and journals it there, like a
 * completion. Replay registers the same addresses, so the guest's exits are
 * the same, and takes the notifications from the journal.
 */
struct ioevents {
	int vm_fd;
	unsigned n;				/* 0: not in use (--no-ioeventfd) */
	struct ioevent ev[IOEVENT_MAX];
	atomic_uint pending[BOARD_VIRTIO_MAX];	/* by device: queues notified and not yet taken */
	atomic_int sleeping;			/* the vCPU thread waits in hlt: wake it at once */
	uint64_t defer_ns;			/* else the guest has this long to exit by itself */
	void (*wake)(void *ctx);
	void *wake_ctx;
	int stop_fd;
	pthread_t thread;
	bool started;
	uint64_t taken;				/* notifications taken so far (--stats) */
	uint64_t unassigned;			/* registrations KVM refused (overlapping BARs) */
};

/*
 * An eventfd for every queue of every device of b but those the device takes
 * at their exit (notify_at_exit), registered where its BAR puts it. 0 or -errno.
 */
int ioevent_init(struct ioevents *io, int vm_fd, const struct board *b);
/* Follow the guest's BAR and command-register writes (after a PCI config write). 0 or -errno. */
int ioevent_sync(struct ioevents *io, const struct board *b);
/* The same addresses in a new KVM VM (replay's snapshots rebuild it). 0 or -errno. */
int ioevent_rebind(struct ioevents *io, int vm_fd, const struct board *b);
/* Watch the eventfds (run, record): wake is called when the vCPU thread should look. 0 or -errno. */
int ioevent_start(struct ioevents *io, void (*wake)(void *ctx), void *ctx, uint64_t defer_ns);
void ioevent_stop(struct ioevents *io);
void ioevent_free(struct ioevents *io);
/* The queues of device dev notified since the last call, as a bit mask; the vCPU thread's. */
unsigned ioevent_take(struct ioevents *io, unsigned dev);
/*
 * The eventfds, for the vCPU thread's own wait in hlt (it need not wait for
 * this module's thread to wake it): fills pfd (IOEVENT_MAX entries), returns
 * how many. ioevent_collect marks the queues of those that became readable.
 */
unsigned ioevent_pollfds(const struct ioevents *io, struct pollfd *pfd);
void ioevent_collect(struct ioevents *io, const struct pollfd *pfd, unsigned n);
/* The vCPU thread is about to sleep in hlt (true) or is back (false). */
void ioevent_sleeping(struct ioevents *io, bool sleeping);

#endif
