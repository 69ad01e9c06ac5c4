/*
 * vmm's monitor commands in a replay under gdb (monitor when, goto,
 * checkpoint, checkpoints, restart, snapshots): one table, one function each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer.h"
#include "snapshot.h"

/* Where gdb is stopped, as a checkpoint can name it. */
static int mark_here(struct replayer *p, struct replay_mark *m)
{
	int r = replay_pos_capture(p, &m->pos);

	m->kind = p->at_end ? REPLAY_MARK_END : p->at_boundary ? REPLAY_MARK_BOUNDARY : REPLAY_MARK_POINT;
	return r;
}

/* A new run to m, answering gdb's monitor command there with text. As replay_exec. */
static int replay_to_mark(struct replayer *p, const struct replay_mark *m, const char *text)
{
	struct replay_resume r = { .answer = true,
				   .mute_until = p->goal.mute_until > p->res->events ? p->goal.mute_until : p->res->events };

	r.target = m->pos;
	if (m->kind == REPLAY_MARK_BOUNDARY) {
		r.goal = REPLAY_GOAL_GOTO;
	} else {
		r.goal = REPLAY_GOAL_SEEK;
		r.target_end = m->kind == REPLAY_MARK_END;
	}
	snprintf(r.reply, sizeof(r.reply), "%s", text);
	return replay_exec(p, &r);
}

static int mon_when(struct replayer *p, const char *arg, char *out, size_t n)
{
	(void)arg;
	replay_when(p, out, n - 1);
	strcat(out, "\n");
	return 0;
}

static int parse_count(const char *arg, uint64_t *v)
{
	char *end;

	if (!arg || *arg < '0' || *arg > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(arg, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* goto N: forward in this run, backward in a new one, to where N records are replayed. */
static int mon_goto(struct replayer *p, const char *arg, char *out, size_t n)
{
	struct replay_mark m = { .kind = REPLAY_MARK_BOUNDARY };

	if (parse_count(arg, &m.pos.events) < 0) {
		snprintf(out, n, "usage: monitor goto EVENT (a number, as 'monitor when' and 'journal dump' give)\n");
		return 0;
	}
	if (m.pos.events > p->res->events && !p->at_end) {
		p->goal = (struct replay_resume){ .goal = REPLAY_GOAL_GOTO, .target = m.pos,
						  .mute_until = p->goal.mute_until };
		return GDB_MONITOR_LATER;
	}
	if (replay_to_mark(p, &m, ""))
		return GDB_MONITOR_GONE;
	snprintf(out, n, "cannot go back: vmm could not re-execute itself\n");
	return 0;
}

static int mon_checkpoint(struct replayer *p, const char *arg, char *out, size_t n)
{
	struct replay_mark *m = &p->marks[p->n_marks];
	char where[160];

	(void)arg;
	if (p->n_marks == REPLAY_MARKS) {
		snprintf(out, n, "no more checkpoints: %u are set\n", REPLAY_MARKS);
		return 0;
	}
	if (mark_here(p, m) < 0) {
		snprintf(out, n, "cannot read the registers: %s\n", strerror(errno));
		return 0;
	}
	p->n_marks++;
	replay_when(p, where, sizeof(where));
	snprintf(out, n, "checkpoint %u at %s\n", p->n_marks, where);
	return 0;
}

static int mon_checkpoints(struct replayer *p, const char *arg, char *out, size_t n)
{
	size_t len = 0;

	(void)arg;
	if (!p->n_marks)
		snprintf(out, n, "no checkpoints (monitor checkpoint sets one)\n");
	for (unsigned i = 0; i < p->n_marks && len < n; i++) {
		const struct replay_mark *m = &p->marks[i];

		len += (size_t)snprintf(out + len, n - len, "%u: event %llu, %s\n", i + 1,
					(unsigned long long)m->pos.events,
					m->kind == REPLAY_MARK_END ? "the end of the journal" :
					m->kind == REPLAY_MARK_BOUNDARY ? "between records" : "");
		if (m->kind == REPLAY_MARK_POINT && len < n)
			len += (size_t)snprintf(out + len - 1, n - len + 1, "rip 0x%llx\n",
						(unsigned long long)m->pos.regs.rip) - 1;
	}
	return 0;
}

/* restart [N]: back (or forward) to checkpoint N, or to the start, in a new run. */
static int mon_restart(struct replayer *p, const char *arg, char *out, size_t n)
{
	struct replay_mark start = { .kind = REPLAY_MARK_BOUNDARY };
	const struct replay_mark *m = &start;
	char text[48] = "";
	uint64_t k;

	if (arg) {
		if (parse_count(arg, &k) < 0 || k < 1 || k > p->n_marks) {
			snprintf(out, n, "no checkpoint %s: %u set (monitor checkpoints lists them)\n", arg,
				 p->n_marks);
			return 0;
		}
		m = &p->marks[k - 1];
		snprintf(text, sizeof(text), "checkpoint %llu: ", (unsigned long long)k);
	}
	if (replay_to_mark(p, m, text))
		return GDB_MONITOR_GONE;
	snprintf(out, n, "cannot go back: vmm could not re-execute itself\n");
	return 0;
}

/* snapshots: the automatic ones going back starts from. */
static int mon_snapshots(struct replayer *p, const char *arg, char *out, size_t n)
{
	struct snap_info si;
	size_t len;

	(void)arg;
	snap_info(&si);
	if (!snap_enabled()) {
		snprintf(out, n, "no snapshots (--snapshot-interval 0, or they could not start): "
			 "going back replays from the start\n");
		return 0;
	}
	len = (size_t)snprintf(out, n, "%u snapshots, one every %.3g s of replaying, at events", si.count,
			       si.interval_s);
	for (unsigned i = 0; i < si.count && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, " %llu", (unsigned long long)si.events[i]);
	if (len < n)
		snprintf(out + len, n - len, "\nwent back by a snapshot %llu times; this replay began at event %llu\n",
			 (unsigned long long)si.handovers, (unsigned long long)p->start_events);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct replayer *p, const char *arg, char *out, size_t n);
} replay_monitor_cmds[] = {
	{ "when", mon_when }, { "goto", mon_goto }, { "checkpoint", mon_checkpoint },
	{ "checkpoints", mon_checkpoints }, { "restart", mon_restart }, { "snapshots", mon_snapshots },
};

const char replay_monitor_help[] =
	"replay: when (the position), goto EVENT, checkpoint (here), checkpoints (the list),\n"
	"        restart [N] (to checkpoint N, or to the start), snapshots (where going back starts)\n";

int replay_monitor(void *ctx, const char *cmd, char *out, size_t n)
{
	const char *sp = strchr(cmd, ' ');
	size_t len = sp ? (size_t)(sp - cmd) : strlen(cmd);

	for (size_t i = 0; i < sizeof(replay_monitor_cmds) / sizeof(replay_monitor_cmds[0]); i++)
		if (strlen(replay_monitor_cmds[i].name) == len && !strncmp(cmd, replay_monitor_cmds[i].name, len))
			return replay_monitor_cmds[i].fn(ctx, sp ? sp + 1 : NULL, out, n);
	return -ENOENT;
}
