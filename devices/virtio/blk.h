/* virtio-blk (virtio 1.x section 5.2) over a raw image: read, write, flush, get-id. */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include "rng.h"	/* struct virtio_backend */
#include "virtio.h"

#define VIRTIO_BLK_QUEUE_SIZE	128
#define VIRTIO_BLK_SECTOR	512
#define VIRTIO_BLK_REQ_MAX	(4u << 20)	/* data bytes in one request */
#define VIRTIO_BLK_SEG_MAX	64
#define VIRTIO_BLK_SIZE_MAX	(64u << 10)

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20

struct virtio_blk {
	struct virtio_dev vd;
	struct virtio_dev_ops ops;	/* blk's, with VIRTIO_BLK_F_RO when read-only */
	const struct virtio_backend *backend;
	int fd;				/* the image; -1 in replay */
	bool ro;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtq_chain *inflight[VIRTIO_BLK_QUEUE_SIZE];	/* by head */
};

/*
 * fd is the open image (its size gives the capacity) or -1 with sectors
 * given, in replay, where every byte read comes from the journal.
 */
void virtio_blk_init(struct virtio_blk *blk, const struct guest_mem *mem, const struct virtio_backend *backend,
		     int fd, uint64_t sectors, bool ro, void (*set_irq)(void *ctx, int level), void *irq_ctx);
void virtio_blk_free(struct virtio_blk *blk);

#endif
