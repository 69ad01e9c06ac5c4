/* Packed journals: the inputs replay needs, carried inside the journal as skippable frames. */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "hash.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

const char *pack_kind_name(enum pack_kind k)
{
	static const char *const names[PACK_KINDS] = { [PACK_KERNEL] = "kernel", [PACK_INITRD] = "initrd",
						       [PACK_SYMBOLS] = "symbols" };

	return k > 0 && k < PACK_KINDS ? names[k] : "unknown";
}

/* Frame layout: magic, length, "VMMF", kind, name length (2 bytes), name, SHA-256, data. */
#define PACK_FIXED (4 + 1 + 2 + 32)

int pack_write(const struct journal_reader *r, const char *out, bool force, const struct pack_input *in,
	       unsigned n, char *err, size_t errlen)
{
	size_t index_at = r->frames_end;
	int fd, rc = 0;

	if (index_at >= r->size) {
		snprintf(err, errlen, "the journal has no index (it was cut short, or is being written): only a "
			 "journal whose recording ended can be packed");
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t name_len = strlen(in[i].name);

		if (name_len > PACK_NAME_MAX || in[i].len > UINT32_MAX - 8 - PACK_FIXED - name_len) {
			snprintf(err, errlen, "%s '%s': too large to pack (at most 4 GiB)", pack_kind_name(in[i].kind),
				 in[i].name);
			return -EFBIG;
		}
	}
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create '%s': %s%s", out, strerror(errno),
			 errno == EEXIST ? " (give --force to overwrite it)" : "");
		return rc;
	}
	rc = journal_write_all(fd, r->map, index_at);
	for (unsigned i = 0; i < n && rc == 0; i++) {
		size_t name_len = strlen(in[i].name);
		uint8_t hdr[8 + PACK_FIXED];

		put32(hdr, JOURNAL_SKIPPABLE_INPUT);
		put32(hdr + 4, (uint32_t)(PACK_FIXED + name_len + in[i].len));
		memcpy(hdr + 8, PACK_INPUT_MAGIC, 4);
		hdr[12] = (uint8_t)in[i].kind;
		hdr[13] = (uint8_t)name_len;
		hdr[14] = (uint8_t)(name_len >> 8);
		sha256(in[i].data, in[i].len, hdr + 15);
		if ((rc = journal_write_all(fd, hdr, 15)) == 0 && (rc = journal_write_all(fd, in[i].name, name_len)) == 0 &&
		    (rc = journal_write_all(fd, hdr + 15, 32)) == 0)
			rc = journal_write_all(fd, in[i].data, in[i].len);
	}
	if (rc == 0)
		rc = journal_write_all(fd, r->map + index_at, r->size - index_at);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "writing '%s': %s", out, strerror(-rc));
		unlink(out);
	}
	return rc;
}

int pack_find(const struct journal_reader *r, enum pack_kind kind, struct pack_input *in, char *err, size_t errlen)
{
	size_t at = 8 + (size_t)get32(r->map + 4), end = r->frames_end;

	/* Walk the frames between the header and the index: zstd frames by their sizes, skippable ones by theirs. */
	while (at + 8 <= end) {
		uint32_t magic = get32(r->map + at), len;
		const uint8_t *p;
		size_t name_len;

		if (magic == JOURNAL_ZSTD_MAGIC) {
			size_t csize = ZSTD_findFrameCompressedSize(r->map + at, end - at);

			if (ZSTD_isError(csize))
				return 0;	/* damage or a cut: replay reports it where it reads */
			at += csize;
			continue;
		}
		if ((magic & 0xfffffff0u) != 0x184d2a50u)
			return 0;
		len = get32(r->map + at + 4);
		if (len > end - at - 8)
			return 0;
		p = r->map + at + 8;
		at += 8 + (size_t)len;
		if (magic != JOURNAL_SKIPPABLE_INPUT)
			continue;
		if (len < PACK_FIXED || memcmp(p, PACK_INPUT_MAGIC, 4) != 0 ||
		    (name_len = (size_t)p[5] | (size_t)p[6] << 8) > PACK_NAME_MAX || PACK_FIXED + name_len > len) {
			snprintf(err, errlen, "offset %zu: a damaged packed input frame", (size_t)(p - r->map) - 8);
			return -EINVAL;
		}
		if (p[4] != kind)
			continue;
		memset(in, 0, sizeof(*in));
		in->kind = kind;
		memcpy(in->name, p + 7, name_len);
		in->name[name_len] = 0;
		memcpy(in->sha256, p + 7 + name_len, 32);
		in->data = p + PACK_FIXED + name_len;
		in->len = len - PACK_FIXED - name_len;
		if (memchr(in->name, '/', name_len) || memchr(in->name, 0, name_len) || !name_len ||
		    !strcmp(in->name, ".") || !strcmp(in->name, "..")) {
			snprintf(err, errlen, "packed %s: the name '%s' is not a plain file name", pack_kind_name(kind),
				 in->name);
			return -EINVAL;
		}
		{
			uint8_t got[32];

			sha256(in->data, in->len, got);
			if (memcmp(got, in->sha256, 32) != 0) {
				snprintf(err, errlen, "packed %s '%s': its bytes do not match its SHA-256 (damaged)",
					 pack_kind_name(kind), in->name);
				return -EINVAL;
			}
		}
		return 1;
	}
	return 0;
}
