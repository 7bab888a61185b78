/* ntor v1 client. */
#include "onion/circ/ntor.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"

#define PROTOID "ntor-curve25519-sha256-1"
#define PROTOID_LEN (sizeof PROTOID - 1)
static const char t_mac[] = PROTOID ":mac";
static const char t_key[] = PROTOID ":key_extract";
static const char t_verify[] = PROTOID ":verify";
static const char m_expand[] = PROTOID ":key_expand";

void
tk_ntor_client_create_with(tk_ntor_state *st, const uint8_t id[TK_NTOR_ID_LEN],
			   const uint8_t B[TK_NTOR_KEY_LEN],
			   const uint8_t x[TK_NTOR_KEY_LEN],
			   uint8_t onionskin[TK_NTOR_CLIENT_LEN])
{
	memcpy(st->id, id, TK_NTOR_ID_LEN);
	memcpy(st->B, B, TK_NTOR_KEY_LEN);
	memcpy(st->x, x, TK_NTOR_KEY_LEN);
	tk_x25519_public(st->x, st->X);
	memcpy(onionskin, id, TK_NTOR_ID_LEN);
	memcpy(onionskin + 20, B, TK_NTOR_KEY_LEN);
	memcpy(onionskin + 52, st->X, TK_NTOR_KEY_LEN);
}

void
tk_ntor_client_create(tk_ntor_state *st, const uint8_t id[TK_NTOR_ID_LEN],
		      const uint8_t B[TK_NTOR_KEY_LEN],
		      uint8_t onionskin[TK_NTOR_CLIENT_LEN])
{
	uint8_t x[TK_NTOR_KEY_LEN];
	tk_random(x, sizeof x);
	tk_ntor_client_create_with(st, id, B, x, onionskin);
	tk_wipe(x, sizeof x);
}

/* The part both sides compute: from the two DH results and the public
 * values, the AUTH the server must send and the key material. */
static int
ntor_derive(const uint8_t xy[32], const uint8_t xb[32], const uint8_t id[20],
	    const uint8_t B[32], const uint8_t X[32], const uint8_t Y[32],
	    uint8_t auth[32], uint8_t *keys, size_t keys_len)
{
	/* secret_input = EXP(Y,x) | EXP(B,x) | ID | B | X | Y | PROTOID */
	uint8_t si[32 + 32 + 20 + 32 + 32 + 32 + PROTOID_LEN];
	/* auth_input = verify | ID | B | Y | X | PROTOID | "Server" */
	uint8_t ai[32 + 20 + 32 + 32 + 32 + PROTOID_LEN + 6];

	memcpy(si, xy, 32);
	memcpy(si + 32, xb, 32);
	memcpy(si + 64, id, 20);
	memcpy(si + 84, B, 32);
	memcpy(si + 116, X, 32);
	memcpy(si + 148, Y, 32);
	memcpy(si + 180, PROTOID, PROTOID_LEN);

	tk_hmac_sha256(t_verify, sizeof t_verify - 1, si, sizeof si, ai);
	memcpy(ai + 32, id, 20);
	memcpy(ai + 52, B, 32);
	memcpy(ai + 84, Y, 32);
	memcpy(ai + 116, X, 32);
	memcpy(ai + 148, PROTOID, PROTOID_LEN);
	memcpy(ai + 148 + PROTOID_LEN, "Server", 6);
	tk_hmac_sha256(t_mac, sizeof t_mac - 1, ai, sizeof ai, auth);

	int rc = tk_hkdf_sha256(t_key, sizeof t_key - 1, si, sizeof si,
				m_expand, sizeof m_expand - 1, keys, keys_len);
	tk_wipe(si, sizeof si);
	tk_wipe(ai, sizeof ai);
	return rc;
}

int
tk_ntor_client_finish(const tk_ntor_state *st,
		      const uint8_t reply[TK_NTOR_SERVER_LEN], uint8_t *keys,
		      size_t keys_len)
{
	const uint8_t *Y = reply, *auth = reply + 32;
	uint8_t xy[32], xb[32], mac[32];
	int bad = 0;

	bad |= tk_x25519(xy, st->x, Y) != 0;
	bad |= tk_x25519(xb, st->x, st->B) != 0;
	bad |= ntor_derive(xy, xb, st->id, st->B, st->X, Y, mac, keys,
			   keys_len) != 0;
	/* Evaluate everything before deciding, so timing does not say which
	 * check failed. */
	bad |= !tk_ct_memeq(mac, auth, 32);
	tk_wipe(xy, sizeof xy);
	tk_wipe(xb, sizeof xb);
	if (bad)
		tk_wipe(keys, keys_len);
	return bad ? -1 : 0;
}

int
tk_ntor_server_respond(const uint8_t id[TK_NTOR_ID_LEN],
		       const uint8_t b[TK_NTOR_KEY_LEN],
		       const uint8_t onionskin[TK_NTOR_CLIENT_LEN],
		       const uint8_t y_in[TK_NTOR_KEY_LEN],
		       uint8_t reply[TK_NTOR_SERVER_LEN], uint8_t *keys,
		       size_t keys_len)
{
	uint8_t B[32], y[32], Y[32], xy[32], xb[32];
	const uint8_t *X = onionskin + 52;
	int bad = 0;

	tk_x25519_public(b, B);
	/* The client must be talking to this relay and this onion key. */
	bad |= !tk_ct_memeq(onionskin, id, TK_NTOR_ID_LEN);
	bad |= !tk_ct_memeq(onionskin + 20, B, 32);
	if (y_in)
		memcpy(y, y_in, 32);
	else
		tk_random(y, sizeof y);
	tk_x25519_public(y, Y);
	bad |= tk_x25519(xy, y, X) != 0;
	bad |= tk_x25519(xb, b, X) != 0;
	memcpy(reply, Y, 32);
	bad |= ntor_derive(xy, xb, id, B, X, Y, reply + 32, keys, keys_len) !=
	       0;
	tk_wipe(y, sizeof y);
	tk_wipe(xy, sizeof xy);
	tk_wipe(xb, sizeof xb);
	if (bad) {
		tk_wipe(reply, TK_NTOR_SERVER_LEN);
		tk_wipe(keys, keys_len);
	}
	return bad ? -1 : 0;
}

void
tk_ntor_state_wipe(tk_ntor_state *st)
{
	tk_wipe(st, sizeof *st);
}
