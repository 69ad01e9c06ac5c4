/* vmm-test: args="--console" disk=8192 output="hostile: console works after reset" stderr="virtio-console: descriptor chain carries more bytes" */
/*
 * A hostile driver, for the two ways a guest could once make the VMM misbehave:
 * a console transmit chain through an indirect table of 1024 descriptors that
 * each cover all of RAM (256 GiB of output in one exit at 256 MiB), and a
 * block device reset while its worker is busy, after which the driver posts
 * the same chain head again. The first must be refused at once with
 * NEEDS_RESET; the second must never hand the new request the old one's result.
 */
#include "virtio.h"

#define VQ_F_INDIRECT	4
#define F_INDIRECT	(1u << 28)
#define T_IN		0
#define T_GET_ID	8
#define ROUNDS		8

static struct vdev con, blk;
static struct vring rx, tx, ring;
static struct vq_desc table[1024] __attribute__((aligned(16)));

/* Guest RAM in bytes, from the multiboot memory fields (mem_upper is KiB above 1 MiB). */
static uint64_t ram_bytes(void)
{
	return mb_info && (mb_info[0] & 1) ? ((uint64_t)mb_info[2] + 1024) * 1024 : 1u << 20;
}

/* Set up the console's transmit queue (1) by hand, after the library's queue 0. */
static void tx_setup(void)
{
	volatile uint8_t *c = con.common;

	memset(&tx, 0, sizeof(tx));
	*(volatile uint16_t *)(c + 0x16) = 1;
	*(volatile uint16_t *)(c + 0x18) = VQ_SIZE;
	*(volatile uint32_t *)(c + 0x20) = (uint32_t)(uintptr_t)tx.d;
	*(volatile uint32_t *)(c + 0x28) = (uint32_t)(uintptr_t)&tx.avail_flags;
	*(volatile uint32_t *)(c + 0x30) = (uint32_t)(uintptr_t)&tx.used_flags;
	*(volatile uint16_t *)(c + 0x1c) = 1;
}

static void tx_kick(void)
{
	*(volatile uint16_t *)(con.notify + 4) = 1;	/* queue 1's notify offset */
}

static void console_bomb(void)
{
	static const char msg[] = "hostile: console works after reset\n";
	uint64_t ram = ram_bytes();
	bool flagged = false;

	report(vdev_setup(&con, &rx, F_INDIRECT), "console set up with INDIRECT_DESC");
	tx_setup();
	for (unsigned i = 0; i < 1024; i++)
		table[i] = (struct vq_desc){ 0, (uint32_t)(ram > 0xffffffffu ? 0xffffffffu : ram),
					     (uint16_t)(i < 1023 ? VQ_F_NEXT : 0), (uint16_t)(i + 1) };
	vring_post(&tx, 0, (uintptr_t)table, sizeof(table), VQ_F_INDIRECT, 0);
	vring_publish(&tx, 0);
	tx_kick();
	/* The refusal is a config interrupt; a stalled VMM would not get here for hours. */
	for (int i = 0; i < 50 && !flagged; i++) {
		flagged = vdev_status(&con) & VIRTIO_ST_NEEDS_RESET;
		if (!flagged)
			wait_for_interrupt();
	}
	report(flagged, "1024 indirect descriptors over all %lu MiB of RAM: refused with NEEDS_RESET", ram >> 20);
	report(tx.used_idx == 0, "the refused chain was not used");
	/* Reset clears it; the device works again. */
	report(vdev_setup(&con, &rx, 0) && !(vdev_status(&con) & VIRTIO_ST_NEEDS_RESET), "reset clears NEEDS_RESET");
	tx_setup();
	vring_post(&tx, 0, (uintptr_t)msg, sizeof(msg) - 1, 0, 0);
	vring_publish(&tx, 0);
	tx_kick();
	report(vring_wait(&con, &tx, 1), "a sane chain after the reset is transmitted");
}

static struct { uint32_t type, reserved; uint64_t sector; } hdr[VQ_SIZE];
static uint8_t status[VQ_SIZE], id[20], sector0[4096];
static uint8_t big[4u << 20];

/* A request at head h: header, data and status in descriptors h, h+1 and h+2. */
static void post(unsigned h, uint32_t type, void *buf, uint32_t len)
{
	hdr[h].type = type;
	hdr[h].sector = 0;
	status[h] = 0xff;
	vring_post(&ring, h, (uintptr_t)&hdr[h], sizeof(hdr[h]), VQ_F_NEXT, (uint16_t)(h + 1));
	vring_post(&ring, h + 1, (uintptr_t)buf, len, VQ_F_NEXT | VQ_F_WRITE, (uint16_t)(h + 2));
	vring_post(&ring, h + 2, (uintptr_t)&status[h], 1, VQ_F_WRITE, 0);
	vring_publish(&ring, h);
}

/*
 * Keep the worker busy with a 4 MiB read, queue GET_ID behind them at head
 * 0, and reset at once. After setting up again, a READ at head 0 must get
 * sector data and its own length; the old GET_ID's "vmm-blk" would say the
 * device matched the old request to the new one by its head.
 */
static void blk_reset_race(void)
{
	unsigned good = 0, extra = 0;

	for (unsigned round = 0; round < ROUNDS; round++) {
		vdev_setup(&blk, &ring, 0);
		post(3, T_IN, big, sizeof(big));
		post(0, T_GET_ID, id, sizeof(id));
		vdev_kick(&blk);
		for (volatile unsigned spin = 0; spin < round * 200; spin++)
			;
		vdev_reset(&blk);
		vdev_setup(&blk, &ring, 0);
		memset(sector0, 0, sizeof(sector0));
		post(0, T_IN, sector0, sizeof(sector0));
		vdev_kick(&blk);
		if (vring_wait(&blk, &ring, 1) && status[0] == 0 && ring.used_ring[0].id == 0 &&
		    ring.used_ring[0].len == sizeof(sector0) + 1 && disk_is_pattern(sector0, sizeof(sector0)))
			good++;
		else
			report_info("round %u: status %u, used len %u, data %s", round, status[0], ring.used_ring[0].len,
				    !memcmp(sector0, "vmm-blk", 7) ? "'vmm-blk' (the old GET_ID's)" : "not the sector's");
		/* Exits give a stale completion every chance to arrive; none may. */
		for (int i = 0; i < 2000; i++)
			(void)vdev_status(&blk);
		extra += ring.used_idx != 1;
	}
	report(good == ROUNDS, "reset with the worker busy, same head posted again: %u of %u reads got their own data",
	       good, ROUNDS);
	report(extra == 0, "no old request completed after a reset (%u rounds saw one)", extra);
	report(!(vdev_status(&blk) & VIRTIO_ST_NEEDS_RESET), "the block device is healthy");
}

int main(void)
{
	if (!report(vdev_find(&con, 0x1003), "virtio-console found at 00:%02x.0", con.slot))
		report_summary();
	console_bomb();
	if (!report(vdev_find(&blk, 0x1001), "virtio-blk found at 00:%02x.0", blk.slot))
		report_summary();
	blk_reset_race();
	report_summary();
}
