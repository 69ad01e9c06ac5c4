/* vmm-test: args="--rng" */
/*
 * A virtio driver of its own against virtio-rng: the modern interface
 * (capabilities, common config, notify), the legacy I/O interface, the
 * interrupt on the line config space names, and a hostile driver whose
 * wild descriptors the device must refuse with NEEDS_RESET.
 */
#include "guest.h"

#define QSZ		8
#define ST_ACK		1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8
#define ST_NEEDS_RESET	0x40
#define F_NEXT		1
#define F_WRITE		2

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One legacy-layout block: descriptors, available ring, used ring on the next page. */
static struct {
	struct desc d[QSZ];
	uint16_t avail_flags, avail_idx, avail_ring[QSZ], used_event;
	uint8_t pad[4096 - QSZ * 16 - 6 - 2 * QSZ];
	uint16_t used_flags, used_idx;
	struct { uint32_t id, len; } used_ring[QSZ];
	uint16_t avail_event;
} __attribute__((aligned(4096))) ring;

static uint8_t buf[4][256];
static volatile uint64_t irqs;
static unsigned irq_line, slot;
static volatile uint8_t *common, *isr, *notify;
static uint16_t iobase;

static uint32_t cfg_addr(unsigned reg)
{
	return 0x80000000u | slot << 11 | (reg & 0xfc);
}

static uint32_t cfg32(unsigned reg)
{
	outl(0xcf8, cfg_addr(reg));
	return inl(0xcfc);
}

static uint8_t cfg8(unsigned reg)
{
	outl(0xcf8, cfg_addr(reg));
	return inb(0xcfc + (reg & 3));
}

static void irq_handler(struct frame *f)
{
	(void)f;
	irqs++;
}

static void modern_irq(struct frame *f)
{
	irq_handler(f);
	(void)isr[0];	/* read-to-clear lowers the line */
	pic_eoi(irq_line);
}

static void legacy_irq(struct frame *f)
{
	irq_handler(f);
	(void)inb(iobase + 0x13);
	pic_eoi(irq_line);
}

static void reset_ring(void)
{
	memset(&ring, 0, sizeof(ring));
}

static void post(unsigned head, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	ring.d[head] = (struct desc){ addr, len, flags, next };
}

static void publish(unsigned head)
{
	ring.avail_ring[ring.avail_idx % QSZ] = (uint16_t)head;
	barrier();
	ring.avail_idx++;
	barrier();
}

/* Wait for the used index to reach want, with interrupts: the device must raise its line. */
static bool wait_used(uint16_t want)
{
	uint64_t before = irqs;

	for (int i = 0; i < 200 && *(volatile uint16_t *)&ring.used_idx != want; i++)
		wait_for_interrupt();
	/* Done before we slept: the line is still up (level), so the interrupt is waiting for sti. */
	if (irqs == before)
		wait_for_interrupt();
	return *(volatile uint16_t *)&ring.used_idx == want;
}

static bool random_looking(const uint8_t *b, unsigned n)
{
	unsigned zeros = 0;

	for (unsigned i = 0; i < n; i++)
		zeros += b[i] == 0;
	return zeros < n / 4;
}

static void find_device(void)
{
	for (slot = 1; slot < 32; slot++)
		if (cfg32(0) == 0x10051af4)
			return;
	slot = 0;
}

/* Walk the capability list for the virtio structures in BAR1. */
static void find_caps(void)
{
	uint32_t bar1 = cfg32(0x14) & ~0xfu;

	for (unsigned at = cfg8(0x34); at; at = cfg8(at + 1)) {
		uint8_t type = cfg8(at + 3);
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(bar1 + cfg32(at + 8));

		if (cfg8(at) != 0x09 || cfg8(at + 4) != 1)
			continue;
		if (type == 1)
			common = p;
		else if (type == 2)
			notify = p;
		else if (type == 3)
			isr = p;
	}
}

#define C32(off) (*(volatile uint32_t *)(common + (off)))
#define C16(off) (*(volatile uint16_t *)(common + (off)))
#define C8(off) (*(volatile uint8_t *)(common + (off)))

