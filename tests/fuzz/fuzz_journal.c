/*
 * Fuzz target for the journal reader: any bytes, read as a journal, must give
 * records or one clean error, never a crash or an out-of-bounds access.
 * The first input byte picks the mode: even, the rest is a whole journal
 * file; odd, the rest is a raw record stream that this target compresses
 * into a journal behind a valid header, so that mutations reach the record
 * decoders instead of stopping at zstd's checksum.
 * LLVMFuzzerTestOneInput is the libFuzzer entry point; tests/fuzz/driver.c
 * drives it without libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string.h>
#include <zstd.h>

#include "fuzz.h"
#include "exit_rec.h"
#include "journal.h"
#include "pack.h"
#include "rr.h"

/* Where packed bytes are read to, so that the reads are not optimised away. */
static volatile uint8_t sink;

const char fuzz_name[] = "fuzz_journal";

/* A small real journal: header, exits, ticks, injections, a landmark, an end record. */
static uint8_t *make_seed(size_t *len, unsigned records, unsigned flush_every)
{
	struct journal_writer w;
	struct journal_header h;
	char path[64], err[200];
	uint8_t *buf = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "/tmp/vmm-fuzz-seed-%d", getpid());
	unlink(path);
	memset(&h, 0, sizeof(h));
	h.mem_size = 64 << 20;
	strcpy(h.kernel_path, "/k");
	strcpy(h.cmdline, "x");
	h.cpuid_len = 56;
	if (journal_writer_open(&w, path, true, &h, err, sizeof(err)) < 0)
		return NULL;
	for (unsigned i = 0; i < records; i++) {
		uint8_t p[160];
		size_t plen = 1 + fuzz_rng() % sizeof(p);

		for (size_t k = 0; k < plen; k++)
			p[k] = (uint8_t)fuzz_rng();
		if (i % 16 == 15)	/* checkpoints, so that seeds carry an index to mutate */
			journal_write_checkpoint(&w, p, plen, (uint64_t)i * (1000000000ull / flush_every), i, i);
		else
			journal_write(&w, (uint8_t)(1 + fuzz_rng() % (JREC_MAX - 1)), p, plen,
				      (uint64_t)i * (1000000000ull / flush_every));
	}
	journal_writer_close(&w);
	f = fopen(path, "rb");
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && (buf = malloc((size_t)n))) {
		rewind(f);
		*len = fread(buf, 1, (size_t)n, f);
	}
	if (f)
		fclose(f);
	unlink(path);
	return buf;
}

/* A raw record stream: type, varint length, payload, as a frame holds them. */
static uint8_t *make_raw(size_t *len, unsigned records)
{
	uint8_t *p = malloc(records * 200 + 1);
	struct jbuf b = { p, 0, records * 200 + 1 };

	if (!p)
		return NULL;
	jbuf_u8(&b, 1);	/* mode: raw */
	for (unsigned i = 0; i < records; i++) {
		size_t plen = fuzz_rng() % 160;

		jbuf_u8(&b, (uint8_t)(1 + fuzz_rng() % (JREC_MAX - 1)));
		jbuf_varint(&b, plen);
		for (size_t k = 0; k < plen; k++)
			jbuf_u8(&b, (uint8_t)fuzz_rng());
	}
	*len = b.len;
	return p;
}

uint8_t *fuzz_seed(unsigned i, size_t *len)
{
	uint8_t *file, *seed;
	size_t n;

	if (i >= 2)
		return make_raw(len, 10 + 20 * i);
	if (!(file = make_seed(&n, 20 + 40 * i, 5 + 10 * i)) || !(seed = malloc(n + 1))) {
		free(file);
		return NULL;
	}
	seed[0] = 0;	/* mode: whole file */
	memcpy(seed + 1, file, n);
	free(file);
	*len = n + 1;
	return seed;
}

/* The header frame of a valid journal, made once: what raw mode puts in front of its records. */
static const uint8_t *header_frame(size_t *len)
{
	static uint8_t *hdr;
	static size_t hdr_len;

	if (!hdr) {
		size_t n;
		uint8_t *file = make_seed(&n, 0, 10);

		if (!file || n < 8)
			abort();
		hdr_len = 8 + ((size_t)file[4] | (size_t)file[5] << 8 | (size_t)file[6] << 16 | (size_t)file[7] << 24);
		if (hdr_len > n)
			abort();
		hdr = file;
	}
	*len = hdr_len;
	return hdr;
}

/*
 * The codec's own promise, checked on whatever decoded: what a record decodes
 * to encodes to bytes that decode to the same and encode again identically.
 */
