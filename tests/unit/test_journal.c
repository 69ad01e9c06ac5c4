/* cmocka tests of the journal file: round trip, varints, header fields, and refusals of bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "hash.h"
#include "journal.h"
#include "xxh64.h"
#include "../core/guest_mem.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/vmm-journal-test-%d.vrr", getpid());
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void fill_header(struct journal_header *h)
{
	memset(h, 0, sizeof(*h));
	h->mem_size = 64ull << 20;
	h->rtc_epoch = 1700000000;
	strcpy(h->cmdline, "console=ttyS0");
	strcpy(h->kernel_path, "/k");
	memset(h->kernel_sha256, 0xab, 32);
	h->cpuid_len = 28;
	strcpy(h->board, "pic,pit");
	strcpy(h->vmm_version, "test");
	h->ioeventfd = true;
}

static void write_journal(unsigned records)
{
	struct journal_writer w;
	struct journal_header h;
	char err[200];

	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, path, false, &h, err, sizeof(err)), 0);
	for (unsigned i = 0; i < records; i++) {
		uint8_t payload[8];

		memcpy(payload, &i, 4);
		memset(payload + 4, (int)i, 4);
		/* Time moves 30 ms a record: frames end every ~100 ms. */
		assert_int_equal(journal_write(&w, (uint8_t)(1 + i % 5), payload, sizeof(payload),
					       (uint64_t)i * 30000000ull), 0);
	}
	assert_int_equal(journal_writer_close(&w), 0);
}

static void test_round_trip(void **state)
{
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	char err[200];
	unsigned n = 0;
	int rc;

	(void)state;
	write_journal(100);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	assert_int_equal(h.mem_size, 64ull << 20);
	assert_int_equal(h.rtc_epoch, 1700000000);
	assert_string_equal(h.cmdline, "console=ttyS0");
	assert_false(h.has_initrd);
	assert_true(h.ioeventfd);	/* replay registers the notify addresses too */
	while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0) {
		unsigned v;

		memcpy(&v, rec.data, 4);
		assert_int_equal(v, n);
		assert_int_equal(rec.type, 1 + n % 5);
		assert_int_equal(rec.index, n);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 100);
	assert_false(r.truncated);
	journal_reader_close(&r);
}

/* A header's memory size replay could not build (not whole MiB, or out of range) is refused, not trusted. */
static void test_bad_memory_size(void **state)
{
	static const uint64_t bad[] = { (64ull << 20) + 1, 1ull << 20, 4096ull << 20, ~0ull };
	struct journal_writer w;
	struct journal_reader r;
	struct journal_header h;
	struct stat st;
	char err[200];

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill_header(&h);
		h.mem_size = bad[i];
		assert_int_equal(journal_writer_open(&w, path, true, &h, err, sizeof(err)), 0);
		assert_int_equal(journal_writer_close(&w), 0);
		assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is not a whole number of MiB"));
	}
	/* Journals hold typed input, disk data and frames: the owner's only. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_refuses_overwrite(void **state)
{
	struct journal_writer w;
	struct journal_header h;
	char err[200];

	(void)state;
	write_journal(1);
	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, path, false, &h, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "--force"));
	assert_int_equal(journal_writer_open(&w, path, true, &h, err, sizeof(err)), 0);
	journal_writer_close(&w);
}

static void test_truncation_keeps_whole_frames(void **state)
{
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	char err[200];
	unsigned n = 0;
	long size;
	FILE *f;

	(void)state;
	write_journal(100);
	f = fopen(path, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	/* Cut into the last data frame, before the index frame (its size is its last u32). */
	{
		uint8_t t[4];
		FILE *g = fopen(path, "r");

		assert_non_null(g);
		fseek(g, size - 4, SEEK_SET);
		assert_int_equal(fread(t, 1, 4, g), 4);
		fclose(g);
		size -= (long)(t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24);
	}
	assert_int_equal(truncate(path, size - 5), 0);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	while (journal_read(&r, &rec, err, sizeof(err)) > 0)
		n++;
	assert_true(r.truncated);
	assert_true(n > 0 && n < 100);
	assert_int_equal(n % 5, 0);	/* a frame ends with the record that reaches 100 ms: 5 of 30 ms */
	journal_reader_close(&r);
}

/*
 * A block header in the third data frame claiming 2 MiB: the frame would run
 * past the index, so this is damage with its offset, not a recording cut short.
 */
