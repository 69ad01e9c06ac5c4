/* Journal file I/O: reading frames, records and the index; payload helpers. The writer is journal_write.c. */
#include "journal.h"
#include "../core/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void jbuf_u8(struct jbuf *b, uint8_t v)
{
	if (b->len < b->cap)
		b->p[b->len] = v;
	b->len++;
}

void jbuf_varint(struct jbuf *b, uint64_t v)
{
	while (v >= 0x80) {
		jbuf_u8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	jbuf_u8(b, (uint8_t)v);
}

void jbuf_bytes(struct jbuf *b, const void *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jbuf_u8(b, ((const uint8_t *)d)[i]);
}

uint8_t jcur_u8(struct jcur *c)
{
	if (c->pos >= c->len) {
		c->bad = true;
		return 0;
	}
	return c->p[c->pos++];
}

uint64_t jcur_varint(struct jcur *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b = jcur_u8(c);

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

const uint8_t *jcur_bytes(struct jcur *c, size_t n)
{
	const uint8_t *p = c->p + c->pos;

	if (n > c->len - c->pos) {
		c->bad = true;
		return NULL;
	}
	c->pos += n;
	return p;
}

const char *journal_record_name(uint8_t type)
{
	static const char *const names[JREC_MAX] = {
		[JREC_EXIT] = "exit", [JREC_TICK] = "tick", [JREC_INPUT] = "input",
		[JREC_INJECT] = "inject", [JREC_LANDMARK] = "landmark", [JREC_END] = "end",
		[JREC_CHECKPOINT] = "checkpoint",
		[JREC_VIRTIO] = "virtio", [JREC_NOTIFY] = "notify",
	};
	return type < JREC_MAX && names[type] ? names[type] : "unknown";
}

int journal_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n) {
		ssize_t w = write(fd, q, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static int parse_header(const uint8_t *p, size_t n, uint64_t base, struct journal_header *h,
			char *err, size_t errlen)
{
	struct jcur c = { p, n, 0, false };
	bool seen_mem = false, seen_kernel = false;

	memset(h, 0, sizeof(*h));
	h->host_cpu = -1;
	if (n < 6 || memcmp(p, JOURNAL_MAGIC, 4) != 0) {
		snprintf(err, errlen, "offset %llu: expected the vmm journal magic \"VMMJ\"",
			 (unsigned long long)base);
		return -EINVAL;
	}
	h->version = (uint16_t)(p[4] | p[5] << 8);
	/* Version 2 lacks only the defer field, which replay does not need. */
	if (h->version < JOURNAL_VERSION_OLDEST || h->version > JOURNAL_VERSION) {
		snprintf(err, errlen, "offset %llu: journal format version %u, this vmm reads versions %u to %u",
			 (unsigned long long)base + 4, h->version, JOURNAL_VERSION_OLDEST, JOURNAL_VERSION);
		return -EINVAL;
	}
	c.pos = 6;
	while (c.pos < c.len) {
		size_t at = c.pos;
		uint8_t tag = jcur_u8(&c);
		uint64_t len = jcur_varint(&c);
		const uint8_t *v = jcur_bytes(&c, len);
		char *dst = NULL;
		size_t dmax = 0;

		if (c.bad) {
			snprintf(err, errlen, "offset %llu: header field runs past the header's end",
				 (unsigned long long)(base + at));
			return -EINVAL;
		}
		switch (tag) {
		case JHDR_MEM_SIZE:
		case JHDR_HOST_CPU:
		case JHDR_DEFER:
		case JHDR_CHAOS:
		case JHDR_IOEVENTFD:
		case JHDR_RTC_EPOCH: {
			uint64_t x = 0;

			if (len != 8)
				goto bad_len;
			for (int i = 0; i < 8; i++)
				x |= (uint64_t)v[i] << (8 * i);
			if (tag == JHDR_MEM_SIZE) {
				/* What `vmm record -m` can give: whole MiB, 2 MiB to 3 GiB. */
				if (x % (1u << 20) || x < BOOT_MEM_MIN || x > BOOT_MEM_MAX) {
					snprintf(err, errlen, "offset %llu: memory size %llu bytes is not a whole number "
						 "of MiB from 2 MiB to 3 GiB", (unsigned long long)(base + at),
						 (unsigned long long)x);
					return -EINVAL;
				}
				h->mem_size = x;
				seen_mem = true;
			} else if (tag == JHDR_DEFER) {
				h->defer_ns = x;
			} else if (tag == JHDR_CHAOS) {
				h->chaos = true;
				h->chaos_seed = x;
			} else if (tag == JHDR_IOEVENTFD) {
				h->ioeventfd = x != 0;
			} else if (tag == JHDR_HOST_CPU) {
				if (x >= 65536) {
					snprintf(err, errlen, "offset %llu: host CPU %llu is out of range",
						 (unsigned long long)(base + at), (unsigned long long)x);
					return -EINVAL;
				}
				h->host_cpu = (int32_t)x;
			} else {
				h->rtc_epoch = (int64_t)x;
			}
			break;
		}
		case JHDR_CMDLINE: dst = h->cmdline; dmax = sizeof(h->cmdline); break;
		case JHDR_KERNEL_PATH: dst = h->kernel_path; dmax = sizeof(h->kernel_path); seen_kernel = true; break;
		case JHDR_INITRD_PATH: dst = h->initrd_path; dmax = sizeof(h->initrd_path); h->has_initrd = true; break;
		case JHDR_BOARD: dst = h->board; dmax = sizeof(h->board); break;
		case JHDR_VMM_VERSION: dst = h->vmm_version; dmax = sizeof(h->vmm_version); break;
		case JHDR_KERNEL_SHA256:
		case JHDR_INITRD_SHA256:
			if (len != 32)
				goto bad_len;
			memcpy(tag == JHDR_KERNEL_SHA256 ? h->kernel_sha256 : h->initrd_sha256, v, 32);
			break;
		case JHDR_CPUID:
			if (len > sizeof(h->cpuid))
				goto bad_len;
			memcpy(h->cpuid, v, len);
			h->cpuid_len = len;
			break;
		default:
			snprintf(err, errlen, "offset %llu: unknown header field %u", (unsigned long long)(base + at), tag);
			return -EINVAL;
		}
		if (dst) {
			if (len >= dmax)
				goto bad_len;
			memcpy(dst, v, len);
			dst[len] = 0;
		}
		continue;
bad_len:
		snprintf(err, errlen, "offset %llu: header field %u has a bad length (%llu)",
			 (unsigned long long)(base + at), tag, (unsigned long long)len);
		return -EINVAL;
	}
	if (!seen_mem || !seen_kernel) {
		snprintf(err, errlen, "offset %llu: header lacks the %s field", (unsigned long long)base,
			 seen_mem ? "kernel path" : "memory size");
		return -EINVAL;
	}
	return 0;
}

/* The offset of a well-formed index frame at the end of the file, or 0 if there is none. */
static size_t index_offset(const struct journal_reader *r)
{
	size_t fsz, at;

	if (r->size < r->next + 16)
		return 0;
	fsz = get32(r->map + r->size - 4);
	if (fsz < 16 || fsz > r->size - r->next)
		return 0;
	at = r->size - fsz;
	if (get32(r->map + at) != JOURNAL_SKIPPABLE_INDEX || get32(r->map + at + 4) != fsz - 8 ||
	    memcmp(r->map + at + 8, JOURNAL_INDEX_MAGIC, 4) != 0)
		return 0;
	return at;
}

/*
 * The file ends inside the frame at r->next. A killed recorder leaves that,
 * but only as the last thing in a file without an index: a journal closed
 * properly (its index is there) or a frame that would run past the index
 * is damaged, not cut short.
 */
static int cut_short(struct journal_reader *r, const char *what, char *err, size_t errlen)
{
	if (r->frames_end < r->size) {
		snprintf(err, errlen, "offset %zu: damaged journal: %s runs past the index at offset %zu "
			 "(the journal was closed properly, so this is not a recording cut short)",
			 r->next, what, r->frames_end);
		return -EINVAL;
	}
	r->truncated = true;
	r->truncated_at = r->next;
	return 0;
}

int journal_reader_open(struct journal_reader *r, const char *path, struct journal_header *h,
			char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;
	uint32_t len;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "'%s' is not a regular file", path);
		return -EINVAL;
	}
	r->size = (size_t)st.st_size;
	if (r->size < 8) {
		close(fd);
		snprintf(err, errlen, "offset 0: expected a journal header frame, the file has %zu bytes", r->size);
		return -EINVAL;
	}
	r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		return -EIO;
	}
	if (get32(r->map) != JOURNAL_SKIPPABLE_HEADER) {
		snprintf(err, errlen, "offset 0: expected a zstd skippable frame 0x%08x holding the journal "
			 "header, found 0x%08x (not a vmm journal)", JOURNAL_SKIPPABLE_HEADER, get32(r->map));
		journal_reader_close(r);
		return -EINVAL;
	}
	len = get32(r->map + 4);
	if (len > r->size - 8) {
		snprintf(err, errlen, "offset 4: header frame says %u bytes, only %zu follow", len, r->size - 8);
		journal_reader_close(r);
		return -EINVAL;
	}
	if ((rc = parse_header(r->map + 8, len, 8, h, err, errlen)) < 0) {
		journal_reader_close(r);
		return rc;
	}
	r->next = 8 + (size_t)len;
	r->frames_end = index_offset(r);
	if (!r->frames_end)
		r->frames_end = r->size;
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		journal_reader_close(r);
		return -ENOMEM;
	}
	return 0;
}

