/* SHA3-256 and SHAKE-256 (FIPS 202), which ntor v3 (proposal 332) needs
 * and mbedTLS 2.28 lacks: Keccak-f[1600] with the sponge around it.
 *
 * One context type serves both. SHA3-256: init, absorb any number of
 * times, then tk_sha3_256_final. SHAKE-256: init, absorb, then squeeze
 * as many bytes as wanted, in as many calls as wanted (the output is one
 * continuous stream); absorbing after the first squeeze is not allowed.
 * Contexts hold secrets when they hash key material: tk_keccak_wipe. */
#ifndef TK_ONION_BASE_KECCAK_H
#define TK_ONION_BASE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define TK_SHA3_256_LEN 32

typedef struct tk_keccak {
	uint64_t st[25];
	size_t rate; /* bytes: 136 for SHA3-256 and SHAKE-256 */
	size_t pos;  /* absorbing: bytes in the block; squeezing: bytes used */
	uint8_t suffix; /* domain bits: 0x06 SHA3, 0x1f SHAKE */
	uint8_t squeezing;
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