static bool modern_setup(void)
{
	C8(0x14) = 0;
	C8(0x14) = ST_ACK | ST_DRIVER;
	C32(0x00) = 1;
	if (!(C32(0x04) & 1))	/* VERSION_1 is bit 32 */
		return false;
	C32(0x08) = 0;
	C32(0x0c) = 0;
	C32(0x08) = 1;
	C32(0x0c) = 1;
	C8(0x14) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
	if (!(C8(0x14) & ST_FEATURES_OK))
		return false;
	C16(0x16) = 0;
	C16(0x18) = QSZ;
	reset_ring();
	C32(0x20) = (uint32_t)(uintptr_t)ring.d;
	C32(0x24) = 0;
	C32(0x28) = (uint32_t)(uintptr_t)&ring.avail_flags;
	C32(0x2c) = 0;
	C32(0x30) = (uint32_t)(uintptr_t)&ring.used_flags;
	C32(0x34) = 0;
	C16(0x1c) = 1;
	C8(0x14) = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
	return C16(0x1c) == 1;
}

static void modern_kick(void)
{
	*(volatile uint16_t *)(notify + 0) = 0;
}

static void test_modern(void)
{
	uint64_t before;

	report(modern_setup(), "modern setup: VERSION_1 offered, FEATURES_OK kept, queue 0 enabled");
	report(C16(0x12) == 1 && C16(0x10) == 0xffff, "one queue; MSI-X vector reads NO_VECTOR");
	idt_set_handler(IRQ_BASE + irq_line, modern_irq);
	pic_unmask(irq_line);
	before = irqs;
	post(0, (uintptr_t)buf[0], 64, F_WRITE, 0);
	post(1, (uintptr_t)buf[1], 32, F_WRITE, 0);
	publish(0);
	publish(1);
	modern_kick();
	report(wait_used(2), "two buffers came back (used idx %u)", ring.used_idx);
	report(ring.used_ring[0].id == 0 && ring.used_ring[0].len == 64 && ring.used_ring[1].len == 32,
	       "used entries name the chains and their lengths");
	report(random_looking(buf[0], 64) && memcmp(buf[0], buf[1], 32) != 0, "the bytes look random");
	report(irqs > before, "the device raised IRQ %u (%lu interrupts)", irq_line, (uint64_t)(irqs - before));
	printf("rng bytes: %02x%02x%02x%02x...\n", buf[0][0], buf[0][1], buf[0][2], buf[0][3]);
	pic_mask(irq_line);
}

/* A hostile driver: every trick must end in NEEDS_RESET, and a reset must bring the device back. */
static void hostile(const char *what, void (*setup)(void))
{
	bool ok = modern_setup();

	setup();
	modern_kick();
	report(ok && (C8(0x14) & ST_NEEDS_RESET), "%s: device refused it with NEEDS_RESET", what);
	C8(0x14) = 0;
	report(C8(0x14) == 0, "%s: reset clears NEEDS_RESET", what);
}

static void wild_address(void)
{
	post(0, 0x7fff0000000ull, 64, F_WRITE, 0);
	publish(0);
}

static void loop_chain(void)
{
	post(0, (uintptr_t)buf[0], 8, F_WRITE | F_NEXT, 1);
	post(1, (uintptr_t)buf[1], 8, F_WRITE | F_NEXT, 0);
	publish(0);
}

static void oversize(void)
{
	post(0, (uintptr_t)buf[0], 0xfffffff0u, F_WRITE, 0);
	publish(0);
}

static void bad_head(void)
{
	ring.avail_ring[0] = 200;
	ring.avail_idx = 1;
}

static void bad_ring(void)
{
	C8(0x14) = 0;
	C8(0x14) = ST_ACK | ST_DRIVER;
	C32(0x08) = 1;
	C32(0x0c) = 1;
	C8(0x14) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
	C16(0x16) = 0;
	C32(0x20) = 0xfffff000u;	/* descriptors outside RAM */
	C16(0x1c) = 1;
}

