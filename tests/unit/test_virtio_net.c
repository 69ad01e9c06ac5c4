/* cmocka tests of virtio-net's device core: config space, transmit, receive, header sizes, hostile buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "virtio/net.h"
#include "../core/le.h"

#define RAM	(1u << 20)
#define QSIZE	8
/* Queue q's rings in guest memory. */
#define DESC(q)		(0x10000u + (q) * 0x4000u)
#define AVAIL(q)	(DESC(q) + 0x1000u)
#define USED(q)		(DESC(q) + 0x2000u)
#define BUF		0x40000u

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static struct guest_mem mem;
static struct virtio_net net;
static uint8_t sent[2048];
static size_t sent_len;
static int sends;

static void tx(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	memcpy(sent, frame, len);
	sent_len = len;
	sends++;
}

static void set_irq(void *ctx, int level)
{
	(void)ctx;
	(void)level;
}

static uint8_t *gp(uint64_t gpa)
{
	return gmem_ptr(&mem, gpa, 1);
}

/* Bring the device up as a driver would, with VERSION_1 or as a legacy driver. */
static void bring_up(bool modern)
{
	virtio_set_status(&net.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	net.vd.legacy = !modern;
	virtio_set_driver_features(&net.vd, (modern ? 1ull << VIRTIO_F_VERSION_1 : 0) | 1ull << VIRTIO_NET_F_MAC);
	virtio_set_status(&net.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		net.vd.qcfg[q] = (struct virtio_queue_cfg){ .size = QSIZE, .desc = DESC(q), .avail = AVAIL(q),
							    .used = USED(q) };
		virtio_queue_enable(&net.vd, q);
	}
	virtio_set_status(&net.vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
					   VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_running(&net.vd));
}

static void desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = gp(DESC(q) + i * 16);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

/* Make head available on queue q and tell the device. */
static void publish(unsigned q, uint16_t head)
{
	uint8_t *a = gp(AVAIL(q));
	uint16_t idx = get_le16(a + 2);

	put_le16(a + 4 + 2 * (idx % QSIZE), head);
	put_le16(a + 2, (uint16_t)(idx + 1));
	virtio_queue_notify(&net.vd, q);
}

static uint16_t used_idx(unsigned q)
{
	return get_le16(gp(USED(q)) + 2);
}

static int setup(void **state)
{
	(void)state;
	sends = 0;
	sent_len = 0;
	if (gmem_alloc(&mem, RAM) < 0)
		return -1;
	virtio_net_init(&net, &mem, mac, tx, NULL, set_irq, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virtio_net_free(&net);
	gmem_free(&mem);
	return 0;
}

static void test_config(void **state)
{
	uint8_t cfg[8];

	(void)state;
	assert_int_equal(net.vd.ops->type, VIRTIO_ID_NET);
	assert_true(virtio_device_features(&net.vd) & 1ull << VIRTIO_NET_F_MAC);
	assert_true(virtio_device_features(&net.vd) & 1ull << VIRTIO_NET_F_STATUS);
	virtio_config_read(&net.vd, 0, cfg, 8);
	assert_memory_equal(cfg, mac, 6);
	assert_int_equal(get_le16(cfg + 6), VIRTIO_NET_S_LINK_UP);
	/* The MAC is the device's: a driver's write does not change it. */
	virtio_config_write(&net.vd, 0, "\1\2\3\4\5\6", 6);
	virtio_config_read(&net.vd, 0, cfg, 6);
	assert_memory_equal(cfg, mac, 6);
}

static void test_header_length(void **state)
{
	(void)state;
	bring_up(false);
	assert_int_equal(virtio_net_hdr_len(&net), VIRTIO_NET_HDR_LEGACY);
	virtio_set_status(&net.vd, 0);
	bring_up(true);
	assert_int_equal(virtio_net_hdr_len(&net), VIRTIO_NET_HDR_V1);
}

static void test_transmit(void **state)
{
	uint8_t *frame = gp(BUF + 0x100);

	(void)state;
	bring_up(true);
	memset(gp(BUF), 0, VIRTIO_NET_HDR_V1);
	for (unsigned i = 0; i < 60; i++)
		frame[i] = (uint8_t)i;
	desc(VIRTIO_NET_TX, 3, BUF, VIRTIO_NET_HDR_V1, 1, 4);
	desc(VIRTIO_NET_TX, 4, BUF + 0x100, 60, 0, 0);
	publish(VIRTIO_NET_TX, 3);
	assert_int_equal(sends, 1);
	assert_int_equal(sent_len, 60);
	assert_memory_equal(sent, frame, 60);
	assert_int_equal(used_idx(VIRTIO_NET_TX), 1);
	assert_int_equal(get_le32(gp(USED(VIRTIO_NET_TX)) + 4), 3);	/* id: the head */
	assert_int_equal(get_le32(gp(USED(VIRTIO_NET_TX)) + 8), 0);	/* len: nothing written */

	/* Shorter than the header, or longer than a frame can be: not sent, still returned. */
	desc(VIRTIO_NET_TX, 0, BUF, 4, 0, 0);
	publish(VIRTIO_NET_TX, 0);
	desc(VIRTIO_NET_TX, 1, BUF, VIRTIO_NET_HDR_V1 + VIRTIO_NET_FRAME_MAX + 1, 0, 0);
	publish(VIRTIO_NET_TX, 1);
	assert_int_equal(sends, 1);
	assert_int_equal(net.tx_bad, 2);
	assert_int_equal(used_idx(VIRTIO_NET_TX), 3);
	assert_true(virtio_running(&net.vd));
}

static void test_receive(void **state)
{
	uint8_t frame[42], pkt[VIRTIO_NET_HDR_V1 + VIRTIO_NET_FRAME_MAX];
	uint32_t room, len;
	uint16_t head;

	(void)state;
	bring_up(true);
	assert_false(virtio_net_rx_room(&net, &head, &room));
	desc(VIRTIO_NET_RX, 5, BUF, 1600, 2, 0);	/* VIRTQ_DESC_F_WRITE */
	publish(VIRTIO_NET_RX, 5);
	desc(VIRTIO_NET_RX, 2, BUF + 0x1000, 64, 2, 0);
	publish(VIRTIO_NET_RX, 2);
	assert_true(virtio_net_rx_room(&net, &head, &room));
	assert_int_equal(head, 5);
	assert_int_equal(room, 1600);

	memset(frame, 0xa5, sizeof(frame));
	len = virtio_net_rx_packet(&net, frame, sizeof(frame), pkt, room);
	assert_int_equal(len, VIRTIO_NET_HDR_V1 + sizeof(frame));
	assert_int_equal(get_le16(pkt + 10), 1);		/* num_buffers */
	/* Only the oldest buffer may be filled: replay applies completions in the recorded order. */
	assert_int_equal(net.vd.ops->complete(&net.vd, VIRTIO_NET_RX, 2, pkt, len), -22);
	assert_int_equal(net.vd.ops->complete(&net.vd, VIRTIO_NET_RX, 5, pkt, len), 0);
	assert_int_equal(used_idx(VIRTIO_NET_RX), 1);
	assert_int_equal(get_le32(gp(USED(VIRTIO_NET_RX)) + 8), len);
	assert_memory_equal(gp(BUF + VIRTIO_NET_HDR_V1), frame, sizeof(frame));

	/* The next buffer holds 64 bytes: a full-size frame does not fit, and is not cut. */
	assert_true(virtio_net_rx_room(&net, &head, &room));
	assert_int_equal(head, 2);
	assert_int_equal(virtio_net_rx_packet(&net, pkt, 100, pkt, room), 0);
	assert_int_equal(virtio_net_rx_packet(&net, pkt, VIRTIO_NET_FRAME_MAX + 1, pkt, sizeof(pkt)), 0);
}

static void test_hostile_receive_buffer(void **state)
{
	(void)state;
	bring_up(true);
	/* Device-readable only: the device cannot put a frame there. */
	desc(VIRTIO_NET_RX, 0, BUF, 1600, 0, 0);
	publish(VIRTIO_NET_RX, 0);
	assert_true(net.vd.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_running(&net.vd));
	/* A reset brings it back. */
	virtio_set_status(&net.vd, 0);
	assert_false(net.vd.status & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_no_backend(void **state)
{
	(void)state;
	/* Replay has no backend: frames are dropped, the ring moves as recorded. */
	virtio_net_free(&net);
	virtio_net_init(&net, &mem, mac, NULL, NULL, set_irq, NULL);
	bring_up(false);
	desc(VIRTIO_NET_TX, 0, BUF, VIRTIO_NET_HDR_LEGACY + 60, 0, 0);
	publish(VIRTIO_NET_TX, 0);
	assert_int_equal(sends, 0);
	assert_int_equal(net.tx_frames, 1);
	assert_int_equal(used_idx(VIRTIO_NET_TX), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_receive_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backend, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio-net", tests, NULL, NULL);
}