/* Decompress the frame at r->next into r->buf. 1: got one; 0: end of file; <0: error. */
static int next_frame(struct journal_reader *r, char *err, size_t errlen)
{
	for (;;) {
		size_t left = r->size - r->next, csize;
		uint32_t magic;

		if (left == 0)
			return 0;
		if (left < 8)
			return cut_short(r, "a frame header", err, errlen);
		magic = get32(r->map + r->next);
		if ((magic & 0xfffffff0u) == 0x184d2a50u) {	/* skippable: index or future data */
			uint32_t len = get32(r->map + r->next + 4);

			if (len > left - 8)
				return cut_short(r, "a skippable frame", err, errlen);
			r->next += 8 + (size_t)len;
			continue;
		}
		if (magic != JOURNAL_ZSTD_MAGIC) {
			snprintf(err, errlen, "offset %zu: expected a zstd frame (magic 0x%08x), found 0x%08x",
				 r->next, JOURNAL_ZSTD_MAGIC, magic);
			return -EINVAL;
		}
		/* Data frames lie before the index: one that would reach into it is damaged. */
		csize = ZSTD_findFrameCompressedSize(r->map + r->next,
						     r->next < r->frames_end ? r->frames_end - r->next : left);
		if (ZSTD_isError(csize)) {
			/* A frame cut short is what SIGKILL leaves behind; anything else is damage. */
			if (ZSTD_getErrorCode(csize) == ZSTD_error_srcSize_wrong)
				return cut_short(r, "a zstd frame", err, errlen);
			snprintf(err, errlen, "offset %zu: damaged zstd frame: %s", r->next, ZSTD_getErrorName(csize));
			return -EINVAL;
		}
		r->frame_off = r->next;
		r->buf_len = 0;
		r->pos = 0;
		ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
		{
			ZSTD_inBuffer in = { r->map + r->next, csize, 0 };
			size_t rc;

			do {
				ZSTD_outBuffer out;

				if (r->buf_cap - r->buf_len < 65536) {
					size_t cap = r->buf_cap ? r->buf_cap * 2 : 1 << 20;
					uint8_t *nb;

					if (cap > (256u << 20)) {
						snprintf(err, errlen, "offset %zu: frame decompresses to more than 256 MiB",
							 r->next);
						return -EINVAL;
					}
					nb = realloc(r->buf, cap);
					if (!nb)
						return -ENOMEM;
					r->buf = nb;
					r->buf_cap = cap;
				}
				out = (ZSTD_outBuffer){ r->buf + r->buf_len, r->buf_cap - r->buf_len, 0 };
				rc = ZSTD_decompressStream(r->dctx, &out, &in);
				r->buf_len += out.pos;
				if (ZSTD_isError(rc)) {
					snprintf(err, errlen, "offset %zu: corrupt zstd frame: %s", r->next,
						 ZSTD_getErrorName(rc));
					return -EINVAL;
				}
			} while (in.pos < in.size || r->buf_len == r->buf_cap);
		}
		r->next += csize;
		return 1;
	}
}

