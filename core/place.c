/*
 * Where due work lands (DESIGN.md section 2): at the guest's next exit, at
 * the interrupt-window exit after its sti, or, past --defer, where a kick
 * stops it -- a landmark, which replay must find again. The host timer is
 * armed here for the first of those that can come.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "loop.h"

/*
 * How long due work may wait for the guest's next exit: --defer, but never
 * half a tick period or more, so that no tick is carried into the next one.
 */
static uint64_t defer_ns(const struct vm *vm)
{
	uint64_t d = vm->chaos.on ? vm->chaos.defer_ns : vm->defer_ns, period = pit_period_ns(&vm->board.pit, 0);

	return period && d > period / 2 ? period / 2 : d;
}

/* When the next timer tick is due: the devices' deadline, made late by chaos. */
uint64_t vm_tick_due(const struct vm *vm)
{
	return vm->board.deadline == NEVER ? NEVER : vm->board.deadline + vm->chaos.tick_late_ns;
}

/* When work is next due: a tick, or work chaos holds back. */
uint64_t vm_work_due_at(const struct vm *vm)
{
	uint64_t d = vm_tick_due(vm), held = chaos_next_release(&vm->chaos);

	return held < d ? held : d;
}

/* CPU time the calling thread (the vCPU's) has had, guest mode included. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * From here on, time the vCPU thread spends off its CPU counts as the host's
 * and not toward --defer: taken when the due time moves on (once a tick) and
 * after an idle wait, whose sleep is the guest's own.
 */
void vm_ran_mark(struct vm *vm)
{
	vm->ran_wall = vm_now(vm);
	vm->ran_cpu = thread_cpu_ns();
}

/*
 * How long, since the mark, the guest could have run and did not: the host
 * ran something else on the vCPU's CPU (another hunt job, a busy machine), or
 * vmm waited on its own I/O or wrote the journal out in a kick (vm_kicked).
 * A kick that comes after such a stall finds the guest where the host
 * happened to stop it, not where it ran too long without an exit, so
 * --defer waits that much longer, up to STALL_MAX_NS:
 * the guest has had the time it was owed, and no landmark falls where plain
 * recording promises none (README "Where events land"). Over-counts the
 * stalls between the mark and the due time, which only makes the wait longer.
 */
#define STALL_MAX_NS 20000000ull
static uint64_t stalled_ns(const struct vm *vm, uint64_t now)
{
	uint64_t wall = now > vm->ran_wall ? now - vm->ran_wall : 0, cpu = thread_cpu_ns();
	uint64_t ran = cpu > vm->ran_cpu ? cpu - vm->ran_cpu : 0;

	if (wall <= ran)
		return 0;
	return wall - ran < STALL_MAX_NS ? wall - ran : STALL_MAX_NS;
}

void vm_arm_timer(struct vm *vm)
{
	uint64_t d = vm_work_due_at(vm), abs;
	struct itimerspec its;

	if (d != vm->ran_due) {
		vm->ran_due = d;
		vm_ran_mark(vm);
	}

	if (vm->rekick_at)
		d = vm->rekick_at;	/* the due work waits for this kick */
	else if (d != NEVER)
		d += defer_ns(vm);	/* an exit before then carries the tick: no kick */
	/* A guest that runs without exits or ticks still gets its journal written out. */
	if (vm->idle_at < d)
		d = vm->idle_at;

	if (d == vm->armed)
		return;
	vm->armed = d;
	memset(&its, 0, sizeof(its));
	if (d != NEVER) {
		abs = vm->start_ns + d;
		its.it_value.tv_sec = (time_t)(abs / 1000000000u);
		its.it_value.tv_nsec = (long)(abs % 1000000000u);
		if (!abs)
			its.it_value.tv_nsec = 1;
	}
	timer_settime(vm->timer, TIMER_ABSTIME, &its, NULL);
}

/* Async work that would change guest state if applied now. */
static bool work_due(struct vm *vm, uint64_t now)
{
	return now >= vm_tick_due(vm) || chaos_released(&vm->chaos, now) ||
	       (vm->input_waiting && !(vm->chaos.hold_until[CHAOS_INPUT] > now)) ||
	       vm_kick_pending();
}

/*
 * KVM_RUN returned EINTR: a kick. If work is due, this point becomes a
 * landmark and the work applies here, interrupts enabled or not: a timer
 * edge sets IRR while IF=0 exactly as on hardware, and the window exit
 * then delivers it right after the guest's sti.
 */
#define REKICK_NS 1000000ull
#define USER_DEFER_NS 20000000ull
/*
 * Where debug registers do not fire (vmm probe: the nested kvm_amd under
 * TCG), a landmark left in user mode is found only by single-stepping from
 * the exit before it, and user code runs emulated, some twenty times slower:
 * a fault-heavy loop that enters its kernel every millisecond natively takes
 * tens of milliseconds there. The wait for a kernel entry is ten times as
 * long, so that such a loop still gets its landmark in kernel mode; ticks
 * for user code come later there, which only this KVM's recordings pay.
 */
