/*
 * Finding a landmark again: the point between two exits where the recorder
 * kicked the guest. By a debug-register breakpoint at its RIP and a state
 * comparison at each hit; where those do not fire, by single-stepping from
 * the exit before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "replayer.h"

static const char *const gpr_names[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/*
 * Same instance of that instruction? Registers first; memory (the
 * fingerprint, which costs a dirty-log read) only when they all agree.
 */
bool landmark_matches_near(struct replayer *p, const struct rr_landmark *want,
				  const struct kvm_regs *regs, struct near_miss *near)
{
	struct rr_landmark got;
	char what[sizeof(near->what)];
	unsigned ndiff = 0;
	size_t len = 0;

	rr_regs_to_landmark(regs, &got);
	if (got.rip != want->rip)
		return false;
	what[0] = 0;
	if (got.rflags != want->rflags) {
		ndiff++;
		len += (size_t)snprintf(what + len, sizeof(what) - len, " rflags");
	}
	for (int i = 0; i < 16 && len < sizeof(what); i++)
		if (got.gpr[i] != want->gpr[i]) {
			ndiff++;
			len += (size_t)snprintf(what + len, sizeof(what) - len, " %s", gpr_names[i]);
		}
	if (!ndiff) {
		/* Registers agree: only memory can tell turns of the same loop apart. */
		if (rr_fingerprint(&p->rr, &got.fingerprint) < 0)
			return false;
		if (got.fingerprint == want->fingerprint)
			return true;
		ndiff = 1;
		snprintf(what, sizeof(what), " memory written since the last position");
	}
	if (near) {
		near->hits++;
		if (near->hits == 1 || ndiff < near->ndiff) {
			near->ndiff = ndiff;
			snprintf(near->what, sizeof(near->what), "%s", what);
		}
	}
	return false;
}

bool landmark_matches(struct replayer *p, const struct rr_landmark *want, const struct kvm_regs *regs)
{
	return landmark_matches_near(p, want, regs, NULL);
}

/* The tail of a "landmark not reached" report: how close the hunt came. */
static void describe_near(char *out, size_t n, const struct near_miss *near)
{
	if (!near->hits)
		snprintf(out, n, "; the guest never stopped at its rip");
	else
		snprintf(out, n, "; %llu stops at its rip, the closest differed in:%s",
			 (unsigned long long)near->hits, near->what);
}

/* The longest a hunt's kick period grows to (HUNT_KICK_NS, replayer.h, doubling). */
#define HUNT_KICK_MAX_NS 256000000ull

/* Seconds a hunt may run (gdb's pauses not counted): --patience, or LANDMARK_STEP_PATIENCE_S. */
static unsigned hunt_budget(const struct replayer *p, bool patient, bool hit)
{
	unsigned budget = p->ctl && p->ctl->patience ? p->ctl->patience : LANDMARK_STEP_PATIENCE_S;

	/* Where breakpoints fire, a hunt that never hits is lost much sooner. */
	if (!patient && !hit && budget > LANDMARK_PATIENCE_S)
		budget = LANDMARK_PATIENCE_S;
	return budget;
}

/* The hunt under way (since p->hunt_since) has run its budget, gdb's pauses not counted. */
static bool hunt_over(const struct replayer *p, time_t paused_before, bool patient, bool hit)
{
	int64_t ran = (int64_t)((vm_mono_ns() - p->hunt_since) / 1000000000u) - (int64_t)(p->paused - paused_before);

	return ran >= (int64_t)hunt_budget(p, patient, hit);
}

/*
 * Why a landmark hunt gave up, from what the probe knows of this KVM, and
 * where the guest was then: the place it ran to instead.
 */
