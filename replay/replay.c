/*
 * The replayer: re-executes a recorded run. Device models run as in the live
 * run with the recorded times; every exit is checked against its record, every
 * tick, input and injection is applied at its position, and landmarks are
 * found with a hardware breakpoint and a state comparison at each hit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "exit_rec.h"
#include "replayer.h"
#include "snapshot.h"
#include "../gdbstub/gdbstub.h"

const char *exit_name(unsigned reason)
{
	return vm_exit_reason_name(reason);
}

static int peek(struct replayer *p)
{
	int r;

	if (p->have || p->eof)
		return 0;
	r = journal_read(p->jr, &p->rec, p->err, p->errlen);
	if (r < 0)
		return r;
	if (r == 0)
		p->eof = true;
	else
		p->have = true;
	return 0;
}

/* How often a kick lets an exit wait look at the clock and redraw the status line. */
#define EXIT_WAIT_KICK_NS 500000000ull

static void consume(struct replayer *p)
{
	p->at_boundary = false;
	p->have = false;
	p->res->events++;
}

int set_debug(struct vm *vm, uint32_t control, uint64_t bp)
{
	return vm_set_breakpoints(vm, control, &bp, control & KVM_GUESTDBG_USE_HW_BP ? 1 : 0);
}

int replay_pos_capture(struct replayer *p, struct replay_pos *pos)
{
	pos->events = p->res->events;
	if (vm_get_regs(p->vm, &pos->regs) < 0)
		return -errno;
	pos->regs.rflags &= ~RR_RFLAGS_IGNORE;	/* how the stop was reached, not where */
	return rr_fingerprint(&p->rr, &pos->fp);
}

/*
 * A page gdb watches was accessed in the entry replay_kvm_run made (the
 * access is done): a stop for the client, or while scanning a candidate.
 * 1 if the caller is to look at vm->run (a step's debug exit, or the client
 * stopped the replay), else 0: enter again.
 */
static int replay_trap(void *ctx, struct vm *vm)
{
	struct replayer *p = ctx;
	char stop[sizeof(p->cand_reply)];
	bool debug = false;
	time_t t0;
	int r;

	if (!p->entry_user && p->entry_step && vm->run->mmio.is_write) {
		if ((r = vm_complete_io(vm, true)) < 0)
			return r;
		debug = r == 1 && vm->run->exit_reason == KVM_EXIT_DEBUG;
	}
	if (!p->entry_user || (r = gdbstub_watch_hit(p->gdb, vm, p->entry_step, stop, sizeof(stop), &debug)) == 0)
		return debug;
	if (r < 0)
		return r;
	p->watched = true;
	p->step_over = false;	/* the instruction is done: a step off a breakpoint too */
	if (p->goal.goal == REPLAY_GOAL_SCAN) {
		if ((r = replay_pos_capture(p, &p->cand)) < 0)
			return r;
		memcpy(p->cand_reply, stop, sizeof(stop));
		p->have_cand = true;
		return debug;
	}
	t0 = time(NULL);
	if (gdbstub_report(p->gdb, vm, stop) < 0)
		gdbstub_close(p->gdb);
	p->paused += time(NULL) - t0;
	return debug || vm->stop != VM_RUNNING;
}

static int replay_traps_failed(void *ctx, struct vm *vm)
{
	struct replayer *p = ctx;

	return gdbstub_traps_failed(p->gdb, vm);
}

/* gdb as vm_enter_once sees it in replay: its watched pages, and KVM failing on them. */
static const struct vm_debugger replay_entry_debugger = {
	.trap = replay_trap,
	.traps_failed = replay_traps_failed,
};

/*
 * KVM_RUN with the replayer's own debugging (control, with bp in DR3) merged
 * with gdb's (DR0-DR1, stepping) and, going back, the point sought (DR2). A
 * debug exit gdb caused is reported to the client and served here (or, while
 * scanning, remembered), then the guest runs on; the caller sees the exits it
 * would see without gdb. Each entry is vm_enter_once, as vmm run's are.
 * Returns as KVM_RUN does.
 */
