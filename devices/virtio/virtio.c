/* A virtio device's common state machine, shared by its transports: nothing here knows about PCI. */
#include "virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/worker.h"

void virtio_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *opaque,
		 const struct guest_mem *mem, void (*set_irq)(void *ctx, int level), void *irq_ctx)
{
	memset(vd, 0, sizeof(*vd));
	vd->ops = ops;
	vd->opaque = opaque;
	vd->mem = mem;
	vd->set_irq = set_irq;
	vd->irq_ctx = irq_ctx;
	for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++)
		vd->qcfg[q].size = q < ops->num_queues ? ops->queue_max : 0;
}

uint64_t virtio_device_features(const struct virtio_dev *vd)
{
	return vd->ops->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |
	       1ull << VIRTIO_F_RING_EVENT_IDX;
}

static void reset(struct virtio_dev *vd)
{
	vd->generation++;
	if (vd->ops->reset)
		vd->ops->reset(vd);
	vd->status = 0;
	vd->driver_features = 0;
	vd->broken = NULL;
	vd->legacy = false;
	for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++) {
		virtq_reset(&vd->vq[q]);
		vd->qcfg[q] = (struct virtio_queue_cfg){
			.size = q < vd->ops->num_queues ? vd->ops->queue_max : 0 };
	}
	if (vd->isr) {
		vd->isr = 0;
		vd->set_irq(vd->irq_ctx, 0);
	}
}

void virtio_set_status(struct virtio_dev *vd, uint8_t status)
{
	if (status == 0) {
		reset(vd);
		return;
	}
	/*
	 * FEATURES_OK sticks only if the features are ones we offered and, for
	 * a modern driver, include VERSION_1; the driver reads it back to know.
	 */
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = vd->driver_features;

		if ((f & ~virtio_device_features(vd)) || (!vd->legacy && !(f & (1ull << VIRTIO_F_VERSION_1))))
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* NEEDS_RESET is the device's to set; the driver cannot clear it but by reset. */
	vd->status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) | (vd->status & VIRTIO_STATUS_NEEDS_RESET));
}

void virtio_set_driver_features(struct virtio_dev *vd, uint64_t features)
{
	if (!(vd->status & VIRTIO_STATUS_FEATURES_OK))
		vd->driver_features = features;
}

void virtio_queue_enable(struct virtio_dev *vd, unsigned q)
{
	struct virtio_queue_cfg *c = &vd->qcfg[q];

	if (q >= vd->ops->num_queues)
		return;
	if (virtq_enable(&vd->vq[q], vd->mem, c->size, c->desc, c->avail, c->used,
			 vd->driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX),
			 vd->driver_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC), vd->ops->chain_max) < 0) {
		virtio_needs_reset(vd, "queue size or ring addresses refused (not a power of 2, misaligned or outside RAM)");
		return;
	}
	c->enabled = true;
}

bool virtio_running(const struct virtio_dev *vd)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET);
}

void virtio_queue_notify(struct virtio_dev *vd, unsigned q)
{
	if (q >= vd->ops->num_queues || !virtio_running(vd) || !vd->vq[q].ready)
		return;
	vd->ops->notify(vd, q);
	/*
	 * With VIRTIO_F_EVENT_IDX the driver notifies only when its available
	 * index passes avail_event: ask for the next one, or it never comes.
	 * The guest is stopped during this exit, so nothing can slip in between.
	 */
	if (vd->vq[q].ready)
		virtq_set_notify(&vd->vq[q], vd->mem, true);
}

void virtio_interrupt(struct virtio_dev *vd, uint8_t isr_bits)
{
	bool was = vd->isr != 0;

	vd->isr |= isr_bits;
	if (!was && vd->isr)
		vd->set_irq(vd->irq_ctx, 1);
}

void virtio_queue_done(struct virtio_dev *vd, unsigned q)
{
	if (virtq_should_interrupt(&vd->vq[q], vd->mem))
		virtio_interrupt(vd, VIRTIO_ISR_QUEUE);
}

uint8_t virtio_isr_read(struct virtio_dev *vd)
{
	uint8_t v = vd->isr;

	if (v) {
		vd->isr = 0;
		vd->set_irq(vd->irq_ctx, 0);
	}
	return v;
}

