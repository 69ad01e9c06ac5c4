/*
 * Fuzz target for the whole board as a hostile guest sees it: port and MMIO
 * accesses to every device (PIC, PIT, RTC, UART, PCI, the four virtio
 * devices through both interfaces), guest RAM the rings live in, time
 * passing, and backend completions, in any order. Nothing may crash, read or
 * write outside its buffers, or loop without bound.
 *
 * Input: a sequence of operations, each an opcode byte and its operands.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "board.h"
#include "console.h"
#include "le.h"
#include "worker.h"
#include "virtio/virtio_pci.h"

const char fuzz_name[] = "fuzz_board";

#define RAM	(1u << 20)
#define NDEV	4

enum op { OP_OUT, OP_IN, OP_MMIO_W, OP_MMIO_R, OP_RAM, OP_DONE, OP_TIME, OP_CFG, OP_RUN };

/*
 * The backend of blk and rng here: jobs wait in a list until OP_RUN runs the
 * oldest on this thread and completes it as the run loop would, so that
 * request parsing, the image I/O and resets racing jobs are all reached.
 */
#define JOBS_MAX 256
static struct worker_job *jobs[JOBS_MAX];
static unsigned n_jobs;

static void free_job(struct worker_job *j)
{
	free(j->data);
	free(j->out);
	free(j);
}

static void fuzz_submit(void *ctx, struct worker_job *job)
{
	(void)ctx;
	if (n_jobs == JOBS_MAX) {
		free_job(job);
		return;
	}
	jobs[n_jobs++] = job;
}

static void fuzz_cancel(void *ctx, const void *owner)
{
	unsigned k = 0;

	(void)ctx;
	for (unsigned i = 0; i < n_jobs; i++) {
		if (jobs[i]->owner == owner)
			free_job(jobs[i]);
		else
			jobs[k++] = jobs[i];
	}
	n_jobs = k;
}

static const struct virtio_backend fuzz_backend = { fuzz_submit, fuzz_cancel, NULL };

static void run_oldest(void)
{
	struct worker_job *j;

	if (!n_jobs)
		return;
	j = jobs[0];
	memmove(jobs, jobs + 1, --n_jobs * sizeof(jobs[0]));
	j->run(j);
	virtio_job_complete(j->owner, j);
	free_job(j);
}

/* Ports worth aiming at: every device's, so that random bytes mostly hit one. */
static const uint16_t ports[] = {
	0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x80, 0x92, 0x60, 0x64,
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x4d0, 0x4d1, 0xcf8, 0xcf9, 0xcfc, 0xcfe, 0xf4,
};

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct cursor *c, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v |= (uint64_t)(c->n ? *c->p : 0) << (8 * i);
		if (c->n) {
			c->p++;
			c->n--;
		}
	}
	return v;
}

static unsigned size_of(uint64_t sel)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	return sizes[sel & 3];
}

static struct board *board_new(struct guest_mem *mem, struct console *con)
{
	static const char *const kinds[NDEV] = { "rng", "blk", "console", "net" };
	struct board *b = calloc(1, sizeof(*b));
	char err[200];