static void test_damage_before_the_end(void **state)
{
	static const unsigned dict_bytes[4] = { 0, 1, 2, 4 }, fcs_bytes[4] = { 0, 2, 4, 8 };
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	char err[200], want[40];
	struct stat st;
	uint8_t *buf, fhd;
	size_t off, hdr;
	int fd, rc;
	unsigned n = 0;

	(void)state;
	write_journal(100);
	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	fd = open(path, O_RDWR);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	/* Past the skippable header frame, then two data frames. */
	off = 8 + (buf[4] | buf[5] << 8 | buf[6] << 16 | (size_t)buf[7] << 24);
	for (int i = 0; i < 2; i++) {
		size_t c = ZSTD_findFrameCompressedSize(buf + off, (size_t)st.st_size - off);

		assert_false(ZSTD_isError(c));
		off += c;
	}
	fhd = buf[off + 4];
	hdr = 1 + !((fhd >> 5) & 1) + dict_bytes[fhd & 3] + ((fhd >> 6) == 0 ? (fhd >> 5 & 1) : fcs_bytes[fhd >> 6]);
	buf[off + 4 + hdr] = 0xf8;	/* raw block, not last, size 0x1fffff */
	buf[off + 4 + hdr + 1] = 0xff;
	buf[off + 4 + hdr + 2] = 0xff;
	assert_int_equal(pwrite(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	free(buf);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0)
		n++;
	assert_int_equal(rc, -EINVAL);
	assert_false(r.truncated);
	snprintf(want, sizeof(want), "offset %zu: damaged journal", off);
	assert_non_null(strstr(err, want));
	assert_int_equal(n, 10);	/* the two whole frames before it, 5 records each */
	journal_reader_close(&r);
}

static void test_bad_files(void **state)
{
	struct journal_reader r;
	struct journal_header h;
	char err[200];
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "\x50\x2a\x4d\x18\x06\x00\x00\x00VMMJ\x09\x00", 14), 14);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version 9"));
	/* Version 1 hashed landmarks' memory differently: refused, naming the versions read. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "\x50\x2a\x4d\x18\x06\x00\x00\x00VMMJ\x01\x00", 14), 14);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version 1, this vmm reads versions 2 to 6"));
	/* Version 2 is read: it lacks only the defer field (and the memory size, here). */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "\x50\x2a\x4d\x18\x06\x00\x00\x00VMMJ\x02\x00", 14), 14);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "lacks the memory size"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "\x50\x2a\x4d\x18\x09\x00\x00\x00VMMJ\x03\x00\x63\x01\x00", 17), 17);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown header field 99"));
	assert_int_equal(journal_reader_open(&r, "/nonexistent/j", &h, err, sizeof(err)), -ENOENT);
}

/* Writes records 0..99 with a checkpoint before every 25th; returns the checkpoints' record numbers. */
static void write_checkpointed(uint64_t *at)
{
	struct journal_writer w;
	struct journal_header h;
	char err[200];
	unsigned k = 0;

	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, path, false, &h, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 100; i++) {
		uint8_t payload[4];

		memcpy(payload, &i, 4);
		if (i % 25 == 10) {
			at[k] = w.records;
			assert_int_equal(journal_write_checkpoint(&w, payload, 4, i * 1000ull, i, i * 1000ull), 0);
			k++;
		}
		assert_int_equal(journal_write(&w, JREC_TICK, payload, 4, i * 1000ull), 0);
	}
	assert_int_equal(journal_writer_close(&w), 0);
}

static void test_index_and_seek(void **state)
{
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	struct journal_index_entry *e;
	uint64_t at[4];
	size_t n;
	char err[200];
	uint32_t v;

	(void)state;
	write_checkpointed(at);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	assert_int_equal(journal_read_index(&r, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i].record, at[i]);
		assert_int_equal(e[i].exits, 10 + 25 * i);
	}
	/* Seek to the third checkpoint: it is the next record, then the tick it preceded. */
	journal_seek(&r, &e[2]);
	assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec.type, JREC_CHECKPOINT);
	assert_int_equal(rec.index, at[2]);
	assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec.type, JREC_TICK);
	memcpy(&v, rec.data, 4);
	assert_int_equal(v, 60);
	free(e);
	journal_reader_close(&r);
}

/*
 * More frames than the writer thread queues, each over JOURNAL_FRAME_MAX, with
 * checkpoints between them: every record comes back in order, byte for
 * byte, and each index entry leads to its checkpoint. With sync (--fsync)
 * too, where each frame is on disk before the writer returns.
 */