int replay_kvm_run(struct replayer *p, uint32_t control, uint64_t bp)
{
	struct vm *vm = p->vm;
	int r;

	p->at_boundary = false;

	if (!p->gdb || p->gdb->fd < 0) {
		vm->n_swbps = 0;	/* gdb is gone: nothing to plant, and no #BP for KVM to take */
		if ((control || p->debug_dirty) && set_debug(vm, control, bp) < 0)
			return -1;
		p->debug_dirty = false;
		if (vm->n_traps && (r = vm_set_traps(vm, NULL, 0)) < 0) {
			errno = -r;
			return -1;
		}
		do
			r = vm_enter_once(vm, control & KVM_GUESTDBG_SINGLESTEP, false, NULL, NULL);
		while (r == VM_ENTRY_AGAIN);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return 0;
	}
	for (;;) {
		struct kvm_guest_debug dbg;
		bool mine, theirs, done, watched, user = p->goal.goal == REPLAY_GOAL_NONE ||
							 p->goal.goal == REPLAY_GOAL_SCAN;
		uint64_t dr6;
		time_t t0;

		/* A stretch that starts at the target: it is there before running. */
		if (p->goal.goal != REPLAY_GOAL_NONE && (replay_target_stretch(p) || replay_stepback_window(p)) &&
		    p->boundary_checked != p->res->events + 1) {
			p->boundary_checked = p->res->events + 1;
			if ((r = replay_goal_point(p, &done)) < 0)
				return r;
			if (done && vm->stop != VM_RUNNING)
				return 0;
		}
		/* gdb's step over a device register write: it ended where the guest stands now. */
		if (p->goal.goal == REPLAY_GOAL_NONE && p->gdb->step_owed) {
			t0 = time(NULL);
			r = gdbstub_step_owed(p->gdb, vm);
			p->paused += time(NULL) - t0;
			if (r < 0)
				gdbstub_close(p->gdb);	/* the client is gone: replay on without it */
			if (vm->stop != VM_RUNNING)
				return 0;
			if (r != 0)
				continue;
		} else {
			p->gdb->step_owed = false;
		}
		if (user && !p->step_over)
			gdbstub_debug_regs(p->gdb, &dbg);
		else
			memset(&dbg, 0, sizeof(dbg));
		if (p->step_over || replay_stepback_window(p))
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		if (replay_target_stretch(p) && !p->step_over && vm->caps && vm->caps->hw_bp == KVM_NO) {
			/* No debug register fires on this KVM: step the target's stretch instead. */
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		} else if (replay_target_stretch(p) && !p->step_over) {
			dbg.arch.debugreg[2] = p->goal.target.regs.rip;
			dbg.arch.debugreg[7] |= 1ull << 4;	/* L2: execute, one byte */
			dbg.control |= KVM_GUESTDBG_USE_HW_BP;
		}
		if (control & KVM_GUESTDBG_USE_HW_BP) {
			dbg.arch.debugreg[3] = bp;
			dbg.arch.debugreg[7] |= 1ull << 6;	/* L3: execute, one byte */
		}
		dbg.control |= control;
		if (dbg.control)
			dbg.control |= KVM_GUESTDBG_ENABLE;
		p->debug_dirty = true;	/* gdb's breakpoints stay set until cleared */
		if ((r = gdbstub_sync_traps(p->gdb, vm)) < 0) {
			errno = -r;
			return -1;
		}
		p->entry_user = user;
		p->entry_step = dbg.control & KVM_GUESTDBG_SINGLESTEP;
		p->watched = false;
		/* gdb's int3s go in with its other breakpoints (not while stepping off one). */
		if (vm_set_guest_debug(vm, &dbg) < 0)
			return -1;
		r = vm_enter_once(vm, p->entry_step, user && !p->step_over, &replay_entry_debugger, p);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		if (r == VM_ENTRY_AGAIN)
			continue;
		watched = p->watched;
		if (watched && vm->stop != VM_RUNNING)
			return 0;
		if (vm->run->exit_reason != KVM_EXIT_DEBUG)
			return 0;
		dr6 = vm->run->debug.arch.dr6;
		/*
		 * A step that lands on the caller's breakpoint is a hit for it too: that
		 * breakpoint does not fire on its own after a single-step trap (kvm_pvm).
		 */
		mine = (dr6 & 8) || ((dr6 & 0x4000) && (control & KVM_GUESTDBG_SINGLESTEP)) ||
		       ((control & KVM_GUESTDBG_USE_HW_BP) && vm->run->debug.arch.pc == bp);
		if (p->goal.goal != REPLAY_GOAL_NONE) {
			bool was_step_over = p->step_over;

			p->step_over = false;
			if ((replay_target_stretch(p) && vm->run->debug.arch.pc == p->goal.target.regs.rip) ||
			    replay_stepback_window(p)) {
				if ((r = replay_goal_point(p, &done)) < 0)
					return r;
				if (done) {
					if (vm->stop != VM_RUNNING)
						return 0;
					continue;	/* sought and reported: gdb said go on */
				}
				/* Another instance of the target's RIP: step off it, or its breakpoint fires again. */
				if (dr6 & 4)
					p->step_over = true;
			}
			/* Scanning: a stop gdb would have seen is a candidate, not a report. */
			if (p->goal.goal == REPLAY_GOAL_SCAN && !watched && ((dr6 & 7) || ((dr6 & 0x4000) &&
			    (was_step_over || gdbstub_steps(p->gdb)))) &&
			    gdbstub_check(p->gdb, vm, p->cand_reply, sizeof(p->cand_reply))) {
				if ((r = replay_pos_capture(p, &p->cand)) < 0)
					return r;
				p->have_cand = true;
			}
			/* A breakpoint of gdb's re-fires where it stands: step off it first. */
			if (dr6 & 7)
				p->step_over = true;
			if (mine)
				return 0;
			continue;
		}
		theirs = !watched && ((dr6 & 7) || ((dr6 & 0x4000) && gdbstub_steps(p->gdb)));
		if (theirs) {
			t0 = time(NULL);
			if (gdbstub_debug_exit(p->gdb, vm) < 0) {
				gdbstub_close(p->gdb);	/* the client is gone: replay on without it */
			}
			p->paused += time(NULL) - t0;
			if (vm->stop != VM_RUNNING)
				return 0;
		}
		if (mine || (!theirs && !(dr6 & 0x400f)))
			return 0;
	}
}

