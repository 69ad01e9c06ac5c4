/* What the vCPU loop's files share: run.c (the loop and exit handlers), place.c, wake.c, insn.c. */
#ifndef VMM_LOOP_H
#define VMM_LOOP_H

#include "vm.h"

#define NEVER UINT64_MAX

/* wake.c */
uint64_t vm_now(const struct vm *vm);
void vm_kick(void *opaque);
bool vm_kick_take(void);
bool vm_kick_pending(void);

/* place.c */
uint64_t vm_tick_due(const struct vm *vm);
uint64_t vm_work_due_at(const struct vm *vm);
void vm_arm_timer(struct vm *vm);
void vm_ran_mark(struct vm *vm);
int vm_kicked(struct vm *vm);
int vm_entry_hit(struct vm *vm);
void vm_disarm_entry_breakpoints(struct vm *vm);

/* insn.c */
int vm_exit_internal_error(struct vm *vm, char *err, size_t errlen);
const char *vm_insn_name(unsigned i);

#endif
