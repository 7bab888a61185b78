/* Crypto primitives the Tor client needs, over mbedTLS 2.28 and libsodium.
 *
 * Everything returns 0 on success and -1 on failure unless stated. Contexts
 * are plain structs so callers can embed them; each has a _free that wipes
 * it. tk_crypto_init() must be called once before anything else (it
 * initialises libsodium's RNG). No TLS here: see the link layer. */
#ifndef TK_ONION_BASE_CRYPTO_H
#define TK_ONION_BASE_CRYPTO_H

#include <mbedtls/aes.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TK_SHA1_LEN 20
#define TK_SHA256_LEN 32
#define TK_AES128_KEY_LEN 16
#define TK_AES256_KEY_LEN 32
#define TK_X25519_LEN 32
#define TK_ED25519_PUB_LEN 32
#define TK_ED25519_SIG_LEN 64
#define TK_RSA_ID_LEN 20 /* SHA-1 of the PKCS#1 DER public key */

int tk_crypto_init(void);

/* Fills buf with cryptographically secure random bytes. */
void tk_random(void *buf, size_t n);
/* Cheap unpredictable bytes for padding (a user-space ChaCha20 stream
 * keyed from tk_random); never for key material. */
void tk_random_fast(void *buf, size_t n);

/* One-shot digests. */
void tk_sha1(const void *msg, size_t len, uint8_t out[TK_SHA1_LEN]);
void tk_sha256(const void *msg, size_t len, uint8_t out[TK_SHA256_LEN]);

/* Running digests. _peek gives the digest of everything so far without
 * ending the running state (Tor's relay-cell digest is used this way);
 * _clone copies the state (dst must be initialised or freed-then-init). */
typedef struct tk_sha1_ctx {
	mbedtls_sha1_context c;
} tk_sha1_ctx;
void tk_sha1_init(tk_sha1_ctx *ctx);
void tk_sha1_update(tk_sha1_ctx *ctx, const void *msg, size_t len);
void tk_sha1_peek(const tk_sha1_ctx *ctx, uint8_t out[TK_SHA1_LEN]);
void tk_sha1_clone(tk_sha1_ctx *dst, const tk_sha1_ctx *src);
void tk_sha1_free(tk_sha1_ctx *ctx);

typedef struct tk_sha256_ctx {
	mbedtls_sha256_context c;
} tk_sha256_ctx;
void tk_sha256_init(tk_sha256_ctx *ctx);
void tk_sha256_update(tk_sha256_ctx *ctx, const void *msg, size_t len);
void tk_sha256_peek(const tk_sha256_ctx *ctx, uint8_t out[TK_SHA256_LEN]);
void tk_sha256_clone(tk_sha256_ctx *dst, const tk_sha256_ctx *src);
void tk_sha256_free(tk_sha256_ctx *ctx);

void tk_hmac_sha256(const void *key, size_t keylen, const void *msg,
		    size_t msglen, uint8_t out[TK_SHA256_LEN]);
/* RFC 5869 HKDF-SHA256 (extract then expand); outlen <= 255*32. */
int tk_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
		   size_t ikmlen, const void *info, size_t infolen,
		   uint8_t *out, size_t outlen);

/* AES-128 in counter mode as a continuous key stream: successive
 * tk_aes_ctr_crypt calls continue where the last one stopped, whatever
 * the chunk sizes. iv NULL means an all-zero IV (Tor's relay crypto). */
typedef struct tk_aes_ctr {
	mbedtls_aes_context aes;
	uint8_t counter[16];
	uint8_t stream[16];
	size_t off;
} tk_aes_ctr;
int tk_aes_ctr_init(tk_aes_ctr *c, const uint8_t key[TK_AES128_KEY_LEN],
		    const uint8_t iv[16]);
/* The same with a 128-, 192- or 256-bit key (ntor v3 uses AES-256). */
int tk_aes_ctr_init_bits(tk_aes_ctr *c, const uint8_t *key, unsigned bits,
			 const uint8_t iv[16]);
/* in and out may be the same buffer. */
void tk_aes_ctr_crypt(tk_aes_ctr *c, const uint8_t *in, uint8_t *out, size_t n);
void tk_aes_ctr_clone(tk_aes_ctr *dst, const tk_aes_ctr *src);
void tk_aes_ctr_free(tk_aes_ctr *c);

