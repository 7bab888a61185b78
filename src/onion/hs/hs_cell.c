/* Rendezvous-protocol relay message bodies, client side. */
#include "onion/hs/hs_cell.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/hs/hs_linkspec.h"

#define AUTH_KEY_TYPE_ED25519 2
#define ONION_KEY_TYPE_NTOR 1

int
tk_hs_establish_rendezvous_encode(const uint8_t cookie[TK_HS_REND_COOKIE_LEN],
				  uint8_t *out, size_t cap)
{
	if (cap < TK_HS_REND_COOKIE_LEN)
		return TK_RELAY_ESPACE;
	memcpy(out, cookie, TK_HS_REND_COOKIE_LEN);
	return TK_HS_REND_COOKIE_LEN;
}

int
tk_hs_rendezvous_established_decode(const uint8_t *body, size_t len)
{
	(void)body;
	(void)len;
	return TK_RELAY_OK;
}

int
tk_hs_introduce_ack_decode(const uint8_t *body, size_t len,
			   struct tk_hs_intro_ack *out)
{
	tk_reader r;
	memset(out, 0, sizeof *out);
	tk_reader_init(&r, body, len);
	tk_reader_u16(&r, &out->status);
	tk_reader_u8(&r, &out->n_ext);
	for (unsigned i = 0; i < out->n_ext && !r.err; i++) {
		uint8_t type, elen;
		tk_reader_u8(&r, &type);
		tk_reader_u8(&r, &elen);
		tk_reader_skip(&r, elen);
	}
	if (r.err) {
		memset(out, 0, sizeof *out);
		return TK_RELAY_ETRUNC;
	}
	return TK_RELAY_OK;
}

int
tk_hs_rendezvous2_decode(const uint8_t *body, size_t len,
			 uint8_t handshake_info[TK_HS_NTOR_REPLY_LEN])
{
	if (len < TK_HS_NTOR_REPLY_LEN) {
		memset(handshake_info, 0, TK_HS_NTOR_REPLY_LEN);
		return TK_RELAY_ETRUNC;
	}
	memcpy(handshake_info, body, TK_HS_NTOR_REPLY_LEN);
	return TK_RELAY_OK;
}

long
tk_hs_intro1_plaintext(const struct tk_hs_intro1 *in, size_t header_len,
		       uint8_t *out, size_t cap)
{
	struct tk_hs_linkspecs ls;
	tk_writer w;
	if (tk_hs_linkspecs_parse(in->rp_linkspecs, in->rp_linkspecs_len, &ls) <
	    0)
		return TK_RELAY_ELINKSPEC;
	tk_writer_init(&w, out, cap);
	tk_writer_bytes(&w, in->rend_cookie, TK_HS_REND_COOKIE_LEN);
	if (in->cc_request) {
		tk_writer_u8(&w, 1);
		tk_writer_u8(&w, TK_HS_INTRO_EXT_CC_REQUEST);
		tk_writer_u8(&w, 0);
	} else {
		tk_writer_u8(&w, 0);
	}
	tk_writer_u8(&w, ONION_KEY_TYPE_NTOR);
	tk_writer_u16(&w, 32);
	tk_writer_bytes(&w, in->rp_onion_key, 32);
	tk_writer_bytes(&w, in->rp_linkspecs, in->rp_linkspecs_len);
	if (header_len + w.len < TK_HS_INTRO1_MIN_SIZE)
		tk_writer_zero(&w, TK_HS_INTRO1_MIN_SIZE - header_len - w.len);
	return w.err ? TK_RELAY_ESPACE : (long)w.len;
}

long
tk_hs_introduce1_encode(const struct tk_hs_intro1 *in,
			const struct tk_hs_ntor_client *st, uint8_t *out,
			size_t cap)
{
	uint8_t plain[TK_RELAY_DATA_MAX];
	long plen, elen;
	tk_writer w;

	tk_writer_init(&w, out, cap);
	tk_writer_zero(&w, 20); /* LEGACY_KEY_ID: none, a v3 cell */
	tk_writer_u8(&w, AUTH_KEY_TYPE_ED25519);
	tk_writer_u16(&w, 32);
	tk_writer_bytes(&w, in->auth_key, 32);
	tk_writer_u8(&w, 0); /* N_EXTENSIONS */
	if (w.err)
		return TK_RELAY_ESPACE;
	plen = tk_hs_intro1_plaintext(in, w.len, plain, sizeof plain);
	if (plen < 0)
		return plen;
	elen = tk_hs_ntor_client_encrypt(st, out, w.len, plain, (size_t)plen,
					 out + w.len, cap - w.len);
	tk_wipe(plain, sizeof plain);
	if (elen < 0)
		return TK_RELAY_ETOOBIG;
	return (long)w.len + elen;
}
