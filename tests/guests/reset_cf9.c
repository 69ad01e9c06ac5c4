/* vmm-test: exit=113 */
/* Reset through the reset control register at 0xcf9 (RST_CPU with SYS_RST). */
#include "guest.h"

int main(void)
{
	puts_serial("stopping the machine\n");
	outb(0xcf9, 0x02); outb(0xcf9, 0x06);
	return 99;	/* not reached when the stop works */
}
