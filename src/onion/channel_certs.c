/* channel_certs.h: the RSA-identity check of a CERTS cell. */
#include "onion/channel_certs.h"

#include <stdio.h>
#include <string.h>

#include "onion/crypto.h"

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

int tk_chan_certs_check(const tk_certs *certs, const uint8_t *tls_der,
			size_t tls_len, time_t now,
			struct tk_chan_certs_result *res, char *err,
			size_t errlen)
{
	const tk_cert_entry *link = tk_certs_find(certs, TK_CERTTYPE_LINK);
	const tk_cert_entry *idc = tk_certs_find(certs, TK_CERTTYPE_RSA_ID);
	tk_x509 lx, ix;
	tk_rsa_pub idkey;
	int rc = -1;

	memset(res, 0, sizeof *res);
	if (!link || !idc)
		return fail(err, errlen,
			    "CERTS lacks the TLS link certificate (type 1) or "
			    "the RSA identity certificate (type 2)");
	if (link->len != tls_len || memcmp(link->body, tls_der, tls_len) != 0)
		return fail(err, errlen,
			    "CERTS link certificate is not the certificate "
			    "the relay presented in TLS");
	tk_x509_init(&lx);
	tk_x509_init(&ix);
	tk_rsa_pub_init(&idkey);
	if (tk_x509_parse(&lx, link->body, link->len) != 0 ||
	    tk_x509_parse(&ix, idc->body, idc->len) != 0) {
		fail(err, errlen, "CERTS holds an X.509 certificate that does "
				  "not parse");
		goto out;
	}
	if (!tk_x509_valid_at(&lx, now) || !tk_x509_valid_at(&ix, now)) {
		fail(err, errlen, "CERTS certificate expired or not yet valid "
				  "(check the clock)");
		goto out;
	}
	if (tk_x509_get_rsa_pub(&ix, &idkey) != 0 ||
	    tk_rsa_pub_bits(&idkey) != 1024) {
		fail(err, errlen, "CERTS identity key is not RSA-1024");
		goto out;
	}
	if (tk_x509_check_signed_by(&ix, &idkey) != 0) {
		fail(err, errlen, "CERTS identity certificate is not "
				  "self-signed by its key");
		goto out;
	}
	if (tk_x509_check_signed_by(&lx, &idkey) != 0) {
		fail(err, errlen, "CERTS link certificate is not signed by the "
				  "identity key");
		goto out;
	}
	if (tk_rsa_pub_fingerprint(&idkey, res->rsa_id) != 0) {
		fail(err, errlen, "cannot compute the RSA identity digest");
		goto out;
	}
	rc = 0;
out:
	tk_rsa_pub_free(&idkey);
	tk_x509_free(&ix);
	tk_x509_free(&lx);
	return rc;
}
