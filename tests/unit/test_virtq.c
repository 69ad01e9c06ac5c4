/* cmocka tests of the split virtqueue: chains, indirect tables, event index, and refusal of hostile rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtq.h"

#define RAM	(1u << 20)
#define QSZ	8
#define DESC	0x1000u
#define AVAIL	0x2000u
#define USED	0x3000u
#define BUF	0x10000u
#define CHAIN_MAX	(64u << 10)	/* as virtio-console's */

static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain *chain;
static uint16_t avail_idx;

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = mem.host + table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void make_available(uint16_t head)
{
	memcpy(mem.host + AVAIL + 4 + 2 * (avail_idx % QSZ), &head, 2);
	avail_idx++;
	memcpy(mem.host + AVAIL + 2, &avail_idx, 2);
}

static uint16_t rd16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, mem.host + gpa, 2);
	return v;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, mem.host + gpa, 4);
	return v;
}

static int setup_flags(bool event_idx, bool indirect)
{
	mem.size = RAM;
	mem.host = calloc(1, RAM);
	chain = calloc(1, sizeof(*chain));
	avail_idx = 0;
	if (!mem.host || !chain)
		return -1;
	return virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, event_idx, indirect, CHAIN_MAX);
}

static int setup(void **state)
{
	(void)state;
	return setup_flags(false, true);
}

static int setup_event_idx(void **state)
{
	(void)state;
	return setup_flags(true, true);
}

static int teardown(void **state)
{
	(void)state;
	free(mem.host);
	free(chain);
	return 0;
}

/* Pop expecting a refusal whose reason contains want. */
static void expect_refused(const char *want)
{
	const char *why = NULL;

	assert_int_equal(virtq_pop(&q, &mem, chain, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, want));
}

