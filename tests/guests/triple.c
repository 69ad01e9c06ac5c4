/* vmm-test: exit=114 */
/* A fault with an unusable IDT escalates to a triple fault: the VMM stops with its own status. */
#include "guest.h"

int main(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { 0, 0 };

	puts_serial("triple-faulting\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(idtr));
	return 99;
}
