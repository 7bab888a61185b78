/* ntor v3 (proposal 332, tor-spec "ntor-v3"): the circuit handshake that
 * carries an encrypted, authenticated message each way. CREATE2/EXTEND2
 * HTYPE 3. Clients use it to ask an exit for congestion control
 * (proposal 324 §10): the client message holds the CC request extension,
 * the relay's reply the CC response with its sendme_inc.
 *
 * Instantiation (prop 332 A.1): curve25519, SHA3-256 for H and MAC,
 * SHAKE-256 for the KDF, AES-256-CTR for the messages; the relay is named
 * by its Ed25519 identity. Circuit extension uses the verification
 * string "circuit extend" (TK_NTOR3_CIRC_VERIFICATION).
 *
 * The relay's side is here too, for test doubles (scripted relays) and
 * the known-answer tests; a client never needs it. */
#ifndef TK_ONION_CIRC_NTOR_V3_H
#define TK_ONION_CIRC_NTOR_V3_H

#include <stddef.h>
#include <stdint.h>

#define TK_NTOR3_ID_LEN 32  /* relay Ed25519 identity */
#define TK_NTOR3_KEY_LEN 32 /* curve25519 keys */
#define TK_NTOR3_MAC_LEN 32
/* What a handshake adds to the message it carries. */
#define TK_NTOR3_CLIENT_OVERHEAD 128 /* ID | B | X | ... | MAC */
#define TK_NTOR3_SERVER_OVERHEAD 64  /* Y | AUTH | ... */
/* Longest message either side may carry here (a CREATE2 body has 505
 * bytes; an EXTEND2 with link specifiers about 400 for the handshake). */
#define TK_NTOR3_MSG_MAX 256
#define TK_NTOR3_VER_MAX 64
#define TK_NTOR3_CIRC_VERIFICATION "circuit extend"

/* What the client keeps between its handshake and the reply. Holds the
 * ephemeral secret: wipe with tk_ntor3_state_wipe(). */
typedef struct tk_ntor3_state {
	uint8_t id[TK_NTOR3_ID_LEN];
	uint8_t B[TK_NTOR3_KEY_LEN];
	uint8_t x[TK_NTOR3_KEY_LEN];
	uint8_t X[TK_NTOR3_KEY_LEN];
	uint8_t Bx[TK_NTOR3_KEY_LEN];
	uint8_t mac[TK_NTOR3_MAC_LEN];
	uint8_t ver[TK_NTOR3_VER_MAX];
	size_t ver_len;
} tk_ntor3_state;

/* Starts a handshake with the relay (Ed25519 identity id, ntor onion key
 * B), sending msg (msg_len <= TK_NTOR3_MSG_MAX) under verification string
 * ver. Writes the onion skin (TK_NTOR3_CLIENT_OVERHEAD + msg_len bytes)
 * to out and returns its length, or -1 (too long, out too small, or B is
 * a degenerate key). */
long tk_ntor3_client_create(tk_ntor3_state *st, const uint8_t id[32],
			    const uint8_t B[32], const void *ver,
			    size_t ver_len, const uint8_t *msg, size_t msg_len,
			    uint8_t *out, size_t cap);
/* The same with a caller-chosen ephemeral secret x (known-answer tests). */
long tk_ntor3_client_create_with(tk_ntor3_state *st, const uint8_t id[32],
				 const uint8_t B[32], const uint8_t x[32],
				 const void *ver, size_t ver_len,
				 const uint8_t *msg, size_t msg_len,
				 uint8_t *out, size_t cap);
/* Processes the relay's reply: checks AUTH (constant time), derives
 * keys_len bytes of key material (TK_RELAY_KEYS_LEN for tor1) and
 * decrypts the relay's message into msg (up to msg_cap bytes; its length
 * in *msg_len). 0, or -1 if the reply is short, does not authenticate or
 * its message does not fit. */
int tk_ntor3_client_finish(const tk_ntor3_state *st, const uint8_t *reply,
			   size_t reply_len, uint8_t *keys, size_t keys_len,
			   uint8_t *msg, size_t msg_cap, size_t *msg_len);
void tk_ntor3_state_wipe(tk_ntor3_state *st);

/* ---- the relay's side (test doubles, known answers) ----------------- */

typedef struct tk_ntor3_server_state {
	uint8_t id[TK_NTOR3_ID_LEN];
	uint8_t B[TK_NTOR3_KEY_LEN];
	uint8_t X[TK_NTOR3_KEY_LEN];
	uint8_t Xb[TK_NTOR3_KEY_LEN];
	uint8_t mac[TK_NTOR3_MAC_LEN];
	uint8_t ver[TK_NTOR3_VER_MAX];
	size_t ver_len;
} tk_ntor3_server_state;

/* Checks a client onion skin for the relay (id, b, B): right identity and
 * key, a MAC that verifies; decrypts the client's message into msg.
 * 0, or -1 (not for us, bad MAC, degenerate X, message too long). */
int tk_ntor3_server_receive(tk_ntor3_server_state *st, const uint8_t id[32],
			    const uint8_t b[32], const uint8_t B[32],
			    const void *ver, size_t ver_len,
			    const uint8_t *skin, size_t skin_len, uint8_t *msg,
			    size_t msg_cap, size_t *msg_len);
/* Answers with msg: writes the reply (TK_NTOR3_SERVER_OVERHEAD + msg_len)
 * to out and keys_len bytes of key material. y NULL: a fresh ephemeral
 * key. Returns the reply length or -1. Wipes st. */
long tk_ntor3_server_reply(tk_ntor3_server_state *st, const uint8_t *y,
			   const uint8_t *msg, size_t msg_len, uint8_t *out,
			   size_t cap, uint8_t *keys, size_t keys_len);

/* ---- the message format (prop 332 A.2): N, then N extensions, each
 * TYPE(1) LEN(1) BODY(LEN) ----------------------------------------- */

#define TK_NTOR3_EXT_CC_REQUEST 0x01  /* empty: "use congestion control" */
#define TK_NTOR3_EXT_CC_RESPONSE 0x02 /* one byte: sendme_inc */

/* The client message tor sends to an exit that supports congestion
 * control: one extension, CC request. Returns its length (3). */
size_t tk_ntor3_msg_cc_request(uint8_t out[3]);
/* The first extension of `type` in msg: 1 with *body and *len set, 0 if
 * absent, -1 if msg is not well formed (every party must refuse it). */
int tk_ntor3_msg_find(const uint8_t *msg, size_t len, uint8_t type,
		      const uint8_t **body, size_t *body_len);

#endif