static void big_frames(bool sync, bool thread)
{
	enum { N = 3 * JOURNAL_QUEUE, SIZE = 700 * 1024 };
	struct journal_writer w;
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	struct journal_index_entry *e;
	uint8_t *buf = malloc(SIZE);
	size_t n;
	char err[200];

	assert_non_null(buf);
	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, path, true, &h, err, sizeof(err)), 0);
	w.sync = sync;
	if (thread)
		assert_int_equal(journal_writer_start_thread(&w), 0);
	for (unsigned i = 0; i < N; i++) {
		memset(buf, (int)i, SIZE);
		memcpy(buf, &i, 4);
		if (i % 4 == 3)
			assert_int_equal(journal_write_checkpoint(&w, &i, 4, i, i, i), 0);
		/* Every other one in two pieces, as the recorder writes a completion: the same record. */
		if (i % 2)
			assert_int_equal(journal_write2(&w, JREC_VIRTIO, buf, 4, buf + 4, SIZE - 4, i), 0);
		else
			assert_int_equal(journal_write(&w, JREC_VIRTIO, buf, SIZE, i), 0);
	}
	assert_int_equal(journal_writer_close(&w), 0);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	assert_int_equal(journal_read_index(&r, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, N / 4);
	for (unsigned i = 0; i < N; i++) {
		uint32_t v;

		if (i % 4 == 3) {
			assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
			assert_int_equal(rec.type, JREC_CHECKPOINT);
		}
		assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
		assert_int_equal(rec.type, JREC_VIRTIO);
		assert_int_equal(rec.len, SIZE);
		memcpy(&v, rec.data, 4);
		assert_int_equal(v, i);
		assert_int_equal(rec.data[SIZE - 1], (uint8_t)i);
	}
	assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 0);
	for (size_t k = 0; k < n; k++) {
		uint32_t v;

		journal_seek(&r, &e[k]);
		assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
		assert_int_equal(rec.type, JREC_CHECKPOINT);
		memcpy(&v, rec.data, 4);
		assert_int_equal(v, 4 * k + 3);
		assert_int_equal(e[k].exits, 4 * k + 3);
	}
	free(e);
	journal_reader_close(&r);
	free(buf);
}

static void test_writer_thread_queue(void **state)
{
	(void)state;
	big_frames(false, true);
	big_frames(true, true);
	big_frames(false, false);	/* one CPU: the recording thread compresses */
}

/* A write that fails (on the writer thread or not) comes back to the recorder, and close says so too. */
static void writer_error(bool thread)
{
	struct journal_writer w;
	struct journal_header h;
	uint8_t buf[4096] = { 0 };
	char err[200];
	int r = 0, full;

	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, "/dev/full", true, &h, err, sizeof(err)), -ENOSPC);
	journal_writer_close(&w);
	assert_int_equal(journal_writer_open(&w, path, true, &h, err, sizeof(err)), 0);
	if (thread)
		assert_int_equal(journal_writer_start_thread(&w), 0);
	/* The disk fills up under the writer: its next frame's write fails. */
	full = open("/dev/full", O_WRONLY);
	assert_true(full >= 0);
	assert_int_equal(dup2(full, w.fd), w.fd);
	close(full);
	for (unsigned i = 0; i < 4096 && r == 0; i++)
		r = journal_write(&w, JREC_VIRTIO, buf, sizeof(buf), (uint64_t)i * 1000000ull);
	if (r == 0)
		r = journal_flush(&w);
	if (r == 0)
		r = journal_writer_close(&w);
	else
		journal_writer_close(&w);
	assert_int_equal(r, -ENOSPC);
}

static void test_writer_error(void **state)
{
	(void)state;
	writer_error(true);
	writer_error(false);
}

