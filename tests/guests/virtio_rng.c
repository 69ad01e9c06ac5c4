/* vmm-test: args="--rng" */
/*
 * virtio-rng driven by a driver of our own: the modern interface (through
 * tests/guests/lib/virtio.c), the legacy I/O interface, the interrupt on the
 * line config space names, and a hostile driver whose wild descriptors the
 * device must refuse with NEEDS_RESET.
 */
#include "virtio.h"

static struct vdev dev;
static struct vring ring;
static uint8_t buf[4][256];

static bool random_looking(const uint8_t *b, unsigned n)
{
	unsigned zeros = 0;

	for (unsigned i = 0; i < n; i++)
		zeros += b[i] == 0;
	return zeros < n / 4;
}

static void test_modern(void)
{
	uint64_t before = dev.irqs;

	report(vdev_setup(&dev, &ring, 0), "modern setup: VERSION_1 offered, FEATURES_OK kept, queue 0 enabled");
	report(*(volatile uint16_t *)(dev.common + 0x12) == 1 && *(volatile uint16_t *)(dev.common + 0x10) == 0xffff,
	       "one queue; MSI-X vector reads NO_VECTOR");
	memset(buf, 0, sizeof(buf));
	vring_post(&ring, 0, (uintptr_t)buf[0], 64, VQ_F_WRITE, 0);
	vring_post(&ring, 1, (uintptr_t)buf[1], 32, VQ_F_WRITE, 0);
	vring_publish(&ring, 0);
	vring_publish(&ring, 1);
	vdev_kick(&dev);
	report(vring_wait(&dev, &ring, 2), "two buffers came back (used idx %u)", ring.used_idx);
	report(ring.used_ring[0].id == 0 && ring.used_ring[0].len == 64 && ring.used_ring[1].len == 32,
	       "used entries name the chains and their lengths");
	report(random_looking(buf[0], 64) && memcmp(buf[0], buf[1], 32) != 0, "the bytes look random");
	report(dev.irqs > before, "the device raised IRQ %u (%lu interrupts)", dev.irq, (uint64_t)(dev.irqs - before));
	printf("rng bytes: %02x%02x%02x%02x...\n", buf[0][0], buf[0][1], buf[0][2], buf[0][3]);
}

/* A hostile driver: every trick must end in NEEDS_RESET, and a reset must bring the device back. */
static void hostile(const char *what, void (*setup)(void))
{
	bool ok = vdev_setup(&dev, &ring, 0);

	setup();
	vdev_kick(&dev);
	report(ok && (vdev_status(&dev) & VIRTIO_ST_NEEDS_RESET), "%s: device refused it with NEEDS_RESET", what);
	vdev_reset(&dev);
	report(vdev_status(&dev) == 0, "%s: reset clears NEEDS_RESET", what);
}

static void wild_address(void)
{
	vring_post(&ring, 0, 0x7fff0000000ull, 64, VQ_F_WRITE, 0);
	vring_publish(&ring, 0);
}

static void loop_chain(void)
{
	vring_post(&ring, 0, (uintptr_t)buf[0], 8, VQ_F_WRITE | VQ_F_NEXT, 1);
	vring_post(&ring, 1, (uintptr_t)buf[1], 8, VQ_F_WRITE | VQ_F_NEXT, 0);
	vring_publish(&ring, 0);
}

static void oversize(void)
{
	vring_post(&ring, 0, (uintptr_t)buf[0], 0xfffffff0u, VQ_F_WRITE, 0);
	vring_publish(&ring, 0);
}

static void bad_head(void)
{
	ring.avail_ring[0] = 200;
	ring.avail_idx = 1;
}

static void bad_ring(void)
{
	volatile uint8_t *c = dev.common;

	vdev_reset(&dev);
	c[0x14] = VIRTIO_ST_ACK | VIRTIO_ST_DRIVER;
	*(volatile uint32_t *)(c + 0x08) = 1;
	*(volatile uint32_t *)(c + 0x0c) = 1;
	c[0x14] = VIRTIO_ST_ACK | VIRTIO_ST_DRIVER | VIRTIO_ST_FEATURES_OK;
	*(volatile uint16_t *)(c + 0x16) = 0;
	*(volatile uint32_t *)(c + 0x20) = 0xfffff000u;	/* descriptors outside RAM */
	*(volatile uint16_t *)(c + 0x1c) = 1;
}