static int replay_window_exit(struct replayer *p, const struct rr_landmark *want, uint64_t now)
{
	int r;

	if ((r = landmark_hunt(p, want, true)) < 0)
		return r;
	p->res->landmarks--;	/* counted as an exit, not a landmark */
	p->res->window_exits++;
	p->rr.last_now = now;
	vm_exit_taken(p->vm, KVM_EXIT_IRQ_WINDOW_OPEN, now);
	p->res->exits++;
	if (p->vm->exit_count % RR_EPOCH_EXITS == 0)
		return rr_epoch_reset(&p->rr);
	return 0;
}

/* Run the guest to its next exit. */
static int wait_exit(struct replayer *p, const struct rr_exit *want)
{
	struct vm *vm = p->vm;
	int r;

	/* Kicks now and then: a guest that never exits again is a divergence to report, not a hang. */
	if (vm->watchdog_ns != EXIT_WAIT_KICK_NS)
		vm_arm_watchdog(vm, EXIT_WAIT_KICK_NS);
	for (;;) {
		if (replay_kvm_run(p, 0, 0) == 0)
			return vm->stop == VM_STOP_QUIT ? -ECANCELED : 0;
		if (errno != EINTR && errno != EAGAIN) {
			snprintf(p->err, p->errlen, "KVM_RUN: %s", strerror(errno));
			return -errno;
		}
		vm_drain_signals();
		if (vm_stop_signal())
			return -EINTR;
		if ((r = replay_exit_wait_over(p, want)) != 0)
			return r;
	}
}

