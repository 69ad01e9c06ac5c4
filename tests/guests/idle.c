/* vmm-test: exit=143 term=2 */
/* A guest idling in hlt with nothing armed: only SIGTERM ends it, with status 128 + 15. */
#include "guest.h"

int main(void)
{
	puts_serial("idling\n");
	for (;;)
		wait_for_interrupt();
}
