/* vmm-test: args="--console" output="hvc0: hello from the transmit queue" */
/*
 * virtio-console's port 0 as a driver of our own uses it: the transmit queue
 * carries output to vmm's console (the runner finds it in the output), the
 * device has no config space without SIZE/MULTIPORT, and receive buffers wait
 * for input without being used.
 */
#include "virtio.h"

static struct vdev dev;
static struct vring ring;
static char in[32];

int main(void)
{
	static const char msg[] = "hvc0: hello from the transmit queue\n";
	volatile uint8_t *c;

	bool found = vdev_find(&dev, 0x1003);

	if (!report(found, "virtio-console found at 00:%02x.0", dev.slot))
		report_summary();
	c = dev.common;
	report(pci_cfg32(dev.slot, 0x2c) == 0x00031af4, "subsystem: virtio type 3 (console)");
	report(*(volatile uint16_t *)(c + 0x12) == 2, "two queues: receive and transmit");
	/* Queue 1 is the transmit queue: set it up by hand after the library's queue 0. */
	report(vdev_setup(&dev, &ring, 0), "receive queue set up");
	printf("before hvc0\n");
	{
		static struct vring tx;

		*(volatile uint16_t *)(c + 0x16) = 1;
		*(volatile uint16_t *)(c + 0x18) = VQ_SIZE;
		*(volatile uint32_t *)(c + 0x20) = (uint32_t)(uintptr_t)tx.d;
		*(volatile uint32_t *)(c + 0x28) = (uint32_t)(uintptr_t)&tx.avail_flags;
		*(volatile uint32_t *)(c + 0x30) = (uint32_t)(uintptr_t)&tx.used_flags;
		*(volatile uint16_t *)(c + 0x1c) = 1;
		vring_post(&tx, 0, (uintptr_t)msg, sizeof(msg) - 1, 0, 0);
		vring_publish(&tx, 0);
		*(volatile uint16_t *)(dev.notify + 4) = 1;	/* queue 1's notify offset */
		report(vring_wait(&dev, &tx, 1), "the output buffer came back (used idx %u)", tx.used_idx);
		report(tx.used_ring[0].id == 0 && tx.used_ring[0].len == 0, "used length 0: the device wrote nothing");
	}
	vring_post(&ring, 0, (uintptr_t)in, sizeof(in) - 1, VQ_F_WRITE, 0);
	vring_publish(&ring, 0);
	vdev_kick(&dev);
	if (cmdline_has("echo")) {
		/* The CLI test types into vmm's stdin: the bytes must arrive here, not at COM1. */
		report(vring_wait(&dev, &ring, 1), "input arrived in the receive buffer");
		printf("hvc0 got: %s\n", in);
	} else {
		report(ring.used_idx == 0, "a receive buffer waits for input");
	}
	report(!(vdev_status(&dev) & VIRTIO_ST_NEEDS_RESET), "no reset needed");
	report_summary();
}
