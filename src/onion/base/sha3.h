/* sha3.h — SHA3-256 (FIPS 202), which neither mbedTLS 2.28 nor libsodium
 * offers; onion addresses (rend-spec-v3) and onion services need it. */
#ifndef TK_ONION_BASE_SHA3_H
#define TK_ONION_BASE_SHA3_H

#include <stddef.h>
#include <stdint.h>

#define TK_SHA3_256_LEN 32

/* The digest of the concatenation of n parts (ptrs[i], lens[i]). */
void tk_sha3_256_parts(size_t n, const void *const *ptrs, const size_t *lens,
		       uint8_t out[TK_SHA3_256_LEN]);
void tk_sha3_256(const void *msg, size_t len, uint8_t out[TK_SHA3_256_LEN]);

#endif
