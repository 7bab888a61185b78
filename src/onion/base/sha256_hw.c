/* sha256_hw.h: FIPS 180-4 SHA-256 on the SHA-NI instructions. The state
 * lives in two registers in the order the instructions want (ABEF, CDGH);
 * each sha256rnds2 does two rounds, so one 16-byte group of message words
 * (plus its round constants) feeds two of them. Words 16..63 of the
 * schedule come from sha256msg1 (sigma0 part), an add of W[t-7] and
 * sha256msg2 (sigma1 part). */
#include "onion/base/sha256_hw.h"

#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define HW_TARGET __attribute__((target("sha,sse4.1")))

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

HW_TARGET static void
compress(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
	/* Big-endian words: reverse the bytes of each 32-bit lane. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
					     0x0405060700010203ULL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)&st[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&st[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

	for (; nblocks; nblocks--, p += 64) {
		__m128i w[4], save_abef = abef, save_cdgh = cdgh;
		/* Unrolled, w[] stays in registers and the branch on i goes:
		 * a quarter faster at -O1, and every microdescriptor and
		 * consensus is hashed whole. */
#pragma GCC unroll 16
		for (int i = 0; i < 16; i++) {
			__m128i m;
			if (i < 4) {
				m = _mm_loadu_si128(
					(const __m128i *)(p + 16 * i));
				m = _mm_shuffle_epi8(m, bswap);
			} else {
				/* w[i&3] holds W[4(i-4)..], the oldest group.
				 */
				__m128i t =
					_mm_sha256msg1_epu32(w[i & 3],
							     w[(i + 1) & 3]);
				t = _mm_add_epi32(
					t, _mm_alignr_epi8(w[(i + 3) & 3],
							   w[(i + 2) & 3], 4));
				m = _mm_sha256msg2_epu32(t, w[(i + 3) & 3]);
			}
			w[i & 3] = m;
			__m128i k = _mm_add_epi32(
				m, _mm_loadu_si128((const __m128i *)&K[4 * i]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
			k = _mm_shuffle_epi32(k, 0x0E);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, k);
		}
		abef = _mm_add_epi32(abef, save_abef);
		cdgh = _mm_add_epi32(cdgh, save_cdgh);
	}

	__m128i feba = _mm_shuffle_epi32(abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
	dcba = _mm_blend_epi16(feba, dchg, 0xF0);
	hgfe = _mm_alignr_epi8(dchg, feba, 8);
	_mm_storeu_si128((__m128i *)&st[0], dcba);
	_mm_storeu_si128((__m128i *)&st[4], hgfe);
}

static int
probe(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & (1u << 9)) || !(c & (1u << 19))) /* SSSE3, SSE4.1 */
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b >> 29) & 1; /* SHA */
}

int
tk_sha256_hw_available(void)
{
	static int avail = -1;
	if (avail < 0)
		avail = probe();
	return avail;
}

void
tk_sha256_hw(const void *msg, size_t len, uint8_t out[32])
{
	uint32_t st[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = msg;
	uint8_t tail[128];
	size_t full = len / 64, rest = len % 64, tlen;
	uint64_t bits = (uint64_t)len * 8;

	if (full)
		compress(st, p, full);
	/* The last partial block, 0x80, zeros, and the length in bits:
	 * one block, or two when fewer than 9 bytes are left in it. */
	memset(tail, 0, sizeof tail);
	if (rest)
		memcpy(tail, p + full * 64, rest);
	tail[rest] = 0x80;
	tlen = rest < 56 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	compress(st, tail, tlen / 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(st[i] >> 24);
		out[4 * i + 1] = (uint8_t)(st[i] >> 16);
		out[4 * i + 2] = (uint8_t)(st[i] >> 8);
		out[4 * i + 3] = (uint8_t)st[i];
	}
}

#else

int
tk_sha256_hw_available(void)
{
	return 0;
}

void
tk_sha256_hw(const void *msg, size_t len, uint8_t out[32])
{
	(void)msg;
	(void)len;
	memset(out, 0, 32);
}

#endif
