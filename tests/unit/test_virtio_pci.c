/* cmocka tests of the virtio device core and its PCI transport: capabilities, BARs, negotiation, queues, ISR, legacy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "virtio/virtio_pci.h"

#define RAM (1u << 20)

static struct guest_mem mem;
static struct virtio_dev vd;
static struct virtio_pci vp;
static int irq_level, notifies, resets;

static void set_irq(void *ctx, int level)
{
	(void)ctx;
	irq_level = level;
}

static void dummy_notify(struct virtio_dev *d, unsigned q)
{
	(void)d;
	(void)q;
	notifies++;
}

static void dummy_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy", .type = VIRTIO_ID_RNG, .features = 1ull << 5, .num_queues = 2, .queue_max = 16,
	.notify = dummy_notify, .reset = dummy_reset,
};

static int setup(void **state)
{
	(void)state;
	irq_level = notifies = resets = 0;
	if (gmem_alloc(&mem, RAM) < 0)
		return -1;
	virtio_init(&vd, &dummy_ops, NULL, &mem, set_irq, NULL);
	virtio_pci_init(&vp, &vd, 0xc000, 0xe0000000u, 10);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gmem_free(&mem);
	return 0;
}

static uint32_t cfg(unsigned off, unsigned size)
{
	return pci_cfg_read(&vp.pci, off, size);
}

static void common_w(unsigned off, unsigned size, uint32_t v)
{
	virtio_pci_mem_write(&vp, VIRTIO_PCI_COMMON_OFF + off, size, v);
}

static uint32_t common_r(unsigned off, unsigned size)
{
	return (uint32_t)virtio_pci_mem_read(&vp, VIRTIO_PCI_COMMON_OFF + off, size);
}

static void test_config_space(void **state)
{
	unsigned found = 0;

	(void)state;
	assert_int_equal(cfg(0, 4), 0x10051af4);
	assert_int_equal(cfg(PCI_SUBSYSTEM_ID, 2), VIRTIO_ID_RNG);
	assert_int_equal(cfg(PCI_REVISION_ID, 1), 0);
	assert_true(cfg(PCI_STATUS, 2) & 0x10);
	assert_int_equal(cfg(PCI_INTERRUPT_LINE, 1), 10);
	assert_int_equal(cfg(PCI_INTERRUPT_PIN, 1), 1);
	/* BAR sizing: all-ones written, the size mask and the type bits read back. */
	pci_cfg_write(&vp.pci, 0x10, 4, 0xffffffffu);
	assert_int_equal(cfg(0x10, 4), 0x0000ffc1);
	pci_cfg_write(&vp.pci, 0x14, 4, 0xffffffffu);
	assert_int_equal(cfg(0x14, 4), 0xffffc000u);
	pci_cfg_write(&vp.pci, 0x10, 4, 0xd000);
	pci_cfg_write(&vp.pci, 0x14, 4, 0xf0000000u);
	uint16_t off;
	uint64_t moff;
	assert_true(virtio_pci_io_claims(&vp, 0xd013, &off));
	assert_int_equal(off, 0x13);
	assert_false(virtio_pci_io_claims(&vp, 0xc000, &off));
	assert_true(virtio_pci_mem_claims(&vp, 0xf0003004u, &moff));
	assert_int_equal(moff, 0x3004);
	/* Decoding off: nothing claimed. */
	pci_cfg_write(&vp.pci, PCI_COMMAND, 2, 0);
	assert_false(virtio_pci_io_claims(&vp, 0xd013, &off));
	assert_false(virtio_pci_mem_claims(&vp, 0xf0003004u, &moff));
	/* The capability chain: common, ISR, device, notify, each in BAR1. */
	for (unsigned at = cfg(0x34, 1), n = 0; at && n < 8; at = cfg(at + 1, 1), n++) {
		assert_int_equal(cfg(at, 1), 0x09);
		assert_int_equal(cfg(at + 4, 1), 1);
		found |= 1u << cfg(at + 3, 1);
		if (cfg(at + 3, 1) == VIRTIO_PCI_CAP_NOTIFY_CFG)
			assert_int_equal(cfg(at + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
	}
	assert_int_equal(found, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4);
}

static void test_feature_negotiation(void **state)
{
	(void)state;
	common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_DF, 4), 1u << 5 | 1u << 28 | 1u << 29);
	common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_DF, 4), 1);	/* VERSION_1 */
	common_w(VIRTIO_PCI_COMMON_DFSELECT, 4, 7);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_DF, 4), 0);
	/* A modern driver without VERSION_1: FEATURES_OK does not stick. */
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	common_w(VIRTIO_PCI_COMMON_GF, 4, 1u << 5);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(common_r(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	/* Nor with a feature never offered. */
	common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	common_w(VIRTIO_PCI_COMMON_GF, 4, 1 | 1u << 8);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(common_r(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	common_w(VIRTIO_PCI_COMMON_GF, 4, 1);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(common_r(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vd.driver_features, 1ull << 32 | 1ull << 5);
	/* Once FEATURES_OK is set the features are frozen. */
	common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	common_w(VIRTIO_PCI_COMMON_GF, 4, 0);
	assert_int_equal(vd.driver_features, 1ull << 32 | 1ull << 5);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	common_w(VIRTIO_PCI_COMMON_MSIX, 2, 3);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}

static void start_modern(void)
{
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	common_w(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	common_w(VIRTIO_PCI_COMMON_GF, 4, 1);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void test_queue_setup_notify_reset(void **state)
{
	(void)state;
	start_modern();
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
	common_w(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1000);
	common_w(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, 0x2000);
	common_w(VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x3000);
	common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x1000);
	assert_true(vd.vq[1].ready);
	/* Notifications before DRIVER_OK are not the device's business yet. */
	virtio_pci_mem_write(&vp, VIRTIO_PCI_NOTIFY_OFF + 1 * VIRTIO_PCI_NOTIFY_MULT, 2, 1);
	assert_int_equal(notifies, 0);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	virtio_pci_mem_write(&vp, VIRTIO_PCI_NOTIFY_OFF + 1 * VIRTIO_PCI_NOTIFY_MULT, 2, 1);
	assert_int_equal(notifies, 1);
	/* Queue 0 was never enabled: its notify is ignored. */
	virtio_pci_mem_write(&vp, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	assert_int_equal(notifies, 1);
	/* ISR: raised, read clears it and lowers the line. */
	virtio_interrupt(&vd, VIRTIO_ISR_QUEUE);
	assert_int_equal(irq_level, 1);
	assert_int_equal(virtio_pci_mem_read(&vp, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(irq_level, 0);
	assert_int_equal(virtio_pci_mem_read(&vp, VIRTIO_PCI_ISR_OFF, 1), 0);
	/* Reset: everything back, the device told. */
	virtio_interrupt(&vd, VIRTIO_ISR_QUEUE);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(resets, 1);
	assert_int_equal(irq_level, 0);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	assert_false(vd.vq[1].ready);
	common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

static void test_bad_queue_needs_reset(void **state)
{
	(void)state;
	start_modern();
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	common_w(VIRTIO_PCI_COMMON_Q_SIZE, 2, 12);	/* not a power of 2 */
	common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_true(common_r(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irq_level, 1);		/* a config-change interrupt says so */
	assert_int_equal(virtio_pci_mem_read(&vp, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_CONFIG);
	/* The driver cannot clear NEEDS_RESET except by reset. */
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(common_r(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	common_w(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	/* Queue selectors past the device's queues read size 0 and ignore writes. */
	common_w(VIRTIO_PCI_COMMON_Q_SELECT, 2, 9);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	common_w(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(common_r(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

static void test_legacy_interface(void **state)
{
	(void)state;
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_HOST_FEATURES, 4), 1u << 5 | 1u << 28 | 1u << 29);
	virtio_pci_io_write(&vp, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_pci_io_write(&vp, VIRTIO_PCI_GUEST_FEATURES, 4, 1u << 29);
	virtio_pci_io_write(&vp, VIRTIO_PCI_QUEUE_SEL, 2, 1);
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_QUEUE_NUM, 2), 16);
	virtio_pci_io_write(&vp, VIRTIO_PCI_QUEUE_PFN, 4, 0x10);
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_QUEUE_PFN, 4), 0x10);
	/* The legacy layout: descriptors, the available ring right after, the used ring page-aligned. */
	assert_int_equal(vd.vq[1].desc, 0x10000);
	assert_int_equal(vd.vq[1].avail, 0x10000 + 16 * 16);
	assert_int_equal(vd.vq[1].used, 0x11000);
	assert_true(vd.vq[1].event_idx);
	virtio_pci_io_write(&vp, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			    VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	virtio_pci_io_write(&vp, VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
	assert_int_equal(notifies, 1);
	virtio_interrupt(&vd, VIRTIO_ISR_QUEUE);
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_ISR, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(irq_level, 0);
	/* A PFN past RAM: NEEDS_RESET, not a crash. */
	virtio_pci_io_write(&vp, VIRTIO_PCI_QUEUE_SEL, 2, 0);
	virtio_pci_io_write(&vp, VIRTIO_PCI_QUEUE_PFN, 4, 0xfffff);
	assert_true(virtio_pci_io_read(&vp, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	virtio_pci_io_write(&vp, VIRTIO_PCI_STATUS, 1, 0);
	assert_int_equal(virtio_pci_io_read(&vp, VIRTIO_PCI_QUEUE_PFN, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_setup_notify_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_interface, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
