/* vmm-test: exit=143 term=2 */
/*
 * A guest that says one line, then runs exit-less with interrupts off for
 * good. Without a timer nothing is recorded after the line, so only the
 * recorder's own flush puts that line on disk before a SIGKILL. With
 * "counting" on its command line it instead counts PIT ticks at 1 kHz and
 * prints the count every 10 ms: a recording cut by a SIGKILL replays up to
 * some count, and the recording's own output says how much further it got.
 */
#include "guest.h"

static volatile unsigned ticks;

static void irq0(struct frame *f)
{
	(void)f;
	ticks++;
	pic_eoi(0);
}

int main(void)
{
	puts_serial("spinning\n");
	if (cmdline_has("counting")) {
		unsigned shown = 0;

		idt_set_handler(IRQ_BASE, irq0);
		outb(0x43, 0x34);	/* channel 0, lobyte/hibyte, mode 2: 1 kHz */
		outb(0x40, 1193 & 0xff);
		outb(0x40, 1193 >> 8);
		pic_unmask(0);
		for (;;) {
			wait_for_interrupt();
			if (ticks >= shown + 10) {
				shown = ticks;
				printf("t=%u\n", shown);
			}
		}
	}
	cli();
	for (;;)
		barrier();
}
