/* dirsign.h: consensus signatures with mbedTLS. */
#include "dirsign.h"

#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/authcert.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static int
rng(void *arg, unsigned char *out, size_t len)
{
	(void)arg;
	tk_random(out, len);
	return 0;
}

int
tk_dirsign_key_load(struct tk_dirsign_key *k, const char *dir, char *err,
		    size_t errlen)
{
	char path[4096], cerr[256];
	char *text;
	size_t len, used;
	struct tk_authcert cert;
	mbedtls_pk_context *pk;

	memset(k, 0, sizeof *k);
	if (tk_crypto_init() != 0) {
		seterr(err, errlen, "cannot initialise the crypto library");
		return -1;
	}
	snprintf(path, sizeof path, "%s/authority_certificate", dir);
	text = slurp(path, &len);
	if (!text) {
		seterr(err, errlen, "cannot read %s", path);
		return -1;
	}
	tk_authcert_init(&cert);
	if (tk_authcert_parse(text, len, &used, &cert, cerr, sizeof cerr) !=
	    0) {
		seterr(err, errlen, "%s: %s", path, cerr);
		free(text);
		tk_authcert_free(&cert);
		return -1;
	}
	memcpy(k->v3ident, cert.fingerprint, 20);
	memcpy(k->signing_digest, cert.signing_digest, 20);
	tk_authcert_free(&cert);
	free(text);

	snprintf(path, sizeof path, "%s/authority_signing_key", dir);
	text = slurp(path, &len);
	if (!text) {
		seterr(err, errlen, "cannot read %s", path);
		return -1;
	}
	pk = calloc(1, sizeof *pk);
	if (!pk) {
		free(text);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	mbedtls_pk_init(pk);
	if (mbedtls_pk_parse_key(pk, (const unsigned char *)text, len + 1,
				 NULL, 0) != 0 ||
	    mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA) {
		seterr(err, errlen, "%s: not an RSA private key", path);
		mbedtls_pk_free(pk);
		free(pk);
		free(text);
		return -1;
	}
	free(text);
	k->pk = pk;
	return 0;
}

void
tk_dirsign_key_free(struct tk_dirsign_key *k)
{
	if (k->pk) {
		mbedtls_pk_free(k->pk);
		free(k->pk);
	}
	memset(k, 0, sizeof *k);
}

char *
tk_dirsign_consensus(const char *body, size_t len,
		     const struct tk_dirsign_key *keys, size_t n_keys,
		     size_t *out_len, char *err, size_t errlen)
{
	static const char kw[] = "directory-signature ";
	uint8_t digest[32], sig[1024];
	size_t cap = len + sizeof kw + n_keys * 2048, o;
	char *out = malloc(cap), hex1[41], hex2[41], b64[1500];

	if (!out) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (len == 0 || body[len - 1] != '\n') {
		free(out);
		seterr(err, errlen, "the body must end with a newline");
		return NULL;
	}
	memcpy(out, body, len);
	memcpy(out + len, kw, sizeof kw - 1);
	tk_sha256(out, len + sizeof kw - 1, digest);
	o = len;
	for (size_t i = 0; i < n_keys; i++) {
		mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*(mbedtls_pk_context *)
								   keys[i]
									   .pk);
		size_t siglen = mbedtls_rsa_get_len(rsa);
		long bl;
		if (siglen > sizeof sig ||
		    mbedtls_rsa_pkcs1_sign(rsa, rng, NULL, MBEDTLS_RSA_PRIVATE,
					   MBEDTLS_MD_NONE, sizeof digest,
					   digest, sig) != 0) {
			free(out);
			seterr(err, errlen, "RSA signature failed");
			return NULL;
		}
		tk_hex_encode(keys[i].v3ident, 20, hex1);
		tk_hex_encode(keys[i].signing_digest, 20, hex2);
		for (char *p = hex1; *p; p++)
			*p = (char)(*p >= 'a' ? *p - 32 : *p);
		for (char *p = hex2; *p; p++)
			*p = (char)(*p >= 'a' ? *p - 32 : *p);
		bl = tk_base64_encode(sig, siglen, 1, b64, sizeof b64);
		if (bl < 0) {
			free(out);
			seterr(err, errlen, "base64 failed");
			return NULL;
		}
		o += (size_t)snprintf(out + o, cap - o,
				      "directory-signature sha256 %s %s\n"
				      "-----BEGIN SIGNATURE-----\n",
				      hex1, hex2);
		/* PEM-style lines of 64 */
		for (long j = 0; j < bl; j += 64) {
			long n = bl - j < 64 ? bl - j : 64;
			memcpy(out + o, b64 + j, (size_t)n);
			o += (size_t)n;
			out[o++] = '\n';
		}
		o += (size_t)snprintf(out + o, cap - o,
				      "-----END SIGNATURE-----\n");
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}
