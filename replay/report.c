/* What a replay tells its user: the status line, what it waits for and where the guest is, divergences. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "exit_rec.h"
#include "replayer.h"

/* "the exit io out port ..." or, for the kinds whose own words end in "exit", "the hlt exit at rip ...". */
static void name_exit(const struct rr_exit *e, char *out, size_t n)
{
	bool data = e->reason == KVM_EXIT_IO || e->reason == KVM_EXIT_MMIO || e->reason == KVM_EXIT_X86_RDMSR ||
		    e->reason == KVM_EXIT_X86_WRMSR;
	int k = snprintf(out, n, data ? "the exit " : "the ");

	if (k > 0 && (size_t)k < n)
		rr_exit_describe(e, out + k, n - (size_t)k);
}

void replay_where(struct vm *vm, char *out, size_t n)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	out[0] = 0;
	if (vm_get_regs(vm, &r) == 0 && ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) == 0)
		snprintf(out, n, "; the guest was at rip 0x%llx in %s mode, IF=%d", (unsigned long long)r.rip,
			 (s.cs.selector & 3) == 3 ? "user" : "kernel", (int)(r.rflags >> 9 & 1));
}

/*
 * What a replay stopped by a signal was waiting for, and where the guest was
 * then: what a replay that seems stuck is stuck on (a landmark whose state
 * never comes, an exit the guest never makes).
 */
void replay_describe_wait(struct replayer *p, char *out, size_t n)
{
	char what[200] = "";
	size_t len;

	if (p->have && p->rec.type == JREC_LANDMARK) {
		struct jcur c = { p->rec.data, p->rec.len, 0, false };
		struct rr_landmark l;

		if (rr_landmark_decode(&c, &l) == 0)
			snprintf(what, sizeof(what), "the landmark at rip 0x%llx in %s mode", (unsigned long long)l.rip,
				 l.cpl == 3 ? "user" : "kernel");
	} else if (p->have && p->rec.type == JREC_EXIT) {
		struct rr_exit e;

		if (rr_exit_decode(p->rec.data, p->rec.len, &e) == 0)
			name_exit(&e, what, sizeof(what));
	}
	if (what[0])
		snprintf(out, n, ", waiting for %s", what);
	else
		out[0] = 0;
	len = strlen(out);
	replay_where(p->vm, out + len, n - len);
}

/*
 * On a terminal, four times a second: how far through the journal (by its
 * bytes, which the reader knows without a pass of its own), the counts, and
 * how long the rest should take at the pace so far.
 */
void replay_show_progress(struct replayer *p)
{
	uint64_t now = vm_mono_ns();
	double done, spent;

	if (!p->progress)
		return;
	if (!p->progress_start)
		p->progress_start = now;
	if (now - p->progress_last < 250000000ull)
		return;
	p->progress_last = now;
	done = p->jr->size ? (double)p->jr->frame_off / (double)p->jr->size : 0;
	spent = (double)(now - p->progress_start) / 1e9;
	fprintf(stderr, "\rreplay: %.0f%% of the journal, %llu events, %llu exits, %llu landmarks, %.0f s",
		100 * done, (unsigned long long)p->res->events, (unsigned long long)p->res->exits,
		(unsigned long long)p->res->landmarks, spent);
	/* A hunt or an exit wait that takes long says so: the counts stand still meanwhile. */
	if (p->hunt_since && now - p->hunt_since >= 2000000000ull) {
		fprintf(stderr, "; looking for the landmark at rip 0x%llx for %.0f s", (unsigned long long)p->hunt_rip,
			(double)(now - p->hunt_since) / 1e9);
	} else if (p->wait_since && now - p->wait_since >= 2000000000ull) {
		char what[160];

		name_exit(p->wait_for, what, sizeof(what));
		fprintf(stderr, "; waiting for %s for %.0f s", what, (double)(now - p->wait_since) / 1e9);
	} else if (done > 0.02 && spent > 1)
		fprintf(stderr, ", about %.0f s to go", spent * (1 - done) / done);
	fprintf(stderr, "\033[K");
}

/* Report the first difference between the run and its journal. */
int diverge(struct replayer *p, const char *expected, const char *actual)
{
	struct kvm_regs regs;

	p->res->diverged = true;
	fprintf(stderr, "vmm: replay diverged at event %llu (exit %llu, journal frame at offset %llu)\n"
			"  expected: %s\n  actual:   %s\n",
		(unsigned long long)p->rec.index, (unsigned long long)p->vm->exit_count,
		(unsigned long long)p->rec.offset, expected, actual);
	if (vm_get_regs(p->vm, &regs) == 0) {
		fprintf(stderr, "  registers:\n");
		rr_print_regs(stderr, &regs);
	}
	snprintf(p->err, p->errlen, "replay diverged");
	return -EILSEQ;
}

/* A recorded exit that the live one does not match: the divergence, in the codec's words. */
int replay_exit_differs(struct replayer *p, const struct rr_exit *want, const struct rr_exit *got)
{
	char exp[200], act[200];

	rr_exit_describe(want, exp, sizeof(exp));
	rr_exit_describe(got, act, sizeof(act));
	return diverge(p, exp, act);
}

/*
 * A kick came while replay waited for an exit: redraw the status line, and
 * report a divergence once the wait has run past the patience and past
 * EXIT_WAIT_FACTOR times what the recording took (gdb's pauses not counted).
 * 0 to wait on.
 */
int replay_exit_wait_over(struct replayer *p, const struct rr_exit *want)
{
	uint64_t now = vm_mono_ns(), limit, ran, paused;
	unsigned patience = p->ctl && p->ctl->patience ? p->ctl->patience : LANDMARK_STEP_PATIENCE_S;
	char exp[300], act[300], where[120];
	size_t n;

	if (!p->wait_since) {
		/* Measured from the first kick: at most a kick period short. */
		p->wait_since = now;
		p->wait_paused = p->paused;
		p->wait_for = want;
		return 0;
	}
	replay_show_progress(p);
	limit = (uint64_t)patience * 1000000000u;
	if (want->dt > limit / EXIT_WAIT_FACTOR)
		limit = want->dt > UINT64_MAX / EXIT_WAIT_FACTOR ? UINT64_MAX : want->dt * EXIT_WAIT_FACTOR;
	paused = (uint64_t)(p->paused - p->wait_paused) * 1000000000u;
	ran = now - p->wait_since > paused ? now - p->wait_since - paused : 0;
	if (ran < limit)
		return 0;
	name_exit(want, exp, sizeof(exp));
	n = strlen(exp);
	snprintf(exp + n, sizeof(exp) - n, ", which the recording reached %.3f ms after the record before it",
		 (double)want->dt / 1e6);
	replay_where(p->vm, where, sizeof(where));
	snprintf(act, sizeof(act), "no exit in %.0f s of running the guest (--patience %u, or %u times the "
		 "recording's time, whichever is longer)%s", (double)ran / 1e9, patience, EXIT_WAIT_FACTOR, where);
	p->wait_since = 0;
	return diverge(p, exp, act);
}
