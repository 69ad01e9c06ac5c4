/* cmocka tests of virtio-blk's device core against a held backend: requests, and what a reset does to them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "../core/le.h"
#include "../core/worker.h"

#define RAM	(8u << 20)	/* room for a chain past VIRTIO_BLK_REQ_MAX */
#define QSIZE	8
#define DESC	0x10000u
#define AVAIL	0x11000u
#define USED	0x12000u
#define HDR	0x20000u
#define DATA	0x21000u
#define STATUS	0x30000u
#define SECTORS	64

static struct guest_mem mem;
static struct virtio_blk blk;
static int image = -1;
/* The backend holds jobs here instead of running them: the test decides when each finishes. */
static struct worker_job *held[16];
static unsigned n_held, cancels;

static void hold(void *ctx, struct worker_job *job)
{
	(void)ctx;
	assert_true(n_held < 16);
	held[n_held++] = job;
}

static void cancel(void *ctx, const void *owner)
{
	(void)ctx;
	assert_ptr_equal(owner, &blk.vd);
	cancels++;
}

static const struct virtio_backend backend = { hold, cancel, NULL };

static void set_irq(void *ctx, int level)
{
	(void)ctx;
	(void)level;
}

static uint8_t *gp(uint64_t gpa)
{
	return gmem_ptr(&mem, gpa, 1);
}

static void bring_up(void)
{
	uint8_t *u = gp(USED), *a = gp(AVAIL);

	memset(u, 0, 8);
	memset(a, 0, 8);
	virtio_set_status(&blk.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_set_driver_features(&blk.vd, 1ull << VIRTIO_F_VERSION_1);
	virtio_set_status(&blk.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	blk.vd.qcfg[0] = (struct virtio_queue_cfg){ .size = QSIZE, .desc = DESC, .avail = AVAIL, .used = USED };
	virtio_queue_enable(&blk.vd, 0);
	virtio_set_status(&blk.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
					   VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_running(&blk.vd));
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = gp(DESC + i * 16);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

/* A request of type at chain head 0: header, len data bytes for the device to fill, status. */
static void request(uint32_t type, uint32_t len)
{
	uint8_t *a = gp(AVAIL);
	uint16_t idx = get_le16(a + 2);

	memset(gp(HDR), 0, 16);
	put_le32(gp(HDR), type);
	desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA, len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put_le16(a + 4 + 2 * (idx % QSIZE), 0);
	put_le16(a + 2, (uint16_t)(idx + 1));
	virtio_queue_notify(&blk.vd, 0);
}

static void finish(struct worker_job *job)
{
	job->run(job);
}

static void free_held(void)
{
	for (unsigned i = 0; i < n_held; i++) {
		free(held[i]->data);
		free(held[i]->out);
		free(held[i]);
	}
	n_held = 0;
}

static int setup(void **state)
{
	char path[] = "/tmp/vmm-test-blk-XXXXXX";
	uint8_t sector[512];

	(void)state;
	n_held = cancels = 0;
	if (gmem_alloc(&mem, RAM) < 0 || (image = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	memset(sector, 0xa5, sizeof(sector));
	for (unsigned i = 0; i < SECTORS; i++)
		if (write(image, sector, sizeof(sector)) != (ssize_t)sizeof(sector))
			return -1;
	virtio_blk_init(&blk, &mem, &backend, image, SECTORS, false, set_irq, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_held();
	virtio_blk_free(&blk);	/* closes the image */
	gmem_free(&mem);
	return 0;
}

static void test_read_completes(void **state)
{
	(void)state;
	bring_up();
	request(VIRTIO_BLK_T_IN, 512);
	assert_int_equal(n_held, 1);
	finish(held[0]);
	assert_int_equal(virtio_job_complete(&blk.vd, held[0]), 0);
	assert_int_equal(get_le16(gp(USED) + 2), 1);
	assert_int_equal(gp(DATA)[0], 0xa5);
	assert_int_equal(gp(STATUS)[0], VIRTIO_BLK_S_OK);
}

/*
 * GET_ID in flight, the driver resets and posts a READ at the same head: the
 * READ gets the disk's bytes, never the old request's id string, and the
 * reset asked the backend to drop what it had not started.
 */
static void test_reset_cancels_in_flight(void **state)
{
	(void)state;
	bring_up();
	request(VIRTIO_BLK_T_GET_ID, 512);
	assert_int_equal(n_held, 1);
	virtio_set_status(&blk.vd, 0);
	assert_int_equal(cancels, 1);
	bring_up();
	memset(gp(DATA), 0, 512);
	gp(STATUS)[0] = 0xff;
	request(VIRTIO_BLK_T_IN, 512);
	assert_int_equal(n_held, 2);
	finish(held[0]);
	assert_int_equal(virtio_job_complete(&blk.vd, held[0]), -ESTALE);
	assert_int_equal(get_le16(gp(USED) + 2), 0);
	assert_int_equal(gp(DATA)[0], 0);
	assert_int_equal(gp(STATUS)[0], 0xff);
	finish(held[1]);
	assert_int_equal(virtio_job_complete(&blk.vd, held[1]), 0);
	assert_int_equal(get_le16(gp(USED) + 2), 1);
	assert_int_equal(gp(DATA)[0], 0xa5);
	assert_int_equal(gp(STATUS)[0], VIRTIO_BLK_S_OK);
}

/* A request larger than the device takes in one chain is refused at the notify, before any job. */
static void test_oversized_request_refused(void **state)
{
	(void)state;
	bring_up();
	request(VIRTIO_BLK_T_IN, VIRTIO_BLK_REQ_MAX + 512);
	assert_int_equal(n_held, 0);
	assert_true(blk.vd.status & VIRTIO_STATUS_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_cancels_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
