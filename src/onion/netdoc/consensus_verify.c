/* Signature checks of a parsed consensus against the configured
 * authorities and their key certificates (dir-spec §3.4.1 "directory-
 * signature", §4.3: accept when more than half of the authorities we
 * trust signed it). Kept apart from the parser: this is the part that
 * decides trust. */
#include "onion/netdoc/consensus.h"

#include <stdio.h>
#include <string.h>

#include "onion/netdoc/netdoc.h"

static const struct tk_authcert *
find_cert(const struct tk_authcert *certs, size_t n, const uint8_t id[20],
	  const uint8_t sk[20])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(certs[i].fingerprint, id, 20) == 0 &&
		    memcmp(certs[i].signing_digest, sk, 20) == 0)
			return &certs[i];
	return NULL;
}

static const char *
source_name(const struct tk_consensus *c, const uint8_t id[20])
{
	for (size_t i = 0; i < c->n_sources; i++)
		if (memcmp(c->sources[i].v3ident, id, 20) == 0)
			return c->sources[i].nickname;
	return "?";
}

int
tk_consensus_verify(const struct tk_consensus *c, const uint8_t (*v3idents)[20],
		    size_t n_auth, const struct tk_authcert *certs,
		    size_t n_certs, int64_t now, int64_t skew, char *err,
		    size_t errlen)
{
	char t1[24], t2[24], why[1024];
	size_t good = 0, wl = 0;

	if (now > c->valid_until) {
		tk_netdoc_time_fmt(c->valid_until, t1, sizeof t1);
		tk_netdoc_time_fmt(now, t2, sizeof t2);
		return tk_netdoc_err(err, errlen,
				     "consensus expired: valid-until %s is "
				     "before now (%s)",
				     t1, t2);
	}
	if (c->valid_after > now + skew) {
		tk_netdoc_time_fmt(c->valid_after, t1, sizeof t1);
		tk_netdoc_time_fmt(now, t2, sizeof t2);
		return tk_netdoc_err(err, errlen,
				     "consensus not yet valid: valid-after %s "
				     "is after now (%s); is the clock right?",
				     t1, t2);
	}
	why[0] = '\0';
	for (size_t a = 0; a < n_auth; a++) {
		const char *status = "no signature";
		int dup = 0;
		for (size_t b = 0; b < a; b++)
			dup |= memcmp(v3idents[a], v3idents[b], 20) == 0;
		if (dup)
			continue; /* one vote per authority */
		int ok = 0;
		for (size_t s = 0; s < c->n_sigs && !ok; s++) {
			const struct tk_cons_sig *sig = &c->sigs[s];
			if (memcmp(sig->v3ident, v3idents[a], 20) != 0)
				continue;
			if (sig->alg == TK_SIG_UNKNOWN) {
				status = "only unknown signature algorithms";
				continue;
			}
			const struct tk_authcert *cert =
				find_cert(certs, n_certs, sig->v3ident,
					  sig->signing_digest);
			if (!cert) {
				status = "no certificate for its signing key";
				continue;
			}
			if (!tk_authcert_current(cert, now)) {
				status = "its key certificate is expired or "
					 "not yet valid";
				continue;
			}
			int alg256 = sig->alg == TK_SIG_SHA256;
			if (tk_rsa_verify_raw(&cert->signing_key,
					      alg256 ? c->digest_sha256
						     : c->digest_sha1,
					      alg256 ? 32 : 20, sig->sig,
					      sig->siglen) == 0)
				ok = 1;
			else
				status = "signature does not verify";
		}
		if (ok) {
			good++;
			continue;
		}
		char hex[41];
		tk_netdoc_hex(v3idents[a], 20, hex);
		int w = snprintf(why + wl, sizeof why - wl, "%s%.8s (%s): %s",
				 wl ? "; " : "", hex,
				 source_name(c, v3idents[a]), status);
		if (w > 0 && (size_t)w < sizeof why - wl)
			wl += (size_t)w;
	}
	size_t distinct = 0;
	for (size_t a = 0; a < n_auth; a++) {
		int dup = 0;
		for (size_t b = 0; b < a; b++)
			dup |= memcmp(v3idents[a], v3idents[b], 20) == 0;
		distinct += !dup;
	}
	if (distinct == 0)
		return tk_netdoc_err(err, errlen,
				     "no directory authorities configured");
	if (good * 2 > distinct)
		return 0;
	return tk_netdoc_err(err, errlen,
			     "consensus signed validly by %zu of %zu "
			     "configured authorities, need %zu: %s",
			     good, distinct, distinct / 2 + 1, why);
}

size_t
tk_consensus_missing_certs(const struct tk_consensus *c,
			   const uint8_t (*v3idents)[20], size_t n_auth,
			   const struct tk_authcert *certs, size_t n_certs,
			   struct tk_cert_ref *out, size_t cap)
{
	size_t n = 0;
	for (size_t s = 0; s < c->n_sigs && n < cap; s++) {
		const struct tk_cons_sig *sig = &c->sigs[s];
		int configured = 0, dup = 0;
		if (sig->alg == TK_SIG_UNKNOWN)
			continue;
		for (size_t a = 0; a < n_auth; a++)
			configured |= memcmp(v3idents[a], sig->v3ident, 20) ==
				      0;
		if (!configured || find_cert(certs, n_certs, sig->v3ident,
					     sig->signing_digest))
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= memcmp(out[k].v3ident, sig->v3ident, 20) == 0 &&
			       memcmp(out[k].signing_digest,
				      sig->signing_digest, 20) == 0;
		if (dup)
			continue;
		memcpy(out[n].v3ident, sig->v3ident, 20);
		memcpy(out[n].signing_digest, sig->signing_digest, 20);
		n++;
	}
	return n;
}
