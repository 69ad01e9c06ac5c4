/* The virtio PCI transport: a transitional device with modern capabilities in a memory BAR and the legacy I/O BAR. */
#ifndef VMM_VIRTIO_PCI_H
#define VMM_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "../pci.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_IO_SIZE		0x40		/* BAR0: legacy registers and device config */
#define VIRTIO_PCI_MEM_SIZE		0x4000		/* BAR1: the modern structures, 4 KiB apart */

/* Offsets of the modern structures in BAR1. */
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4

/* virtio_pci_cap cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* Legacy I/O registers (virtio 0.9.5, no MSI-X). */
#define VIRTIO_PCI_HOST_FEATURES	0x00
#define VIRTIO_PCI_GUEST_FEATURES	0x04
#define VIRTIO_PCI_QUEUE_PFN		0x08
#define VIRTIO_PCI_QUEUE_NUM		0x0c
#define VIRTIO_PCI_QUEUE_SEL		0x0e
#define VIRTIO_PCI_QUEUE_NOTIFY		0x10
#define VIRTIO_PCI_STATUS		0x12
#define VIRTIO_PCI_ISR			0x13
#define VIRTIO_PCI_CONFIG		0x14
#define VIRTIO_PCI_VRING_ALIGN		4096

/* Common configuration (struct virtio_pci_common_cfg). */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION	0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO	0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI	0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO	0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI	0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO	0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI	0x34
#define VIRTIO_PCI_COMMON_SIZE		0x38

#define VIRTIO_MSI_NO_VECTOR		0xffff

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *vd;
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
};

/* Config space for vd; BAR0 at io_base, BAR1 at mem_base, INTA# wired to irq. */
void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vd, uint16_t io_base, uint32_t mem_base,
		     uint8_t irq);
/* Where the guest put the BARs now, and whether their decoding is on. */
bool virtio_pci_io_claims(const struct virtio_pci *vp, uint16_t port, uint16_t *off);
bool virtio_pci_mem_claims(const struct virtio_pci *vp, uint64_t addr, uint64_t *off);
/*
 * Where the driver writes queue q's notification now (a 16-bit write of q in
 * BAR1), or false while BAR1 does not decode or the device has no queue q.
 */
bool virtio_pci_notify_addr(const struct virtio_pci *vp, unsigned q, uint64_t *gpa);
uint32_t virtio_pci_io_read(struct virtio_pci *vp, uint16_t off, unsigned size);
void virtio_pci_io_write(struct virtio_pci *vp, uint16_t off, unsigned size, uint32_t val);
uint64_t virtio_pci_mem_read(struct virtio_pci *vp, uint64_t off, unsigned size);
void virtio_pci_mem_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val);

#endif
