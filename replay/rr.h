/* What recorder and replayer share: positions in time, dirty-page epochs, landmark fingerprints, state digests. */
#ifndef VMM_RR_H
#define VMM_RR_H

#include <linux/kvm.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/vm.h"
#include "journal.h"

#define RR_EPOCH_EXITS 256	/* the dirty log restarts every this many exits, and at each landmark */
#define RR_RFLAGS_IGNORE 0x10100ull	/* RF and TF: set by debugging, not by the guest */
#define RFLAGS_RF (1ull << 16)
#define RR_PAGE 4096u
#define RR_LANDMARK_PAGES 8	/* a landmark carries the pages its epoch changed when there are at most this many */
/* The longest landmark state: 163 bytes, the page count, and each page's number and contents. */
#define RR_LANDMARK_BYTES_MAX (256 + RR_LANDMARK_PAGES * (10 + RR_PAGE))
#define RR_CHECKPOINT_NS 1000000000ull	/* a checkpoint record at the first exit after each guest second */

struct rr {
	struct vm *vm;
	uint64_t last_now;	/* time of the previous exit or tick: deltas are from it */
	uint64_t *dirty;	/* pages written in this epoch */
	uint64_t *fetched;
	size_t words;
	uint64_t landmarks;
	uint64_t *since_ckpt;	/* pages written since the last checkpoint */
	uint64_t *page_hash;	/* hash of every page as of the last checkpoint */
	uint64_t *dma_dirty;	/* pages devices wrote (vm->mem.dma_dirty points here) */
	uint64_t *epoch_hash;	/* hash of every page as the current dirty epoch began */
	uint64_t checkpoints;
	uint64_t ckpt_ns;	/* guest time of the last checkpoint */
	uint8_t *lbuf;		/* RR_LANDMARK_BYTES_MAX bytes: where a landmark or window exit is encoded */
	bool legacy_pages;	/* a journal before version 6: pages hashed as those journals did */
	uint64_t zero_hash;	/* the contents hash of a page of zeros */
};

/* A checkpoint: where the run is, and digests of memory and CPU there. */
struct rr_checkpoint {
	uint64_t number, exits, time_ns;
	uint64_t mem_digest, cpu_digest;
};

/* A virtio backend's result (JREC_VIRTIO): its bytes follow the header in the record. */
struct rr_virtio {
	uint64_t dev, queue, head, len;
	const uint8_t *data;	/* len bytes, into the record */
};

/* A driver's queue notification taken from an ioeventfd (JREC_NOTIFY). */
struct rr_notify {
	uint64_t dev, queue;
};

/* Landmark: where a kick was, exactly enough to find the same instance again. */
struct rr_landmark {
	uint64_t rip, rflags, gpr[16];
	uint64_t fingerprint;
	int cpl;		/* privilege level there, or -1: journals before 2026-12-06 do not say */
	/*
	 * A digest of the vCPU less its general registers, RIP and RFLAGS (rr_cpu_rest),
	 * when has_rest: with the fingerprint, the whole state, so that replay can tell
	 * a stretch that changed nothing else and set the registers instead of running it.
	 */
	bool has_rest;
	uint64_t rest;
	/*
	 * RFLAGS.RF as the vCPU had it (rflags leaves it out: replay's own stops set
	 * it). It is 1 between the iterations of a rep string instruction and after
	 * an IRET from a fault, and it goes onto the stack with the next interrupt,
	 * so a landmark reached by state must set it. -1 in journals before 2026-12-06.
	 */
	int rf;
	/*
	 * The interrupt shadow as KVM reports it (KVM_X86_SHADOW_INT_STI or
	 * _MOV_SS), or -1 in journals before 2026-12-06. A kick right after an
	 * STI leaves one, and the recorder then injects nothing until the next
	 * instruction has run; a planted HLT that finds the landmark is skipped by
	 * KVM with the shadow cleared, so replay sets it from here.
	 */
	int shadow;
	/*
	 * The pages whose contents changed in the dirty epoch, with their
	 * contents, when there are at most RR_LANDMARK_PAGES of them (0 in
	 * journals before 2026-12-06, and when there were more): with the
	 * registers and the digest, the whole state, which replay can set instead
	 * of running to it, however many turns of a loop that writes memory the
	 * stretch took. page_data points into guest memory (recorder) or into the
	 * record (replayer).
	 */
	unsigned npages;
	uint64_t page[RR_LANDMARK_PAGES];
	const uint8_t *page_data[RR_LANDMARK_PAGES];
};

/* The digest of everything of the vCPU a landmark's registers leave out, less the clocks. */
uint64_t rr_cpu_rest(const struct vm_cpu *cpu);

