/* The interface between tests/fuzz/driver.c and one fuzz target. */
#ifndef VMM_FUZZ_H
#define VMM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, which each target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The target's name, and its i-th (0-3) valid input, malloc()ed. */
extern const char fuzz_name[];
uint8_t *fuzz_seed(unsigned i, size_t *len);
/* The driver's random numbers, for targets that build seeds. */
uint64_t fuzz_rng(void);

#endif
