/* vmm-test: args="--rtc 1700000000" */
/* MC146818 from the inside: time (BCD, binary, 12/24 h), SET, registers A-D, IRQ8 interrupts, CMOS memory. */
#include "guest.h"

static volatile unsigned irq8_count;
static volatile uint8_t irq8_c;

static uint8_t cmos(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

static void irq8(struct frame *f)
{
	uint8_t c = cmos(0x0c);	/* reading C acknowledges */

	(void)f;
	/* An edge latched in IRR before the source was disabled can still arrive: count real ones. */
	if (c & 0x80) {
		irq8_count++;
		irq8_c = c;
	}
	pic_eoi(8);
}

int main(void)
{
	uint8_t b, v, s0, sec;
	bool uip = false;

	/* --rtc 1700000000 is Tuesday 2023-11-14 22:13:20 UTC. */
	report(cmos(0x0d) == 0x80, "register D: valid RAM and time");
	report(cmos(0x0a) == 0x26, "register A: 32.768 kHz base, 1024 Hz rate (0x%x)", cmos(0x0a));
	b = cmos(0x0b);
	report(b == 0x02, "register B: BCD, 24-hour (0x%x)", b);
	report(cmos(0x09) == 0x23 && cmos(0x32) == 0x20, "year 2023 in BCD (century 0x%x year 0x%x)",
	       cmos(0x32), cmos(0x09));
	report(cmos(0x08) == 0x11 && cmos(0x07) == 0x14, "month 11, day 14");
	report(cmos(0x06) == 3, "day of week: Tuesday is 3");
	report(cmos(0x04) == 0x22 && cmos(0x02) == 0x13, "22:13 in BCD (0x%x:0x%x)", cmos(0x04), cmos(0x02));
	s0 = cmos(0x00);
	report(s0 >= 0x20 && s0 <= 0x29, "seconds a few past 20 (0x%x)", s0);

	cmos_write(0x0b, 0x06);	/* binary, 24 h */
	report(cmos(0x09) == 23 && cmos(0x04) == 22, "binary mode: year 23, hour 22");
	cmos_write(0x0b, 0x04);	/* binary, 12 h */
	report(cmos(0x04) == (0x80 | 10), "12-hour binary: 10 PM is 0x8a (0x%x)", cmos(0x04));
	cmos_write(0x0b, 0x00);	/* BCD, 12 h */
	report(cmos(0x04) == (0x80 | 0x10), "12-hour BCD: 10 PM is 0x90 (0x%x)", cmos(0x04));

	/* SET: stop the clock, write 1999-12-31 23:59:59, let it run into 2000. */
	cmos_write(0x0b, 0x82);
	cmos_write(0x00, 0x59);
	cmos_write(0x02, 0x59);
	cmos_write(0x04, 0x23);
	cmos_write(0x07, 0x31);
	cmos_write(0x08, 0x12);
	cmos_write(0x09, 0x99);
	cmos_write(0x32, 0x19);
	report(cmos(0x00) == 0x59 && cmos(0x09) == 0x99, "SET holds the written time");
	cmos_write(0x0b, 0x02);
	sec = cmos(0x00);
	for (unsigned i = 0; i < 2000000 && cmos(0x00) == sec; i++)
		;
	report(cmos(0x09) == 0x00 && cmos(0x32) == 0x20 && cmos(0x08) == 0x01 && cmos(0x07) == 0x01,
	       "the clock ran from 1999-12-31 into 2000-01-01 (%x%02x-%x-%x)",
	       cmos(0x32), cmos(0x09), cmos(0x08), cmos(0x07));

	/* UIP shows up shortly before each update. */
	for (unsigned i = 0; i < 2000000 && !uip; i++)
		uip = cmos(0x0a) & 0x80;
	report(uip, "UIP seen in register A");

	/* Periodic interrupt on IRQ8 through the slave. */
	idt_set_handler(IRQ_BASE + 8, irq8);
	pic_unmask(2);
	pic_unmask(8);
	cmos(0x0c);
	cmos_write(0x0b, 0x42);	/* PIE */
	while (irq8_count < 5)
		wait_for_interrupt();
	report((irq8_c & 0xc0) == 0xc0, "periodic interrupt on IRQ8: C has IRQF|PF (0x%x)", irq8_c);
	cmos_write(0x0b, 0x02);
	cmos_write(0x0a, 0x20);	/* rate 0: no more PF */
	cmos(0x0c);
	report(cmos(0x0c) == 0x00, "register C is clear after a read");

	/* Update-ended and alarm interrupts once a second. */
	irq8_count = 0;
	cmos_write(0x01, 0xc0);	/* alarm: any second, minute, hour */
	cmos_write(0x03, 0xc0);
	cmos_write(0x05, 0xc0);
	cmos_write(0x0b, 0x32);	/* AIE | UIE */
	while (irq8_count < 1)
		wait_for_interrupt();
	report((irq8_c & 0xb0) == 0xb0, "update + alarm interrupt: C = IRQF|AF|UF (0x%x)", irq8_c);
	cmos_write(0x0b, 0x02);
	pic_mask(8);

	/* CMOS memory: sizes a BIOS would leave, and plain RAM. */
	report(cmos(0x15) == 0x80 && cmos(0x16) == 0x02, "base memory 640 KiB");
	v = cmos(0x34);
	report(v == 0x00 && cmos(0x35) == 0x0f, "memory above 16 MiB: 0x0f00 x 64 KiB for 256 MiB");
	cmos_write(0x40, 0xa5);
	report(cmos(0x40) == 0xa5, "CMOS RAM byte is writable");
	outb(0x70, 0x80 | 0x0d);	/* NMI disable bit plus index */
	report(inb(0x71) == 0x80, "index port ignores the NMI-disable bit for addressing");
	report_summary();
}
