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

#define TICKS 20		/* at 250 Hz: about 80 ms of guest time */
#define PIT_COUNT 4773		/* 250 Hz: a 4 ms period, so --defer's default 1 ms is not cut to half a period */
#define WINDOW_COUNTS 240	/* a window of about 200 us, measured in PIT counts */

static volatile uint64_t events, isr_events;

static void irq0(struct frame *f)
{
	(void)f;
	events++;		/* the interrupt's own update: atomic against the loop */
	isr_events++;
	pic_eoi(0);
}

/* Channel 2's count now (a latch command, then low and high byte): it runs free, a 55 ms period. */
static uint16_t pit2_count(void)
{
	uint16_t lo, hi;

	outb(0x43, 0x80);
	lo = inb(0x42);
	hi = inb(0x42);
	return (uint16_t)(lo | hi << 8);
}

static void spin(uint64_t n)
{
	__asm__ volatile("1: dec %0\n jnz 1b" : "+r"(n) : : "memory");
}

/* PIT counts that k turns take, reads included: the least of three, against the host's noise. */
static unsigned spin_counts(uint64_t k)
{
	unsigned best = ~0u;

	for (int i = 0; i < 3; i++) {
		uint16_t c0 = pit2_count(), c1;

		if (k)
			spin(k);
		c1 = pit2_count();
		if ((uint16_t)(c0 - c1) < best)
			best = (uint16_t)(c0 - c1);
	}
	return best;
}

/*
 * How many spin turns make the window: about 200 us on this host, whatever
 * it runs kernel code at (natively, or emulated at ~2 us an instruction on
 * kvm_pvm). Long next to an exit, so that a tick delivered where the guest
 * is lands in the window almost always; a fifth of --defer's 1 ms, so that
 * a tick carried to the next exit finds one even on a busy host. Measured
 * on channel 2 with interrupts off, less what the reads themselves take:
 * doubling finds the power of two past the mark, halving narrows it to
 * within a sixteenth (a power of two alone can be nearly twice as long).
 */
static uint64_t window_turns(void)
{
	unsigned base;
	uint64_t lo, hi;

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));	/* gate on, speaker off */
	outb(0x43, 0xb4);					/* channel 2, mode 2, count 65536 */
	outb(0x42, 0);
	outb(0x42, 0);
	base = spin_counts(0);
	for (hi = 16; hi < (1ull << 30); hi *= 2)
		if (spin_counts(hi) >= base + WINDOW_COUNTS)
			break;
	lo = hi / 2;
	while (hi - lo > hi / 16) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (spin_counts(mid) >= base + WINDOW_COUNTS)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

int main(void)
{
	uint64_t turns = 0, lost, window;

	idt_set_handler(IRQ_BASE, irq0);
	outb(0x43, 0x34);
	outb(0x40, PIT_COUNT & 0xff);
	outb(0x40, PIT_COUNT >> 8);
	window = window_turns();
	pic_unmask(0);
	__asm__ volatile("sti");
	while (isr_events < TICKS) {
		uint64_t v;

		outb(0x80, (uint8_t)turns);	/* the turn's exit: where deferred ticks land */
		v = events;
		spin(window);
		events = v + 1;			/* the bug: a tick taken in the window is overwritten */
		turns++;
	}
	__asm__ volatile("cli");
	pic_mask(0);
	lost = isr_events + turns - events;
	report(turns > 0 && isr_events >= TICKS, "%lu turns of a %lu-turn window under %lu ticks", turns, window,
	       (uint64_t)isr_events);
	if (lost)
		printf("race: %lu updates lost\n", lost);
	else
		printf("race: no update lost\n");
	report_summary();
}
