/*
 * virtio-blk: a request is parsed and its guest bytes gathered at the notify
 * (vCPU thread), the image is read or written on the worker, and the bytes
 * for the guest (data read, then the status byte) go back at a position.
 */
#include "blk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/le.h"
#include "../../core/worker.h"

/* ---- backend side (worker thread): the image only ---- */

static void blk_do_read(struct worker_job *job)
{
	uint32_t n = job->cap - 1, done = 0;

	while (done < n) {
		ssize_t r = pread(job->fd, job->data + done, n - done, (off_t)(job->offset + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (uint32_t)r;
	}
	/* Past the end of a file that shrank, or an error: the guest gets IOERR, never stale bytes. */
	if (done < n)
		memset(job->data, 0, n);
	job->data[n] = done == n ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	job->len = job->cap;
}

static void blk_do_write(struct worker_job *job)
{
	uint32_t done = 0;

	while (done < job->out_len) {
		ssize_t r = pwrite(job->fd, job->out + done, job->out_len - done, (off_t)(job->offset + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (uint32_t)r;
	}
	job->data[0] = done == job->out_len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	job->len = 1;
}

static void blk_do_flush(struct worker_job *job)
{
	job->data[0] = fdatasync(job->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	job->len = 1;
}

/* Requests answered without the image (get-id, errors): data is ready, nothing to run. */
static void blk_do_nothing(struct worker_job *job)
{
	job->len = job->cap;
}

/* ---- device side (vCPU thread) ---- */

/* Build the backend job for one request; NULL only when out of memory. */
static struct worker_job *blk_request(struct virtio_blk *blk, const struct virtq_chain *c)
{
	struct virtio_dev *vd = &blk->vd;
	struct worker_job *job = calloc(1, sizeof(*job));
	uint8_t hdr[16];
	uint32_t type;
	uint64_t sector, data_len = c->in_bytes - 1;

	if (!job)
		return NULL;
	job->fd = blk->fd;
	job->run = blk_do_nothing;
	virtq_chain_read(vd->mem, c, 0, hdr, sizeof(hdr));
	type = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	memcpy(&sector, hdr + 8, 8);
	job->cap = 1;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (data_len % VIRTIO_BLK_SECTOR || data_len > VIRTIO_BLK_REQ_MAX || sector > blk->sectors ||
		    data_len / VIRTIO_BLK_SECTOR > blk->sectors - sector)
			break;
		job->cap = (uint32_t)data_len + 1;
		job->offset = sector * VIRTIO_BLK_SECTOR;
		job->run = blk_do_read;
		break;
	case VIRTIO_BLK_T_OUT: {
		uint64_t n = c->out_bytes - 16;

		if (blk->ro || n % VIRTIO_BLK_SECTOR || n > VIRTIO_BLK_REQ_MAX || sector > blk->sectors ||
		    n / VIRTIO_BLK_SECTOR > blk->sectors - sector)
			break;
		/* The guest's bytes as they are now, at this position: what replay sees too. */
		if (!(job->out = malloc(n ? n : 1))) {
			free(job);
			return NULL;
		}
		job->out_len = (uint32_t)virtq_chain_read(vd->mem, c, 16, job->out, n);
		job->offset = sector * VIRTIO_BLK_SECTOR;
		job->run = blk_do_write;
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		job->run = blk->ro ? blk_do_nothing : blk_do_flush;
		break;
	case VIRTIO_BLK_T_GET_ID:
		job->cap = (uint32_t)(data_len < VIRTIO_BLK_ID_BYTES ? data_len : VIRTIO_BLK_ID_BYTES) + 1;
		break;
	}
	if (!(job->data = calloc(1, job->cap))) {
		free(job->out);
		free(job);
		return NULL;
	}
	/* Defaults for requests that never reach the image. */
	if (job->run == blk_do_nothing) {
		uint8_t status = VIRTIO_BLK_S_OK;

		if (type == VIRTIO_BLK_T_GET_ID)
			memcpy(job->data, blk->id, job->cap - 1);
		else if (type != VIRTIO_BLK_T_FLUSH)
			status = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ? VIRTIO_BLK_S_IOERR
										     : VIRTIO_BLK_S_UNSUPP;
		job->data[job->cap - 1] = status;
	}
	return job;
}

static void blk_notify(struct virtio_dev *vd, unsigned q)
{
	struct virtio_blk *blk = vd->opaque;
	struct virtq_chain *c;

	while ((c = virtio_take(vd, q, blk->inflight, VIRTIO_BLK_QUEUE_SIZE))) {
		struct worker_job *job;

		if (c->out_bytes < 16 || c->in_bytes < 1) {
			free(virtio_untake(blk->inflight, VIRTIO_BLK_QUEUE_SIZE, c->head));
			virtio_needs_reset(vd, "block request without its 16-byte header or status byte");
			return;
		}
		if (!blk->backend)
			continue;	/* replay: the journal brings the result */
		if (!(job = blk_request(blk, c))) {
			free(virtio_untake(blk->inflight, VIRTIO_BLK_QUEUE_SIZE, c->head));
			return;
		}
		virtio_submit(vd, blk->backend, job, q, c->head);
	}
}

/* The bytes for the guest: data into the writable buffers, the status byte into the last one. */
static int blk_complete(struct virtio_dev *vd, unsigned q, uint16_t head, const uint8_t *data, uint32_t len)
{
	struct virtio_blk *blk = vd->opaque;
	struct virtq_chain *c;
	size_t put;

	if (q != 0 || head >= VIRTIO_BLK_QUEUE_SIZE || !(c = blk->inflight[head]) || len < 1 || len > c->in_bytes)
		return -EINVAL;
	virtio_untake(blk->inflight, VIRTIO_BLK_QUEUE_SIZE, head);
	put = virtq_chain_write(vd->mem, c, 0, data, len - 1);
	put += virtq_chain_write(vd->mem, c, c->in_bytes - 1, data + len - 1, 1);
	free(c);
	if (!virtio_running(vd))
		return 0;
	virtq_push(&vd->vq[0], vd->mem, head, (uint32_t)put);
	virtio_queue_done(vd, 0);
	return 0;
}

static void blk_reset(struct virtio_dev *vd)
{
	struct virtio_blk *blk = vd->opaque;

	/* Jobs not started go; one running finishes stale and virtio_job_complete drops it. */
	if (blk->backend && blk->backend->cancel)
		blk->backend->cancel(blk->backend->ctx, vd);
	virtio_drop_all(blk->inflight, VIRTIO_BLK_QUEUE_SIZE);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "blk",
	.type = VIRTIO_ID_BLOCK,
	.features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		    1ull << VIRTIO_BLK_F_FLUSH,
	.num_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.chain_max = 16 + VIRTIO_BLK_REQ_MAX + 1,	/* header, data, status */
	.notify = blk_notify,
	.reset = blk_reset,
	.complete = blk_complete,
};

void virtio_blk_init(struct virtio_blk *blk, const struct guest_mem *mem, const struct virtio_backend *backend,
		     int fd, uint64_t sectors, bool ro, void (*set_irq)(void *ctx, int level), void *irq_ctx)
{
	memset(blk, 0, sizeof(*blk));
	blk->backend = backend;
	blk->fd = fd;
	blk->ro = ro;
	blk->sectors = sectors;
	snprintf(blk->id, sizeof(blk->id), "vmm-blk");
	blk->ops = blk_ops;
	if (ro)
		blk->ops.features |= 1ull << VIRTIO_BLK_F_RO;
	virtio_init(&blk->vd, &blk->ops, blk, mem, set_irq, irq_ctx);
	/* Config: capacity, size_max, seg_max, geometry (none), blk_size. */
	put_le64(blk->vd.config + 0, sectors);
	put_le32(blk->vd.config + 8, VIRTIO_BLK_SIZE_MAX);
	put_le32(blk->vd.config + 12, VIRTIO_BLK_SEG_MAX);
	put_le32(blk->vd.config + 20, VIRTIO_BLK_SECTOR);
	blk->vd.config_len = 24;
}

void virtio_blk_free(struct virtio_blk *blk)
{
	blk_reset(&blk->vd);
	if (blk->fd >= 0)
		close(blk->fd);
	blk->fd = -1;
}
