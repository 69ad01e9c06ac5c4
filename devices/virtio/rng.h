/* virtio-rng (virtio 1.x section 5.4): one queue the driver fills with buffers, the device with entropy. */
#ifndef VMM_VIRTIO_RNG_H
#define VMM_VIRTIO_RNG_H

#include "virtio.h"

#define VIRTIO_RNG_QUEUE_SIZE	64
#define VIRTIO_RNG_CHAIN_MAX	(64u << 10)	/* bytes one entropy request may ask for */
#define VIRTIO_RNG_CHUNK	4096	/* bytes given per buffer at most */

struct virtio_rng {
	struct virtio_dev vd;
	const struct virtio_backend *backend;
	struct virtq_chain *inflight[VIRTIO_RNG_QUEUE_SIZE];	/* by head */
};

void virtio_rng_init(struct virtio_rng *rng, const struct guest_mem *mem, const struct virtio_backend *backend,
		     void (*set_irq)(void *ctx, int level), void *irq_ctx);
void virtio_rng_free(struct virtio_rng *rng);

#endif
