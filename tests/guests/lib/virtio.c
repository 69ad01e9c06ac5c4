/* The test guests' virtio driver: modern interface only, one queue, INTx interrupts through the 8259A. */
#include "virtio.h"

static struct vdev *irq_dev;

uint32_t pci_cfg32(unsigned slot, unsigned reg)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

uint8_t pci_cfg8(unsigned slot, unsigned reg)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inb(0xcfc + (reg & 3));
}

static void vdev_irq(struct frame *f)
{
	(void)f;
	irq_dev->irqs++;
	(void)irq_dev->isr[0];	/* read-to-clear lowers the line */
	pic_eoi(irq_dev->irq);
}

bool vdev_find(struct vdev *d, uint16_t device_id)
{
	uint32_t bar1;

	memset(d, 0, sizeof(*d));
	for (d->slot = 1; d->slot < 32; d->slot++)
		if (pci_cfg32(d->slot, 0) == ((uint32_t)device_id << 16 | 0x1af4))
			break;
	if (d->slot == 32)
		return false;
	d->irq = pci_cfg8(d->slot, 0x3c);
	d->iobase = (uint16_t)(pci_cfg32(d->slot, 0x10) & ~3u);
	bar1 = pci_cfg32(d->slot, 0x14) & ~0xfu;
	for (unsigned at = pci_cfg8(d->slot, 0x34); at; at = pci_cfg8(d->slot, at + 1)) {
		uint8_t type = pci_cfg8(d->slot, at + 3);
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(bar1 + pci_cfg32(d->slot, at + 8));

		if (pci_cfg8(d->slot, at) != 0x09 || pci_cfg8(d->slot, at + 4) != 1)
			continue;
		if (type == 1)
			d->common = p;
		else if (type == 2)
			d->notify = p;
		else if (type == 3)
			d->isr = p;
		else if (type == 4)
			d->device = p;
	}
	if (!d->common || !d->notify || !d->isr)
		return false;
	irq_dev = d;
	idt_set_handler(IRQ_BASE + d->irq, vdev_irq);
	pic_unmask(d->irq);
	return true;
}

#define C32(d, off) (*(volatile uint32_t *)((d)->common + (off)))
#define C16(d, off) (*(volatile uint16_t *)((d)->common + (off)))
#define C8(d, off) (*(volatile uint8_t *)((d)->common + (off)))

uint8_t vdev_status(struct vdev *d)
{
	return C8(d, 0x14);
}

void vdev_reset(struct vdev *d)
{
	C8(d, 0x14) = 0;
}

bool vdev_setup(struct vdev *d, struct vring *r, uint32_t features_lo)
{
	vdev_reset(d);
	C8(d, 0x14) = VIRTIO_ST_ACK | VIRTIO_ST_DRIVER;
	C32(d, 0x00) = 1;
	if (!(C32(d, 0x04) & 1))	/* VERSION_1 is bit 32 */
		return false;
	C32(d, 0x08) = 0;
	C32(d, 0x0c) = features_lo;
	C32(d, 0x08) = 1;
	C32(d, 0x0c) = 1;
	C8(d, 0x14) = VIRTIO_ST_ACK | VIRTIO_ST_DRIVER | VIRTIO_ST_FEATURES_OK;
	if (!(C8(d, 0x14) & VIRTIO_ST_FEATURES_OK))
		return false;
	C16(d, 0x16) = 0;
	C16(d, 0x18) = VQ_SIZE;
	memset(r, 0, sizeof(*r));
	C32(d, 0x20) = (uint32_t)(uintptr_t)r->d;
	C32(d, 0x24) = 0;
	C32(d, 0x28) = (uint32_t)(uintptr_t)&r->avail_flags;
	C32(d, 0x2c) = 0;
	C32(d, 0x30) = (uint32_t)(uintptr_t)&r->used_flags;
	C32(d, 0x34) = 0;
	C16(d, 0x1c) = 1;
	C8(d, 0x14) = VIRTIO_ST_ACK | VIRTIO_ST_DRIVER | VIRTIO_ST_FEATURES_OK | VIRTIO_ST_DRIVER_OK;
	d->event_idx = features_lo & (1u << 29);
	d->notified = 0;
	return C16(d, 0x1c) == 1;
}

void vdev_kick(struct vdev *d)
{
	*(volatile uint16_t *)d->notify = 0;
}

void vdev_notify(struct vdev *d, struct vring *r)
{
	uint16_t old = d->notified, now = r->avail_idx, event = *(volatile uint16_t *)&r->avail_event;

	d->notified = now;
	/* The spec's vring_need_event(): has the index passed the device's event since old? */
	if (!d->event_idx || (uint16_t)(now - event - 1) < (uint16_t)(now - old))
		vdev_kick(d);
}

void vring_post(struct vring *r, unsigned head, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	r->d[head] = (struct vq_desc){ addr, len, flags, next };
}

void vring_publish(struct vring *r, unsigned head)
{
	r->avail_ring[r->avail_idx % VQ_SIZE] = (uint16_t)head;
	barrier();
	r->avail_idx++;
	barrier();
}

bool vring_wait(struct vdev *d, struct vring *r, uint16_t want)
{
	uint64_t before = d->irqs;

	/* With VIRTIO_F_EVENT_IDX, interrupt when the used index passes this. */
	r->used_event = (uint16_t)(want - 1);
	barrier();
	for (int i = 0; i < 200 && *(volatile uint16_t *)&r->used_idx != want; i++)
		wait_for_interrupt();
	/*
	 * Done before we slept: without EVENT_IDX the line may still be up
	 * (level), so the interrupt waits for sti -- unless an earlier interrupt
	 * already covered this completion (one ISR bit serves every queue).
	 * The ISR says which. With EVENT_IDX, a completion that came before
	 * used_event was written rightly raised none.
	 */
	if (!d->event_idx && d->irqs == before && *(volatile uint16_t *)&r->used_idx == want && (*d->isr & 1))
		d->irqs++;	/* reading ISR acknowledged it and lowered the line (IF is off here) */
	return *(volatile uint16_t *)&r->used_idx == want;
}

bool disk_is_pattern(const uint8_t *b, unsigned n)
{
	static const char line[] = "vmm-disk-patter\n";

	for (unsigned i = 0; i < n; i++)
		if (b[i] != (uint8_t)line[i % 16])
			return false;
	return true;
}