static void exit_round_trip(const struct rr_exit *x)
{
	uint8_t a[RR_EXIT_IO_MAX + 256], b[RR_EXIT_IO_MAX + 256];
	struct jbuf ja = { a, 0, sizeof(a) }, jb = { b, 0, sizeof(b) };
	struct rr_exit y;

	rr_exit_encode(x, &ja);
	if (ja.len > sizeof(a) || rr_exit_decode(a, ja.len, &y) < 0)
		abort();
	rr_exit_encode(&y, &jb);
	if (jb.len != ja.len || memcmp(a, b, ja.len))
		abort();
}

static void landmark_round_trip(const struct rr_landmark *l)
{
	uint8_t a[256], b[256];
	struct jbuf ja = { a, 0, sizeof(a) }, jb = { b, 0, sizeof(b) };
	struct rr_landmark m;
	struct jcur c;

	rr_landmark_encode(l, &ja);
	c = (struct jcur){ a, ja.len, 0, false };
	if (rr_landmark_decode(&c, &m) < 0)
		abort();
	rr_landmark_encode(&m, &jb);
	if (jb.len != ja.len || memcmp(a, b, ja.len))
		abort();
}

static void checkpoint_round_trip(const struct rr_checkpoint *ck)
{
	uint8_t a[256], b[256];
	struct jbuf ja = { a, 0, sizeof(a) }, jb = { b, 0, sizeof(b) };
	struct rr_checkpoint d;
	struct jcur c;

	rr_checkpoint_encode(ck, &ja);
	c = (struct jcur){ a, ja.len, 0, false };
	if (rr_checkpoint_decode(&c, &d) < 0)
		abort();
	rr_checkpoint_encode(&d, &jb);
	if (jb.len != ja.len || memcmp(a, b, ja.len))
		abort();
}

/* The bytes to read as a journal: data itself, or raw records compressed behind a header. */
static uint8_t *as_journal(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t hlen, bound;
	const uint8_t *hdr;
	uint8_t *out;

	if (!size)
		return NULL;
	if (!(data[0] & 1)) {
		if (!(out = malloc(size)))
			return NULL;
		memcpy(out, data + 1, size - 1);
		*out_len = size - 1;
		return out;
	}
	hdr = header_frame(&hlen);
	bound = ZSTD_compressBound(size - 1);
	if (!(out = malloc(hlen + bound)))
		return NULL;
	memcpy(out, hdr, hlen);
	*out_len = ZSTD_compress(out + hlen, bound, data + 1, size - 1, 1);
	if (ZSTD_isError(*out_len)) {
		free(out);
		return NULL;
	}
	*out_len += hlen;
	return out;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct journal_header h;
	struct journal_reader r;
	struct journal_record rec;
	char path[64], err[300];
	size_t jlen;
	uint8_t *bytes = as_journal(data, size, &jlen);
	int fd = memfd_create("journal", 0), rc;

	if (fd < 0 || !bytes || write(fd, bytes, jlen) != (ssize_t)jlen) {
		free(bytes);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	free(bytes);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (journal_reader_open(&r, path, &h, err, sizeof(err)) == 0) {
		struct journal_index_entry *e, first = { .offset = r.next };
		size_t n;

		/* The index as `journal dump --from` uses it: a seek to any entry must read safely. */
		if (journal_read_index(&r, &e, &n, err, sizeof(err)) == 0 && n) {
			journal_seek(&r, &e[size % n]);
			journal_read(&r, &rec, err, sizeof(err));
			journal_seek(&r, &first);
		}
		free(e);
		/* Packed inputs, as replay and unpack look for them. */
		for (enum pack_kind k = PACK_KERNEL; k < PACK_KINDS; k++) {
			struct pack_input in;

			if (pack_find(&r, k, &in, err, sizeof(err)) > 0 && in.len)
				sink ^= in.data[in.len - 1] ^ (uint8_t)in.name[0];
		}
		while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0) {
			struct jcur c = { rec.data, rec.len, 0, false };
			struct rr_landmark l;
			struct rr_checkpoint ck;

			/* Decode the way replay does: every field through the bounds-checked cursor. */
			if (rec.type == JREC_EXIT) {
				struct rr_exit x, y;
				char text[200];

				/* The exit codec as replay and dump use it: decode, compare, word it. */
				if (rr_exit_decode(rec.data, rec.len, &x) == 0) {
					y = x;
					rr_exit_matches(&x, &y, false);
					rr_exit_matches(&x, &y, true);
					rr_exit_describe(&x, text, sizeof(text));
					rr_exit_dump(&x, text, sizeof(text));
					exit_round_trip(&x);
				}
			} else if (rec.type == JREC_LANDMARK) {
				if (rr_landmark_decode(&c, &l) == 0)
					landmark_round_trip(&l);
			} else if (rec.type == JREC_CHECKPOINT) {
				if (rr_checkpoint_decode(&c, &ck) == 0)
					checkpoint_round_trip(&ck);
			} else
				while (!c.bad && c.pos < c.len)
					jcur_varint(&c);
		}
		journal_reader_close(&r);
	}
	close(fd);
	return 0;
}