static int hunt_give_up(struct replayer *p, uint64_t rip, bool step_only, bool planted, bool patient, uint64_t hits,
			const struct near_miss *near)
{
	const struct kvm_caps *caps = p->vm->caps;
	unsigned budget = hunt_budget(p, patient, hits > 0);
	char name[48], tail[200], where[120], exp[80], act[640];
	size_t len = sizeof(act);
	size_t n;

	vm_arm_watchdog(p->vm, 0);
	set_debug(p->vm, 0, 0);
	describe_near(tail, sizeof(tail), near);
	replay_where(p->vm, where, sizeof(where));
	if (planted)
		snprintf(act, len, "not found in %u s by a HLT planted at its rip (%llu stops)%s; "
			 "debug-register breakpoints do not fire on %s (vmm probe), so each execution of that "
			 "instruction since the last exit is a stop", budget, (unsigned long long)hits,
			 tail, kvm_caps_name(caps, name, sizeof(name)));
	else if (step_only)
		snprintf(act, len, "not found in %u s (%llu stops: single-steps, kernel entries)%s; debug-register "
			 "breakpoints do not fire on %s (vmm probe), so landmarks are found by stepping from the last "
			 "exit", budget, (unsigned long long)hits, tail, kvm_caps_name(caps, name, sizeof(name)));
	else if (hits)
		snprintf(act, len, "not found in %u s (%llu breakpoint hits)%s", budget, (unsigned long long)hits, tail);
	else if (caps && !strcmp(caps->module, "kvm_pvm"))
		snprintf(act, len, "no breakpoint hit in %u s: the guest never reaches that rip "
			 "(kvm_pvm: breakpoints do not fire in user mode)", budget);
	else
		snprintf(act, len, "no breakpoint hit in %u s: the guest never reaches that rip", budget);
	n = strlen(act);
	snprintf(act + n, len - n, "%s", where);
	snprintf(exp, sizeof(exp), "landmark at rip 0x%llx", (unsigned long long)rip);
	return diverge(p, exp, act);
}

/*
 * The pages the journal gives for the landmark, written over guest memory:
 * if memory is then what it was at the landmark (the fingerprint says so),
 * 1, and the stretch to it need not run; if not, 0, with the pages as they
 * were. A loop that writes memory every turn is reached this way in one go.
 */
static int set_pages(struct replayer *p, const struct rr_landmark *want)
{
	struct vm *vm = p->vm;
	uint8_t *saved;
	uint64_t fp;
	int r;

	for (unsigned i = 0; i < want->npages; i++)
		if (!gmem_ptr(&vm->mem, want->page[i] * RR_PAGE, RR_PAGE))
			return 0;	/* a journal for a bigger guest: the fingerprint decides without them */
	if (!(saved = malloc((size_t)want->npages * RR_PAGE)))
		return -ENOMEM;
	for (unsigned i = 0; i < want->npages; i++) {
		uint8_t *host = gmem_ptr(&vm->mem, want->page[i] * RR_PAGE, RR_PAGE);

		memcpy(saved + (size_t)i * RR_PAGE, host, RR_PAGE);
		memcpy(host, want->page_data[i], RR_PAGE);
		gmem_mark_dirty(&vm->mem, want->page[i] * RR_PAGE, RR_PAGE);
	}
	if ((r = rr_fingerprint(&p->rr, &fp)) == 0 && fp == want->fingerprint) {
		free(saved);
		return 1;
	}
	for (unsigned i = 0; i < want->npages; i++)
		memcpy(gmem_ptr(&vm->mem, want->page[i] * RR_PAGE, RR_PAGE), saved + (size_t)i * RR_PAGE, RR_PAGE);
	free(saved);
	return r < 0 ? r : 0;
}

/*
 * A stretch that wrote no memory and left the vCPU as it was but for its
 * general registers, RIP and RFLAGS (a delay loop, a wait on a register or
 * on memory it only reads): the recorded state is the present one with the
 * landmark's registers, and the same state has the same future however it
 * was reached. Set them instead of running there: no stop, whatever the
 * loop's turns. A stretch that wrote a few pages is reached the same way
 * when the journal gives them (set_pages). Not while gdb could stop the
 * guest in the stretch: its breakpoints, watchpoints and steps must still
 * stop it. 1 when done, 0 when not, -errno.
 */
