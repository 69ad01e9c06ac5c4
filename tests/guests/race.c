/* vmm-test: output="race: " */
/*
 * A driver's lost-update race, for vmm hunt: the main loop updates a counter
 * that the timer interrupt also updates, without masking interrupts, in a
 * read-spin-write window; each turn also makes one exit (a port write). A
 * tick placed at an exit never lands in the window, so plain recording
 * (events carried to the next exit) hides the bug; a tick delivered at
 * once, where the guest is (record --chaos, or vmm run), exposes it. The
 * outcome varies from run to run, so the guest always exits 0 and says
 * which it was: "race: N updates lost" or "race: no update lost".
 */
#include "guest.h"

#define TICKS 20		/* at 1 kHz: about 20 ms of guest time */
#define WINDOW 2000		/* spin turns between the read and the write */

static volatile uint64_t events, isr_events;

static void irq0(struct frame *f)
{
	(void)f;
	events++;		/* the interrupt's own update: atomic against the loop */
	isr_events++;
	pic_eoi(0);
}

int main(void)
{
	uint64_t turns = 0, lost;

	idt_set_handler(IRQ_BASE, irq0);
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	pic_unmask(0);
	__asm__ volatile("sti");
	while (isr_events < TICKS) {
		uint64_t v, n = WINDOW;

		outb(0x80, (uint8_t)turns);	/* the turn's exit: where deferred ticks land */
		v = events;
		__asm__ volatile("1: dec %0\n jnz 1b" : "+r"(n) : : "memory");
		events = v + 1;			/* the bug: a tick taken in the window is overwritten */
		turns++;
	}
	__asm__ volatile("cli");
	pic_mask(0);
	lost = isr_events + turns - events;
	report(turns > 0 && isr_events >= TICKS, "%lu turns under %lu ticks", turns, (uint64_t)isr_events);
	if (lost)
		printf("race: %lu updates lost\n", lost);
	else
		printf("race: no update lost\n");
	report_summary();
}
