/* The PC board: the port table, IRQ wiring and timer deadline of the legacy devices. */
#include "board.h"
#include "netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct pio_region {
	uint16_t base, len;
	const char *name;
	bool byte_wide;		/* wider accesses are split into byte accesses, as the ISA bus does */
	bool timer;		/* an access may move the timer deadline */
	uint32_t (*read)(struct board *b, uint16_t port, unsigned size);
	void (*write)(struct board *b, uint16_t port, unsigned size, uint32_t val);
};

static uint32_t pic_pio_read(struct board *b, uint16_t port, unsigned size)
{
	(void)size;
	return pic_read(&b->pic, port >= 0xa0, port & 1);
}

static void pic_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	pic_write(&b->pic, port >= 0xa0, port & 1, (uint8_t)val);
}

static uint32_t elcr_pio_read(struct board *b, uint16_t port, unsigned size)
{
	(void)size;
	return pic_elcr_read(&b->pic, port & 1);
}

static void elcr_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	pic_elcr_write(&b->pic, port & 1, (uint8_t)val);
}

static uint32_t pit_pio_read(struct board *b, uint16_t port, unsigned size)
{
	(void)size;
	return pit_read(&b->pit, port & 3, b->now);
}

static void pit_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	pit_write(&b->pit, port & 3, (uint8_t)val, b->now);
}

static uint32_t rtc_pio_read(struct board *b, uint16_t port, unsigned size)
{
	(void)size;
	return rtc_read(&b->rtc, port & 1, b->now);
}

static void rtc_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	rtc_write(&b->rtc, port & 1, (uint8_t)val, b->now);
}

static uint32_t com1_pio_read(struct board *b, uint16_t port, unsigned size)
{
	(void)size;
	return uart_read(&b->com1, port - BOARD_COM1);
}

static void com1_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	uart_write(&b->com1, port - BOARD_COM1, (uint8_t)val);
}

static uint32_t pci_pio_read(struct board *b, uint16_t port, unsigned size)
{
	/* 0xcf9 as a byte is the reset control register, not part of CONFIG_ADDRESS. */
	if (port == 0xcf9 && size == 1)
		return chipset_read(&b->chipset, port, size);
	return pci_io_read(&b->pci, port - 0xcf8, size);
}

static void pci_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	if (port == 0xcf9 && size == 1)
		chipset_write(&b->chipset, port, size, val);
	else
		pci_io_write(&b->pci, port - 0xcf8, size, val);
}

static uint32_t chipset_pio_read(struct board *b, uint16_t port, unsigned size)
{
	return chipset_read(&b->chipset, port, size);
}

static void chipset_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	chipset_write(&b->chipset, port, size, val);
}

/* The board. Its order is the device order replay depends on: append, never reorder. */
static const struct pio_region board_pio[] = {
	{ 0x0020, 2, "pic-master", true, false, pic_pio_read, pic_pio_write },
	{ 0x0040, 4, "pit", true, true, pit_pio_read, pit_pio_write },
	{ 0x0060, 1, "i8042-data", true, false, chipset_pio_read, chipset_pio_write },
	{ 0x0061, 1, "port61", true, true, chipset_pio_read, chipset_pio_write },
	{ 0x0064, 1, "i8042-cmd", true, false, chipset_pio_read, chipset_pio_write },
	{ 0x0070, 2, "rtc", true, true, rtc_pio_read, rtc_pio_write },
	{ 0x0080, 1, "post", true, false, chipset_pio_read, chipset_pio_write },
	{ 0x0092, 1, "port92", true, false, chipset_pio_read, chipset_pio_write },
	{ 0x00a0, 2, "pic-slave", true, false, pic_pio_read, pic_pio_write },
	{ 0x00f4, 1, "debug-exit", false, false, chipset_pio_read, chipset_pio_write },
	{ 0x03f8, 8, "com1", true, false, com1_pio_read, com1_pio_write },
	{ 0x04d0, 2, "elcr", true, false, elcr_pio_read, elcr_pio_write },
	{ 0x0cf8, 8, "pci", false, false, pci_pio_read, pci_pio_write },
};
#define BOARD_PIO_COUNT (sizeof(board_pio) / sizeof(board_pio[0]))