	if (!b)
		return NULL;
	board_init(b, RAM, 1700000000, con);
	b->replay = true;	/* no backend threads, no files: completions come from the input */
	for (unsigned i = 0; i < NDEV; i++) {
		struct virtio_spec spec = { .kind = kinds[i], .sectors = 64, .mac = { 0x52, 0x54, 0, 0, 0, (uint8_t)i } };

		if (board_add_virtio(b, mem, &spec, err, sizeof(err)) < 0) {
			board_free(b);
			free(b);
			return NULL;
		}
	}
	/* blk and rng with the list above as their backend; blk over a 32 KiB image in memory. */
	b->virtio[0]->u.rng.backend = &fuzz_backend;
	b->virtio[1]->u.blk.backend = &fuzz_backend;
	b->virtio[1]->u.blk.fd = memfd_create("image", 0);
	if (b->virtio[1]->u.blk.fd < 0 || ftruncate(b->virtio[1]->u.blk.fd, 64 * 512) < 0)
		abort();
	/* Bus mastering and both BARs on, as firmware or a driver would. */
	for (unsigned slot = 1; slot <= NDEV; slot++) {
		board_pio_write(b, 0xcf8, 4, 0x80000000u | slot << 11 | 0x04);
		board_pio_write(b, 0xcfc, 2, 0x7);
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem mem;
	static struct console con;
	struct cursor c = { data, size };
	struct board *b;
	char err[100];

	if (!mem.host && (gmem_alloc(&mem, RAM) < 0 || console_open(&con, "none", err, sizeof(err)) < 0))
		abort();
	memset(mem.host, 0, RAM);
	if (!(b = board_new(&mem, &con)))
		return 0;
	for (unsigned ops = 0; c.n && ops < 4096; ops++) {
		uint8_t op = (uint8_t)take(&c, 1);
		unsigned dev = (op >> 4) % NDEV;

		switch (op & 15) {	/* 9-15: nothing, a pause in the sequence */
		case OP_OUT: {
			uint16_t port = ports[take(&c, 1) % (sizeof(ports) / sizeof(ports[0]))];

			board_pio_write(b, port, size_of(op >> 6) > 4 ? 4 : size_of(op >> 6), (uint32_t)take(&c, 4));
			break;
		}
		case OP_IN:
			board_pio_read(b, ports[take(&c, 1) % (sizeof(ports) / sizeof(ports[0]))],
				       size_of(op >> 6) > 4 ? 4 : size_of(op >> 6));
			break;
		case OP_MMIO_W: {
			uint64_t at = BOARD_VIRTIO_MEM_BASE + dev * VIRTIO_PCI_MEM_SIZE + take(&c, 2) % VIRTIO_PCI_MEM_SIZE;

			board_mmio_write(b, at, size_of(op >> 6), take(&c, 8));
			break;
		}
		case OP_MMIO_R:
			board_mmio_read(b, BOARD_VIRTIO_MEM_BASE + dev * VIRTIO_PCI_MEM_SIZE +
					   take(&c, 2) % VIRTIO_PCI_MEM_SIZE, size_of(op >> 6));
			break;
		case OP_RAM: {
			/* Rings and buffers: 8 bytes anywhere in the first 256 KiB, where seeds put them. */
			uint32_t at = (uint32_t)take(&c, 3) % (256u << 10);
			uint64_t v = take(&c, 8);

			memcpy(mem.host + at, &v, 8);
			break;
		}
		case OP_DONE: {
			uint8_t bytes[64];
			unsigned q = (unsigned)take(&c, 1) % 3, len = (unsigned)take(&c, 1) % sizeof(bytes);
			uint16_t head = (uint16_t)take(&c, 2);

			for (unsigned i = 0; i < len; i++)
				bytes[i] = (uint8_t)take(&c, 1);
			board_virtio_complete(b, dev, q, head, bytes, len);
			break;
		}
		case OP_TIME:
			b->now += take(&c, 3) * 1000;
			if (b->now >= b->deadline)
				board_service(b);
			break;
		case OP_RUN:
			run_oldest();
			break;
		case OP_CFG:
			/* The legacy interface of virtio device dev: BAR0 registers and device config. */
			board_pio_write(b, (uint16_t)(BOARD_VIRTIO_IO_BASE + dev * VIRTIO_PCI_IO_SIZE +
						      take(&c, 1) % VIRTIO_PCI_IO_SIZE),
					size_of(op >> 6) > 4 ? 4 : size_of(op >> 6), (uint32_t)take(&c, 4));
			break;
		}
	}
	while (n_jobs)
		free_job(jobs[--n_jobs]);
	board_free(b);
	free(b);
	return 0;
}

/* ---- seeds: a legacy driver bringing up virtio device dev's queue 0 and posting one chain ---- */

struct seed {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct seed *s, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && s->n < s->cap; i++)
		s->p[s->n++] = (uint8_t)(v >> (8 * i));
}

static void legacy(struct seed *s, unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
	put(s, (uint64_t)OP_CFG | (uint64_t)dev << 4 | (uint64_t)(size == 1 ? 0 : size == 2 ? 1 : 2) << 6, 1);
	put(s, reg, 1);
	put(s, v, 4);
}

static void ram(struct seed *s, uint32_t at, uint64_t v)
{
	put(s, OP_RAM, 1);
	put(s, at, 3);
	put(s, v, 8);
}

uint8_t *fuzz_seed(unsigned i, size_t *len)
{
	struct seed s = { malloc(4096), 0, 4096 };
	unsigned dev = i % NDEV, qsize = dev == 0 || dev == 2 ? 64 : dev == 1 ? 128 : 256;
	uint32_t ring = 0x10000, avail = ring + 16 * qsize, buf = 0x30000;

	if (!s.p)
		return NULL;
	legacy(&s, dev, VIRTIO_PCI_STATUS, 1, 3);	/* ACKNOWLEDGE | DRIVER */
	legacy(&s, dev, VIRTIO_PCI_QUEUE_SEL, 2, dev == 3);	/* net: its transmit queue */
	legacy(&s, dev, VIRTIO_PCI_QUEUE_PFN, 4, ring >> 12);
	legacy(&s, dev, VIRTIO_PCI_STATUS, 1, 7);	/* DRIVER_OK */
	/* Descriptor 0: a header-sized readable buffer chained to a writable one. */
	ram(&s, ring, buf);
	ram(&s, ring + 8, 16 | (uint64_t)(1 | (dev == 0 ? 2 : 0)) << 32 | 1ull << 48);
	ram(&s, ring + 16, buf + 0x1000);
	ram(&s, ring + 24, 512 | 2ull << 32);
	ram(&s, avail, 1ull << 16);	/* flags 0, idx 1, ring[0] = 0 */
	legacy(&s, dev, VIRTIO_PCI_QUEUE_NOTIFY, 2, dev == 3);
	/* The backend's answer if there is one, a completion for head 0, time passing, the ISR read. */
	put(&s, OP_RUN, 1);
	put(&s, OP_DONE | dev << 4, 1);
	put(&s, 0, 1);
	put(&s, 8, 1);
	put(&s, 0, 2);
	put(&s, 0x0123456789abcdefull, 8);
	put(&s, OP_TIME, 1);
	put(&s, 20000, 3);
	legacy(&s, dev, VIRTIO_PCI_ISR, 1, 0);
	*len = s.n;
	return s.p;
}
