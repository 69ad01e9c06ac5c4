/*
 * Reverse execution: the goals a re-executed replay pursues (seek, scan for
 * the last stop, step back), the re-execution itself from the newest snapshot
 * before the goal or from the start, and what it does when it gets there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer.h"
#include "snapshot.h"
#include "../gdbstub/gdbstub.h"
#include "../gdbstub/rsp.h"

/*
 * Records before target's stretch that reverse-stepi single-steps, to see the
 * point before it when the target starts its stretch. Few: stepping through a
 * landmark's stretch can miss the landmark on kvm_pvm (README, host notes).
 */
#define STEPBACK_WINDOW 1
#define STEPBACK_WINDOW_MAX 64

/* How many events before its target a stepback single-steps through. */
static uint64_t window_of(const struct replay_resume *r)
{
	return r->window ? r->window : STEPBACK_WINDOW;
}

/*
 * The same stop: the same stretch and registers. Not the memory fingerprint:
 * single-stepping on kvm_pvm leaves bytes below the guest's stack pointer
 * that a breakpoint's way there does not, so a point reached both ways would
 * not match. The cost: in a loop whose registers repeat while only memory
 * changes, a stop is found again at the first such turn of its stretch.
 */
static bool pos_equal(const struct replay_pos *a, const struct replay_pos *b)
{
	return a->events == b->events && !memcmp(&a->regs, &b->regs, sizeof(a->regs));
}

/*
 * The replay goes on elsewhere: this one ends as if gdb had killed it (every
 * loop and hunt already unwinds on that), and the command line does what
 * res->then says.
 */
static int handed_over(struct replayer *p, enum replay_then then)
{
	p->res->then = then;
	p->vm->stop = VM_STOP_QUIT;
	return 1;
}

/*
 * Go on toward r from the newest snapshot that comes before it, or else in a
 * new process image of this program replaying from the start (the gdb
 * connection stays open across). 1: handed over (this replay ends, see
 * handed_over); 0: it could not, and the replay goes on here.
 */
int replay_exec(struct replayer *p, struct replay_resume *r)
{
	char gdb[sizeof(r->gdb)], text[REPLAY_RESUME_MAX];

	if (!p->ctl || !p->ctl->argv || gdbstub_save(p->gdb, gdb, sizeof(gdb)) < 0)
		return 0;
	r->n_marks = p->n_marks;
	memcpy(r->marks, p->marks, sizeof(r->marks));
	snprintf(r->gdb, sizeof(r->gdb), "%s", gdb);
	if (replay_resume_format(r, text, sizeof(text)) < 0)
		return 0;
	if (snap_enabled()) {
		uint64_t need;
		bool strict = false;

		/* The newest snapshot from which everything the goal looks at is still ahead. */
		if (r->target_end)
			need = UINT64_MAX;
		else if (r->target_start)
			need = 0;
		else if (r->goal == REPLAY_GOAL_STEPBACK)
			need = r->target.events > window_of(r) ? r->target.events - window_of(r) : 0;
		else
			need = r->target.events, strict = r->target_boundary;
		if (snap_handover(need, strict, text, p->gdb->fd) >= 0)
			return handed_over(p, snap_may_reexec() ? REPLAY_THEN_WAIT : REPLAY_THEN_VANISH);
		if (!snap_may_reexec()) {
			fprintf(stderr, "vmm: cannot go back: no snapshot at or before event %llu answered\n",
				(unsigned long long)need);
			return 0;
		}
	}
	if (!(p->res->resume = strdup(text)))
		return 0;
	return handed_over(p, REPLAY_THEN_EXEC);
}

/* Seek: a new run to pos (or the start), where gdb hears reply. */
static int replay_seek(struct replayer *p, const struct replay_pos *pos, const char *reply)
{
	struct replay_resume r = { .goal = REPLAY_GOAL_SEEK, .target_start = !pos,
				   .mute_until = p->goal.mute_until > p->res->events ? p->goal.mute_until : p->res->events };

	if (pos)
		r.target = *pos;
	snprintf(r.reply, sizeof(r.reply), "%s", reply);
	return replay_exec(p, &r);
}

/* gdb's bc and bs: re-execute toward the last stop before here, or the point one instruction back. */
int replay_reverse(void *ctx, char dir)
{
	struct replayer *p = ctx;
	struct replay_resume r = { .goal = dir == 'c' ? REPLAY_GOAL_SCAN : REPLAY_GOAL_STEPBACK,
				   .target_end = p->at_end,
				   .mute_until = p->goal.mute_until > p->res->events ? p->goal.mute_until : p->res->events };

	if (replay_pos_capture(p, &r.target) < 0)
		return 0;
	return replay_exec(p, &r);
}

static const char replaylog_begin[] = "T05replaylog:begin;thread:01;";
/* gdb does not know a monitor command moved the guest. */
static const char stale_regs[] = "(gdb still shows the registers of before: "
				 "'maintenance flush register-cache' rereads them)\n";

