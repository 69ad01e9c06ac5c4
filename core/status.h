/* Exit statuses of the vmm command: the contract with scripts that run guests. */
#ifndef VMM_STATUS_H
#define VMM_STATUS_H

/* 0-255 other than these: the code the guest wrote to the debug-exit port, & 0xff. */
#define VMM_EXIT_USAGE		2	/* bad command line; nothing ran */
#define VMM_EXIT_POWEROFF	112	/* guest halted for good (hlt with interrupts off): Linux poweroff/halt */
#define VMM_EXIT_RESET		113	/* guest asked for a reset: i8042, 0xcf9, port 0x92 */
#define VMM_EXIT_TRIPLE_FAULT	114	/* guest triple-faulted (KVM shutdown exit) */
#define VMM_EXIT_DIVERGENCE	115	/* replay diverged from its journal */
#define VMM_EXIT_ERROR		116	/* vmm could not go on: host error, bad input, emulation failure */
#define VMM_EXIT_SIGNAL_BASE	128	/* stopped by SIGINT/SIGTERM: 128 + signal number */

#endif