static void test_damaged_or_missing_index(void **state)
{
	struct journal_reader r;
	struct journal_header h;
	struct journal_index_entry *e;
	uint64_t at[4];
	size_t n;
	char err[200];
	struct stat st;
	uint8_t *buf;
	int fd;

	(void)state;
	write_checkpointed(at);
	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);

	/* An entry pointing into the middle of a frame is refused with the index's offset. */
	{
		size_t fsz = buf[st.st_size - 4] | buf[st.st_size - 3] << 8;

		buf[st.st_size - fsz + 13] ^= 0x01;	/* entry 0's offset: after magic, size, "VMMI", count */
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	assert_int_equal(journal_read_index(&r, &e, &n, err, sizeof(err)), -EINVAL);
	assert_null(e);
	assert_non_null(strstr(err, "index entry 0"));
	journal_reader_close(&r);

	/* Without its index frame (a killed recorder) the journal just has no index. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, buf, (size_t)st.st_size - 20), st.st_size - 20);
	close(fd);
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	assert_int_equal(journal_read_index(&r, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(e);
	journal_reader_close(&r);
	free(buf);
}

/* xxh64 against zstd's own frame checksum (its low 32 bits), for every tail length and a few long inputs. */
static void test_xxh64(void **state)
{
	static uint8_t in[70000], out[ZSTD_COMPRESSBOUND(70000)];
	ZSTD_CCtx *c = ZSTD_createCCtx();
	static const size_t lens[] = { 0, 1, 3, 4, 5, 7, 8, 9, 15, 31, 32, 33, 35, 36, 39, 40, 63, 64, 65, 4096, 69999 };

	(void)state;
	assert_int_equal(xxh64("", 0, 0), 0xEF46DB3751D8E999ull);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 2654435761u >> 13);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = ZSTD_compress2(c, out, sizeof(out), in, lens[i]);
		uint32_t want;

		assert_false(ZSTD_isError(n));
		memcpy(&want, out + n - 4, 4);
		assert_int_equal((uint32_t)xxh64(in, lens[i], 0), want);
	}
	ZSTD_freeCCtx(c);
}

/* Bytes zstd cannot shrink go into stored frames, which zstd reads back, checksum checked; others are compressed. */
static void test_stored_frames(void **state)
{
	static uint8_t payload[65536 + 13];
	struct journal_writer w;
	struct journal_reader r;
	struct journal_header h;
	struct journal_record rec;
	char err[200];
	uint64_t x = 0x9e3779b97f4a7c15ull, stored, frames, size;
	unsigned n = 0;
	struct stat st;
	uint8_t *buf;
	size_t off;
	int fd, rc;

	(void)state;
	fill_header(&h);
	assert_int_equal(journal_writer_open(&w, path, false, &h, err, sizeof(err)), 0);
	/* 48 records of random bytes (three frames), then 32 of a repeating pattern (two frames). */
	for (unsigned i = 0; i < 80; i++) {
		for (size_t j = 0; j < sizeof(payload); j++) {
			if (i < 48) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				payload[j] = (uint8_t)x;
			} else {
				payload[j] = (uint8_t)(j % 251);
			}
		}
		memcpy(payload, &i, 4);
		assert_int_equal(journal_write(&w, JREC_VIRTIO, payload, sizeof(payload), i), 0);
	}
	assert_int_equal(journal_writer_close(&w), 0);
	stored = w.stored;
	frames = w.frames;
	assert_int_equal(stored, 3);
	assert_int_equal(frames, 5);
	assert_int_equal(stat(path, &st), 0);
	size = (uint64_t)st.st_size;
	assert_true(size > 48ull * sizeof(payload) && size < 50ull * sizeof(payload));

	x = 0x9e3779b97f4a7c15ull;
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0) {
		assert_int_equal(rec.len, sizeof(payload));
		for (size_t j = 0; j < sizeof(payload); j++) {
			uint8_t want = (uint8_t)(j % 251);

			if (n < 48) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				want = (uint8_t)x;
			}
			if (j >= 4 && rec.data[j] != want)
				fail_msg("record %u byte %zu: 0x%02x, not 0x%02x", n, j, rec.data[j], want);
		}
		assert_memory_equal(rec.data, &n, 4);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 80);
	journal_reader_close(&r);

	/* One byte changed inside the first stored frame: zstd's checksum catches it. */
	buf = malloc(size);
	assert_non_null(buf);
	fd = open(path, O_RDWR);
	assert_int_equal(read(fd, buf, size), (ssize_t)size);
	off = 8 + (buf[4] | buf[5] << 8 | buf[6] << 16 | (size_t)buf[7] << 24);
	assert_int_equal(buf[off + 4], 0xa4);	/* the stored frame's descriptor: 4-byte size, one segment, checksum */
	buf[off + 100000] ^= 1;
	assert_int_equal(pwrite(fd, buf, size, 0), (ssize_t)size);
	close(fd);
	free(buf);
	n = 0;
	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	while ((rc = journal_read(&r, &rec, err, sizeof(err))) > 0)
		n++;
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "checksum"));
	journal_reader_close(&r);
}