/* Run to the next exit and check it against its record: every field the journal holds, for every kind. */
static int replay_exit(struct replayer *p)
{
	struct vm *vm = p->vm;
	struct kvm_run *run = vm->run;
	struct rr_exit want, got;
	struct kvm_regs regs;
	uint64_t now, raw;
	int r;

	if (rr_exit_decode(p->rec.data, p->rec.len, &want) < 0)
		return diverge(p, "a well-formed exit record", "a truncated or malformed one");
	now = p->rr.last_now + want.dt;
	if (want.reason == KVM_EXIT_IRQ_WINDOW_OPEN)
		return replay_window_exit(p, &want.u.window, now);
	/*
	 * The recording took no window exit before this one, and where this KVM
	 * takes one is not deterministic (kvm_pvm takes them late): ask for none.
	 */
	run->request_interrupt_window = 0;
	r = wait_exit(p, &want);
	p->wait_since = 0;
	if (r < 0)
		return r;
	vm->event_queued = false;
	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	/*
	 * For the journal's comparison only (KVM keeps its own): the exit's RIP
	 * as VT-x and SVM give it. Journals recorded on kvm_pvm before
	 * 2026-12-06 hold its own RIP past an out: that matches too.
	 */
	raw = regs.rip;
	regs.rip = vm_exit_rip(vm, &regs);
	rr_exit_from_run(&got, run, regs.rip, want.dt);
	if (!rr_exit_matches(&want, &got, false) && raw != regs.rip && want.rip == raw)
		rr_exit_from_run(&got, run, regs.rip = raw, want.dt);
	if (!rr_exit_matches(&want, &got, false))
		return replay_exit_differs(p, &want, &got);
	p->rr.last_now = now;
	p->res->exits++;
	if ((r = vm_handle_exit(vm, now, p->err, p->errlen)) < 0)
		return r;
	/* What the devices answered (IN, MMIO reads, a refused MSR) must be what they answered then. */
	rr_exit_from_run(&got, run, regs.rip, want.dt);
	if (!rr_exit_matches(&want, &got, true))
		return replay_exit_differs(p, &want, &got);
	vm->halted = false;	/* what wakes it is in the journal */
	vm_check_board_stop(vm);
	if (vm->exit_count % RR_EPOCH_EXITS == 0)
		return rr_epoch_reset(&p->rr);
	return 0;
}

/* Every exit so far matched; the digests also catch state that changed without one. */
static int verify_checkpoint(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	struct rr_checkpoint want, got;
	char exp[160], act[400];
	int r;

	if (rr_checkpoint_decode(&c, &want) < 0)
		return diverge(p, "a well-formed checkpoint record", "a truncated one");
	if ((r = rr_checkpoint(&p->rr, &got)) < 0) {
		snprintf(p->err, p->errlen, "checkpoint %llu: %s", (unsigned long long)want.number, strerror(-r));
		return r;
	}
	if (got.number == want.number && got.exits == want.exits && got.time_ns == want.time_ns &&
	    got.mem_digest == want.mem_digest && got.cpu_digest == want.cpu_digest) {
		p->res->checkpoints++;
		return 0;
	}
	snprintf(exp, sizeof(exp), "checkpoint %llu at exit %llu: memory %016llx, cpu %016llx",
		 (unsigned long long)want.number, (unsigned long long)want.exits,
		 (unsigned long long)want.mem_digest, (unsigned long long)want.cpu_digest);
	/*
	 * State that moved without an exit comes from something the guest reads
	 * that no exit reports: rdtsc above all (CPUID hides the TSC, but code
	 * that does not ask still runs it, and KVM gives it the host's counter).
	 */
	snprintf(act, sizeof(act), "checkpoint %llu at exit %llu: memory %016llx, cpu %016llx (%s changed "
		 "without an exit since the checkpoint before: most often the guest read the time stamp "
		 "counter (rdtsc), which differs from run to run and is not recorded)", (unsigned long long)got.number,
		 (unsigned long long)got.exits, (unsigned long long)got.mem_digest,
		 (unsigned long long)got.cpu_digest, got.mem_digest != want.mem_digest ? "guest memory" : "the CPU state");
	return diverge(p, exp, act);
}

static int finish(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	uint64_t digest = 0, mine;

	p->res->end_stop = jcur_u8(&c);
	p->res->end_code = (uint32_t)jcur_varint(&c);
	p->res->end_signal = (int)jcur_varint(&c);
	for (int i = 0; i < 8; i++)
		digest |= (uint64_t)jcur_u8(&c) << (8 * i);
	if (c.bad)
		return diverge(p, "a well-formed end record", "a truncated one");
	p->res->ended = true;
	mine = rr_state_digest(&p->rr);
	p->res->digest_match = mine == digest;
	return 0;
}