static void test_chain_read_write_push(void **state)
{
	const char *why = NULL;
	char out[16] = { 0 };

	(void)state;
	memcpy(mem.host + BUF, "hello, ", 7);
	memcpy(mem.host + BUF + 0x100, "device", 6);
	put_desc(DESC, 0, BUF, 7, VIRTQ_DESC_F_NEXT, 3);
	put_desc(DESC, 3, BUF + 0x100, 6, VIRTQ_DESC_F_NEXT, 5);
	put_desc(DESC, 5, BUF + 0x200, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
	put_desc(DESC, 6, BUF + 0x300, 4, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_pop(&q, &mem, chain, &why), 0);	/* nothing yet */
	make_available(0);
	assert_int_equal(virtq_pop(&q, &mem, chain, &why), 1);
	assert_int_equal(chain->head, 0);
	assert_int_equal(chain->n_out, 2);
	assert_int_equal(chain->n_in, 2);
	assert_int_equal(chain->out_bytes, 13);
	assert_int_equal(chain->in_bytes, 8);
	/* Reads and writes run across segment boundaries, from an offset. */
	assert_int_equal(virtq_chain_read(&mem, chain, 0, out, sizeof(out)), 13);
	assert_memory_equal(out, "hello, device", 13);
	assert_int_equal(virtq_chain_read(&mem, chain, 5, out, 4), 4);
	assert_memory_equal(out, ", de", 4);
	assert_int_equal(virtq_chain_write(&mem, chain, 2, "abcdefgh", 8), 6);
	assert_memory_equal(mem.host + BUF + 0x202, "ab", 2);
	assert_memory_equal(mem.host + BUF + 0x300, "cdef", 4);
	virtq_push(&q, &mem, chain->head, 6);
	assert_int_equal(rd16(USED + 2), 1);
	assert_int_equal(rd32(USED + 4), 0);
	assert_int_equal(rd32(USED + 8), 6);
	assert_int_equal(virtq_pop(&q, &mem, chain, &why), 0);	/* consumed */
}

static void test_indirect_table(void **state)
{
	const uint64_t table = 0x4000;

	(void)state;
	put_desc(table, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	put_desc(table, 2, BUF + 0x100, 32, VIRTQ_DESC_F_WRITE, 0);
	put_desc(DESC, 1, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(1);
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	assert_int_equal(chain->head, 1);
	assert_int_equal(chain->n_out, 1);
	assert_int_equal(chain->n_in, 1);
	assert_int_equal(chain->in_bytes, 32);
}

static void test_interrupt_suppression_flags(void **state)
{
	(void)state;
	put_desc(DESC, 0, BUF, 4, 0, 0);
	make_available(0);
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	virtq_push(&q, &mem, 0, 0);
	assert_true(virtq_should_interrupt(&q, &mem));
	mem.host[AVAIL] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtq_should_interrupt(&q, &mem));
	virtq_set_notify(&q, &mem, false);
	assert_int_equal(rd16(USED), VIRTQ_USED_F_NO_NOTIFY);
	virtq_set_notify(&q, &mem, true);
	assert_int_equal(rd16(USED), 0);
}

static void test_event_idx(void **state)
{
	uint16_t used_event;

	(void)state;
	for (uint16_t i = 0; i < 4; i++)
		put_desc(DESC, i, BUF + 0x100 * i, 4, 0, 0);
	for (uint16_t i = 0; i < 4; i++)
		make_available(i);
	/* The driver wants an interrupt once entry 2 is used (used_event = 2). */
	used_event = 2;
	memcpy(mem.host + AVAIL + 4 + 2 * QSZ, &used_event, 2);
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	virtq_push(&q, &mem, chain->head, 0);
	assert_true(virtq_should_interrupt(&q, &mem));	/* the first one always goes */
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	virtq_push(&q, &mem, chain->head, 0);
	assert_false(virtq_should_interrupt(&q, &mem));	/* used idx 2: entry 2 not used yet */
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	virtq_push(&q, &mem, chain->head, 0);
	assert_true(virtq_should_interrupt(&q, &mem));	/* used idx 3 passed used_event 2 */
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	virtq_push(&q, &mem, chain->head, 0);
	assert_false(virtq_should_interrupt(&q, &mem));
	/* avail_event tells the driver where the device wants the next notification. */
	virtq_set_notify(&q, &mem, true);
	assert_int_equal(rd16(USED + 4 + 8 * QSZ), 4);
}

static void test_ring_wraps(void **state)
{
	(void)state;
	put_desc(DESC, 0, BUF, 4, 0, 0);
	for (unsigned n = 0; n < 3 * QSZ + 3; n++) {
		make_available(0);
		assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
		virtq_push(&q, &mem, 0, 4);
	}
	assert_int_equal(rd16(USED + 2), 3 * QSZ + 3);
}

static void test_refuses_bad_head_and_next(void **state)
{
	(void)state;
	make_available(QSZ);
	expect_refused("outside the queue");
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0xffff);
	make_available(0);
	expect_refused("outside the queue");
}

static void test_refuses_loops_and_long_chains(void **state)
{
	(void)state;
	put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
	make_available(0);
	expect_refused("loops");
	/* A loop in an indirect table too. */
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(0x4000, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	put_desc(0x4000, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
	put_desc(DESC, 2, 0x4000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(2);
	expect_refused("loops");
}

static void test_refuses_memory_outside_ram(void **state)
{
	(void)state;
	put_desc(DESC, 0, RAM - 2, 4, 0, 0);
	make_available(0);
	expect_refused("outside guest RAM");
	/* addr + len wrapping around 2^64 is outside too. */
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, ~0ull - 1, 16, 0, 0);
	make_available(0);
	expect_refused("outside guest RAM");
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, 2ull * RAM, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_refused("outside guest RAM");
}

static void test_refuses_rule_breaking_chains(void **state)
{
	(void)state;
	put_desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 4, 0, 0);
	make_available(0);
	expect_refused("readable descriptor after a device-writable");

	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, 0x4000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	make_available(0);
	expect_refused("both indirect and chained");

	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(0x4000, 0, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(DESC, 0, 0x4000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_refused("inside an indirect table");

	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, 0x4000, 20, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_refused("bad length");

	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, false, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, 0x4000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_refused("without VIRTIO_F_INDIRECT_DESC");
}

/* A guest's 1024 descriptors each covering all of RAM would be a gigabyte per request: refused. */
static void test_refuses_oversized_chains(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4; i++)
		put_desc(0x4000, i, 0, RAM, i < 3 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	put_desc(DESC, 0, 0x4000, 64, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_refused("more bytes than the device takes");
	/* One byte past the bound in plain chained descriptors, and the bound itself accepted. */
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 0, BUF, CHAIN_MAX - 1, VIRTQ_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 2, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	expect_refused("more bytes than the device takes");
	virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED, false, true, CHAIN_MAX);
	avail_idx = 0;
	put_desc(DESC, 1, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	assert_int_equal(virtq_pop(&q, &mem, chain, NULL), 1);
	assert_int_equal(chain->out_bytes + chain->in_bytes, CHAIN_MAX);
}

static void test_refuses_avail_index_jump(void **state)
{
	uint16_t idx = QSZ + 1;

	(void)state;
	memcpy(mem.host + AVAIL + 2, &idx, 2);
	expect_refused("more than a queue ahead");
}

static void test_enable_checks_layout(void **state)
{
	struct virtq t;

	(void)state;
	assert_int_equal(virtq_enable(&t, &mem, 0, DESC, AVAIL, USED, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, 6, DESC, AVAIL, USED, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, 2048, DESC, AVAIL, USED, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, QSZ, DESC + 8, AVAIL, USED, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, QSZ, DESC, AVAIL + 1, USED, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, QSZ, DESC, AVAIL, USED + 2, false, false, CHAIN_MAX), -EINVAL);
	assert_int_equal(virtq_enable(&t, &mem, QSZ, DESC, AVAIL, RAM - 8, false, false, CHAIN_MAX), -EINVAL);
	assert_false(t.ready);
	assert_int_equal(virtq_pop(&t, &mem, chain, NULL), 0);	/* a queue that is off yields nothing */
	assert_int_equal(virtq_enable(&t, &mem, VIRTQ_SIZE_MAX, DESC, 0x8000, 0x9000, true, true, CHAIN_MAX), 0);
	assert_true(t.ready);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_read_write_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_suppression_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_ring_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_head_and_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_loops_and_long_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_memory_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_rule_breaking_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_oversized_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_avail_index_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_checks_layout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
