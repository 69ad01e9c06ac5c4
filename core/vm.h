/* One KVM virtual machine with one vCPU: setup, entry state and the run loop. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "board.h"
#include "chaos.h"
#include "boot.h"
#include "console.h"
#include "guest_mem.h"
#include "ioevent.h"
#include "kvm_caps.h"
#include "paging.h"
#include "plant.h"

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
#define VM_INSN_COMPLETIONS 2		/* instructions vmm completes for KVM: int3, fwait */

/*
 * Where asynchronous work (a tick, input, a completion) was applied: at an
 * exit the guest made, at an interrupt-window exit vmm asked for because the
 * guest ran with interrupts off, or at a landmark (a kick, found again in
 * replay by its state). The first two cost replay nothing.
 */
enum vm_place { VM_PLACE_EXIT, VM_PLACE_WINDOW, VM_PLACE_LANDMARK, VM_PLACES };

#define VM_DEFER_DEFAULT_NS 1000000ull	/* vmm record --defer */

struct vm_stats {
	uint64_t exits[VM_EXIT_REASONS];	/* by KVM exit reason */
	uint64_t pio_by_region[16];
	uint64_t kicks;				/* KVM_RUN interrupted by a signal */
	uint64_t stall_waits;			/* ... with --defer's time taken by the host, not the guest: waited on */
	uint64_t injections;
	uint64_t completed[VM_INSN_COMPLETIONS];	/* by instruction, as in run.c's table */
	uint64_t msr_trapped;
	uint64_t entry_landmarks;		/* landmarks moved from user mode to a kernel entry */
	uint64_t steady_landmarks;		/* user-mode landmarks taken at once: the guest's state recurred */
	uint64_t placed[VM_PLACES];		/* asynchronous events applied, by where (enum vm_place) */
	uint64_t notified;			/* virtio notifications taken from ioeventfds */
};

struct vm;

/*
 * What the recorder (or any observer) is told, in the order it happens. Every
 * guest-visible change the vCPU thread makes outside an exit handler goes
 * through one of these first; a hook's error stops the run.
 */
struct vm_hooks {
	int (*exit)(struct vm *vm);				/* an exit was handled */
	int (*tick)(struct vm *vm, uint64_t now);		/* device timers serviced at now */
	int (*input)(struct vm *vm, const uint8_t *b, size_t n);	/* bytes entered COM1 */
	int (*inject)(struct vm *vm, uint8_t vector);		/* KVM_INTERRUPT of vector */
	int (*landmark)(struct vm *vm);				/* a kick point, before the above */
	/*
	 * Is the guest's whole state (vCPU and the memory written since the last
	 * position) what it was at the last call? first: there was none. Keeps
	 * this one for the next call. 1, 0, or -errno. Optional.
	 */
	int (*same_state)(struct vm *vm, bool first);
	/* The driver's notification of queue q of virtio device dev (ioeventfd), about to be taken. Optional. */
	int (*notify)(struct vm *vm, unsigned dev, unsigned q);
	/* A backend result was just applied to virtio device dev. Optional. */
	int (*complete)(struct vm *vm, unsigned dev, const struct worker_job *job);
	/* About to sleep in hlt, or idle_at passed while the guest ran without events: flush. */
	void (*idle)(struct vm *vm);
};

/*
 * A debugger, as the run loop sees it: core calls down through these and
 * never includes the debugger (gdbstub registers gdbstub_debugger_ops).
 */
struct vm_debugger {
	/* Between entries: serve the client, and report a step owed from the last exit. */
	int (*poll)(void *ctx, struct vm *vm);
	bool (*steps)(const void *ctx);				/* the next entry is a single-step */
	/* A trapped page's access was done: 1 if it ended in a debug exit for the caller (vm->run). */
	int (*trap)(void *ctx, struct vm *vm);
	int (*traps_failed)(void *ctx, struct vm *vm);		/* >0: handled here, enter again */
	int (*debug_exit)(void *ctx, struct vm *vm);		/* a debug exit none of core's own */
	void (*exit_done)(void *ctx, struct vm *vm);		/* an exit of the guest's was handled */
	int (*arm)(void *ctx, struct vm *vm);			/* its breakpoints and stepping back in KVM */
};

