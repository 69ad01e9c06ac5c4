/*
 * A mutation fuzzer for one LLVMFuzzerTestOneInput target, for machines without
 * libFuzzer: seeds are valid journals written here, mutated by bit flips, byte
 * sets, truncation, duplication and splicing, for a bounded time. Built with
 * ASan and UBSan, any memory error aborts with a report.
 *
 * usage: fuzz_journal SECONDS [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A small real journal: header, exits, ticks, injections, a landmark, an end record. */
static uint8_t *make_seed(size_t *len, unsigned records, unsigned flush_every)
{
	struct journal_writer w;
	struct journal_header h;
	char path[64], err[200];
	uint8_t *buf = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "/tmp/vmm-fuzz-seed-%d", getpid());
	unlink(path);
	memset(&h, 0, sizeof(h));
	h.mem_size = 64 << 20;
	strcpy(h.kernel_path, "/k");
	strcpy(h.cmdline, "x");
	h.cpuid_len = 56;
	if (journal_writer_open(&w, path, true, &h, err, sizeof(err)) < 0)
		return NULL;
	for (unsigned i = 0; i < records; i++) {
		uint8_t p[160];
		size_t plen = 1 + rng() % sizeof(p);

		for (size_t k = 0; k < plen; k++)
			p[k] = (uint8_t)rng();
		if (i % 16 == 15)	/* checkpoints, so that seeds carry an index to mutate */
			journal_write_checkpoint(&w, p, plen, (uint64_t)i * (1000000000ull / flush_every), i, i);
		else
			journal_write(&w, (uint8_t)(1 + rng() % (JREC_MAX - 1)), p, plen,
				      (uint64_t)i * (1000000000ull / flush_every));
	}
	journal_writer_close(&w);
	f = fopen(path, "rb");
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && (buf = malloc((size_t)n))) {
		rewind(f);
		*len = fread(buf, 1, (size_t)n, f);
	}
	if (f)
		fclose(f);
	unlink(path);
	return buf;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	uint8_t *seeds[4], *buf;
	size_t seed_len[4], cap = 1 << 20;
	unsigned long runs = 0;
	time_t end;

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL) | 1;
	printf("fuzz_journal: seed 0x%llx, %d s\n", (unsigned long long)rng_state, seconds);
	for (int i = 0; i < 4; i++) {
		seeds[i] = make_seed(&seed_len[i], 20 + 40 * (unsigned)i, 5 + 10 * (unsigned)i);
		if (!seeds[i]) {
			fprintf(stderr, "fuzz_journal: cannot write a seed journal\n");
			return 1;
		}
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	}
	buf = malloc(cap);
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		for (int batch = 0; batch < 200; batch++, runs++) {
			int s = (int)(rng() % 4);
			size_t len = seed_len[s], muts = 1 + rng() % 8;

			memcpy(buf, seeds[s], len);
			for (size_t m = 0; m < muts && len; m++) {
				size_t at = rng() % len;

				switch (rng() % 6) {
				case 0: buf[at] ^= (uint8_t)(1u << (rng() % 8)); break;
				case 1: buf[at] = (uint8_t)rng(); break;
				case 2: len = at; break;					/* truncate */
				case 3: buf[at] = (uint8_t)(rng() % 2 ? 0xff : 0x00); break;
				case 4: {						/* duplicate a run */
					size_t n = rng() % 64;

					if (len + n < cap && at + n <= len) {
						memmove(buf + at + n, buf + at, len - at);
						len += n;
					}
					break;
				}
				default: {						/* splice another seed */
					int o = (int)(rng() % 4);
					size_t from = rng() % seed_len[o], n = rng() % 256;

					if (from + n <= seed_len[o] && at + n <= len)
						memcpy(buf + at, seeds[o] + from, n);
					break;
				}
				}
			}
			LLVMFuzzerTestOneInput(buf, len);
		}
	}
	printf("fuzz_journal: %lu inputs, no crash\n", runs);
	printf("%lu passed, 0 failed\n", runs);
	free(buf);
	for (int i = 0; i < 4; i++)
		free(seeds[i]);
	return 0;
}
