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
	struct virtq_chain *c;

	if (q == VIRTIO_CONSOLE_TX) {
		con_transmit(con);
		return;
	}
	while ((c = virtio_take(vd, q, con->inflight, VIRTIO_CONSOLE_QUEUE_SIZE))) {
		if (!c->in_bytes || con->rx_count == VIRTIO_CONSOLE_QUEUE_SIZE) {
			free(virtio_untake(con->inflight, VIRTIO_CONSOLE_QUEUE_SIZE, c->head));
			virtio_needs_reset(vd, "receive buffer without room for a byte");
			return;
		}
		con->rx_fifo[(con->rx_first + con->rx_count++) % VIRTIO_CONSOLE_QUEUE_SIZE] = c->head;
	}
}

bool virtio_console_rx_room(const struct virtio_console *con, uint16_t *head, uint32_t *room)
{
	const struct virtq_chain *c;

	if (!con->rx_count || !virtio_running(&con->vd))
		return false;
	*head = con->rx_fifo[con->rx_first];
	c = con->inflight[*head];
	*room = c ? (uint32_t)(c->in_bytes < 4096 ? c->in_bytes : 4096) : 0;
	return c != NULL;
}

/* Input for the guest, into the oldest receive buffer, which must be the one named. */
static int con_complete(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtio_console *con = vd->opaque;
	struct virtq_chain *c;
	size_t put;

	if (q != VIRTIO_CONSOLE_RX || !con->rx_count || con->rx_fifo[con->rx_first] != head ||
	    !(c = virtio_untake(con->inflight, VIRTIO_CONSOLE_QUEUE_SIZE, head)))
		return -EINVAL;
	con->rx_first = (con->rx_first + 1) % VIRTIO_CONSOLE_QUEUE_SIZE;
	con->rx_count--;
	put = virtq_chain_write(vd->mem, c, 0, data, len);
	free(c);
	virtq_push(&vd->vq[VIRTIO_CONSOLE_RX], vd->mem, head, (uint32_t)put);
	virtio_queue_done(vd, VIRTIO_CONSOLE_RX);
	return 0;
}

static void con_reset(struct virtio_dev *vd)
{
	struct virtio_console *con = vd->opaque;

	virtio_drop_all(con->inflight, VIRTIO_CONSOLE_QUEUE_SIZE);
	con->rx_first = con->rx_count = 0;
}

static const struct virtio_dev_ops console_ops = {
	.name = "console",
	.type = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
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
	virtio_init(&con->vd, &console_ops, con, mem, set_irq, irq_ctx);
	con->vd.config_len = 0;		/* no SIZE, no MULTIPORT: nothing to configure */
}

void virtio_console_free(struct virtio_console *con)
{
	con_reset(&con->vd);
}
