/* Keccak-f[1600] and the SHA3-256 / SHAKE-256 sponges (FIPS 202). Written
 * for clarity over speed: ntor v3 hashes a few hundred bytes per circuit
 * hop. Lanes are little-endian 64-bit words, as FIPS 202 numbers them. */
#include "onion/base/keccak.h"

#include <string.h>

#include "onion/base/bytes.h"

#define ROUNDS 24
#define RATE_256 136 /* (1600 - 2 * 256) / 8 */

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

static uint64_t
rol64(uint64_t v, unsigned n)
{
	n &= 63;
	return n ? (v << n) | (v >> (64 - n)) : v;
}

void
tk_keccak_f1600(uint64_t st[25])
{
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t c[5], b[25];
		/* theta: every lane takes the parity of two columns */
		for (int x = 0; x < 5; x++)
			c[x] = st[x] ^ st[x + 5] ^ st[x + 10] ^ st[x + 15] ^
			       st[x + 20];
		for (int x = 0; x < 5; x++) {
			uint64_t d = c[(x + 4) % 5] ^ rol64(c[(x + 1) % 5], 1);
			for (int y = 0; y < 25; y += 5)
				st[y + x] ^= d;
		}
		/* rho and pi: lane (x,y) is rotated by the offset FIPS 202
		 * §3.2.2 walks out, and moves to (y, 2x+3y). */
		int x = 1, y = 0;
		b[0] = st[0];
		for (int t = 0; t < 24; t++) {
			unsigned off = (unsigned)((t + 1) * (t + 2) / 2);
			int nx = y, ny = (2 * x + 3 * y) % 5;
			b[ny * 5 + nx] = rol64(st[y * 5 + x], off);
			x = nx;
			y = ny;
		}
		/* chi: the only non-linear step, along each row */
		for (int row = 0; row < 25; row += 5)
			for (int i = 0; i < 5; i++)
				st[row + i] = b[row + i] ^
					      (~b[row + (i + 1) % 5] &
					       b[row + (i + 2) % 5]);
		/* iota */
		st[0] ^= round_constants[r];
	}
}

static void
sponge_init(tk_keccak *k, uint8_t suffix)
{
	memset(k, 0, sizeof *k);
	k->rate = RATE_256;
	k->suffix = suffix;
}

void
tk_sha3_256_init(tk_keccak *k)
{
	sponge_init(k, 0x06);
}

void
tk_shake256_init(tk_keccak *k)
{
	sponge_init(k, 0x1f);
}

/* XORs one byte into the state at byte position i (little-endian lanes). */
static void
xor_byte(tk_keccak *k, size_t i, uint8_t v)
{
	k->st[i / 8] ^= (uint64_t)v << (8 * (i % 8));
}

static uint8_t
get_byte(const tk_keccak *k, size_t i)
{
	return (uint8_t)(k->st[i / 8] >> (8 * (i % 8)));
}

void
tk_keccak_absorb(tk_keccak *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (k->squeezing)
		return; /* a caller bug; the output stays as it was */
	while (len--) {
		xor_byte(k, k->pos++, *p++);
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
	}
}

/* Pads (suffix bits, then the final 1 of pad10*1) and permutes. */
static void
finish_absorb(tk_keccak *k)
{
	xor_byte(k, k->pos, k->suffix);
	xor_byte(k, k->rate - 1, 0x80);
	tk_keccak_f1600(k->st);
	k->pos = 0;
	k->squeezing = 1;
}

void
tk_shake256_squeeze(tk_keccak *k, uint8_t *out, size_t len)
{
	if (!k->squeezing)
		finish_absorb(k);
	while (len--) {
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
		*out++ = get_byte(k, k->pos++);
	}
}

void
tk_sha3_256_final(tk_keccak *k, uint8_t out[TK_SHA3_256_LEN])
{
	tk_shake256_squeeze(k, out, TK_SHA3_256_LEN);
	tk_keccak_wipe(k);
}

void
tk_keccak_wipe(tk_keccak *k)
{
	tk_wipe(k, sizeof *k);
}

void
tk_sha3_256(const void *msg, size_t len, uint8_t out[TK_SHA3_256_LEN])
{
	tk_keccak k;
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, msg, len);
	tk_sha3_256_final(&k, out);
}

void
tk_shake256(const void *msg, size_t len, uint8_t *out, size_t outlen)
{
	tk_keccak k;
	tk_shake256_init(&k);
	tk_keccak_absorb(&k, msg, len);
	tk_shake256_squeeze(&k, out, outlen);
	tk_keccak_wipe(&k);
}