#define USER_DEFER_NO_BP_NS 200000000ull
#define EVENT_REKICK_NS 100000ull

bool vm_event_pending(struct vm *vm)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return true;
	return ev.exception.injected || ev.exception.pending || ev.interrupt.injected ||
	       ev.nmi.injected || ev.nmi.pending;
}

/*
 * The user-mode landmark problem: breakpoints do not reach user mode on
 * every host (kvm_pvm runs it natively, and delivers kicks only as the
 * vCPU returns to user mode, so a kicked user state is one replay cannot stop
 * at again unless it recurs). Instead the recorder stops where user code
 * enters the kernel -- the #PF, #GP and #UD gates and the system-call entry
 * -- with breakpoints, which fire in kernel mode on every host; that point
 * becomes the landmark. Returns how many entries were armed.
 */
static unsigned arm_entry_breakpoints(struct vm *vm, const struct kvm_sregs *s)
{
	static const uint8_t vectors[] = { 14, 13, 6 };
	uint64_t addr[4];
	unsigned n = plant_entries_find(vm, s, vectors, sizeof(vectors), addr, 4);

	if (!n)
		return 0;
	/* Where debug registers do not fire, HLTs stop the entries (core/plant.h): they are kernel code. */
	if (vm->caps && vm->caps->hw_bp == KVM_NO) {
		vm->entry_plants.n = 0;
		for (unsigned i = 0; i < n; i++)
			(void)plant_add(&vm->entry_plants, vm, addr[i]);	/* one outside RAM is left out */
		if (!vm->entry_plants.n)
			return 0;
	} else if (vm_set_breakpoints(vm, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, addr, n) < 0) {
		return 0;
	}
	vm->entry_bps = true;
	return n;
}

void vm_disarm_entry_breakpoints(struct vm *vm)
{
	vm->entry_plants.n = 0;
	/* gdb's breakpoints and stepping come back, which the entries' took the place of. */
	if (vm->entry_bps && !(vm->debugger && vm->debugger->arm(vm->debugger_ctx, vm) == 0))
		vm_set_breakpoints(vm, 0, NULL, 0);
	vm->entry_bps = false;
}

static int take_landmark(struct vm *vm, uint64_t now)
{
	int r;

	/*
	 * A stop that lands between KVM queueing an event (a #PF it reflects,
	 * a #GP for a refused MSR, our interrupt) and the guest taking it is in
	 * a state replay never sees: its breakpoint fires before the event is
	 * queued, and delivering an interrupt on top of the event is where KVMs
	 * disagree. Not a position: look again a little later.
	 */
	if (vm_event_pending(vm)) {
		vm_disarm_entry_breakpoints(vm);
		vm->rekick_at = now + EVENT_REKICK_NS;
		vm->armed = 0;
		return 0;
	}
	vm_disarm_entry_breakpoints(vm);
	if (vm->hooks && (r = vm->hooks->landmark(vm)) < 0)
		return r;
	vm->at_position = true;
	vm->place = VM_PLACE_LANDMARK;
	return 0;
}

static bool in_user_mode(struct vm *vm, struct kvm_sregs *sregs)
{
	return ioctl(vm->vcpu_fd, KVM_GET_SREGS, sregs) == 0 && (sregs->cs.selector & 3) == 3;
}

/*
 * A guest that waits in user mode on memory its kernel changes (a spin on a
 * flag, a loop counting ticks) makes no kernel entry to wait for: look at its
 * state at the kick and once more a little later, and if nothing of it
 * changed (registers, the rest of the vCPU, the memory written since the last
 * position), its loop's turns recur and its landmark can be taken now: replay
 * finds the state again at its first recurrence, or sets it. Two looks, each
 * a read of the vCPU and a dirty-log pass: a loop that changes something every
 * turn pays that once and waits for its kernel entry as before.
 */
#define STATE_LOOKS 2

/*
 * The guest is in user mode with work waiting: hold the work for the next
 * kernel entry (arm_entry_breakpoints) if the deadline allows. 1 while it
 * waits; 0 when the landmark must be taken here after all: its state recurs,
 * or the deadline passed; -errno.
 */