void virtio_needs_reset(struct virtio_dev *vd, const char *why)
{
	if (vd->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vd->broken = why;
	fprintf(stderr, "vmm: virtio-%s: %s; device needs reset\n", vd->ops->name, why);
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++)
		vd->vq[q].ready = false;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_interrupt(vd, VIRTIO_ISR_CONFIG);
}

void virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	uint8_t *out = buf;

	for (unsigned i = 0; i < len; i++)
		out[i] = off + i < vd->config_len ? vd->config[off + i] : 0;
}

void virtio_config_write(struct virtio_dev *vd, unsigned off, const void *buf, unsigned len)
{
	const uint8_t *in = buf;
	bool any = false;

	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;

		if (o < vd->config_len && vd->config_wmask[o]) {
			vd->config[o] = (uint8_t)((vd->config[o] & ~vd->config_wmask[o]) | (in[i] & vd->config_wmask[o]));
			any = true;
		}
	}
	if (any && vd->ops->config_written)
		vd->ops->config_written(vd, off, len);
}

struct virtq_chain *virtio_take(struct virtio_dev *vd, unsigned q, struct virtq_chain **inflight, unsigned n)
{
	struct virtq_chain *c = malloc(sizeof(*c));
	const char *why = NULL;
	int r;

	if (!c)
		return NULL;	/* the buffers stay available; the next notify retries */
	if ((r = virtq_pop(&vd->vq[q], vd->mem, c, &why)) <= 0) {
		free(c);
		if (r < 0)
			virtio_needs_reset(vd, why);
		return NULL;
	}
	if (c->head >= n || inflight[c->head]) {
		free(c);
		virtio_needs_reset(vd, "driver made a chain available again while the device still holds it");
		return NULL;
	}
	inflight[c->head] = c;
	return c;
}

struct virtq_chain *virtio_untake(struct virtq_chain **inflight, unsigned n, uint16_t head)
{
	struct virtq_chain *c;

	if (head >= n || !(c = inflight[head]))
		return NULL;
	inflight[head] = NULL;
	return c;
}

void virtio_drop_all(struct virtq_chain **inflight, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(inflight[i]);
		inflight[i] = NULL;
	}
}

void virtio_rxq_take(struct virtio_dev *vd, struct virtio_rxq *rx)
{
	struct virtq_chain *c;

	while ((c = virtio_take(vd, rx->q, rx->inflight, rx->n))) {
		if (c->in_bytes < rx->min_bytes || !c->in_bytes || rx->count == rx->n) {
			free(virtio_untake(rx->inflight, rx->n, c->head));
			virtio_needs_reset(vd, "receive buffer without room for what the device puts there");
			return;
		}
		rx->fifo[(rx->first + rx->count++) % rx->n] = c->head;
	}
}

bool virtio_rxq_room(const struct virtio_dev *vd, const struct virtio_rxq *rx, uint16_t *head, uint32_t *room)
{
	const struct virtq_chain *c;

	if (!rx->count || !virtio_running(vd))
		return false;
	*head = rx->fifo[rx->first];
	c = rx->inflight[*head];
	*room = c ? (uint32_t)c->in_bytes : 0;
	return c != NULL;
}

int virtio_rxq_fill(struct virtio_dev *vd, struct virtio_rxq *rx, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtq_chain *c;
	size_t put;

	if (!rx->count || rx->fifo[rx->first] != head || !(c = virtio_untake(rx->inflight, rx->n, head)))
		return -EINVAL;
	rx->first = (rx->first + 1) % rx->n;
	rx->count--;
	put = virtq_chain_write(vd->mem, c, 0, data, len);
	free(c);
	virtq_push(&vd->vq[rx->q], vd->mem, head, (uint32_t)put);
	virtio_queue_done(vd, rx->q);
	return 0;
}

void virtio_rxq_reset(struct virtio_rxq *rx)
{
	virtio_drop_all(rx->inflight, rx->n);
	rx->first = rx->count = 0;
}

void virtio_submit(struct virtio_dev *vd, const struct virtio_backend *be, struct worker_job *job, unsigned q,
		   uint16_t head)
{
	job->owner = vd;
	job->generation = vd->generation;
	job->queue = q;
	job->head = head;
	be->submit(be->ctx, job);
}

int virtio_job_complete(struct virtio_dev *vd, const struct worker_job *job)
{
	if (job->owner != vd || job->generation != vd->generation)
		return -ESTALE;
	return vd->ops->complete ? vd->ops->complete(vd, job->queue, job->head, job->data, job->len) : -EINVAL;
}
