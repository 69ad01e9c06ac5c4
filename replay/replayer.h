/* The replayer's state and the parts of it that live in other files (landmark.c): not a public interface. */
#ifndef VMM_REPLAYER_H
#define VMM_REPLAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "rr.h"
#include "../gdbstub/gdbstub.h"

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)

struct replayer {
	struct rr rr;
	struct vm *vm;
	struct journal_reader *jr;
	struct journal_record rec;
	bool have;
	bool eof;
	struct replay_result *res;
	char *err;
	size_t errlen;
	bool progress;
	uint64_t progress_start, progress_last;	/* replay_show_progress: when it began, and last drew */
	uint64_t hunt_since, hunt_rip;	/* a landmark hunt under way (0: none): its budget, the status line */
	uint64_t wait_since;		/* an exit wait a kick found under way (0: none): the same */
	time_t wait_paused;		/* ... p->paused when it began */
	const struct rr_exit *wait_for;	/* ... and the exit it waits for */
	uint64_t total_hint;
	struct gdbstub *gdb;		/* a client debugging the replay, or NULL */
	time_t paused;			/* seconds spent stopped in gdb: not the guest's fault */
	bool debug_dirty;		/* gdb's debug registers may still be set */
	const struct replay_ctl *ctl;
	struct replay_resume goal;	/* what this re-execution looks for (REPLAY_GOAL_NONE: nothing) */
	struct replay_pos cand;		/* scan: the last stop before the target so far */
	char cand_reply[64];
	bool have_cand;
	struct replay_pos prev;		/* stepback: the point before the one just seen */
	bool have_prev;
	uint64_t boundary_checked;	/* events + 1 of the last stretch start compared with the target */
	bool step_over;			/* scan: step off a breakpoint before arming it again */
	bool entry_user, entry_step;	/* the entry replay_kvm_run makes: for gdb (not a goal's), a step */
	bool watched;			/* a watchpoint of gdb's stopped it */
	bool at_end;			/* the end record was replayed: gdb is stopped at the end */
	bool at_boundary;		/* gdb is stopped between records (the start, a goto) */
	unsigned n_marks;		/* monitor checkpoint: the stops gdb can restart at */
	struct replay_mark marks[REPLAY_MARKS];
	uint64_t start_events;		/* where this process began replaying: 0, or a snapshot's events */
	bool snap_off;			/* a snapshot failed: take no more (going back still works from older ones) */
	struct vm_cpu snap_cpu;		/* the vCPU as the last snapshot took it */
};

/* The closest miss of a hunt, for its divergence report. */
struct near_miss {
	uint64_t hits;		/* breakpoint hits or kicks at the landmark's rip */
	unsigned ndiff;		/* fields that differed at the closest one */
	char what[112];
};

/* replay.c */
const char *exit_name(unsigned reason);
int set_debug(struct vm *vm, uint32_t control, uint64_t bp);
/* report.c */
/* Report the first difference between the run and its journal; returns what replay returns then. */
int diverge(struct replayer *p, const char *expected, const char *actual);
/* A recorded exit the live one does not match, as diverge() reports it. */
struct rr_exit;
int replay_exit_differs(struct replayer *p, const struct rr_exit *want, const struct rr_exit *got);
/* "; the guest was at rip R in user|kernel mode, IF=F", or "" if the vCPU cannot be read. */
void replay_where(struct vm *vm, char *out, size_t n);
/* ", waiting for <the record replay stands at>" and replay_where's words. */
void replay_describe_wait(struct replayer *p, char *out, size_t n);
/* The status line on a terminal (--quiet: none), redrawn four times a second at most. */
void replay_show_progress(struct replayer *p);
/* At a kick in a wait for the exit want: 0 to wait on, or the divergence once it has waited too long. */
int replay_exit_wait_over(struct replayer *p, const struct rr_exit *want);
/* apply.c: the record in p->rec, applied where the journal puts it; 0, or a divergence. */
int replay_apply_tick(struct replayer *p);
int replay_apply_input(struct replayer *p);
int replay_apply_virtio(struct replayer *p);
int replay_apply_notify(struct replayer *p);
/* KVM_RUN as replay does it, gdb's stops and watchpoints included; as the ioctl returns. */
int replay_kvm_run(struct replayer *p, uint32_t control, uint64_t bp);
/* The stop gdb is at: events replayed, registers, memory fingerprint. */
int replay_pos_capture(struct replayer *p, struct replay_pos *pos);
/*
 * Carry on towards r from a snapshot or, in a re-executed vmm, from the start:
 * 1 when handed over (this replay then ends, res->then says what follows),
 * 0 when it could not be.
 */
int replay_exec(struct replayer *p, struct replay_resume *r);
/* Where the replay stands, in words, for 'monitor when'. */
void replay_when(void *ctx, char *out, size_t n);

/* reverse.c */
/* gdb's bc and bs: toward the last stop before here, or the point one instruction back; as replay_exec. */
int replay_reverse(void *ctx, char dir);
/* The goal's target is here: go on to it, or report to gdb (a seek's end). */
int replay_arrived(struct replayer *p);
/* Is the goal's target in the stretch now running? */
bool replay_target_stretch(const struct replayer *p);
/* Is the stretch now running one that a step back single-steps through? */
bool replay_stepback_window(const struct replayer *p);
/* The guest stopped while a goal is set: is it there yet? (*done: it was, and replay_arrived ran.) */
int replay_goal_point(struct replayer *p, bool *done);

/* monitor.c */
extern const char replay_monitor_help[];
int replay_monitor(void *ctx, const char *cmd, char *out, size_t n);

/* hunt_step.c */
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define OPCODE_STI 0xfb
/* A hunt's kick: how often it looks at the clock and at a state a kick may have stopped in. */
#define HUNT_KICK_NS 1000000ull
/* KVM's pending port or MMIO completion done now, without running the guest. */
void hunt_complete_io(struct vm *vm);
/*
 * One instruction stepped without the trap flag where that is the CPU's
 * exact behaviour (an injected interrupt's delivery, STI, a relative jump):
 * 1 when stepped, 0 when the step is KVM's, -errno.
 */
int hunt_step_by_hand(struct vm *vm);
/*
 * At a stop on a rep stos or movs: its iterations up to the landmark want
 * (REP_INSIDE), or all of them when it is not in this execution
 * (REP_SKIPPED); 0 when this is no rep string; -errno or a divergence.
 */
#define REP_SKIPPED 1
#define REP_INSIDE 2
int hunt_rep_forward(struct replayer *p, const struct rr_landmark *want, const struct kvm_regs *at, bool planted);

/* landmark.c */
bool landmark_matches_near(struct replayer *p, const struct rr_landmark *want, const struct kvm_regs *regs,
			   struct near_miss *near);
bool landmark_matches(struct replayer *p, const struct rr_landmark *want, const struct kvm_regs *regs);
/* Run to the landmark want (or, with window, to a window exit in that state): 0, or a divergence. */
int landmark_hunt(struct replayer *p, const struct rr_landmark *want, bool window);
/* The landmark record in p->rec: run to it. */
int run_to_landmark(struct replayer *p);

#endif
