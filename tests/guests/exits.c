/* vmm-test: args="--append pio=500,mmio=500" output="exits: 500 pio, 500 mmio" */
/*
 * Nothing but exits, for the bench's per-exit cost against a raw KVM loop
 * (bench/kvmloop.c does the same instructions): "pio=N" writes to port 0x80,
 * "mmio=N" stores to an address no device claims, each one exit.
 */
#include "guest.h"

#define UNCLAIMED_MMIO 0xd0000000u	/* above RAM, below the virtio BARs (board.h) */

/* The number after key= on the command line ("pio=N,mmio=N"), or 0. */
static uint64_t arg(const char *key)
{
	size_t n = strlen(key);
	uint64_t v = 0;

	for (const char *c = guest_cmdline(); *c; c++) {
		if ((c != guest_cmdline() && c[-1] != ',' && c[-1] != ' ') || memcmp(c, key, n) || c[n] != '=')
			continue;
		for (c += n + 1; *c >= '0' && *c <= '9'; c++)
			v = v * 10 + (uint64_t)(*c - '0');
		return v;
	}
	return 0;
}

int main(void)
{
	uint64_t pio = arg("pio"), mmio = arg("mmio");
	volatile uint32_t *hole = (volatile uint32_t *)(uintptr_t)UNCLAIMED_MMIO;

	for (uint64_t i = 0; i < pio; i++)
		outb(0x80, (uint8_t)i);
	report(!pio || inb(0x80) == (uint8_t)(pio - 1), "port 0x80 holds the last byte written");
	for (uint64_t i = 0; i < mmio; i++)
		*hole = (uint32_t)i;
	report(*hole == 0xffffffffu, "an unclaimed MMIO address reads all-ones");
	printf("exits: %lu pio, %lu mmio\n", pio, mmio);
	report_summary();
}
