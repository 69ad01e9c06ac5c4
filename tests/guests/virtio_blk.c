/* vmm-test: disk=2048 disk-check="3:sector 3, written by the guest" */
/*
 * virtio-blk over a 1 MiB image that the runner fills with the 16-byte line
 * "vmm-disk-patter\n": identify, read, write and read back, flush, and the
 * requests a device must fail (past the end, a bad type) without harm. The
 * runner then finds sector 3 in the image as the guest wrote it.
 */
#include "virtio.h"

#define T_IN		0
#define T_OUT		1
#define T_FLUSH		4
#define T_GET_ID	8

static struct vdev dev;
static struct vring ring;
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static uint8_t data[4096], status;
static uint16_t used;

/* One request: header, optional data (device-writable for reads), status. */
static uint8_t request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool to_device)
{
	hdr.type = type;
	hdr.sector = sector;
	status = 0xff;
	vring_post(&ring, 0, (uintptr_t)&hdr, sizeof(hdr), VQ_F_NEXT, 1);
	if (len)
		vring_post(&ring, 1, (uintptr_t)buf, len, (uint16_t)(VQ_F_NEXT | (to_device ? 0 : VQ_F_WRITE)), 2);
	else
		ring.d[0].next = 2;
	vring_post(&ring, 2, (uintptr_t)&status, 1, VQ_F_WRITE, 0);
	vring_publish(&ring, 0);
	vdev_notify(&dev, &ring);
	if (!vring_wait(&dev, &ring, ++used))
		return 0xfe;
	return status;
}

int main(void)
{
	volatile uint8_t *cfg;
	uint64_t capacity;
	static const char mine[] = "sector 3, written by the guest";

	if (!report(vdev_find(&dev, 0x1001), "virtio-blk found at 00:%02x.0", dev.slot) || !dev.device)
		report_summary();
	cfg = dev.device;
	capacity = *(volatile uint32_t *)cfg | (uint64_t)*(volatile uint32_t *)(cfg + 4) << 32;
	report(capacity == 2048, "capacity: %lu sectors", capacity);
	report(*(volatile uint32_t *)(cfg + 20) == 512, "block size 512");
	report(vdev_setup(&dev, &ring, 1u << 29 | 1u << 9 | 1u << 6), "setup with EVENT_IDX, FLUSH and BLK_SIZE");

	memset(data, 0, sizeof(data));
	report(request(T_GET_ID, 0, data, 20, false) == 0 && !memcmp(data, "vmm-blk", 7), "get-id: '%s'", (char *)data);
	memset(data, 0, sizeof(data));
	report(request(T_IN, 0, data, 4096, false) == 0 && disk_is_pattern(data, 4096), "read 8 sectors of the image");
	report(ring.used_ring[(used - 1) % VQ_SIZE].len == 4097, "used length counts data and status (%u)",
	       ring.used_ring[(used - 1) % VQ_SIZE].len);
	memset(data, 0, 512);
	memcpy(data, mine, sizeof(mine));
	report(request(T_OUT, 3, data, 512, true) == 0, "write sector 3");
	memset(data, 0, sizeof(data));
	report(request(T_IN, 2, data, 1536, false) == 0 && disk_is_pattern(data, 512) && !memcmp(data + 512, mine, sizeof(mine)) &&
	       disk_is_pattern(data + 1024, 512), "read back sectors 2-4: only sector 3 changed");
	report(request(T_FLUSH, 0, NULL, 0, false) == 0, "flush");
	report(request(T_IN, 2047, data, 512, false) == 0 && disk_is_pattern(data, 512), "read the last sector");
	report(request(T_IN, 2047, data, 1024, false) == 1, "a read past the end fails with IOERR");
	report(request(T_OUT, 4096, data, 512, true) == 1, "a write past the end fails with IOERR");
	report(request(T_IN, 0, data, 100, false) == 1, "a read of part of a sector fails with IOERR");
	report(request(77, 0, NULL, 0, false) == 2, "an unknown request type gets UNSUPP");
	report(!(vdev_status(&dev) & VIRTIO_ST_NEEDS_RESET), "none of that needed a reset");
	report_summary();
}