#define VM_PAGE_SHIFT 12
#define VM_PAGE_SIZE (1ull << VM_PAGE_SHIFT)
#define VM_KICK_SIGNAL SIGUSR1	/* gets the vCPU thread out of KVM_RUN */
#define VM_SWBPS_MAX 32		/* software breakpoints (int3) */
#define VM_TRAPS_MAX (4 + VM_SWBPS_MAX)	/* watched pages, and the pages of software breakpoints */
#define VM_SLOTS_MAX (2 * VM_TRAPS_MAX + 1)
#define VM_REFUSED_MAX (2 * VM_TRAPS_MAX)

struct vm_trap {
	uint64_t gpa;			/* the page's guest physical address */
	bool reads;			/* every access exits, not just writes */
};

/*
 * A software breakpoint: an int3 (vm_swbp_opcode) is in guest RAM at gpa only
 * while the vCPU is in vm_enter's KVM_RUN. Where an int3 would reach the
 * guest (vmm probe), a HLT stands in: vmm's 8259A is in userspace, so KVM
 * hands every HLT to vmm. Kernel code only, there: at CPL 3 a HLT is #GP.
 */
struct vm_swbp {
	uint64_t gpa;
	uint8_t orig;			/* the byte the int3 stood in for */
	bool planted;			/* in the last entry */
};

#define VM_CPU_MSRS 256

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
	uint64_t rearm_ns;		/* vm_kvm_run restarts the watchdog's period first (0: no) */
	uint64_t watchdog_ns;		/* the watchdog's period (0: off) */
	bool event_queued;		/* an interrupt or exception enters at the next KVM_RUN */
	bool halted;			/* the last exit was hlt with interrupts on */
	bool inject_at_sti_hlt;		/* as vmm did before journal version 5 (vm_inject_decision) */
	bool at_position;		/* after an exit or at a landmark: async work may apply */
	bool input_waiting;		/* serial input queued that COM1 had no room for */
	uint64_t user_defer_until;	/* user mode since a kick: landmark no sooner than this */
	unsigned state_looks;		/* ... and how often hooks->same_state was asked since */
	uint64_t look_cpu;		/* the vCPU thread's CPU time as the last look ended */
	uint64_t rekick_at;		/* when to kick again without a landmark, or 0 */
	uint64_t idle_at;		/* hooks->idle is owed by then (the recorder's open frame), or NEVER */
	uint64_t defer_ns;		/* how long due work may wait for an exit (--defer) */
	uint64_t due_since;		/* since when work has waited for a position, or 0 */
	uint64_t ran_due;		/* the due time ran_wall and ran_cpu were taken for */
	uint64_t ran_wall, ran_cpu;	/* vm_now and vCPU-thread CPU time then: what the host took since is not --defer's */
	bool window_wait;		/* an interrupt-window exit was asked for to carry it */
	enum vm_place place;		/* what the current position is */
	uint64_t applied;		/* asynchronous events applied so far */
	bool entry_bps;			/* breakpoints on the kernel's entries wait for the landmark */
	struct plants entry_plants;	/* ... as HLTs, where debug registers do not fire */
	uint64_t exit_count;		/* handled exits: the exit ordinal */
	bool sync_regs;			/* KVM stores the registers in kvm_run at every return (KVM_CAP_SYNC_REGS) */
	bool regs_fresh;		/* ... and nothing changed them since: vm_get_regs needs no ioctl */
	struct kvm_guest_debug debug;	/* what KVM_SET_GUEST_DEBUG last set, if debug_set */
	bool debug_set;
	bool rip_moved;			/* the handler of the last exit moved RIP ... */
	uint64_t exit_rip;		/* ... away from here, where the exit happened */
	const struct kvm_caps *caps;	/* what this KVM can do (vmm probe), or NULL: not probed */
	/*
	 * vm_cpu_read's questions to /dev/kvm, asked once: the answers do not
	 * change, and a landmark capture asked them every time (milliseconds where
	 * the host's own kernel is emulated).
	 */
	bool cpu_asked;				/* the answers below are in */
	bool has_xsave, has_xcrs;		/* KVM_CAP_XSAVE, KVM_CAP_XCRS */
	unsigned n_msr_index;			/* KVM_GET_MSR_INDEX_LIST */
	uint32_t msr_index[VM_CPU_MSRS];
	const struct vm_hooks *hooks;
	const struct vm_debugger *debugger;	/* vmm run --gdb's stub, or NULL */
	void *debugger_ctx;
	void *hook_ctx;
	sigset_t run_mask;		/* signal mask while in KVM_RUN and waits */
	enum vm_stop stop;
	uint32_t exit_code;		/* debug-exit code */
	int signal;
	bool verbose;
	bool dirty_log;			/* guest RAM's slots log dirty pages */
	/*
	 * Trapped pages (gdb's watchpoints): RAM that KVM's slots leave out or
	 * map read-only, so that guest accesses to it exit as MMIO and are done
	 * by vm_trap_exit.
	 */
	struct vm_trap trap[VM_TRAPS_MAX];	/* sorted by address */
	unsigned n_traps;
	unsigned n_slots;		/* KVM memory slots 0..n_slots-1 hold RAM around them */
	uint64_t refused[VM_REFUSED_MAX];	/* pages KVM could not trap (address + 1), last ones */
	unsigned n_refused;
	uint64_t *slot_log;		/* one slot's dirty bitmap, fetched before it is merged */
	/*
	 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: a fetch write-protects only the
	 * pages it chooses (vm_dirty_fetch says which), not every page it reports.
	 */
	bool dirty_manual;
	uint64_t *dirty_prev;		/* ... what the last fetch reported, guest page numbers */
	uint64_t *dirty_clear;		/* ... the pages this fetch protects again */
	unsigned dirty_fetches;
	struct vm_swbp swbp[VM_SWBPS_MAX];
	unsigned n_swbps;
	struct vm_stats stats;
	struct chaos chaos;		/* record --chaos; off otherwise */
	bool test_forbidden_syscall;	/* VMM_TEST_FORBIDDEN_SYSCALL: port 0x80 writes call execve */
	struct worker_job *held, **held_tail;	/* completions chaos holds back */
	struct ioevents ioev;		/* virtio notifications by KVM_IOEVENTFD (none: --no-ioeventfd) */
	int pin_cpu;			/* the host CPU vm_run pins the vCPU thread to, or -1 */
};

