/* What the fuzz targets take from tests/fuzz/driver.c, for a build with libFuzzer's own main instead. */
#include "fuzz.h"

uint64_t fuzz_rng(void)
{
	static uint64_t state = 0x9e3779b97f4a7c15ull;

	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}
