/* ntor_v3.h: the ntor v3 handshake (proposal 332) and its message
 * format. Every hash input is fed in pieces, in the order prop 332 lists
 * them; ENCAP(s) is an 8-byte big-endian length then s. */
#include "onion/circ/ntor_v3.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/keccak.h"

#define PROTOID "ntor3-curve25519-sha3_256-1"
#define T_MSGKDF PROTOID ":kdf_phase1"
#define T_MSGMAC PROTOID ":msg_mac"
#define T_KEY_SEED PROTOID ":key_seed"
#define T_VERIFY PROTOID ":verify"
#define T_FINAL PROTOID ":kdf_final"
#define T_AUTH PROTOID ":auth_final"

static void
add(tk_keccak *k, const void *p, size_t n)
{
	tk_keccak_absorb(k, p, n);
}

static void
add_encap(tk_keccak *k, const void *p, size_t n)
{
	uint8_t len[8];
	uint64_t v = n;
	for (int i = 7; i >= 0; i--) {
		len[i] = (uint8_t)v;
		v >>= 8;
	}
	tk_keccak_absorb(k, len, sizeof len);
	tk_keccak_absorb(k, p, n);
}

static void
add_str(tk_keccak *k, const char *s)
{
	tk_keccak_absorb(k, s, strlen(s));
}

/* H(s, t) and MAC(k, s, t) start with ENCAP(t) [| ENCAP(key)]. */
static void
hash_start(tk_keccak *k, const char *tweak)
{
	tk_sha3_256_init(k);
	add_encap(k, tweak, strlen(tweak));
}

/* KDF_msgkdf(Bx | ID | X | B | PROTOID | ENCAP(VER)) -> ENC_K1, MAC_K1.
 * The client's Bx equals the relay's Xb. */
static void
phase1_keys(const uint8_t dh[32], const uint8_t id[32], const uint8_t X[32],
	    const uint8_t B[32], const uint8_t *ver, size_t ver_len,
	    uint8_t enc_k1[32], uint8_t mac_k1[32])
{
	tk_keccak k;
	tk_shake256_init(&k);
	add_encap(&k, T_MSGKDF, strlen(T_MSGKDF));
	add(&k, dh, 32);
	add(&k, id, 32);
	add(&k, X, 32);
	add(&k, B, 32);
	add_str(&k, PROTOID);
	add_encap(&k, ver, ver_len);
	tk_shake256_squeeze(&k, enc_k1, 32);
	tk_shake256_squeeze(&k, mac_k1, 32);
	tk_keccak_wipe(&k);
}

/* MAC_msgmac(MAC_K1, ID | B | X | encrypted_msg). */
static void
msg_mac(const uint8_t mac_k1[32], const uint8_t id[32], const uint8_t B[32],
	const uint8_t X[32], const uint8_t *enc, size_t enc_len,
	uint8_t out[32])
{
	tk_keccak k;
	hash_start(&k, T_MSGMAC);
	add_encap(&k, mac_k1, 32);
	add(&k, id, 32);
	add(&k, B, 32);
	add(&k, X, 32);
	add(&k, enc, enc_len);
	tk_sha3_256_final(&k, out);
}

static int
aes256_ctr(const uint8_t key[32], const uint8_t *in, uint8_t *out, size_t n)
{
	tk_aes_ctr c;
	if (tk_aes_ctr_init_bits(&c, key, 256, NULL) != 0)
		return -1;
	tk_aes_ctr_crypt(&c, in, out, n);
	tk_aes_ctr_free(&c);
	return 0;
}

/* From secret_input = DH1 | DH2 | ID | B | X | Y | PROTOID | ENCAP(VER):
 * key_seed and verify. Client: DH1 = Yx, DH2 = Bx; relay: Xy, Xb. */
static void
seed_and_verify(const uint8_t dh1[32], const uint8_t dh2[32],
		const uint8_t id[32], const uint8_t B[32], const uint8_t X[32],
		const uint8_t Y[32], const uint8_t *ver, size_t ver_len,
		uint8_t key_seed[32], uint8_t verify[32])
{
	const char *tweaks[2] = { T_KEY_SEED, T_VERIFY };
	uint8_t *outs[2] = { key_seed, verify };
	for (int i = 0; i < 2; i++) {
		tk_keccak k;
		hash_start(&k, tweaks[i]);
		add(&k, dh1, 32);
		add(&k, dh2, 32);
		add(&k, id, 32);
		add(&k, B, 32);
		add(&k, X, 32);
		add(&k, Y, 32);
		add_str(&k, PROTOID);
		add_encap(&k, ver, ver_len);
		tk_sha3_256_final(&k, outs[i]);
	}
}