static void set_irq_pit(void *opaque, int level)
{
	struct board *b = opaque;

	pic_set_irq(&b->pic, BOARD_IRQ_PIT, level);
}

static void set_irq_rtc(void *opaque, int level)
{
	struct board *b = opaque;

	pic_set_irq(&b->pic, BOARD_IRQ_RTC, level);
}

static void set_irq_com1(void *opaque, int level)
{
	struct board *b = opaque;

	pic_set_irq(&b->pic, BOARD_IRQ_COM1, level);
}

static void com1_tx(void *opaque, uint8_t byte)
{
	struct board *b = opaque;

	console_putc(b->console, byte);
}

static const struct uart_ops com1_ops = { .set_irq = set_irq_com1, .tx = com1_tx };

static void chipset_event(void *opaque, enum chipset_event ev, uint32_t code)
{
	struct board *b = opaque;

	if (b->stop != BOARD_RUNNING)
		return;		/* the first stop request wins */
	b->stop = ev == CHIPSET_DEBUG_EXIT ? BOARD_STOP_DEBUG_EXIT : BOARD_STOP_RESET;
	b->exit_code = code;
}

static void chipset_gate2(void *opaque, bool level)
{
	struct board *b = opaque;

	pit_set_gate(&b->pit, 2, level, b->now);
}

static bool chipset_out2(void *opaque)
{
	struct board *b = opaque;

	return pit_out(&b->pit, 2, b->now);
}

static const struct chipset_ops chipset_ops = {
	.event = chipset_event, .set_gate2 = chipset_gate2, .get_out2 = chipset_out2,
};

static void update_deadline(struct board *b)
{
	uint64_t pit = pit_next_event(&b->pit), rtc = rtc_next_event(&b->rtc, b->now);

	b->deadline = pit < rtc ? pit : rtc;
}

void board_init(struct board *b, uint64_t mem_size, int64_t rtc_epoch, struct console *con)
{
	memset(b, 0, sizeof(*b));
	b->console = con;
	pic_init(&b->pic);
	pit_init(&b->pit, set_irq_pit, b);
	rtc_init(&b->rtc, rtc_epoch, mem_size, set_irq_rtc, b);
	uart_init(&b->com1, &com1_ops, b);
	chipset_init(&b->chipset, &chipset_ops, b);
	pci_bus_init(&b->pci);
	pci_host_bridge_init(&b->host_bridge);
	pci_bus_add(&b->pci, 0, &b->host_bridge);
	b->hvc = -1;
	for (unsigned i = 0; i < BOARD_PIO_COUNT; i++)
		for (unsigned p = board_pio[i].base; p < board_pio[i].base + board_pio[i].len; p++)
			b->pio_map[p] = (uint8_t)(i + 1);
	update_deadline(b);
}

const char *board_pio_name(const struct board *b, uint16_t port)
{
	unsigned idx = b->pio_map[port];

	return idx ? board_pio[idx - 1].name : NULL;
}

