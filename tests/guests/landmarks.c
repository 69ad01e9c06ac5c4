/*
 * Output that depends on exactly where timer interrupts land: a register-only
 * busy loop, a loop whose registers repeat and only memory changes, a rep movsb
 * interrupted mid-copy, sti;hlt, a tick that falls due while interrupts are
 * off, a user-mode wait, and user code that keeps entering the kernel through
 * faults, handled quickly and then slowly with interrupts off. Two recordings
 * differ; replays of one are equal.
 */
#include "guest.h"

#define LOG 6

static volatile uint64_t ticks;
static volatile uint32_t mem_counter;
static volatile uint64_t log_rcx[LOG], log_mem[LOG], log_rip[LOG];
static volatile unsigned nlog;
static uint8_t src[32 * 1024], dst[32 * 1024];

static void irq0(struct frame *f)
{
	ticks++;
	if (nlog < LOG) {
		log_rcx[nlog] = f->rcx;
		log_mem[nlog] = mem_counter;
		log_rip[nlog] = f->rip;
		nlog++;
	}
	pic_eoi(0);
}

static void start_log(void)
{
	nlog = 0;
}

static void print_log(const char *what)
{
	printf("%s:", what);
	for (unsigned i = 0; i < nlog; i++)
		printf(" %lx/%lx", log_rcx[i], log_mem[i]);
	printf("\n");
}

static void user_wait(void *arg)
{
	uint64_t until = (uint64_t)arg;

	while (ticks < until)
		;
}

static volatile uint64_t user_faults, user_result;

static void gp_skip(struct frame *f)
{
	user_faults++;
	f->rip += 1;	/* past the one-byte hlt */
}

/*
 * Never the same state twice (i only grows), and a #GP every 2^16 turns (tens of microseconds
 * natively, milliseconds where user code is emulated, as on the nested kvm_amd): the
 * pattern of a fault-heavy user program. A tick due here is placed where
 * the fault enters the kernel, which replay can stop at on every host.
 */
static void user_faulting(void *arg)
{
	uint64_t until = (uint64_t)arg, x = 1, i = 0;

	/*
	 * At least one turn, so at least one fault (i = 0): a host that stalls
	 * the vCPU for the five ticks before this starts must not fail the check.
	 */
	do {
		x = x * 6364136223846793005ull + i;
		if ((i & 0xffff) == 0)
			__asm__ volatile("hlt" : : : "memory");
		i++;
	} while (ticks < until);
	user_result = x;
}

/* Turns of a register loop in one tick period, measured in the first phase. */
static volatile uint64_t turns_per_tick, slow_faults;

/*
 * A #GP the kernel takes its time over with interrupts off (an interrupt
 * gate): a tick period or two, so ticks fall due inside it, and the
 * interrupt waits for the window that opens at the return to user mode.
 */
static void gp_slow(struct frame *f)
{
	uint64_t n = 2 * turns_per_tick;

	__asm__ volatile("1: dec %0\n jnz 1b" : "+r"(n));
	slow_faults++;
	f->rip += 1;	/* past the one-byte hlt */
}

static volatile uint64_t scribble[16 * 512];	/* 16 pages */

/*
 * user_faulting that also writes sixteen pages as it goes: more than a
 * landmark carries, so replay cannot reach a state here by setting memory
 * and must run to it.
 */
static void user_scribbling(void *arg)
{
	uint64_t until = (uint64_t)arg, x = 1, i = 0;

	do {
		x = x * 6364136223846793005ull + i;
		scribble[(i & 15) * 512] = x;
		if ((i & 0xffff) == 0)
			__asm__ volatile("hlt" : : : "memory");
		i++;
	} while (ticks < until);
	user_result = x;
}

extern const uint8_t after_sti[];

