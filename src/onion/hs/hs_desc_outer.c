/* The outer document of a v3 descriptor (rend-spec-v3 §2.4): parse, then
 * check the signing-key certificate and the signature. */
#include "onion/hs/hs_desc.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_desc_int.h"
#include "onion/netdoc/netdoc.h"

#define SIG_PREFIX "Tor onion service descriptor sig v3"
#define CERT_TYPE_SIGNING_HS_DESC 0x08
#define SIG_B64_LEN 86 /* 64 bytes, unpadded, as Tor insists */

int
tk__hs_desc_u64(struct tk_netdoc_span s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0 || s.len > 20)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d;
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		d = (unsigned)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

const char *
tk__hs_desc_terminated(const char *text, size_t *len, char **copy)
{
	*copy = NULL;
	if (*len > 0 && text[*len - 1] == '\n')
		return text;
	*copy = malloc(*len + 2);
	if (!*copy)
		return NULL;
	if (*len)
		memcpy(*copy, text, *len);
	(*copy)[(*len)++] = '\n';
	(*copy)[*len] = '\0';
	return *copy;
}

int
tk__hs_desc_obj(const struct tk_netdoc_item *it, const char *label,
		uint8_t **out, size_t *outlen)
{
	size_t cap;
	long n;
	*out = NULL;
	*outlen = 0;
	if (!it->has_obj || !tk_netdoc_span_is(it->obj_label, label))
		return -1;
	cap = tk_base64_decoded_max(it->obj_body.len) + 1;
	*out = malloc(cap);
	if (!*out)
		return -1;
	n = tk_netdoc_obj_decode(it, *out, cap);
	if (n < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)n;
	return 0;
}

/* How often each item was seen. */
struct seen {
	int version, lifetime, cert, revision, superenc, sig;
};

static int
parse_items(struct tk_netdoc_reader *rd, struct tk_hs_desc_outer *o, char *err,
	    size_t errlen)
{
	struct tk_netdoc_item it;
	struct seen s = { 0, 0, 0, 0, 0, 0 };
	char why[TK_NETDOC_ERRLEN];
	int r;

	while ((r = tk_netdoc_next(rd, &it, why, sizeof why)) == 1) {
		if (s.sig)
			return tk_netdoc_err(err, errlen,
					     "line %zu: %.*s after the "
					     "signature",
					     it.lineno, (int)it.kw.len,
					     it.kw.p);
		if (!s.version && !tk_netdoc_kw_is(&it, "hs-descriptor"))
			return tk_netdoc_err(err, errlen,
					     "line 1: not an onion-service "
					     "descriptor");
		if (tk_netdoc_kw_is(&it, "hs-descriptor")) {
			long long v;
			if (s.version++ || it.start != 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: hs-descriptor "
						     "not alone at the start",
						     it.lineno);
			if (it.argc != 1 || it.has_obj ||
			    tk_netdoc_int(it.argv[0], 0, UINT32_MAX, &v) < 0 ||
			    it.argv[0].p[0] == '+' || it.argv[0].p[0] == '-')
				return tk_netdoc_err(err, errlen,
						     "line 1: malformed "
						     "hs-descriptor");
			if (v != 3)
				return tk_netdoc_err(err, errlen,
						     "descriptor version %lld "
						     "is not supported",
						     v);
		} else if (tk_netdoc_kw_is(&it, "descriptor-lifetime")) {
			long long v;
			if (s.lifetime++ || it.argc != 1 || it.has_obj ||
			    tk_netdoc_int(it.argv[0], 0, UINT32_MAX, &v) < 0 ||
			    it.argv[0].p[0] == '+' || it.argv[0].p[0] == '-')
				return tk_netdoc_err(err, errlen,
						     "line %zu: repeated or "
						     "malformed "
						     "descriptor-lifetime",
						     it.lineno);
			if (v > TK_HS_DESC_MAX_LIFETIME_MIN)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: lifetime of "
					"%lld minutes is more "
					"than %d",
					it.lineno, v,
					TK_HS_DESC_MAX_LIFETIME_MIN);
			o->lifetime_min = (uint32_t)v;
		} else if (tk_netdoc_kw_is(&it,
					   "descriptor-signing-key-cert")) {
			long n;
			if (s.cert++ || it.argc != 0 || !it.has_obj ||
			    !tk_netdoc_span_is(it.obj_label, "ED25519 CERT") ||
			    (n = tk_netdoc_obj_decode(&it, o->cert,
						      sizeof o->cert)) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: repeated or "
						     "malformed "
						     "descriptor-signing-key-"
						     "cert",
						     it.lineno);
			o->cert_len = (size_t)n;
		} else if (tk_netdoc_kw_is(&it, "revision-counter")) {
			if (s.revision++ || it.argc != 1 || it.has_obj ||
			    tk__hs_desc_u64(it.argv[0], &o->revision) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: repeated or "
						     "malformed "
						     "revision-counter",
						     it.lineno);
		} else if (tk_netdoc_kw_is(&it, "superencrypted")) {
			if (s.superenc++ || it.argc != 0 ||
			    tk__hs_desc_obj(&it, "MESSAGE", &o->superencrypted,
					    &o->superencrypted_len) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: repeated or "
						     "malformed superencrypted",
						     it.lineno);
			if (o->superencrypted_len < TK__HS_DESC_BLOB_MIN)
				return tk_netdoc_err(err, errlen,
						     "line %zu: superencrypted "
						     "blob of %zu bytes is too "
						     "short",
						     it.lineno,
						     o->superencrypted_len);
		} else if (tk_netdoc_kw_is(&it, "signature")) {
			s.sig++;
			if (it.argc != 1 || it.has_obj ||
			    it.argv[0].len != SIG_B64_LEN ||
			    tk_netdoc_b64_exact(it.argv[0], o->sig, 64) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: malformed "
						     "signature",
						     it.lineno);
			/* Signed: everything before the signature line,
			 * its preceding newline included. */
			o->signed_len = it.start;
		}
		/* Anything else is unknown to us and ignored, as Tor
		 * ignores it. */
	}
	if (r < 0)
		return tk_netdoc_err(err, errlen, "%s", why);
	if (!s.version)
		return tk_netdoc_err(err, errlen, "empty descriptor");
	if (!s.lifetime || !s.cert || !s.revision || !s.superenc || !s.sig)
		return tk_netdoc_err(err, errlen, "descriptor lacks %s",
				     !s.lifetime ? "descriptor-lifetime"
				     : !s.cert	 ? "descriptor-signing-key-cert"
				     : !s.revision ? "revision-counter"
				     : !s.superenc ? "superencrypted"
						   : "signature");
	return 0;
}

