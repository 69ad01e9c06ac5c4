/*
 * virtio-net backends. A reader thread moves frames from the host into a
 * ring and wakes the vCPU thread, which alone hands them to the guest (at a
 * position, journaled). Sends come from the vCPU thread and never block: a
 * frame the host cannot take now is dropped, as a busy wire would.
 */
#include "netdev.h"
#include "thread.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct netdev {
	int fd;
	bool udp;
	int stop_pipe[2];
	pthread_t thread;
	bool started;
	void (*wake)(void *ctx);
	void *wake_ctx;
	pthread_mutex_t peer_lock;	/* the reader learns the peer, the vCPU thread sends to it */
	struct sockaddr_storage peer;
	socklen_t peer_len;		/* 0: no peer known yet */
	bool peer_fixed;		/* peer= given: datagrams from anyone else are refused */
	unsigned head, tail;		/* ring indices: the vCPU thread owns head, the reader tail */
	uint16_t len[NETDEV_RING];
	uint8_t frame[NETDEV_RING][NETDEV_FRAME];
	uint64_t rx, rx_dropped, rx_foreign, tx, tx_dropped;
};

/* "[HOST:]PORT" into an address; HOST defaults to 127.0.0.1. */
static int resolve(const char *text, struct sockaddr_storage *sa, socklen_t *len, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(text, ':'), *port = colon ? colon + 1 : text;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *ai;
	char *end;
	long p;
	int r;

	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *end || end == port || p < 0 || p > 65535) {
		snprintf(err, errlen, "'%s': want [HOST:]PORT", text);
		return -EINVAL;
	}
	if (colon) {
		size_t n = (size_t)(colon - text);

		if (n >= sizeof(host) || !n) {
			snprintf(err, errlen, "'%s': bad host", text);
			return -EINVAL;
		}
		memcpy(host, text, n);
		host[n] = 0;
		/* [::1]:PORT */
		if (host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = 0;
		}
	} else {
		strcpy(host, "127.0.0.1");
	}
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "'%s': %s", text, gai_strerror(r));
		return -EINVAL;
	}
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int open_udp(struct netdev *nd, const char *arg, char *err, size_t errlen)
{
	char local[300], *peer;
	struct sockaddr_storage sa;
	socklen_t sl;
	int r;

	if (strlen(arg) >= sizeof(local)) {
		snprintf(err, errlen, "too long");
		return -EINVAL;
	}
	strcpy(local, arg);
	if ((peer = strchr(local, ','))) {
		*peer++ = 0;
		if (strncmp(peer, "peer=", 5) != 0) {
			snprintf(err, errlen, "unknown option '%s' (want peer=HOST:PORT)", peer);
			return -EINVAL;
		}
		if ((r = resolve(peer + 5, &nd->peer, &nd->peer_len, err, errlen)) < 0)
			return r;
		nd->peer_fixed = true;
	}
	if ((r = resolve(local, &sa, &sl, err, errlen)) < 0)
		return r;
	nd->udp = true;
	nd->fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nd->fd < 0 || bind(nd->fd, (struct sockaddr *)&sa, sl) < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", local, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Is from the same address and port as peer? */
static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static int open_tap(struct netdev *nd, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;

	if (!*name || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "give an interface name of 1 to %d characters", IFNAMSIZ - 1);
		return -EINVAL;
	}
	nd->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (nd->fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;	/* raw frames: no offloads were offered to the guest */
	strcpy(ifr.ifr_name, name);
	if (ioctl(nd->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		snprintf(err, errlen, "TUNSETIFF: %s%s", strerror(e),
			 e == EPERM ? " (needs CAP_NET_ADMIN, or a device made for you: "
				      "ip tuntap add NAME mode tap user $USER)" : "");
		return -e;
	}
	return 0;
}

int netdev_open(struct netdev **out, const char *spec, char *err, size_t errlen)
{
	struct netdev *nd = calloc(1, sizeof(*nd));
	int r;

	if (!nd) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nd->fd = nd->stop_pipe[0] = nd->stop_pipe[1] = -1;
	pthread_mutex_init(&nd->peer_lock, NULL);
	if (!strncmp(spec, "udp:", 4)) {
		r = open_udp(nd, spec + 4, err, errlen);
	} else if (!strncmp(spec, "tap:", 4)) {
		r = open_tap(nd, spec + 4, err, errlen);
	} else {
		snprintf(err, errlen, "'%s': want tap:NAME or udp:[HOST:]PORT[,peer=HOST:PORT]", spec);
		r = -EINVAL;
	}
	if (r == 0 && pipe2(nd->stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		r = -errno;
	}
	if (r < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "net backend '%s': %s", spec, why);
		netdev_close(nd);
		return r;
	}
	*out = nd;
	return 0;
}

static void *netdev_reader(void *arg)
{
	struct netdev *nd = arg;
	uint8_t scratch[65536];

	for (;;) {
		struct pollfd p[2] = { { nd->fd, POLLIN, 0 }, { nd->stop_pipe[0], POLLIN, 0 } };
		unsigned tail = nd->tail;
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		n = nd->udp ? recvfrom(nd->fd, scratch, sizeof(scratch), 0, (struct sockaddr *)&from, &fl)
			    : read(nd->fd, scratch, sizeof(scratch));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		/*
		 * With peer= the other end is fixed: anyone else on this host could
		 * otherwise inject frames and take the guest's next ones. Without
		 * it, the last sender is the peer, as the README says.
		 */
		if (nd->udp && nd->peer_fixed && !same_endpoint(&from, &nd->peer)) {
			__atomic_add_fetch(&nd->rx_foreign, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (nd->udp && !nd->peer_fixed && fl <= sizeof(from)) {
			pthread_mutex_lock(&nd->peer_lock);
			memcpy(&nd->peer, &from, fl);
			nd->peer_len = fl;
			pthread_mutex_unlock(&nd->peer_lock);
		}
		/*
		 * Shorter than an Ethernet header, or longer than the guest's buffers:
		 * not a frame for it. A full ring (looked at now: the guest may have
		 * taken frames while this thread waited) drops it, as a busy wire would.
		 */
		if (tail - __atomic_load_n(&nd->head, __ATOMIC_ACQUIRE) >= NETDEV_RING || n < 14 || n > NETDEV_FRAME) {
			__atomic_add_fetch(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
			continue;
		}
		memcpy(nd->frame[tail % NETDEV_RING], scratch, (size_t)n);
		nd->len[tail % NETDEV_RING] = (uint16_t)n;
		__atomic_store_n(&nd->tail, tail + 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&nd->rx, 1, __ATOMIC_RELAXED);
		if (nd->wake)
			nd->wake(nd->wake_ctx);
	}
	return NULL;
}

int netdev_start(struct netdev *nd, void (*wake)(void *ctx), void *ctx)
{
	int r;

	nd->wake = wake;
	nd->wake_ctx = ctx;
	if ((r = thread_start_quiet(&nd->thread, netdev_reader, nd)) < 0)
		return r;
	nd->started = true;
	return 0;
}

void netdev_close(struct netdev *nd)
{
	if (!nd)
		return;
	if (nd->started) {
		ssize_t n = write(nd->stop_pipe[1], "x", 1);

		(void)n;
		pthread_join(nd->thread, NULL);
	}
	if (nd->fd >= 0)
		close(nd->fd);
	if (nd->stop_pipe[0] >= 0)
		close(nd->stop_pipe[0]);
	if (nd->stop_pipe[1] >= 0)
		close(nd->stop_pipe[1]);
	pthread_mutex_destroy(&nd->peer_lock);
	free(nd);
}

void netdev_send(struct netdev *nd, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (nd->udp) {
		struct sockaddr_storage to;
		socklen_t tl;

		pthread_mutex_lock(&nd->peer_lock);
		to = nd->peer;
		tl = nd->peer_len;
		pthread_mutex_unlock(&nd->peer_lock);
		n = tl ? sendto(nd->fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&to, tl) : -1;
	} else {
		n = write(nd->fd, frame, len);	/* a TAP device takes a frame whole or refuses it */
	}
	if (n == (ssize_t)len)
		nd->tx++;
	else
		nd->tx_dropped++;
}

size_t netdev_peek(struct netdev *nd, const uint8_t **frame)
{
	unsigned head = nd->head;

	if (head == __atomic_load_n(&nd->tail, __ATOMIC_ACQUIRE))
		return 0;
	*frame = nd->frame[head % NETDEV_RING];
	return nd->len[head % NETDEV_RING];
}

void netdev_pop(struct netdev *nd)
{
	__atomic_store_n(&nd->head, nd->head + 1, __ATOMIC_RELEASE);
}

void netdev_stats(const struct netdev *nd, struct netdev_stats *st)
{
	st->rx = __atomic_load_n(&nd->rx, __ATOMIC_RELAXED);
	st->rx_dropped = __atomic_load_n(&nd->rx_dropped, __ATOMIC_RELAXED);
	st->rx_foreign = __atomic_load_n(&nd->rx_foreign, __ATOMIC_RELAXED);
	st->tx = nd->tx;
	st->tx_dropped = nd->tx_dropped;
}
