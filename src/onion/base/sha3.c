/* sha3.c — Keccak-f[1600] and the SHA3-256 sponge, written from FIPS 202:
 * rate 136 bytes, domain padding 0x06 ... 0x80, lanes little-endian. */
#include "onion/base/sha3.h"

#include <string.h>

#define RATE 136
#define ROUNDS 24

static const uint64_t round_constants[ROUNDS] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho offsets and the pi lane order, walked from lane 1 */
static const unsigned rho[24] = {
	1,  3,	6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
	27, 41, 56, 8,	25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned pi[24] = {
	10, 7,	11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
	15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1,
};

static uint64_t
rotl(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

static void
keccak_f(uint64_t a[25])
{
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t c[5], d, t;

		/* theta */
		for (int x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^
			       a[x + 20];
		for (int x = 0; x < 5; x++) {
			d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
			for (int y = 0; y < 25; y += 5)
				a[y + x] ^= d;
		}
		/* rho and pi */
		t = a[1];
		for (int i = 0; i < 24; i++) {
			uint64_t next = a[pi[i]];

			a[pi[i]] = rotl(t, rho[i]);
			t = next;
		}
		/* chi */
		for (int y = 0; y < 25; y += 5) {
			for (int x = 0; x < 5; x++)
				c[x] = a[y + x];
			for (int x = 0; x < 5; x++)
				a[y + x] = c[x] ^
					   (~c[(x + 1) % 5] & c[(x + 2) % 5]);
		}
		/* iota */
		a[0] ^= round_constants[r];
	}
}

static void
absorb_block(uint64_t a[25], const uint8_t *p)
{
	for (int i = 0; i < RATE / 8; i++) {
		uint64_t lane = 0;

		for (int b = 7; b >= 0; b--)
			lane = (lane << 8) | p[i * 8 + b];
		a[i] ^= lane;
	}
	keccak_f(a);
}

void
tk_sha3_256_parts(size_t n, const void *const *ptrs, const size_t *lens,
		  uint8_t out[TK_SHA3_256_LEN])
{
	uint64_t a[25];
	uint8_t block[RATE];
	size_t have = 0;

	memset(a, 0, sizeof(a));
	for (size_t k = 0; k < n; k++) {
		const uint8_t *p = ptrs[k];
		size_t len = lens[k];

		while (len > 0) {
			size_t take = RATE - have < len ? RATE - have : len;

			memcpy(block + have, p, take);
			have += take;
			p += take;
			len -= take;
			if (have == RATE) {
				absorb_block(a, block);
				have = 0;
			}
		}
	}
	memset(block + have, 0, RATE - have);
	block[have] ^= 0x06;
	block[RATE - 1] ^= 0x80;
	absorb_block(a, block);
	for (int i = 0; i < TK_SHA3_256_LEN; i++)
		out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

void
tk_sha3_256(const void *msg, size_t len, uint8_t out[TK_SHA3_256_LEN])
{
	tk_sha3_256_parts(1, &msg, &len, out);
}
