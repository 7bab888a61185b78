/* Keccak-f[1600] and the FIPS 202 sponge. The state is 25 lanes of 64
 * bits; bytes enter and leave it little-endian (FIPS 202 §B.1), which is
 * done byte by byte here so the code does not depend on the host's byte
 * order. Speed is not a concern: onion-service work hashes a few
 * kilobytes per connection. */
#include "onion/base/keccak.h"

#include <string.h>

#include "onion/base/bytes.h"

/* Round constants RC[i] (FIPS 202 §3.2.5). */
static const uint64_t round_const[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho offsets and the pi permutation, walked as one cycle through the 24
 * lanes other than (0,0): lane pi_lane[i] receives the previous lane
 * rotated by rho_off[i]. */
static const unsigned rho_off[24] = {
	1,  3,	6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
	27, 41, 56, 8,	25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned pi_lane[24] = {
	10, 7,	11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
	15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1,
};

static uint64_t
rotl(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

void
tk_keccak_f1600(uint64_t st[25])
{
	for (int round = 0; round < 24; round++) {
		uint64_t c[5], t;
		/* theta */
		for (int x = 0; x < 5; x++)
			c[x] = st[x] ^ st[x + 5] ^ st[x + 10] ^ st[x + 15] ^
			       st[x + 20];
		for (int x = 0; x < 5; x++) {
			t = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
			for (int y = 0; y < 25; y += 5)
				st[y + x] ^= t;
		}
		/* rho and pi */
		t = st[1];
		for (int i = 0; i < 24; i++) {
			uint64_t next = st[pi_lane[i]];
			st[pi_lane[i]] = rotl(t, rho_off[i]);
			t = next;
		}
		/* chi */
		for (int y = 0; y < 25; y += 5) {
			for (int x = 0; x < 5; x++)
				c[x] = st[y + x];
			for (int x = 0; x < 5; x++)
				st[y + x] = c[x] ^
					    (~c[(x + 1) % 5] & c[(x + 2) % 5]);
		}
		/* iota */
		st[0] ^= round_const[round];
	}
}

static void
xor_byte(tk_keccak *k, size_t i, uint8_t b)
{
	k->st[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

static uint8_t
get_byte(const tk_keccak *k, size_t i)
{
	return (uint8_t)(k->st[i / 8] >> (8 * (i % 8)));
}

static void
keccak_init(tk_keccak *k, uint8_t suffix)
{
	memset(k, 0, sizeof *k);
	k->rate = 136; /* 1600 - 2 * 256 bits, for both functions */
	k->suffix = suffix;
}

void
tk_sha3_256_init(tk_keccak *k)
{
	keccak_init(k, 0x06);
}

void
tk_shake256_init(tk_keccak *k)
{
	keccak_init(k, 0x1f);
}

void
tk_keccak_absorb(tk_keccak *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (k->squeezing)
		return;
	for (size_t i = 0; i < len; i++) {
		xor_byte(k, k->pos++, p[i]);
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
	}
}

/* Pads (the domain suffix, then pad10*1) and turns the sponge around. */
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
	for (size_t i = 0; i < len; i++) {
		if (k->pos == k->rate) {
			tk_keccak_f1600(k->st);
			k->pos = 0;
		}
		out[i] = get_byte(k, k->pos++);
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