static int defer_to_kernel_entry(struct vm *vm, const struct kvm_sregs *sregs, uint64_t now)
{
	int r;

	if (!vm->user_defer_until) {
		vm->user_defer_until = now + (vm->caps && vm->caps->hw_bp == KVM_NO ? USER_DEFER_NO_BP_NS :
					      USER_DEFER_NS);
		vm->state_looks = 0;
	}
	if (now >= vm->user_defer_until)
		return 0;
	if (vm->hooks->same_state && vm->state_looks < STATE_LOOKS) {
		/*
		 * A later look counts only if the guest had the CPU since the last
		 * one: a host that stalled the vCPU thread (or a look that took
		 * longer than REKICK_NS) shows an unchanged state that did not
		 * recur, and its landmark would be one replay has to step to.
		 */
		bool first = !vm->state_looks || thread_cpu_ns() - vm->look_cpu < REKICK_NS / 2;

		/* The entries' planted HLTs are no part of the guest's state. */
		vm_disarm_entry_breakpoints(vm);
		r = vm->hooks->same_state(vm, first);
		vm->state_looks = first ? 1 : vm->state_looks + 1;
		vm->look_cpu = thread_cpu_ns();
		if (r < 0)
			return r;
		if (r) {
			vm->stats.steady_landmarks++;
			return 0;
		}
		now = vm_now(vm);	/* the next look a full REKICK_NS of running later */
	}
	if (!vm->entry_bps && !arm_entry_breakpoints(vm, sregs))
		vm->rekick_at = now + REKICK_NS;	/* no entries known: look again */
	else if (vm->hooks->same_state && vm->state_looks < STATE_LOOKS)
		vm->rekick_at = now + REKICK_NS;	/* the second look */
	else
		vm->rekick_at = vm->user_defer_until;
	vm->armed = 0;
	return 1;
}

/*
 * Due work waits for a position the guest makes itself (DESIGN.md section 2):
 * up to --defer for its next exit; then, if it runs with interrupts off on a
 * KVM whose window exits are exact (vmm probe), for the window exit right
 * after its sti, where an interrupt is taken anyway and replay finds the
 * spot by a breakpoint or the window itself, not inside the loop. Only past
 * that does a kick become a landmark: a guest polling memory with interrupts
 * off would otherwise never see a completion. True while it waits.
 */
#define WINDOW_WAIT_DEFERS 4
static bool defer_for_exit(struct vm *vm, uint64_t now)
{
	uint64_t d = defer_ns(vm), stall;

	if (!d)
		return false;
	if (!vm->due_since)
		vm->due_since = now >= vm_tick_due(vm) ? vm_tick_due(vm) : now;
	if (now < vm->due_since + d) {
		vm->rekick_at = vm->due_since + d;
		vm->armed = 0;
		return true;
	}
	/* A stall shorter than a quarter of --defer is noise (the kick's own way in): no second round for it. */
	if ((stall = stalled_ns(vm, now)) > d / 4 && now < vm->due_since + d + stall) {
		vm->stats.stall_waits++;
		vm->rekick_at = vm->due_since + d + stall;
		vm->armed = 0;
		return true;
	}
	if (vm->window_wait || vm->run->if_flag || !vm->caps || vm->caps->exact_window != KVM_YES ||
	    vm_event_pending(vm))
		return false;
	vm->window_wait = true;
	vm->run->request_interrupt_window = 1;
	vm->rekick_at = now + WINDOW_WAIT_DEFERS * d;
	vm->armed = 0;
	return true;
}

int vm_kicked(struct vm *vm)
{
	struct kvm_sregs sregs;
	uint64_t now;
	int r;

	vm_drain_signals();
	vm->stats.kicks++;
	/*
	 * KVM refreshes ready_for_interrupt_injection on every return, EINTR too,
	 * and it is 0 while a KVM_INTERRUPT vector is still pending: that flag,
	 * not ours, says whether the last injection is out of the way.
	 */
	vm->event_queued = false;
	now = vm_now(vm);
	if (now >= vm->idle_at && vm->hooks && vm->hooks->idle) {
		uint64_t cpu = thread_cpu_ns();

		/* The recorder writing its frame out is vmm's time, not the guest's: a stall for --defer. */
		vm->hooks->idle(vm);
		vm->ran_cpu += thread_cpu_ns() - cpu;
		now = vm_now(vm);
	}
	if (!work_due(vm, now))
		return 0;
	if (defer_for_exit(vm, now))
		return 0;
	/*
	 * In user mode the landmark waits, up to USER_DEFER_NS (or _NO_BP_NS), for the guest to
	 * enter its kernel (see arm_entry_breakpoints). A wait loop that never
	 * does takes its landmark in user mode after that, in its steady state,
	 * which replay finds again because it recurs. Without a recorder
	 * positions do not matter and the work applies at once.
	 */
	if (vm->hooks && !vm_event_pending(vm) && in_user_mode(vm, &sregs) &&
	    (r = defer_to_kernel_entry(vm, &sregs, now)) != 0)
		return r < 0 ? r : 0;
	return take_landmark(vm, now);
}

/* A kernel-entry breakpoint fired: the landmark the user-mode kick waited for. */
int vm_entry_hit(struct vm *vm)
{
	uint64_t now = vm_now(vm);

	vm->stats.entry_landmarks++;
	if (!work_due(vm, now)) {
		vm_disarm_entry_breakpoints(vm);
		return 0;
	}
	return take_landmark(vm, now);
}

