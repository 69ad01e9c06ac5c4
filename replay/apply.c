/* Replay's asynchronous records: a tick, input, a virtio completion or notification applied at its position. */
#include <stdio.h>

#include "replayer.h"

/* Device timers serviced at the recorded time. */
int replay_apply_tick(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	uint64_t d = jcur_varint(&c);

	if (c.bad)
		return diverge(p, "a well-formed tick record", "a truncated one");
	p->rr.last_now += d;
	p->vm->board.now = p->rr.last_now;
	board_service(&p->vm->board);
	return 0;
}

int replay_apply_input(struct replayer *p)
{
	for (size_t i = 0; i < p->rec.len; i++)
		if (uart_receive(&p->vm->board.com1, p->rec.data[i]) < 0)
			return diverge(p, "COM1 accepts the recorded input byte", "its receive FIFO is full");
	return 0;
}

int replay_apply_virtio(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	struct rr_virtio v;
	char exp[160];

	if (rr_virtio_decode(&c, &v) < 0)
		return diverge(p, "a well-formed virtio completion record", "a malformed one");
	if (board_virtio_complete(&p->vm->board, (unsigned)v.dev, (unsigned)v.queue, (uint16_t)v.head, v.data,
				  (uint32_t)v.len) < 0) {
		snprintf(exp, sizeof(exp), "virtio device %llu has a request in flight on queue %llu, chain %llu",
			 (unsigned long long)v.dev, (unsigned long long)v.queue, (unsigned long long)v.head);
		return diverge(p, exp, "no such device or request");
	}
	return 0;
}

/* The notification the recorder took from an ioeventfd, taken here as it was there. */
int replay_apply_notify(struct replayer *p)
{
	struct jcur c = { p->rec.data, p->rec.len, 0, false };
	struct board *b = &p->vm->board;
	struct rr_notify n;
	char exp[96];

	if (rr_notify_decode(&c, &n) < 0)
		return diverge(p, "a well-formed notify record", "a malformed one");
	if (!p->vm->ioev.n || n.dev >= b->n_virtio || n.queue >= b->virtio[n.dev]->vd->ops->num_queues) {
		snprintf(exp, sizeof(exp), "virtio device %llu with a queue %llu notified through an ioeventfd",
			 (unsigned long long)n.dev, (unsigned long long)n.queue);
		return diverge(p, exp, "no such device, queue or ioeventfd");
	}
	virtio_queue_notify(b->virtio[n.dev]->vd, (unsigned)n.queue);
	return 0;
}
