/* The recorder: vm hooks that append every exit, tick, input, injection and landmark to the journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "exit_rec.h"
#include "rr.h"

static struct recorder *rec_of(struct vm *vm)
{
	return vm->hook_ctx;
}

/* On a terminal, four times a second: guest time, events and the journal's size so far. */
static void show_progress(struct recorder *rec, uint64_t now)
{
	if (rec->shown_at && now - rec->shown_at < 250000000ull)
		return;
	rec->shown_at = now;
	fprintf(stderr, "\rrecord: guest time %.1f s, %llu events (%.0f/s), %llu bytes written\033[K",
		(double)now / 1e9, (unsigned long long)rec->w.records,
		now ? (double)rec->w.records / ((double)now / 1e9) : 0.0, (unsigned long long)journal_written(&rec->w));
}

/* A record of payload b, then more (the bytes of a virtio completion, or nothing). */
static int emit2(struct recorder *rec, uint8_t type, struct jbuf *b, const void *more, size_t more_len)
{
	struct vm *vm = rec->rr.vm;
	int r;

	if (b->len > b->cap)
		return -E2BIG;
	r = journal_write2(&rec->w, type, b->p, b->len, more, more_len, vm->board.now);
	if (r < 0)
		rec->error = r;
	/*
	 * A record waiting in an open frame reaches the file even if nothing
	 * else is ever recorded: the run loop kicks the guest and calls
	 * rec_idle. Not at JOURNAL_FLUSH_NS itself, where a guest making exits
	 * ends the frame at its next one anyway: a kick then would stop it
	 * mid-stretch for nothing and compress the frame there.
	 */
	if (rec->w.frame_open && vm->idle_at == UINT64_MAX)
		vm->idle_at = vm->board.now + JOURNAL_FLUSH_NS + JOURNAL_IDLE_NS;
	if (rec->progress && (rec->w.records & 255) == 1)
		show_progress(rec, vm->board.now);
	return r;
}

static int emit(struct recorder *rec, uint8_t type, struct jbuf *b)
{
	return emit2(rec, type, b, NULL, 0);
}

static uint64_t delta(struct recorder *rec, uint64_t now)
{
	uint64_t d = now >= rec->rr.last_now ? now - rec->rr.last_now : 0;

	rec->rr.last_now = now;
	return d;
}

static int rec_exit(struct vm *vm)
{
	struct recorder *rec = rec_of(vm);
	struct jbuf b = { rec->rr.lbuf, 0, RR_LANDMARK_BYTES_MAX };
	struct kvm_regs regs;
	struct rr_exit e;
	int r;

	if (vm_get_regs(vm, &regs) < 0)
		return -errno;
	/* Where it exited: a completed instruction moved RIP on from there. */
	rr_exit_from_run(&e, vm->run, vm->rip_moved ? vm->exit_rip : vm_exit_rip(vm, &regs), delta(rec, vm->board.now));
	/*
	 * A window exit is asynchronous: some KVMs (kvm_pvm) take it a few
	 * instructions late, so its position is stored like a landmark's. One
	 * asked for at a kick (window_wait) may come long after the last
	 * position, where replay asks for it, and on a KVM without breakpoints
	 * is found by stepping: its pages let replay set the state there instead.
	 */
	if (e.reason == KVM_EXIT_IRQ_WINDOW_OPEN && (r = rr_capture(&rec->rr, &e.u.window, vm->window_wait)) < 0)
		return r;
	rr_exit_encode(&e, &b);
	if ((r = emit(rec, JREC_EXIT, &b)) < 0)
		return r;
	if (e.reason == KVM_EXIT_IRQ_WINDOW_OPEN && (r = rr_epoch_reset(&rec->rr)) < 0)
		return r;
	/* Dirty epochs restart at fixed exit ordinals, the same in replay. */
	if (vm->exit_count % RR_EPOCH_EXITS == 0 && (r = rr_epoch_reset(&rec->rr)) < 0)
		return r;
	if (vm->board.now - rec->rr.ckpt_ns >= RR_CHECKPOINT_NS) {
		struct rr_checkpoint ck;

		b.len = 0;
		if ((r = rr_checkpoint(&rec->rr, &ck)) < 0)
			return r;
		rr_checkpoint_encode(&ck, &b);
		return journal_write_checkpoint(&rec->w, b.p, b.len, vm->board.now, ck.exits, ck.time_ns);
	}
	return 0;
}

static int rec_tick(struct vm *vm, uint64_t now)
{
	struct recorder *rec = rec_of(vm);
	uint8_t buf[16];
	struct jbuf b = { buf, 0, sizeof(buf) };

	jbuf_varint(&b, delta(rec, now));
	return emit(rec, JREC_TICK, &b);
}