/* H_auth(verify | ID | B | Y | X | MAC | ENCAP(MSG) | PROTOID | "Server") */
static void
auth_value(const uint8_t verify[32], const uint8_t id[32], const uint8_t B[32],
	   const uint8_t Y[32], const uint8_t X[32], const uint8_t mac[32],
	   const uint8_t *msg, size_t msg_len, uint8_t out[32])
{
	tk_keccak k;
	hash_start(&k, T_AUTH);
	add(&k, verify, 32);
	add(&k, id, 32);
	add(&k, B, 32);
	add(&k, Y, 32);
	add(&k, X, 32);
	add(&k, mac, 32);
	add_encap(&k, msg, msg_len);
	add_str(&k, PROTOID);
	add_str(&k, "Server");
	tk_sha3_256_final(&k, out);
}

/* KDF_final(key_seed): ENC_KEY, then the circuit's key material. */
static void
final_keys(const uint8_t key_seed[32], uint8_t enc_key[32], uint8_t *keys,
	   size_t keys_len)
{
	tk_keccak k;
	tk_shake256_init(&k);
	add_encap(&k, T_FINAL, strlen(T_FINAL));
	add(&k, key_seed, 32);
	tk_shake256_squeeze(&k, enc_key, 32);
	tk_shake256_squeeze(&k, keys, keys_len);
	tk_keccak_wipe(&k);
}

long
tk_ntor3_client_create_with(tk_ntor3_state *st, const uint8_t id[32],
			    const uint8_t B[32], const uint8_t x[32],
			    const void *ver, size_t ver_len, const uint8_t *msg,
			    size_t msg_len, uint8_t *out, size_t cap)
{
	uint8_t enc_k1[32], mac_k1[32];
	size_t n = TK_NTOR3_CLIENT_OVERHEAD + msg_len;
	long rc = -1;

	memset(st, 0, sizeof *st);
	if (msg_len > TK_NTOR3_MSG_MAX || ver_len > TK_NTOR3_VER_MAX || cap < n)
		return -1;
	memcpy(st->id, id, 32);
	memcpy(st->B, B, 32);
	memcpy(st->x, x, 32);
	memcpy(st->ver, ver, ver_len);
	st->ver_len = ver_len;
	tk_x25519_public(x, st->X);
	if (tk_x25519(st->Bx, x, B) != 0)
		goto out;
	phase1_keys(st->Bx, id, st->X, B, st->ver, ver_len, enc_k1, mac_k1);
	memcpy(out, id, 32);
	memcpy(out + 32, B, 32);
	memcpy(out + 64, st->X, 32);
	if (aes256_ctr(enc_k1, msg, out + 96, msg_len) != 0)
		goto out;
	msg_mac(mac_k1, id, B, st->X, out + 96, msg_len, st->mac);
	memcpy(out + 96 + msg_len, st->mac, 32);
	rc = (long)n;
out:
	tk_wipe(enc_k1, sizeof enc_k1);
	tk_wipe(mac_k1, sizeof mac_k1);
	if (rc < 0)
		tk_ntor3_state_wipe(st);
	return rc;
}

long
tk_ntor3_client_create(tk_ntor3_state *st, const uint8_t id[32],
		       const uint8_t B[32], const void *ver, size_t ver_len,
		       const uint8_t *msg, size_t msg_len, uint8_t *out,
		       size_t cap)
{
	uint8_t x[32], X[32];
	long rc;
	tk_x25519_keygen(x, X);
	rc = tk_ntor3_client_create_with(st, id, B, x, ver, ver_len, msg,
					 msg_len, out, cap);
	tk_wipe(x, sizeof x);
	return rc;
}

int
tk_ntor3_client_finish(const tk_ntor3_state *st, const uint8_t *reply,
		       size_t reply_len, uint8_t *keys, size_t keys_len,
		       uint8_t *msg, size_t msg_cap, size_t *msg_len)
{
	uint8_t Yx[32], key_seed[32], verify[32], auth[32], enc_key[32];
	const uint8_t *Y = reply, *their_auth = reply + 32;
	const uint8_t *enc = reply + 64;
	size_t enc_len;
	int rc = -1;

	*msg_len = 0;
	if (reply_len < TK_NTOR3_SERVER_OVERHEAD)
		return -1;
	enc_len = reply_len - TK_NTOR3_SERVER_OVERHEAD;
	if (enc_len > msg_cap)
		return -1;
	if (tk_x25519(Yx, st->x, Y) != 0)
		goto out;
	seed_and_verify(Yx, st->Bx, st->id, st->B, st->X, Y, st->ver,
			st->ver_len, key_seed, verify);
	auth_value(verify, st->id, st->B, Y, st->X, st->mac, enc, enc_len,
		   auth);
	if (!tk_ct_memeq(auth, their_auth, 32))
		goto out;
	final_keys(key_seed, enc_key, keys, keys_len);
	if (aes256_ctr(enc_key, enc, msg, enc_len) != 0) {
		tk_wipe(keys, keys_len);
		goto out;
	}
	*msg_len = enc_len;
	rc = 0;
out:
	tk_wipe(Yx, sizeof Yx);
	tk_wipe(key_seed, sizeof key_seed);
	tk_wipe(verify, sizeof verify);
	tk_wipe(enc_key, sizeof enc_key);
	return rc;
}

