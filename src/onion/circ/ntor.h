/* ntor v1 client handshake (tor-spec §5.1.4, proposal 216), carried in
 * CREATE2/EXTEND2 with HTYPE 2. */
#ifndef TK_ONION_CIRC_NTOR_H
#define TK_ONION_CIRC_NTOR_H

#include <stddef.h>
#include <stdint.h>

#define TK_NTOR_ID_LEN 20     /* relay RSA identity digest */
#define TK_NTOR_KEY_LEN 32    /* curve25519 keys */
#define TK_NTOR_CLIENT_LEN 84 /* ID | B | X */
#define TK_NTOR_SERVER_LEN 64 /* Y | AUTH */

/* What the client remembers between sending the onion skin and the
 * reply. Holds the ephemeral secret: wipe with tk_ntor_state_wipe(). */
typedef struct tk_ntor_state {
	uint8_t id[TK_NTOR_ID_LEN];
	uint8_t B[TK_NTOR_KEY_LEN]; /* relay's ntor-onion-key */
	uint8_t x[TK_NTOR_KEY_LEN];
	uint8_t X[TK_NTOR_KEY_LEN];
} tk_ntor_state;

/* Starts a handshake with the relay (identity id, ntor onion key B):
 * picks a fresh ephemeral key and writes the 84-byte client message. */
void tk_ntor_client_create(tk_ntor_state *st, const uint8_t id[TK_NTOR_ID_LEN],
			   const uint8_t B[TK_NTOR_KEY_LEN],
			   uint8_t onionskin[TK_NTOR_CLIENT_LEN]);
/* The same with a caller-chosen ephemeral secret x (known-answer tests). */
void tk_ntor_client_create_with(tk_ntor_state *st,
				const uint8_t id[TK_NTOR_ID_LEN],
				const uint8_t B[TK_NTOR_KEY_LEN],
				const uint8_t x[TK_NTOR_KEY_LEN],
				uint8_t onionskin[TK_NTOR_CLIENT_LEN]);
/* Processes the relay's 64-byte reply: checks AUTH (constant time) and
 * that neither DH result is all-zero, then derives keys_len bytes
 * (TK_RELAY_KEYS_LEN = 72 for tor1) with HKDF-SHA256. Returns 0, or -1 if
 * the reply does not authenticate (wrong relay key or tampering). */
int tk_ntor_client_finish(const tk_ntor_state *st,
			  const uint8_t reply[TK_NTOR_SERVER_LEN],
			  uint8_t *keys, size_t keys_len);
void tk_ntor_state_wipe(tk_ntor_state *st);

/* The relay's side, for test doubles (scripted relays in unit tests) and
 * known-answer tests; a client never needs it. id and b are the relay's
 * identity digest and ntor secret key; y (NULL: random) its ephemeral
 * secret. Writes the 64-byte reply and keys_len bytes of key material.
 * Returns -1 if the onion skin is for another identity or key, or the
 * client key is degenerate. */
int tk_ntor_server_respond(const uint8_t id[TK_NTOR_ID_LEN],
			   const uint8_t b[TK_NTOR_KEY_LEN],
			   const uint8_t onionskin[TK_NTOR_CLIENT_LEN],
			   const uint8_t y[TK_NTOR_KEY_LEN],
			   uint8_t reply[TK_NTOR_SERVER_LEN], uint8_t *keys,
			   size_t keys_len);

#endif
