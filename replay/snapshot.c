/* Snapshots of a replay under gdb: fork()ed, copy-on-write copies of the replayer that going back starts from. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/status.h"
#include "../core/vm.h"

#define SNAP_ANSWER_MS 10000	/* a snapshot that has not forked by then is taken for dead */

struct snap_slot {
	pid_t pid;
	uint64_t events;	/* records replayed where it stands */
	uint64_t serial;	/* names its socket */
};

/* In MAP_SHARED memory: every process of the replay sees the one copy. */
struct snap_registry {
	pid_t root;
	pid_t active;		/* the replaying process */
	uint64_t next_serial;
	uint64_t handovers;
	double interval_s;
	unsigned n;
	struct snap_slot slot[SNAP_MAX];	/* by events, oldest first */
};

static struct snap_registry *reg;	/* NULL: snapshots are off */
static bool is_root;
static int lifeline_w = -1;		/* the root's: when it ends, every snapshot sees EOF and ends too */
static int lifeline_r = -1;
static int status_r = -1;		/* the root reads the replay's exit status here */
static int status_w = -1;		/* the replaying process writes it */
static uint64_t started_at = UINT64_MAX;
static double last_mark;		/* when a snapshot was taken or passed */
static uint64_t next_known = UINT64_MAX;	/* events of the next snapshot ahead */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void next_after(uint64_t events)
{
	next_known = UINT64_MAX;
	for (unsigned i = 0; i < reg->n; i++)
		if (reg->slot[i].events > events) {
			next_known = reg->slot[i].events;
			break;
		}
}

static socklen_t snap_addr(struct sockaddr_un *a, uint64_t serial)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* Abstract: nothing in the file system to clean up after a crash. */
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "vmm-snapshot-%d-%llu", (int)reg->root,
		 (unsigned long long)serial);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1));
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int snap_init(double interval_s)
{
	int life[2], st[2];

	if (reg || interval_s <= 0)
		return 0;
	reg = mmap(NULL, sizeof(*reg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reg == MAP_FAILED) {
		reg = NULL;
		return -errno;
	}
	if (pipe2(life, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0) {
		int e = errno;

		munmap(reg, sizeof(*reg));
		reg = NULL;
		return -e;
	}
	lifeline_r = life[0];
	lifeline_w = life[1];
	status_r = st[0];
	status_w = st[1];
	memset(reg, 0, sizeof(*reg));
	reg->root = reg->active = getpid();
	reg->interval_s = interval_s;
	is_root = true;
	/* Snapshots whose parent ended become the root's children, which it reaps. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	last_mark = -1e9;
	return 0;
}

bool snap_enabled(void)
{
	return reg != NULL;
}

bool snap_due(uint64_t events)
{
	if (!reg)
		return false;
	if (events >= next_known) {
		if (events == next_known)
			last_mark = now_s();	/* passing a snapshot: the next is due an interval on */
		next_after(events);
	}
	return now_s() - last_mark >= reg->interval_s;
}

/* Too many: keep every other one (always the first), and take them half as often. */
static void thin(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < reg->n; i++) {
		if (i % 2)
			kill(reg->slot[i].pid, SIGKILL);
		else
			reg->slot[k++] = reg->slot[i];
	}
	reg->n = k;
	reg->interval_s *= 2;
	reap();
}

/* One goal from a replaying process: the text and two descriptors (gdb's, the status pipe). */
static int receive(int c, char *text, size_t n, int fds[2])
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov = { text, n - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct cmsghdr *h;
	ssize_t got;

	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid())
		return -EPERM;
	got = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
	if (got <= 0)
		return -EIO;
	text[got] = 0;
	h = CMSG_FIRSTHDR(&msg);
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
	    h->cmsg_len != CMSG_LEN(2 * sizeof(int)) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (h && h->cmsg_type == SCM_RIGHTS) {
			size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++)
				close(((int *)CMSG_DATA(h))[i]);
		}
		return -EPROTO;
	}
	memcpy(fds, CMSG_DATA(h), 2 * sizeof(int));
	return 0;
}

/*
 * The snapshot's life: wait for goals; for each, fork the process that
 * replays on, where it returns 1. SNAP_OVER once the root is gone.
 */
static int serve(int ls, uint64_t events, char *text, size_t n, int *gdb_fd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigaction(SIGINT, &ign, NULL);	/* the terminal's Ctrl-C is for the replaying process */
	for (;;) {
		struct pollfd pf[2] = { { ls, POLLIN, 0 }, { lifeline_r, POLLIN, 0 } };
		int fds[2], c;
		pid_t g;

		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			return SNAP_OVER;
		reap();
		if (pf[1].revents)
			return SNAP_OVER;	/* the root is gone */
		if (!(pf[0].revents & POLLIN))
			continue;
		c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (receive(c, text, n, fds) < 0) {
			close(c);
			continue;
		}
		fflush(NULL);
		g = fork();
		if (g == 0) {
			struct sigaction dfl = { .sa_handler = SIG_DFL };

			sigaction(SIGINT, &dfl, NULL);
			close(ls);
			close(c);
			*gdb_fd = fds[0];
			status_w = fds[1];
			started_at = events;
			reg->active = getpid();
			reg->handovers++;
			last_mark = now_s();
			next_after(events);
			return 1;
		}
		close(fds[0]);
		close(fds[1]);
		if (g > 0)
			(void)!write(c, "", 1);	/* the answer: a new process replays from here */
		close(c);
	}
}

