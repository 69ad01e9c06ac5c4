/* vmm-test: exit=143 term=2 */
/*
 * A guest that says one line, then runs exit-less with interrupts off for
 * good. Without a timer nothing is recorded after the line, so only the
 * recorder's own flush puts that line on disk before a SIGKILL. With
 * "ticking" on its command line the PIT then runs at 1 kHz (IRQ0 masked): a
 * tick record every millisecond, for measuring what a SIGKILL loses.
 */
#include "guest.h"

int main(void)
{
	puts_serial("spinning\n");
	if (cmdline_has("ticking")) {
		outb(0x43, 0x34);	/* channel 0, lobyte/hibyte, mode 2 */
		outb(0x40, 1193 & 0xff);
		outb(0x40, 1193 >> 8);
	}
	cli();
	for (;;)
		barrier();
}
