/* cmocka tests of packed journals: the inputs ride along, every reader still reads the records. */
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
#include <unistd.h>

#include "journal.h"
#include "pack.h"

static char jpath[64], ppath[64];
static uint8_t kernel[5000], symbols[300];

static int setup(void **state)
{
	struct journal_writer w;
	struct journal_header h;
	char err[200];

	(void)state;
	snprintf(jpath, sizeof(jpath), "/tmp/vmm-pack-test-%d.vrr", getpid());
	snprintf(ppath, sizeof(ppath), "/tmp/vmm-pack-test-%d.packed.vrr", getpid());
	unlink(jpath);
	unlink(ppath);
	memset(&h, 0, sizeof(h));
	h.mem_size = 64ull << 20;
	strcpy(h.kernel_path, "k.elf");
	strcpy(h.board, "pic");
	assert_int_equal(journal_writer_open(&w, jpath, false, &h, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 400; i++) {
		uint8_t p[16];

		memset(p, (int)i, sizeof(p));
		if (i % 100 == 50)
			assert_int_equal(journal_write_checkpoint(&w, p, sizeof(p), (uint64_t)i * 10000000ull, i,
								  (uint64_t)i * 1000), 0);
		else
			assert_int_equal(journal_write(&w, JREC_EXIT, p, sizeof(p), (uint64_t)i * 10000000ull), 0);
	}
	assert_int_equal(journal_writer_close(&w), 0);
	for (size_t i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 13);
	memcpy(symbols, "\177ELF", 4);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(jpath);
	unlink(ppath);
	return 0;
}

static void pack(bool force)
{
	struct journal_header h;
	struct journal_reader r;
	struct pack_input in[2] = {
		{ .kind = PACK_KERNEL, .name = "k.elf", .data = kernel, .len = sizeof(kernel) },
		{ .kind = PACK_SYMBOLS, .name = "vmlinux", .data = symbols, .len = sizeof(symbols) },
	};
	char err[200];

	assert_int_equal(journal_reader_open(&r, jpath, &h, err, sizeof(err)), 0);
	assert_int_equal(pack_write(&r, ppath, force, in, 2, err, sizeof(err)), 0);
	journal_reader_close(&r);
}

/* Every record, as (type, length, first byte), in order. */
static size_t read_all(const char *path, uint32_t *out, size_t max)
{
	struct journal_header h;
	struct journal_reader r;
	struct journal_record rec;
	char err[200];
	size_t n = 0;
	int got;

	assert_int_equal(journal_reader_open(&r, path, &h, err, sizeof(err)), 0);
	while ((got = journal_read(&r, &rec, err, sizeof(err))) > 0 && n < max)
		out[n++] = (uint32_t)rec.type << 24 | (uint32_t)rec.len << 8 | (rec.len ? rec.data[0] : 0);
	assert_int_equal(got, 0);
	assert_false(r.truncated);
	journal_reader_close(&r);
	return n;
}

static void test_round_trip(void **state)
{
	static uint32_t a[1000], b[1000];
	struct journal_header h;
	struct journal_reader r;
	struct journal_index_entry *e;
	struct pack_input in;
	char err[200];
	size_t n, ne;

	(void)state;
	pack(false);
	n = read_all(jpath, a, 1000);
	assert_int_equal(read_all(ppath, b, 1000), n);
	assert_memory_equal(a, b, n * sizeof(a[0]));
	assert_int_equal(journal_reader_open(&r, ppath, &h, err, sizeof(err)), 0);
	assert_int_equal(pack_find(&r, PACK_KERNEL, &in, err, sizeof(err)), 1);
	assert_string_equal(in.name, "k.elf");
	assert_int_equal(in.len, sizeof(kernel));
	assert_memory_equal(in.data, kernel, sizeof(kernel));
	assert_int_equal(pack_find(&r, PACK_SYMBOLS, &in, err, sizeof(err)), 1);
	assert_string_equal(in.name, "vmlinux");
	assert_int_equal(pack_find(&r, PACK_INITRD, &in, err, sizeof(err)), 0);
	/* The index still points at checkpoint frames: the inputs went in after them. */
	assert_int_equal(journal_read_index(&r, &e, &ne, err, sizeof(err)), 0);
	assert_true(ne >= 3);
	journal_seek(&r, &e[ne - 1]);
	{
		struct journal_record rec;

		assert_int_equal(journal_read(&r, &rec, err, sizeof(err)), 1);
		assert_int_equal(rec.type, JREC_CHECKPOINT);
	}
	free(e);
	journal_reader_close(&r);
	/* Not over an existing file, unless forced. */
	{
		struct pack_input k = { .kind = PACK_KERNEL, .name = "k", .data = kernel, .len = 1 };

		assert_int_equal(journal_reader_open(&r, jpath, &h, err, sizeof(err)), 0);
		assert_int_equal(pack_write(&r, ppath, false, &k, 1, err, sizeof(err)), -EEXIST);
		journal_reader_close(&r);
	}
	pack(true);
}

static void test_damaged_input(void **state)
{
	struct journal_header h;
	struct journal_reader r;
	struct pack_input in;
	char err[200];
	int fd;
	off_t at;
	uint8_t byte;

	(void)state;
	pack(false);
	/* Flip a byte of the packed kernel: its hash no longer matches. */
	assert_int_equal(journal_reader_open(&r, ppath, &h, err, sizeof(err)), 0);
	assert_int_equal(pack_find(&r, PACK_KERNEL, &in, err, sizeof(err)), 1);
	at = (off_t)(in.data - r.map) + 100;
	journal_reader_close(&r);
	fd = open(ppath, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, at), 1);
	byte ^= 0xff;
	assert_int_equal(pwrite(fd, &byte, 1, at), 1);
	close(fd);
	assert_int_equal(journal_reader_open(&r, ppath, &h, err, sizeof(err)), 0);
	assert_int_equal(pack_find(&r, PACK_KERNEL, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "do not match its SHA-256"));
	journal_reader_close(&r);
}

static void test_cut_short_refused(void **state)
{
	struct journal_header h;
	struct journal_reader r;
	struct pack_input k = { .kind = PACK_KERNEL, .name = "k", .data = kernel, .len = 1 };
	char err[200];
	off_t size;
	int fd;

	(void)state;
	fd = open(jpath, O_RDWR);
	size = lseek(fd, 0, SEEK_END);
	assert_int_equal(ftruncate(fd, size - 10), 0);
	close(fd);
	assert_int_equal(journal_reader_open(&r, jpath, &h, err, sizeof(err)), 0);
	assert_int_equal(pack_write(&r, ppath, false, &k, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no index"));
	assert_int_equal(access(ppath, F_OK), -1);
	journal_reader_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
