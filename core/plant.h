/* HLTs planted in kernel code: breakpoints on KVMs whose debug registers do not fire. */
#ifndef VMM_PLANT_H
#define VMM_PLANT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

struct vm;

/*
 * vmm's 8259A is in userspace, so KVM hands every HLT the guest executes to
 * vmm (KVM_EXIT_HLT, RIP past it): a HLT written over an instruction's first
 * byte stops the guest there on any KVM, where debug registers may not fire
 * (nested kvm_amd under TCG) and an int3 may reach the guest. Kernel code only:
 * at CPL 3 a HLT raises #GP. Planted only around KVM_RUN, so what reads guest
 * memory between runs (fingerprints, gdb, snapshots, devices) never sees one.
 */
#define PLANTS_MAX 40
#define OPCODE_HLT 0xf4
#define OPCODE_INT3 0xcc

struct plant {
	uint64_t rip;		/* where it stops the guest */
	uint8_t *host;		/* that byte in guest RAM */
	uint8_t orig;		/* the guest's byte there */
};

struct plants {
	struct plant p[PLANTS_MAX];
	unsigned n;
};

/* A plant at rip, found through the guest's current paging: 0, -EFAULT (not in RAM), -E2BIG. */
int plant_add(struct plants *ps, struct vm *vm, uint64_t rip);
/* Write the HLTs in (before KVM_RUN). */
void plants_on(struct plants *ps);
/* The guest's bytes back (after KVM_RUN), except where the guest itself wrote meanwhile. */
void plants_off(struct plants *ps);
/*
 * Did the last exit stop on one of them? 1 if so, with RIP moved back onto
 * it as a breakpoint would have left it; 0 if not; -errno.
 */
int plant_hit(const struct plants *ps, struct vm *vm);

/*
 * Where code at CPL 3 enters its kernel, as the guest has it now (s): the
 * handlers of the interrupt and trap gates for vectors[], and the system-call
 * entry (LSTAR, or the int 0x80 gate without SYSCALL). Each address once, at
 * most max of them; returns how many.
 */
unsigned plant_entries_find(struct vm *vm, const struct kvm_sregs *s, const uint8_t *vectors, unsigned nvec,
			    uint64_t *addr, unsigned max);
/* Plants at every exception handler (vectors 0-31), the int 0x80 gate and the system-call entry: how many. */
unsigned plant_entries_all(struct plants *ps, struct vm *vm);

#endif
