/* vmm-test: exit=15 */
/*
 * A guest for the GDB tests (tests/gdb-run.sh): a global that a function
 * bumps in a loop and a result written once, so a breakpoint, a variable
 * read and write, a hardware watchpoint and a step all have something to
 * find. Run alone it exits with status 15 (1+2+3+4+5).
 */
#include "guest.h"

volatile uint64_t counter;
volatile uint64_t result;

__attribute__((noinline)) void bump(uint64_t by)
{
	counter += by;
}

int main(void)
{
	for (uint64_t i = 1; i <= 5; i++)
		bump(i);
	result = counter;
	printf("result %lu\n", (uint64_t)result);
	guest_exit((uint32_t)result);
}