void
tk_ntor3_state_wipe(tk_ntor3_state *st)
{
	tk_wipe(st, sizeof *st);
}

int
tk_ntor3_server_receive(tk_ntor3_server_state *st, const uint8_t id[32],
			const uint8_t b[32], const uint8_t B[32],
			const void *ver, size_t ver_len, const uint8_t *skin,
			size_t skin_len, uint8_t *msg, size_t msg_cap,
			size_t *msg_len)
{
	uint8_t enc_k1[32], mac_k1[32], mac[32];
	size_t enc_len;
	int rc = -1;

	memset(st, 0, sizeof *st);
	*msg_len = 0;
	if (skin_len < TK_NTOR3_CLIENT_OVERHEAD || ver_len > TK_NTOR3_VER_MAX)
		return -1;
	enc_len = skin_len - TK_NTOR3_CLIENT_OVERHEAD;
	if (enc_len > msg_cap || !tk_ct_memeq(skin, id, 32) ||
	    !tk_ct_memeq(skin + 32, B, 32))
		return -1;
	memcpy(st->id, id, 32);
	memcpy(st->B, B, 32);
	memcpy(st->X, skin + 64, 32);
	memcpy(st->ver, ver, ver_len);
	st->ver_len = ver_len;
	if (tk_x25519(st->Xb, b, st->X) != 0)
		goto out;
	phase1_keys(st->Xb, id, st->X, B, st->ver, ver_len, enc_k1, mac_k1);
	msg_mac(mac_k1, id, B, st->X, skin + 96, enc_len, mac);
	if (!tk_ct_memeq(mac, skin + 96 + enc_len, 32))
		goto out;
	memcpy(st->mac, mac, 32);
	if (aes256_ctr(enc_k1, skin + 96, msg, enc_len) != 0)
		goto out;
	*msg_len = enc_len;
	rc = 0;
out:
	tk_wipe(enc_k1, sizeof enc_k1);
	tk_wipe(mac_k1, sizeof mac_k1);
	if (rc < 0)
		tk_wipe(st, sizeof *st);
	return rc;
}

long
tk_ntor3_server_reply(tk_ntor3_server_state *st, const uint8_t *y,
		      const uint8_t *msg, size_t msg_len, uint8_t *out,
		      size_t cap, uint8_t *keys, size_t keys_len)
{
	uint8_t yy[32], Y[32], Xy[32], key_seed[32], verify[32], enc_key[32];
	size_t n = TK_NTOR3_SERVER_OVERHEAD + msg_len;
	long rc = -1;

	if (msg_len > TK_NTOR3_MSG_MAX || cap < n)
		goto out;
	if (y) {
		memcpy(yy, y, 32);
		tk_x25519_public(yy, Y);
	} else {
		tk_x25519_keygen(yy, Y);
	}
	if (tk_x25519(Xy, yy, st->X) != 0)
		goto out;
	seed_and_verify(Xy, st->Xb, st->id, st->B, st->X, Y, st->ver,
			st->ver_len, key_seed, verify);
	final_keys(key_seed, enc_key, keys, keys_len);
	memcpy(out, Y, 32);
	if (aes256_ctr(enc_key, msg, out + 64, msg_len) != 0)
		goto out;
	auth_value(verify, st->id, st->B, Y, st->X, st->mac, out + 64, msg_len,
		   out + 32);
	rc = (long)n;
out:
	tk_wipe(yy, sizeof yy);
	tk_wipe(Xy, sizeof Xy);
	tk_wipe(key_seed, sizeof key_seed);
	tk_wipe(verify, sizeof verify);
	tk_wipe(enc_key, sizeof enc_key);
	tk_wipe(st, sizeof *st);
	return rc;
}

size_t
tk_ntor3_msg_cc_request(uint8_t out[3])
{
	out[0] = 1; /* one extension */
	out[1] = TK_NTOR3_EXT_CC_REQUEST;
	out[2] = 0;
	return 3;
}

int
tk_ntor3_msg_find(const uint8_t *msg, size_t len, uint8_t type,
		  const uint8_t **body, size_t *body_len)
{
	size_t off = 1;
	int found = 0;
	unsigned n;

	*body = NULL;
	*body_len = 0;
	if (len < 1)
		return -1;
	n = msg[0];
	/* Walk every extension: a malformed one anywhere refuses the whole
	 * message, even after the one we wanted. */
	for (unsigned i = 0; i < n; i++) {
		size_t elen;
		if (len - off < 2)
			return -1;
		elen = msg[off + 1];
		if (len - off - 2 < elen)
			return -1;
		if (!found && msg[off] == type) {
			*body = msg + off + 2;
			*body_len = elen;
			found = 1;
		}
		off += 2 + elen;
	}
	/* Bytes after the last extension are ignored, as tor's parser
	 * (trunnel) ignores them. */
	return found;
}
