/*
 * A mutation fuzzer for one LLVMFuzzerTestOneInput target, for machines without
 * libFuzzer: the target's valid seeds (fuzz_seed()) are mutated by bit flips,
 * byte sets, truncation, duplication and splicing, for a bounded time. Built
 * with ASan and UBSan, any memory error aborts with a report.
 *
 * usage: fuzz_TARGET SECONDS [SEED]
 *        fuzz_TARGET --seeds DIR    write the four seeds into DIR (a corpus for libFuzzer)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static uint64_t rng_state;

uint64_t fuzz_rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	uint8_t *seeds[4], *buf;
	size_t seed_len[4], cap = 1 << 20;
	unsigned long runs = 0;
	time_t end;

	if (argc == 3 && !strcmp(argv[1], "--seeds")) {
		rng_state = 0x9e3779b97f4a7c15ull;	/* the same seeds every time */
		for (int i = 0; i < 4; i++) {
			char path[4096];
			size_t n;
			uint8_t *s = fuzz_seed((unsigned)i, &n);
			FILE *f;

			snprintf(path, sizeof(path), "%s/seed-%d", argv[2], i);
			if (!s || !(f = fopen(path, "wb")) || fwrite(s, 1, n, f) != n || fclose(f) != 0) {
				fprintf(stderr, "%s: cannot write %s\n", fuzz_name, path);
				return 1;
			}
			free(s);
		}
		return 0;
	}
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL) | 1;
	printf("%s: seed 0x%llx, %d s\n", fuzz_name, (unsigned long long)rng_state, seconds);
	for (int i = 0; i < 4; i++) {
		seeds[i] = fuzz_seed((unsigned)i, &seed_len[i]);
		if (!seeds[i]) {
			fprintf(stderr, "%s: cannot make seed %d\n", fuzz_name, i);
			return 1;
		}
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	}
	buf = malloc(cap);
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		for (int batch = 0; batch < 200; batch++, runs++) {
			int s = (int)(fuzz_rng() % 4);
			size_t len = seed_len[s], muts = 1 + fuzz_rng() % 8;

			memcpy(buf, seeds[s], len);
			for (size_t m = 0; m < muts && len; m++) {
				size_t at = fuzz_rng() % len;

				switch (fuzz_rng() % 6) {
				case 0: buf[at] ^= (uint8_t)(1u << (fuzz_rng() % 8)); break;
				case 1: buf[at] = (uint8_t)fuzz_rng(); break;
				case 2: len = at; break;					/* truncate */
				case 3: buf[at] = (uint8_t)(fuzz_rng() % 2 ? 0xff : 0x00); break;
				case 4: {						/* duplicate a run */
					size_t n = fuzz_rng() % 64;

					if (len + n < cap && at + n <= len) {
						memmove(buf + at + n, buf + at, len - at);
						len += n;
					}
					break;
				}
				default: {						/* splice another seed */
					int o = (int)(fuzz_rng() % 4);
					size_t from = fuzz_rng() % seed_len[o], n = fuzz_rng() % 256;

					if (from + n <= seed_len[o] && at + n <= len)
						memcpy(buf + at, seeds[o] + from, n);
					break;
				}
				}
			}
			LLVMFuzzerTestOneInput(buf, len);
		}
	}
	printf("%s: %lu inputs, no crash\n", fuzz_name, runs);
	printf("%lu passed, 0 failed\n", runs);
	free(buf);
	for (int i = 0; i < 4; i++)
		free(seeds[i]);
	return 0;
}
