/* A TLS client connection over a libuv TCP handle.
 *
 * Tor relays present a self-signed certificate: TLS itself authenticates
 * nothing here. The handshake accepts any certificate and exposes the peer
 * certificate (DER) so the channel can prove, with the CERTS cell, that it
 * belongs to the expected relay identity.
 *
 * The TLS library lives behind tls_engine.h: OpenSSL 3 (TLS 1.3 and 1.2,
 * a ClientHello shaped like tor's) unless configure chose mbedTLS 2.28
 * (TLS 1.2 only). This header does not mention it.
 *
 * Programs must ignore SIGPIPE (libuv writes with write(2)): a relay that
 * hung up then shows as an EPIPE status instead of killing the process.
 *
 * Callbacks carry an explicit status: 0, a libuv error (UV_E*, UV_EOF) or a
 * TK_TLS_E* code (tls_err.h); tk_tls_strerror() names any of them. After a
 * callback reports an error the only valid call is tk_tls_close(). */
#ifndef TK_ONION_LINK_TLS_H
#define TK_ONION_LINK_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/link/tls_err.h"

typedef struct tk_tls tk_tls;

/* status 0: TLS is up, tk_tls_write() may be called. */
typedef void (*tk_tls_connect_cb)(tk_tls *t, int status, void *arg);
/* Decrypted bytes (status 0, len > 0), or the end: status UV_EOF when the
 * peer closed (close_notify or TCP EOF), another error otherwise. */
typedef void (*tk_tls_read_cb)(tk_tls *t, int status, const uint8_t *data,
			       size_t len, void *arg);
typedef void (*tk_tls_close_cb)(tk_tls *t, void *arg);

/* Starts a TCP connection to addr, then the TLS handshake. sni may be NULL
 * (no server_name extension). On success *out is owned by the caller until
 * tk_tls_close(); connect_cb runs exactly once unless closed before. */
int tk_tls_connect(uv_loop_t *loop, const struct sockaddr *addr,
		   const char *sni, tk_tls_connect_cb connect_cb,
		   tk_tls_read_cb read_cb, void *arg, tk_tls **out);

/* Encrypts and queues len bytes. Returns 0 or a negative status; a
 * failure of the socket write later is reported through read_cb. */
int tk_tls_write(tk_tls *t, const uint8_t *data, size_t len);

/* Ciphertext bytes queued but not yet taken by the kernel: callers apply
 * back-pressure above TLS with it. */
size_t tk_tls_write_queue_size(const tk_tls *t);

/* After a successful connect: the peer certificate as DER (valid until
 * close), the protocol version and cipher suite names. */
const uint8_t *tk_tls_peer_cert(const tk_tls *t, size_t *len);
const char *tk_tls_version(const tk_tls *t);
const char *tk_tls_ciphersuite(const tk_tls *t);

/* The local and remote TCP addresses (0 or a libuv error). */
int tk_tls_sockname(const tk_tls *t, struct sockaddr_storage *ss);
int tk_tls_peername(const tk_tls *t, struct sockaddr_storage *ss);

/* Sends close_notify if TLS is up, closes the socket and frees t; close_cb
 * (may be NULL) runs from the loop afterwards. No other callback runs once
 * tk_tls_close() has been called. Safe to call from inside a callback. */
void tk_tls_close(tk_tls *t, tk_tls_close_cb close_cb);

const char *tk_tls_strerror(int status);

/* Details of the last TLS failure on t from the TLS library ("" if none). */
const char *tk_tls_last_error(const tk_tls *t);

/* The TLS library linked in, with its version (for logs and tools). */
const char *tk_tls_library(void);

#endif
