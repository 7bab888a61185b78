/* tls_engine.h on OpenSSL 3: TLS 1.3 and 1.2 over memory BIOs.
 *
 * tor links this same library (Debian 12: OpenSSL 3.0), so a context set
 * up as tor sets up its client context makes the same ClientHello: the
 * same versions, cipher suites in tor's order, groups, extensions and
 * padding to 512 bytes. Only the random parts differ (random, session id,
 * key share, and the server name, which channel.c draws as tor does).
 *
 * Ciphertext from the network is written into the input BIO; what
 * OpenSSL wants to send piles up in the output BIO until taken. Neither
 * BIO ever blocks, so SSL_write() always takes everything at once. */
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/link/tls_engine.h"

struct tk_tls_engine {
	SSL *ssl;
	BIO *in, *out; /* owned by ssl */
	int in_eof;
	uint8_t *cert; /* the peer's certificate, DER, once up */
	size_t cert_len;
	char err[160];
};

/* What tor's client context offers, in tor's order (as tor 0.4.9 sends
 * them with OpenSSL 3.0; see doc/differences.md for how that was taken).
 * OpenSSL adds the renegotiation SCSV (00ff) at the end itself. */
static const char tls12_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:"
	"ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
	"AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA";
static const char tls13_suites[] = "TLS_AES_128_GCM_SHA256:"
				   "TLS_CHACHA20_POLY1305_SHA256:"
				   "TLS_AES_256_GCM_SHA384";
static const char groups[] = "P-256:X25519:P-224";

static SSL_CTX *client_ctx; /* one for the process, as tor has */

/* Tor authenticates the relay with the CERTS cell, not with a chain: the
 * relay's certificate is self-signed by design. Asking for the peer's
 * certificate and accepting whatever comes is what tor does too. */
static int
accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static SSL_CTX *
context(void)
{
	SSL_CTX *c;
	if (client_ctx)
		return client_ctx;
	/* Without OpenSSL's error strings: loading them (on by default, and
	 * SSL_CTX_new asks for them) builds a table of every reason of every
	 * OpenSSL library, about 0.5 MB of resident code and heap for a
	 * daemon that only ever reports the few reasons a link sees
	 * (reason() below). The configuration file is still read, as tor
	 * reads it: a system crypto policy shapes both ClientHellos alike. */
	if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
				      OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
			      NULL))
		return NULL;
	c = SSL_CTX_new(TLS_client_method());
	if (!c)
		return NULL;
	/* tor 0.4.9 relays require TLS 1.2 or later; OpenSSL's default
	 * maximum is 1.3. Level 1 as tor: level 2 drops P-224. */
	SSL_CTX_set_security_level(c, 1);
	if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, tls12_ciphers) ||
	    !SSL_CTX_set_ciphersuites(c, tls13_suites) ||
	    !SSL_CTX_set1_groups_list(c, groups)) {
		SSL_CTX_free(c);
		return NULL;
	}
	/* No compression; a padding extension keeps the ClientHello out of
	 * 256..511 bytes (tor sets both). Session tickets stay advertised
	 * (tor's clients advertise them), but nothing is ever resumed. */
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_TLSEXT_PADDING);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, accept_any);
	client_ctx = c;
	return c;
}

/* OpenSSL's words for the reasons a link to a relay fails with (its
 * string tables are not loaded: see context()). Anything else is named
 * by its code, which `openssl errstr CODE` spells out. */