static int landmark_by_state(struct replayer *p, const struct rr_landmark *want)
{
	struct vm *vm = p->vm;
	struct vm_cpu *cpu;
	uint64_t fp;
	int r = 0, pages = 0;

	/*
	 * Journals that do not say RF cannot set it: between a rep string's
	 * iterations it is 1. With gdb, only while nothing of its could stop the
	 * guest in the stretch and no reverse-execution goal looks into it.
	 */
	if (p->gdb && (r = gdbstub_stops_inside(p->gdb, vm)) != 0)
		return r < 0 ? r : 0;
	if (!want->has_rest || want->rf < 0 || vm_event_pending(vm) ||
	    (p->gdb && p->goal.goal != REPLAY_GOAL_NONE) ||
	    !(cpu = malloc(sizeof(*cpu))))
		return 0;
	if (vm_cpu_read(vm, cpu) == 0 && rr_cpu_rest(cpu) == want->rest && rr_fingerprint(&p->rr, &fp) == 0 &&
	    (fp == want->fingerprint || (want->npages && (pages = set_pages(p, want)) == 1))) {
		struct kvm_regs *g = &cpu->regs;
		__u64 *gpr[16] = { &g->rax, &g->rbx, &g->rcx, &g->rdx, &g->rsi, &g->rdi, &g->rsp, &g->rbp,
				      &g->r8, &g->r9, &g->r10, &g->r11, &g->r12, &g->r13, &g->r14, &g->r15 };

		for (int i = 0; i < 16; i++)
			*gpr[i] = want->gpr[i];
		g->rip = want->rip;
		g->rflags = want->rflags | (want->rf ? RFLAGS_RF : 0);
		r = vm_set_regs(vm, g) < 0 ? -errno : 1;
		/* KVM's word on whether an interrupt can go in now (kvm_run) is refreshed by an entry only. */
		if (r == 1)
			hunt_complete_io(vm);
		if (r == 1 && pages == 1)
			p->res->landmark_pages++;
	}
	free(cpu);
	return pages < 0 ? pages : r;
}

/*
 * At a stop at the landmark's RIP that is not it: once the stretch has made
 * its last memory write (a delay loop entered through a call, which wrote
 * the stack), the state is the recorded one but for the registers, and
 * setting them is as good as running the turns left. Asked at the 1st, 2nd,
 * 4th, 8th... miss, so that a loop that writes memory every turn pays next
 * to nothing for it, and besides at least every STATE_ASK_NS: a loop run
 * several times between two exits (a delay in a fault handler, the fault
 * taken again and again) is reached within that of its last entry, however
 * many misses came before. Only the cost depends on when it is asked: a
 * state it accepts is the recorded one.
 */
#define STATE_ASK_NS 20000000ull
struct state_asks {
	uint64_t misses;
	uint64_t last_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int landmark_by_state_at(struct replayer *p, const struct rr_landmark *want, struct state_asks *a)
{
	uint64_t n = ++a->misses, now = mono_ns();

	if ((n & (n - 1)) && now - a->last_ns < STATE_ASK_NS)
		return 0;
	a->last_ns = now;
	return landmark_by_state(p, want);
}

/*
 * The landmark found: its interrupt shadow as recorded, which a planted
 * HLT's exit loses (KVM skips the HLT and clears the shadow), and which
 * decides whether the interrupt the recorder raised there went in at once.
 * An entry that runs nothing refreshes KVM's word on that (kvm_run).
 */
static int reached(struct replayer *p, const struct rr_landmark *want)
{
	struct vm *vm = p->vm;
	struct kvm_vcpu_events ev;

	if (want->shadow >= 0) {
		if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return -errno;
		if ((ev.interrupt.shadow & (KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS)) != want->shadow) {
			ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
			ev.interrupt.shadow = (uint8_t)want->shadow;
			if (vm_set_events(vm, &ev) < 0)
				return -errno;
			hunt_complete_io(vm);
			p->res->landmark_shadows++;
		}
	}
	p->res->landmarks++;
	return rr_epoch_reset(&p->rr);
}

/*
 * An early window exit in user mode, where only single-stepping finds a
 * window exit's state there: user code runs with IF=1, so no later window
 * opens in this stretch (the recorder asked for its window with IF=0, at a
 * kick in the kernel); the next can come only after the guest enters its
 * kernel again. Run there on HLTs planted at the kernel's entries, not a
 * step per instruction: a stretch of a million user instructions is one
 * run. Not where window exits come late (the probe), nor for user code that
 * may clear IF itself (IOPL 3). True when planted.
 */
static bool next_kernel_entry(struct vm *vm, struct plants *entries)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (vm->caps->exact_window != KVM_YES || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0 ||
	    (s.cs.selector & 3) != 3 || vm_get_regs(vm, &r) < 0 || (r.rflags >> 12 & 3) == 3)
		return false;
	return plant_entries_all(entries, vm) > 0;
}

