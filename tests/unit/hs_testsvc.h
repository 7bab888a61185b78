/* The service side of onion services, for tests only: what a tor onion
 * service does to its keys, its descriptor and the introduction
 * handshake, written from rend-spec-v3 so the client side can be tested
 * against descriptors and replies made here, tampered with at will.
 * Built over libsodium's Ed25519 scalar and point operations and the
 * engine's base layer. */
#ifndef TK_TESTS_HS_TESTSVC_H
#define TK_TESTS_HS_TESTSVC_H

#include <stddef.h>
#include <stdint.h>

/* An Ed25519 key as Tor keeps it: the expanded secret key a | prefix and
 * the public key A = aB. */
struct tsvc_key {
	uint8_t esk[64];
	uint8_t pub[32];
};
/* From a 32-byte seed, as Ed25519 expands it. */
void tsvc_key_from_seed(const uint8_t seed[32], struct tsvc_key *k);
/* From an expanded secret key. */
void tsvc_key_from_esk(const uint8_t esk[64], struct tsvc_key *k);
/* Key blinding of the secret half (rend-spec-v3 A.2): a' = h a mod l,
 * prefix' = SHA-512("Derive temporary signing key hash input" |
 * prefix)[:32], with h the clamped param. */
void tsvc_key_blind(const struct tsvc_key *k, const uint8_t param[32],
		    struct tsvc_key *out);
/* Ed25519 signature with an expanded key. */
void tsvc_sign(const struct tsvc_key *k, const void *msg, size_t len,
	       uint8_t sig[64]);

/* An Ed25519 certificate (cert-spec §2.1) of type `type` certifying
 * `certified`, with the signed-with-key extension naming signer, expiring
 * at exp_hours (hours since the epoch). Returns its length (140). */
size_t tsvc_cert(uint8_t type, const uint8_t certified[32],
		 const struct tsvc_key *signer, uint32_t exp_hours,
		 uint8_t out[140]);

/* Text helpers: "keyword\n-----BEGIN label-----\n...64-column base64
 * ...\n-----END label-----\n" appended to a growing string. */
struct tsvc_buf {
	char *p;
	size_t len, cap;
};
void tsvc_printf(struct tsvc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tsvc_object(struct tsvc_buf *b, const char *label, const uint8_t *data,
		 size_t len);
void tsvc_buf_free(struct tsvc_buf *b);
/* base64 of n bytes into a static buffer (pad: with '='). */
const char *tsvc_b64(const uint8_t *in, size_t n, int pad);

/* One introduction point as a service lists it. */
struct tsvc_intro {
	uint8_t linkspecs[128];
	size_t linkspecs_len;
	uint8_t onion_key[32];
	struct tsvc_key auth; /* KP_hs_ipt_sid */
	uint8_t enc_sk[32], enc_pk[32]; /* KS/KP_hss_ntor */
};
/* A plausible introduction point from a seed byte: IPv4 127.0.0.n:5000+n,
 * legacy id and Ed25519 id derived from n, fresh keys from n. */
void tsvc_intro_make(uint8_t n, struct tsvc_intro *ip);
/* Its section of the second layer; certs signed by signing, expiring at
 * exp_hours. */
void tsvc_intro_text(struct tsvc_buf *b, const struct tsvc_intro *ip,
		     const struct tsvc_key *signing, uint32_t exp_hours);

/* Everything a descriptor is made of. */
struct tsvc_desc {
	const struct tsvc_key *identity; /* KS/KP_hs_id */
	uint64_t period_num, period_len;
	const struct tsvc_key *signing; /* KS/KP_hs_desc_sign */
	uint32_t cert_exp_hours;	/* of the signing-key cert */
	uint64_t revision;
	unsigned lifetime_min;
	const char *inner; /* the second layer's plaintext */
	/* Client authorization: n_clients x25519 public keys; none means
	 * 16 fake auth-client lines and no cookie. */
	size_t n_clients;
	const uint8_t (*client_pk)[32];
	uint8_t cookie[16];
	/* Hooks for tampering: the first-layer text as built (may be
	 * replaced), and a blinded key other than the one the identity
	 * gives (NULL: the right one). */
	const char *middle_override;
	const struct tsvc_key *blinded_override;
};
/* The signed descriptor text (allocated, NUL-terminated); *blinded and
 * *subcred (may be NULL) receive what the client must derive. */
char *tsvc_desc_build(const struct tsvc_desc *d, uint8_t blinded[32],
		      uint8_t subcred[32]);

/* hs-ntor, the service's half (rend-spec-v3 §3.3.2): checks and opens
 * an INTRODUCE2 body (= INTRODUCE1's) with the introduction point's
 * auth key and enc key b, replies with y: reply = Y | AUTH, *key_seed =
 * NTOR_KEY_SEED, plain (up to plain_cap) the decrypted plaintext. Returns
 * the plaintext length, or -1 if the MAC does not match. */
long tsvc_ntor_server(const uint8_t *body, size_t len,
		      const uint8_t auth_key[32], const uint8_t b_sk[32],
		      const uint8_t subcred[32], const uint8_t y[32],
		      uint8_t reply[64], uint8_t key_seed[32], uint8_t *plain,
		      size_t plain_cap);

#endif
