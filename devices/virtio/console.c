/*
 * virtio-console: output is written out at the notify (a function of guest
 * memory alone, so replay does the same without the journal); input fills
 * the oldest receive buffer at a position and is journaled as a completion.
 */
#include "console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void con_transmit(struct virtio_console *con)
{
	struct virtio_dev *vd = &con->vd;
	struct virtq_chain *c;
	uint8_t buf[512];
	bool any = false;

	while ((c = virtio_take(vd, VIRTIO_CONSOLE_TX, con->tx_inflight, VIRTIO_CONSOLE_QUEUE_SIZE))) {
		for (size_t off = 0, n; off < c->out_bytes; off += n) {
			n = virtq_chain_read(vd->mem, c, off, buf, sizeof(buf));
			if (!n)
				break;
			con->out(con->out_ctx, buf, n);
		}
		virtio_untake(con->tx_inflight, VIRTIO_CONSOLE_QUEUE_SIZE, c->head);
		virtq_push(&vd->vq[VIRTIO_CONSOLE_TX], vd->mem, c->head, 0);
		free(c);
		any = true;
	}
	if (any)
		virtio_queue_done(vd, VIRTIO_CONSOLE_TX);
}

static void con_notify(struct virtio_dev *vd, unsigned q)
{
	struct virtio_console *con = vd->opaque;

	if (q == VIRTIO_CONSOLE_TX)
		con_transmit(con);
	else
		virtio_rxq_take(vd, &con->rx);
}

bool virtio_console_rx_room(const struct virtio_console *con, uint16_t *head, uint32_t *room)
{
	if (!virtio_rxq_room(&con->vd, &con->rx, head, room))
		return false;
	if (*room > 4096)
		*room = 4096;
	return true;
}

/* Input for the guest, into the oldest receive buffer, which must be the one named. */
static int con_complete(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtio_console *con = vd->opaque;

	return q == VIRTIO_CONSOLE_RX ? virtio_rxq_fill(vd, &con->rx, head, data, len) : -EINVAL;
}

static void con_reset(struct virtio_dev *vd)
{
	struct virtio_console *con = vd->opaque;

	virtio_rxq_reset(&con->rx);
}

static const struct virtio_dev_ops console_ops = {
	.name = "console",
	.type = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
	.chain_max = VIRTIO_CONSOLE_CHAIN_MAX,
	/* Linux's hvc output waits, spinning, for each buffer to come back. */
	.notify_at_exit = 1u << VIRTIO_CONSOLE_TX,
	.notify = con_notify,
	.reset = con_reset,
	.complete = con_complete,
};

void virtio_console_init(struct virtio_console *con, const struct guest_mem *mem,
			 void (*out)(void *ctx, const uint8_t *bytes, size_t n), void *out_ctx,
			 void (*set_irq)(void *ctx, int level), void *irq_ctx)
{
	memset(con, 0, sizeof(*con));
	con->out = out;
	con->out_ctx = out_ctx;
	con->rx = (struct virtio_rxq){ .q = VIRTIO_CONSOLE_RX, .inflight = con->inflight, .fifo = con->rx_fifo,
				       .n = VIRTIO_CONSOLE_QUEUE_SIZE, .min_bytes = 1 };
	virtio_init(&con->vd, &console_ops, con, mem, set_irq, irq_ctx);
	con->vd.config_len = 0;		/* no SIZE, no MULTIPORT: nothing to configure */
}

void virtio_console_free(struct virtio_console *con)
{
	con_reset(&con->vd);
}
