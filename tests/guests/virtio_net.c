/* vmm-test: args="" net-peer=echo output="pong from the echo peer" */
/*
 * virtio-net as a driver of our own uses it, against tools/netpeer echo on
 * the far side of --net udp: MAC and link status in config space, a frame
 * out through a two-descriptor chain (header, then frame), the peer's answer
 * in a receive buffer with its header, then hostile requests: a transmit
 * shorter than the header is dropped, a read-only receive buffer is refused.
 * With "arp" on the command line the frame is an ARP request for 10.0.3.1
 * (tests/net-tap.sh: the host's kernel answers through a TAP device).
 */
#include "virtio.h"

#define HDR_LEN		12	/* VERSION_1: the header always has num_buffers */
#define ETH_HLEN	14

static struct vdev dev;
static struct vring rx, tx;
static uint8_t hdr[HDR_LEN], frame[64], rxbuf[HDR_LEN + 1518];

static const uint8_t arp_request[28] = {
	0, 1, 8, 0, 6, 4, 0, 1,				/* Ethernet, IPv4, request */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 3, 2,	/* sender: us, 10.0.3.2 */
	0, 0, 0, 0, 0, 0, 10, 0, 3, 1,			/* target: who has 10.0.3.1? */
};

static bool same(const void *a, const void *b, unsigned n)
{
	const uint8_t *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}

int main(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const char payload[] = "ping from the guest";
	volatile uint8_t *c;
	uint8_t got[6];
	bool arp = cmdline_has("arp");
	bool found = vdev_find(&dev, 0x1000);

	if (!report(found, "virtio-net found at 00:%02x.0 (irq %u)", dev.slot, dev.irq))
		report_summary();
	c = dev.common;
	report(pci_cfg32(dev.slot, 0x2c) == 0x00011af4, "subsystem: virtio type 1 (network)");
	report(*(volatile uint32_t *)(c + 0x04) & (1u << 5 | 1u << 16), "offers MAC and STATUS");
	for (int i = 0; i < 6; i++)
		got[i] = dev.device[i];
	report(same(got, mac, 6), "config MAC %02x:%02x:%02x:%02x:%02x:%02x", got[0], got[1], got[2], got[3], got[4],
	       got[5]);
	report((dev.device[6] | dev.device[7] << 8) == 1, "config status: link up");
	report(vdev_setup(&dev, &rx, 1u << 5 | 1u << 16), "receive queue set up, MAC and STATUS taken");

	*(volatile uint16_t *)(c + 0x16) = 1;
	*(volatile uint16_t *)(c + 0x18) = VQ_SIZE;
	*(volatile uint32_t *)(c + 0x20) = (uint32_t)(uintptr_t)tx.d;
	*(volatile uint32_t *)(c + 0x28) = (uint32_t)(uintptr_t)&tx.avail_flags;
	*(volatile uint32_t *)(c + 0x30) = (uint32_t)(uintptr_t)&tx.used_flags;
	*(volatile uint16_t *)(c + 0x1c) = 1;

	vring_post(&rx, 0, (uintptr_t)rxbuf, sizeof(rxbuf), VQ_F_WRITE, 0);
	vring_publish(&rx, 0);
	vdev_kick(&dev);

	memset(frame, 0xff, 6);				/* broadcast */
	memcpy(frame + 6, mac, 6);
	if (arp) {
		frame[12] = 0x08, frame[13] = 0x06;
		memcpy(frame + ETH_HLEN, arp_request, sizeof(arp_request));
	} else {
		frame[12] = 0x88, frame[13] = 0xb5;	/* local experimental ethertype */
		memcpy(frame + ETH_HLEN, payload, sizeof(payload));
	}
	vring_post(&tx, 0, (uintptr_t)hdr, HDR_LEN, VQ_F_NEXT, 1);
	vring_post(&tx, 1, (uintptr_t)frame, sizeof(frame), 0, 0);
	vring_publish(&tx, 0);
	*(volatile uint16_t *)(dev.notify + 4) = 1;
	report(vring_wait(&dev, &tx, 1), "the frame went out (transmit used idx %u)", tx.used_idx);

	/* A host may send other frames first (IPv6 neighbour discovery on a TAP): take up to 16. */
	for (uint16_t n = 1; n <= 16; n++) {
		const uint8_t *f = rxbuf + HDR_LEN;

		if (n > 1) {
			vring_publish(&rx, 0);
			vdev_kick(&dev);
		}
		if (!report(vring_wait(&dev, &rx, n), "frame %u came in (receive used idx %u)", n, rx.used_idx))
			break;
		if (arp ? f[12] != 0x08 || f[13] != 0x06 || f[ETH_HLEN + 7] != 2 : f[12] != 0x88 || f[13] != 0xb5)
			continue;
		report(rx.used_ring[(n - 1) % VQ_SIZE].id == 0, "in the buffer we gave");
		report((rxbuf[10] | rxbuf[11] << 8) == 1, "header: num_buffers 1");
		report(same(f, mac, 6), "addressed to our MAC");
		if (arp) {
			report(same(f + ETH_HLEN + 14, "\12\0\3\1", 4), "an ARP reply from 10.0.3.1");
			report(same(f + ETH_HLEN + 8, f + 6, 6), "its sender MAC is the frame's source");
			printf("arp reply from 10.0.3.1 at %02x:%02x:%02x:%02x:%02x:%02x\n", f[6], f[7], f[8], f[9],
			       f[10], f[11]);
		} else {
			report(rx.used_ring[(n - 1) % VQ_SIZE].len == HDR_LEN + sizeof(frame),
			       "used length %u: header plus the 64-byte frame", rx.used_ring[(n - 1) % VQ_SIZE].len);
			if (report(same(f + ETH_HLEN, "pong", 4), "the peer answered pong"))
				printf("pong from the echo peer\n");
		}
		break;
	}

	/* A transmit shorter than the header carries no frame: dropped, but still used. */
	vring_post(&tx, 2, (uintptr_t)hdr, 4, 0, 0);
	vring_publish(&tx, 2);
	*(volatile uint16_t *)(dev.notify + 4) = 1;
	report(vring_wait(&dev, &tx, 2), "a runt transmit is returned");
	report(!(vdev_status(&dev) & VIRTIO_ST_NEEDS_RESET), "and the device still runs");

	/* A receive buffer the device cannot write breaks the rules. */
	vring_post(&rx, 1, (uintptr_t)rxbuf, sizeof(rxbuf), 0, 0);
	vring_publish(&rx, 1);
	vdev_kick(&dev);
	report(vdev_status(&dev) & VIRTIO_ST_NEEDS_RESET, "a read-only receive buffer: NEEDS_RESET");
	report_summary();
}
