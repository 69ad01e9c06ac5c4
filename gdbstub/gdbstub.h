/* The GDB stub of `vmm run` and `vmm replay`: one client over TCP or a Unix socket, breakpoints, watchpoints on trapped pages, stepping. */
#ifndef VMM_GDBSTUB_H
#define VMM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regs.h"
#include "rsp.h"

struct vm;
struct vm_debugger;

#define GDB_MONITOR_LATER 1
#define GDB_MONITOR_GONE 2	/* the replay went on elsewhere: stop serving, as after a kill */
#define GDB_HW_SLOTS 4		/* DR0-DR3 for hardware breakpoints; watchpoints share the slots, not the registers */
#define GDB_SW_BPS 32		/* software breakpoints (int3), as many as vm.h's VM_SWBPS_MAX */

struct gdb_slot {
	bool used;
	uint64_t addr;
	unsigned kind;		/* Z type: 0/1 execute, 2 write, 3 read, 4 access */
	unsigned len;
	uint64_t gpa;		/* a watchpoint's guest physical address, whose page is trapped */
	uint8_t old[8];		/* a watchpoint's bytes when last seen */
};

struct gdb_swbp {
	bool used;
	uint64_t addr;		/* as gdb gave it */
	uint64_t gpa;		/* where it was mapped when set: the int3 goes there; or ... */
};
/* ... not mapped yet (a kernel's code, set before paging is on): planted once it is. */
#define GDB_SWBP_UNMAPPED UINT64_MAX

struct gdbstub {
	int listen_fd, fd;
	char unix_path[108];		/* the socket file this process made, removed at close; "" if TCP */
	int owner;			/* the pid that made it */
	struct rsp rsp;
	bool no_ack;
	bool stepping;
	bool phys;			/* monitor phys on: addresses are guest physical */
	bool kicks;			/* input from the client kicks the vCPU out of KVM_RUN */
	bool step_owed;			/* a step ended on a device register write: its stop is due */
	struct gdb_slot slot[GDB_HW_SLOTS];
	struct gdb_swbp swbp[GDB_SW_BPS];
	unsigned bp_slots;		/* debug registers breakpoints may use: DR0 up to this (4; replay keeps DR3) */
	bool replay;			/* the guest's past is fixed: memory and registers are read-only */
	/*
	 * Monitor commands of replay (when, goto, checkpoint, ...); NULL outside
	 * replay. Returns 0 with the answer's text in out, GDB_MONITOR_LATER when
	 * the replay runs on and answers where it arrives, -ENOENT for a command
	 * it does not know. monitor_help lists them, one line.
	 */
	int (*monitor)(void *ctx, const char *cmd, char *out, size_t n);
	void *monitor_ctx;
	const char *monitor_help;
	/*
	 * Reverse execution (replay): dir 'c' or 's'. 1 when the replay went on
	 * elsewhere (another process answers gdb): this stub stops serving, as
	 * after a kill; 0 when it could not.
	 */
	int (*reverse)(void *ctx, char dir);
	void *reverse_ctx;
	char reply[2 * RSP_PACKET_MAX + 8];	/* the last framed reply, for a '-' */
	size_t reply_len;
};

/* Listen on "[HOST:]PORT" (host default 127.0.0.1) or "unix:PATH". */
int gdbstub_open(struct gdbstub *g, const char *where, char *err, size_t errlen);
void gdbstub_close(struct gdbstub *g);
/*
 * Block until a client connects and sends its first packet; a connection that
 * stays silent for GDB_HELLO_S seconds is closed and the next one awaited.
 * The listener stays open: after a client leaves, another may connect.
 * -EINTR if SIGINT or SIGTERM came meanwhile.
 */
