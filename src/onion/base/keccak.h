/* SHA3-256 and SHAKE-256 (FIPS 202): the Keccak-f[1600] permutation and
 * the sponge around it. mbedTLS 2.28 has neither; onion services hash
 * with SHA3-256 and derive keys with SHAKE-256 (rend-spec-v3 §0.3), and
 * ntor v3 and consensus diffs need them too.
 *
 * One context type serves both. SHA3-256: init, absorb any number of
 * times, then tk_sha3_256_final. SHAKE-256: init, absorb, then squeeze as
 * many bytes as wanted in as many calls as wanted (one continuous output
 * stream); absorbing after the first squeeze is not allowed. A context
 * that hashed key material is wiped with tk_keccak_wipe. */
#ifndef TK_ONION_BASE_KECCAK_H
#define TK_ONION_BASE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define TK_SHA3_256_LEN 32

typedef struct tk_keccak {
	uint64_t st[25];
	size_t rate;	   /* bytes per block: 136 for both functions */
	size_t pos;	   /* absorbing: bytes in the block; squeezing: used */
	uint8_t suffix;	   /* domain bits: 0x06 SHA3, 0x1f SHAKE */
	uint8_t squeezing; /* the padding went in */
} tk_keccak;

/* The permutation itself (24 rounds), for tests. */
void tk_keccak_f1600(uint64_t st[25]);

void tk_sha3_256_init(tk_keccak *k);
void tk_shake256_init(tk_keccak *k);
void tk_keccak_absorb(tk_keccak *k, const void *data, size_t len);
void tk_sha3_256_final(tk_keccak *k, uint8_t out[TK_SHA3_256_LEN]);
void tk_shake256_squeeze(tk_keccak *k, uint8_t *out, size_t len);
void tk_keccak_wipe(tk_keccak *k);

/* One-shot forms. */
void tk_sha3_256(const void *msg, size_t len, uint8_t out[TK_SHA3_256_LEN]);
void tk_shake256(const void *msg, size_t len, uint8_t *out, size_t outlen);

#endif
