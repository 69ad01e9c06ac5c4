/* 8254 from the inside: control words, latch, read-back, each mode on channel 2, BCD, and IRQ0 at a set rate. */
#include "guest.h"

static volatile uint64_t ticks;

static void irq0(struct frame *f)
{
	(void)f;
	ticks++;
	pic_eoi(0);
}

static uint16_t latch(unsigned ch)
{
	uint8_t lo, hi;

	outb(0x43, (uint8_t)(ch << 6));	/* counter latch */
	lo = inb(0x40 + ch);
	hi = inb(0x40 + ch);
	return (uint16_t)(hi << 8 | lo);
}

static uint8_t status(unsigned ch)
{
	outb(0x43, (uint8_t)(0xe0 | 2u << ch));	/* read-back: status only */
	return inb(0x40 + ch);
}

static bool out2(void)
{
	return inb(0x61) & 0x20;
}

static void gate2(bool on)
{
	outb(0x61, on ? 0x01 : 0x00);
}

static void program(unsigned ch, uint8_t mode_bits, uint16_t count)
{
	outb(0x43, (uint8_t)(ch << 6 | 0x30 | mode_bits));
	outb(0x40 + ch, (uint8_t)count);
	outb(0x40 + ch, (uint8_t)(count >> 8));
}

/* Poll OUT2 until it reads want, at most n times. */
static bool wait_out2(bool want, unsigned n)
{
	while (n--)
		if (out2() == want)
			return true;
	return false;
}