static void unclaimed(struct board *b, uint16_t port, unsigned size, bool write, uint32_t val)
{
	b->unclaimed_pio++;
	if (!b->verbose || (b->pio_reported[port / 8] & (1u << (port % 8))))
		return;
	b->pio_reported[port / 8] |= (uint8_t)(1u << (port % 8));
	if (write)
		fprintf(stderr, "vmm: unclaimed port 0x%04x: %u-byte write of 0x%x ignored (reported once)\n",
			port, size, val);
	else
		fprintf(stderr, "vmm: unclaimed port 0x%04x: %u-byte read returns all-ones (reported once)\n",
			port, size);
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* PCI interrupt lines for virtio devices, one each, as a BIOS would route them; level-triggered. */
static const uint8_t virtio_irqs[BOARD_VIRTIO_MAX] = { 10, 11, 5, 9, 3, 7, 14, 15 };

static void virtio_set_irq(void *ctx, int level)
{
	struct board_virtio *v = ctx;
	struct board *b = v->pci.pci.opaque;

	pic_set_irq(&b->pic, v->irq, level);
}

static void hvc_out(void *ctx, const uint8_t *bytes, size_t n)
{
	struct board *b = ctx;

	console_write(b->console, bytes, n);
}

static void net_tx(void *ctx, const uint8_t *frame, size_t len)
{
	netdev_send(ctx, frame, len);
}

static void backend_submit(void *ctx, struct worker_job *job)
{
	struct board *b = ctx;

	worker_submit(&b->worker, job);
}

static void backend_cancel(void *ctx, const void *owner)
{
	struct board *b = ctx;

	worker_cancel(&b->worker, owner);
}

static int open_disk(struct virtio_spec *spec, int *fdp, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(spec->path, (spec->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "disk '%s': %s", spec->path, strerror(errno));
		return -errno;
	}
	/* Two writers on one image lose data: refuse the second, as QEMU does. */
	if (flock(fd, (spec->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int e = errno;

		snprintf(err, errlen, "disk '%s' is in use by another process (%s)", spec->path, strerror(e));
		close(fd);
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < VIRTIO_BLK_SECTOR) {
		snprintf(err, errlen, "disk '%s': not a raw image of at least 512 bytes", spec->path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size % VIRTIO_BLK_SECTOR)
		fprintf(stderr, "vmm: disk '%s': the last %lld bytes (less than a sector) are not visible\n",
			spec->path, (long long)(st.st_size % VIRTIO_BLK_SECTOR));
	spec->sectors = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR;
	*fdp = fd;
	return 0;
}

int board_add_virtio(struct board *b, const struct guest_mem *mem, const struct virtio_spec *spec_in, char *err,
		     size_t errlen)
{
	struct virtio_spec spec = *spec_in;
	unsigned i = b->n_virtio;
	struct board_virtio *v;
	const struct virtio_backend *backend = b->replay ? NULL : &b->backend;
	int fd = -1, r;

	if (i >= BOARD_VIRTIO_MAX) {
		snprintf(err, errlen, "too many virtio devices (at most %d)", BOARD_VIRTIO_MAX);
		return -ENOSPC;
	}
	if (strcmp(spec.kind, "rng") != 0 && strcmp(spec.kind, "blk") != 0 && strcmp(spec.kind, "console") != 0 &&
	    strcmp(spec.kind, "net") != 0) {
		snprintf(err, errlen, "unknown virtio device '%s'", spec.kind);
		return -EINVAL;
	}
	if (!strcmp(spec.kind, "blk") && !b->replay && (r = open_disk(&spec, &fd, err, errlen)) < 0)
		return r;
	if (!(v = calloc(1, sizeof(*v)))) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!strcmp(spec.kind, "net") && !b->replay) {
		if ((r = netdev_open(&v->nd, spec.net, err, errlen)) < 0) {
			free(v);
			return r;
		}
		b->netdevs++;
	}
	b->mem = mem;
	b->backend = (struct virtio_backend){ backend_submit, backend_cancel, b };
	v->irq = virtio_irqs[i];
	if (!strcmp(spec.kind, "console")) {
		if (b->hvc >= 0) {
			free(v);
			snprintf(err, errlen, "one virtio console at most");
			return -EINVAL;
		}
		v->name = "virtio-console";
		virtio_console_init(&v->u.con, mem, hvc_out, b, virtio_set_irq, v);
		v->vd = &v->u.con.vd;
		b->hvc = (int)i;
	} else if (!strcmp(spec.kind, "rng")) {
		v->name = "virtio-rng";
		virtio_rng_init(&v->u.rng, mem, backend, virtio_set_irq, v);
		v->vd = &v->u.rng.vd;
	} else if (!strcmp(spec.kind, "net")) {
		v->name = "virtio-net";
		virtio_net_init(&v->u.net, mem, spec.mac, v->nd ? net_tx : NULL, v->nd, virtio_set_irq, v);
		v->vd = &v->u.net.vd;
	} else {
		v->name = "virtio-blk";
		virtio_blk_init(&v->u.blk, mem, backend, fd, spec.sectors, spec.ro, virtio_set_irq, v);
		v->vd = &v->u.blk.vd;
	}
	virtio_pci_init(&v->pci, v->vd, (uint16_t)(BOARD_VIRTIO_IO_BASE + i * VIRTIO_PCI_IO_SIZE),
			BOARD_VIRTIO_MEM_BASE + i * VIRTIO_PCI_MEM_SIZE, v->irq);
	v->pci.pci.opaque = b;
	/* Level-triggered in the ELCR, as firmware leaves PCI interrupts. */
	pic_elcr_write(&b->pic, v->irq >= 8, (uint8_t)(pic_elcr_read(&b->pic, v->irq >= 8) | 1u << (v->irq & 7)));
	pci_bus_add(&b->pci, 1 + i, &v->pci.pci);
	b->virtio[b->n_virtio++] = v;
	return 0;
}

int board_start_backends(struct board *b, void (*wake)(void *ctx), void *ctx)
{
	int r;

	if (!b->n_virtio || b->replay)
		return 0;
	if ((r = worker_start(&b->worker, wake, ctx)) < 0)
		return r;
	for (unsigned i = 0; i < b->n_virtio; i++)
		if (b->virtio[i]->nd && (r = netdev_start(b->virtio[i]->nd, wake, ctx)) < 0)
			return r;
	return 0;
}

bool board_net_waiting(struct board *b)
{
	const uint8_t *frame;

	for (unsigned i = 0; i < b->n_virtio && b->netdevs; i++)
		if (b->virtio[i]->nd && netdev_peek(b->virtio[i]->nd, &frame))
			return true;
	return false;
}

int board_net_receive(struct board *b, int (*deliver)(void *ctx, unsigned dev, uint16_t head,
						       const uint8_t *data, uint32_t len), void *ctx)
{
	static uint8_t pkt[VIRTIO_NET_HDR_V1 + VIRTIO_NET_FRAME_MAX];	/* the vCPU thread's alone */

	for (unsigned i = 0; i < b->n_virtio && b->netdevs; i++) {
		struct board_virtio *v = b->virtio[i];
		const uint8_t *frame;
		uint32_t room, len;
		uint16_t head;
		size_t n;
		int r;

		if (!v->nd)
			continue;
		while ((n = netdev_peek(v->nd, &frame)) && virtio_net_rx_room(&v->u.net, &head, &room)) {
			len = virtio_net_rx_packet(&v->u.net, frame, n, pkt, room < sizeof(pkt) ? room : sizeof(pkt));
			netdev_pop(v->nd);
			if (!len) {
				v->u.net.rx_dropped++;
				continue;
			}
			v->u.net.rx_frames++;
			if ((r = deliver(ctx, i, head, pkt, len)) < 0)
				return r;
		}
	}
	return 0;
}

int board_virtio_complete(struct board *b, unsigned dev, unsigned queue, uint16_t head, const uint8_t *data,
			  uint32_t len)
{
	struct virtio_dev *vd;

	if (dev >= b->n_virtio)
		return -EINVAL;
	vd = b->virtio[dev]->vd;
	return vd->ops->complete ? vd->ops->complete(vd, queue, head, data, len) : -EINVAL;
}

void board_describe(const struct board *b, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "pic,pit,i8042,port61,rtc,post,port92,debug-exit,com1,elcr,pci;1");

	for (unsigned i = 0; i < b->n_virtio && len < n; i++) {
		const struct board_virtio *v = b->virtio[i];

		if (v->vd->ops->type == VIRTIO_ID_BLOCK)
			len += (size_t)snprintf(out + len, n - len, ";%s=%llu%s", v->name,
						(unsigned long long)v->u.blk.sectors, v->u.blk.ro ? ",ro" : "");
		else if (v->vd->ops->type == VIRTIO_ID_NET)
			len += (size_t)snprintf(out + len, n - len, ";%s=%02x:%02x:%02x:%02x:%02x:%02x", v->name,
						v->u.net.mac[0], v->u.net.mac[1], v->u.net.mac[2], v->u.net.mac[3],
						v->u.net.mac[4], v->u.net.mac[5]);
		else
			len += (size_t)snprintf(out + len, n - len, ";%s", v->name);
	}
}

void board_free(struct board *b)
{
	worker_stop(&b->worker);
	for (unsigned i = 0; i < b->n_virtio; i++) {
		if (b->virtio[i]->vd->ops->type == VIRTIO_ID_BLOCK)
			virtio_blk_free(&b->virtio[i]->u.blk);
		else if (b->virtio[i]->vd->ops->type == VIRTIO_ID_CONSOLE)
			virtio_console_free(&b->virtio[i]->u.con);
		else if (b->virtio[i]->vd->ops->type == VIRTIO_ID_NET)
			virtio_net_free(&b->virtio[i]->u.net);
		else
			virtio_rng_free(&b->virtio[i]->u.rng);
		netdev_close(b->virtio[i]->nd);
		free(b->virtio[i]);
		b->virtio[i] = NULL;
	}
	b->n_virtio = 0;
	b->netdevs = 0;
}

static bool virtio_pio(struct board *b, uint16_t port, unsigned size, bool write, uint32_t *val)
{
	uint16_t off;

	for (unsigned i = 0; i < b->n_virtio; i++) {
		struct virtio_pci *vp = &b->virtio[i]->pci;

		if (!virtio_pci_io_claims(vp, port, &off))
			continue;
		if (write)
			virtio_pci_io_write(vp, off, size, *val);
		else
			*val = virtio_pci_io_read(vp, off, size);
		return true;
	}
	return false;
}

uint32_t board_pio_read(struct board *b, uint16_t port, unsigned size)
{
	unsigned idx = b->pio_map[port];
	const struct pio_region *r;
	uint32_t v = 0;

	if (!idx) {
		if (virtio_pio(b, port, size, false, &v))
			return v & ones(size);
		unclaimed(b, port, size, false, 0);
		return ones(size);
	}
	r = &board_pio[idx - 1];
	if (!r->byte_wide || size == 1) {
		v = r->read(b, port, size);
	} else {
		for (unsigned i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);

			v |= (b->pio_map[p] == idx ? r->read(b, p, 1) & 0xff : 0xff) << (8 * i);
		}
	}
	if (r->timer)
		update_deadline(b);
	return v & ones(size);
}

void board_pio_write(struct board *b, uint16_t port, unsigned size, uint32_t val)
{
	unsigned idx = b->pio_map[port];
	const struct pio_region *r;

	if (!idx) {
		if (!virtio_pio(b, port, size, true, &val))
			unclaimed(b, port, size, true, val);
		return;
	}
	r = &board_pio[idx - 1];
	if (!r->byte_wide || size == 1) {
		r->write(b, port, size, val & ones(size));
	} else {
		for (unsigned i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);

			if (b->pio_map[p] == idx)
				r->write(b, p, 1, (val >> (8 * i)) & 0xff);
		}
	}
	if (r->timer)
		update_deadline(b);
}

