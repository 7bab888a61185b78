/* CERTS cell validation: RSA-only and Ed25519 paths. */
#include "onion/cell/certs.h"

#include <stdio.h>
#include <string.h>

#include "onion/base/bytes.h"

#define ED_EXT_SIGNED_WITH_KEY 4
#define ED_EXT_FLAG_AFFECTS_VALIDATION 1
#define CROSSCERT_PREFIX "Tor TLS RSA/Ed25519 cross-certificate"

static int
why_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

/* Expiry rules as C tor applies them: an Ed25519 cert is valid while
 * now <= hours * 3600; the RSA cross-cert while hours >= now / 3600. */
static int
ed_expired(uint32_t hours, time_t now)
{
	return now >= 0 && (uint64_t)now > (uint64_t)hours * 3600u;
}

static int
crosscert_expired(uint32_t hours, time_t now)
{
	return now >= 0 && (uint64_t)hours < (uint64_t)now / 3600u;
}

int
tk_ed_cert_parse(const uint8_t *p, size_t len, tk_ed_cert *out,
		 const char **why)
{
	tk_reader r;
	uint8_t version, n_ext;
	memset(out, 0, sizeof *out);
	tk_reader_init(&r, p, len);
	tk_reader_u8(&r, &version);
	tk_reader_u8(&r, &out->cert_type);
	tk_reader_u32(&r, &out->expiration_hours);
	tk_reader_u8(&r, &out->key_type);
	tk_reader_copy(&r, out->certified_key, 32);
	tk_reader_u8(&r, &n_ext);
	if (r.err)
		return why_fail(why, "Ed25519 certificate truncated");
	if (version != 1)
		return why_fail(why, "Ed25519 certificate version is not 1");
	for (unsigned i = 0; i < n_ext; i++) {
		uint16_t elen;
		uint8_t etype, eflags;
		tk_reader_u16(&r, &elen);
		tk_reader_u8(&r, &etype);
		tk_reader_u8(&r, &eflags);
		const uint8_t *data = tk_reader_view(&r, elen);
		if (!data)
			return why_fail(why, "Ed25519 certificate extension "
					     "truncated");
		if (etype == ED_EXT_SIGNED_WITH_KEY) {
			if (elen != 32)
				return why_fail(why, "Ed25519 signed-with-key "
						     "extension is not 32 "
						     "bytes");
			if (out->has_signer)
				return why_fail(why, "Ed25519 certificate has "
						     "two signed-with-key "
						     "extensions");
			memcpy(out->signer, data, 32);
			out->has_signer = 1;
		} else if (eflags & ED_EXT_FLAG_AFFECTS_VALIDATION) {
			return why_fail(why, "Ed25519 certificate has an "
					     "unknown extension that affects "
					     "validation");
		}
	}
	out->signed_len = r.off;
	out->signed_part = p;
	out->sig = tk_reader_view(&r, TK_ED25519_SIG_LEN);
	if (!out->sig)
		return why_fail(why, "Ed25519 certificate signature truncated");
	if (tk_reader_left(&r) != 0)
		return why_fail(why, "Ed25519 certificate has trailing bytes");
	return 0;
}

int
tk_ed_cert_check(const tk_ed_cert *c, const uint8_t signer[32], time_t now,
		 const char **why)
{
	if (!signer) {
		if (!c->has_signer)
			return why_fail(why, "Ed25519 certificate does not "
					     "name its signing key");
		signer = c->signer;
	} else if (c->has_signer && !tk_ct_memeq(signer, c->signer, 32)) {
		return why_fail(why, "Ed25519 certificate names a different "
				     "signing key");
	}
	if (tk_ed25519_verify(c->sig, c->signed_part, c->signed_len, signer) !=
	    0)
		return why_fail(why, "Ed25519 certificate signature invalid");
	if (ed_expired(c->expiration_hours, now))
		return why_fail(why, "Ed25519 certificate expired");
	return 0;
}

int
tk_rsa_crosscert_parse(const uint8_t *p, size_t len, tk_rsa_crosscert *out,
		       const char **why)
{
	tk_reader r;
	uint8_t siglen;
	memset(out, 0, sizeof *out);
	tk_reader_init(&r, p, len);
	tk_reader_copy(&r, out->ed_key, 32);
	tk_reader_u32(&r, &out->expiration_hours);
	tk_reader_u8(&r, &siglen);
	out->sig = tk_reader_view(&r, siglen);
	if (r.err || !out->sig)
		return why_fail(why,
				"RSA->Ed25519 cross-certificate truncated");
	if (tk_reader_left(&r) != 0)
		return why_fail(why, "RSA->Ed25519 cross-certificate has "
				     "trailing bytes");
	out->signed_part = p;
	out->siglen = siglen;
	return 0;
}

