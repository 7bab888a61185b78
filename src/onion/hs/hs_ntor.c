/* hs-ntor, client side. */
#include "onion/hs/hs_ntor.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_crypto.h"

#define PROTOID "tor-hs-ntor-curve25519-sha3-256-1"
#define T_HSENC PROTOID ":hs_key_extract"
#define T_HSVERIFY PROTOID ":hs_verify"
#define T_HSMAC PROTOID ":hs_mac"
#define M_HSEXPAND PROTOID ":hs_key_expand"

#define S(str)                      \
	{                           \
		str, sizeof str - 1 \
	}

int
tk_hs_ntor_client_init(struct tk_hs_ntor_client *st, const uint8_t *x,
		       const uint8_t B[32], const uint8_t auth_key[32],
		       const uint8_t subcred[32])
{
	uint8_t dh[32], keys[64];
	memset(st, 0, sizeof *st);
	if (x)
		memcpy(st->x, x, 32);
	else
		tk_random(st->x, 32);
	tk_x25519_public(st->x, st->X);
	memcpy(st->B, B, 32);
	memcpy(st->auth_key, auth_key, 32);
	memcpy(st->subcred, subcred, 32);
	if (tk_x25519(dh, st->x, B) < 0) {
		tk_hs_ntor_client_wipe(st);
		return -1;
	}
	struct tk_hs_part in[] = {
		{ dh, 32 }, { auth_key, 32 }, { st->X, 32 }, { B, 32 },
		S(PROTOID), S(T_HSENC),	      S(M_HSEXPAND), { subcred, 32 },
	};
	tk_hs_kdf(in, ARRAY_SIZE(in), keys, sizeof keys);
	memcpy(st->enc_key, keys, 32);
	memcpy(st->mac_key, keys + 32, 32);
	tk_wipe(dh, sizeof dh);
	tk_wipe(keys, sizeof keys);
	return 0;
}

long
tk_hs_ntor_client_encrypt(const struct tk_hs_ntor_client *st,
			  const uint8_t *header, size_t header_len,
			  const uint8_t *plain, size_t plain_len, uint8_t *out,
			  size_t cap)
{
	size_t len = 32 + plain_len + 32;
	if (cap < len)
		return -1;
	memcpy(out, st->X, 32);
	if (tk_hs_stream(st->enc_key, NULL, plain, out + 32, plain_len) < 0)
		return -1;
	struct tk_hs_part m[] = {
		{ header, header_len },
		{ out, 32 + plain_len },
	};
	tk_hs_mac(st->mac_key, 32, m, ARRAY_SIZE(m), out + 32 + plain_len);
	return (long)len;
}

int
tk_hs_ntor_client_finish(const struct tk_hs_ntor_client *st,
			 const uint8_t reply[TK_HS_NTOR_REPLY_LEN],
			 uint8_t key_seed[32])
{
	const uint8_t *Y = reply, *auth = reply + 32;
	uint8_t dh_y[32], dh_b[32], verify[32], mac[32];
	int bad = 0;

	bad |= tk_x25519(dh_y, st->x, Y) < 0;
	bad |= tk_x25519(dh_b, st->x, st->B) < 0;
	struct tk_hs_part secret[] = {
		{ dh_y, 32 },  { dh_b, 32 },  { st->auth_key, 32 },
		{ st->B, 32 }, { st->X, 32 }, { Y, 32 },
		S(PROTOID),
	};
	/* The secret input is the MAC key here: MAC(rend_secret, t). */
	uint8_t input[32 * 6 + sizeof PROTOID - 1];
	size_t off = 0;
	for (size_t i = 0; i < ARRAY_SIZE(secret); i++) {
		memcpy(input + off, secret[i].p, secret[i].len);
		off += secret[i].len;
	}
	struct tk_hs_part t_enc[] = { S(T_HSENC) };
	struct tk_hs_part t_verify[] = { S(T_HSVERIFY) };
	tk_hs_mac(input, off, t_enc, 1, key_seed);
	tk_hs_mac(input, off, t_verify, 1, verify);
	struct tk_hs_part auth_input[] = {
		{ verify, 32 }, { st->auth_key, 32 }, { st->B, 32 }, { Y, 32 },
		{ st->X, 32 },	S(PROTOID),	      S("Server"),
	};
	/* AUTH_INPUT_MAC = MAC(auth_input, t_hsmac): auth_input is the
	 * key, t_hsmac the message. */
	uint8_t ai[32 * 5 + sizeof PROTOID - 1 + 6];
	off = 0;
	for (size_t i = 0; i < ARRAY_SIZE(auth_input); i++) {
		memcpy(ai + off, auth_input[i].p, auth_input[i].len);
		off += auth_input[i].len;
	}
	struct tk_hs_part t_mac[] = { S(T_HSMAC) };
	tk_hs_mac(ai, off, t_mac, 1, mac);
	bad |= !tk_ct_memeq(mac, auth, 32);
	tk_wipe(dh_y, sizeof dh_y);
	tk_wipe(dh_b, sizeof dh_b);
	tk_wipe(input, sizeof input);
	tk_wipe(verify, sizeof verify);
	if (bad) {
		tk_wipe(key_seed, 32);
		return -1;
	}
	return 0;
}

void
tk_hs_ntor_expand(const uint8_t key_seed[32], uint8_t keys[TK_HS_NTOR_KEYS_LEN])
{
	struct tk_hs_part in[] = { { key_seed, 32 }, S(M_HSEXPAND) };
	tk_hs_kdf(in, ARRAY_SIZE(in), keys, TK_HS_NTOR_KEYS_LEN);
}

void
tk_hs_ntor_client_wipe(struct tk_hs_ntor_client *st)
{
	tk_wipe(st, sizeof *st);
}
