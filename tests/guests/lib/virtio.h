/* A minimal virtio PCI driver for test guests: find the device, set up one split queue, post, kick, wait. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

#define VQ_SIZE			8
#define VIRTIO_ST_ACK		1
#define VIRTIO_ST_DRIVER	2
#define VIRTIO_ST_DRIVER_OK	4
#define VIRTIO_ST_FEATURES_OK	8
#define VIRTIO_ST_NEEDS_RESET	0x40
#define VQ_F_NEXT		1
#define VQ_F_WRITE		2

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One legacy-layout block: descriptors, available ring, used ring on the next page. */
struct vring {
	struct vq_desc d[VQ_SIZE];
	uint16_t avail_flags, avail_idx, avail_ring[VQ_SIZE], used_event;
	uint8_t pad[4096 - VQ_SIZE * 16 - 6 - 2 * VQ_SIZE];
	uint16_t used_flags, used_idx;
	struct { uint32_t id, len; } used_ring[VQ_SIZE];
	uint16_t avail_event;
} __attribute__((aligned(4096)));

struct vdev {
	unsigned slot, irq;
	uint16_t iobase;
	volatile uint8_t *common, *isr, *notify, *device;
	volatile uint64_t irqs;
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	uint16_t notified;		/* avail_idx at the last notify */
};

uint32_t pci_cfg32(unsigned slot, unsigned reg);
uint8_t pci_cfg8(unsigned slot, unsigned reg);
/* Find 1af4:device_id on bus 0 and its capabilities; the IRQ handler counts and acks. */
bool vdev_find(struct vdev *d, uint16_t device_id);
/* Reset, negotiate VERSION_1 plus features_lo, set up queue 0 on r; false if the device refused. */
bool vdev_setup(struct vdev *d, struct vring *r, uint32_t features_lo);
void vdev_kick(struct vdev *d);
/* Notify as a careful driver does: with EVENT_IDX, only if the device asked (avail_event). */
void vdev_notify(struct vdev *d, struct vring *r);
uint8_t vdev_status(struct vdev *d);
void vdev_reset(struct vdev *d);
void vring_post(struct vring *r, unsigned head, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
void vring_publish(struct vring *r, unsigned head);
/* Sleep until the used index reaches want and the interrupt came; false on timeout. */
bool vring_wait(struct vdev *d, struct vring *r, uint16_t want);
/* Does b hold the patterned image the test scripts pass as --disk (a 16-byte line, repeated)? */
bool disk_is_pattern(const uint8_t *b, unsigned n);

#endif