static const char *
reason(unsigned long code)
{
	static const struct {
		int reason;
		const char *text;
	} known[] = {
		{ SSL_R_WRONG_VERSION_NUMBER, "wrong version number" },
		{ SSL_R_PACKET_LENGTH_TOO_LONG, "packet length too long" },
		{ SSL_R_HTTP_REQUEST, "http request" },
		{ SSL_R_UNEXPECTED_EOF_WHILE_READING,
		  "unexpected eof while reading" },
		{ SSL_R_UNEXPECTED_MESSAGE, "unexpected message" },
		{ SSL_R_UNEXPECTED_RECORD, "unexpected record" },
		{ SSL_R_UNSUPPORTED_PROTOCOL, "unsupported protocol" },
		{ SSL_R_NO_PROTOCOLS_AVAILABLE, "no protocols available" },
		{ SSL_R_WRONG_SSL_VERSION, "wrong ssl version" },
		{ SSL_R_WRONG_CURVE, "wrong curve" },
		{ SSL_R_BAD_KEY_SHARE, "bad key share" },
		{ SSL_R_BAD_SIGNATURE, "bad signature" },
		{ SSL_R_LENGTH_MISMATCH, "length mismatch" },
		{ SSL_R_EXCESSIVE_MESSAGE_SIZE, "excessive message size" },
		{ SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
		  "decryption failed or bad record mac" },
		{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
		  "sslv3 alert handshake failure" },
		{ SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE,
		  "sslv3 alert unexpected message" },
		{ SSL_R_SSLV3_ALERT_BAD_RECORD_MAC,
		  "sslv3 alert bad record mac" },
		{ SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER,
		  "sslv3 alert illegal parameter" },
		{ SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
		  "tlsv1 alert protocol version" },
		{ SSL_R_TLSV1_ALERT_DECODE_ERROR, "tlsv1 alert decode error" },
		{ SSL_R_TLSV1_ALERT_DECRYPT_ERROR,
		  "tlsv1 alert decrypt error" },
		{ SSL_R_TLSV1_ALERT_INTERNAL_ERROR,
		  "tlsv1 alert internal error" },
	};
	if (ERR_GET_LIB(code) != ERR_LIB_SSL)
		return NULL;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].reason == ERR_GET_REASON(code))
			return known[i].text;
	return NULL;
}

/* The oldest queued OpenSSL error, in words, after `what`; the queue is
 * emptied (it is per thread, and the next call must not see ours). */
static void
set_err(tk_tls_engine *e, const char *what, int ssl_err)
{
	unsigned long code = ERR_get_error();
	const char *text = code ? reason(code) : NULL;
	if (text)
		snprintf(e->err, sizeof e->err, "%s: %s", what, text);
	else if (code)
		snprintf(e->err, sizeof e->err, "%s: OpenSSL error %08lX", what,
			 code);
	else
		snprintf(e->err, sizeof e->err, "%s: error %d", what, ssl_err);
	ERR_clear_error();
}

int
tk_tls_engine_new(tk_tls_engine **out, const char *sni)
{
	SSL_CTX *c = context();
	tk_tls_engine *e;
	*out = NULL;
	if (!c)
		return TK_TLS_EINIT;
	e = calloc(1, sizeof *e);
	if (!e)
		return TK_TLS_ENOMEM;
	e->ssl = SSL_new(c);
	e->in = BIO_new(BIO_s_mem());
	e->out = BIO_new(BIO_s_mem());
	if (!e->ssl || !e->in || !e->out) {
		BIO_free(e->in);
		BIO_free(e->out);
		SSL_free(e->ssl);
		free(e);
		ERR_clear_error();
		return TK_TLS_ENOMEM;
	}
	/* An empty input BIO means "more to come" until the transport
	 * ends (tk_tls_engine_feed_eof). */
	BIO_set_mem_eof_return(e->in, -1);
	SSL_set_bio(e->ssl, e->in, e->out);
	SSL_set_connect_state(e->ssl);
	if (sni && !SSL_set_tlsext_host_name(e->ssl, sni)) {
		tk_tls_engine_free(e);
		ERR_clear_error();
		return TK_TLS_EINIT;
	}
	*out = e;
	return 0;
}

void
tk_tls_engine_free(tk_tls_engine *e)
{
	if (!e)
		return;
	SSL_free(e->ssl); /* and both BIOs */
	free(e->cert);
	free(e);
}

