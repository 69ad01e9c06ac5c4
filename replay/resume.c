/*
 * The text that carries a replay across a re-execution of vmm (the
 * VMM_REPLAY_RESUME variable): what to look for, gdb's checkpoints, the stub's
 * state. Parsed strictly: it crosses an exec.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rr.h"

static void hex_put(char *out, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int hex_get(const char *in, void *data, size_t n)
{
	uint8_t *b = data;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = (uint8_t)v;
	}
	return 0;
}

/* The checkpoints, as "marks=N" and ",KIND:EVENTS:FP:REGS" for each. */
static size_t marks_format(const struct replay_resume *r, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "marks=%u", r->n_marks);

	for (unsigned i = 0; i < r->n_marks && len < n; i++) {
		const struct replay_mark *m = &r->marks[i];
		char regs[2 * sizeof(m->pos.regs) + 1];

		hex_put(regs, &m->pos.regs, sizeof(m->pos.regs));
		len += (size_t)snprintf(out + len, n - len, ",%u:%llu:%llx:%s", m->kind,
					(unsigned long long)m->pos.events, (unsigned long long)m->pos.fp, regs);
	}
	return len;
}

static int marks_parse(const char *text, struct replay_resume *r, int *used)
{
	int off = 0;

	if (sscanf(text, "marks=%u%n", &r->n_marks, &off) != 1 || !off || r->n_marks > REPLAY_MARKS)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_marks; i++) {
		struct replay_mark *m = &r->marks[i];
		char regs[2 * sizeof(m->pos.regs) + 1];
		unsigned kind;
		unsigned long long events, fp;
		int n = 0;

		if (sscanf(text + off, ",%u:%llu:%llx:%288[0-9a-f]%n", &kind, &events, &fp, regs, &n) != 4 || !n ||
		    kind > REPLAY_MARK_END || strlen(regs) != 2 * sizeof(m->pos.regs) ||
		    hex_get(regs, &m->pos.regs, sizeof(m->pos.regs)) < 0)
			return -EINVAL;
		m->kind = (enum replay_mark_kind)kind;
		m->pos.events = events;
		m->pos.fp = fp;
		off += n;
	}
	*used = off;
	return 0;
}

int replay_resume_parse(const char *text, struct replay_resume *r)
{
	char regs[2 * sizeof(r->target.regs) + 1], reply[2 * sizeof(r->reply) + 1];
	unsigned goal, end, start, bound, answer;
	unsigned long long events, fp, mute, window;
	int used = 0, more = 0;

	_Static_assert(sizeof(r->target.regs) == 144 && sizeof(r->reply) == 64, "the widths below");
	memset(r, 0, sizeof(*r));
	if (sscanf(text, "goal=%u end=%u start=%u bound=%u mute=%llu window=%llu events=%llu fp=%llx regs=%288s "
		   "answer=%u reply=%128s %n", &goal, &end, &start, &bound, &mute, &window, &events, &fp, regs, &answer,
		   reply, &used) != 11 || !used ||
	    goal > REPLAY_GOAL_GOTO || strlen(regs) != 2 * sizeof(r->target.regs) ||
	    hex_get(regs, &r->target.regs, sizeof(r->target.regs)) < 0 || strlen(reply) % 2 ||
	    strlen(reply) / 2 >= sizeof(r->reply) || hex_get(reply, r->reply, strlen(reply) / 2) < 0 ||
	    marks_parse(text + used, r, &more) < 0 || strncmp(text + used + more, " gdb=", 5) ||
	    strlen(text + used + more + 5) >= sizeof(r->gdb))
		return -EINVAL;
	r->goal = (enum replay_goal)goal;
	r->target_end = end;
	r->target_start = start;
	r->target_boundary = bound;
	r->answer = answer;
	r->mute_until = mute;
	r->window = window;
	r->target.events = events;
	r->target.fp = fp;
	r->reply[sizeof(r->reply) - 1] = 0;
	strcpy(r->gdb, text + used + more + 5);
	return 0;
}

int replay_resume_format(const struct replay_resume *r, char *out, size_t n)
{
	char regs[2 * sizeof(r->target.regs) + 1], reply[2 * sizeof(r->reply) + 1];
	char marks[REPLAY_MARKS * (2 * sizeof(struct kvm_regs) + 48) + 16];
	int len;

	if (strlen(r->reply) >= sizeof(r->reply) || strlen(r->gdb) >= sizeof(r->gdb) || r->n_marks > REPLAY_MARKS)
		return -EINVAL;
	hex_put(regs, &r->target.regs, sizeof(r->target.regs));
	hex_put(reply, r->reply, strlen(r->reply) + 1);	/* with its NUL: never empty */
	marks_format(r, marks, sizeof(marks));
	len = snprintf(out, n, "goal=%u end=%u start=%u bound=%u mute=%llu window=%llu events=%llu fp=%llx regs=%s "
		       "answer=%u reply=%s %s gdb=%s", r->goal, r->target_end, r->target_start, r->target_boundary,
		       (unsigned long long)r->mute_until, (unsigned long long)r->window, (unsigned long long)r->target.events,
		       (unsigned long long)r->target.fp, regs, r->answer, reply, marks, r->gdb);
	return len < 0 || (size_t)len >= n ? -ENOSPC : 0;
}