int
tk_rsa_crosscert_check(const tk_rsa_crosscert *c, const tk_rsa_pub *rsa,
		       time_t now, const char **why)
{
	uint8_t digest[TK_SHA256_LEN];
	tk_sha256_ctx h;
	tk_sha256_init(&h);
	tk_sha256_update(&h, CROSSCERT_PREFIX, sizeof CROSSCERT_PREFIX - 1);
	tk_sha256_update(&h, c->signed_part, 36);
	tk_sha256_peek(&h, digest);
	tk_sha256_free(&h);
	if (tk_rsa_verify_raw(rsa, digest, sizeof digest, c->sig, c->siglen) !=
	    0)
		return why_fail(why, "RSA->Ed25519 cross-certificate "
				     "signature invalid");
	if (crosscert_expired(c->expiration_hours, now))
		return why_fail(why, "RSA->Ed25519 cross-certificate expired");
	return 0;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* Ed25519 path: types 4, 5, 7 against the already-checked identity key. */
static int
check_ed_path(const tk_certs *certs, const tk_rsa_pub *idkey,
	      const uint8_t *tls_der, size_t tls_len, time_t now,
	      tk_certs_result *res, char *err, size_t errlen)
{
	const tk_cert_entry *t4 = tk_certs_find(certs, TK_CERTTYPE_ED_ID_SIGN);
	const tk_cert_entry *t5 = tk_certs_find(certs,
						TK_CERTTYPE_ED_SIGN_LINK);
	const tk_cert_entry *t7 = tk_certs_find(certs,
						TK_CERTTYPE_RSA_ED_CROSS);
	tk_ed_cert c4, c5;
	tk_rsa_crosscert c7;
	const char *why = NULL;
	char buf[160];

	if (!t5)
		return fail(err, errlen,
			    "CERTS has an Ed25519 identity cert "
			    "(type 4) but no TLS-link cert "
			    "(type 5)");
	if (!t7)
		return fail(err, errlen,
			    "CERTS has an Ed25519 identity cert "
			    "(type 4) but no RSA->Ed25519 "
			    "cross-cert (type 7)");
	if (tk_ed_cert_parse(t4->body, t4->len, &c4, &why) != 0)
		goto bad4;
	if (c4.cert_type != TK_CERTTYPE_ED_ID_SIGN) {
		why = "wrong certificate type inside";
		goto bad4;
	}
	if (c4.key_type != TK_ED_KEYTYPE_ED25519) {
		why = "certified key is not an Ed25519 key";
		goto bad4;
	}
	if (tk_ed_cert_check(&c4, NULL, now, &why) != 0)
		goto bad4;

	if (tk_rsa_crosscert_parse(t7->body, t7->len, &c7, &why) != 0 ||
	    tk_rsa_crosscert_check(&c7, idkey, now, &why) != 0) {
		snprintf(buf, sizeof buf, "CERTS type 7: %s", why);
		return fail(err, errlen, buf);
	}
	if (!tk_ct_memeq(c7.ed_key, c4.signer, 32))
		return fail(err, errlen,
			    "CERTS type 7 cross-certifies a "
			    "different Ed25519 identity than "
			    "the one that signed type 4");

	if (tk_ed_cert_parse(t5->body, t5->len, &c5, &why) != 0)
		goto bad5;
	if (c5.cert_type != TK_CERTTYPE_ED_SIGN_LINK) {
		why = "wrong certificate type inside";
		goto bad5;
	}
	/* Relays before 0.4.5 labelled this key type 01; accept both. */
	if (c5.key_type != TK_ED_KEYTYPE_SHA256_X509 &&
	    c5.key_type != TK_ED_KEYTYPE_ED25519) {
		why = "certified key is not a certificate digest";
		goto bad5;
	}
	if (tk_ed_cert_check(&c5, c4.certified_key, now, &why) != 0)
		goto bad5;
	uint8_t tls_digest[TK_SHA256_LEN];
	tk_sha256(tls_der, tls_len, tls_digest);
	if (!tk_ct_memeq(tls_digest, c5.certified_key, 32))
		return fail(err, errlen,
			    "CERTS type 5 does not certify the "
			    "TLS certificate the relay "
			    "presented");
	memcpy(res->ed_id, c4.signer, 32);
	res->ed_verified = 1;
	return 0;
bad4:
	snprintf(buf, sizeof buf, "CERTS type 4: %s", why);
	return fail(err, errlen, buf);
bad5:
	snprintf(buf, sizeof buf, "CERTS type 5: %s", why);
	return fail(err, errlen, buf);
}

/* RSA path: the type-1 link cert is the TLS cert, signed by the id key. */
static int
check_rsa_link(const tk_certs *certs, const tk_rsa_pub *idkey,
	       const uint8_t *tls_der, size_t tls_len, time_t now, char *err,
	       size_t errlen)
{
	const tk_cert_entry *t1 = tk_certs_find(certs, TK_CERTTYPE_LINK);
	tk_x509 lx;
	int rc = -1;
	if (!t1)
		return fail(err, errlen,
			    "CERTS lacks the TLS link "
			    "certificate (type 1)");
	if (t1->len != tls_len || memcmp(t1->body, tls_der, tls_len) != 0)
		return fail(err, errlen,
			    "CERTS type 1 is not the certificate "
			    "the relay presented in TLS");
	tk_x509_init(&lx);
	if (tk_x509_parse(&lx, t1->body, t1->len) != 0)
		fail(err, errlen,
		     "CERTS type 1 is not a valid X.509 "
		     "certificate");
	else if (!tk_x509_valid_at(&lx, now))
		fail(err, errlen,
		     "CERTS type 1 is expired or not yet valid "
		     "(check the clock)");
	else if (tk_x509_check_signed_by(&lx, idkey) != 0)
		fail(err, errlen,
		     "CERTS type 1 is not signed by the identity "
		     "key");
	else
		rc = 0;
	tk_x509_free(&lx);
	return rc;
}

int
tk_certs_check(const tk_certs *certs, const uint8_t *tls_der, size_t tls_len,
	       time_t now, tk_certs_result *res, char *err, size_t errlen)
{
	const tk_cert_entry *t2 = tk_certs_find(certs, TK_CERTTYPE_RSA_ID);
	tk_x509 ix;
	tk_rsa_pub idkey;
	int rc = -1;

	memset(res, 0, sizeof *res);
	if (!tls_der || tls_len == 0)
		return fail(err, errlen,
			    "no TLS peer certificate to check "
			    "CERTS against");
	if (!t2)
		return fail(err, errlen,
			    "CERTS lacks the RSA identity "
			    "certificate (type 2)");
	tk_x509_init(&ix);
	tk_rsa_pub_init(&idkey);
	if (tk_x509_parse(&ix, t2->body, t2->len) != 0) {
		fail(err, errlen,
		     "CERTS type 2 is not a valid X.509 "
		     "certificate");
		goto out;
	}
	if (tk_x509_get_rsa_pub(&ix, &idkey) != 0 ||
	    tk_rsa_pub_bits(&idkey) != 1024) {
		fail(err, errlen,
		     "CERTS type 2 key is not a 1024-bit RSA "
		     "identity key");
		goto out;
	}
	if (!tk_x509_valid_at(&ix, now)) {
		fail(err, errlen,
		     "CERTS type 2 is expired or not yet valid "
		     "(check the clock)");
		goto out;
	}
	if (tk_x509_check_signed_by(&ix, &idkey) != 0) {
		fail(err, errlen,
		     "CERTS type 2 is not self-signed by its "
		     "identity key");
		goto out;
	}
	if (tk_rsa_pub_fingerprint(&idkey, res->rsa_id) != 0) {
		fail(err, errlen, "cannot encode the RSA identity key");
		goto out;
	}
	if (tk_certs_find(certs, TK_CERTTYPE_ED_ID_SIGN))
		rc = check_ed_path(certs, &idkey, tls_der, tls_len, now, res,
				   err, errlen);
	else
		rc = check_rsa_link(certs, &idkey, tls_der, tls_len, now, err,
				    errlen);
out:
	if (rc != 0)
		memset(res, 0, sizeof *res);
	tk_x509_free(&ix);
	tk_rsa_pub_free(&idkey);
	return rc;
}
