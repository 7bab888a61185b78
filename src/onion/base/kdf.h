/* KDF-TOR (tor-spec §5.2.1) and the CREATE_FAST handshake (§5.1.5).
 *
 * CREATE_FAST is used only for the first hop when we know a relay by its
 * RSA identity alone (bootstrap to an authority): the TLS link already
 * authenticates the relay, so the handshake is just two random strings. */
#ifndef TK_ONION_BASE_KDF_H
#define TK_ONION_BASE_KDF_H

#include <stddef.h>
#include <stdint.h>

/* K = SHA1(K0 | 00) | SHA1(K0 | 01) | ...; writes outlen bytes
 * (outlen <= 256 * 20). Returns 0 or -1. */
int tk_kdf_tor(const uint8_t *k0, size_t k0len, uint8_t *out, size_t outlen);

#define TK_FAST_X_LEN 20
#define TK_FAST_REPLY_LEN 40 /* Y[20] KH[20] */
#define TK_RELAY_KEYS_LEN 72 /* Df[20] Db[20] Kf[16] Kb[16] for tor1 */

/* Fills x with fresh randomness: the CREATE_FAST payload. */
void tk_fast_client_create(uint8_t x[TK_FAST_X_LEN]);
/* Checks KH in the CREATED_FAST reply and derives keys_len bytes of key
 * material (pass TK_RELAY_KEYS_LEN for tor1 relay crypto; the bytes are
 * K[20..20+keys_len), after KH). Returns 0, or -1 if KH does not match
 * (the relay did not see our X: tear the circuit down). */
int tk_fast_client_finish(const uint8_t x[TK_FAST_X_LEN],
			  const uint8_t reply[TK_FAST_REPLY_LEN], uint8_t *keys,
			  size_t keys_len);

#endif
