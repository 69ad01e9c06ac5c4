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

struct rr {
	struct vm *vm;
	uint64_t last_now;	/* time of the previous exit or tick: deltas are from it */
	uint64_t *dirty;	/* pages written in this epoch */
	uint64_t *fetched;
	size_t words;
	uint64_t landmarks;
};

/* Landmark: where a kick was, exactly enough to find the same instance again. */
struct rr_landmark {
	uint64_t rip, rflags, gpr[16];
	uint64_t fingerprint;
};

int rr_init(struct rr *rr, struct vm *vm, char *err, size_t errlen);
void rr_free(struct rr *rr);
int rr_epoch_reset(struct rr *rr);
int rr_fingerprint(struct rr *rr, uint64_t *fp);
int rr_capture(struct rr *rr, struct rr_landmark *l);
void rr_landmark_encode(const struct rr_landmark *l, struct jbuf *b);
int rr_landmark_decode(struct jcur *c, struct rr_landmark *l);
void rr_regs_to_landmark(const struct kvm_regs *r, struct rr_landmark *l);
/* Digest of registers and all of guest memory. */
uint64_t rr_state_digest(struct vm *vm);
void rr_print_regs(FILE *f, const struct kvm_regs *r);

/* The journal header that describes this VM's inputs. */
struct rr_inputs {
	const char *kernel_path, *initrd_path, *cmdline;
	const uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	uint64_t mem_size;
	int64_t rtc_epoch;
};
void rr_make_header(struct journal_header *h, const struct rr_inputs *in, const char *version);

/* Recorder: hooks that write the journal. */
struct recorder {
	struct rr rr;
	struct journal_writer w;
	int error;
};
extern const struct vm_hooks recorder_hooks;
int recorder_open(struct recorder *rec, struct vm *vm, const char *path, bool force,
		  const struct journal_header *h, char *err, size_t errlen);
/* Write the end record (for a clean stop) and close the journal. */
int recorder_close(struct recorder *rec, struct vm *vm, bool clean);

/* Replayer. */
struct replay_result {
	uint64_t events, exits, landmarks, landmark_hits;
	uint64_t landmark_kicks;	/* landmarks found by a watchdog kick rather than a breakpoint */
	bool ended;		/* an end record was reached */
	bool diverged;
	bool digest_match;
	uint8_t end_stop;	/* enum vm_stop of the recording */
	uint32_t end_code;
	int end_signal;
};
int replay_run(struct vm *vm, struct journal_reader *jr, bool progress,
	       struct replay_result *res, char *err, size_t errlen);

#endif