/* version: the journal's, which says how pages are hashed (JOURNAL_VERSION when recording). */
int rr_init(struct rr *rr, struct vm *vm, unsigned version, char *err, size_t errlen);
void rr_free(struct rr *rr);
int rr_epoch_reset(struct rr *rr);
/* Take KVM's dirty log into the bitmaps now (before a fork: the child's new VM starts with a clean log). */
int rr_dirty_sync(struct rr *rr);
int rr_fingerprint(struct rr *rr, uint64_t *fp);
/*
 * The same, and the pages it covers (those whose contents changed this
 * epoch) into l when there are at most RR_LANDMARK_PAGES; l->npages = 0 when
 * there are more.
 */
int rr_fingerprint_pages(struct rr *rr, uint64_t *fp, struct rr_landmark *l);
/*
 * The landmark where the vCPU stands; with pages, those the epoch changed too
 * (a kick's landmark: a window exit is found within a few instructions, and
 * needs none).
 */
int rr_capture(struct rr *rr, struct rr_landmark *l, bool pages);
void rr_landmark_encode(const struct rr_landmark *l, struct jbuf *b);
int rr_landmark_decode(struct jcur *c, struct rr_landmark *l);
void rr_regs_to_landmark(const struct kvm_regs *r, struct rr_landmark *l);
/* The same state: registers, the rest of the vCPU and the pages' digest (not the pages listed). */
bool rr_landmark_same(const struct rr_landmark *a, const struct rr_landmark *b);
/* The checkpoint for the current state (number: rr->checkpoints + 1); counts it. */
int rr_checkpoint(struct rr *rr, struct rr_checkpoint *ck);
void rr_checkpoint_encode(const struct rr_checkpoint *ck, struct jbuf *b);
/* The header of a JREC_VIRTIO record (the caller appends the len bytes). */
void rr_virtio_encode_head(const struct rr_virtio *v, struct jbuf *b);
/* -EINVAL unless the record is a header and exactly len bytes (queue and head 16-bit). */
int rr_virtio_decode(struct jcur *c, struct rr_virtio *v);
void rr_notify_encode(const struct rr_notify *n, struct jbuf *b);
/* -EINVAL for a truncated record, a device past BOARD_VIRTIO_MAX or a queue past VIRTIO_QUEUES_MAX. */
int rr_notify_decode(struct jcur *c, struct rr_notify *n);
int rr_checkpoint_decode(struct jcur *c, struct rr_checkpoint *ck);
/* Digest of registers and all of guest memory. */
uint64_t rr_state_digest(struct rr *rr);
void rr_print_regs(FILE *f, const struct kvm_regs *r);

/* The journal header that describes this VM's inputs. */
struct rr_inputs {
	const char *kernel_path, *initrd_path, *cmdline;
	const uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	uint64_t mem_size;
	int64_t rtc_epoch;
	/* Their SHA-256s where the caller knows them already (replay/hashcache.h); NULL: hashed here. */
	const uint8_t *kernel_sha256, *initrd_sha256;
};
void rr_make_header(struct journal_header *h, const struct rr_inputs *in, const char *version);

/* Recorder: hooks that write the journal. */
struct recorder {
	struct rr rr;
	struct journal_writer w;
	int error;
	bool progress;		/* a status line on stderr (a terminal the guest's output is not on) */
	uint64_t shown_at;
	struct rr_landmark look;	/* the state hooks->same_state saw last */
};
extern const struct vm_hooks recorder_hooks;
/* sync: every frame is on stable storage (fdatasync) before recording goes on (--fsync). */
int recorder_open(struct recorder *rec, struct vm *vm, const char *path, bool force, bool sync,
		  const struct journal_header *h, char *err, size_t errlen);
/* Write the end record (for a clean stop) and close the journal. */
int recorder_close(struct recorder *rec, struct vm *vm, bool clean);

/* Replayer. */
struct replay_result {
	uint64_t events, exits, landmarks, landmark_hits;
	uint64_t landmark_kicks;	/* landmarks found by a watchdog kick rather than a breakpoint */
	uint64_t landmark_plants;	/* landmarks found by a planted HLT (KVMs without breakpoints) */
	uint64_t landmark_states;	/* landmarks reached by setting registers: the rest of the state was it */
	uint64_t landmark_reps;		/* landmarks inside a rep string, reached by running its iterations at once */
	uint64_t rep_runs;		/* stops at a rep string not the landmark's, run by vmm instead of the CPU */
	uint64_t window_exits;		/* recorded window exits, found like landmarks (the counts above include them) */
	uint64_t landmark_shadows;	/* landmarks whose interrupt shadow was set as recorded (a HLT's exit lost it) */
	uint64_t landmark_pages;	/* landmarks reached by state with the pages the journal gives (part of landmark_states) */
	uint64_t landmark_skips;	/* user-mode stretches run through to a kernel entry, not stepped */
	uint64_t checkpoints;		/* checkpoint digests that matched */
	bool ended;		/* an end record was reached */
	bool diverged;
	bool digest_match;
	uint8_t end_stop;	/* enum vm_stop of the recording */
	uint32_t end_code;
	int end_signal;
	bool killed;		/* gdb ended the replay early (k) */
	bool stopped_at_goto;	/* without gdb, --goto stopped the replay before its end */
	/*
	 * Going back handed the replay over (reverse execution): what this
	 * process does now, which the command line carries out (library code
	 * neither re-executes nor exits).
	 */
	enum replay_then {
		REPLAY_THEN_NONE,
		REPLAY_THEN_EXEC,	/* re-execute vmm (ctl->argv), VMM_REPLAY_RESUME=resume, gdb's fd kept open */
		REPLAY_THEN_WAIT,	/* the first process: a snapshot replays on; snap_wait() gives its status */
		REPLAY_THEN_VANISH,	/* forked from a snapshot, now replaced by another: _exit(0) at once */
	} then;
	char *resume;		/* REPLAY_THEN_EXEC: the goal's text (malloc'ed) */
};
struct gdbstub;

