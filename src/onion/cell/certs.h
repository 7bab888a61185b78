/* Validation of a relay's CERTS cell (tor-spec §4.2, cert-spec): which
 * identity does the responder prove, and does the proof cover the TLS
 * certificate it presented?
 *
 * Two paths, chosen like C tor does:
 *  - Ed25519 (a type-4 cert is present): type 2 RSA-1024 identity,
 *    self-signed; type 7 RSA->Ed25519 cross-cert signed by it; type 4
 *    Ed25519 identity -> signing key; type 5 signing key -> SHA-256 of the
 *    TLS certificate. Proves both identities. Type 1 is not consulted.
 *  - RSA only (no type 4): type 1 link cert == the TLS certificate,
 *    signed by the type-2 identity key. Proves the RSA identity only.
 * Every cert involved must be within its validity period at `now`. */
#ifndef TK_ONION_CELL_CERTS_H
#define TK_ONION_CELL_CERTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "onion/base/crypto.h"
#include "onion/cell/cell.h"

typedef struct tk_certs_result {
	uint8_t rsa_id[TK_RSA_ID_LEN]; /* SHA-1 of the PKCS#1 identity key */
	int ed_verified;	       /* 1 if the Ed25519 path was checked */
	uint8_t ed_id[32];	       /* Ed25519 identity, if ed_verified */
} tk_certs_result;

/* tls_der: the certificate the peer presented in the TLS handshake.
 * Returns 0 and fills res, or -1 with a one-line reason in err (which
 * names the certificate and what was wrong). The caller then compares
 * res->rsa_id (and res->ed_id when it knows one) with the identity it
 * expected. */
int tk_certs_check(const tk_certs *certs, const uint8_t *tls_der,
		   size_t tls_len, time_t now, tk_certs_result *res, char *err,
		   size_t errlen);

/* ---- Ed25519 certificates (cert-spec §2.1) ------------------------ */

enum tk_ed_cert_key_type {
	TK_ED_KEYTYPE_ED25519 = 1,
	TK_ED_KEYTYPE_SHA256_RSA = 2,
	TK_ED_KEYTYPE_SHA256_X509 = 3,
};

typedef struct tk_ed_cert {
	uint8_t cert_type;
	uint32_t expiration_hours; /* hours since the epoch */
	uint8_t key_type;
	uint8_t certified_key[32];
	int has_signer;		    /* extension 04 present */
	uint8_t signer[32];	    /* the key that signed this cert */
	const uint8_t *signed_part; /* everything before the signature */
	size_t signed_len;
	const uint8_t *sig; /* 64 bytes */
} tk_ed_cert;

/* Parses (views into p). Rejects: version != 1, truncation, trailing
 * bytes, a signed-with-key extension of the wrong length, and any unknown
 * extension flagged AFFECTS_VALIDATION. *why (optional) says which. */
int tk_ed_cert_parse(const uint8_t *p, size_t len, tk_ed_cert *out,
		     const char **why);
/* Checks the signature with signer (or, if NULL, the key in extension
 * 04, which must then be present) and that now is before the expiry. */
int tk_ed_cert_check(const tk_ed_cert *c, const uint8_t signer[32], time_t now,
		     const char **why);

/* ---- RSA -> Ed25519 cross-certificate (cert-spec §2.3, type 7) ----- */

typedef struct tk_rsa_crosscert {
	uint8_t ed_key[32];
	uint32_t expiration_hours;
	const uint8_t *signed_part; /* ED25519_KEY | EXPIRATION (36 bytes) */
	const uint8_t *sig;
	size_t siglen;
} tk_rsa_crosscert;

int tk_rsa_crosscert_parse(const uint8_t *p, size_t len, tk_rsa_crosscert *out,
			   const char **why);
/* RSA PKCS#1 v1.5 (no DigestInfo) by rsa over SHA-256("Tor TLS RSA/Ed25519
 * cross-certificate" | first 36 bytes), and not expired at now. */
int tk_rsa_crosscert_check(const tk_rsa_crosscert *c, const tk_rsa_pub *rsa,
			   time_t now, const char **why);

#endif
