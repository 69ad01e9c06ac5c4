/* Long mode at CPL3: user code runs natively, faults from CPL3 reach the kernel, the kernel resumes. */
#include "guest.h"

static volatile uint64_t user_counter;
static volatile uint64_t user_cs;
static volatile int user_fault = -1;

static void user_loop(void *arg)
{
	uint64_t n = (uint64_t)arg;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	user_cs = cs;
	for (uint64_t i = 0; i < n; i++)
		user_counter++;
}

static void gp_handler(struct frame *f)
{
	user_fault = (int)f->vector;
	f->rip += 1;	/* skip the one-byte hlt */
}

static void user_hlt(void *arg)
{
	(void)arg;
	__asm__ volatile("hlt");	/* privileged: #GP from CPL3 */
}

int main(void)
{
	user_run(user_loop, (void *)1000000, user_stack + USER_STACK_SIZE);
	report(user_counter == 1000000, "user-mode loop ran to completion (%lu)", (uint64_t)user_counter);
	report((user_cs & 3) == 3, "user code ran at CPL3 (cs 0x%lx)", (uint64_t)user_cs);
	user_run(user_loop, (void *)5, user_stack + USER_STACK_SIZE);
	report(user_counter == 1000005, "a second user_run() returns too");
	idt_set_handler(13, gp_handler);
	user_run(user_hlt, 0, user_stack + USER_STACK_SIZE);
	idt_set_handler(13, 0);
	report(user_fault == 13, "hlt at CPL3 raises #GP in the kernel");
	report_summary();
}
