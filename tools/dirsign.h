/* Signing a microdesc consensus with directory authorities' signing keys,
 * as authorities do (dir-spec §3.4.1: "directory-signature sha256", an
 * RSA PKCS#1 v1.5 signature of the SHA-256 digest of the signed part,
 * without DigestInfo). For test networks and tests only: tools/tkmkdir
 * builds large directories with it, the unit tests documents at the
 * times their fake clocks need.
 *
 * Keys as tor-gencert writes them: authority_signing_key (PEM RSA private
 * key) and authority_certificate (which gives the v3 identity and the
 * signing key's digest). */
#ifndef TK_TOOLS_DIRSIGN_H
#define TK_TOOLS_DIRSIGN_H

#include <stddef.h>
#include <stdint.h>

struct tk_dirsign_key {
	void *pk; /* mbedtls_pk_context */
	uint8_t v3ident[20];
	uint8_t signing_digest[20];
};

/* Loads DIR/authority_signing_key and DIR/authority_certificate. 0, or
 * -1 with err. */
int tk_dirsign_key_load(struct tk_dirsign_key *k, const char *dir, char *err,
			size_t errlen);
void tk_dirsign_key_free(struct tk_dirsign_key *k);

/* body: a consensus up to (not including) its first directory-signature
 * line, ending with a newline. Returns the signed document (malloc'ed,
 * NUL-terminated, *out_len without the NUL), one signature per key, or
 * NULL with err. */
char *tk_dirsign_consensus(const char *body, size_t len,
			   const struct tk_dirsign_key *keys, size_t n_keys,
			   size_t *out_len, char *err, size_t errlen);

#endif