int
tk_tls_engine_feed(tk_tls_engine *e, const uint8_t *p, size_t n)
{
	while (n > 0) {
		int k = n > INT_MAX ? INT_MAX : (int)n;
		if (BIO_write(e->in, p, k) != k) {
			ERR_clear_error();
			return TK_TLS_ENOMEM;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

void
tk_tls_engine_feed_eof(tk_tls_engine *e)
{
	e->in_eof = 1;
	BIO_set_mem_eof_return(e->in, 0);
}

uint8_t *
tk_tls_engine_take_output(tk_tls_engine *e, size_t *n)
{
	size_t len = BIO_ctrl_pending(e->out);
	uint8_t *p;
	*n = len;
	if (len == 0)
		return NULL;
	p = malloc(len);
	if (!p || BIO_read(e->out, p, (int)len) != (int)len) {
		free(p); /* NULL with *n != 0: out of memory */
		return NULL;
	}
	return p;
}

/* A failed call after the transport ended is the end, not an error:
 * OpenSSL reports a TCP end without close_notify as a syscall error or
 * "unexpected eof". */
static int
ended(const tk_tls_engine *e, int ssl_err)
{
	if (ssl_err == SSL_ERROR_ZERO_RETURN)
		return 1;
	if (!e->in_eof || BIO_ctrl_pending(e->in) != 0)
		return 0;
	if (ssl_err == SSL_ERROR_SSL)
		return ERR_GET_REASON(ERR_peek_error()) ==
		       SSL_R_UNEXPECTED_EOF_WHILE_READING;
	return ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_WANT_READ;
}

static int
keep_cert(tk_tls_engine *e)
{
	X509 *x = SSL_get0_peer_certificate(e->ssl);
	unsigned char *p = NULL;
	int n;
	if (!x)
		return 0; /* tls.h callers check for a missing certificate */
	n = i2d_X509(x, &p);
	if (n <= 0) {
		ERR_clear_error();
		return TK_TLS_ENOMEM;
	}
	e->cert = malloc((size_t)n);
	if (!e->cert) {
		OPENSSL_free(p);
		return TK_TLS_ENOMEM;
	}
	memcpy(e->cert, p, (size_t)n);
	e->cert_len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

int
tk_tls_engine_handshake(tk_tls_engine *e)
{
	int rc, err;
	ERR_clear_error();
	rc = SSL_do_handshake(e->ssl);
	if (rc == 1)
		return keep_cert(e);
	err = SSL_get_error(e->ssl, rc);
	if (ended(e, err)) {
		ERR_clear_error();
		return TK_TLS_CLOSED;
	}
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return TK_TLS_AGAIN;
	set_err(e, "TLS handshake", err);
	return TK_TLS_EHANDSHAKE;
}

ssize_t
tk_tls_engine_read(tk_tls_engine *e, uint8_t *buf, size_t cap)
{
	int rc, err;
	ERR_clear_error();
	rc = SSL_read(e->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
	if (rc > 0)
		return rc;
	err = SSL_get_error(e->ssl, rc);
	if (ended(e, err)) {
		ERR_clear_error();
		return TK_TLS_CLOSED;
	}
	/* Post-handshake messages (TLS 1.3 session tickets) are handled
	 * inside SSL_read and leave no plaintext: wait for more. */
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	set_err(e, "TLS read", err);
	return TK_TLS_EPROTO;
}

int
tk_tls_engine_write(tk_tls_engine *e, const uint8_t *p, size_t n)
{
	size_t done = 0;
	ERR_clear_error();
	if (n == 0)
		return 0;
	if (SSL_write_ex(e->ssl, p, n, &done) != 1 || done != n) {
		set_err(e, "TLS write", SSL_get_error(e->ssl, 0));
		return TK_TLS_EPROTO;
	}
	return 0;
}

void
tk_tls_engine_close_notify(tk_tls_engine *e)
{
	(void)SSL_shutdown(e->ssl);
	ERR_clear_error();
}

const uint8_t *
tk_tls_engine_peer_cert(const tk_tls_engine *e, size_t *n)
{
	*n = e->cert_len;
	return e->cert;
}

const char *
tk_tls_engine_version(const tk_tls_engine *e)
{
	return SSL_get_version(e->ssl);
}

const char *
tk_tls_engine_ciphersuite(const tk_tls_engine *e)
{
	const char *s = SSL_get_cipher_name(e->ssl);
	return s ? s : "";
}

const char *
tk_tls_engine_last_error(const tk_tls_engine *e)
{
	return e->err;
}

const char *
tk_tls_engine_library(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