/* The legacy ring of the device's full queue size: one block, used ring on the next page. */
#define LQSZ 64
static struct {
	struct vq_desc d[LQSZ];
	uint16_t avail_flags, avail_idx, avail_ring[LQSZ], used_event;
	uint8_t pad[4096 - LQSZ * 16 - 6 - 2 * LQSZ];
	uint16_t used_flags, used_idx;
	struct { uint32_t id, len; } used_ring[LQSZ];
} __attribute__((aligned(4096))) lring;

static void test_legacy(void)
{
	uint16_t io = dev.iobase, qsize;
	uint64_t before = dev.irqs;

	outb(io + 0x12, 0);
	outb(io + 0x12, VIRTIO_ST_ACK | VIRTIO_ST_DRIVER);
	report(inl(io + 0x00) == (1u << 28 | 1u << 29), "legacy: host features are the ring features (0x%x)",
	       inl(io + 0x00));
	outl(io + 0x04, 0);
	outw(io + 0x0e, 0);
	qsize = inw(io + 0x0c);
	report(qsize == LQSZ, "legacy: queue 0 has %u entries", qsize);
	memset(&lring, 0, sizeof(lring));
	outl(io + 0x08, (uint32_t)((uintptr_t)&lring >> 12));
	report(inl(io + 0x08) == (uint32_t)((uintptr_t)&lring >> 12), "legacy: queue PFN reads back");
	outb(io + 0x12, VIRTIO_ST_ACK | VIRTIO_ST_DRIVER | VIRTIO_ST_DRIVER_OK);
	memset(buf[2], 0, sizeof(buf[2]));
	lring.d[5] = (struct vq_desc){ (uintptr_t)buf[2], 128, VQ_F_WRITE, 0 };
	lring.avail_ring[0] = 5;
	barrier();
	lring.avail_idx = 1;
	barrier();
	outw(io + 0x10, 0);
	for (int i = 0; i < 200 && *(volatile uint16_t *)&lring.used_idx != 1; i++)
		wait_for_interrupt();
	if (dev.irqs == before)
		wait_for_interrupt();
	report(lring.used_idx == 1 && lring.used_ring[0].id == 5 && lring.used_ring[0].len == 128,
	       "legacy: the buffer came back full (used idx %u, len %u)", lring.used_idx, lring.used_ring[0].len);
	report(random_looking(buf[2], 128), "legacy: the bytes look random");
	report(dev.irqs > before, "legacy: interrupt on IRQ %u", dev.irq);
	outb(io + 0x12, 0);
	report(inb(io + 0x12) == 0, "legacy: status 0 resets the device");
}

int main(void)
{
	bool found = vdev_find(&dev, 0x1005);
	uint64_t before;

	if (!report(found, "virtio-rng found at 00:%02x.0 with its capabilities", dev.slot))
		report_summary();
	report(pci_cfg32(dev.slot, 0x2c) == 0x00041af4, "subsystem: virtio type 4 (entropy)");
	report((pci_cfg32(dev.slot, 0x04) >> 16) & 0x10, "status lists capabilities");
	report(pci_cfg8(dev.slot, 0x3d) == 1 && dev.irq > 0 && dev.irq < 16, "INTA# on IRQ %u", dev.irq);
	report((inb(0x4d0 + (dev.irq >= 8)) >> (dev.irq & 7)) & 1, "IRQ %u is level-triggered in the ELCR", dev.irq);
	report(pci_cfg32(dev.slot, 0x10) & 1, "BAR0 is I/O at 0x%x", dev.iobase);
	test_modern();
	hostile("descriptor outside RAM", wild_address);
	hostile("descriptor loop", loop_chain);
	hostile("4 GiB buffer", oversize);
	hostile("head index out of range", bad_head);
	hostile("rings outside RAM", bad_ring);
	before = dev.irqs;
	test_modern();
	report(dev.irqs > before, "after all that the device works again");
	test_legacy();
	report_summary();
}
