/* Authority key certificate parser and checks (dir-spec §3.1). */
#include "onion/netdoc/authcert.h"

#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/netdoc/netdoc.h"

/* RSA keys and signatures in these certificates are at most 4096 bits. */
#define KEYBUF 1024

void
tk_authcert_init(struct tk_authcert *c)
{
	memset(c, 0, sizeof *c);
	tk_rsa_pub_init(&c->signing_key);
}

void
tk_authcert_free(struct tk_authcert *c)
{
	tk_rsa_pub_free(&c->signing_key);
	tk_authcert_init(c);
}

int
tk_authcert_current(const struct tk_authcert *c, int64_t now)
{
	return now >= c->published && now <= c->expires;
}

static int
load_key(const struct tk_netdoc_item *it, tk_rsa_pub *k, size_t min_bits,
	 const char *what, char *err, size_t errlen)
{
	uint8_t der[KEYBUF];
	if (!it->has_obj || !tk_netdoc_span_is(it->obj_label, "RSA PUBLIC KEY"))
		return tk_netdoc_err(
			err, errlen,
			"line %zu: %s has no RSA PUBLIC KEY object", it->lineno,
			what);
	long n = tk_netdoc_obj_decode(it, der, sizeof der);
	if (n < 0 || tk_rsa_pub_from_der(k, der, (size_t)n) < 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: %s is not a valid RSA key",
				     it->lineno, what);
	if (tk_rsa_pub_bits(k) < min_bits)
		return tk_netdoc_err(err, errlen,
				     "line %zu: %s has %zu bits, need %zu",
				     it->lineno, what, tk_rsa_pub_bits(k),
				     min_bits);
	return 0;
}

static int
item_time(const struct tk_netdoc_item *it, int64_t *t, char *err, size_t errlen)
{
	if (it->argc != 2 || tk_netdoc_time(it->argv[0], it->argv[1], t) < 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: %.*s wants YYYY-MM-DD HH:MM:SS",
				     it->lineno, (int)it->kw.len, it->kw.p);
	return 0;
}

enum seen {
	SEEN_FP = 1,
	SEEN_PUB = 2,
	SEEN_EXP = 4,
	SEEN_IDKEY = 8,
	SEEN_SKEY = 16,
	SEEN_CROSS = 32
};