/* Everything KVM holds of the vCPU, to move it into another VM (replay/snapshot.c). */
struct vm_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs dregs;
	struct kvm_vcpu_events events;
	struct kvm_xsave xsave;
	struct kvm_fpu fpu;		/* without KVM_CAP_XSAVE */
	struct kvm_xcrs xcrs;
	bool has_xsave, has_xcrs;
	unsigned n_msrs;
	struct kvm_msr_entry msrs[VM_CPU_MSRS];
};

struct vm_config {
	uint64_t mem_size;
	int64_t rtc_epoch;
	bool verbose;
	bool replay;			/* devices take their backends' results from the journal */
	uint64_t defer_ns;		/* vm->defer_ns */
	bool chaos;			/* record --chaos: perturb with ... */
	uint64_t chaos_seed;		/* ... this seed */
	struct console *console;
	struct virtio_spec virtio[BOARD_VIRTIO_MAX];	/* virtio devices in slot order */
	unsigned n_virtio;
	bool ioeventfd;			/* virtio notifications through KVM_IOEVENTFD (vm->ioev) */
	bool inject_at_sti_hlt;		/* vm->inject_at_sti_hlt: replay of a journal before version 5 */
};

/* Returns 0 or -errno; err holds one line for the user. */
int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen);
int vm_set_entry(struct vm *vm, const struct boot_entry *entry, char *err, size_t errlen);
/* Turn on dirty-page logging of guest RAM (record and replay fingerprints). */
int vm_enable_dirty_log(struct vm *vm, char *err, size_t errlen);
/* KVM's dirty log of all of RAM into bitmap (one bit per page, overwritten). 0 or -errno. */
int vm_dirty_fetch(struct vm *vm, uint64_t *bitmap);
/*
 * Trap guest accesses to the pages holding t[i].gpa (at most VM_TRAPS_MAX;
 * n = 0 ends trapping): writes, or every access if t[i].reads. Refused pages
 * are left out. The slots' dirty logs move into mem.dma_dirty first, so
 * nothing written is lost. 0 or -errno.
 */
int vm_set_traps(struct vm *vm, const struct vm_trap *t, unsigned n);
bool vm_trapped(const struct vm *vm, uint64_t gpa);
/* A page whose trapping made KVM fail (vm_trap_failed): it is not trapped again. */
bool vm_trap_refused(const struct vm *vm, uint64_t gpa);
/*
 * The exit in vm->run is KVM failing to emulate an instruction while pages
 * are trapped: untrap them for good and say 1 (the instruction did not run;
 * KVM_RUN runs it natively), else 0; -errno.
 */
int vm_trap_failed(struct vm *vm);
/* The exit in vm->run is an access to a trapped page: do it on RAM and say true (KVM_RUN finishes the instruction). */
bool vm_trap_exit(struct vm *vm);
/*
 * Software breakpoints at these guest physical addresses (at most
 * VM_SWBPS_MAX, each in RAM), planted by vm_enter. 0 or -errno.
 */
