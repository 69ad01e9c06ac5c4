/* vmm-test: exit=0 */
/*
 * Reads the time stamp counter into memory, the way code that does not ask
 * CPUID still does, for between one and two guest seconds (the RTC's seconds
 * change twice), with an exit at every read of the RTC. No exit reports the
 * values, so a replay differs from its recording in memory alone: replay
 * must catch that at the next checkpoint and name the likely cause.
 */
#include "guest.h"

static volatile uint64_t stamps[64];

static uint8_t rtc_seconds(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int main(void)
{
	uint8_t last = rtc_seconds();
	unsigned changes = 0;
	uint64_t n = 0;

	while (changes < 2) {
		uint8_t now = rtc_seconds();

		stamps[n++ % 64] = rdtsc();
		if (now != last) {
			changes++;
			last = now;
		}
	}
	report(n > 0 && stamps[0] != 0, "read the TSC %llu times over two RTC second changes",
	       (unsigned long long)n);
	report_summary();
}