/* monitor when: the replay's position, as journal dump numbers it. */
void replay_when(void *ctx, char *out, size_t n)
{
	const struct replayer *p = ctx;

	snprintf(out, n, "event %llu (exit %llu, %llu landmarks passed)", (unsigned long long)p->res->events,
		 (unsigned long long)p->res->exits, (unsigned long long)p->res->landmarks);
}

/*
 * The goal's target is here. Scan and stepback go on to seek what they
 * found; seek reports to gdb and the replay becomes an ordinary one.
 */
int replay_arrived(struct replayer *p)
{
	char out[600];
	int gone = 0;

	switch (p->goal.goal) {
	case REPLAY_GOAL_SCAN:
		/*
		 * Going backwards, a write is met before it happens: gdb wants the
		 * watchpoint's stop one instruction before the point a forward
		 * step saw it (rr does the same), where the value is still the old one.
		 */
		if (p->have_cand && strstr(p->cand_reply, "watch:")) {
			struct replay_resume r = { .goal = REPLAY_GOAL_STEPBACK, .target = p->cand,
						   .mute_until = p->goal.mute_until };

			snprintf(r.reply, sizeof(r.reply), "%s", p->cand_reply);
			gone = replay_exec(p, &r);
			break;
		}
		/* Nothing since the snapshot this run began at: look in the stretch of records before it. */
		if (!p->have_cand && p->start_events) {
			struct replay_resume r = { .goal = REPLAY_GOAL_SCAN, .target_boundary = true,
						   .target.events = p->start_events, .mute_until = p->goal.mute_until };

			gone = replay_exec(p, &r);
			break;
		}
		gone = replay_seek(p, p->have_cand ? &p->cand : NULL, p->have_cand ? p->cand_reply : replaylog_begin);
		break;
	case REPLAY_GOAL_STEPBACK:
		/*
		 * Nothing ran before the target in the window (the events just before
		 * it were records with no guest code between them: completions,
		 * injections): look again through a window twice as wide. At the
		 * start, or past the widest, stay where gdb was.
		 */
		if (!p->have_prev && p->goal.target.events > window_of(&p->goal)) {
			struct replay_resume r = p->goal;

			r.window = 2 * window_of(&p->goal);
			if (r.window <= STEPBACK_WINDOW_MAX)
				gone = replay_exec(p, &r);
			if (!gone)
				gone = replay_seek(p, &p->goal.target, p->goal.reply[0] ? p->goal.reply : "T05thread:01;");
			break;
		}
		gone = replay_seek(p, p->have_prev ? &p->prev : NULL,
				   !p->have_prev ? replaylog_begin : p->goal.reply[0] ? p->goal.reply : "T05thread:01;");
		break;
	default:
		break;
	}
	if (gone)
		return 0;	/* the replay goes on elsewhere; this one ends (vm->stop) */
	/* Seek or goto (or a re-execution that failed): report here. */
	if (p->goal.answer || p->goal.goal == REPLAY_GOAL_GOTO) {
		char text[320], where[160];

		replay_when(p, where, sizeof(where));
		snprintf(text, sizeof(text), "%s%s\n%s", p->goal.answer ? p->goal.reply : "", where, stale_regs);
		rsp_hex_encode(out, text, strlen(text));
	} else {
		snprintf(out, sizeof(out), "%s", p->goal.goal == REPLAY_GOAL_SEEK ? p->goal.reply : "T05thread:01;");
	}
	p->at_boundary = p->goal.goal == REPLAY_GOAL_GOTO || (p->goal.goal == REPLAY_GOAL_SEEK && p->goal.target_start);
	p->goal.goal = REPLAY_GOAL_NONE;
	p->goal.answer = false;
	p->vm->board.console->mute = false;
	gdbstub_watch_refresh(p->gdb, p->vm);
	return gdbstub_report(p->gdb, p->vm, out);
}

/* Is the goal's target in the stretch now running? */
bool replay_target_stretch(const struct replayer *p)
{
	return p->goal.goal != REPLAY_GOAL_NONE && !p->goal.target_end && !p->goal.target_start &&
	       !p->goal.target_boundary && p->res->events == p->goal.target.events;
}

bool replay_stepback_window(const struct replayer *p)
{
	return p->goal.goal == REPLAY_GOAL_STEPBACK &&
	       p->res->events + window_of(&p->goal) >= p->goal.target.events;
}

/* The guest stopped (a step, a breakpoint, a stretch's start) while a goal is set: is it there yet? */
int replay_goal_point(struct replayer *p, bool *done)
{
	struct replay_pos cur;
	int r;

	*done = false;
	if ((r = replay_pos_capture(p, &cur)) < 0)
		return r;
	if (replay_target_stretch(p) && pos_equal(&cur, &p->goal.target)) {
		*done = true;
		return replay_arrived(p);
	}
	if (replay_stepback_window(p)) {
		p->prev = cur;
		p->have_prev = true;
	}
	return 0;
}

