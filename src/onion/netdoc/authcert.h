/* Directory authority key certificates (dir-spec §3.1): an authority's
 * long-term identity key vouches for a medium-term signing key, which
 * signs consensuses. Parsing checks both directions:
 *   - certification: identity key signs SHA-1 of the certificate text
 *     from "dir-key-certificate-version" through "dir-key-certification\n";
 *   - cross-certification: signing key signs SHA-1 of the identity key
 *     (the fingerprint);
 * and that the fingerprint line is the SHA-1 of the identity key. Whether
 * the fingerprint belongs to a configured authority, and whether the
 * certificate is current, is the caller's question (tk_authcert_current,
 * tk_consensus_verify). */
#ifndef TK_ONION_NETDOC_AUTHCERT_H
#define TK_ONION_NETDOC_AUTHCERT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/base/crypto.h"

/* May be moved (memcpy, realloc of an array of them) but not copied:
 * signing_key owns heap memory, freed once by tk_authcert_free. */
struct tk_authcert {
	uint8_t fingerprint[20];    /* v3ident: SHA-1 of the identity key */
	uint8_t signing_digest[20]; /* SHA-1 of the signing key */
	int64_t published;	    /* dir-key-published */
	int64_t expires;	    /* dir-key-expires */
	tk_rsa_pub signing_key;
};

void tk_authcert_init(struct tk_authcert *c);
void tk_authcert_free(struct tk_authcert *c);

/* Parses and checks the first certificate in text[0..len) (a response to
 * /tor/keys/... holds several back to back). *used is set to the bytes the
 * certificate took, so the caller can go on with the rest. 0, or -1 with
 * err naming what failed (and *used still past the bad certificate when
 * its end could be found, else len). c must be tk_authcert_init()ed. */
int tk_authcert_parse(const char *text, size_t len, size_t *used,
		      struct tk_authcert *c, char *err, size_t errlen);

/* 1 if now lies within [published, expires]. */
int tk_authcert_current(const struct tk_authcert *c, int64_t now);

#endif
