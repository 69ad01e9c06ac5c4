/*
 * virtio-net: frames the guest transmits go to the backend at the notify (a
 * function of guest memory, so replay only drops them); a received frame
 * fills the oldest receive buffer at a position and is journaled as a
 * completion, header included.
 */
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/le.h"

unsigned virtio_net_hdr_len(const struct virtio_net *net)
{
	return net->vd.driver_features & (1ull << VIRTIO_F_VERSION_1) ? VIRTIO_NET_HDR_V1 : VIRTIO_NET_HDR_LEGACY;
}

static void net_transmit(struct virtio_net *net)
{
	struct virtio_dev *vd = &net->vd;
	unsigned hdr = virtio_net_hdr_len(net);
	uint8_t buf[VIRTIO_NET_HDR_V1 + VIRTIO_NET_FRAME_MAX];
	struct virtq_chain *c;
	bool any = false;
	uint16_t head;

	while ((c = virtio_take(vd, VIRTIO_NET_TX, net->tx_inflight, VIRTIO_NET_QUEUE_SIZE))) {
		/* No offloads were offered, so the header carries nothing to act on: skip it. */
		if (c->out_bytes < hdr || c->out_bytes > hdr + VIRTIO_NET_FRAME_MAX) {
			net->tx_bad++;
		} else {
			size_t n = virtq_chain_read(vd->mem, c, 0, buf, c->out_bytes);

			net->tx_frames++;
			if (n == c->out_bytes && net->tx)
				net->tx(net->tx_ctx, buf + hdr, n - hdr);
		}
		head = c->head;
		free(virtio_untake(net->tx_inflight, VIRTIO_NET_QUEUE_SIZE, head));
		virtq_push(&vd->vq[VIRTIO_NET_TX], vd->mem, head, 0);
		any = true;
	}
	if (any)
		virtio_queue_done(vd, VIRTIO_NET_TX);
}

static void net_notify(struct virtio_dev *vd, unsigned q)
{
	struct virtio_net *net = vd->opaque;

	if (q == VIRTIO_NET_TX) {
		net_transmit(net);
		return;
	}
	net->rx.min_bytes = virtio_net_hdr_len(net);
	virtio_rxq_take(vd, &net->rx);
}

bool virtio_net_rx_room(const struct virtio_net *net, uint16_t *head, uint32_t *room)
{
	return virtio_rxq_room(&net->vd, &net->rx, head, room);
}

uint32_t virtio_net_rx_packet(const struct virtio_net *net, const uint8_t *frame, size_t len, uint8_t *buf,
			      size_t cap)
{
	unsigned hdr = virtio_net_hdr_len(net);

	if (len > VIRTIO_NET_FRAME_MAX || hdr + len > cap)
		return 0;
	memset(buf, 0, hdr);
	if (hdr == VIRTIO_NET_HDR_V1)
		put_le16(buf + 10, 1);	/* num_buffers: the frame is in this one buffer */
	memcpy(buf + hdr, frame, len);
	return (uint32_t)(hdr + len);
}

/* A received frame (header first) for the oldest receive buffer, which must be the one named. */
static int net_complete(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtio_net *net = vd->opaque;

	return q == VIRTIO_NET_RX ? virtio_rxq_fill(vd, &net->rx, head, data, len) : -EINVAL;
}

static void net_reset(struct virtio_dev *vd)
{
	struct virtio_net *net = vd->opaque;

	virtio_rxq_reset(&net->rx);
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.type = VIRTIO_ID_NET,
	.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS,
	.num_queues = 2,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.chain_max = VIRTIO_NET_CHAIN_MAX,
	.notify = net_notify,
	.reset = net_reset,
	.complete = net_complete,
};

void virtio_net_init(struct virtio_net *net, const struct guest_mem *mem, const uint8_t mac[6],
		     void (*tx)(void *ctx, const uint8_t *frame, size_t len), void *tx_ctx,
		     void (*set_irq)(void *ctx, int level), void *irq_ctx)
{
	memset(net, 0, sizeof(*net));
	net->tx = tx;
	net->tx_ctx = tx_ctx;
	memcpy(net->mac, mac, 6);
	net->rx = (struct virtio_rxq){ .q = VIRTIO_NET_RX, .inflight = net->inflight, .fifo = net->rx_fifo,
				       .n = VIRTIO_NET_QUEUE_SIZE, .min_bytes = VIRTIO_NET_HDR_LEGACY };
	virtio_init(&net->vd, &net_ops, net, mem, set_irq, irq_ctx);
	/* Config space: mac[6], status (le16). The link is always up: the backend has no carrier to lose. */
	memcpy(net->vd.config, mac, 6);
	put_le16(net->vd.config + 6, VIRTIO_NET_S_LINK_UP);
	net->vd.config_len = 8;
}

void virtio_net_free(struct virtio_net *net)
{
	net_reset(&net->vd);
}