/* A point in a replay gdb stopped at, found again as a landmark is: the stretch, registers, memory. */
struct replay_pos {
	uint64_t events;		/* records consumed before it */
	struct kvm_regs regs;
	uint64_t fp;			/* rr_fingerprint there */
};

/*
 * Reverse execution re-executes the replay from the start in a new process
 * image (the gdb connection stays open): with a goal, it runs quietly to a
 * point and reports it to gdb there.
 */
enum replay_goal {
	REPLAY_GOAL_NONE,
	REPLAY_GOAL_SCAN,	/* reverse-continue: the last stop before target, then seek it */
	REPLAY_GOAL_STEPBACK,	/* reverse-stepi: the point one instruction before target, then seek it */
	REPLAY_GOAL_SEEK,	/* stop at target and report reply */
	REPLAY_GOAL_GOTO,	/* monitor goto: stop once target.events records are replayed */
};

/* monitor checkpoint: a stop gdb can come back to with monitor restart. */
enum replay_mark_kind {
	REPLAY_MARK_POINT,	/* a stop inside a stretch: found again as a seek finds it */
	REPLAY_MARK_BOUNDARY,	/* between records (the start, a goto): pos.events alone names it */
	REPLAY_MARK_END,	/* the end of the journal */
};
#define REPLAY_MARKS 16

struct replay_mark {
	enum replay_mark_kind kind;
	struct replay_pos pos;
};

struct replay_resume {
	enum replay_goal goal;
	struct replay_pos target;
	bool target_end;	/* target is the end of the journal */
	bool target_start;	/* target is the start, before event 0 */
	bool target_boundary;	/* target is between records, where target.events are replayed */
	uint64_t mute_until;	/* console output already shown: suppressed until this many events */
	uint64_t window;	/* STEPBACK: step through this many events before target (0: the default) */
	bool answer;		/* reply is a monitor command's answer: sent with the position after it */
	char reply[64];		/* SEEK: the stop reply to send at target */
	unsigned n_marks;	/* the checkpoints gdb has set so far */
	struct replay_mark marks[REPLAY_MARKS];
	char gdb[2048];		/* the gdb connection and its settings (gdbstub_save) */
};
/* VMM_REPLAY_RESUME's text: what a re-executed replay is to do, and gdb's checkpoints. */
#define REPLAY_RESUME_MAX 12288
int replay_resume_format(const struct replay_resume *r, char *out, size_t n);
int replay_resume_parse(const char *text, struct replay_resume *r);

/*
 * How long one landmark hunt may run before replay reports a divergence
 * (--patience), and, where breakpoints fire, one that never hits.
 */
#define LANDMARK_STEP_PATIENCE_S 60
#define LANDMARK_PATIENCE_S 10
/*
 * An exit replay waits for longer than the patience and than this many times
 * the host time the recording took to reach it is a divergence (the guest
 * spins where the recording exited): a replay on the slowest KVM we know
 * (nested under TCG, against VT-x) runs kernel code about 2000 times slower.
 */
#define EXIT_WAIT_FACTOR 10000

struct replay_ctl {
	struct gdbstub *gdb;			/* a client debugging the replay, or NULL */
	const struct replay_resume *resume;	/* this process re-executes toward a goal, or NULL */
	char *const *argv;			/* how this process was started, to re-execute it */
	double snapshot_interval;		/* with gdb: seconds of replaying between snapshots (0: none) */
	/*
	 * --goto: replay to the point where this many events are replayed
	 * (UINT64_MAX: the end) before anything else; with gdb, wait for it
	 * there instead of before the first event; without, stop there.
	 */
	bool go_to;
	uint64_t go_to_events;
	unsigned journal_version;		/* the header's (0: JOURNAL_VERSION) */
	unsigned patience;			/* seconds one landmark hunt may run (0: the default) */
};

/*
 * Replay the journal on vm. With ctl->gdb (listening), wait for the client
 * before the first event and serve it: breakpoints and steps stop the replay,
 * which goes on as it continues; reverse-continue and reverse-stepi re-execute.
 */
int replay_run(struct vm *vm, struct journal_reader *jr, bool progress, const struct replay_ctl *ctl,
	       struct replay_result *res, char *err, size_t errlen);

#endif
