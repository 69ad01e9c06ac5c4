/* The demo guest of `make demo`: a short tour of what the guest sees of the vmm board. */
#include "guest.h"

static volatile uint64_t ticks;

static void irq0(struct frame *f)
{
	(void)f;
	ticks++;
	pic_eoi(0);
}

static uint8_t cmos(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

int main(void)
{
	uint32_t r[12], a, b, c, d;
	uint8_t sec;

	printf("\nHello from a vmm guest: multiboot entry, now in long mode.\n");
	for (unsigned i = 0; i < 3; i++)
		cpuid(0x80000002 + i, 0, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
	printf("CPU:   %s\n", (char *)r);
	cpuid(1, 0, &a, &b, &c, &d);
	printf("       family %u model %u, TSC %s, APIC %s\n", (a >> 8) & 0xf, (a >> 4) & 0xf,
	       (d & 0x10) ? "visible" : "hidden", (d & 0x200) ? "visible" : "hidden");
	printf("RAM:   %u KiB below 1 MiB, %u KiB above (multiboot info)\n", mb_info[1], mb_info[2]);
	printf("RTC:   20%02x-%02x-%02x %02x:%02x:%02x UTC\n", cmos(9), cmos(8), cmos(7), cmos(4), cmos(2), cmos(0));
	for (unsigned dev = 0; dev < 32; dev++) {
		outl(0xcf8, 0x80000000u | dev << 11);
		if ((inl(0xcfc) & 0xffff) != 0xffff)
			printf("PCI:   00:%02x.0 %04x:%04x\n", dev, inl(0xcfc) & 0xffff, inl(0xcfc) >> 16);
	}
	idt_set_handler(IRQ_BASE, irq0);
	outb(0x43, 0x34);
	outb(0x40, 11932 & 0xff);
	outb(0x40, 11932 >> 8);
	pic_unmask(0);
	sec = cmos(0);
	while (cmos(0) == sec)
		wait_for_interrupt();
	sec = cmos(0);
	ticks = 0;
	while (cmos(0) == sec)
		wait_for_interrupt();
	printf("PIT:   %lu timer interrupts in one RTC second at 100 Hz\n", ticks);
	printf("Bye: exiting through the debug-exit port with code 0.\n");
	return 0;
}
