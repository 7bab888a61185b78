/* tls_engine.h on mbedTLS 2.28: a TLS 1.2 client over memory buffers
 * (configure --with-tls=mbedtls). It cannot speak TLS 1.3, and its
 * ClientHello is nothing like tor's; tls_openssl.c is the default.
 *
 * The BIO callbacks never block: receive copies from the input buffer (or
 * says WANT_READ), send appends to the output buffer and always accepts
 * everything, so mbedtls_ssl_write() never has to be re-called with the
 * same data. */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/link/tls_engine.h"

struct tk_buf {
	uint8_t *p;
	size_t off, len, cap; /* live bytes are p[off .. off+len) */
};

struct tk_tls_engine {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	struct tk_buf in, out;
	int in_eof;
	int oom;
	char err[128];
};

static int
buf_append(struct tk_buf *b, const uint8_t *p, size_t n)
{
	if (b->off > 0 && b->off + b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

static void
set_err(tk_tls_engine *e, const char *what, int rc)
{
	char msg[96];
	mbedtls_strerror(rc, msg, sizeof msg);
	snprintf(e->err, sizeof e->err, "%s: %s (-0x%04x)", what, msg,
		 (unsigned)-rc);
}

static int
bio_send(void *ctx, const unsigned char *p, size_t n)
{
	tk_tls_engine *e = ctx;
	if (buf_append(&e->out, p, n) != 0) {
		e->oom = 1;
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	}
	return (int)n;
}

static int
bio_recv(void *ctx, unsigned char *p, size_t n)
{
	tk_tls_engine *e = ctx;
	if (e->in.len == 0)
		return e->in_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	if (n > e->in.len)
		n = e->in.len;
	memcpy(p, e->in.p + e->in.off, n);
	e->in.off += n;
	e->in.len -= n;
	if (e->in.len == 0)
		e->in.off = 0;
	return (int)n;
}

int
tk_tls_engine_new(tk_tls_engine **out, const char *sni)
{
	static const char pers[] = "torkit tls";
	tk_tls_engine *e = calloc(1, sizeof *e);
	int rc;
	*out = NULL;
	if (!e)
		return TK_TLS_ENOMEM;
	mbedtls_ssl_init(&e->ssl);
	mbedtls_ssl_config_init(&e->conf);
	mbedtls_entropy_init(&e->entropy);
	mbedtls_ctr_drbg_init(&e->drbg);
	rc = mbedtls_ctr_drbg_seed(&e->drbg, mbedtls_entropy_func, &e->entropy,
				   (const unsigned char *)pers,
				   sizeof pers - 1);
	if (rc == 0)
		rc = mbedtls_ssl_config_defaults(&e->conf,
						 MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM,
						 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc == 0) {
		/* Tor authenticates the relay with the CERTS cell, not with
		 * a certificate chain: the relay's certificate is
		 * self-signed by design. */
		mbedtls_ssl_conf_authmode(&e->conf, MBEDTLS_SSL_VERIFY_NONE);
		/* tor 0.4.9 relays require TLS 1.2 or later. */
		mbedtls_ssl_conf_min_version(&e->conf,
					     MBEDTLS_SSL_MAJOR_VERSION_3,
					     MBEDTLS_SSL_MINOR_VERSION_3);
		mbedtls_ssl_conf_rng(&e->conf, mbedtls_ctr_drbg_random,
				     &e->drbg);
		rc = mbedtls_ssl_setup(&e->ssl, &e->conf);
	}
	if (rc == 0 && sni)
		rc = mbedtls_ssl_set_hostname(&e->ssl, sni);
	if (rc != 0) {
		tk_tls_engine_free(e);
		return TK_TLS_EINIT;
	}
	mbedtls_ssl_set_bio(&e->ssl, e, bio_send, bio_recv, NULL);
	*out = e;
	return 0;
}

void
tk_tls_engine_free(tk_tls_engine *e)
{
	if (!e)
		return;
	mbedtls_ssl_free(&e->ssl);
	mbedtls_ssl_config_free(&e->conf);
	mbedtls_ctr_drbg_free(&e->drbg);
	mbedtls_entropy_free(&e->entropy);
	free(e->in.p);
	free(e->out.p);
	free(e);
}

int
tk_tls_engine_feed(tk_tls_engine *e, const uint8_t *p, size_t n)
{
	return buf_append(&e->in, p, n) == 0 ? 0 : TK_TLS_ENOMEM;
}

void
tk_tls_engine_feed_eof(tk_tls_engine *e)
{
	e->in_eof = 1;
}

uint8_t *
tk_tls_engine_take_output(tk_tls_engine *e, size_t *n)
{
	uint8_t *p;
	*n = e->out.len;
	if (e->out.len == 0)
		return NULL;
	if (e->out.off == 0) {
		p = e->out.p;
		e->out.p = NULL;
		e->out.cap = 0;
	} else {
		p = malloc(e->out.len);
		if (!p) {
			*n = 0;
			return NULL;
		}
		memcpy(p, e->out.p + e->out.off, e->out.len);
	}
	e->out.off = e->out.len = 0;
	return p;
}

int
tk_tls_engine_handshake(tk_tls_engine *e)
{
	int rc = mbedtls_ssl_handshake(&e->ssl);
	if (rc == 0)
		return 0;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return e->in_eof ? TK_TLS_CLOSED : TK_TLS_AGAIN;
	if (e->oom)
		return TK_TLS_ENOMEM;
	if (e->in_eof && e->in.len == 0 && rc == MBEDTLS_ERR_SSL_CONN_EOF)
		return TK_TLS_CLOSED;
	set_err(e, "TLS handshake", rc);
	return TK_TLS_EHANDSHAKE;
}

ssize_t
tk_tls_engine_read(tk_tls_engine *e, uint8_t *buf, size_t cap)
{
	int rc = mbedtls_ssl_read(&e->ssl, buf, cap);
	if (rc > 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return e->in_eof ? TK_TLS_CLOSED : 0;
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    rc == MBEDTLS_ERR_SSL_CONN_EOF)
		return TK_TLS_CLOSED;
	if (e->oom)
		return TK_TLS_ENOMEM;
	set_err(e, "TLS read", rc);
	return TK_TLS_EPROTO;
}

int
tk_tls_engine_write(tk_tls_engine *e, const uint8_t *p, size_t n)
{
	while (n > 0) {
		int rc = mbedtls_ssl_write(&e->ssl, p, n);
		if (rc < 0) {
			if (e->oom)
				return TK_TLS_ENOMEM;
			set_err(e, "TLS write", rc);
			return TK_TLS_EPROTO;
		}
		/* Records hold at most 16 KiB: a short write is normal. */
		p += rc;
		n -= (size_t)rc;
	}
	return 0;
}

void
tk_tls_engine_close_notify(tk_tls_engine *e)
{
	(void)mbedtls_ssl_close_notify(&e->ssl);
}

const uint8_t *
tk_tls_engine_peer_cert(const tk_tls_engine *e, size_t *n)
{
	const mbedtls_x509_crt *c = mbedtls_ssl_get_peer_cert(&e->ssl);
	if (!c) {
		*n = 0;
		return NULL;
	}
	*n = c->raw.len;
	return c->raw.p;
}

const char *
tk_tls_engine_version(const tk_tls_engine *e)
{
	return mbedtls_ssl_get_version(&e->ssl);
}

const char *
tk_tls_engine_ciphersuite(const tk_tls_engine *e)
{
	const char *s = mbedtls_ssl_get_ciphersuite(&e->ssl);
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
	static char name[32];
	if (!name[0])
		mbedtls_version_get_string_full(name);
	return name;
}
