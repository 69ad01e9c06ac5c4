/* XXH64, the hash whose low 32 bits end a zstd frame that carries a content checksum. */
#ifndef VMM_XXH64_H
#define VMM_XXH64_H

#include <stddef.h>
#include <stdint.h>

uint64_t xxh64(const void *data, size_t len, uint64_t seed);

#endif
