/* vmm-test: exit=112 */
/* Halting with interrupts disabled is a power-off; nothing can wake the CPU. */
#include "guest.h"

int main(void)
{
	puts_serial("stopping the machine\n");
	__asm__ volatile("cli; hlt");
	return 99;	/* not reached when the stop works */
}
