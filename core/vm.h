/* One KVM virtual machine with one vCPU: setup, entry state and the run loop. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "board.h"
#include "boot.h"
#include "console.h"
#include "guest_mem.h"

/* Why the run loop stopped; the CLI maps this to an exit status. */
enum vm_stop {
	VM_RUNNING,
	VM_STOP_DEBUG_EXIT,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_SIGNAL,
	VM_STOP_QUIT,		/* Ctrl-A x */
	VM_STOP_ERROR,
};

#define VM_EXIT_REASONS 64

struct vm_stats {
	uint64_t exits[VM_EXIT_REASONS];	/* by KVM exit reason */
	uint64_t pio_by_region[16];
	uint64_t kicks;				/* KVM_RUN interrupted by a signal */
	uint64_t injections;
	uint64_t int3_completed;
	uint64_t msr_trapped;
};

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	struct guest_mem mem;
	struct board board;
	struct console *console;
	uint64_t start_ns;		/* host CLOCK_MONOTONIC at power-on */
	timer_t timer;
	bool timer_valid;
	uint64_t armed;			/* deadline the host timer is armed for */
	bool irq_queued;		/* KVM_INTERRUPT done, not yet known delivered */
	sigset_t run_mask;		/* signal mask while in KVM_RUN and waits */
	enum vm_stop stop;
	uint32_t exit_code;		/* debug-exit code */
	int signal;
	bool verbose;
	struct vm_stats stats;
};

struct vm_config {
	uint64_t mem_size;
	int64_t rtc_epoch;
	bool verbose;
	struct console *console;
};

/* Returns 0 or -errno; err holds one line for the user. */
int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen);
int vm_set_entry(struct vm *vm, const struct boot_entry *entry, char *err, size_t errlen);
/* Runs until the guest or the user stops it; vm->stop says why. */
int vm_run(struct vm *vm, char *err, size_t errlen);
void vm_destroy(struct vm *vm);
void vm_print_stats(const struct vm *vm, double seconds);
const char *vm_exit_reason_name(unsigned reason);

#endif