int snap_take(uint64_t events, void (*in_child)(void *ctx), void *ctx, char *text, size_t n, int *gdb_fd)
{
	struct sockaddr_un a;
	socklen_t alen;
	int ls;
	pid_t pid;
	unsigned i;

	if (!reg)
		return -ENOTSUP;
	last_mark = now_s();
	for (i = 0; i < reg->n; i++)
		if (reg->slot[i].events == events)
			return 0;
	if (reg->n == SNAP_MAX)
		thin();
	reap();
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return -errno;
	alen = snap_addr(&a, reg->next_serial);
	if (bind(ls, (struct sockaddr *)&a, alen) < 0 || listen(ls, 4) < 0) {
		int e = errno;

		close(ls);
		return -e;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(ls);
		return -e;
	}
	if (pid == 0) {
		is_root = false;
		if (lifeline_w >= 0)
			close(lifeline_w);
		if (status_r >= 0)
			close(status_r);
		if (status_w >= 0)
			close(status_w);
		lifeline_w = status_r = status_w = -1;
		in_child(ctx);
		return serve(ls, events, text, n, gdb_fd);
	}
	close(ls);
	for (i = reg->n; i > 0 && reg->slot[i - 1].events > events; i--)
		reg->slot[i] = reg->slot[i - 1];
	reg->slot[i] = (struct snap_slot){ pid, events, reg->next_serial++ };
	reg->n++;
	next_after(events);
	return 0;
}

static int offer(const struct snap_slot *s, const char *text, int gdb_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov = { (void *)text, strlen(text) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	int fds[2] = { gdb_fd, status_w }, c, r = -EIO;
	struct pollfd pf;
	struct sockaddr_un a;
	socklen_t alen = snap_addr(&a, s->serial);
	char ack;

	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -errno;
	memset(u.buf, 0, sizeof(u.buf));
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(&u.h), fds, sizeof(fds));
	pf = (struct pollfd){ c, POLLIN, 0 };
	if (connect(c, (struct sockaddr *)&a, alen) == 0 && sendmsg(c, &msg, MSG_NOSIGNAL) == (ssize_t)iov.iov_len &&
	    poll(&pf, 1, SNAP_ANSWER_MS) == 1 && read(c, &ack, 1) == 1)
		r = 0;
	close(c);
	return r;
}

int64_t snap_handover(uint64_t events, bool strict, const char *text, int gdb_fd)
{
	if (!reg || status_w < 0)
		return -ENOTSUP;
	for (unsigned i = reg->n; i > 0; i--) {
		struct snap_slot s = reg->slot[i - 1];

		if (strict ? s.events >= events : s.events > events)
			continue;
		if (offer(&s, text, gdb_fd) == 0)
			return (int64_t)s.events;
		/* Gone (killed from outside?): forget it and try the one before. */
		memmove(&reg->slot[i - 1], &reg->slot[i], (reg->n - i) * sizeof(reg->slot[0]));
		reg->n--;
	}
	return -ENOENT;
}

bool snap_may_reexec(void)
{
	return !reg || is_root;
}

static void end_snapshots(void)
{
	for (unsigned i = 0; i < reg->n; i++)
		kill(reg->slot[i].pid, SIGKILL);
	reg->n = 0;
	reap();
}

int snap_wait(void)
{
	sigset_t wait_mask;
	bool forwarded = false;
	unsigned gone = 0;

	if (!reg || !is_root)
		return VMM_EXIT_ERROR;
	close(status_w);
	status_w = -1;
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);	/* passed on to the replaying process */
	for (;;) {
		struct pollfd pf = { status_r, POLLIN, 0 };
		struct timespec t = { 1, 0 };
		int status;
		ssize_t got;

		ppoll(&pf, 1, &t, &wait_mask);
		reap();
		if (vm_stop_signal() == SIGTERM && !forwarded) {
			kill(reg->active, SIGTERM);
			forwarded = true;
		}
		/*
		 * Dormant snapshots hold the status pipe's write end too, so a replaying
		 * process that died without a word gives no EOF: notice it is gone (for
		 * 3 s, longer than a handover takes to name its successor) instead.
		 */
		if (!pf.revents && kill(reg->active, 0) < 0 && errno == ESRCH && ++gone >= 3) {
			end_snapshots();
			fprintf(stderr, "vmm: the replaying process (pid %d) is gone without an exit status\n",
				(int)reg->active);
			return VMM_EXIT_ERROR;
		}
		if (!pf.revents)
			continue;
		gone = 0;
		got = read(status_r, &status, sizeof(status));
		if (got < 0 && errno == EINTR)
			continue;
		end_snapshots();
		if (got != (ssize_t)sizeof(status)) {
			fprintf(stderr, "vmm: the replaying process (pid %d) ended without an exit status\n",
				(int)reg->active);
			return VMM_EXIT_ERROR;
		}
		return status;
	}
}

int snap_finish(int status)
{
	if (!reg)
		return status;
	if (is_root) {
		end_snapshots();
		return status;
	}
	if (status_w >= 0)
		(void)!write(status_w, &status, sizeof(status));
	return status;
}

void snap_info(struct snap_info *info)
{
	memset(info, 0, sizeof(*info));
	info->started_at = started_at;
	if (!reg)
		return;
	info->count = reg->n;
	for (unsigned i = 0; i < reg->n; i++)
		info->events[i] = reg->slot[i].events;
	info->interval_s = reg->interval_s;
	info->handovers = reg->handovers;
}