int vm_set_swbps(struct vm *vm, const uint64_t *gpa, unsigned n);
/*
 * KVM_RUN, with int3 planted at the software breakpoints if swbps: the
 * guest's bytes are back before it returns, so nothing else (gdb's reads,
 * fingerprints, snapshots, devices' DMA) ever sees an int3. As KVM_RUN returns.
 */
int vm_enter(struct vm *vm, bool swbps);
/* KVM_RUN itself, every one vmm makes: as the ioctl returns. */
int vm_kvm_run(struct vm *vm);
/*
 * The vCPU's registers: from kvm_run where KVM put them there at its last
 * return and nothing set them since, else KVM_GET_REGS. 0, or -1 with errno,
 * as the ioctl. Every change of them goes through vm_set_regs or
 * vm_set_regs_lazy (or vm_set_guest_debug, which may change how KVM shows
 * RFLAGS.TF).
 * vm_set_guest_debug makes no call for what is set already, unless it
 * single-steps: KVM steps by a TF it sets at the RIP of that call.
 */
int vm_get_regs(struct vm *vm, struct kvm_regs *regs);
int vm_set_regs(struct vm *vm, const struct kvm_regs *regs);
/*
 * The same, with KVM_CAP_SYNC_REGS, without an ioctl: kvm_run carries them
 * into the next KVM_RUN (a hunt moves RIP at thousands of stops). Whatever
 * KVM must see them first for flushes them (vm_regs_flush): a single-step
 * set up (KVM steps from the RIP it has then), and events set (loading
 * registers cancels a pending exception).
 */
int vm_set_regs_lazy(struct vm *vm, const struct kvm_regs *regs);
int vm_regs_flush(struct vm *vm);
/* KVM_SET_VCPU_EVENTS, after registers vm_set_regs_lazy left for the next entry. */
int vm_set_events(struct vm *vm, struct kvm_vcpu_events *ev);
int vm_set_guest_debug(struct vm *vm, const struct kvm_guest_debug *dbg);
#define VM_ENTRY_EXIT 0		/* vm_enter_once: vm->run holds an exit for the caller */
#define VM_ENTRY_AGAIN 1	/* vm_enter_once: what stopped the guest was served: enter again */
/*
 * One entry, the same for run, record and replay: KVM_RUN as vm_enter makes
 * it, then what is no exit of the guest's is served on the way out (a step's
 * TF fixed up, gdb's int3s, a #BP of the guest's own, trapped pages through
 * dbg, which may be NULL). step: KVM single-steps this entry. VM_ENTRY_EXIT
 * (the guest's exit, or a debug exit), VM_ENTRY_AGAIN, or -errno (-EINTR: a
 * kick).
 */
int vm_enter_once(struct vm *vm, bool step, bool swbps, const struct vm_debugger *dbg, void *ctx);
#define VM_SWBP_HIT 1		/* the guest stopped on a planted int3 */
#define VM_SWBP_GUEST 2		/* a #BP of the guest's own, given back to it */
/*
 * Was the last exit a software breakpoint? VM_SWBP_HIT: it is now a debug
 * exit (exception 3, DR6.B0, pc at the int3, which did not run);
 * VM_SWBP_GUEST: run on; 0: another exit; -errno.
 */
int vm_swbp_exit(struct vm *vm);
/* The byte a software breakpoint plants on this KVM: int3 (0xcc), or HLT (0xf4) where int3 reaches the guest. */
uint8_t vm_swbp_opcode(const struct vm *vm);
/*
 * Finish the instruction of the last exit without running another: 0, or 1
 * if finishing it raised an exit of its own (a single-step's debug exit,
 * also when KVM owes one: stepping says the guest is single-stepped), left
 * in vm->run; -errno on failure.
 */
int vm_complete_io(struct vm *vm, bool stepping);
/* The instruction at RIP is one vmm completes for KVM when its emulator fails on it (run.c). */
bool vm_insn_completed(struct vm *vm);
/*
 * A rep stos or rep movs in 64-bit code (RCX, RDI and RSI count): its length
 * in bytes, with *size (1, 2, 4 or 8) and *movs (RSI moves too); 0 if the
 * bytes are something else (32-bit addressing, other string instructions).
 */
