/* PCI configuration mechanism #1 from the inside: address register, host bridge, empty slots, widths. */
#include "guest.h"

static uint32_t addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, addr(bus, dev, fn, reg));
	return inl(0xcfc);
}

int main(void)
{
	unsigned found = 0;
	uint32_t v;

	outl(0xcf8, 0x80000000u);
	report(inl(0xcf8) == 0x80000000u, "CONFIG_ADDRESS reads back");
	outb(0xcfb, 0x01);	/* Linux's type-1 probe writes this byte */
	report(inl(0xcf8) == 0x80000000u, "a byte write to 0xcfb leaves CONFIG_ADDRESS alone");
	outl(0xcf8, 0x80000003u);
	report(inl(0xcf8) == 0x80000000u, "CONFIG_ADDRESS bits 1:0 are read-only zero");

	v = cfg32(0, 0, 0, 0);
	report(v == 0x00081b36, "00:00.0 is the host bridge 1b36:0008 (0x%x)", v);
	v = cfg32(0, 0, 0, 8);
	report((v >> 16) == 0x0600, "class 06:00 host bridge (0x%x)", v);
	outl(0xcf8, addr(0, 0, 0, 0));
	report(inw(0xcfe) == 0x0008, "word read at offset 2");
	report(inb(0xcfd) == 0x1b, "byte read at offset 1");
	outl(0xcf8, addr(0, 0, 0, 8));
	report(inb(0xcff) == 0x06, "byte read at offset 0xb");

	outl(0xcf8, addr(0, 0, 0, 4));
	outw(0xcfc, 0xffff);
	report(inw(0xcfc) == 0x0007, "command register keeps only its writable bits (0x%x)", inw(0xcfc));
	outw(0xcfc, 0x0000);
	outl(0xcf8, addr(0, 0, 0, 0));
	outl(0xcfc, 0x12345678);
	report(inl(0xcfc) == 0x00081b36, "vendor and device IDs are read-only");

	report(cfg32(0, 1, 0, 0) == 0xffffffffu, "empty slot 00:01.0 reads all-ones");
	report(cfg32(1, 0, 0, 0) == 0xffffffffu, "bus 1 reads all-ones");
	report(cfg32(0, 0, 1, 0) == 0xffffffffu, "function 1 of the bridge reads all-ones");
	outl(0xcf8, 0x00000000u);
	report(inl(0xcfc) == 0xffffffffu, "with the enable bit clear, data reads all-ones");

	for (unsigned dev = 0; dev < 32; dev++)
		if ((cfg32(0, dev, 0, 0) & 0xffff) != 0xffff)
			found++;
	report(found == 1, "enumeration of bus 0 finds one device");
	report_summary();
}
