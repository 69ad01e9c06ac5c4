/* virtio-rng: buffers are taken at the notify, filled by the host's getrandom() on a worker, returned at a position. */
#include "rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../../core/worker.h"

static void rng_fill(struct worker_job *job)
{
	size_t done = 0;

	while (done < job->cap) {
		ssize_t n = getrandom(job->data + done, job->cap - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	job->len = (uint32_t)done;
}

static void rng_notify(struct virtio_dev *vd, unsigned q)
{
	struct virtio_rng *rng = vd->opaque;
	struct virtq_chain *c;

	while ((c = virtio_take(vd, q, rng->inflight, VIRTIO_RNG_QUEUE_SIZE))) {
		struct worker_job *job;

		if (!c->in_bytes) {
			free(virtio_untake(rng->inflight, VIRTIO_RNG_QUEUE_SIZE, c->head));
			virtio_needs_reset(vd, "entropy request without a writable buffer");
			return;
		}
		if (!rng->backend)
			continue;	/* replay: the journal brings the bytes */
		job = calloc(1, sizeof(*job));
		if (job) {
			job->cap = c->in_bytes < VIRTIO_RNG_CHUNK ? (uint32_t)c->in_bytes : VIRTIO_RNG_CHUNK;
			job->data = malloc(job->cap);
		}
		if (!job || !job->data) {
			free(job);
			free(virtio_untake(rng->inflight, VIRTIO_RNG_QUEUE_SIZE, c->head));
			return;
		}
		job->run = rng_fill;
		virtio_submit(vd, rng->backend, job, q, c->head);
	}
}

static int rng_complete(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtio_rng *rng = vd->opaque;
	struct virtq_chain *c;
	size_t put;

	if (q != 0 || !(c = virtio_untake(rng->inflight, VIRTIO_RNG_QUEUE_SIZE, head)))
		return -EINVAL;
	put = virtq_chain_write(vd->mem, c, 0, data, len);
	free(c);
	if (!virtio_running(vd))
		return 0;	/* reset while in flight: the buffer is gone */
	virtq_push(&vd->vq[0], vd->mem, head, (uint32_t)put);
	virtio_queue_done(vd, 0);
	return 0;
}

static void rng_reset(struct virtio_dev *vd)
{
	struct virtio_rng *rng = vd->opaque;

	/* Jobs not started go; one running finishes stale and virtio_job_complete drops it. */
	if (rng->backend && rng->backend->cancel)
		rng->backend->cancel(rng->backend->ctx, vd);
	virtio_drop_all(rng->inflight, VIRTIO_RNG_QUEUE_SIZE);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.type = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = VIRTIO_RNG_QUEUE_SIZE,
	.chain_max = VIRTIO_RNG_CHAIN_MAX,
	.notify = rng_notify,
	.reset = rng_reset,
	.complete = rng_complete,
};

void virtio_rng_init(struct virtio_rng *rng, const struct guest_mem *mem, const struct virtio_backend *backend,
		     void (*set_irq)(void *ctx, int level), void *irq_ctx)
{
	memset(rng, 0, sizeof(*rng));
	rng->backend = backend;
	virtio_init(&rng->vd, &rng_ops, rng, mem, set_irq, irq_ctx);
}

void virtio_rng_free(struct virtio_rng *rng)
{
	rng_reset(&rng->vd);
}