int
tk_hs_desc_outer_parse(const char *text, size_t len, size_t max_size,
		       struct tk_hs_desc_outer *o, char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	const char *doc;
	char *copy;
	int r;

	memset(o, 0, sizeof *o);
	if (max_size == 0)
		max_size = TK_HS_DESC_MAX_SIZE_DEFAULT;
	if (len >= max_size)
		return tk_netdoc_err(err, errlen,
				     "descriptor of %zu bytes is too big "
				     "(limit %zu)",
				     len, max_size);
	doc = tk__hs_desc_terminated(text, &len, &copy);
	if (!doc)
		return tk_netdoc_err(err, errlen, "out of memory");
	tk_netdoc_reader_init(&rd, doc, len);
	r = parse_items(&rd, o, err, errlen);
	free(copy);
	if (r < 0)
		tk_hs_desc_outer_free(o);
	return r;
}

void
tk_hs_desc_outer_free(struct tk_hs_desc_outer *o)
{
	free(o->superencrypted);
	memset(o, 0, sizeof *o);
}

int
tk_hs_desc_outer_check(const struct tk_hs_desc_outer *o, const char *text,
		       const uint8_t blinded[32], time_t now,
		       uint8_t signing_key[32], int64_t *cert_expires,
		       char *err, size_t errlen)
{
	static const char prefix[] = SIG_PREFIX;
	const char *why = NULL;
	tk_ed_cert cert;
	uint8_t *msg;
	size_t mlen;
	int ok;

	if (tk_ed_cert_parse(o->cert, o->cert_len, &cert, &why) < 0) {
		tk_netdoc_err(err, errlen,
			      "descriptor signing-key certificate: "
			      "%s",
			      why);
		return TK_HS_DESC_ECERT;
	}
	if (cert.cert_type != CERT_TYPE_SIGNING_HS_DESC ||
	    cert.key_type != TK_ED_KEYTYPE_ED25519 || !cert.has_signer) {
		tk_netdoc_err(err, errlen,
			      "descriptor signing-key certificate is not of "
			      "type 08 with its signing key included");
		return TK_HS_DESC_ECERT;
	}
	/* Naming the blinded key we derived is what ties the descriptor to
	 * the address: anyone who knows the address could otherwise forge
	 * one. */
	if (!tk_ct_memeq(cert.signer, blinded, 32)) {
		tk_netdoc_err(err, errlen,
			      "descriptor is signed by another blinded key "
			      "than the address gives");
		return TK_HS_DESC_ECERT;
	}
	if (tk_ed_cert_check(&cert, blinded, now, &why) < 0) {
		tk_netdoc_err(err, errlen,
			      "descriptor signing-key certificate: %s", why);
		return TK_HS_DESC_ECERT;
	}
	mlen = sizeof prefix - 1 + o->signed_len;
	msg = malloc(mlen);
	if (!msg) {
		tk_netdoc_err(err, errlen, "out of memory");
		return TK_HS_DESC_ENOMEM;
	}
	memcpy(msg, prefix, sizeof prefix - 1);
	memcpy(msg + sizeof prefix - 1, text, o->signed_len);
	ok = tk_ed25519_verify(o->sig, msg, mlen, cert.certified_key) == 0;
	free(msg);
	if (!ok) {
		tk_netdoc_err(err, errlen, "descriptor signature is invalid");
		return TK_HS_DESC_ESIG;
	}
	memcpy(signing_key, cert.certified_key, 32);
	if (cert_expires)
		*cert_expires = (int64_t)cert.expiration_hours * 3600;
	return 0;
}