int main(void)
{
	uint64_t n, t0;

	idt_set_handler(IRQ_BASE, irq0);
	outb(0x43, 0x34);		/* 1 kHz: several ticks inside short loops */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	pic_unmask(0);

	/*
	 * Registers only: the count in rcx is all that changes. Each loop runs until two ticks
	 * have landed in it, not for a number of turns: a VT-x host runs 20,000 turns in
	 * microseconds, kvm_pvm in 80 ms.
	 */
	start_log();
	n = ~0ull;
	__asm__ volatile("sti\n1: dec %0\n cmpl $2, %1\n jb 1b\n cli" : "+c"(n) : "m"(nlog) : "memory");
	report(n != ~0ull && nlog >= 2, "register loop ran, %u ticks logged", nlog);
	print_log("register loop");

	/* Registers repeat every turn; only the counter in memory moves. */
	start_log();
	__asm__ volatile("sti\n1: incl %0\n cmpl $2, %1\n jb 1b\n cli"
			 : "+m"(mem_counter) : "m"(nlog) : "memory");
	report(mem_counter > 0 && nlog >= 2, "memory-only loop ran, %u ticks logged", nlog);
	print_log("memory loop");

	/* rep movsb interrupted mid-copy: rcx holds the bytes still to go. */
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 3);
	start_log();
	{
		void *d = dst;
		const void *s = src;
		uint64_t c = sizeof(src);

		__asm__ volatile("sti\n rep movsb\n cli" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
	}
	report(memcmp(src, dst, sizeof(src)) == 0, "rep movsb copied correctly under %u ticks", nlog);
	print_log("rep movsb");

	/* sti;hlt: woken at the hlt exit. */
	t0 = ticks;
	for (int i = 0; i < 5; i++)
		wait_for_interrupt();
	report(ticks >= t0 + 5, "sti;hlt woke 5 times");

	/*
	 * Ticks fall due while IF=0: they set IRR where they fall (landmarks),
	 * and the interrupt arrives at the first instruction that can take it.
	 */
	start_log();
	n = 200000;
	__asm__ volatile("cli\n1: dec %0\n jnz 1b\n sti\n hlt\n .globl after_sti\nafter_sti: cli"
			 : "+c"(n) : : "memory");
	/*
	 * A second tick may come due while the first one's handler runs (it is
	 * emulated, and slow on a loaded host): it too arrives at after_sti,
	 * before the cli there.
	 */
	{
		bool all_there = nlog >= 1;

		for (unsigned i = 0; i < nlog && i < LOG; i++)
			all_there &= log_rip[i] == (uint64_t)after_sti;
		report(all_there, "ticks due under cli arrived at the sti;hlt after it (%u ticks, rip %lx)", nlog,
		       log_rip[0]);
	}

	/* A user-mode wait whose state repeats until the tick. */
	start_log();
	t0 = ticks;
	user_run(user_wait, (void *)(t0 + 3), user_stack + USER_STACK_SIZE);
	report(ticks >= t0 + 3, "user-mode wait saw 3 ticks");

	start_log();
	t0 = ticks;
	idt_set_handler(13, gp_skip);
	user_run(user_faulting, (void *)(t0 + 5), user_stack + USER_STACK_SIZE);
	idt_set_handler(13, 0);
	report(ticks >= t0 + 5 && user_faults > 0, "fault-heavy user code saw 5 ticks (%lu faults)",
	       (uint64_t)user_faults);
	printf("user result %lx after %lu faults\n", (uint64_t)user_result, (uint64_t)user_faults);
	print_log("user faults");

	/*
	 * Faulting user code that writes memory, its faults handled slowly with
	 * interrupts off: ticks fall due in the handler, and their windows open
	 * at its return to user mode.
	 */
	wait_for_interrupt();
	__asm__ volatile("sti" ::: "memory");
	for (t0 = ticks, n = 0; ticks == t0; n++)
		;
	__asm__ volatile("cli" ::: "memory");
	turns_per_tick = n;
	start_log();
	t0 = ticks;
	idt_set_handler(13, gp_slow);
	user_run(user_scribbling, (void *)(t0 + 3), user_stack + USER_STACK_SIZE);
	idt_set_handler(13, 0);
	report(ticks >= t0 + 3 && slow_faults > 0, "slowly handled faults saw 3 ticks (%lu faults, %lu turns a tick)",
	       (uint64_t)slow_faults, (uint64_t)turns_per_tick);
	print_log("slow faults");
	printf("ticks in all: %lu\n", ticks);
	pic_mask(0);
	report_summary();
}
