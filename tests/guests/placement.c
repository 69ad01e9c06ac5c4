/* vmm-test: needs=window */
/*
 * Each way vmm places a timer tick (README, "Where events land"): at an exit
 * the guest makes anyway, at the interrupt-window exit after a stretch with
 * interrupts off, and at a landmark inside an exit-less loop with interrupts
 * on; and a user-mode wait. tests/rr-guests.sh checks that `vmm journal stat`
 * counts all three, and that the wait was found steady.
 */
#include "guest.h"

static volatile uint64_t ticks;

static void user_wait(void *arg)
{
	uint64_t until = (uint64_t)arg;

	while (ticks < until)
		;
}

static void irq0(struct frame *f)
{
	(void)f;
	ticks++;
	pic_eoi(0);
}

int main(void)
{
	uint64_t t0, turns, n;

	idt_set_handler(IRQ_BASE, irq0);
	outb(0x43, 0x34);	/* 1 kHz */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	pic_unmask(0);

	/* Exits all the time (POST port writes): ticks ride on them. */
	t0 = ticks;
	sti();
	while (ticks < t0 + 5)
		outb(0x80, 0);
	cli();
	report(ticks >= t0 + 5, "5 ticks while the guest wrote port 0x80");

	/*
	 * No exit, interrupts on: only a kick stops it, a landmark. The turns
	 * between two ticks also measure this host's speed for the next part.
	 */
	t0 = ticks;
	turns = 0;
	sti();
	while (ticks < t0 + 1)
		barrier();
	t0 = ticks;
	while (ticks < t0 + 2)
		turns++;
	cli();
	report(turns > 0, "exit-less loop with interrupts on saw 2 ticks (%lu turns)", turns);

	/*
	 * No exit, interrupts off, about one tick period at a time: a tick due
	 * inside waits for the window that opens after sti. Repeated until one
	 * did, with a bound so a host that delivers otherwise still ends.
	 */
	t0 = ticks;
	for (int round = 0; round < 40 && ticks < t0 + 3; round++) {
		n = turns / 2 + 1;
		__asm__ volatile("cli\n1: dec %0\n jnz 1b\n sti\n nop\n cli" : "+c"(n) : : "memory");
	}
	report(ticks >= t0 + 3, "3 ticks arrived after stretches with interrupts off");

	/*
	 * A wait in user mode, where the state repeats until the tick: the recorder
	 * places the tick as soon as two looks find nothing changed, rather than
	 * waiting for a kernel entry this loop never makes (vmm record --stats:
	 * "user-mode waits found steady"). 100 Hz: the handler and its exits are
	 * long over when the next tick falls due, wherever the host is slow.
	 */
	outb(0x43, 0x34);
	outb(0x40, 11932 & 0xff);
	outb(0x40, 11932 >> 8);
	t0 = ticks;
	user_run(user_wait, (void *)(t0 + 2), user_stack + USER_STACK_SIZE);
	report(ticks >= t0 + 2, "user-mode wait saw 2 ticks");
	pic_mask(0);
	report_summary();
}