int gdbstub_accept(struct gdbstub *g, char *err, size_t errlen);
#define GDB_HELLO_S 10
#define GDB_HELLO_TEXT "10"
/* The guest stopped (signal signo, watch address if a watchpoint): serve packets until it may run on. */
int gdbstub_stop(struct gdbstub *g, struct vm *vm, int signo);
/* Between exits (in vm_run): a Ctrl-C from the client stops the guest here; its input kicks KVM_RUN. */
int gdbstub_poll(struct gdbstub *g, struct vm *vm);
/* A KVM_EXIT_DEBUG the stub caused: report it (or, stepping to watch memory, go on quietly). */
int gdbstub_debug_exit(struct gdbstub *g, struct vm *vm);
/* The stub for vmm run's loop: vm->debugger = &gdbstub_debugger, vm->debugger_ctx = the stub. */
extern const struct vm_debugger gdbstub_debugger;
/* Would this debug exit stop gdb? If so, the stop reply for it in stop (watched values are updated). */
bool gdbstub_check(struct gdbstub *g, struct vm *vm, char *stop, size_t n);
/* Send the stop reply stop and serve packets until the guest may run on. */
int gdbstub_report(struct gdbstub *g, struct vm *vm, const char *stop);
/*
 * An access to a trapped page (vm_trap_exit did it): does it hit a
 * watchpoint? 1 with the stop reply in stop (the instruction is finished
 * then), 0 if not, -errno. stepping: the guest is single-stepped. *debug:
 * finishing it raised a debug exit (a single-step's), now in vm->run for
 * the caller.
 */
int gdbstub_watch_hit(struct gdbstub *g, struct vm *vm, bool stepping, char *stop, size_t n, bool *debug);
/*
 * KVM completes an MMIO write (a device register) without the single-step
 * trap it owes, so a step over one would end an instruction late. After
 * the exit handlers did the exit: note whether it was such a write while
 * the client steps. Before the next entry: report that step's stop, with
 * nothing run (RIP is already past the write): 1 if reported, else 0; -errno.
 */
void gdbstub_io_done(struct gdbstub *g, struct vm *vm);
int gdbstub_step_owed(struct gdbstub *g, struct vm *vm);
/* vmm run's handling of a trapped access: report a hit and serve the client. */
int gdbstub_trap(struct gdbstub *g, struct vm *vm);
/* Trap the pages of the watchpoints and software breakpoints set, and hand vm the latter (none once the client is gone). */
int gdbstub_sync_traps(struct gdbstub *g, struct vm *vm);
/*
 * KVM failed to emulate an instruction while watched pages were trapped
 * (vm_trap_failed): drop those watchpoints and tell the client. 1 if so
 * (run the guest on), 0 if the exit is something else, -errno.
 */
int gdbstub_traps_failed(struct gdbstub *g, struct vm *vm);
/* Take the watchpoints' current values as the ones to compare with. */
void gdbstub_watch_refresh(struct gdbstub *g, struct vm *vm);
/* The connection and the client's settings as text, for a process that takes over (replay's reverse). */
int gdbstub_save(const struct gdbstub *g, char *out, size_t n);
int gdbstub_restore(struct gdbstub *g, const char *text);
/* The guest is gone: tell the client its exit status (W) or the signal that ended it (X). */
void gdbstub_exited(struct gdbstub *g, int status);
/* Apply the breakpoints and stepping state to the vCPU (not in replay, which merges them itself). */
int gdbstub_arm(struct gdbstub *g, struct vm *vm);
/* The client's breakpoints and stepping as KVM_SET_GUEST_DEBUG wants them (dbg is zeroed first). */
struct kvm_guest_debug;
void gdbstub_debug_regs(const struct gdbstub *g, struct kvm_guest_debug *dbg);
/* Is the client stepping (stepi)? */
bool gdbstub_steps(const struct gdbstub *g);
/*
 * Could gdb stop the guest inside a stretch of code that starts here: a breakpoint, a watchpoint
 * or a step set? 1 or 0, -errno. A software breakpoint whose code is mapped by now is planted
 * first; one whose code is not counts for nothing.
 */
int gdbstub_stops_inside(struct gdbstub *g, struct vm *vm);

#endif
