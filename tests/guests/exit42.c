/* vmm-test: exit=42 */
/* Debug exit: the code written to port 0xf4 becomes the exit status. */
#include "guest.h"

int main(void)
{
	puts_serial("stopping the machine\n");
	guest_exit(42);
	return 99;	/* not reached when the stop works */
}
