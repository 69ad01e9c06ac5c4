/*
 * virtio notifications by KVM_IOEVENTFD. A guest's write of a queue's notify
 * register completes inside KVM and signals that queue's eventfd; a thread
 * here turns the signal into a pending bit and, when the guest does not exit
 * by itself soon, a kick. The vCPU thread takes the bits at a position.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ioevent.h"
#include "thread.h"

/* The driver writes the queue's index, 16 bits (virtio 1.x 4.1.4.4). */
#define IOEVENT_LEN 2

static int assign(struct ioevents *io, struct ioevent *e, uint64_t gpa, bool on)
{
	struct kvm_ioeventfd k = { .addr = gpa, .len = IOEVENT_LEN, .fd = e->fd,
				   .flags = on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };

	if (ioctl(io->vm_fd, KVM_IOEVENTFD, &k) < 0)
		return -errno;
	e->assigned = on;
	e->gpa = gpa;
	return 0;
}

int ioevent_init(struct ioevents *io, int vm_fd, const struct board *b)
{
	memset(io, 0, sizeof(*io));
	io->vm_fd = vm_fd;
	io->stop_fd = -1;
	for (unsigned d = 0; d < b->n_virtio; d++)
		for (unsigned q = 0; q < b->virtio[d]->vd->ops->num_queues && q < VIRTIO_QUEUES_MAX; q++) {
			struct ioevent *e = &io->ev[io->n];

			if (b->virtio[d]->vd->ops->notify_at_exit & 1u << q)
				continue;
			e->dev = d;
			e->queue = q;
			if ((e->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
				return -errno;
			io->n++;
		}
	/* Made here: once the guest runs, the sandbox allows no new eventfd. */
	if (io->n && (io->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	return ioevent_sync(io, b);
}

int ioevent_sync(struct ioevents *io, const struct board *b)
{
	int r;

	for (unsigned i = 0; i < io->n; i++) {
		struct ioevent *e = &io->ev[i];
		uint64_t gpa = 0;
		bool want = virtio_pci_notify_addr(&b->virtio[e->dev]->pci, e->queue, &gpa);

		if (e->assigned && (!want || gpa != e->gpa) && (r = assign(io, e, e->gpa, false)) < 0)
			return r;
		if (!want || e->assigned)
			continue;
		/*
		 * Two devices' BARs on one address (a guest may overlap them):
		 * the first keeps it, the other's writes exit as MMIO and the
		 * board decides, as without ioeventfd. Replay does the same.
		 */
		if ((r = assign(io, e, gpa, true)) == -EEXIST) {
			io->unassigned++;
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ioevent_rebind(struct ioevents *io, int vm_fd, const struct board *b)
{
	io->vm_fd = vm_fd;
	for (unsigned i = 0; i < io->n; i++)
		io->ev[i].assigned = false;	/* the old VM, and its registrations, are gone */
	return ioevent_sync(io, b);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Eventfd i was readable: its queue is notified. Either thread may read it first; the bit is set once. */
static bool collect(struct ioevents *io, unsigned i)
{
	uint64_t count;

	if (read(io->ev[i].fd, &count, sizeof(count)) != sizeof(count))
		return false;
	atomic_fetch_or(&io->pending[io->ev[i].dev], 1u << io->ev[i].queue);
	return true;
}

unsigned ioevent_pollfds(const struct ioevents *io, struct pollfd *pfd)
{
	for (unsigned i = 0; i < io->n; i++)
		pfd[i] = (struct pollfd){ .fd = io->ev[i].fd, .events = POLLIN };
	return io->n;
}

void ioevent_collect(struct ioevents *io, const struct pollfd *pfd, unsigned n)
{
	for (unsigned i = 0; i < n && i < io->n; i++)
		if (pfd[i].revents & POLLIN)
			(void)collect(io, i);
}

static bool any_pending(struct ioevents *io)
{
	for (unsigned d = 0; d < BOARD_VIRTIO_MAX; d++)
		if (atomic_load(&io->pending[d]))
			return true;
	return false;
}

/*
 * A kick costs the guest an exit, which is what ioeventfd saves: a guest
 * that sleeps in hlt is woken at once, one that runs on gets defer_ns to
 * make an exit of its own (the vCPU thread takes the bits there) before it
 * is kicked.
 */
static void *ioevent_main(void *arg)
{
	struct ioevents *io = arg;
	struct pollfd pfd[IOEVENT_MAX + 1];
	uint64_t owed_since = 0;
	bool owed = false;

	ioevent_pollfds(io, pfd);
	pfd[io->n] = (struct pollfd){ .fd = io->stop_fd, .events = POLLIN };
	for (;;) {
		struct timespec ts, *tsp = NULL;
		uint64_t now;
		bool got = false;

		if (owed) {
			uint64_t gone = mono_ns() - owed_since, left = gone < io->defer_ns ? io->defer_ns - gone : 0;

			ts.tv_sec = (time_t)(left / 1000000000u);
			ts.tv_nsec = (long)(left % 1000000000u);
			tsp = &ts;
		}
		if (ppoll(pfd, io->n + 1, tsp, NULL) < 0 && errno != EINTR)
			break;
		if (pfd[io->n].revents)
			break;
		for (unsigned i = 0; i < io->n; i++)
			if ((pfd[i].revents & POLLIN) && collect(io, i))
				got = true;
		if (!any_pending(io)) {
			owed = false;
			continue;
		}
		now = mono_ns();
		if (got && !owed) {
			owed = true;
			owed_since = now;
		}
		if (atomic_load(&io->sleeping) || now - owed_since >= io->defer_ns) {
			io->wake(io->wake_ctx);
			owed = false;
		}
	}
	return NULL;
}

int ioevent_start(struct ioevents *io, void (*wake)(void *ctx), void *ctx, uint64_t defer_ns)
{
	int r;

	if (!io->n || io->started)
		return 0;
	io->wake = wake;
	io->wake_ctx = ctx;
	io->defer_ns = defer_ns;
	if ((r = thread_start_quiet(&io->thread, ioevent_main, io)) < 0)
		return r;
	io->started = true;
	return 0;
}

void ioevent_stop(struct ioevents *io)
{
	uint64_t one = 1;

	if (!io->started)
		return;
	if (write(io->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(io->thread, NULL);
	io->started = false;
}

void ioevent_free(struct ioevents *io)
{
	ioevent_stop(io);
	for (unsigned i = 0; i < io->n; i++)
		if (io->ev[i].fd >= 0)
			close(io->ev[i].fd);
	if (io->stop_fd >= 0)
		close(io->stop_fd);
	io->n = 0;
	io->stop_fd = -1;
}

unsigned ioevent_take(struct ioevents *io, unsigned dev)
{
	unsigned bits;

	if (!io->n || dev >= BOARD_VIRTIO_MAX || !(bits = atomic_exchange(&io->pending[dev], 0)))
		return 0;
	io->taken += (unsigned)__builtin_popcount(bits);
	return bits;
}

void ioevent_sleeping(struct ioevents *io, bool sleeping)
{
	atomic_store(&io->sleeping, sleeping);
}