/* The legacy ring of the device's full queue size: one block, used ring on the next page. */
#define LQSZ 64
static struct {
	struct desc d[LQSZ];
	uint16_t avail_flags, avail_idx, avail_ring[LQSZ], used_event;
	uint8_t pad[4096 - LQSZ * 16 - 6 - 2 * LQSZ];
	uint16_t used_flags, used_idx;
	struct { uint32_t id, len; } used_ring[LQSZ];
} __attribute__((aligned(4096))) lring;

static void test_legacy(void)
{
	uint64_t before = irqs;
	uint16_t qsize;

	outb(iobase + 0x12, 0);
	outb(iobase + 0x12, ST_ACK | ST_DRIVER);
	report(inl(iobase + 0x00) == (1u << 28 | 1u << 29), "legacy: host features are the ring features (0x%x)",
	       inl(iobase + 0x00));
	outl(iobase + 0x04, 0);
	outw(iobase + 0x0e, 0);
	qsize = inw(iobase + 0x0c);
	report(qsize == LQSZ, "legacy: queue 0 has %u entries", qsize);
	memset(&lring, 0, sizeof(lring));
	outl(iobase + 0x08, (uint32_t)((uintptr_t)&lring >> 12));
	report(inl(iobase + 0x08) == (uint32_t)((uintptr_t)&lring >> 12), "legacy: queue PFN reads back");
	outb(iobase + 0x12, ST_ACK | ST_DRIVER | ST_DRIVER_OK);
	idt_set_handler(IRQ_BASE + irq_line, legacy_irq);
	pic_unmask(irq_line);
	memset(buf[2], 0, sizeof(buf[2]));
	lring.d[5] = (struct desc){ (uintptr_t)buf[2], 128, F_WRITE, 0 };
	lring.avail_ring[0] = 5;
	barrier();
	lring.avail_idx = 1;
	barrier();
	outw(iobase + 0x10, 0);
	for (int i = 0; i < 200 && *(volatile uint16_t *)&lring.used_idx != 1; i++)
		wait_for_interrupt();
	if (irqs == before)
		wait_for_interrupt();
	report(lring.used_idx == 1 && lring.used_ring[0].id == 5 && lring.used_ring[0].len == 128,
	       "legacy: the buffer came back full (used idx %u, len %u)", lring.used_idx, lring.used_ring[0].len);
	report(random_looking(buf[2], 128), "legacy: the bytes look random");
	report(irqs > before, "legacy: interrupt on IRQ %u, ISR read clears it", irq_line);
	pic_mask(irq_line);
	outb(iobase + 0x12, 0);
	report(inb(iobase + 0x12) == 0, "legacy: status 0 resets the device");
}

int main(void)
{
	uint64_t before;

	find_device();
	if (!report(slot != 0, "virtio-rng found at 00:%02x.0", slot))
		report_summary();
	report(cfg32(0x2c) == 0x00041af4, "subsystem: virtio type 4 (entropy)");
	report((cfg32(0x04) >> 16) & 0x10, "status lists capabilities");
	irq_line = cfg8(0x3c);
	report(cfg8(0x3d) == 1 && irq_line > 0 && irq_line < 16, "INTA# on IRQ %u", irq_line);
	report((inb(0x4d0 + (irq_line >= 8)) >> (irq_line & 7)) & 1, "IRQ %u is level-triggered in the ELCR", irq_line);
	iobase = (uint16_t)(cfg32(0x10) & ~3u);
	report(cfg32(0x10) & 1, "BAR0 is I/O at 0x%x", iobase);
	find_caps();
	report(common && notify && isr, "common, notify and ISR capabilities point into BAR1");
	if (!common || !notify || !isr)
		report_summary();
	test_modern();
	hostile("descriptor outside RAM", wild_address);
	hostile("descriptor loop", loop_chain);
	hostile("4 GiB buffer", oversize);
	hostile("head index out of range", bad_head);
	hostile("rings outside RAM", bad_ring);
	before = irqs;
	test_modern();
	report(irqs > before, "after all that the device works again");
	test_legacy();
	report_summary();
}
