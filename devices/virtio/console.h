/* virtio-console (virtio 1.x section 5.3), one port, no multiport: hvc0 in Linux. */
#ifndef VMM_VIRTIO_CONSOLE_H
#define VMM_VIRTIO_CONSOLE_H

#include "virtio.h"

#define VIRTIO_CONSOLE_QUEUE_SIZE	64
#define VIRTIO_CONSOLE_CHAIN_MAX	(64u << 10)	/* bytes in one buffer (Linux's hvc sends a page at most) */
#define VIRTIO_CONSOLE_RX		0	/* receiveq: input for the guest */
#define VIRTIO_CONSOLE_TX		1	/* transmitq: output from the guest */

struct virtio_console {
	struct virtio_dev vd;
	void (*out)(void *ctx, const uint8_t *bytes, size_t n);	/* where hvc0's output goes */
	void *out_ctx;
	struct virtq_chain *inflight[VIRTIO_CONSOLE_QUEUE_SIZE];	/* receive buffers, by head */
	struct virtq_chain *tx_inflight[VIRTIO_CONSOLE_QUEUE_SIZE];	/* empty between notifies */
	uint16_t rx_fifo[VIRTIO_CONSOLE_QUEUE_SIZE];	/* their heads, in the order the driver gave them */
	struct virtio_rxq rx;
};

void virtio_console_init(struct virtio_console *con, const struct guest_mem *mem,
			 void (*out)(void *ctx, const uint8_t *bytes, size_t n), void *out_ctx,
			 void (*set_irq)(void *ctx, int level), void *irq_ctx);
void virtio_console_free(struct virtio_console *con);
/* The receive buffer input would go into next: its head and size, or false if the driver gave none. */
bool virtio_console_rx_room(const struct virtio_console *con, uint16_t *head, uint32_t *room);

#endif
