/* Split virtqueues (virtio 1.x section 2.7), device side: every guest address, length and index is checked. */
#ifndef VMM_VIRTQ_H
#define VMM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/guest_mem.h"

#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

#define VIRTQ_SIZE_MAX		1024	/* the largest queue a device offers */
#define VIRTQ_CHAIN_MAX		VIRTQ_SIZE_MAX	/* segments in one chain, indirect ones included */

/* The ring layout the driver gave, and where the device is in it. */
struct virtq {
	uint16_t size;			/* entries; a power of 2, at most VIRTQ_SIZE_MAX */
	bool ready;
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used;	/* guest physical addresses of the three parts */
	uint16_t last_avail;		/* the next available entry the device takes */
	uint16_t used_idx;		/* the next used entry the device fills */
	uint16_t signalled;		/* used_idx when the driver was last interrupted */
	bool signalled_valid;
	uint64_t chain_max;		/* bytes one chain may carry, readable and writable together */
};

/* One segment of a descriptor chain: guest physical, checked to lie in RAM. */
struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* A popped chain: the device-readable segments first, then the device-writable ones. */
struct virtq_chain {
	uint16_t head;
	unsigned n_out, n_in;
	uint64_t out_bytes, in_bytes;
	struct virtq_seg seg[VIRTQ_CHAIN_MAX];
};

/* Bytes of each ring part for a queue of this size (event-index words included). */
size_t virtq_desc_bytes(uint16_t size);
size_t virtq_avail_bytes(uint16_t size);
size_t virtq_used_bytes(uint16_t size);

/*
 * Take the ring addresses the driver wrote. -EINVAL (and the queue stays
 * off) if the size is not a power of 2 up to VIRTQ_SIZE_MAX, a part is
 * misaligned, or any part does not lie wholly in guest RAM.
 */
int virtq_enable(struct virtq *q, const struct guest_mem *m, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect, uint64_t chain_max);
void virtq_reset(struct virtq *q);

/*
 * The next available chain. 1: *c holds it; 0: none available; -EINVAL: the
 * driver broke the rules (an index out of range, a loop, a chain longer than
 * the queue, memory outside RAM, a readable segment after a writable one, a
 * nested or malformed indirect table, more bytes than chain_max). The device then sets NEEDS_RESET;
 * *why says what was wrong.
 */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c, const char **why);
/* Return a chain: len bytes were written into its writable segments. */
void virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len);
/* After pushes: does the driver want an interrupt now (flags or used_event)? */
bool virtq_should_interrupt(struct virtq *q, const struct guest_mem *m);
/* Ask the driver to notify (or not) when it adds buffers (flags or avail_event). */
void virtq_set_notify(struct virtq *q, const struct guest_mem *m, bool want);
/* Copy between a chain's segments and a flat buffer, from byte offset off; returns bytes copied. */
size_t virtq_chain_read(const struct guest_mem *m, const struct virtq_chain *c, size_t off, void *dst, size_t n);
size_t virtq_chain_write(const struct guest_mem *m, const struct virtq_chain *c, size_t off, const void *src,
			 size_t n);

#endif
