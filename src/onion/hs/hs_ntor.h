/* hs-ntor, the client side (rend-spec-v3 §3.3.2 NTOR-WITH-EXTRA-DATA,
 * §4.2): the keys that encrypt and authenticate INTRODUCE1's encrypted
 * part, and the check of the service's RENDEZVOUS2 reply that yields the
 * end-to-end keys of the joined circuit.
 *
 * The client makes an x25519 key pair (x, X) per introduction attempt.
 * With the introduction point's AUTH_KEY, the service's encryption key B
 * and the subcredential:
 *   intro_secret_hs_input = EXP(B,x) | AUTH_KEY | X | B | PROTOID
 *   ENC_KEY | MAC_KEY = KDF(intro_secret_hs_input | t_hsenc |
 *                           m_hsexpand | N_hs_subcred, 64)
 * The service answers Y | AUTH (64 bytes, in RENDEZVOUS2) and both sides
 * compute
 *   rend_secret_hs_input = EXP(Y,x) | EXP(B,x) | AUTH_KEY | B | X | Y
 *                          | PROTOID
 *   NTOR_KEY_SEED = MAC(rend_secret_hs_input, t_hsenc)
 *   verify = MAC(rend_secret_hs_input, t_hsverify)
 *   AUTH = MAC(verify | AUTH_KEY | B | Y | X | PROTOID | "Server",
 *              t_hsmac)
 * and K = KDF(NTOR_KEY_SEED | m_hsexpand, 128) gives Df[32] Db[32]
 * Kf[32] Kb[32]: SHA3-256 digests and AES-256 keys for the service's
 * virtual hop at the end of the rendezvous circuit. Pure functions. */
#ifndef TK_ONION_HS_HS_NTOR_H
#define TK_ONION_HS_HS_NTOR_H

#include <stddef.h>
#include <stdint.h>

#define TK_HS_NTOR_REPLY_LEN 64 /* SERVER_PK[32] AUTH[32] */
#define TK_HS_NTOR_KEYS_LEN 128 /* Df Db Kf Kb */

/* One introduction attempt's handshake state. Holds x: wipe it with
 * tk_hs_ntor_client_wipe when done. */
struct tk_hs_ntor_client {
	uint8_t x[32], X[32];
	uint8_t B[32];	      /* the service's KP_hss_ntor */
	uint8_t auth_key[32]; /* the introduction point's KP_hs_ipt_sid */
	uint8_t subcred[32];
	uint8_t enc_key[32], mac_key[32];
};

/* Sets up an attempt. x is the ephemeral secret key (NULL: a fresh
 * random one; tests pass the vectors' x). -1 if EXP(B,x) is all zeros
 * (B is of small order). */
int tk_hs_ntor_client_init(struct tk_hs_ntor_client *st, const uint8_t *x,
			   const uint8_t B[32], const uint8_t auth_key[32],
			   const uint8_t subcred[32]);

/* INTRODUCE1's ENCRYPTED part for header (the cell body before it) and
 * the padded plaintext: CLIENT_PK X | ENCRYPTED_DATA | MAC, where MAC =
 * MAC(MAC_KEY, header | X | ENCRYPTED_DATA). Writes 32 + plain_len + 32
 * bytes; returns that length or -1 if cap is too small. */
long tk_hs_ntor_client_encrypt(const struct tk_hs_ntor_client *st,
			       const uint8_t *header, size_t header_len,
			       const uint8_t *plain, size_t plain_len,
			       uint8_t *out, size_t cap);

/* Checks the service's HANDSHAKE_INFO (from RENDEZVOUS2) and derives
 * NTOR_KEY_SEED. 0, or -1 if AUTH does not match or Y is of small
 * order. */
int tk_hs_ntor_client_finish(const struct tk_hs_ntor_client *st,
			     const uint8_t reply[TK_HS_NTOR_REPLY_LEN],
			     uint8_t key_seed[32]);

/* K = KDF(NTOR_KEY_SEED | m_hsexpand, 128): Df, Db, Kf, Kb. */
void tk_hs_ntor_expand(const uint8_t key_seed[32],
		       uint8_t keys[TK_HS_NTOR_KEYS_LEN]);

void tk_hs_ntor_client_wipe(struct tk_hs_ntor_client *st);

#endif
