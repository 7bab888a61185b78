/* keccak.h: FIPS 202, written from the standard. The state is 25 lanes
 * of 64 bits, lane (x, y) at index x + 5y; bytes enter and leave the
 * lanes little-endian. */
#include "onion/base/keccak.h"

#include <string.h>

static const uint64_t round_constants[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho offsets, lane x + 5y */
static const unsigned rho[25] = {
	0,  1,	62, 28, 27, 36, 44, 6,	55, 20, 3,  10, 43,
	25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14,
};

static uint64_t
rotl(uint64_t v, unsigned n)
{
	return n ? (v << n) | (v >> (64 - n)) : v;
}

void
tk_keccak_f1600(uint64_t a[25])
{
	uint64_t b[25], c[5], d[5];

	for (int r = 0; r < 24; r++) {
		/* theta */
		for (int x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^
			       a[x + 20];
		for (int x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
		for (int i = 0; i < 25; i++)
			a[i] ^= d[i % 5];
		/* rho and pi: lane (x, y) moves to (y, 2x + 3y) */
		for (int x = 0; x < 5; x++)
			for (int y = 0; y < 5; y++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] =
					rotl(a[x + 5 * y], rho[x + 5 * y]);
		/* chi */
		for (int y = 0; y < 25; y += 5)
			for (int x = 0; x < 5; x++)
				a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] &
						       b[y + (x + 2) % 5]);
		/* iota */
		a[0] ^= round_constants[r];
	}
}

static void
init(tk_keccak *k, uint8_t suffix)
{
	memset(k, 0, sizeof *k);
	k->rate = 136; /* 1600 - 2 * 256 bits */
	k->suffix = suffix;
}

void
tk_sha3_256_init(tk_keccak *k)
{
	init(k, 0x06);
}

void
tk_shake256_init(tk_keccak *k)
{
	init(k, 0x1f);
}

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
		return;
	while (len > 0) {
		if (k->pos == 0 && len >= k->rate) {
			/* a whole block straight from the input */
			for (size_t i = 0; i < k->rate / 8; i++) {
				uint64_t v = 0;
				for (int j = 7; j >= 0; j--)
					v = (v << 8) | p[8 * i + (size_t)j];
				k->st[i] ^= v;
			}
			tk_keccak_f1600(k->st);
			p += k->rate;
			len -= k->rate;
			continue;
		}
		xor_byte(k, k->pos++, *p++);
		len--;
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
	}
}

/* The domain bits and the pad10*1 rule, then the first permutation of
 * the squeezing phase. */
static void
pad(tk_keccak *k)
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
		pad(k);
	while (len > 0) {
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
		*out++ = get_byte(k, k->pos++);
		len--;
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
	volatile uint8_t *p = (volatile uint8_t *)k;
	for (size_t i = 0; i < sizeof *k; i++)
		p[i] = 0;
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
