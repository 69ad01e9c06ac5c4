/* vmm-test: exit=113 */
/* Reset through the i8042 command 0xfe, as Linux reboot=k does. */
#include "guest.h"

int main(void)
{
	puts_serial("stopping the machine\n");
	outb(0x64, 0xfe);
	return 99;	/* not reached when the stop works */
}
