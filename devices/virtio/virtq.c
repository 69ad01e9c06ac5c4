/* Split virtqueues, device side: the driver's rings are read as hostile input and every step is bounded. */
#include "virtq.h"

#include <errno.h>
#include <string.h>

#include "../../core/le.h"

size_t virtq_desc_bytes(uint16_t size)
{
	return 16u * size;
}

size_t virtq_avail_bytes(uint16_t size)
{
	return 4u + 2u * size + 2u;	/* flags, idx, ring, used_event */
}

size_t virtq_used_bytes(uint16_t size)
{
	return 4u + 8u * size + 2u;	/* flags, idx, ring of {id, len}, avail_event */
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_enable(struct virtq *q, const struct guest_mem *m, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect, uint64_t chain_max)
{
	virtq_reset(q);
	if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1)))
		return -EINVAL;
	/* Alignment as in the spec's table: descriptors 16, available ring 2, used ring 4. */
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	if (!gmem_ptr(m, desc, virtq_desc_bytes(size)) || !gmem_ptr(m, avail, virtq_avail_bytes(size)) ||
	    !gmem_ptr(m, used, virtq_used_bytes(size)))
		return -EINVAL;
	q->size = size;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->chain_max = chain_max;
	q->ready = true;
	return 0;
}

struct walk {
	const struct guest_mem *m;
	uint64_t max;
	struct virtq_chain *c;
	bool writable_seen;
	const char **why;
};

static int refuse(const struct walk *w, const char *why)
{
	if (w->why)
		*w->why = why;
	return -EINVAL;
}

/* One buffer descriptor (not indirect) joins the chain. */
static int add_seg(struct walk *w, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct virtq_chain *c = w->c;
	bool writable = flags & VIRTQ_DESC_F_WRITE;

	if (c->n_out + c->n_in >= VIRTQ_CHAIN_MAX)
		return refuse(w, "descriptor chain has more segments than the queue has entries");
	if (!gmem_ptr(w->m, addr, len))
		return refuse(w, "descriptor buffer lies outside guest RAM");
	/*
	 * Every segment may lie in RAM and the chain still be absurd (1024
	 * descriptors each covering all of RAM): the device bounds what one
	 * request may carry, so no exit does unbounded work.
	 */
	if (len > w->max - c->out_bytes - c->in_bytes)
		return refuse(w, "descriptor chain carries more bytes than the device takes in one request");
	if (!writable && w->writable_seen)
		return refuse(w, "device-readable descriptor after a device-writable one");
	w->writable_seen |= writable;
	c->seg[c->n_out + c->n_in] = (struct virtq_seg){ addr, len };
	if (writable) {
		c->n_in++;
		c->in_bytes += len;
	} else {
		c->n_out++;
		c->out_bytes += len;
	}
	return 0;
}

/* An indirect table: its own descriptors, chained by NEXT within the table, no further indirection. */
static int walk_indirect(struct walk *w, uint64_t addr, uint32_t len)
{
	const uint8_t *t;
	unsigned n = len / 16, i = 0;
	int r;

	if (len == 0 || len % 16 || n > VIRTQ_CHAIN_MAX)
		return refuse(w, "indirect descriptor table has a bad length");
	if (!(t = gmem_ptr(w->m, addr, len)))
		return refuse(w, "indirect descriptor table lies outside guest RAM");
	for (unsigned steps = 0;; steps++) {
		const uint8_t *d = t + 16 * i;
		uint16_t flags = get_le16(d + 12);

		if (steps >= n)
			return refuse(w, "indirect descriptor chain loops");
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return refuse(w, "indirect descriptor inside an indirect table");
		if ((r = add_seg(w, get_le64(d), get_le32(d + 8), flags)) < 0)
			return r;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = get_le16(d + 14);
		if (i >= n)
			return refuse(w, "indirect descriptor's next index is outside its table");
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c, const char **why)
{
	struct walk w = { m, q->chain_max, c, false, why };
	const uint8_t *avail, *desc;
	uint16_t avail_idx, i;
	int r;

	if (!q->ready)
		return 0;
	avail = gmem_ptr(m, q->avail, virtq_avail_bytes(q->size));
	desc = gmem_ptr(m, q->desc, virtq_desc_bytes(q->size));
	if (!avail || !desc)
		return refuse(&w, "queue rings lie outside guest RAM");
	avail_idx = get_le16(avail + 2);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* the ring entry after the index that publishes it */
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return refuse(&w, "available index ran more than a queue ahead of the device");
	i = get_le16(avail + 4 + 2u * (q->last_avail % q->size));
	c->head = i;
	c->n_out = c->n_in = 0;
	c->out_bytes = c->in_bytes = 0;
	for (unsigned steps = 0;; steps++) {
		const uint8_t *d;
		uint16_t flags;

		if (i >= q->size)
			return refuse(&w, "descriptor index outside the queue");
		if (steps >= q->size)
			return refuse(&w, "descriptor chain loops or is longer than the queue");
		d = desc + 16u * i;
		flags = get_le16(d + 12);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect)
				return refuse(&w, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
			if (flags & VIRTQ_DESC_F_NEXT)
				return refuse(&w, "descriptor is both indirect and chained");
			if ((r = walk_indirect(&w, get_le64(d), get_le32(d + 8))) < 0)
				return r;
			break;
		}
		if ((r = add_seg(&w, get_le64(d), get_le32(d + 8), flags)) < 0)
			return r;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		i = get_le16(d + 14);
	}
	q->last_avail++;
	return 1;
}

void virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len)
{
	uint8_t *used = gmem_ptr(m, q->used, virtq_used_bytes(q->size));
	uint8_t *e;

	if (!q->ready || !used)
		return;
	e = used + 4 + 8u * (q->used_idx % q->size);
	put_le32(e, head);
	put_le32(e + 4, len);
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* the entry before the index that publishes it */
	q->used_idx++;
	put_le16(used + 2, q->used_idx);
	gmem_mark_dirty(m, q->used + 4 + 8u * ((uint16_t)(q->used_idx - 1) % q->size), 8);
	gmem_mark_dirty(m, q->used + 2, 2);
}

/* The spec's vring_need_event(): has new_idx passed event since old? All mod 2^16. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_should_interrupt(struct virtq *q, const struct guest_mem *m)
{
	const uint8_t *avail = gmem_ptr(m, q->avail, virtq_avail_bytes(q->size));
	uint16_t old = q->signalled;
	bool valid = q->signalled_valid;

	if (!q->ready || !avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* used idx written before the driver's request is read */
	q->signalled = q->used_idx;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(get_le16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	return need_event(get_le16(avail + 4 + 2u * q->size), q->used_idx, old);
}

void virtq_set_notify(struct virtq *q, const struct guest_mem *m, bool want)
{
	uint8_t *used = gmem_ptr(m, q->used, virtq_used_bytes(q->size));

	if (!q->ready || !used)
		return;
	if (q->event_idx) {
		/* Notify when the driver makes entry last_avail available, i.e. anything new. */
		if (want) {
			put_le16(used + 4 + 8u * q->size, q->last_avail);
			gmem_mark_dirty(m, q->used + 4 + 8u * q->size, 2);
		}
	} else {
		put_le16(used, want ? 0 : VIRTQ_USED_F_NO_NOTIFY);
		gmem_mark_dirty(m, q->used, 2);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static size_t copy(const struct guest_mem *m, const struct virtq_chain *c, unsigned first, unsigned count,
		   size_t off, uint8_t *buf, size_t n, bool to_guest)
{
	size_t done = 0;

	for (unsigned k = first; k < first + count && done < n; k++) {
		const struct virtq_seg *s = &c->seg[k];
		uint8_t *g;
		size_t take;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		take = s->len - off;
		if (take > n - done)
			take = n - done;
		g = gmem_ptr(m, s->gpa + off, take);	/* checked at pop; RAM never shrinks */
		if (!g)
			break;
		if (to_guest) {
			memcpy(g, buf + done, take);
			gmem_mark_dirty(m, s->gpa + off, take);
		} else
			memcpy(buf + done, g, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t virtq_chain_read(const struct guest_mem *m, const struct virtq_chain *c, size_t off, void *dst, size_t n)
{
	return copy(m, c, 0, c->n_out, off, dst, n, false);
}

size_t virtq_chain_write(const struct guest_mem *m, const struct virtq_chain *c, size_t off, const void *src,
			 size_t n)
{
	return copy(m, c, c->n_out, c->n_in, off, (uint8_t *)src, n, true);
}