static void test_varints(void **state)
{
	uint8_t buf[32];
	struct jbuf b = { buf, 0, sizeof(buf) };
	static const uint64_t vals[] = { 0, 1, 127, 128, 300, 1ull << 35, ~0ull };
	struct jcur c;

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		jbuf_varint(&b, vals[i]);
	c = (struct jcur){ buf, b.len, 0, false };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		assert_true(jcur_varint(&c) == vals[i]);
	assert_false(c.bad);
	jcur_u8(&c);
	assert_true(c.bad);		/* reading past the end is flagged, not undefined */
	c = (struct jcur){ (const uint8_t *)"\xff\xff", 2, 0, false };
	jcur_varint(&c);
	assert_true(c.bad);
}

static void sha256_hex(const void *data, size_t len, bool ni, size_t piece, char hex[65])
{
	struct sha256 s;
	uint8_t out[32];
	const uint8_t *p = data;

	sha256_init(&s);
	s.ni = s.ni && ni;
	for (size_t at = 0; at < len; at += piece)
		sha256_update(&s, p + at, len - at < piece ? len - at : piece);
	sha256_final(&s, out);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/* FIPS 180-2 appendix B and the empty message, by the C code and by the SHA extensions where the CPU has them. */
static void test_sha256(void **state)
{
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	struct sha256 probe;
	char hex[65], other[65];
	size_t n = 1000000;
	uint8_t *a = malloc(n);

	(void)state;
	assert_non_null(a);
	sha256_init(&probe);
	for (int ni = 0; ni <= probe.ni; ni++) {
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			sha256_hex(v[i].msg, strlen(v[i].msg), ni, 1000, hex);
			assert_string_equal(hex, v[i].hex);
		}
		memset(a, 'a', n);
		sha256_hex(a, n, ni, 4096 + 3, hex);
		assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	/* Every length around the block and padding boundaries, fed in odd pieces: both ways agree. */
	for (size_t i = 0; i < n; i++)
		a[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t len = 0; len < 300; len++) {
		sha256_hex(a, len, false, 7, hex);
		sha256_hex(a, len, true, 64 + len % 5, other);
		assert_string_equal(hex, other);
	}
	free(a);
	assert_true(hash64("a", 1, 0) != hash64("b", 1, 0));
}

/* A page's hash is part of the journal format (version 6): its values are pinned, and every byte counts. */
static void test_page_hash(void **state)
{
	static uint8_t page[4096];
	static const size_t at[] = { 0, 7, 8, 24, 31, 32, 2048, 4095 };
	uint64_t zero, ramp;

	(void)state;
	memset(page, 0, sizeof(page));
	zero = hash64_wide(page, sizeof(page));
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)i;
	ramp = hash64_wide(page, sizeof(page));
	assert_int_equal(zero, 0xb9aedc70cad01236ull);
	assert_int_equal(ramp, 0x52b347a8c10dbe50ull);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		page[at[i]] ^= 1;
		assert_true(hash64_wide(page, sizeof(page)) != ramp);
		page[at[i]] ^= 1;
	}
	/* The same words in other lanes: the lanes are not interchangeable. */
	memset(page, 0, sizeof(page));
	page[0] = 1;
	ramp = hash64_wide(page, sizeof(page));
	page[0] = 0;
	page[8] = 1;
	assert_true(hash64_wide(page, sizeof(page)) != ramp);
}

/* The premise of hashing pages without reading them: pagemap names every page that may hold anything. */
static void test_touched_pages(void **state)
{
	enum { N = 80 };
	long psz = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, N * (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile uint8_t *v = m;
	uint64_t bm[(N + 63) / 64];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(m != MAP_FAILED);
	assert_true(fd >= 0);
	v[3 * psz + 5] = 1;		/* written */
	(void)v[10 * psz];		/* read: mapped to the zero page, counted (it is zeros either way) */
	v[40 * psz] = 2;		/* written, then given back: zeros again */
	v[70 * psz + psz - 1] = 3;	/* a page of the second bitmap word, written at its end */
	assert_int_equal(madvise(m + 40 * psz, (size_t)psz, MADV_DONTNEED), 0);
	assert_int_equal(gmem_pages_touched(fd, m, N, bm), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(bm[i / 64] >> (i % 64) & 1, i == 3 || i == 10 || i == 70);
	assert_int_equal(gmem_pages_touched(-1, m, N, bm), -EBADF);
	close(fd);
	munmap(m, N * (size_t)psz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_memory_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_keeps_whole_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_before_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_and_seek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_or_missing_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_thread_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stored_frames, setup, teardown),
		cmocka_unit_test(test_xxh64),
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_page_hash),
		cmocka_unit_test(test_touched_pages),
	};
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