static int rec_input(struct vm *vm, const uint8_t *bytes, size_t n)
{
	struct jbuf b = { (uint8_t *)bytes, n, n };

	return emit(rec_of(vm), JREC_INPUT, &b);
}

static int rec_inject(struct vm *vm, uint8_t vector)
{
	struct jbuf b = { &vector, 1, 1 };

	return emit(rec_of(vm), JREC_INJECT, &b);
}

static int rec_landmark(struct vm *vm)
{
	struct recorder *rec = rec_of(vm);
	struct rr_landmark l;
	struct jbuf b = { rec->rr.lbuf, 0, RR_LANDMARK_BYTES_MAX };
	int r;

	if ((r = rr_capture(&rec->rr, &l, true)) < 0)
		return r;
	rr_landmark_encode(&l, &b);
	if ((r = emit(rec, JREC_LANDMARK, &b)) < 0)
		return r;
	rec->rr.landmarks++;
	return rr_epoch_reset(&rec->rr);
}

/*
 * A look at a guest waiting in user mode (core/place.c): the same state at two
 * looks is a loop whose turns recur, which replay finds again at its first
 * recurrence, or by setting it.
 */
static int rec_same_state(struct vm *vm, bool first)
{
	struct recorder *rec = rec_of(vm);
	struct rr_landmark l;
	int r;

	if ((r = rr_capture(&rec->rr, &l, false)) < 0)
		return r;
	r = !first && rr_landmark_same(&l, &rec->look);
	rec->look = l;
	return r;
}

static int rec_complete(struct vm *vm, unsigned dev, const struct worker_job *job)
{
	struct rr_virtio v = { dev, job->queue, job->head, job->len, job->data };
	uint8_t hdr[32];
	struct jbuf h = { hdr, 0, sizeof(hdr) };

	rr_virtio_encode_head(&v, &h);
	return emit2(rec_of(vm), JREC_VIRTIO, &h, job->data, job->len);
}

static int rec_notify(struct vm *vm, unsigned dev, unsigned q)
{
	struct rr_notify n = { dev, q };
	uint8_t buf[16];
	struct jbuf b = { buf, 0, sizeof(buf) };

	rr_notify_encode(&n, &b);
	return emit(rec_of(vm), JREC_NOTIFY, &b);
}

static void rec_idle(struct vm *vm)
{
	struct recorder *rec = rec_of(vm);
	int r = journal_flush(&rec->w);

	vm->idle_at = UINT64_MAX;
	if (r < 0)
		rec->error = r;
}

const struct vm_hooks recorder_hooks = {
	.exit = rec_exit, .tick = rec_tick, .input = rec_input, .inject = rec_inject,
	.landmark = rec_landmark, .same_state = rec_same_state, .idle = rec_idle, .complete = rec_complete,
	.notify = rec_notify,
};

int recorder_open(struct recorder *rec, struct vm *vm, const char *path, bool force, bool sync,
		  const struct journal_header *h, char *err, size_t errlen)
{
	int r;

	memset(rec, 0, sizeof(*rec));
	rec->w.fd = -1;
	if ((r = journal_writer_open(&rec->w, path, force, h, err, errlen)) < 0)
		return r;
	rec->w.sync = sync;
	if ((r = rr_init(&rec->rr, vm, JOURNAL_VERSION, err, errlen)) < 0)
		return r;
	vm->hooks = &recorder_hooks;
	vm->hook_ctx = rec;
	return 0;
}

int recorder_close(struct recorder *rec, struct vm *vm, bool clean)
{
	int r = 0;

	if (clean && rec->w.fd >= 0) {
		uint8_t buf[32];
		struct jbuf b = { buf, 0, sizeof(buf) };
		uint64_t digest = rr_state_digest(&rec->rr);

		jbuf_u8(&b, (uint8_t)vm->stop);
		jbuf_varint(&b, vm->exit_code);
		jbuf_varint(&b, (uint64_t)vm->signal);
		for (int i = 0; i < 8; i++)
			jbuf_u8(&b, (uint8_t)(digest >> (8 * i)));
		jbuf_varint(&b, vm->exit_count);
		jbuf_varint(&b, vm_mono_ns() - vm->start_ns);	/* host time, for journal stat */
		r = journal_write(&rec->w, JREC_END, b.p, b.len, vm->board.now);
	}
	if (rec->progress)
		fprintf(stderr, "\r\033[K");
	if (rec->w.fd >= 0) {
		int c = journal_writer_close(&rec->w);

		if (!r)
			r = c;
	}
	rr_free(&rec->rr);
	vm->hooks = NULL;
	return r;
}
