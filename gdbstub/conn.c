/* The debugger's connection: listening on TCP or a unix socket, accepting gdb, closing, and the stub's state carried across a re-exec. */
#include "gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "../core/vm.h"

int gdbstub_save(const struct gdbstub *g, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "fd=%d,noack=%d,phys=%d", g->fd, g->no_ack, g->phys);

	for (unsigned i = 0; i < GDB_HW_SLOTS && len < n; i++)
		if (g->slot[i].used)
			len += (size_t)snprintf(out + len, n - len, ",slot=%u:%u:%llx:%u:%llx", i, g->slot[i].kind,
						(unsigned long long)g->slot[i].addr, g->slot[i].len,
						(unsigned long long)g->slot[i].gpa);
	for (unsigned i = 0; i < GDB_SW_BPS && len < n; i++)
		if (g->swbp[i].used)
			len += (size_t)snprintf(out + len, n - len, ",bp=%u:%llx:%llx", i,
						(unsigned long long)g->swbp[i].addr,
						(unsigned long long)g->swbp[i].gpa);
	return len < n ? 0 : -E2BIG;
}

int gdbstub_restore(struct gdbstub *g, const char *text)
{
	const char *p = text;

	memset(g, 0, sizeof(*g));
	g->listen_fd = g->fd = -1;
	g->bp_slots = GDB_HW_SLOTS;
	rsp_init(&g->rsp);
	while (*p) {
		unsigned i, kind, len, v;
		unsigned long long addr, gpa;
		int used = 0;

		if (sscanf(p, "fd=%u%n", &v, &used) == 1)
			g->fd = (int)v;
		else if (sscanf(p, "noack=%u%n", &v, &used) == 1)
			g->no_ack = v;
		else if (sscanf(p, "phys=%u%n", &v, &used) == 1)
			g->phys = v;
		else if (sscanf(p, "slot=%u:%u:%llx:%u:%llx%n", &i, &kind, &addr, &len, &gpa, &used) == 5 &&
			 i < GDB_HW_SLOTS && kind <= 4 && len <= 8)
			g->slot[i] = (struct gdb_slot){ true, addr, kind, len, gpa, { 0 } };
		else if (sscanf(p, "bp=%u:%llx:%llx%n", &i, &addr, &gpa, &used) == 3 && i < GDB_SW_BPS)
			g->swbp[i] = (struct gdb_swbp){ true, addr, gpa };
		else
			return -EINVAL;
		p += used;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (g->fd < 0 || fcntl(g->fd, F_GETFD) < 0)
		return -EBADF;
	return 0;
}

/* Is the file at a a socket no process listens on? Anything else (a listener, a regular file) is left alone. */
static bool stale_socket(const struct sockaddr_un *a)
{
	struct stat st;
	int fd, r;

	if (lstat(a->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	r = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	close(fd);
	return r < 0 && errno == ECONNREFUSED;
}

int gdbstub_open(struct gdbstub *g, const char *where, char *err, size_t errlen)
{
	int one = 1;

	memset(g, 0, sizeof(*g));
	g->fd = g->listen_fd = -1;
	g->bp_slots = GDB_HW_SLOTS;
	rsp_init(&g->rsp);
	if (!strncmp(where, "unix:", 5)) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		if (strlen(where + 5) >= sizeof(a.sun_path) || !where[5]) {
			snprintf(err, errlen, "--gdb '%s': socket path empty or too long", where);
			return -EINVAL;
		}
		strcpy(a.sun_path, where + 5);
		g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->listen_fd < 0)
			goto fail;
		if (bind(g->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			if (errno != EADDRINUSE || !stale_socket(&a))
				goto fail;
			/* A socket file left by a vmm that is gone: nobody listens there, so it is ours to reuse. */
			unlink(a.sun_path);
			if (bind(g->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
				goto fail;
		}
		snprintf(g->unix_path, sizeof(g->unix_path), "%s", a.sun_path);
		g->owner = (int)getpid();
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET };
		const char *colon = strrchr(where, ':');
		char host[64] = "127.0.0.1", *end;
		long port = strtol(colon ? colon + 1 : where, &end, 10);

		if (*end || port <= 0 || port > 65535 || (colon && (size_t)(colon - where) >= sizeof(host))) {
			snprintf(err, errlen, "--gdb '%s': give [HOST:]PORT or unix:PATH", where);
			return -EINVAL;
		}
		if (colon) {
			memcpy(host, where, (size_t)(colon - where));
			host[colon - where] = 0;
		}
		if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
			snprintf(err, errlen, "--gdb '%s': '%s' is not an IPv4 address", where, host);
			return -EINVAL;
		}
		a.sin_port = htons((uint16_t)port);
		g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->listen_fd < 0)
			goto fail;
		setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(g->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			goto fail;
	}
	if (listen(g->listen_fd, 1) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "--gdb '%s': %s", where, strerror(errno));
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	g->listen_fd = -1;
	return -errno;
}

/* Wait up to ms (-1: for ever) for fd to be readable, letting SIGINT and SIGTERM through. */
static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t open_mask;
	int r;

	sigemptyset(&open_mask);
	do {
		r = ppoll(&pfd, 1, ms < 0 ? NULL : &ts, &open_mask);
		if (r < 0 && errno == EINTR && vm_stop_signal())
			return -EINTR;
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int gdbstub_accept(struct gdbstub *g, char *err, size_t errlen)
{
	int one = 1, r;

	for (;;) {
		if ((r = wait_readable(g->listen_fd, -1)) < 0) {
			snprintf(err, errlen, r == -EINTR ? "gdb: stopped while waiting for a client"
				 : "gdb: waiting for a client: %s", strerror(-r));
			return r;
		}
		do
			g->fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		while (g->fd < 0 && errno == EINTR);
		if (g->fd < 0) {
			if (errno == EAGAIN || errno == ECONNABORTED)
				continue;
			snprintf(err, errlen, "gdb: accept: %s", strerror(errno));
			return -errno;
		}
		setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* gdb speaks at once; a port scan or a stray connect does not, and must not hold the stub. */
		if ((r = wait_readable(g->fd, GDB_HELLO_S * 1000)) > 0) {
			uint8_t first;

			if (recv(g->fd, &first, 1, MSG_PEEK) == 1)
				return 0;
		}
		close(g->fd);
		g->fd = -1;
		if (r == -EINTR) {
			snprintf(err, errlen, "gdb: stopped while waiting for a client");
			return r;
		}
		fprintf(stderr, "vmm: gdb: a connection %s; closed it, waiting for gdb\n",
			r > 0 ? "closed without a word" : "sent nothing in " GDB_HELLO_TEXT " s");
	}
}

void gdbstub_close(struct gdbstub *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	/* The socket file goes with the listener that made it (not with a snapshot's copy). */
	if (g->listen_fd >= 0 && g->unix_path[0] && g->owner == getpid())
		unlink(g->unix_path);
	g->fd = g->listen_fd = -1;
	g->kicks = false;
}
