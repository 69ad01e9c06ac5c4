/*
 * Finding a landmark again: the point between two exits where the recorder
 * kicked the guest. By a debug-register breakpoint at its RIP and a state
 * comparison at each hit; where those do not fire, by single-stepping from
 * the exit before it.
 */
#include <errno.h>
#include <stdio.h>
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

/* Why a landmark hunt gave up, from what the probe knows of this KVM. */
static void hunt_gave_up(struct replayer *p, char *act, size_t len, bool step_only, uint64_t hits,
			 const struct near_miss *near)
{
	const struct kvm_caps *caps = p->vm->caps;
	char name[48], tail[200];

	describe_near(tail, sizeof(tail), near);
	if (step_only)
		snprintf(act, len, "not found in %llu single-steps (%d s)%s; debug-register breakpoints do not fire "
			 "on %s (vmm probe), so landmarks are found by stepping from the last exit",
			 (unsigned long long)hits, LANDMARK_STEP_PATIENCE_S, tail,
			 kvm_caps_name(caps, name, sizeof(name)));
	else if (caps && !strcmp(caps->module, "kvm_pvm"))
		snprintf(act, len, "no breakpoint hit in %d s: the guest never reaches that rip "
			 "(kvm_pvm: breakpoints do not fire in user mode)", LANDMARK_PATIENCE_S);
	else
		snprintf(act, len, "no breakpoint hit in %d s: the guest never reaches that rip", LANDMARK_PATIENCE_S);
}

/*
 * Run to the landmark: a breakpoint at its RIP; at each hit compare the state;
 * on a mismatch step one instruction with the breakpoint off (this KVM re-fires
 * a breakpoint at the same RIP whatever RF says), then re-arm. A rep string
 * instruction interrupted mid-way is found by stepping its iterations.
 */
int landmark_hunt(struct replayer *p, const struct rr_landmark *wantp, bool window)
{
	struct rr_landmark want = *wantp;
	struct vm *vm = p->vm;
	struct near_miss near = { 0 };
	bool stepping = false, rewindow = false;
	char exp[160], act[400], tail[200];
	uint64_t hits_before = p->res->landmark_hits;
	time_t start = time(NULL), paused_before = p->paused;
	struct kvm_regs regs;
	/*
	 * Where debug-register breakpoints do not fire (vmm probe: nested kvm_amd
	 * under TCG), the landmark is found by single-stepping from the last exit:
	 * exact, and bounded by the next exit, but one exit per instruction.
	 */
	bool step_only = vm->caps && vm->caps->hw_bp == KVM_NO;
	bool exact = vm->caps && vm->caps->exact_window == KVM_YES && vm->caps->hw_bp == KVM_YES;
	int r;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	/* A kick that came before the guest ran a single instruction leaves a landmark right here. */
	if (!window && regs.rip == want.rip && landmark_matches(p, &want, &regs)) {
		p->res->landmarks++;
		return rr_epoch_reset(&p->rr);
	}
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
	vm->run->request_interrupt_window = window;
	/* A periodic kick lets a hunt that never hits give up instead of spinning forever. */
	vm_arm_watchdog(vm, 1000000ull);
	stepping = step_only;
	for (;;) {
		if (replay_kvm_run(p, KVM_GUESTDBG_ENABLE | (stepping ? KVM_GUESTDBG_SINGLESTEP : KVM_GUESTDBG_USE_HW_BP),
				   want.rip) < 0) {
			if (errno == EINTR) {
				vm_drain_signals();
				vm->event_queued = false;
				if (vm_stop_signal())
					return -EINTR;
				/*
				 * A kick that stops the guest in exactly the recorded state is as good
				 * as a breakpoint hit: identical state, identical future. It finds
				 * waits whose state repeats where breakpoints cannot reach (user
				 * mode on kvm_pvm).
				 */
				if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) == 0 && regs.rip == want.rip &&
				    !vm_event_pending(vm) && landmark_matches_near(p, &want, &regs, &near)) {
					p->res->landmark_kicks++;
					break;
				}
				if ((p->res->landmark_hits == hits_before || step_only) &&
				    time(NULL) - start - (p->paused - paused_before) >=
				    (step_only ? LANDMARK_STEP_PATIENCE_S : LANDMARK_PATIENCE_S)) {
					vm_arm_watchdog(vm, 0);
					set_debug(vm, 0, 0);
					snprintf(exp, sizeof(exp), "landmark at rip 0x%llx", (unsigned long long)want.rip);
					hunt_gave_up(p, act, sizeof(act), step_only, p->res->landmark_hits - hits_before,
						     &near);
					return diverge(p, exp, act);
				}
				continue;
			}
			snprintf(p->err, p->errlen, "KVM_RUN: %s", strerror(errno));
			return -errno;
		}
		vm->event_queued = false;
		if (vm->stop == VM_STOP_QUIT)
			return -ECANCELED;	/* gdb killed the replay while it was hunting */
		if (window && vm->run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN) {
			if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) == 0 && regs.rip == want.rip &&
			    landmark_matches_near(p, &want, &regs, &near))
				break;
			/*
			 * Early (this KVM noticed a window the recording's did not): step
			 * one instruction without the request and ask again, so that
			 * every later window is seen, down to the recorded one, which may
			 * lie where breakpoints cannot reach (user mode on kvm_pvm).
			 */
			vm->run->request_interrupt_window = 0;
			if (exact)
				continue;	/* an earlier sti's: the breakpoint takes it from here */
			stepping = rewindow = true;
			continue;
		}
		if (vm->run->exit_reason != KVM_EXIT_DEBUG) {
			vm_arm_watchdog(vm, 0);
			set_debug(vm, 0, 0);
			snprintf(exp, sizeof(exp), "landmark at rip 0x%llx before the next exit",
				 (unsigned long long)want.rip);
			ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs);
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
		if (step_only && (p->res->landmark_hits & 1023) == 0 &&
		    time(NULL) - start - (p->paused - paused_before) >= LANDMARK_STEP_PATIENCE_S) {
			vm_arm_watchdog(vm, 0);
			set_debug(vm, 0, 0);
			snprintf(exp, sizeof(exp), "landmark at rip 0x%llx", (unsigned long long)want.rip);
			hunt_gave_up(p, act, sizeof(act), step_only, p->res->landmark_hits - hits_before, &near);
			return diverge(p, exp, act);
		}
		if (rewindow) {
			vm->run->request_interrupt_window = 1;
			rewindow = false;
		}
		if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
			return -errno;
		if (regs.rip == want.rip && landmark_matches_near(p, &want, &regs, &near))
			break;
		/* Not this instance: step past it (and through a rep string while RIP stays put). */
		stepping = step_only || !stepping || regs.rip == want.rip;
	}
	vm_arm_watchdog(vm, 0);
	if ((r = set_debug(vm, 0, 0)) < 0)
		return r;
	p->res->landmarks++;
	return rr_epoch_reset(&p->rr);
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
