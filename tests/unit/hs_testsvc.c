/* The service side of onion services, for tests: see hs_testsvc.h. */
#include "hs_testsvc.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_crypto.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"

static void
reduce64(uint8_t out[32], const uint8_t in[64])
{
	uint8_t t[64];
	memcpy(t, in, 64);
	crypto_core_ed25519_scalar_reduce(out, t);
}

void
tsvc_key_from_esk(const uint8_t esk[64], struct tsvc_key *k)
{
	uint8_t a[32];
	memcpy(k->esk, esk, 64);
	/* a may exceed l: reduce before the base-point multiplication. */
	uint8_t wide[64] = { 0 };
	memcpy(wide, esk, 32);
	reduce64(a, wide);
	crypto_scalarmult_ed25519_base_noclamp(k->pub, a);
}

void
tsvc_key_from_seed(const uint8_t seed[32], struct tsvc_key *k)
{
	uint8_t h[64];
	crypto_hash_sha512(h, seed, 32);
	h[0] &= 248;
	h[31] &= 63;
	h[31] |= 64;
	tsvc_key_from_esk(h, k);
}

void
tsvc_key_blind(const struct tsvc_key *k, const uint8_t param[32],
	       struct tsvc_key *out)
{
	static const char str[] = "Derive temporary signing key hash input";
	uint8_t h[32], wide[64] = { 0 }, a[32], esk[64], d[64];
	crypto_hash_sha512_state st;
	memcpy(h, param, 32);
	h[0] &= 248;
	h[31] &= 63;
	h[31] |= 64;
	memcpy(wide, k->esk, 32);
	reduce64(a, wide);
	crypto_core_ed25519_scalar_mul(esk, a, h);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, (const uint8_t *)str, sizeof str - 1);
	crypto_hash_sha512_update(&st, k->esk + 32, 32);
	crypto_hash_sha512_final(&st, d);
	memcpy(esk + 32, d, 32);
	tsvc_key_from_esk(esk, out);
}

void
tsvc_sign(const struct tsvc_key *k, const void *msg, size_t len,
	  uint8_t sig[64])
{
	uint8_t h[64], r[32], R[32], kk[32], a[32], wide[64] = { 0 }, ka[32];
	crypto_hash_sha512_state st;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, k->esk + 32, 32);
	crypto_hash_sha512_update(&st, msg, len);
	crypto_hash_sha512_final(&st, h);
	reduce64(r, h);
	crypto_scalarmult_ed25519_base_noclamp(R, r);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, R, 32);
	crypto_hash_sha512_update(&st, k->pub, 32);
	crypto_hash_sha512_update(&st, msg, len);
	crypto_hash_sha512_final(&st, h);
	reduce64(kk, h);
	memcpy(wide, k->esk, 32);
	reduce64(a, wide);
	crypto_core_ed25519_scalar_mul(ka, kk, a);
	memcpy(sig, R, 32);
	crypto_core_ed25519_scalar_add(sig + 32, r, ka);
}

size_t
tsvc_cert(uint8_t type, const uint8_t certified[32],
	  const struct tsvc_key *signer, uint32_t exp_hours, uint8_t out[140])
{
	size_t n = 0;
	out[n++] = 1; /* version */
	out[n++] = type;
	out[n++] = (uint8_t)(exp_hours >> 24);
	out[n++] = (uint8_t)(exp_hours >> 16);
	out[n++] = (uint8_t)(exp_hours >> 8);
	out[n++] = (uint8_t)exp_hours;
	out[n++] = 1; /* CERT_KEY_TYPE: Ed25519 */
	memcpy(out + n, certified, 32);
	n += 32;
	out[n++] = 1; /* one extension: signed-with-key */
	out[n++] = 0;
	out[n++] = 32;
	out[n++] = 4;
	out[n++] = 0;
	memcpy(out + n, signer->pub, 32);
	n += 32;
	tsvc_sign(signer, out, n, out + n);
	return n + 64;
}