/*
 * The journal's end with gdb attached: a stop, not an exit, so that gdb can
 * go back from here. It stays here until gdb kills, detaches or goes back.
 */
static int end_of_log(struct replayer *p)
{
	static const char end[] = "T05replaylog:end;thread:01;";
	int r;

	p->at_end = true;
	if (p->goal.goal == REPLAY_GOAL_SEEK && !p->goal.target_end)
		return diverge(p, "the point gdb went back to", "the end of the journal, never there");
	if (p->goal.goal == REPLAY_GOAL_GOTO) {
		snprintf(p->goal.reply, sizeof(p->goal.reply), "the journal ends first: ");
		p->goal.answer = true;
	}
	if (p->goal.goal != REPLAY_GOAL_NONE && (r = replay_arrived(p)) < 0)
		return r;
	if (p->res->then)
		return 0;	/* handed over: another process has gdb now */
	/* The guest's own stop (a debug exit, a reset) is recorded; gdb's k is what ends this. */
	p->vm->stop = VM_RUNNING;
	while (p->vm->stop == VM_RUNNING && p->gdb->fd >= 0)
		if ((r = gdbstub_report(p->gdb, p->vm, end)) < 0)
			return r;
	p->vm->stop = VM_RUNNING;	/* killed or detached at the end: the replay is complete all the same */
	return 0;
}

/* The stub's hooks into this replay. */
static void replay_gdb_attach(struct replayer *p)
{
	struct gdbstub *gdb = p->gdb;

	gdb->replay = true;
	gdb->bp_slots = GDB_HW_SLOTS - 2;	/* DR2 finds gdb's stops again, DR3 landmarks */
	gdb->monitor = replay_monitor;
	gdb->monitor_ctx = p;
	gdb->monitor_help = replay_monitor_help;
	gdb->reverse = replay_reverse;
	gdb->reverse_ctx = p;
}

/* In a new snapshot: what only the replaying process may hold. */
static void snapshot_child(void *ctx)
{
	struct replayer *p = ctx;

	vm_kvm_forget(p->vm);
	if (p->gdb->fd >= 0)
		close(p->gdb->fd);
	if (p->gdb->listen_fd >= 0)
		close(p->gdb->listen_fd);
	p->gdb->fd = p->gdb->listen_fd = -1;
}

/*
 * This process was forked from a snapshot to replay toward the goal in text:
 * a new KVM VM with the snapshot's vCPU, gdb's connection as it is now, and
 * the goal as a re-executed replay would take it.
 */
static int take_over(struct replayer *p, const char *text, int gdb_fd)
{
	static struct replay_resume r;
	char gdb[sizeof(r.gdb) + 16];
	const char *rest;
	int e;

	if (replay_resume_parse(text, &r) < 0 || strncmp(r.gdb, "fd=", 3)) {
		close(gdb_fd);
		snprintf(p->err, p->errlen, "a snapshot was handed a goal it cannot read");
		return -EPROTO;
	}
	if ((e = vm_kvm_rebuild(p->vm, &p->snap_cpu, p->err, p->errlen)) < 0 ||
	    (e = vm_signals_init(p->vm, p->err, p->errlen)) < 0) {
		close(gdb_fd);
		return e;
	}
	/* The sender's descriptor number means nothing here: this one arrived with the goal. */
	rest = strchr(r.gdb, ',');
	snprintf(gdb, sizeof(gdb), "fd=%d%s", gdb_fd, rest ? rest : "");
	if (gdbstub_restore(p->gdb, gdb) < 0) {
		close(gdb_fd);
		snprintf(p->err, p->errlen, "a snapshot was handed a gdb connection it cannot use");
		return -EPROTO;
	}
	replay_gdb_attach(p);
	p->goal = r;
	p->n_marks = r.n_marks;
	memcpy(p->marks, r.marks, sizeof(p->marks));
	p->have_cand = p->have_prev = p->step_over = p->at_end = false;
	p->boundary_checked = 0;
	p->debug_dirty = true;
	p->at_boundary = true;
	p->start_events = p->res->events;
	gdbstub_watch_refresh(p->gdb, p->vm);
	return p->goal.target_start ? replay_arrived(p) : 0;
}

