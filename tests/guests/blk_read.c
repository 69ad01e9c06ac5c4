/* vmm-test: disk=2048 */
/*
 * Reads the whole virtio-blk disk front to back in 64 KiB requests and checks
 * a sample of every 4 KiB against the runner's pattern: the sequential-read workload of
 * `make bench` (which gives it a 64 MiB image), and a test of large requests.
 */
#include "virtio.h"

#define CHUNK (64u << 10)

static struct vdev dev;
static struct vring ring;
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static uint8_t data[CHUNK], status;

int main(void)
{
	static const char line[] = "vmm-disk-patter\n";
	uint64_t capacity, sector, bad = 0, bytes = 0;
	uint16_t used = 0;
	bool check = !cmdline_has("random");	/* the bench reads an image of random bytes */

	if (!report(vdev_find(&dev, 0x1001) && dev.device, "virtio-blk found") ||
	    !report(vdev_setup(&dev, &ring, 0), "queue set up"))
		report_summary();
	capacity = *(volatile uint32_t *)dev.device | (uint64_t)*(volatile uint32_t *)(dev.device + 4) << 32;
	for (sector = 0; sector < capacity; sector += CHUNK / 512) {
		uint32_t len = capacity - sector < CHUNK / 512 ? (uint32_t)(capacity - sector) * 512 : CHUNK;

		hdr.type = 0;
		hdr.sector = sector;
		status = 0xff;
		vring_post(&ring, 0, (uintptr_t)&hdr, sizeof(hdr), VQ_F_NEXT, 1);
		vring_post(&ring, 1, (uintptr_t)data, len, VQ_F_NEXT | VQ_F_WRITE, 2);
		vring_post(&ring, 2, (uintptr_t)&status, 1, VQ_F_WRITE, 0);
		vring_publish(&ring, 0);
		vdev_kick(&dev);
		if (!vring_wait(&dev, &ring, ++used) || status != 0)
			break;
		/* Guest kernel code is emulated on some hosts: sample the data, 16 bytes a 4 KiB. */
		for (uint32_t at = 0; at < len && check; at += 4096)
			bad += memcmp(data + at, line, 16) != 0;
		bytes += len;
	}
	report(bytes == capacity * 512, "read all %lu bytes", bytes);
	report(bad == 0, "the data is the image's, sampled every 4 KiB (%lu samples differ)", bad);
	report_summary();
}
