/* PCI configuration mechanism #1: CONFIG_ADDRESS at 0xcf8 (dword only), CONFIG_DATA at 0xcfc-0xcff. */
#include "pci.h"

#include <errno.h>
#include <string.h>

void pci_bus_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int pci_bus_add(struct pci_bus *bus, unsigned slot, struct pci_dev *dev)
{
	if (slot >= PCI_SLOTS)
		return -EINVAL;
	if (bus->slot[slot])
		return -EBUSY;
	bus->slot[slot] = dev;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void pci_host_bridge_init(struct pci_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	/* Red Hat's ID for a generic host bridge: no vendor quirks in guests. */
	put16(dev->cfg + PCI_VENDOR_ID, 0x1b36);
	put16(dev->cfg + PCI_DEVICE_ID, 0x0008);
	put16(dev->cfg + PCI_CLASS_DEVICE, PCI_CLASS_BRIDGE_HOST);
	dev->cfg[PCI_HEADER_TYPE] = 0x00;
	put16(dev->cfg + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
	put16(dev->cfg + PCI_SUBSYSTEM_ID, 0x1100);
	/* Memory and I/O space enables are writable, as on any bridge. */
	dev->wmask[PCI_COMMAND] = 0x07;
}

uint32_t pci_cfg_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)(off + i < PCI_CFG_SIZE ? dev->cfg[off + i] : 0xff) << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++) {
		uint8_t m = dev->wmask[off + i], b = (uint8_t)(val >> (8 * i));

		dev->cfg[off + i] = (uint8_t)((dev->cfg[off + i] & ~m) | (b & m));
	}
	if (dev->cfg_written)
		dev->cfg_written(dev, off, size);
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, other bus, empty slot, fn != 0). */
static struct pci_dev *selected(struct pci_bus *bus)
{
	uint32_t a = bus->config_address;

	if (!(a & PCI_CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0 || ((a >> 8) & 7) != 0)
		return NULL;
	return bus->slot[(a >> 11) & 0x1f];
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t pci_io_read(struct pci_bus *bus, unsigned off, unsigned size)
{
	struct pci_dev *dev;

	if (off < 4) {
		/* Only a dword access at 0xcf8 reaches CONFIG_ADDRESS. */
		return off == 0 && size == 4 ? bus->config_address : ones(size);
	}
	dev = selected(bus);
	if (!dev)
		return ones(size);
	/* Bytes past 0xcff belong to other ports, not to this dword of config space. */
	if (size > 8 - off)
		return pci_cfg_read(dev, (bus->config_address & 0xfc) + (off - 4), 8 - off) |
		       (ones(size) & ~ones(8 - off));
	return pci_cfg_read(dev, (bus->config_address & 0xfc) + (off - 4), size);
}

void pci_io_write(struct pci_bus *bus, unsigned off, unsigned size, uint32_t val)
{
	struct pci_dev *dev;

	if (off < 4) {
		if (off == 0 && size == 4)
			bus->config_address = val & 0x80fffffcu;
		return;
	}
	dev = selected(bus);
	if (dev)
		pci_cfg_write(dev, (bus->config_address & 0xfc) + (off - 4), size < 8 - off ? size : 8 - off, val);
}