/*
 * A snapshot here, at a record boundary. Returns 1 in a process that took
 * over from it later, -ECANCELED in the snapshot once it is no longer needed.
 */
static int snapshot(struct replayer *p)
{
	static char text[REPLAY_RESUME_MAX];
	int r, gdb_fd = -1;

	/* What KVM has not told about yet must be in the snapshot's dirty-page bitmaps. */
	if ((r = rr_dirty_sync(&p->rr)) >= 0 && (r = vm_cpu_save(p->vm, &p->snap_cpu)) >= 0)
		r = snap_take(p->res->events, snapshot_child, p, text, sizeof(text), &gdb_fd);
	if (r == 1)
		return take_over(p, text, gdb_fd) < 0 ? -EPROTO : 1;
	if (r == SNAP_OVER) {
		p->res->then = REPLAY_THEN_VANISH;
		return -ECANCELED;
	}
	if (r < 0) {
		/* The replay itself can go on; going back uses the snapshots there are. */
		fprintf(stderr, "vmm: warning: no snapshot at event %llu (%s): no more are taken\n",
			(unsigned long long)p->res->events, strerror(-r));
		p->snap_off = true;
	}
	return 0;
}

int replay_run(struct vm *vm, struct journal_reader *jr, bool progress, const struct replay_ctl *ctl,
	       struct replay_result *res, char *err, size_t errlen)
{
	struct gdbstub *gdb = ctl ? ctl->gdb : NULL;
	struct replayer p = { .vm = vm, .jr = jr, .res = res, .err = err, .errlen = errlen,
			      .progress = progress, .gdb = gdb, .ctl = ctl };
	bool go_to = ctl && ctl->go_to, went_to = false;
	int r;

