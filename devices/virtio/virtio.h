/* A virtio device, transport-free: status, features, queues, ISR and config space (virtio 1.x section 2). */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_ISR_QUEUE		0x01
#define VIRTIO_ISR_CONFIG		0x02

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

#define VIRTIO_QUEUES_MAX		4

#define VIRTIO_CONFIG_MAX		256

struct virtio_dev;

/* What a device type supplies; the core calls these on the vCPU thread. */
struct worker_job;

/* Where a device sends work that runs off the vCPU thread (the board's worker; none in replay). */
struct virtio_backend {
	void (*submit)(void *ctx, struct worker_job *job);
	/* Drop the jobs of owner not yet started (its device was reset). */
	void (*cancel)(void *ctx, const void *owner);
	void *ctx;
};

struct virtio_dev_ops {
	const char *name;
	uint16_t type;			/* VIRTIO_ID_* */
	uint64_t features;		/* device-specific feature bits it offers */
	unsigned num_queues;
	uint16_t queue_max;		/* entries per queue it offers */
	uint64_t chain_max;		/* bytes one request's chain may carry (virtq_pop refuses more) */
	/*
	 * Queues whose notification must be taken at its own exit, never
	 * later from an ioeventfd: their driver spins until the device
	 * answers, so a deferred notification would cost a kick each.
	 */
	uint32_t notify_at_exit;
	/* The driver made buffers available on queue q. */
	void (*notify)(struct virtio_dev *vd, unsigned q);
	/* The driver reset the device: drop everything in flight. */
	void (*reset)(struct virtio_dev *vd);
	/*
	 * A backend finished the request for chain head of queue q: len bytes
	 * for its writable buffers (from the worker, or from the journal in
	 * replay). -EINVAL if no such request is in flight.
	 */
	int (*complete)(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len);
	/* The driver wrote device config [off, off+len) (already stored). Optional. */
	void (*config_written)(struct virtio_dev *vd, unsigned off, unsigned len);
};

/* The queue as the driver is setting it up, before and after it is enabled. */
struct virtio_queue_cfg {
	uint16_t size;
	bool enabled;
	uint64_t desc, avail, used;
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *opaque;				/* the device type's state */
	const struct guest_mem *mem;
	void (*set_irq)(void *ctx, int level);	/* the transport's interrupt line */
	void *irq_ctx;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	bool legacy;				/* the driver came through the legacy interface */
	uint64_t driver_features;
	struct virtio_queue_cfg qcfg[VIRTIO_QUEUES_MAX];
	struct virtq vq[VIRTIO_QUEUES_MAX];
	uint8_t config[VIRTIO_CONFIG_MAX];	/* device-specific configuration, little-endian */
	unsigned config_len;
	uint8_t config_wmask[VIRTIO_CONFIG_MAX];	/* bytes of it the driver may write */
	const char *broken;			/* why NEEDS_RESET was set, or NULL */
	uint32_t generation;			/* resets so far: a job from before the last one is stale */
};

void virtio_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *opaque,
		 const struct guest_mem *mem, void (*set_irq)(void *ctx, int level), void *irq_ctx);
/* Every feature bit offered: the device's own and the transport's ring features. */
uint64_t virtio_device_features(const struct virtio_dev *vd);
/* A write of the device status register; 0 resets the device. */
void virtio_set_status(struct virtio_dev *vd, uint8_t status);
/* A write of the driver's feature bits; ignored once FEATURES_OK is set. */
void virtio_set_driver_features(struct virtio_dev *vd, uint64_t features);
/* Turn on queue q with its qcfg; a layout outside RAM marks the device NEEDS_RESET. */
void virtio_queue_enable(struct virtio_dev *vd, unsigned q);
/* The driver's notification for queue q (ignored unless the driver is running). */
void virtio_queue_notify(struct virtio_dev *vd, unsigned q);
/* Raise ISR bits and the interrupt line. */
void virtio_interrupt(struct virtio_dev *vd, uint8_t isr_bits);
/* After pushes to queue q: interrupt if the driver wants one. */
void virtio_queue_done(struct virtio_dev *vd, unsigned q);
/* Read-to-clear ISR, which lowers the line. */
uint8_t virtio_isr_read(struct virtio_dev *vd);
/* The driver broke a rule: NEEDS_RESET, a config interrupt, and the device stops using its queues. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);
/* Hand job (for chain head of queue q) to the backend, stamped with this device and its generation. */
void virtio_submit(struct virtio_dev *vd, const struct virtio_backend *be, struct worker_job *job, unsigned q,
		   uint16_t head);
/*
 * A finished job's bytes into its chain. -ESTALE, and nothing written, if the
 * device was reset since the job was submitted: the driver may have posted
 * the same head again for another request, which must not get this one's
 * result. Otherwise what the device's complete gives.
 */
int virtio_job_complete(struct virtio_dev *vd, const struct worker_job *job);
/* Is the driver running (DRIVER_OK, not NEEDS_RESET)? */
bool virtio_running(const struct virtio_dev *vd);
/*
 * Requests in flight, by chain head: a device takes chains at the notify
 * and returns them when its backend is done. virtio_take() pops the next
 * chain of queue q into the table: NULL when none is available, and also
 * when the driver broke a rule (the device is then marked NEEDS_RESET).
 */
struct virtq_chain *virtio_take(struct virtio_dev *vd, unsigned q, struct virtq_chain **inflight, unsigned n);
/* The chain in flight at head, removed from the table (the caller frees it), or NULL. */
struct virtq_chain *virtio_untake(struct virtq_chain **inflight, unsigned n, uint16_t head);
/* Drop every chain in flight (a reset). */
void virtio_drop_all(struct virtq_chain **inflight, unsigned n);
/*
 * Receive buffers a device fills in the order the driver gave them, when
 * input comes (console bytes, network frames): the chains by head, and their
 * heads in arrival order. The device owns the arrays (n entries each).
 */
struct virtio_rxq {
	unsigned q;			/* the queue */
	struct virtq_chain **inflight;
	uint16_t *fifo;
	unsigned n, first, count;
	uint32_t min_bytes;		/* a buffer with fewer writable bytes breaks the rules */
};
/* At the notify: take every buffer made available (NEEDS_RESET on a bad one). */
void virtio_rxq_take(struct virtio_dev *vd, struct virtio_rxq *rx);
/* The oldest buffer (its head and writable bytes), or false if there is none. */
bool virtio_rxq_room(const struct virtio_dev *vd, const struct virtio_rxq *rx, uint16_t *head, uint32_t *room);
/* Fill the oldest buffer, which must be head, and hand it back. -EINVAL if it is not. */
int virtio_rxq_fill(struct virtio_dev *vd, struct virtio_rxq *rx, uint16_t head, const uint8_t *data, uint32_t len);
/* A reset: every buffer is gone. */
void virtio_rxq_reset(struct virtio_rxq *rx);
/* Device config access by the driver; bytes past config_len read 0 and ignore writes. */
void virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len);
void virtio_config_write(struct virtio_dev *vd, unsigned off, const void *buf, unsigned len);

#endif