/*
 * A user-mode landmark, where only single-stepping finds it: the guest took
 * it with IF=1, so it lies in no stretch the guest runs with IF=0 (a fault
 * or interrupt handler, with IOPL below 3 so user code cannot clear IF
 * itself). Where window exits are exact, KVM's own window exit stops right
 * where IF is 1 again, before the first instruction that could be it: ask for
 * one and run there instead of stepping the stretch. True when asked.
 */
static bool through_if_off(struct vm *vm, const struct rr_landmark *want, const struct kvm_regs *regs)
{
	if (vm->caps->exact_window != KVM_YES || want->cpl != 3 || !(want->rflags & RFLAGS_IF) ||
	    (regs->rflags & RFLAGS_IF) || (regs->rflags >> 12 & 3) == 3 || vm_event_pending(vm))
		return false;
	vm->run->request_interrupt_window = 1;
	return true;
}

/*
 * Run to the landmark: a breakpoint at its RIP; at each hit compare the state;
 * on a mismatch step one instruction with the breakpoint off (this KVM re-fires
 * a breakpoint at the same RIP whatever RF says), then re-arm. A rep string
 * instruction interrupted mid-way is found by stepping its iterations.
 */
static int hunt(struct replayer *p, const struct rr_landmark *wantp, bool window)
{
	struct rr_landmark want = *wantp;
	struct vm *vm = p->vm;
	struct near_miss near = { 0 };
	bool stepping = false, rewindow = false;
	char exp[160], act[400], tail[200];
	uint64_t hits_before = p->res->landmark_hits;
	time_t paused_before = p->paused;
	struct kvm_regs regs;
	/*
	 * Where debug-register breakpoints do not fire (vmm probe: nested kvm_amd
	 * under TCG), the landmark is found by single-stepping from the last exit:
	 * exact, and bounded by the next exit, but one exit per instruction.
	 */
	bool step_only = vm->caps && vm->caps->hw_bp == KVM_NO;
	bool exact = vm->caps && vm->caps->exact_window == KVM_YES && vm->caps->hw_bp == KVM_YES;
	/*
	 * There, a landmark in kernel code is found by a planted HLT instead
	 * (core/plant.h), with a step off each stop that is not it: stepping every
	 * instruction is left for user code and window exits. A guest that read
	 * its own code there would see the HLT, and the replay diverge, reported.
	 */
	struct plants plant = { .n = 0 };
	bool planted = step_only && want.cpl == 0 && plant_add(&plant, vm, want.rip) == 0;
	bool stepper = step_only && !planted;
	/* Stops in a hunt take its landmark's instruction for a rep string until one finds it is not. */
	bool rep = true;
	struct state_asks misses = { 0, mono_ns() };
	/* Both stop at every instruction or turn since the last exit: bounded by time, hits or not. */
	bool patient = stepper || planted;
	/* The kernel's entries, planted to run through a user-mode stretch (next_kernel_entry). */
	struct plants entries = { .n = 0 };
	bool skipping = false;
	/* Running through an interrupts-off stretch to its end (through_if_off). */
	bool through = false;
	/* The watchdog's period, and the guest as its last kick found it. */
	uint64_t kick_ns = HUNT_KICK_NS, kick_hits = 0;
	struct kvm_regs kick_regs;
	bool got, kicked = false;
	int r;

	if (step_only || want.has_rest)
		hunt_complete_io(vm);
	if ((r = landmark_by_state(p, &want)) != 0) {
		if (r < 0)
			return r;
		p->res->landmark_states++;
		return reached(p, &want);
	}
	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	/* A kick that came before the guest ran a single instruction leaves a landmark right here. */
	if (!window && regs.rip == want.rip && landmark_matches(p, &want, &regs))
		return reached(p, &want);
	/*
	 * Where window exits are exact and breakpoints fire, a window asked for
	 * with interrupts on would come at once, and every instruction up to the
	 * recorded one would then be a step: the breakpoint alone finds it.
	 */
	if (window && exact && (regs.rflags & RFLAGS_IF))
		window = false;
	/*
	 * A window exit is found by its state: by a breakpoint, or by KVM's own
	 * window exit when that stops in exactly the recorded state (kvm_pvm takes
	 * its window exits at the switch to user mode, where breakpoints cannot
	 * reach, but a few instructions late in kernel loops).
	 */
	vm->run->request_interrupt_window = window && !planted;	/* a plant finds a window exit's state too */
	/* A periodic kick lets a hunt that never hits give up instead of spinning forever. */
	vm_arm_watchdog(vm, HUNT_KICK_NS);
	/*
	 * Where window exits are exact, one the recorder asked for at the last
	 * position comes exactly where it came then: run to it. Only an earlier
	 * one (the recorder asked at a kick, later) makes the hunt step.
	 */
	stepping = stepper && !(window && vm->caps->exact_window == KVM_YES);
	if (stepping && !window && through_if_off(vm, &want, &regs))
		stepping = false, through = true;
	for (;;) {
		uint32_t control = KVM_GUESTDBG_ENABLE;

		if (step_only && (planted || !window) && stepping && (r = hunt_step_by_hand(vm)) != 0) {
			if (r < 0)
				return r;
			p->res->landmark_hits++;
			if (vm_get_regs(vm, &regs) < 0)
				return -errno;
			if (regs.rip == want.rip && landmark_matches_near(p, &want, &regs, &near))
				break;
			/* A user-mode loop that writes memory: the journal's pages, not a million steps. */
			if (regs.rip == want.rip && (r = landmark_by_state_at(p, &want, &misses)) != 0) {
				if (r < 0)
					return r;
				p->res->landmark_states++;
				break;
			}
			if (planted)
				stepping = regs.rip == want.rip;
			continue;
		}
		if (skipping) {
			int hit;

			plants_on(&entries);
			r = replay_kvm_run(p, control, want.rip);
			plants_off(&entries);
			if (r == 0 && (hit = plant_hit(&entries, vm)) != 0) {
				if (hit < 0)
					return hit;
				/* In the kernel: the next window opens at its first instruction with IF=1. */
				p->res->landmark_hits++;
				skipping = stepping = false;
				vm->run->request_interrupt_window = 1;
				continue;
			}
			goto ran;
		}
		if (stepping)
			control |= KVM_GUESTDBG_SINGLESTEP;
		else if (!planted)
			control |= KVM_GUESTDBG_USE_HW_BP;
		if (planted && !stepping)
			plants_on(&plant);
		r = replay_kvm_run(p, control, want.rip);
		if (planted && !stepping) {
			int hit;

			plants_off(&plant);
			if (r == 0 && (hit = plant_hit(&plant, vm)) != 0) {
				if (hit < 0 || vm_get_regs(vm, &regs) < 0)
					return hit < 0 ? hit : -errno;
				p->res->landmark_hits++;
				if (landmark_matches_near(p, &want, &regs, &near)) {
					p->res->landmark_plants++;
					break;
				}
				if ((r = landmark_by_state_at(p, &want, &misses)) != 0) {
					if (r < 0)
						return r;
					p->res->landmark_states++;
					break;
				}
				if (rep && !window && (rep = (r = hunt_rep_forward(p, &want, &regs, true)) != 0)) {
					if (r < 0 || vm_get_regs(vm, &regs) < 0)
						return r < 0 ? r : -errno;
					if (r == REP_INSIDE && landmark_matches_near(p, &want, &regs, &near)) {
						p->res->landmark_reps++;
						break;
					}
					if (r == REP_SKIPPED)
						continue;	/* past it: plant again */
				}
				stepping = true;	/* not this instance: one step past it, then plant again */
				continue;
			}
		}
ran:
		if (r < 0) {
			if (errno == EINTR) {
				vm_drain_signals();
				vm->event_queued = false;
				if (vm_stop_signal())
					return -EINTR;
				replay_show_progress(p);
				/*
				 * A kick that stops the guest in exactly the recorded state is as good
				 * as a breakpoint hit: identical state, identical future. It finds
				 * waits whose state repeats where breakpoints cannot reach (user
				 * mode on kvm_pvm).
				 */
				/*
				 * A window exit found this way must also be one: KVM refreshes
				 * ready_for_interrupt_injection on EINTR too, and it is 0 inside an
				 * STI shadow, where the recorded injection could not be made.
				 */
				got = vm_get_regs(vm, &regs) == 0;
				if (got && regs.rip == want.rip &&
				    !vm_event_pending(vm) && (!window || vm->run->ready_for_interrupt_injection) &&
				    landmark_matches_near(p, &want, &regs, &near)) {
					p->res->landmark_kicks++;
					break;
				}
				if (hunt_over(p, paused_before, patient, p->res->landmark_hits != hits_before)) {
					return hunt_give_up(p, want.rip, stepper, planted, patient,
							    p->res->landmark_hits - hits_before, &near);
				}
				/*
				 * The next kick a whole period after the guest enters again, and
				 * a period twice as long after a kick that found the guest as
				 * the last one did (all its registers): on a host slow enough
				 * that a turn takes a period (heavy load, strace), kicks would
				 * otherwise end every entry before the guest ran an
				 * instruction, and the hunt would never advance.
				 */
				if (got && kicked && !memcmp(&regs, &kick_regs, sizeof(regs)) &&
				    p->res->landmark_hits == kick_hits && kick_ns < HUNT_KICK_MAX_NS)
					kick_ns *= 2;
				kicked = got;
				kick_regs = regs;
				kick_hits = p->res->landmark_hits;
				vm_rearm_watchdog(vm, kick_ns);
				continue;
			}
			snprintf(p->err, p->errlen, "KVM_RUN: %s", strerror(errno));
			return -errno;
		}
		vm->event_queued = false;
		if (vm->stop == VM_STOP_QUIT)
			return -ECANCELED;	/* gdb killed the replay while it was hunting */
		if (window && vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN) {
			if (vm_get_regs(vm, &regs) < 0)
				return -errno;
			if (regs.rip == want.rip && landmark_matches_near(p, &want, &regs, &near))
				break;
			if (regs.rip == want.rip && (r = landmark_by_state_at(p, &want, &misses)) != 0) {
				if (r < 0)
					return r;
				p->res->landmark_states++;
				break;
			}
			/*
			 * Early (this KVM noticed a window the recording's did not): step
			 * one instruction without the request and ask again, so that
			 * every later window is seen, down to the recorded one, which may
			 * lie where breakpoints cannot reach (user mode on kvm_pvm).
			 */
			vm->run->request_interrupt_window = 0;
			if (exact)
				continue;	/* an earlier sti's: the breakpoint takes it from here */
			if (step_only && !planted && next_kernel_entry(vm, &entries)) {
				p->res->landmark_skips++;
				skipping = true;
				stepping = false;
				continue;
			}
			stepping = rewindow = true;
			continue;
		}
		if (through && vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN) {
			/* IF is 1 again, no instruction run since: step from here. */
			vm->run->request_interrupt_window = 0;
			through = false;
			stepping = true;
			p->res->landmark_hits++;
			if (vm_get_regs(vm, &regs) < 0)
				return -errno;
			if (regs.rip == want.rip && landmark_matches_near(p, &want, &regs, &near))
				break;
			continue;
		}
		if (vm->run->exit_reason != KVM_EXIT_DEBUG) {
			vm_arm_watchdog(vm, 0);
			set_debug(vm, 0, 0);
			snprintf(exp, sizeof(exp), "landmark at rip 0x%llx before the next exit",
				 (unsigned long long)want.rip);
			vm_get_regs(vm, &regs);
			describe_near(tail, sizeof(tail), &near);
			snprintf(act, sizeof(act), "%s exit at rip 0x%llx, landmark not reached%s",
				 exit_name(vm->run->exit_reason), (unsigned long long)regs.rip, tail);
			return diverge(p, exp, act);
		}
		p->res->landmark_hits++;
		/*
		 * Patience is checked here too, not only when the watchdog's kick gets
		 * through: a host whose timer interrupts stop reaching it while the
		 * guest is stepped (seen under nested kvm_amd) would never kick.
		 */
		if ((p->res->landmark_hits & 1023) == 0 && hunt_over(p, paused_before, patient, true))
			return hunt_give_up(p, want.rip, stepper, planted, patient, p->res->landmark_hits - hits_before,
					    &near);
		if (rewindow) {
			vm->run->request_interrupt_window = 1;
			rewindow = false;
		}
		if (vm_get_regs(vm, &regs) < 0)
			return -errno;
		if (regs.rip == want.rip && landmark_matches_near(p, &want, &regs, &near))
			break;
		if (regs.rip == want.rip && (r = landmark_by_state_at(p, &want, &misses)) != 0) {
			if (r < 0)
				return r;
			p->res->landmark_states++;
			break;
		}
		if (rep && regs.rip == want.rip && !window &&
		    (rep = (r = hunt_rep_forward(p, &want, &regs, planted)) != 0)) {
			if (r < 0 || vm_get_regs(vm, &regs) < 0)
				return r < 0 ? r : -errno;
			if (r == REP_INSIDE && landmark_matches_near(p, &want, &regs, &near)) {
				p->res->landmark_reps++;
				break;
			}
			if (r == REP_SKIPPED) {
				stepping = false;	/* past it: the breakpoint again */
				continue;
			}
		}
		/* Not this instance: step past it (and through a rep string while RIP stays put). */
		if (planted)
			stepping = regs.rip == want.rip;
		else
			stepping = step_only || !stepping || regs.rip == want.rip;
		/*
		 * With IF=0 no window can open before KVM's own exact window exit:
		 * run to it. A step here would walk a whole interrupts-off stretch
		 * (a slow fault handler, a delay loop) one exit per instruction.
		 */
		if (stepping && window && !planted && !skipping && vm->caps->exact_window == KVM_YES &&
		    vm->run->request_interrupt_window && !(regs.rflags & RFLAGS_IF))
			stepping = false;
		if (stepper && stepping && !window && through_if_off(vm, &want, &regs))
			stepping = false, through = true;
	}
	vm_arm_watchdog(vm, 0);
	if ((r = set_debug(vm, 0, 0)) < 0)
		return r;
	return reached(p, &want);
}

int landmark_hunt(struct replayer *p, const struct rr_landmark *want, bool window)
{
	int r;

	p->hunt_since = vm_mono_ns();
	p->hunt_rip = want->rip;
	r = hunt(p, want, window);
	p->hunt_since = 0;
	return r;
}

int run_to_landmark(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	struct rr_landmark want;

	if (rr_landmark_decode(&c, &want) < 0)
		return diverge(p, "a well-formed landmark record", "a truncated one");
	return landmark_hunt(p, &want, false);
}

/* The recorded window exit, found by its state wherever this KVM would take it. */