unsigned insn_rep_string(const uint8_t *code, unsigned n, unsigned *size, bool *movs);
/*
 * A jump relative to RIP without prefixes (Jcc, JMP rel8 and rel32) in
 * code[0..n): its length, with *disp what it adds to the RIP past it under
 * rflags (0 for a condition that does not hold); 0 for anything else.
 */
unsigned insn_jump(const uint8_t *code, unsigned n, uint64_t rflags, int64_t *disp);
/* Where the exit in vm->run happened, as VT-x and SVM say it: a port write's RIP at the out, on every KVM. */
uint64_t vm_exit_rip(struct vm *vm, const struct kvm_regs *regs);
/* Runs until the guest or the user stops it; vm->stop says why. */
int vm_run(struct vm *vm, char *err, size_t errlen);
void vm_destroy(struct vm *vm);

/* Save the vCPU (finishing the last exit's I/O first), or load it into this VM. 0 or -errno. */
int vm_cpu_save(struct vm *vm, struct vm_cpu *cpu);
/* The same without finishing a pending exit's I/O: where none is pending (a kick, a window exit). */
int vm_cpu_read(struct vm *vm, struct vm_cpu *cpu);
int vm_cpu_load(struct vm *vm, const struct vm_cpu *cpu);
/* In a fork()ed child: drop the parent's KVM objects, which only the parent can use. */
void vm_kvm_forget(struct vm *vm);
/* A new KVM VM on the same guest memory, its vCPU loaded with cpu (devices are untouched). */
int vm_kvm_rebuild(struct vm *vm, const struct vm_cpu *cpu, char *err, size_t errlen);

/* Pieces of the run loop that replay drives itself. */
int vm_signals_init(struct vm *vm, char *err, size_t errlen);
/*
 * Dispatch the exit in vm->run through the exit table (hlt only marks
 * vm->halted), counted as taken at guest time now: live in run and record,
 * the journal's in replay.
 */
int vm_handle_exit(struct vm *vm, uint64_t now, char *err, size_t errlen);
/* An exit taken at now, counted; replay's hunts reach window exits without handling them. */
void vm_exit_taken(struct vm *vm, unsigned reason, uint64_t now);
/* The vector the loop would inject now, or -1 (and sets request_interrupt_window). */
int vm_inject_decision(struct vm *vm);
int vm_inject(struct vm *vm, uint8_t vector, char *err, size_t errlen);
/* KVM holds an exception, NMI or interrupt for the next entry: this is no landmark. */
bool vm_event_pending(struct vm *vm);
/* Map board stop requests (debug exit, reset) onto vm->stop. */
void vm_check_board_stop(struct vm *vm);
/* Take pending wake-up signals after KVM_RUN returned EINTR; records SIGINT/SIGTERM. */
void vm_drain_signals(void);
/* Discard a kick (VM_KICK_SIGNAL) sent but not yet taken; SIGINT and SIGTERM stay pending. */
void vm_drop_kick(void);
/* Kick the vCPU every period_ns (0: stop), for loops that must not block in KVM_RUN forever. */
void vm_arm_watchdog(struct vm *vm, uint64_t period_ns);
/*
 * Restart the watchdog's period (period_ns) just before the next KVM_RUN, so
 * that the guest runs a whole period before the next kick however long the
 * vCPU thread took since the last one (a loaded host, strace).
 */
void vm_rearm_watchdog(struct vm *vm, uint64_t period_ns);
/* A SIGINT/SIGTERM arrived: its number, or 0. */
int vm_stop_signal(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t vm_mono_ns(void);
/* KVM_SET_GUEST_DEBUG with up to 4 execute breakpoints (n = 0: debugging off when control is 0). */
int vm_set_breakpoints(struct vm *vm, uint32_t control, const uint64_t *addr, unsigned n);
int vm_paging_mode(struct vm *vm, struct paging_mode *pm);
/* Copy guest virtual memory through the guest's own page tables. */
int vm_read_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, void *dst, size_t len);
/* The same, into guest memory (not in KVM's dirty log: callers restore what the guest wrote). */
int vm_write_virt(struct vm *vm, const struct paging_mode *pm, uint64_t gva, const void *src, size_t len);
/*
 * After a KVM_GUESTDBG_SINGLESTEP exit: take the step's TF back out of what the
 * instruction saved of RFLAGS (PUSHF, SYSCALL, an event's frame). before: the
 * registers before the step. 1: put right, 0: nothing to do, or -errno.
 */
int vm_step_fixup(struct vm *vm, const struct kvm_regs *before);
void vm_print_stats(const struct vm *vm, double seconds);
const char *vm_exit_reason_name(unsigned reason);

#endif