	memset(res, 0, sizeof(*res));
	if (ctl && ctl->resume) {
		p.goal = *ctl->resume;
		p.n_marks = p.goal.n_marks;
		memcpy(p.marks, p.goal.marks, sizeof(p.marks));
	}
	if ((r = vm_signals_init(vm, err, errlen)) < 0)
		return r;
	if ((r = rr_init(&p.rr, vm, ctl && ctl->journal_version ? ctl->journal_version : JOURNAL_VERSION, err, errlen)) < 0)
		return r;
	if (gdb) {
		replay_gdb_attach(&p);
		if (ctl->snapshot_interval > 0 && (r = snap_init(ctl->snapshot_interval)) < 0)
			fprintf(stderr, "vmm: warning: no snapshots, going back replays from the start: %s\n",
				strerror(-r));
		if (p.goal.goal != REPLAY_GOAL_NONE) {
			gdbstub_watch_refresh(gdb, vm);
			r = p.goal.target_start ? replay_arrived(&p) : 0;
		} else if (!go_to) {
			r = gdbstub_accept(gdb, err, errlen);
			p.at_boundary = true;
			if (r == 0)
				r = gdbstub_stop(gdb, vm, 0);
		}
		if (r < 0) {
			rr_free(&p.rr);
			return r;
		}
	}
	for (;;) {
		int vec;

		if (vm_stop_signal()) {
			r = -EINTR;
			break;
		}
		if (p.goal.mute_until)
			vm->board.console->mute = p.res->events < p.goal.mute_until;
		if (gdb && gdb->fd >= 0 && p.goal.goal == REPLAY_GOAL_NONE && gdbstub_poll(gdb, vm) < 0)
			gdbstub_close(gdb);
		if (vm->stop == VM_STOP_QUIT) {
			r = -ECANCELED;
			break;
		}
		if ((r = peek(&p)) < 0)
			break;
		if (p.eof)
			break;
		/*
		 * A snapshot finishes the last exit's I/O in KVM (vm_cpu_save): RAX
		 * takes an IN's value, RIP moves past an OUT, earlier than the next
		 * entry would. Nothing looks at the vCPU in between but a checkpoint's
		 * or the end's digest, which the recorder took with the I/O still
		 * pending: no snapshot right before those.
		 */
		if (gdb && !p.snap_off && snap_due(res->events) && p.rec.type != JREC_CHECKPOINT &&
		    p.rec.type != JREC_END && (r = snapshot(&p)) < 0)
			break;
		/* --goto: the point the user asked for (the end record is the end's). */
		if (go_to && !went_to && (res->events >= ctl->go_to_events || p.rec.type == JREC_END)) {
			went_to = true;
			if (!gdb && p.rec.type != JREC_END) {
				res->stopped_at_goto = true;
				break;
			}
			if (gdb && !ctl->resume && p.rec.type != JREC_END) {
				if ((r = gdbstub_accept(gdb, err, errlen)) < 0)
					break;
				p.at_boundary = true;
				if ((r = gdbstub_stop(gdb, vm, 0)) < 0)
					break;
				continue;
			}
			if (gdb && !ctl->resume && (r = gdbstub_accept(gdb, err, errlen)) < 0)
				break;	/* at the end: end_of_log serves gdb there */
		}
		if ((p.goal.goal == REPLAY_GOAL_GOTO || p.goal.target_boundary) && res->events >= p.goal.target.events) {
			if ((r = replay_arrived(&p)) < 0)
				break;
			continue;
		}
		replay_show_progress(&p);
		switch (p.rec.type) {
		case JREC_TICK:
			r = replay_apply_tick(&p);
			consume(&p);
			continue;
		case JREC_VIRTIO:
			r = replay_apply_virtio(&p);
			consume(&p);
			if (r < 0)
				break;
			continue;
		case JREC_NOTIFY:
			r = replay_apply_notify(&p);
			consume(&p);
			if (r < 0)
				break;
			continue;
		case JREC_INPUT:
			r = replay_apply_input(&p);
			consume(&p);
			if (r < 0)
				break;
			continue;
		case JREC_LANDMARK:
			r = run_to_landmark(&p);
			if (r < 0)
				break;
			consume(&p);
			continue;
		case JREC_CHECKPOINT:
			r = verify_checkpoint(&p);
			consume(&p);
			if (r < 0)
				break;
			continue;
		case JREC_END:
			r = finish(&p);
			consume(&p);
			if (r == 0 && gdb && gdb->fd >= 0)
				r = end_of_log(&p);
			break;
		default:
			break;
		}
		if (r < 0 || p.rec.type == JREC_END)
			break;
		/* INJECT or EXIT: the live loop decided about injection right here. */
		vec = vm_inject_decision(vm);
		if (vec >= 0) {
			char exp[64], act[64];

			if (p.rec.type != JREC_INJECT || p.rec.len != 1 || p.rec.data[0] != vec) {
				if (p.rec.type != JREC_INJECT)
					snprintf(exp, sizeof(exp), "no injection (next: %s record)",
						 journal_record_name(p.rec.type));
				else if (p.rec.len != 1)
					snprintf(exp, sizeof(exp), "a well-formed inject record");
				else
					snprintf(exp, sizeof(exp), "inject vector 0x%x", p.rec.data[0]);
				snprintf(act, sizeof(act), "inject vector 0x%x", vec);
				r = diverge(&p, exp, act);
				break;
			}
			consume(&p);
			if ((r = vm_inject(vm, (uint8_t)vec, err, errlen)) < 0)
				break;
			continue;
		}
		if (p.rec.type == JREC_INJECT) {
			char exp[64];

			snprintf(exp, sizeof(exp), "inject vector 0x%x", p.rec.len ? p.rec.data[0] : 0);
			r = diverge(&p, exp, "no interrupt deliverable here");
			break;
		}
		r = replay_exit(&p);
		if (r == -EINTR)
			break;	/* not reached: replay_describe_wait names it */
		consume(&p);
		if (r < 0)
			break;
		if (gdb && gdb->fd >= 0)
			gdbstub_io_done(gdb, vm);
	}
	if (progress && !res->then)
		fprintf(stderr, "\r\033[K");
	res->landmarks = p.res->landmarks;
	rr_free(&p.rr);
	if (r == -EINTR) {
		char wait[400];

		replay_describe_wait(&p, wait, sizeof(wait));
		snprintf(err, errlen, "replay interrupted after %llu events%s", (unsigned long long)res->events, wait);
		return r;
	}
	if (r == -ECANCELED) {
		res->killed = !res->then;	/* by gdb, or handed over */
		return 0;
	}
	return r < 0 ? r : 0;
}