static uint8_t rtc_sec(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

static void user_wait_ticks(void *arg)
{
	uint64_t until = (uint64_t)arg;

	while (ticks < until)
		;	/* native user-mode spin: only the timer interrupt ends it */
}

int main(void)
{
	uint16_t a, b;
	uint8_t s, sec;
	uint64_t t0;
	bool seen0 = false, seen1 = false;

	/* Control word and status. */
	outb(0x43, 0x34);	/* ch0, LSB then MSB, mode 2, binary */
	s = status(0);
	report((s & 0x7f) == 0x74, "read-back status: mode 2, word access, null count (0x%x)", s);
	outb(0x40, 11932 & 0xff);
	outb(0x40, 11932 >> 8);
	s = status(0);
	report((s & 0x40) == 0, "null count clears once the count is loaded (0x%x)", s);
	a = latch(0);
	b = latch(0);
	report(a >= 1 && a <= 11932 && b <= 11932, "latched counts lie in 1..11932 (%u, %u)", a, b);
	report(a != b, "the counter moves (%u then %u)", a, b);
	outb(0x43, 0xd2);	/* read-back: latch count of ch0 */
	a = inb(0x40);
	a |= (uint16_t)(inb(0x40) << 8);
	report(a >= 1 && a <= 11932, "read-back count latch (%u)", a);

	/* IRQ0 at 100 Hz, measured against the RTC's second. */
	idt_set_handler(IRQ_BASE, irq0);
	pic_unmask(0);
	/*
	 * Edges the host could not deliver in time coalesce, as on hardware, so a
	 * host that stalls the vCPU loses ticks: up to three seconds are counted,
	 * and one in range is enough. A wrong rate misses in all three.
	 */
	sec = rtc_sec();
	while (rtc_sec() == sec)
		wait_for_interrupt();
	{
		uint64_t n = 0;

		for (int tries = 0; tries < 3 && !(n >= 90 && n <= 110); tries++) {
			sec = rtc_sec();
			t0 = ticks;
			while (rtc_sec() == sec)
				wait_for_interrupt();
			n = ticks - t0;
			if (!(n >= 90 && n <= 110))
				report_info("second %d: %lu ticks", tries + 1, n);
		}
		report(n >= 90 && n <= 110, "100 Hz: %lu ticks in one RTC second", n);
	}

	/* The same ticks preempt native user-mode code. */
	t0 = ticks;
	user_run(user_wait_ticks, (void *)(t0 + 5), user_stack + USER_STACK_SIZE);
	report(ticks >= t0 + 5, "timer interrupts reach a user-mode busy loop");
	pic_mask(0);

	/* Mode 0 on channel 2: gate low holds the count; OUT rises at terminal count. */
	gate2(false);
	program(2, 0x80 | 0x00, 0x2000);
	a = latch(2);
	b = latch(2);
	report(a == b && a == 0x2000, "mode 0, gate low: count held at 0x%x", a);
	report(!out2(), "mode 0: OUT low after the count is written");
	gate2(true);
	report(wait_out2(true, 200000), "mode 0: OUT rises at terminal count");
	report(latch(2) != 0x2000, "mode 0: the count ran on after the gate opened");

	/* Mode 1: a rising gate triggers a one-shot low pulse. 60000 lasts 50 ms: the two exits
	 * between the trigger and the read outlasted a 2.5 ms pulse under ASan on a nested KVM. */
	gate2(false);
	program(2, 0x80 | 0x02, 60000);
	report(out2(), "mode 1: OUT high before the trigger");
	gate2(true);
	report(!out2(), "mode 1: OUT low after the gate trigger");
	report(wait_out2(true, 200000), "mode 1: OUT high again after the count");

	/* Mode 2 on channel 2: rate generator, count reloads. */
	program(2, 0x80 | 0x04, 500);
	a = latch(2);
	report(a >= 1 && a <= 500, "mode 2: count within 1..500 (%u)", a);

	/* Mode 3: square wave, OUT toggles. */
	program(2, 0x80 | 0x06, 0x100);
	for (int i = 0; i < 20000 && !(seen0 && seen1); i++) {
		if (out2())
			seen1 = true;
		else
			seen0 = true;
	}
	report(seen0 && seen1, "mode 3: OUT toggles");
	a = latch(2);
	report((a & 1) == 0, "mode 3: the count moves in steps of two (%u)", a);

	/* Mode 4: software strobe; OUT high while counting. */
	program(2, 0x80 | 0x08, 0x8000);
	report(out2(), "mode 4: OUT high while counting");
	a = latch(2);
	b = latch(2);
	report(a != b, "mode 4: counting (%u, %u)", a, b);

	/* Mode 5: counting starts on a rising gate. */
	gate2(false);
	program(2, 0x80 | 0x0a, 0x8000);
	a = latch(2);
	b = latch(2);
	report(a == 0x8000 && b == 0x8000, "mode 5: waits for the gate trigger");
	gate2(true);
	for (int i = 0; i < 100; i++)
		inb(0x61);
	report(latch(2) != 0x8000, "mode 5: counting after the trigger");

	/* BCD: count 0500 (decimal), every digit stays a decimal digit. Mode 0 keeps counting
	 * past zero (0500 lasts 419 us, a host stall on a nested KVM outlasts it), and a BCD
	 * count wraps to 9999, so all four digits are checked on several reads, not a bound. */
	outb(0x43, 0xb1);	/* ch2, word, mode 0, BCD */
	outb(0x42, 0x00);
	outb(0x42, 0x05);
	bool bcd = true;
	for (int i = 0; i < 8 && bcd; i++) {
		a = latch(2);
		for (int d = 0; d < 16; d += 4)
			bcd = bcd && (a >> d & 0xf) <= 9;
	}
	report(bcd, "BCD count reads as decimal digits (0x%x)", a);

	/* LSB-only and MSB-only access, with the gate low so the count holds still: a running
	 * count of 0x80 lasts 107 us, less than two exits on a nested KVM. */
	gate2(false);
	outb(0x43, 0x90);	/* ch2, LSB only, mode 0 */
	outb(0x42, 0x80);
	a = inb(0x42);
	report(a == 0x80, "LSB-only access (0x%x)", a);
	outb(0x43, 0xa0);	/* ch2, MSB only, mode 0 */
	outb(0x42, 0x10);
	a = inb(0x42);
	report(a == 0x10, "MSB-only access (0x%x)", a);
	report_summary();
}