/* Reads items up to and including dir-key-certification. */
static int
parse_body(struct tk_netdoc_reader *rd, struct tk_authcert *c,
	   tk_rsa_pub *idkey, uint8_t *crosssig, long *crosslen,
	   uint8_t *certsig, long *certlen, size_t *signed_end, char *err,
	   size_t errlen)
{
	struct tk_netdoc_item it;
	char why[TK_NETDOC_ERRLEN];
	unsigned seen = 0;
	int r = tk_netdoc_next(rd, &it, why, sizeof why);
	if (r <= 0)
		return tk_netdoc_err(err, errlen, "%s",
				     r < 0 ? why : "empty certificate");
	if (!tk_netdoc_kw_is(&it, "dir-key-certificate-version") ||
	    it.argc != 1 || !tk_netdoc_span_is(it.argv[0], "3"))
		return tk_netdoc_err(err, errlen,
				     "line %zu: not a version 3 authority key "
				     "certificate",
				     it.lineno);
	for (;;) {
		r = tk_netdoc_next(rd, &it, why, sizeof why);
		if (r < 0)
			return tk_netdoc_err(err, errlen, "%s", why);
		if (r == 0)
			return tk_netdoc_err(err, errlen,
					     "certificate truncated: no "
					     "dir-key-certification");
		unsigned bit = 0;
		if (tk_netdoc_kw_is(&it, "fingerprint")) {
			bit = SEEN_FP;
			if (it.argc != 1 ||
			    tk_netdoc_hex_exact(it.argv[0], c->fingerprint,
						20) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: fingerprint is "
						     "not 40 hex digits",
						     it.lineno);
		} else if (tk_netdoc_kw_is(&it, "dir-key-published")) {
			bit = SEEN_PUB;
			if (item_time(&it, &c->published, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "dir-key-expires")) {
			bit = SEEN_EXP;
			if (item_time(&it, &c->expires, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "dir-identity-key")) {
			bit = SEEN_IDKEY;
			if (!(seen & bit) &&
			    load_key(&it, idkey, 1024, "dir-identity-key", err,
				     errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "dir-signing-key")) {
			bit = SEEN_SKEY;
			if (!(seen & bit) &&
			    load_key(&it, &c->signing_key, 1024,
				     "dir-signing-key", err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "dir-key-crosscert")) {
			bit = SEEN_CROSS;
			if (!it.has_obj ||
			    (!tk_netdoc_span_is(it.obj_label, "ID SIGNATURE") &&
			     !tk_netdoc_span_is(it.obj_label, "SIGNATURE")) ||
			    (*crosslen = tk_netdoc_obj_decode(&it, crosssig,
							      KEYBUF)) <= 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: dir-key-crosscert"
					" has no valid signature "
					"object",
					it.lineno);
		} else if (tk_netdoc_kw_is(&it, "dir-key-certification")) {
			if (!it.has_obj ||
			    !tk_netdoc_span_is(it.obj_label, "SIGNATURE") ||
			    (*certlen = tk_netdoc_obj_decode(&it, certsig,
							     KEYBUF)) <= 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: dir-key-"
					"certification has no valid "
					"SIGNATURE object",
					it.lineno);
			/* Signed: through the newline of this keyword line. */
			*signed_end = it.start;
			while (*signed_end < rd->len &&
			       rd->doc[*signed_end] != '\n')
				(*signed_end)++;
			(*signed_end)++;
			break;
		} else if (tk_netdoc_kw_is(&it,
					   "dir-key-certificate-version")) {
			return tk_netdoc_err(
				err, errlen,
				"line %zu: next certificate starts "
				"before dir-key-certification",
				it.lineno);
		}
		if (bit && (seen & bit))
			return tk_netdoc_err(err, errlen,
					     "line %zu: %.*s appears twice",
					     it.lineno, (int)it.kw.len,
					     it.kw.p);
		seen |= bit;
	}
	static const struct {
		unsigned bit;
		const char *kw;
	} need[] = {
		{ SEEN_FP, "fingerprint" },
		{ SEEN_PUB, "dir-key-published" },
		{ SEEN_EXP, "dir-key-expires" },
		{ SEEN_IDKEY, "dir-identity-key" },
		{ SEEN_SKEY, "dir-signing-key" },
		{ SEEN_CROSS, "dir-key-crosscert" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!(seen & need[i].bit))
			return tk_netdoc_err(err, errlen,
					     "certificate has no %s line",
					     need[i].kw);
	return 0;
}

/* Skips to the start of the next certificate (or the end), so one bad
 * certificate in a /tor/keys/all response does not hide the others. */
static size_t
next_cert(const char *text, size_t len, size_t from)
{
	static const char kw[] = "\ndir-key-certificate-version";
	size_t k = sizeof kw - 1;
	for (size_t i = from; i + k <= len; i++)
		if (text[i] == '\n' && memcmp(text + i, kw, k) == 0)
			return i + 1;
	return len;
}

int
tk_authcert_parse(const char *text, size_t len, size_t *used,
		  struct tk_authcert *c, char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	tk_rsa_pub idkey;
	uint8_t crosssig[KEYBUF], certsig[KEYBUF], digest[20], idfp[20];
	long crosslen = 0, certlen = 0;
	size_t signed_end = 0;
	char hex[41];
	int rc = -1;

	tk_authcert_free(c);
	tk_rsa_pub_init(&idkey);
	tk_netdoc_reader_init(&rd, text, len);
	if (parse_body(&rd, c, &idkey, crosssig, &crosslen, certsig, &certlen,
		       &signed_end, err, errlen) < 0) {
		*used = next_cert(text, len, 0);
		goto out;
	}
	*used = rd.pos;
	tk_netdoc_hex(c->fingerprint, 20, hex);
	if (tk_rsa_pub_fingerprint(&idkey, idfp) < 0 ||
	    memcmp(idfp, c->fingerprint, 20) != 0) {
		tk_netdoc_err(err, errlen,
			      "certificate %s: fingerprint is not the digest "
			      "of its dir-identity-key",
			      hex);
		goto out;
	}
	if (c->expires <= c->published) {
		tk_netdoc_err(err, errlen,
			      "certificate %s: dir-key-expires is not after "
			      "dir-key-published",
			      hex);
		goto out;
	}
	if (tk_rsa_verify_raw(&c->signing_key, c->fingerprint, 20, crosssig,
			      (size_t)crosslen) < 0) {
		tk_netdoc_err(err, errlen,
			      "certificate %s: dir-key-crosscert does not "
			      "verify under its signing key",
			      hex);
		goto out;
	}
	tk_sha1(text, signed_end, digest);
	if (tk_rsa_verify_raw(&idkey, digest, 20, certsig, (size_t)certlen) <
	    0) {
		tk_netdoc_err(err, errlen,
			      "certificate %s: dir-key-certification does not "
			      "verify under its identity key",
			      hex);
		goto out;
	}
	if (tk_rsa_pub_fingerprint(&c->signing_key, c->signing_digest) < 0) {
		tk_netdoc_err(err, errlen,
			      "certificate %s: cannot encode signing key", hex);
		goto out;
	}
	rc = 0;
out:
	tk_rsa_pub_free(&idkey);
	if (rc < 0) {
		tk_rsa_pub_free(&c->signing_key);
		tk_rsa_pub_init(&c->signing_key);
	}
	return rc;
}