static struct virtio_pci *virtio_mmio(struct board *b, uint64_t addr, uint64_t *off)
{
	for (unsigned i = 0; i < b->n_virtio; i++)
		if (virtio_pci_mem_claims(&b->virtio[i]->pci, addr, off))
			return &b->virtio[i]->pci;
	return NULL;
}

uint64_t board_mmio_read(struct board *b, uint64_t addr, unsigned size)
{
	struct virtio_pci *vp;
	uint64_t off;

	if ((vp = virtio_mmio(b, addr, &off)))
		return virtio_pci_mem_read(vp, off, size);
	b->unclaimed_mmio++;
	if (b->verbose && b->unclaimed_mmio == 1)
		fprintf(stderr, "vmm: unclaimed MMIO read at 0x%llx returns all-ones (first of its kind)\n",
			(unsigned long long)addr);
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

void board_mmio_write(struct board *b, uint64_t addr, unsigned size, uint64_t val)
{
	struct virtio_pci *vp;
	uint64_t off;

	if ((vp = virtio_mmio(b, addr, &off))) {
		virtio_pci_mem_write(vp, off, size, val);
		return;
	}
	b->unclaimed_mmio++;
	if (b->verbose && b->unclaimed_mmio == 1)
		fprintf(stderr, "vmm: unclaimed MMIO write of 0x%llx at 0x%llx ignored (first of its kind)\n",
			(unsigned long long)val, (unsigned long long)addr);
}

void board_service(struct board *b)
{
	pit_service(&b->pit, b->now);
	rtc_service(&b->rtc, b->now);
	update_deadline(b);
}