int journal_read(struct journal_reader *r, struct journal_record *rec, char *err, size_t errlen)
{
	struct jcur c;
	uint64_t len;
	int rc;

	while (r->pos >= r->buf_len) {
		if ((rc = next_frame(r, err, errlen)) <= 0)
			return rc;
	}
	c = (struct jcur){ r->buf, r->buf_len, r->pos, false };
	rec->type = jcur_u8(&c);
	len = jcur_varint(&c);
	rec->data = jcur_bytes(&c, len);
	if (c.bad) {
		snprintf(err, errlen, "offset %zu (frame), byte %zu of its data: record %llu runs past the "
			 "end of its frame", r->frame_off, r->pos, (unsigned long long)r->records);
		return -EINVAL;
	}
	if (rec->type == 0 || rec->type >= JREC_MAX) {
		snprintf(err, errlen, "offset %zu (frame), byte %zu of its data: unknown record type %u "
			 "(record %llu)", r->frame_off, r->pos, rec->type, (unsigned long long)r->records);
		return -EINVAL;
	}
	rec->len = len;
	rec->offset = r->frame_off;
	rec->index = r->records++;
	r->pos = c.pos;
	return 1;
}

int journal_read_index(struct journal_reader *r, struct journal_index_entry **e, size_t *n,
		       char *err, size_t errlen)
{
	size_t fsz, at;
	struct jcur c;
	uint64_t count, prev_off = 0, prev_rec = 0;

	*e = NULL;
	*n = 0;
	if (!(at = index_offset(r)))
		return 0;	/* no index: the last frame is data */
	fsz = r->size - at;
	c = (struct jcur){ r->map + at + 12, fsz - 16, 0, false };
	count = jcur_varint(&c);
	if (c.bad || count > (fsz - 16) / 4) {
		snprintf(err, errlen, "offset %zu: index frame holds a bad entry count", at);
		return -EINVAL;
	}
	*e = calloc(count ? count : 1, sizeof(**e));
	if (!*e)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		struct journal_index_entry *x = &(*e)[i];

		x->offset = jcur_varint(&c);
		x->record = jcur_varint(&c);
		x->exits = jcur_varint(&c);
		x->time_ns = jcur_varint(&c);
		/* Entries point at frames between the header and the index, in order. */
		if (c.bad || x->offset < r->next || x->offset >= at || (i && (x->offset <= prev_off ||
		    x->record <= prev_rec)) || get32(r->map + x->offset) != JOURNAL_ZSTD_MAGIC) {
			snprintf(err, errlen, "offset %zu: index entry %llu is damaged or points outside the "
				 "journal's frames", at, (unsigned long long)i);
			free(*e);
			*e = NULL;
			return -EINVAL;
		}
		prev_off = x->offset;
		prev_rec = x->record;
	}
	*n = (size_t)count;
	return 0;
}

void journal_seek(struct journal_reader *r, const struct journal_index_entry *e)
{
	r->next = (size_t)e->offset;
	r->records = e->record;
	r->buf_len = r->pos = 0;
}

void journal_reader_close(struct journal_reader *r)
{
	if (r->map)
		munmap(r->map, r->size);
	ZSTD_freeDCtx(r->dctx);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
