/*
 * Fuzz target for the split virtqueue: any bytes, taken as a queue's layout
 * plus the guest RAM holding its rings, must give chains inside RAM or a
 * refusal, never a crash, a hang or an access outside RAM.
 *
 * Input: u16 size, u8 flags (bit 0 event index, bit 1 indirect), u8 unused,
 * u32 desc, u32 avail, u32 used (guest physical), then RAM contents.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "le.h"
#include "virtio/virtq.h"

#define RAM_SIZE	(64u << 10)
#define HDR		16u

const char fuzz_name[] = "fuzz_virtq";

static uint8_t ram[RAM_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem m = { ram, RAM_SIZE };
	static struct virtq_chain chain;
	static uint8_t buf[8192];
	struct virtq q;
	const char *why;
	size_t n;

	if (size < HDR)
		return 0;
	n = size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + HDR, n);
	if (virtq_enable(&q, &m, (uint16_t)(data[0] | data[1] << 8), get_le32(data + 4), get_le32(data + 8),
			 get_le32(data + 12), data[2] & 1, data[2] & 2, 1u << 20) < 0)
		return 0;
	/* As a device would: take every chain, read it, fill it, return it; twice round the ring at most. */
	for (unsigned i = 0; i < 2u * q.size; i++) {
		size_t got, put;

		if (virtq_pop(&q, &m, &chain, &why) <= 0)
			break;
		got = virtq_chain_read(&m, &chain, 0, buf, sizeof(buf));
		if (got > chain.out_bytes)
			abort();
		put = virtq_chain_write(&m, &chain, 0, buf, chain.in_bytes < sizeof(buf) ? chain.in_bytes : sizeof(buf));
		virtq_push(&q, &m, chain.head, (uint32_t)put);
	}
	virtq_should_interrupt(&q, &m);
	virtq_set_notify(&q, &m, true);
	virtq_set_notify(&q, &m, false);
	return 0;
}

static void put_desc(uint8_t *ramimg, uint32_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = ramimg + table + 16 * i;

	put_le32(d, (uint32_t)addr);
	put_le32(d + 4, (uint32_t)(addr >> 32));
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

/*
 * Well-formed queues of 8 to 512 entries: each holds chains of one readable
 * and one writable buffer, and (with indirect descriptors) one chain through
 * an indirect table, as virtio-blk and virtio-net drivers post them.
 */
uint8_t *fuzz_seed(unsigned i, size_t *len)
{
	uint16_t qsize = (uint16_t)(8u << (2 * i));
	uint32_t desc = 0x1000, avail = 0x9000, used = 0xa000, bufs = 0xc000, ind = 0xb000;
	size_t ram_used = 0x10000;
	uint8_t *in = calloc(1, HDR + ram_used), *r;
	unsigned chains = qsize / 2 < 16 ? qsize / 2 : 16;

	if (!in)
		return NULL;
	r = in + HDR;
	put_le16(in, qsize);
	in[2] = (uint8_t)(i & 3);
	put_le32(in + 4, desc);
	put_le32(in + 8, avail);
	put_le32(in + 12, used);
	for (unsigned c = 0; c < chains; c++) {
		put_desc(r, desc, 2 * c, bufs + 0x100 * c, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(2 * c + 1));
		put_desc(r, desc, 2 * c + 1, bufs + 0x100 * c + 0x80, 0x80, VIRTQ_DESC_F_WRITE, 0);
		put_le16(r + avail + 4 + 2 * c, (uint16_t)(2 * c));
	}
	if (i & 2) {	/* the last chain goes through an indirect table instead */
		unsigned c = chains - 1;

		put_desc(r, desc, 2 * c, ind, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
		put_desc(r, ind, 0, bufs, 8, VIRTQ_DESC_F_NEXT, 1);
		put_desc(r, ind, 1, bufs + 8, 8, VIRTQ_DESC_F_NEXT, 2);
		put_desc(r, ind, 2, bufs + 0x40, 64, VIRTQ_DESC_F_WRITE, 0);
	}
	put_le16(r + avail + 2, (uint16_t)chains);
	*len = HDR + ram_used;
	return in;
}
