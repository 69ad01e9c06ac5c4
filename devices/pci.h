/* PCI bus 0 with configuration mechanism #1 and the host bridge at 00:00.0; bus-free core. */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CFG_SIZE		256
#define PCI_SLOTS		32

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_CONFIG_ENABLE	0x80000000u
#define PCI_CLASS_BRIDGE_HOST	0x0600

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may change */
	/* Optional: called after the guest wrote [off, off+size). */
	void (*cfg_written)(struct pci_dev *dev, unsigned off, unsigned size);
	void *opaque;
};

struct pci_bus {
	uint32_t config_address;	/* CONFIG_ADDRESS at 0xcf8 */
	struct pci_dev *slot[PCI_SLOTS];
};

void pci_bus_init(struct pci_bus *bus);
int pci_bus_add(struct pci_bus *bus, unsigned slot, struct pci_dev *dev);
void pci_host_bridge_init(struct pci_dev *dev);
/* A guest access to 0xcf8-0xcff: port offset 0-7, size 1/2/4. */
uint32_t pci_io_read(struct pci_bus *bus, unsigned off, unsigned size);
void pci_io_write(struct pci_bus *bus, unsigned off, unsigned size, uint32_t val);
/* Direct config-space access, as used by the I/O path and by device setup. */
uint32_t pci_cfg_read(struct pci_dev *dev, unsigned off, unsigned size);
void pci_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);

#endif
