/*
 * The virtio PCI transport. Config space with the virtio vendor capabilities,
 * BAR0 with the legacy registers, BAR1 with the modern structures. INTx only:
 * an MSI-X vector write reads back as VIRTIO_MSI_NO_VECTOR, and drivers fall
 * back to the line, which the board wires to the 8259A.
 */
#include "virtio_pci.h"

#include <string.h>

#include "../../core/le.h"

#define PCI_BAR0		0x10
#define PCI_BAR1		0x14
#define PCI_CAPABILITY_LIST	0x34
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_CAP_ID_VNDR		0x09
#define CAP_BASE		0x40
#define CAP_LEN			16
#define NOTIFY_CAP_LEN		20

/* Transitional device IDs (0x1000 + legacy ID) and classes, by virtio type. */
static const struct {
	uint16_t device_id, class;
} pci_ids[] = {
	[VIRTIO_ID_NET] = { 0x1000, 0x0200 },		/* Ethernet */
	[VIRTIO_ID_BLOCK] = { 0x1001, 0x0100 },		/* SCSI storage, as QEMU */
	[VIRTIO_ID_CONSOLE] = { 0x1003, 0x0780 },	/* other communication */
	[VIRTIO_ID_RNG] = { 0x1005, 0x00ff },		/* unclassified */
};

static unsigned add_cap(struct pci_dev *d, unsigned at, unsigned len, uint8_t type, uint32_t offset,
			uint32_t length, unsigned next)
{
	uint8_t *c = d->cfg + at;

	c[0] = PCI_CAP_ID_VNDR;
	c[1] = (uint8_t)next;
	c[2] = (uint8_t)len;
	c[3] = type;
	c[4] = 1;		/* BAR1 */
	put_le32(c + 8, offset);
	put_le32(c + 12, length);
	return at + len;
}