/* RSA public keys. */
typedef struct tk_rsa_pub {
	mbedtls_pk_context pk;
} tk_rsa_pub;
void tk_rsa_pub_init(tk_rsa_pub *k);
void tk_rsa_pub_free(tk_rsa_pub *k);
/* DER: PKCS#1 RSAPublicKey or X.509 SubjectPublicKeyInfo. */
int tk_rsa_pub_from_der(tk_rsa_pub *k, const uint8_t *der, size_t len);
/* PEM text ("RSA PUBLIC KEY" as in Tor documents, or "PUBLIC KEY");
 * need not be NUL-terminated. */
int tk_rsa_pub_from_pem(tk_rsa_pub *k, const char *pem, size_t len);
/* Modulus size in bits (0 if unset). */
size_t tk_rsa_pub_bits(const tk_rsa_pub *k);
/* PKCS#1 RSAPublicKey DER encoding; returns its length, or -1. */
long tk_rsa_pub_to_der(const tk_rsa_pub *k, uint8_t *out, size_t cap);
/* Tor's RSA identity: SHA-1 of the PKCS#1 DER encoding. */
int tk_rsa_pub_fingerprint(const tk_rsa_pub *k, uint8_t out[TK_RSA_ID_LEN]);
/* PKCS#1 v1.5 signature over a raw digest WITHOUT DigestInfo, the way Tor
 * signs documents and cross-certificates. 0 valid, -1 not. */
int tk_rsa_verify_raw(const tk_rsa_pub *k, const uint8_t *digest, size_t dlen,
		      const uint8_t *sig, size_t siglen);
/* Standard PKCS#1 v1.5 with DigestInfo for SHA-1 (dlen 20) or SHA-256
 * (dlen 32). */
int tk_rsa_verify_digestinfo(const tk_rsa_pub *k, const uint8_t *digest,
			     size_t dlen, const uint8_t *sig, size_t siglen);

/* X.509 certificates (DER), as Tor's link and identity certs. */
typedef struct tk_x509 {
	mbedtls_x509_crt crt;
} tk_x509;
void tk_x509_init(tk_x509 *c);
void tk_x509_free(tk_x509 *c);
int tk_x509_parse(tk_x509 *c, const uint8_t *der, size_t len);
const uint8_t *tk_x509_der(const tk_x509 *c, size_t *len);
/* Copies the subject public key out; -1 if it is not RSA. */
int tk_x509_get_rsa_pub(const tk_x509 *c, tk_rsa_pub *out);
/* 1 if now lies within [notBefore, notAfter] (UTC), else 0. */
int tk_x509_valid_at(const tk_x509 *c, time_t now);
/* 0 if c's signature verifies under signer (RSA, PKCS#1 v1.5, the
 * digest named in c); -1 otherwise. No chain or CA-bit logic: Tor's certs
 * are not a PKI. */
int tk_x509_check_signed_by(const tk_x509 *c, const tk_rsa_pub *signer);

/* X25519 (RFC 7748 little-endian byte strings). */
void tk_x25519_keygen(uint8_t sk[TK_X25519_LEN], uint8_t pk[TK_X25519_LEN]);
void tk_x25519_public(const uint8_t sk[TK_X25519_LEN],
		      uint8_t pk[TK_X25519_LEN]);
/* -1 if the shared secret is all zeros (small-order peer key). */
int tk_x25519(uint8_t out[TK_X25519_LEN], const uint8_t sk[TK_X25519_LEN],
	      const uint8_t peer[TK_X25519_LEN]);

/* Ed25519 detached-signature check: 0 valid, -1 not. */
int tk_ed25519_verify(const uint8_t sig[TK_ED25519_SIG_LEN], const uint8_t *msg,
		      size_t len, const uint8_t pub[TK_ED25519_PUB_LEN]);

/* 1 if pub is a canonical encoding of an Ed25519 point of prime order
 * (not small-order, no torsion component), else 0. Onion addresses must
 * name such a key (rend-spec-v3 §2.2.7). */
int tk_ed25519_pub_valid(const uint8_t pub[TK_ED25519_PUB_LEN]);
/* out = k * pub, for a scalar k given as 32 little-endian bytes below
 * 2^255 (used as is: no clamping, no reduction); pub must pass
 * tk_ed25519_pub_valid. -1 if it does not, or if the result is the
 * identity. Key blinding (rend-spec-v3 appendix A.2) is this with a
 * clamped blinding factor. */
int tk_ed25519_scalarmult(uint8_t out[TK_ED25519_PUB_LEN], const uint8_t k[32],
			  const uint8_t pub[TK_ED25519_PUB_LEN]);

#endif
