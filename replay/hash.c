/* SHA-256 (FIPS 180-4; with the x86 SHA extensions where the CPU has them) and 64-bit mixing hashes. */
#include "hash.h"

#include <immintrin.h>
#include <string.h>

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static void block_c(uint32_t *state, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = state[0]; b = state[1]; c = state[2]; d = state[3];
	e = state[4]; f = state[5]; g = state[6]; h = state[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	state[0] += a; state[1] += b; state[2] += c; state[3] += d;
	state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

/*
 * The same with the SHA extensions (SHA-NI): four rounds per pair of
 * SHA256RNDS2, the message schedule by SHA256MSG1/MSG2, about seven times
 * the C code's speed. The state lives as ABEF and CDGH, the layout the
 * instructions use; the message words W[g] for rounds 4g..4g+3 rotate through
 * four registers.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_ni(uint32_t *state, const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	__m128i abcd = _mm_loadu_si128((const __m128i *)state);
	__m128i efgh = _mm_loadu_si128((const __m128i *)(state + 4));
	__m128i cdab = _mm_shuffle_epi32(abcd, 0xb1);
	__m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, hgfe, 8);
	__m128i cdgh = _mm_blend_epi16(hgfe, cdab, 0xf0);

	for (; n; n--, p += 64) {
		__m128i w[4], msg, save0 = abef, save1 = cdgh;

		for (int g = 0; g < 16; g++) {
			__m128i *cur = &w[g & 3];

			if (g < 4)
				*cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			msg = _mm_add_epi32(*cur, _mm_loadu_si128((const __m128i *)(k256 + 4 * g)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
			if (g >= 3 && g < 15) {	/* W[g+1] = MSG2(MSG1(W[g-3], W[g-2]) + W[g..g-1] >> 4 bytes, W[g]) */
				__m128i *next = &w[(g + 1) & 3];

				*next = _mm_add_epi32(*next, _mm_alignr_epi8(*cur, w[(g - 1) & 3], 4));
				*next = _mm_sha256msg2_epu32(*next, *cur);
			}
			msg = _mm_shuffle_epi32(msg, 0x0e);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
			if (g >= 1 && g < 13)	/* half of W[g+3]: MSG1(W[g-1], W[g]) */
				w[(g - 1) & 3] = _mm_sha256msg1_epu32(w[(g - 1) & 3], *cur);
		}
		abef = _mm_add_epi32(abef, save0);
		cdgh = _mm_add_epi32(cdgh, save1);
	}
	{
		__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
		__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);

		_mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xf0));
		_mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
	}
}

static void cpuid(unsigned leaf, unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	/* SHA (leaf 7 EBX bit 29), with SSSE3 and SSE4.1 (leaf 1 ECX bits 9 and 19). */
	cpuid(0, &a, &b, &c, &d);
	if (a < 7)
		return false;
	cpuid(1, &a, &b, &c, &d);
	if (!(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	cpuid(7, &a, &b, &c, &d);
	return b & (1u << 29);
}

static void blocks(struct sha256 *s, const uint8_t *p, size_t n)
{
	if (s->ni) {
		blocks_ni(s->h, p, n);
		return;
	}
	for (; n; n--, p += 64)
		block_c(s->h, p);
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->fill = 0;
	s->ni = cpu_has_sha();
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	while (len) {
		size_t n = 64 - s->fill < len ? 64 - s->fill : len;

		if (!s->fill && len >= 64) {	/* whole blocks straight from the input */
			blocks(s, p, len / 64);
			n = len / 64 * 64;
			p += n;
			len -= n;
			continue;
		}
		memcpy(s->buf + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == 64) {
			blocks(s, s->buf, 1);
			s->fill = 0;
		}
	}
}

void sha256_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha256_update(s, &pad, 1);
	while (s->fill != 56)
		sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}

uint64_t hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; len; len--, p++)
		h = (h ^ *p) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

uint64_t hash64_wide(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t a = 0x243f6a8885a308d3ull, b = 0x13198a2e03707344ull, c = 0xa4093822299f31d0ull,
		 d = 0x082efa98ec4e6c89ull, w[4], h = len * 0x9e3779b97f4a7c15ull;

	/*
	 * Each lane shifts by its own count: SSE2 has no per-lane shift, so the
	 * compiler keeps four scalar multiply chains, which the CPU runs side by
	 * side (its emulation of 64-bit vector multiplies is slower than one
	 * chain, natively and far more under an emulator such as QEMU's TCG).
	 */
	for (; len >= 32; len -= 32, p += 32) {
		a = (a ^ load64(p)) * 0xff51afd7ed558ccdull;
		b = (b ^ load64(p + 8)) * 0xff51afd7ed558ccdull;
		c = (c ^ load64(p + 16)) * 0xff51afd7ed558ccdull;
		d = (d ^ load64(p + 24)) * 0xff51afd7ed558ccdull;
		a ^= a >> 32;
		b ^= b >> 29;
		c ^= c >> 31;
		d ^= d >> 27;
	}
	w[0] = a, w[1] = b, w[2] = c, w[3] = d;
	for (int i = 0; i < 4; i++) {
		h = (h ^ w[i]) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}