void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vd, uint16_t io_base, uint32_t mem_base,
		     uint8_t irq)
{
	struct pci_dev *d = &vp->pci;
	uint16_t type = vd->ops->type;
	unsigned at = CAP_BASE;

	memset(vp, 0, sizeof(*vp));
	vp->vd = vd;
	put_le16(d->cfg + PCI_VENDOR_ID, VIRTIO_PCI_VENDOR);
	put_le16(d->cfg + PCI_DEVICE_ID, type < 5 ? pci_ids[type].device_id : (uint16_t)(0x1040 + type));
	put_le16(d->cfg + PCI_CLASS_DEVICE, type < 5 ? pci_ids[type].class : 0x00ff);
	d->cfg[PCI_REVISION_ID] = 0;	/* transitional */
	put_le16(d->cfg + PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	put_le16(d->cfg + PCI_SUBSYSTEM_ID, type);
	d->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	d->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | 0x4;	/* and bus master */
	/* BARs as firmware would leave them: assigned, with only their address bits writable. */
	put_le32(d->cfg + PCI_BAR0, (uint32_t)io_base | 1);
	put_le32(d->wmask + PCI_BAR0, 0xffffu & ~(VIRTIO_PCI_IO_SIZE - 1u));
	put_le32(d->cfg + PCI_BAR1, mem_base);
	put_le32(d->wmask + PCI_BAR1, ~(VIRTIO_PCI_MEM_SIZE - 1u));
	d->cfg[PCI_INTERRUPT_LINE] = irq;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cfg[PCI_INTERRUPT_PIN] = 1;		/* INTA# */
	d->cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	d->cfg[PCI_CAPABILITY_LIST] = CAP_BASE;
	at = add_cap(d, at, CAP_LEN, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE,
		     at + CAP_LEN);
	at = add_cap(d, at, CAP_LEN, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, at + CAP_LEN);
	at = add_cap(d, at, CAP_LEN, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF, VIRTIO_CONFIG_MAX,
		     at + CAP_LEN);
	put_le32(d->cfg + at + 16, VIRTIO_PCI_NOTIFY_MULT);
	add_cap(d, at, NOTIFY_CAP_LEN, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
		VIRTIO_PCI_NOTIFY_MULT * VIRTIO_QUEUES_MAX, 0);
}

bool virtio_pci_io_claims(const struct virtio_pci *vp, uint16_t port, uint16_t *off)
{
	uint32_t base = get_le32(vp->pci.cfg + PCI_BAR0) & 0xfffcu;

	if (!(vp->pci.cfg[PCI_COMMAND] & PCI_COMMAND_IO) || port < base || port >= base + VIRTIO_PCI_IO_SIZE)
		return false;
	*off = (uint16_t)(port - base);
	return true;
}

bool virtio_pci_mem_claims(const struct virtio_pci *vp, uint64_t addr, uint64_t *off)
{
	uint64_t base = get_le32(vp->pci.cfg + PCI_BAR1) & ~0xfu;

	if (!(vp->pci.cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY) || !base || addr < base ||
	    addr >= base + VIRTIO_PCI_MEM_SIZE)
		return false;
	*off = addr - base;
	return true;
}

bool virtio_pci_notify_addr(const struct virtio_pci *vp, unsigned q, uint64_t *gpa)
{
	uint64_t base = get_le32(vp->pci.cfg + PCI_BAR1) & ~0xfu;

	if (q >= vp->vd->ops->num_queues || !(vp->pci.cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY) || !base)
		return false;
	*gpa = base + VIRTIO_PCI_NOTIFY_OFF + (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;
	return true;
}

/* ---- legacy registers in BAR0 ---- */

static uint16_t selected_size(struct virtio_pci *vp)
{
	return vp->queue_select < vp->vd->ops->num_queues ? vp->vd->qcfg[vp->queue_select].size : 0;
}

uint32_t virtio_pci_io_read(struct virtio_pci *vp, uint16_t off, unsigned size)
{
	struct virtio_dev *vd = vp->vd;
	uint32_t v = 0;

	switch (off) {
	case VIRTIO_PCI_HOST_FEATURES:
		/* A legacy device offers no VERSION_1 and nothing above bit 31. */
		return (uint32_t)virtio_device_features(vd);
	case VIRTIO_PCI_GUEST_FEATURES:
		return (uint32_t)vd->driver_features;
	case VIRTIO_PCI_QUEUE_PFN:
		return vp->queue_select < VIRTIO_QUEUES_MAX && vd->qcfg[vp->queue_select].enabled ?
			(uint32_t)(vd->qcfg[vp->queue_select].desc >> 12) : 0;
	case VIRTIO_PCI_QUEUE_NUM:
		return selected_size(vp);
	case VIRTIO_PCI_QUEUE_SEL:
		return vp->queue_select;
	case VIRTIO_PCI_STATUS:
		return vd->status;
	case VIRTIO_PCI_ISR:
		return virtio_isr_read(vd);
	}
	if (off >= VIRTIO_PCI_CONFIG) {
		virtio_config_read(vd, off - VIRTIO_PCI_CONFIG, &v, size);
		return v;
	}
	return 0;	/* the upper bytes of a register, read on their own */
}

static void legacy_set_pfn(struct virtio_pci *vp, uint32_t pfn)
{
	struct virtio_dev *vd = vp->vd;
	struct virtio_queue_cfg *c;
	uint64_t used;

	if (vp->queue_select >= vd->ops->num_queues)
		return;
	c = &vd->qcfg[vp->queue_select];
	if (!pfn) {
		virtq_reset(&vd->vq[vp->queue_select]);
		c->enabled = false;
		return;
	}
	/* The legacy layout: one block, the used ring on the next 4 KiB boundary. */
	c->desc = (uint64_t)pfn << 12;
	c->avail = c->desc + 16ull * c->size;
	used = c->avail + 6 + 2ull * c->size;
	c->used = (used + VIRTIO_PCI_VRING_ALIGN - 1) & ~(uint64_t)(VIRTIO_PCI_VRING_ALIGN - 1);
	virtio_queue_enable(vd, vp->queue_select);
}

void virtio_pci_io_write(struct virtio_pci *vp, uint16_t off, unsigned size, uint32_t val)
{
	struct virtio_dev *vd = vp->vd;

	vd->legacy = true;
	switch (off) {
	case VIRTIO_PCI_GUEST_FEATURES:
		virtio_set_driver_features(vd, val);
		return;
	case VIRTIO_PCI_QUEUE_PFN:
		legacy_set_pfn(vp, val);
		return;
	case VIRTIO_PCI_QUEUE_SEL:
		vp->queue_select = (uint16_t)val;
		return;
	case VIRTIO_PCI_QUEUE_NOTIFY:
		virtio_queue_notify(vd, (uint16_t)val);
		return;
	case VIRTIO_PCI_STATUS:
		virtio_set_status(vd, (uint8_t)val);
		return;
	}
	if (off >= VIRTIO_PCI_CONFIG)
		virtio_config_write(vd, off - VIRTIO_PCI_CONFIG, &val, size);
}

/* ---- modern structures in BAR1 ---- */

/* The common configuration as the driver would see it now, byte for byte. */
static void common_image(struct virtio_pci *vp, uint8_t *img)
{
	struct virtio_dev *vd = vp->vd;
	uint64_t f = virtio_device_features(vd);
	struct virtio_queue_cfg q = { 0 };

	if (vp->queue_select < vd->ops->num_queues)
		q = vd->qcfg[vp->queue_select];
	memset(img, 0, VIRTIO_PCI_COMMON_SIZE);
	put_le32(img + VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect);
	put_le32(img + VIRTIO_PCI_COMMON_DF, vp->dfselect < 2 ? (uint32_t)(f >> (32 * vp->dfselect)) : 0);
	put_le32(img + VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect);
	put_le32(img + VIRTIO_PCI_COMMON_GF,
	      vp->gfselect < 2 ? (uint32_t)(vd->driver_features >> (32 * vp->gfselect)) : 0);
	put_le16(img + VIRTIO_PCI_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
	put_le16(img + VIRTIO_PCI_COMMON_NUMQ, (uint16_t)vd->ops->num_queues);
	img[VIRTIO_PCI_COMMON_STATUS] = vd->status;
	img[VIRTIO_PCI_COMMON_CFGGENERATION] = vd->config_generation;
	put_le16(img + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
	put_le16(img + VIRTIO_PCI_COMMON_Q_SIZE, q.size);
	put_le16(img + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	put_le16(img + VIRTIO_PCI_COMMON_Q_ENABLE, q.enabled);
	put_le16(img + VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select);
	put_le32(img + VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)q.desc);
	put_le32(img + VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(q.desc >> 32));
	put_le32(img + VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)q.avail);
	put_le32(img + VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(q.avail >> 32));
	put_le32(img + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)q.used);
	put_le32(img + VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(q.used >> 32));
}

static void set_half(uint64_t *field, unsigned hi, uint32_t val)
{
	*field = hi ? (*field & 0xffffffffull) | (uint64_t)val << 32 : (*field & ~0xffffffffull) | val;
}

/* Writes of whole fields (64-bit ones as two 32-bit halves); anything else is ignored. */
static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_dev *vd = vp->vd;
	struct virtio_queue_cfg *q = vp->queue_select < vd->ops->num_queues ? &vd->qcfg[vp->queue_select] : NULL;
	uint64_t f;

	switch (off | size << 8) {
	case VIRTIO_PCI_COMMON_DFSELECT | 4 << 8:
		vp->dfselect = val;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT | 4 << 8:
		vp->gfselect = val;
		return;
	case VIRTIO_PCI_COMMON_GF | 4 << 8:
		if (vp->gfselect < 2) {
			f = vd->driver_features;
			set_half(&f, vp->gfselect, val);
			virtio_set_driver_features(vd, f);
		}
		return;
	case VIRTIO_PCI_COMMON_STATUS | 1 << 8:
		virtio_set_status(vd, (uint8_t)val);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT | 2 << 8:
		vp->queue_select = (uint16_t)val;
		return;
	case VIRTIO_PCI_COMMON_MSIX | 2 << 8:
	case VIRTIO_PCI_COMMON_Q_MSIX | 2 << 8:
		return;		/* no MSI-X: reads keep saying NO_VECTOR */
	}
	/* Queue fields: only for an existing queue that is not yet enabled. */
	if (!q || q->enabled)
		return;
	switch (off | size << 8) {
	case VIRTIO_PCI_COMMON_Q_SIZE | 2 << 8:
		q->size = (uint16_t)val;	/* checked when enabled */
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE | 2 << 8:
		if (val == 1)
			virtio_queue_enable(vd, vp->queue_select);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_DESCHI | 4 << 8:
		set_half(&q->desc, off == VIRTIO_PCI_COMMON_Q_DESCHI, val);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_AVAILHI | 4 << 8:
		set_half(&q->avail, off == VIRTIO_PCI_COMMON_Q_AVAILHI, val);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 4 << 8:
	case VIRTIO_PCI_COMMON_Q_USEDHI | 4 << 8:
		set_half(&q->used, off == VIRTIO_PCI_COMMON_Q_USEDHI, val);
		break;
	}
}

uint64_t virtio_pci_mem_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	uint8_t img[VIRTIO_PCI_COMMON_SIZE];
	uint64_t v = 0;

	if (size > 8)
		return 0;
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_SIZE) {
		common_image(vp, img);
		for (unsigned i = 0; i < size && off + i < VIRTIO_PCI_COMMON_SIZE; i++)
			v |= (uint64_t)img[off + i] << (8 * i);
		return v;
	}
	if (off == VIRTIO_PCI_ISR_OFF)
		return virtio_isr_read(vp->vd);
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_CONFIG_MAX) {
		virtio_config_read(vp->vd, (unsigned)(off - VIRTIO_PCI_DEVICE_OFF), &v, size);
		return v;
	}
	return 0;
}

void virtio_pci_mem_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val)
{
	if (size > 8)
		return;
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_SIZE) {
		common_write(vp, (unsigned)off, size, (uint32_t)val);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_CONFIG_MAX) {
		virtio_config_write(vp->vd, (unsigned)(off - VIRTIO_PCI_DEVICE_OFF), &val, size);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * VIRTIO_QUEUES_MAX) {
		virtio_queue_notify(vp->vd, (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT);
	}
}