void
tsvc_printf(struct tsvc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
tsvc_object(struct tsvc_buf *b, const char *label, const uint8_t *data,
	    size_t len)
{
	size_t cap = (len + 2) / 3 * 4 + 1;
	char *t = malloc(cap);
	long n;
	if (!t)
		abort();
	n = tk_base64_encode(data, len, 1, t, cap);
	tsvc_printf(b, "-----BEGIN %s-----\n", label);
	for (long i = 0; i < n; i += 64)
		tsvc_printf(b, "%.*s\n", (int)(n - i < 64 ? n - i : 64), t + i);
	tsvc_printf(b, "-----END %s-----\n", label);
	free(t);
}

void
tsvc_buf_free(struct tsvc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

const char *
tsvc_b64(const uint8_t *in, size_t n, int pad)
{
	static char buf[8][256];
	static int next;
	char *out = buf[next++ % 8];
	tk_base64_encode(in, n, pad, out, 256);
	return out;
}

void
tsvc_intro_make(uint8_t n, struct tsvc_intro *ip)
{
	uint8_t seed[32];
	size_t o = 0;
	memset(ip, 0, sizeof *ip);
	ip->linkspecs[o++] = 3;
	ip->linkspecs[o++] = 0; /* IPv4 127.0.0.n:5000+n */
	ip->linkspecs[o++] = 6;
	ip->linkspecs[o++] = 127;
	ip->linkspecs[o++] = 0;
	ip->linkspecs[o++] = 0;
	ip->linkspecs[o++] = n;
	ip->linkspecs[o++] = (uint8_t)((5000 + n) >> 8);
	ip->linkspecs[o++] = (uint8_t)(5000 + n);
	ip->linkspecs[o++] = 2; /* legacy id */
	ip->linkspecs[o++] = 20;
	memset(ip->linkspecs + o, n, 20);
	o += 20;
	ip->linkspecs[o++] = 3; /* Ed25519 id */
	ip->linkspecs[o++] = 32;
	memset(ip->linkspecs + o, 0x80 | n, 32);
	o += 32;
	ip->linkspecs_len = o;
	memset(seed, 0x10 + n, 32);
	tsvc_key_from_seed(seed, &ip->auth);
	memset(ip->onion_key, 0x30 + n, 32);
	memset(ip->enc_sk, 0x50 + n, 32);
	tk_x25519_public(ip->enc_sk, ip->enc_pk);
}

void
tsvc_intro_text(struct tsvc_buf *b, const struct tsvc_intro *ip,
		const struct tsvc_key *signing, uint32_t exp_hours)
{
	uint8_t cert[140], ed_enc[32];
	size_t n;
	tsvc_printf(b, "introduction-point %s\n",
		    tsvc_b64(ip->linkspecs, ip->linkspecs_len, 1));
	tsvc_printf(b, "onion-key ntor %s\n", tsvc_b64(ip->onion_key, 32, 1));
	tsvc_printf(b, "auth-key\n");
	n = tsvc_cert(0x09, ip->auth.pub, signing, exp_hours, cert);
	tsvc_object(b, "ED25519 CERT", cert, n);
	tsvc_printf(b, "enc-key ntor %s\n", tsvc_b64(ip->enc_pk, 32, 1));
	tsvc_printf(b, "enc-key-cert\n");
	/* The certified key should be the Ed25519 form of enc_pk
	 * (prop 228); clients do not look at it. */
	memcpy(ed_enc, ip->enc_pk, 32);
	n = tsvc_cert(0x0b, ed_enc, signing, exp_hours, cert);
	tsvc_object(b, "ED25519 CERT", cert, n);
}

static char *
middle_text(const struct tsvc_desc *d, const uint8_t subcred[32],
	    const uint8_t *enc, size_t enc_len)
{
	struct tsvc_buf b = { 0 };
	uint8_t eph_sk[32], eph_pk[32];
	memset(eph_sk, 0x77, 32);
	tk_x25519_public(eph_sk, eph_pk);
	tsvc_printf(&b, "desc-auth-type x25519\n");
	tsvc_printf(&b, "desc-auth-ephemeral-key %s\n",
		    tsvc_b64(eph_pk, 32, 1));
	if (d->n_clients == 0) {
		for (uint8_t i = 0; i < 16; i++) {
			uint8_t id[8], iv[16], c[16];
			memset(id, i, 8);
			memset(iv, i, 16);
			memset(c, i, 16);
			tsvc_printf(&b, "auth-client %s %s %s\n",
				    tsvc_b64(id, 8, 1), tsvc_b64(iv, 16, 1),
				    tsvc_b64(c, 16, 1));
		}
	}
	for (size_t i = 0; i < d->n_clients; i++) {
		uint8_t seed[32], keys[40], iv[16], c[16];
		tk_x25519(seed, eph_sk, d->client_pk[i]);
		struct tk_hs_part in[] = { { subcred, 32 }, { seed, 32 } };
		tk_hs_kdf(in, 2, keys, 40);
		memset(iv, 0xa0 + (int)i, 16);
		tk_hs_stream(keys + 8, iv, d->cookie, c, 16);
		tsvc_printf(&b, "auth-client %s %s %s\n", tsvc_b64(keys, 8, 1),
			    tsvc_b64(iv, 16, 1), tsvc_b64(c, 16, 1));
	}
	tsvc_printf(&b, "encrypted\n");
	tsvc_object(&b, "MESSAGE", enc, enc_len);
	/* C tor leaves off the last newline. */
	b.p[--b.len] = '\0';
	return b.p;
}

char *
tsvc_desc_build(const struct tsvc_desc *d, uint8_t blinded_out[32],
		uint8_t subcred_out[32])
{
	struct tsvc_key blinded;
	struct tsvc_buf b = { 0 };
	uint8_t param[32], subcred[32], secret[48], salt[16], cert[140];
	uint8_t *inner_blob, *outer_blob, sig[64];
	size_t inner_len, outer_len, n, secret_len = 32;
	char *middle;
	static const char prefix[] = "Tor onion service descriptor sig v3";

	tk_hs_blind_factor(d->identity->pub, d->period_num, d->period_len,
			   param);
	tsvc_key_blind(d->identity, param, &blinded);
	tk_hs_subcredential(d->identity->pub, blinded.pub, subcred);
	if (d->blinded_override)
		blinded = *d->blinded_override;
	if (blinded_out)
		memcpy(blinded_out, blinded.pub, 32);
	if (subcred_out)
		memcpy(subcred_out, subcred, 32);

	memcpy(secret, blinded.pub, 32);
	if (d->n_clients) {
		memcpy(secret + 32, d->cookie, 16);
		secret_len = 48;
	}
	memset(salt, 0x01, 16);
	tk_hs_desc_layer_seal(d->inner, strlen(d->inner), 0, secret,
			      secret_len, subcred, d->revision,
			      "hsdir-encrypted-data", salt, &inner_blob,
			      &inner_len);
	middle = d->middle_override
			 ? strdup(d->middle_override)
			 : middle_text(d, subcred, inner_blob, inner_len);
	memset(salt, 0x02, 16);
	tk_hs_desc_layer_seal(middle, strlen(middle), 10000, blinded.pub, 32,
			      subcred, d->revision,
			      "hsdir-superencrypted-data", salt, &outer_blob,
			      &outer_len);

	tsvc_printf(&b, "hs-descriptor 3\ndescriptor-lifetime %u\n",
		    d->lifetime_min);
	tsvc_printf(&b, "descriptor-signing-key-cert\n");
	n = tsvc_cert(0x08, d->signing->pub, &blinded, d->cert_exp_hours,
		      cert);
	tsvc_object(&b, "ED25519 CERT", cert, n);
	tsvc_printf(&b, "revision-counter %llu\nsuperencrypted\n",
		    (unsigned long long)d->revision);
	tsvc_object(&b, "MESSAGE", outer_blob, outer_len);
	{
		size_t mlen = sizeof prefix - 1 + b.len;
		uint8_t *m = malloc(mlen);
		memcpy(m, prefix, sizeof prefix - 1);
		memcpy(m + sizeof prefix - 1, b.p, b.len);
		tsvc_sign(d->signing, m, mlen, sig);
		free(m);
	}
	tsvc_printf(&b, "signature %s\n", tsvc_b64(sig, 64, 0));
	free(inner_blob);
	free(outer_blob);
	free(middle);
	return b.p;
}

#define PROTOID "tor-hs-ntor-curve25519-sha3-256-1"

static void
cat(uint8_t *out, size_t *off, const void *p, size_t n)
{
	memcpy(out + *off, p, n);
	*off += n;
}

long
tsvc_ntor_server(const uint8_t *body, size_t len, const uint8_t auth_key[32],
		 const uint8_t b_sk[32], const uint8_t subcred[32],
		 const uint8_t y[32], uint8_t reply[64], uint8_t key_seed[32],
		 uint8_t *plain, size_t plain_cap)
{
	/* INTRODUCE1: LEGACY_KEY_ID[20] AUTH_KEY_TYPE AUTH_KEY_LEN[2]
	 * AUTH_KEY N_EXTENSIONS {..} ENCRYPTED. */
	size_t h = 20 + 1 + 2 + 32, nex;
	const uint8_t *X, *c, *mac;
	uint8_t B[32], Y[32], dh_xb[32], dh_xy[32], keys[64], m[32];
	uint8_t in[400], verify[32], ai[300];
	size_t off, clen;

	if (len < h + 1)
		return -1;
	nex = body[h++];
	for (size_t i = 0; i < nex; i++) {
		if (h + 2 > len)
			return -1;
		h += 2 + body[h + 1];
	}
	if (h + 64 > len)
		return -1;
	X = body + h;
	c = X + 32;
	clen = len - h - 64;
	mac = c + clen;
	tk_x25519_public(b_sk, B);
	tk_x25519(dh_xb, b_sk, X);
	struct tk_hs_part kin[] = {
		{ dh_xb, 32 },
		{ auth_key, 32 },
		{ X, 32 },
		{ B, 32 },
		{ PROTOID, sizeof PROTOID - 1 },
		{ PROTOID ":hs_key_extract", sizeof PROTOID ":hs_key_extract" - 1 },
		{ PROTOID ":hs_key_expand", sizeof PROTOID ":hs_key_expand" - 1 },
		{ subcred, 32 },
	};
	tk_hs_kdf(kin, 8, keys, 64);
	struct tk_hs_part mm[] = { { body, h + 32 + clen } };
	tk_hs_mac(keys + 32, 32, mm, 1, m);
	if (memcmp(m, mac, 32) != 0 || clen > plain_cap)
		return -1;
	tk_hs_stream(keys, NULL, c, plain, clen);

	tk_x25519_public(y, Y);
	tk_x25519(dh_xy, y, X);
	off = 0;
	cat(in, &off, dh_xy, 32);
	cat(in, &off, dh_xb, 32);
	cat(in, &off, auth_key, 32);
	cat(in, &off, B, 32);
	cat(in, &off, X, 32);
	cat(in, &off, Y, 32);
	cat(in, &off, PROTOID, sizeof PROTOID - 1);
	struct tk_hs_part t1[] = { { PROTOID ":hs_key_extract",
				     sizeof PROTOID ":hs_key_extract" - 1 } };
	struct tk_hs_part t2[] = { { PROTOID ":hs_verify",
				     sizeof PROTOID ":hs_verify" - 1 } };
	struct tk_hs_part t3[] = { { PROTOID ":hs_mac",
				     sizeof PROTOID ":hs_mac" - 1 } };
	tk_hs_mac(in, off, t1, 1, key_seed);
	tk_hs_mac(in, off, t2, 1, verify);
	off = 0;
	cat(ai, &off, verify, 32);
	cat(ai, &off, auth_key, 32);
	cat(ai, &off, B, 32);
	cat(ai, &off, Y, 32);
	cat(ai, &off, X, 32);
	cat(ai, &off, PROTOID, sizeof PROTOID - 1);
	cat(ai, &off, "Server", 6);
	memcpy(reply, Y, 32);
	tk_hs_mac(ai, off, t3, 1, reply + 32);
	return (long)clen;
}
