/* The TLS library seam (internal to tls.c and its tests).
 *
 * An engine is a TLS client that does no I/O: ciphertext from the network
 * is fed in, ciphertext for the network is taken out, plaintext goes
 * through read/write. configure links one implementation:
 * tls_openssl.c (the default: TLS 1.3 and 1.2, tor's ClientHello) or
 * tls_mbedtls.c (--with-tls=mbedtls: TLS 1.2 only). */
#ifndef TK_ONION_LINK_TLS_ENGINE_H
#define TK_ONION_LINK_TLS_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "onion/link/tls_err.h"

typedef struct tk_tls_engine tk_tls_engine;

/* Results besides the TK_TLS_E* codes. */
#define TK_TLS_AGAIN 1	      /* needs more ciphertext from the peer */
#define TK_TLS_CLOSED (-5100) /* peer sent close_notify or the input ended */

int tk_tls_engine_new(tk_tls_engine **out, const char *sni);
void tk_tls_engine_free(tk_tls_engine *e);

/* Ciphertext received from the peer. eof marks the transport's end. */
int tk_tls_engine_feed(tk_tls_engine *e, const uint8_t *p, size_t n);
void tk_tls_engine_feed_eof(tk_tls_engine *e);

/* Ciphertext to send, as a malloc'd buffer the caller frees; NULL when
 * there is nothing (or *n == 0). */
uint8_t *tk_tls_engine_take_output(tk_tls_engine *e, size_t *n);

/* 0 done, TK_TLS_AGAIN, TK_TLS_CLOSED or TK_TLS_EHANDSHAKE. */
int tk_tls_engine_handshake(tk_tls_engine *e);

/* >0 bytes of plaintext; 0 when no more plaintext can be had until more
 * ciphertext arrives; TK_TLS_CLOSED; TK_TLS_EPROTO. */
ssize_t tk_tls_engine_read(tk_tls_engine *e, uint8_t *buf, size_t cap);

/* Encrypts all of p into the output buffer. 0 or TK_TLS_E*. */
int tk_tls_engine_write(tk_tls_engine *e, const uint8_t *p, size_t n);

/* Queues a close_notify alert. */
void tk_tls_engine_close_notify(tk_tls_engine *e);

const uint8_t *tk_tls_engine_peer_cert(const tk_tls_engine *e, size_t *n);
const char *tk_tls_engine_version(const tk_tls_engine *e);
const char *tk_tls_engine_ciphersuite(const tk_tls_engine *e);

/* A human-readable reason for the last failure ("" if none). */
const char *tk_tls_engine_last_error(const tk_tls_engine *e);

/* The library and its version, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
const char *tk_tls_engine_library(void);

#endif
