/*
 * netpeer: the far end of `vmm --net udp:...` for tests: one Ethernet frame
 * per UDP datagram, answered as an echo service or as a one-lease DHCP server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_HLEN	14
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_TEST	0x88b5		/* IEEE "local experimental": the echo guest's frames */
#define BOOTP_LEN	236
#define DHCP_MAGIC	0x63825363u
#define DHCPDISCOVER	1
#define DHCPOFFER	2
#define DHCPREQUEST	3
#define DHCPACK		5

static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t server_ip[4] = { 10, 0, 2, 2 }, client_ip[4] = { 10, 0, 2, 15 };

static void usage(FILE *f)
{
	fprintf(f, "usage: netpeer echo|dhcp [--port-file PATH] [--lifetime SECONDS]\n\n"
		   "Bind a UDP port on 127.0.0.1 (written to PATH, or printed) and answer the\n"
		   "Ethernet frames vmm sends there (vmm --net udp:0,peer=127.0.0.1:PORT):\n"
		   "  echo  send each frame back to its sender, \"ping\" at the payload's start\n"
		   "        turned into \"pong\"\n"
		   "  dhcp  offer and acknowledge 10.0.2.15/24 (server and router 10.0.2.2)\n"
		   "Each frame is logged on stdout. Exits after SECONDS (default 300).\n");
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The DHCP option code in the options at opt (n bytes): its value, or NULL. */
static const uint8_t *dhcp_option(const uint8_t *opt, size_t n, uint8_t code, uint8_t *len)
{
	size_t i = 0;

	while (i < n && opt[i] != 255) {
		if (opt[i] == 0) {
			i++;
			continue;
		}
		if (i + 2 > n || i + 2 + opt[i + 1] > n)
			return NULL;
		if (opt[i] == code) {
			*len = opt[i + 1];
			return opt + i + 2;
		}
		i += 2 + opt[i + 1];
	}
	return NULL;
}

/* A DHCP reply to the request in frame (n bytes) in out: its length, or 0 if the frame is no request. */
static size_t dhcp_answer(const uint8_t *frame, size_t n, uint8_t *out)
{
	const uint8_t *ip = frame + ETH_HLEN, *udp, *bootp, *type;
	uint8_t *oip = out + ETH_HLEN, *oudp = oip + 20, *ob = oudp + 8, *o, tl;
	size_t ihl, blen;
	uint8_t reply;

	if (n < ETH_HLEN + 20 + 8 + BOOTP_LEN + 4 || be16(frame + 12) != ETHERTYPE_IPV4 || ip[9] != IPPROTO_UDP)
		return 0;
	ihl = (size_t)(ip[0] & 15) * 4;
	udp = ip + ihl;
	bootp = udp + 8;
	if (ihl < 20 || (size_t)(bootp - frame) + BOOTP_LEN + 4 > n || be16(udp + 2) != 67 || bootp[0] != 1 ||
	    (uint32_t)(bootp[236] << 24 | bootp[237] << 16 | bootp[238] << 8 | bootp[239]) != DHCP_MAGIC)
		return 0;
	blen = n - (size_t)(bootp - frame);
	type = dhcp_option(bootp + 240, blen - 240, 53, &tl);
	if (!type || tl != 1 || (type[0] != DHCPDISCOVER && type[0] != DHCPREQUEST))
		return 0;
	reply = type[0] == DHCPDISCOVER ? DHCPOFFER : DHCPACK;
	printf("dhcp: %s from %02x:%02x:%02x:%02x:%02x:%02x, answering %s\n",
	       type[0] == DHCPDISCOVER ? "DHCPDISCOVER" : "DHCPREQUEST", frame[6], frame[7], frame[8], frame[9],
	       frame[10], frame[11], reply == DHCPOFFER ? "DHCPOFFER" : "DHCPACK");

	memset(out, 0, ETH_HLEN + 20 + 8 + 300);
	memset(out, 0xff, 6);			/* broadcast: the client has no address yet */
	memcpy(out + 6, peer_mac, 6);
	put_be16(out + 12, ETHERTYPE_IPV4);
	ob[0] = 2;				/* BOOTREPLY */
	ob[1] = bootp[1];
	ob[2] = bootp[2];
	memcpy(ob + 4, bootp + 4, 4);		/* xid */
	memcpy(ob + 10, bootp + 10, 2);		/* flags */
	memcpy(ob + 16, client_ip, 4);		/* yiaddr */
	memcpy(ob + 20, server_ip, 4);		/* siaddr */
	memcpy(ob + 28, bootp + 28, 16);	/* chaddr */
	ob[236] = 0x63, ob[237] = 0x82, ob[238] = 0x53, ob[239] = 0x63;
	o = ob + 240;
	*o++ = 53, *o++ = 1, *o++ = reply;
	*o++ = 54, *o++ = 4, memcpy(o, server_ip, 4), o += 4;
	*o++ = 51, *o++ = 4, *o++ = 0, *o++ = 1, *o++ = 0x51, *o++ = 0x80;	/* a day's lease */
	*o++ = 1, *o++ = 4, *o++ = 255, *o++ = 255, *o++ = 255, *o++ = 0;
	*o++ = 3, *o++ = 4, memcpy(o, server_ip, 4), o += 4;
	*o++ = 255;
	blen = 300;				/* BOOTP's minimum message */

	oip[0] = 0x45;
	put_be16(oip + 2, (uint16_t)(20 + 8 + blen));
	oip[8] = 64;
	oip[9] = IPPROTO_UDP;
	memcpy(oip + 12, server_ip, 4);
	memset(oip + 16, 0xff, 4);
	put_be16(oip + 10, csum_fold(csum_add(0, oip, 20)));
	put_be16(oudp, 67);
	put_be16(oudp + 2, 68);
	put_be16(oudp + 4, (uint16_t)(8 + blen));
	{
		uint32_t sum = csum_add(0, oip + 12, 8) + IPPROTO_UDP + 8 + (uint32_t)blen;
		uint16_t c = csum_fold(csum_add(sum, oudp, 8 + blen));

		put_be16(oudp + 6, c ? c : 0xffff);
	}
	return ETH_HLEN + 20 + 8 + blen;
}

static size_t echo_answer(const uint8_t *frame, size_t n, uint8_t *out)
{
	if (n < ETH_HLEN)
		return 0;
	printf("echo: %zu bytes, type %04x, from %02x:%02x:%02x:%02x:%02x:%02x: %.*s\n", n, be16(frame + 12),
	       frame[6], frame[7], frame[8], frame[9], frame[10], frame[11],
	       (int)(n - ETH_HLEN > 40 ? 40 : n - ETH_HLEN), (const char *)frame + ETH_HLEN);
	memcpy(out, frame + 6, 6);
	memcpy(out + 6, peer_mac, 6);
	memcpy(out + 12, frame + 12, n - 12);
	if (n >= ETH_HLEN + 4 && !memcmp(out + ETH_HLEN, "ping", 4))
		memcpy(out + ETH_HLEN, "pong", 4);
	return n;
}

int main(int argc, char **argv)
{
	size_t (*answer)(const uint8_t *, size_t, uint8_t *) = NULL;
	const char *port_file = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	long lifetime = 300;
	time_t end;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "echo")) {
			answer = echo_answer;
		} else if (!strcmp(argv[i], "dhcp")) {
			answer = dhcp_answer;
		} else if (!strcmp(argv[i], "--port-file") && i + 1 < argc) {
			port_file = argv[++i];
		} else if (!strcmp(argv[i], "--lifetime") && i + 1 < argc) {
			lifetime = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!answer || lifetime <= 0) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		fprintf(stderr, "netpeer: %s\n", strerror(errno));
		return 1;
	}
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0) {
			fprintf(stderr, "netpeer: %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	} else {
		printf("port %u\n", ntohs(sa.sin_port));
	}
	end = time(NULL) + lifetime;
	while (time(NULL) < end) {
		static uint8_t in[65536], out[65536];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		size_t m;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if ((m = answer(in, (size_t)n, out)) && sendto(fd, out, m, 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(stderr, "netpeer: sendto: %s\n", strerror(errno));
	}
	return 0;
}
