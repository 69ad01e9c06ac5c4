/* 8259A pair from the inside: masks, IRR/ISR, EOI forms, priorities, rotation, poll, auto-EOI, special mask, ELCR. */
#include "guest.h"

#define COM1 0x3f8

static volatile unsigned order[8], norder;
static volatile uint8_t isr_in_handler;
static volatile bool eoi_in_handler = true;

static void record(unsigned irq)
{
	if (norder < 8)
		order[norder++] = irq;
}

static void irq0(struct frame *f)
{
	(void)f;
	record(0);
	isr_in_handler = pic_isr(0);
	if (eoi_in_handler)
		pic_eoi(0);
}

static void irq4(struct frame *f)
{
	(void)f;
	record(4);
	isr_in_handler = pic_isr(0);
	outb(COM1 + 1, 0x00);	/* silence THRE */
	inb(COM1 + 2);
	if (eoi_in_handler)
		pic_eoi(4);
}

/* IRQ4 on demand: the UART raises THRE when ETBEI is enabled with OUT2 set. */
static void raise_irq4(void)
{
	outb(COM1 + 4, 0x0b);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 1, 0x02);
}

/* IRQ0 on demand: PIT channel 0 one-shot (mode 0), a short count. */
static void raise_irq0(void)
{
	outb(0x43, 0x30);
	outb(0x40, 0x10);
	outb(0x40, 0x00);
	while (!(pic_irr(0) & 0x01))
		;
}

int main(void)
{
	uint8_t v;

	idt_set_handler(IRQ_BASE + 0, irq0);
	idt_set_handler(IRQ_BASE + 4, irq4);

	outb(0x21, 0xa5);
	outb(0xa1, 0x5a);
	report(inb(0x21) == 0xa5 && inb(0xa1) == 0x5a, "IMR of both chips reads back");
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	/* A masked request waits in IRR and is not delivered. */
	raise_irq4();
	report(pic_irr(0) & 0x10, "masked IRQ4: request visible in IRR");
	report(pic_isr(0) == 0, "masked IRQ4: nothing in service");
	outb(0x21, 0xfb & ~0x10);	/* unmask IRQ4 (and the cascade) */
	wait_for_interrupt();
	report(norder == 1 && order[0] == 4, "unmasked: IRQ4 delivered as vector 0x24");
	report(isr_in_handler == 0x10, "in the handler ISR bit 4 is set (ISR 0x%x)", isr_in_handler);
	report(pic_isr(0) == 0, "after the non-specific EOI ISR is clear");

	/* Specific EOI. */
	eoi_in_handler = false;
	norder = 0;
	raise_irq4();
	wait_for_interrupt();
	report(pic_isr(0) == 0x10, "without EOI the IRQ stays in service");
	outb(0x20, 0x60 | 3);		/* specific EOI for IR3: not ours */
	report(pic_isr(0) == 0x10, "specific EOI of another IR leaves ISR alone");
	outb(0x20, 0x60 | 4);
	report(pic_isr(0) == 0, "specific EOI of IR4 clears it");

	/* Priorities: IR0 beats IR4; while IR0 is in service, IR4 waits. */
	outb(0x21, 0xfb & ~0x11);
	norder = 0;
	raise_irq4();
	raise_irq0();
	report((pic_irr(0) & 0x11) == 0x11, "IRQ0 and IRQ4 both requested");
	wait_for_interrupt();
	report(norder == 1 && order[0] == 0, "IRQ0 (higher priority) delivered first");
	__asm__ volatile("sti; nop; nop; nop; cli");
	report(norder == 1 && (pic_irr(0) & 0x10), "IRQ4 held off while IR0 is in service");
	pic_eoi(0);
	wait_for_interrupt();
	report(norder == 2 && order[1] == 4, "IRQ4 delivered after EOI of IR0");
	pic_eoi(4);

	/* Special mask mode: masking the in-service IR0 lets lower priorities through. */
	norder = 0;
	raise_irq0();
	wait_for_interrupt();
	report(norder == 1 && pic_isr(0) == 0x01, "IR0 in service, no EOI");
	outb(0x20, 0x68);		/* OCW3: set special mask mode */
	outb(0x21, inb(0x21) | 0x01);
	raise_irq4();
	wait_for_interrupt();
	report(norder == 2 && order[1] == 4, "special mask mode: IRQ4 nests inside IR0");
	/* In special mask mode a non-specific EOI would clear IR0 (highest): use specific ones. */
	outb(0x20, 0x64);
	outb(0x20, 0x60);
	outb(0x20, 0x48);		/* OCW3: reset special mask mode */
	outb(0x21, 0xfb & ~0x11);
	report(pic_isr(0) == 0, "both EOIed");

	/* Rotation: set priority so IR3 is lowest, making IR4 the highest. */
	outb(0x20, 0xc0 | 3);
	norder = 0;
	raise_irq4();
	raise_irq0();
	wait_for_interrupt();
	report(norder == 1 && order[0] == 4, "after set-priority(3) IRQ4 beats IRQ0");
	pic_eoi(4);
	wait_for_interrupt();
	report(norder == 2 && order[1] == 0, "then IRQ0");
	pic_eoi(0);
	outb(0x20, 0xc0 | 7);		/* back to IR7 lowest */

	/* Poll mode: with interrupts off, the poll command acknowledges. */
	eoi_in_handler = true;
	raise_irq4();
	outb(0x20, 0x0c);		/* OCW3: poll */
	v = inb(0x20);
	report(v == 0x84, "poll returns 0x80 | 4 (0x%x)", v);
	report(pic_isr(0) == 0x10, "poll acknowledged: IR4 in service");
	outb(0x20, 0x20);
	outb(0x20, 0x0c);
	report(inb(0x20) == 0x00, "poll with nothing pending returns 0");

	/* Auto-EOI: re-initialize the master with ICW4.AEOI. */
	outb(0x20, 0x11);
	outb(0x21, IRQ_BASE);
	outb(0x21, 0x04);
	outb(0x21, 0x03);
	report(inb(0x21) == 0x00, "ICW1 cleared the IMR");
	outb(0x21, 0xfb & ~0x10);
	norder = 0;
	eoi_in_handler = false;
	raise_irq4();
	wait_for_interrupt();
	report(norder == 1 && isr_in_handler == 0, "auto-EOI: ISR stays clear in the handler");
	pic_setup();

	/* ELCR: only IRQ3-7 and 9-12, 14, 15 may be level-triggered. */
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	report(inb(0x4d0) == 0xf8 && inb(0x4d1) == 0xde, "ELCR keeps only its writable bits (0x%x 0x%x)",
	       inb(0x4d0), inb(0x4d1));
	/* Level-triggered IRQ4: IRR follows the line, so silencing the UART drops the request. */
	outb(0x4d0, 0x10);
	outb(0x4d1, 0x00);
	raise_irq4();
	report(pic_irr(0) & 0x10, "level IRQ4: requested while the line is high");
	outb(COM1 + 1, 0x00);
	inb(COM1 + 2);
	report(!(pic_irr(0) & 0x10), "level IRQ4: request gone with the line");
	outb(0x4d0, 0x00);
	outb(COM1 + 4, 0x03);

	/* The slave: IRQ8 (RTC periodic) arrives through IR2 of the master. */
	report(inb(0xa1) == 0xff, "slave IMR after setup");
	report_summary();
}
