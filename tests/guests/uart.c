/* 16550A at COM1 from the inside: registers, DLAB, FIFO, loopback, interrupts through the PIC; COM2-4 absent. */
#include "guest.h"

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static volatile unsigned irq4_count;
static volatile uint8_t irq4_iir;

static void irq4(struct frame *f)
{
	(void)f;
	irq4_count++;
	irq4_iir = inb(COM1 + IIR);	/* reading IIR acknowledges THRE */
	pic_eoi(4);
}


int main(void)
{
	uint8_t v;
	int i, ok;

	outb(COM1 + SCR, 0x5a);
	report(inb(COM1 + SCR) == 0x5a, "scratch register holds a value");
	report((inb(COM1 + LSR) & 0x60) == 0x60, "LSR: THRE and TEMT set when idle");

	outb(COM1 + LCR, 0x83);
	outb(COM1 + RBR, 0x34);
	outb(COM1 + IER, 0x12);
	ok = inb(COM1 + RBR) == 0x34 && inb(COM1 + IER) == 0x12;
	outb(COM1 + LCR, 0x03);
	report(ok, "DLAB=1: divisor latch reads back");
	report(inb(COM1 + IER) == 0x00, "DLAB=0: IER is separate from DLM");
	report(inb(COM1 + LCR) == 0x03, "LCR reads back");

	outb(COM1 + FCR, 0x07);
	report((inb(COM1 + IIR) & 0xcf) == 0xc1, "IIR: FIFO enabled, no interrupt pending");

	/* Loopback: what we send comes back, the modem lines follow MCR; our output is looped too. */
	report_defer();
	outb(COM1 + MCR, 0x13);		/* LOOP | RTS | DTR */
	v = inb(COM1 + MSR);
	report((v & 0xf0) == 0x30, "loopback: MSR CTS/DSR follow RTS/DTR (0x%x)", v);
	outb(COM1 + THR, 'a');
	outb(COM1 + THR, 'b');
	report(inb(COM1 + LSR) & 0x01, "loopback: data ready");
	report(inb(COM1 + RBR) == 'a' && inb(COM1 + RBR) == 'b', "loopback: bytes return in order");
	report(!(inb(COM1 + LSR) & 0x01), "loopback: FIFO empty after reading");

	for (i = 0; i < 17; i++)
		outb(COM1 + THR, (uint8_t)('A' + i));
	v = inb(COM1 + LSR);
	report((v & 0x03) == 0x03, "loopback: 17th byte overruns the 16-byte FIFO (LSR 0x%x)", v);
	report(!(inb(COM1 + LSR) & 0x02), "LSR read clears the overrun");
	ok = 1;
	for (i = 0; i < 16; i++)
		ok &= inb(COM1 + RBR) == 'A' + i;
	report(ok, "loopback: the 16 bytes in the FIFO are intact");

	/* Receive interrupt identification, read by polling. */
	outb(COM1 + IER, 0x01);
	outb(COM1 + FCR, 0x47);		/* trigger level 4 */
	outb(COM1 + THR, 'x');
	report((inb(COM1 + IIR) & 0x0f) == 0x0c, "below the trigger level: character timeout (IIR 0x0c)");
	for (i = 0; i < 3; i++)
		outb(COM1 + THR, 'y');
	report((inb(COM1 + IIR) & 0x0f) == 0x04, "at the trigger level: data available (IIR 0x04)");
	outb(COM1 + FCR, 0x07);		/* clear FIFOs, trigger 1 */
	report((inb(COM1 + IIR) & 0x0f) == 0x01, "FIFO cleared: no interrupt");
	outb(COM1 + IER, 0x04);
	for (i = 0; i < 17; i++)
		outb(COM1 + THR, 'z');
	report((inb(COM1 + IIR) & 0x0f) == 0x06, "overrun with ELSI: line status interrupt (IIR 0x06)");
	inb(COM1 + LSR);
	outb(COM1 + FCR, 0x07);
	outb(COM1 + IER, 0x00);
	outb(COM1 + MCR, 0x03);
	report_flush();

	/* Interrupts reach the PIC only with OUT2 set and loopback off. */
	idt_set_handler(IRQ_BASE + 4, irq4);
	pic_unmask(4);
	outb(COM1 + MCR, 0x18);		/* LOOP | OUT2 */
	outb(COM1 + IER, 0x02);
	v = pic_irr(0);
	outb(COM1 + IER, 0x00);
	outb(COM1 + MCR, 0x03);
	report(!(v & 0x10) && irq4_count == 0, "loopback: no interrupt leaves the chip (IRR 0x%x)", v);
	outb(COM1 + IER, 0x02);		/* OUT2 clear */
	v = pic_irr(0);
	report(!(v & 0x10) && irq4_count == 0, "OUT2 clear: the interrupt is gated off (IRR 0x%x)", v);
	outb(COM1 + IER, 0x00);
	outb(COM1 + MCR, 0x0b);		/* OUT2 | RTS | DTR */
	outb(COM1 + IER, 0x02);		/* enabling ETBEI with THR empty raises THRE */
	report(pic_irr(0) & 0x10, "THRE with OUT2: IRQ4 requested at the PIC");
	wait_for_interrupt();
	report(irq4_count == 1 && (irq4_iir & 0x0f) == 0x02, "THRE interrupt delivered on IRQ4 (count %u, IIR 0x%x)",
	       irq4_count, irq4_iir);
	outb(COM1 + THR, '\n');	/* transmitting re-arms THRE */
	wait_for_interrupt();
	report(irq4_count == 2, "a transmitted byte raises THRE again");
	outb(COM1 + IER, 0x00);
	outb(COM1 + MCR, 0x03);
	pic_mask(4);
	puts_serial("\n");

	report(inb(0x2f8 + 5) == 0xff && inb(0x2f8) == 0xff, "COM2 absent: reads 0xff");
	report(inb(0x3e8 + 5) == 0xff, "COM3 absent: reads 0xff");
	report(inb(0x2e8 + 5) == 0xff, "COM4 absent: reads 0xff");
	report_summary();
}
