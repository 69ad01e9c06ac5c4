/* Snapshots of a replay under gdb: fork()ed copies of the replaying process that going back starts from. */
#ifndef VMM_SNAPSHOT_H
#define VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A snapshot is a child process frozen at a record boundary, holding the
 * whole replayer copy-on-write: guest memory, devices, the journal cursor
 * and the saved vCPU. To go back, the replaying process hands the goal and
 * gdb's connection to the newest snapshot at or before what it needs; the
 * snapshot forks a new replaying process (staying available itself), which
 * rebuilds its KVM VM and goes on from there, and the old one ends.
 *
 * The process the user started (the root) stays to the end: once it has
 * handed over it only waits for the final exit status, passes it on, and
 * ends every snapshot. All of it is in one registry in shared memory, which
 * only the one replaying process changes.
 */
#define SNAP_MAX 32

struct snap_info {
	unsigned count;
	uint64_t events[SNAP_MAX];
	double interval_s;	/* between snapshots now (it doubles each time the set is thinned) */
	uint64_t started_at;	/* the snapshot this process started from (UINT64_MAX: none, it is the root's run) */
	uint64_t handovers;	/* how many times the replay went back by a snapshot */
};

/* Start taking snapshots every interval_s of replaying (the root calls it once). 0 or -errno. */
int snap_init(double interval_s);
bool snap_enabled(void);
/* Is a snapshot due at this record boundary? (Also notes passing an existing one.) */
bool snap_due(uint64_t events);

/*
 * Fork a snapshot here. In this process: 0 (or -errno). The snapshot runs
 * in_child (drop what only this process may use) and waits; each time a
 * replaying process hands it a goal it forks, and snap_take returns 1 in that
 * new replaying process with the goal's text in text and gdb's connection in
 * *gdb_fd. When the replay that took it is over, snap_take returns SNAP_OVER
 * in the snapshot: the caller ends that process at once.
 */
#define SNAP_OVER 2
int snap_take(uint64_t events, void (*in_child)(void *ctx), void *ctx, char *text, size_t n, int *gdb_fd);

/*
 * Hand text and gdb_fd to the newest snapshot at or before events (before
 * it, if strict). Returns the snapshot's events once it has taken over, or
 * -errno (no such snapshot, or it did not answer): the caller goes on.
 */
int64_t snap_handover(uint64_t events, bool strict, const char *text, int gdb_fd);
/* Is this the replay's first process, which may still go back by re-executing itself (not one forked from a snapshot)? */
bool snap_may_reexec(void);
/*
 * The first process, after a handover and once it has let go of the VM and
 * gdb: wait for the replay's exit status, which it returns (forwarding
 * SIGTERM to the replaying process meanwhile).
 */
int snap_wait(void);

/* The replay ends with status: the root ends the snapshots; another process passes status to the root. */
int snap_finish(int status);
void snap_info(struct snap_info *info);

#endif
