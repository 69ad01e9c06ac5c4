/* Journal writer: the vCPU thread gathers records into frames; a writer thread (or, on one CPU, the vCPU thread) compresses and writes them. */
#include "journal.h"
#include "../core/le.h"
#include "../core/thread.h"
#include "xxh64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_RAW_BLOCK_MAX (128u * 1024)	/* RFC 8878: a block holds at most 128 KiB */

/*
 * A frame's records, raw, on their way to the writer thread. A frame that
 * starts with a checkpoint carries its index entry; the file offset is
 * known only when the writer gets to it.
 */
struct jframe {
	uint8_t *raw;
	size_t len, cap;
	bool checkpoint;
	struct journal_index_entry ix;
};

static void hdr_field(struct jbuf *b, uint8_t tag, const void *d, size_t n)
{
	jbuf_u8(b, tag);
	jbuf_varint(b, n);
	jbuf_bytes(b, d, n);
}

static void hdr_u64(struct jbuf *b, uint8_t tag, uint64_t v)
{
	uint8_t le[8];

	put_le64(le, v);
	hdr_field(b, tag, le, 8);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The header frame, written before anything else. 0 or -errno. */
static int write_header(struct journal_writer *w, const struct journal_header *h, char *err, size_t errlen)
{
	size_t cap = 64 * 1024;
	struct jbuf b = { malloc(cap), 8, cap };
	int r;

	if (!b.p)
		return -ENOMEM;
	jbuf_bytes(&b, JOURNAL_MAGIC, 4);
	jbuf_u8(&b, JOURNAL_VERSION & 0xff);
	jbuf_u8(&b, JOURNAL_VERSION >> 8);
	hdr_u64(&b, JHDR_MEM_SIZE, h->mem_size);
	hdr_u64(&b, JHDR_RTC_EPOCH, (uint64_t)h->rtc_epoch);
	hdr_field(&b, JHDR_CMDLINE, h->cmdline, strlen(h->cmdline));
	hdr_field(&b, JHDR_KERNEL_PATH, h->kernel_path, strlen(h->kernel_path));
	hdr_field(&b, JHDR_KERNEL_SHA256, h->kernel_sha256, 32);
	if (h->has_initrd) {
		hdr_field(&b, JHDR_INITRD_PATH, h->initrd_path, strlen(h->initrd_path));
		hdr_field(&b, JHDR_INITRD_SHA256, h->initrd_sha256, 32);
	}
	hdr_field(&b, JHDR_CPUID, h->cpuid, h->cpuid_len);
	hdr_field(&b, JHDR_BOARD, h->board, strlen(h->board));
	hdr_field(&b, JHDR_VMM_VERSION, h->vmm_version, strlen(h->vmm_version));
	if (h->host_cpu >= 0)
		hdr_u64(&b, JHDR_HOST_CPU, (uint64_t)h->host_cpu);
	hdr_u64(&b, JHDR_DEFER, h->defer_ns);
	if (h->chaos)
		hdr_u64(&b, JHDR_CHAOS, h->chaos_seed);
	if (h->ioeventfd)
		hdr_u64(&b, JHDR_IOEVENTFD, 1);
	if (b.len > cap) {
		free(b.p);
		snprintf(err, errlen, "journal header too large");
		return -E2BIG;
	}
	put_le32(b.p, JOURNAL_SKIPPABLE_HEADER);
	put_le32(b.p + 4, (uint32_t)(b.len - 8));
	r = journal_write_all(w->fd, b.p, b.len);
	if (!r)
		w->file_bytes = b.len;
	free(b.p);
	return r;
}

/*
 * A frame of bytes zstd cannot shrink (a disk of random or already
 * compressed data read through virtio): zstd would spend as long finding
 * that out as on any frame, and end up writing the bytes as they are. A
 * few slices across the frame tell first, for a fiftieth of the work.
 */
static bool incompressible(struct journal_writer *w, const struct jframe *f)
{
	size_t in = 0, out = 0;

	if (f->len < JOURNAL_STORE_MIN || f->len > UINT32_MAX)
		return false;
	for (unsigned i = 0; i < JOURNAL_PROBES; i++) {
		size_t at = f->len / JOURNAL_PROBES * i + (f->len / JOURNAL_PROBES - JOURNAL_PROBE_BYTES) / 2;
		size_t n = ZSTD_compress2(w->cctx, w->out, w->out_cap, f->raw + at, JOURNAL_PROBE_BYTES);

		if (ZSTD_isError(n))
			return false;
		in += JOURNAL_PROBE_BYTES;
		out += n;
	}
	return out >= in - in / 32;
}

/*
 * The frame as zstd writes what it cannot compress (RFC 8878): a header
 * with the content size, raw blocks of at most 128 KiB, and the content
 * checksum that every other frame of the journal carries too. Any zstd
 * reads it; out needs ZSTD_compressBound(len) bytes, which is more.
 */
static size_t stored_frame(uint8_t *out, const uint8_t *src, size_t len)
{
	uint8_t *o = out;
	size_t off = 0;

	put_le32(o, JOURNAL_ZSTD_MAGIC);
	/* Frame_Header_Descriptor: a 4-byte content size, single segment, checksum. */
	o[4] = 2u << 6 | 1u << 5 | 1u << 2;
	put_le32(o + 5, (uint32_t)len);
	o += 9;
	do {
		size_t n = len - off < ZSTD_RAW_BLOCK_MAX ? len - off : ZSTD_RAW_BLOCK_MAX;
		uint32_t bh = (uint32_t)(n << 3) | (off + n == len);	/* Block_Type 0: raw */

		o[0] = (uint8_t)bh;
		o[1] = (uint8_t)(bh >> 8);
		o[2] = (uint8_t)(bh >> 16);
		memcpy(o + 3, src + off, n);
		o += 3 + n;
		off += n;
	} while (off < len);
	put_le32(o, (uint32_t)xxh64(src, len, 0));
	return (size_t)(o + 4 - out);
}

/* The writer thread's part: one frame compressed whole, written, and listed in the index if it starts with a checkpoint. */
static int write_frame(struct journal_writer *w, struct jframe *f)
{
	size_t n;
	int r;

	if (f->checkpoint) {
		if (w->index_len == w->index_cap) {
			size_t cap = w->index_cap ? 2 * w->index_cap : 64;
			struct journal_index_entry *e = realloc(w->index, cap * sizeof(*e));

			if (!e)
				return -ENOMEM;
			w->index = e;
			w->index_cap = cap;
		}
		f->ix.offset = w->file_bytes;
		w->index[w->index_len++] = f->ix;
	}
	if (ZSTD_compressBound(f->len) > w->out_cap) {
		size_t cap = ZSTD_compressBound(f->len);
		uint8_t *o = realloc(w->out, cap);

		if (!o)
			return -ENOMEM;
		w->out = o;
		w->out_cap = cap;
	}
	if (incompressible(w, f)) {
		n = stored_frame(w->out, f->raw, f->len);
		w->stored++;
	} else if (ZSTD_isError(n = ZSTD_compress2(w->cctx, w->out, w->out_cap, f->raw, f->len))) {
		return -EIO;
	}
	if ((r = journal_write_all(w->fd, w->out, n)) < 0)
		return r;
	__atomic_store_n(&w->file_bytes, w->file_bytes + n, __ATOMIC_RELAXED);
	return w->sync && fdatasync(w->fd) < 0 ? -errno : 0;
}

/* A written frame's buffer, kept for the next one (under lock). */
static void frame_done(struct journal_writer *w, struct jframe *f)
{
	f->len = 0;
	f->checkpoint = false;
	if (w->nfree < JOURNAL_QUEUE + 1) {
		w->free[w->nfree++] = f;
	} else {
		free(f->raw);
		free(f);
	}
}

static void *writer_main(void *arg)
{
	struct journal_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct jframe *f;
		uint64_t t0;
		int r;

		while (!w->queued && !w->stopping)
			pthread_cond_wait(&w->cv, &w->lock);
		if (!w->queued)
			break;
		f = w->queue[w->head];
		w->busy = true;
		pthread_mutex_unlock(&w->lock);
		/* After an error the frames are only drained: the file already misses one. */
		t0 = mono_ns();
		r = w->error ? 0 : write_frame(w, f);
		t0 = mono_ns() - t0;
		pthread_mutex_lock(&w->lock);
		w->busy_ns += t0;
		w->frames++;
		if (r < 0 && !w->error)
			__atomic_store_n(&w->error, r, __ATOMIC_RELAXED);
		w->head = (w->head + 1) % JOURNAL_QUEUE;
		w->queued--;
		w->busy = false;
		frame_done(w, f);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int journal_writer_open(struct journal_writer *w, const char *path, bool force,
			const struct journal_header *h, char *err, size_t errlen)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	/* Owner only: a journal holds what was typed, read from disks and received from networks. */
	w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (w->fd < 0) {
		r = -errno;
		if (r == -EEXIST)
			snprintf(err, errlen, "'%s' exists; give --force to overwrite it", path);
		else
			snprintf(err, errlen, "cannot create '%s': %s", path, strerror(-r));
		return r;
	}
	if ((r = write_header(w, h, err, errlen)) < 0) {
		if (r != -E2BIG)
			snprintf(err, errlen, "writing '%s': %s", path, strerror(-r));
		return r;
	}
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->lock_init = true;
	w->ready = true;
	return 0;
}

int journal_writer_start_thread(struct journal_writer *w)
{
	int r;

	if (!w->ready || w->thread_on)
		return -EINVAL;
	if ((r = thread_start_quiet(&w->thread, writer_main, w)) < 0)
		return r;
	w->thread_on = true;
	return 0;
}

/* Without the writer thread: the frame is compressed and written here and now. */
static int write_inline(struct journal_writer *w)
{
	uint64_t t0 = mono_ns();
	int r = write_frame(w, w->cur);

	w->busy_ns += mono_ns() - t0;
	w->frames++;
	pthread_mutex_lock(&w->lock);
	frame_done(w, w->cur);
	pthread_mutex_unlock(&w->lock);
	w->cur = NULL;
	w->frame_open = false;
	if (r < 0)
		w->error = r;
	return r;
}

/*
 * Hand the open frame to the writer thread. Waits while JOURNAL_QUEUE frames
 * are already waiting (memory stays bounded when the disk or zstd is
 * slower than the guest), and with wait, until everything is written.
 */
static int hand_off(struct journal_writer *w, bool wait)
{
	uint64_t t0 = 0;
	int r;

	if (!w->thread_on)
		return w->cur && !w->error ? write_inline(w) : w->error;
	pthread_mutex_lock(&w->lock);
	if ((w->cur && w->queued == JOURNAL_QUEUE) || (wait && (w->queued || w->busy)))
		t0 = mono_ns();
	if (w->cur) {
		while (w->queued == JOURNAL_QUEUE)
			pthread_cond_wait(&w->cv, &w->lock);
		w->queue[(w->head + w->queued) % JOURNAL_QUEUE] = w->cur;
		w->queued++;
		w->cur = NULL;
		w->frame_open = false;
		pthread_cond_broadcast(&w->cv);
	}
	while (wait && (w->queued || w->busy))
		pthread_cond_wait(&w->cv, &w->lock);
	if (t0)
		w->stall_ns += mono_ns() - t0;
	r = w->error;
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* A frame to fill: one the writer is done with, or a new one. */
static struct jframe *frame_get(struct journal_writer *w)
{
	struct jframe *f = NULL;

	pthread_mutex_lock(&w->lock);
	if (w->nfree)
		f = w->free[--w->nfree];
	pthread_mutex_unlock(&w->lock);
	return f ? f : calloc(1, sizeof(*f));
}

static int frame_put(struct jframe *f, const void *d, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 64 * 1024;
		uint8_t *p;

		while (cap < f->len + n)
			cap *= 2;
		if (!(p = realloc(f->raw, cap)))
			return -ENOMEM;
		f->raw = p;
		f->cap = cap;
	}
	memcpy(f->raw + f->len, d, n);
	f->len += n;
	return 0;
}

static int write_record(struct journal_writer *w, uint8_t type, const void *payload, size_t len,
			const void *more, size_t more_len, uint64_t now_ns, const struct journal_index_entry *ix)
{
	uint8_t head[11];
	struct jbuf b = { head, 0, sizeof(head) };
	int r;

	if (!w->ready)
		return -EBADF;
	if ((r = __atomic_load_n(&w->error, __ATOMIC_RELAXED)) < 0)
		return r;
	jbuf_u8(&b, type);
	jbuf_varint(&b, len + more_len);
	if (!w->cur) {
		if (!(w->cur = frame_get(w)))
			return -ENOMEM;
		w->frame_open = true;
		w->frame_start_ns = now_ns;
		if (ix) {
			w->cur->checkpoint = true;
			w->cur->ix = *ix;
		}
	}
	if ((r = frame_put(w->cur, head, b.len)) < 0 || (r = frame_put(w->cur, payload, len)) < 0 ||
	    (more_len && (r = frame_put(w->cur, more, more_len)) < 0))
		return r;
	w->raw_bytes += b.len + len + more_len;
	w->records++;
	/* Frames end only between records, so no record ever spans two. --fsync: on disk before going on. */
	if (w->cur->len >= JOURNAL_FRAME_MAX || now_ns - w->frame_start_ns >= JOURNAL_FLUSH_NS)
		return hand_off(w, w->sync);
	return 0;
}

int journal_write(struct journal_writer *w, uint8_t type, const void *payload, size_t len, uint64_t now_ns)
{
	return write_record(w, type, payload, len, NULL, 0, now_ns, NULL);
}

int journal_write2(struct journal_writer *w, uint8_t type, const void *head, size_t hlen,
		   const void *data, size_t len, uint64_t now_ns)
{
	return write_record(w, type, head, hlen, data, len, now_ns, NULL);
}

int journal_flush(struct journal_writer *w)
{
	return w->ready ? hand_off(w, w->sync) : 0;
}

int journal_write_checkpoint(struct journal_writer *w, const void *payload, size_t len,
			     uint64_t now_ns, uint64_t exits, uint64_t time_ns)
{
	struct journal_index_entry ix = { 0, w->records, exits, time_ns };
	int r;

	if ((r = journal_flush(w)) < 0)
		return r;
	return write_record(w, JREC_CHECKPOINT, payload, len, NULL, 0, now_ns, &ix);
}

uint64_t journal_written(const struct journal_writer *w)
{
	return __atomic_load_n(&w->file_bytes, __ATOMIC_RELAXED);
}

/* The index frame: "VMMI", varint count, four varints an entry, and its own size last, for readers that start at the end. */
static int write_index(struct journal_writer *w)
{
	size_t cap = 32 + w->index_len * 40;
	struct jbuf b = { malloc(cap), 0, cap };
	int r;

	if (!b.p)
		return -ENOMEM;
	b.len = 8;
	jbuf_bytes(&b, JOURNAL_INDEX_MAGIC, 4);
	jbuf_varint(&b, w->index_len);
	for (size_t i = 0; i < w->index_len; i++) {
		jbuf_varint(&b, w->index[i].offset);
		jbuf_varint(&b, w->index[i].record);
		jbuf_varint(&b, w->index[i].exits);
		jbuf_varint(&b, w->index[i].time_ns);
	}
	b.len += 4;
	put_le32(b.p, JOURNAL_SKIPPABLE_INDEX);
	put_le32(b.p + 4, (uint32_t)(b.len - 8));
	put_le32(b.p + b.len - 4, (uint32_t)b.len);
	r = journal_write_all(w->fd, b.p, b.len);
	if (!r)
		w->file_bytes += b.len;
	free(b.p);
	return r;
}

int journal_writer_close(struct journal_writer *w)
{
	int r = 0;

	if (w->ready) {
		r = hand_off(w, true);
		if (w->thread_on) {
			pthread_mutex_lock(&w->lock);
			w->stopping = true;
			pthread_cond_broadcast(&w->cv);
			pthread_mutex_unlock(&w->lock);
			pthread_join(w->thread, NULL);
			w->thread_on = false;
		}
		if (!r)
			r = write_index(w);
	}
	if (w->fd >= 0 && close(w->fd) < 0 && !r)
		r = -errno;
	for (unsigned i = 0; i < w->nfree; i++) {
		free(w->free[i]->raw);
		free(w->free[i]);
	}
	if (w->cur) {
		free(w->cur->raw);
		free(w->cur);
	}
	if (w->lock_init) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cv);
	}
	ZSTD_freeCCtx(w->cctx);
	free(w->out);
	free(w->index);
	/* What was written stays readable: the recorder's last line quotes it. */
	w->fd = -1;
	w->cctx = NULL;
	w->out = NULL;
	w->index = NULL;
	w->cur = NULL;
	w->index_len = w->index_cap = w->out_cap = 0;
	w->nfree = 0;
	w->lock_init = w->ready = false;
	return r;
}
