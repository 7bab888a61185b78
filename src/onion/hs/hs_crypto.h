/* The onion-service instances of rend-spec-v3 §0.3's building blocks:
 * H is SHA3-256, KDF is SHAKE-256, MAC(k, m) is H(INT_8(len(k)) | k | m),
 * STREAM is AES-256-CTR. */
#ifndef TK_ONION_HS_HS_CRYPTO_H
#define TK_ONION_HS_HS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define TK_HS_MAC_LEN 32
#define TK_HS_KEY_LEN 32 /* S_KEY_LEN: AES-256 */
#define TK_HS_IV_LEN 16	 /* S_IV_LEN */

/* A message given as parts, hashed as their concatenation. */
struct tk_hs_part {
	const void *p;
	size_t len;
};

/* MAC(key, parts[0] | parts[1] | ...). */
void tk_hs_mac(const uint8_t *key, size_t keylen, const struct tk_hs_part *m,
	       size_t nparts, uint8_t out[TK_HS_MAC_LEN]);
/* KDF(parts[0] | ...) into out[0..outlen). */
void tk_hs_kdf(const struct tk_hs_part *m, size_t nparts, uint8_t *out,
	       size_t outlen);
/* in XOR AES-256-CTR(key, iv) into out (may be in). iv NULL: zero IV. */
int tk_hs_stream(const uint8_t key[TK_HS_KEY_LEN], const uint8_t *iv,
		 const uint8_t *in, uint8_t *out, size_t len);

/* Big-endian INT_8(v) into out[8] (rend-spec-v3 §0.2). */
void tk_hs_int8(uint64_t v, uint8_t out[8]);

#endif
