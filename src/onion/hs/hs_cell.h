/* The relay message bodies of the client's side of the rendezvous
 * protocol (rend-spec-v3 §3.2, §3.3, §4): ESTABLISH_RENDEZVOUS,
 * RENDEZVOUS_ESTABLISHED, INTRODUCE1, INTRODUCE_ACK and RENDEZVOUS2.
 * Pure codecs like cell/relay_msg.h: bytes in, bytes out, no I/O;
 * decoders never read outside the body and return 0 or a negative
 * TK_RELAY_E* code. */
#ifndef TK_ONION_HS_HS_CELL_H
#define TK_ONION_HS_HS_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/relay_msg.h"
#include "onion/hs/hs_ntor.h"

/* Relay commands of the onion-service protocol (rend-spec-v3 §0.5). */
enum tk_hs_relay_cmd {
	TK_RELAY_ESTABLISH_INTRO = 32,
	TK_RELAY_ESTABLISH_RENDEZVOUS = 33,
	TK_RELAY_INTRODUCE1 = 34,
	TK_RELAY_INTRODUCE2 = 35,
	TK_RELAY_RENDEZVOUS1 = 36,
	TK_RELAY_RENDEZVOUS2 = 37,
	TK_RELAY_INTRO_ESTABLISHED = 38,
	TK_RELAY_RENDEZVOUS_ESTABLISHED = 39,
	TK_RELAY_INTRODUCE_ACK = 40,
};

#define TK_HS_REND_COOKIE_LEN 20
/* C tor pads INTRODUCE1's header and plaintext to at least this. */
#define TK_HS_INTRO1_MIN_SIZE 246
/* Extension types inside the encrypted plaintext (prop 324). */
#define TK_HS_INTRO_EXT_CC_REQUEST 1

/* ESTABLISH_RENDEZVOUS: RENDEZVOUS_COOKIE[20]. Returns 20 or -3. */
int
tk_hs_establish_rendezvous_encode(const uint8_t cookie[TK_HS_REND_COOKIE_LEN],
				  uint8_t *out, size_t cap);

/* RENDEZVOUS_ESTABLISHED is empty; extra bytes are ignored, as the spec
 * requires. Always 0: any body is acceptable. */
int tk_hs_rendezvous_established_decode(const uint8_t *body, size_t len);

/* INTRODUCE_ACK: STATUS[2] N_EXTENSIONS[1] {TYPE LEN VALUE}*. */
enum tk_hs_intro_ack_status {
	TK_HS_INTRO_ACK_SUCCESS = 0,
	TK_HS_INTRO_ACK_UNKNOWN_ID = 1, /* service ID not recognised */
	TK_HS_INTRO_ACK_BAD_FORMAT = 2,
	TK_HS_INTRO_ACK_CANT_RELAY = 3,
};
struct tk_hs_intro_ack {
	uint16_t status;
	uint8_t n_ext; /* extensions are checked for framing, then ignored */
};
int tk_hs_introduce_ack_decode(const uint8_t *body, size_t len,
			       struct tk_hs_intro_ack *out);

/* RENDEZVOUS2: HANDSHAKE_INFO[64] (the service's Y and AUTH); what
 * follows is padding and ignored. */
int tk_hs_rendezvous2_decode(const uint8_t *body, size_t len,
			     uint8_t handshake_info[TK_HS_NTOR_REPLY_LEN]);

/* What goes into INTRODUCE1. */
struct tk_hs_intro1 {
	/* The introduction point (from the descriptor). */
	uint8_t auth_key[32]; /* AUTH_KEY: its KP_hs_ipt_sid */
	/* The encrypted plaintext, for the service. */
	uint8_t rend_cookie[TK_HS_REND_COOKIE_LEN];
	int cc_request;		     /* ask for congestion control */
	uint8_t rp_onion_key[32];    /* the rendezvous point's ntor key */
	const uint8_t *rp_linkspecs; /* its link specifier block */
	size_t rp_linkspecs_len;
};

/* The plaintext of INTRODUCE1's encrypted part: RENDEZVOUS_COOKIE,
 * extensions, ONION_KEY_TYPE 01, ONION_KEY_LEN, ONION_KEY, the rendezvous
 * point's link specifiers, then NUL padding so that header_len plus the
 * plaintext reach TK_HS_INTRO1_MIN_SIZE, as C tor pads. Returns its
 * length or a negative TK_RELAY_E* code. */
long tk_hs_intro1_plaintext(const struct tk_hs_intro1 *in, size_t header_len,
			    uint8_t *out, size_t cap);

/* The whole INTRODUCE1 body: LEGACY_KEY_ID[20] = 0, AUTH_KEY_TYPE 02,
 * AUTH_KEY_LEN, AUTH_KEY, N_EXTENSIONS 0, then the plaintext encrypted
 * and authenticated with st (tk_hs_ntor_client_init with this auth_key).
 * Returns its length, or a negative code (it does not fit one relay
 * message: too many link specifiers). */
long tk_hs_introduce1_encode(const struct tk_hs_intro1 *in,
			     const struct tk_hs_ntor_client *st, uint8_t *out,
			     size_t cap);

#endif
