/* cmocka tests of the UDP network backend: a fixed peer is the only sender taken, the last sender otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netdev.h"

/* A UDP socket on 127.0.0.1 at a port the kernel picks; *port says which. */
static int udp_socket(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void send_frame(int fd, unsigned port, uint8_t tag)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t frame[60] = { 0 };

	frame[14] = tag;
	assert_int_equal(sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)), sizeof(frame));
}

/* The next received frame's tag, waiting up to a second; -1 if none came. */
static int next_tag(struct netdev *nd)
{
	const uint8_t *f;

	for (int i = 0; i < 1000; i++) {
		if (netdev_peek(nd, &f)) {
			int tag = f[14];

			netdev_pop(nd);
			return tag;
		}
		usleep(1000);
	}
	return -1;
}

static unsigned local_port(void)
{
	/* The backend's own port: found by asking a probe socket for a free one, then giving it to vmm. */
	unsigned port;
	int fd = udp_socket(&port);

	close(fd);
	return port;
}

static void test_fixed_peer_refuses_strangers(void **state)
{
	unsigned peer_port, stranger_port, port = local_port();
	int peer = udp_socket(&peer_port), stranger = udp_socket(&stranger_port);
	struct netdev *nd;
	struct netdev_stats st;
	char spec[80], err[200];
	uint8_t got[100];
	const uint8_t out[60] = { 0 };

	(void)state;
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u,peer=127.0.0.1:%u", port, peer_port);
	assert_int_equal(netdev_open(&nd, spec, err, sizeof(err)), 0);
	assert_int_equal(netdev_start(nd, NULL, NULL), 0);
	send_frame(stranger, port, 1);
	send_frame(peer, port, 2);
	assert_int_equal(next_tag(nd), 2);
	/* The guest's next frame still goes to the peer, not to the stranger who wrote last but one. */
	send_frame(stranger, port, 3);
	usleep(50000);
	netdev_send(nd, out, sizeof(out));
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), sizeof(out));
	assert_true(recv(stranger, got, sizeof(got), MSG_DONTWAIT) < 0);
	netdev_stats(nd, &st);
	assert_int_equal(st.rx_foreign, 2);
	assert_int_equal(st.rx, 1);
	netdev_close(nd);
	close(peer);
	close(stranger);
}

static void test_no_peer_follows_last_sender(void **state)
{
	unsigned a_port, b_port, port = local_port();
	int a = udp_socket(&a_port), b = udp_socket(&b_port);
	struct netdev *nd;
	char spec[80], err[200];
	uint8_t got[100];
	const uint8_t out[60] = { 0 };

	(void)state;
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	assert_int_equal(netdev_open(&nd, spec, err, sizeof(err)), 0);
	assert_int_equal(netdev_start(nd, NULL, NULL), 0);
	send_frame(a, port, 1);
	assert_int_equal(next_tag(nd), 1);
	send_frame(b, port, 2);
	assert_int_equal(next_tag(nd), 2);
	netdev_send(nd, out, sizeof(out));
	assert_int_equal(recv(b, got, sizeof(got), MSG_DONTWAIT), sizeof(out));
	netdev_close(nd);
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_peer_refuses_strangers),
		cmocka_unit_test(test_no_peer_follows_last_sender),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
