/* virtio-net (virtio 1.x section 5.1): one receive and one transmit queue, MAC and link status, no offloads. */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include "virtio.h"

#define VIRTIO_NET_QUEUE_SIZE	256
#define VIRTIO_NET_RX		0	/* receiveq1: frames for the guest */
#define VIRTIO_NET_TX		1	/* transmitq1: frames from the guest */

#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_STATUS	16
#define VIRTIO_NET_S_LINK_UP	1

/*
 * The header before every frame: 10 bytes for a legacy driver, 12 with
 * VIRTIO_F_VERSION_1 (num_buffers is always there then).
 */
#define VIRTIO_NET_HDR_LEGACY	10
#define VIRTIO_NET_HDR_V1	12
/* Without GSO or MRG_RXBUF a frame fits a 1500-byte MTU: Ethernet header, VLAN tag, payload. */
#define VIRTIO_NET_FRAME_MAX	1518
/* A chain's bytes: no offload is offered, so a frame and its header fit well within this. */
#define VIRTIO_NET_CHAIN_MAX	(64u << 10)

struct virtio_net {
	struct virtio_dev vd;
	/* Where the guest's frames go: a backend in run and record, NULL in replay. */
	void (*tx)(void *ctx, const uint8_t *frame, size_t len);
	void *tx_ctx;
	struct virtq_chain *inflight[VIRTIO_NET_QUEUE_SIZE];	/* receive buffers, by head */
	struct virtq_chain *tx_inflight[VIRTIO_NET_QUEUE_SIZE];	/* empty between notifies */
	uint16_t rx_fifo[VIRTIO_NET_QUEUE_SIZE];	/* their heads, in the order the driver gave them */
	struct virtio_rxq rx;
	uint8_t mac[6];
	uint64_t tx_frames, tx_bad;			/* bad: shorter than the header, or too long */
	uint64_t rx_frames, rx_dropped;			/* dropped: did not fit the receive buffer */
};

void virtio_net_init(struct virtio_net *net, const struct guest_mem *mem, const uint8_t mac[6],
		     void (*tx)(void *ctx, const uint8_t *frame, size_t len), void *tx_ctx,
		     void (*set_irq)(void *ctx, int level), void *irq_ctx);
void virtio_net_free(struct virtio_net *net);
/* The header length the driver negotiated. */
unsigned virtio_net_hdr_len(const struct virtio_net *net);
/* The receive buffer the next frame would go into (its head and size), or false if there is none. */
bool virtio_net_rx_room(const struct virtio_net *net, uint16_t *head, uint32_t *room);
/*
 * Build what the device writes for one received frame (header, then the
 * frame) into buf of cap bytes: its length, or 0 if it does not fit.
 */
uint32_t virtio_net_rx_packet(const struct virtio_net *net, const uint8_t *frame, size_t len, uint8_t *buf,
			      size_t cap);

#endif
