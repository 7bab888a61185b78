/* socks_client.h — one SOCKS client exchange over libuv.
 *
 * The three clients share this: connect to the proxy (TCP over IPv4/IPv6,
 * or a unix socket), run the codec's client side (socks_proto.h) with a
 * connect timeout and an answer timeout, then either report the proxy's
 * answer (RESOLVE, RESOLVE_PTR) or hand over the connected stream
 * (CONNECT). Targets travel to the proxy as text; nothing here resolves
 * them. Only the proxy's own host name may be resolved (uv_getaddrinfo),
 * once, by tk_socks_proxy_resolve().
 */
#ifndef TK_SOCKS_CLIENT_H
#define TK_SOCKS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/addr.h"
#include "lib/socks_proto.h"

/* How an exchange ended. The values are the clients' exit codes. */
enum tk_socks_outcome {
	TK_SOCKS_OUT_OK = 0,	      /* the proxy answered: success */
	TK_SOCKS_OUT_FAILED = 1,      /* the proxy answered: failure */
	TK_SOCKS_OUT_USAGE = 2,	      /* the request cannot be encoded */
	TK_SOCKS_OUT_UNREACHABLE = 3, /* no proxy there, or not SOCKS */
	TK_SOCKS_OUT_TIMEOUT = 4,     /* connected, but no answer in time */
};

/* The finer reason behind an outcome, for messages and JSON. */
enum tk_socks_why {
	TK_SOCKS_WHY_NONE = 0,
	TK_SOCKS_WHY_REPLY,	  /* reply.rep says what the proxy said */
	TK_SOCKS_WHY_NO_METHOD,	  /* 05 FF */
	TK_SOCKS_WHY_AUTH_FAILED, /* RFC 1929 status != 0 */
	TK_SOCKS_WHY_BAD_REQUEST,
	TK_SOCKS_WHY_RESOLVE_PROXY,   /* the proxy's name did not resolve */
	TK_SOCKS_WHY_REFUSED,	      /* connect(): refused */
	TK_SOCKS_WHY_CONNECT_TIMEOUT, /* connect(): no answer in time */
	TK_SOCKS_WHY_CONNECT_ERROR,   /* connect(): anything else */
	TK_SOCKS_WHY_HTTP,	      /* the proxy speaks HTTP */
	TK_SOCKS_WHY_GARBAGE,	      /* bytes that are not a SOCKS answer */
	TK_SOCKS_WHY_TRUNCATED,	      /* closed in the middle of an answer */
	TK_SOCKS_WHY_CLOSED,	      /* closed before answering anything */
	TK_SOCKS_WHY_IO_ERROR,	      /* read/write error (reset, ...) */
	TK_SOCKS_WHY_ANSWER_TIMEOUT,
};

#define TK_SOCKS_PROXY_ADDRS 8

/* A proxy address, ready to connect to. */
struct tk_socks_proxy {
	struct tk_endpoint ep;
	int naddrs; /* 0 until resolved; unix sockets need none */
	struct sockaddr_storage addrs[TK_SOCKS_PROXY_ADDRS];
	char text[TK_ENDPOINT_HOST_MAX + 16]; /* "host:port" for messages */
	/* private */
	uv_getaddrinfo_t gai;
	void (*resolved_cb)(struct tk_socks_proxy *p, int status);
};

/* Takes the endpoint; returns 1 if the proxy's host is a name that
 * tk_socks_proxy_resolve() must look up first, 0 if it is ready. */
int tk_socks_proxy_init(struct tk_socks_proxy *p, const struct tk_endpoint *ep);
/* Resolves the proxy's host name (never a target's). cb gets 0 or a
 * libuv error. */
int tk_socks_proxy_resolve(uv_loop_t *loop, struct tk_socks_proxy *p,
			   void (*cb)(struct tk_socks_proxy *p, int status));

/* Direction of traced bytes. */
enum {
	TK_SOCKS_TRACE_SENT = 1,
	TK_SOCKS_TRACE_RECEIVED = 2,
	TK_SOCKS_TRACE_NOTE = 3
};

struct tk_socks_session_config {
	const struct tk_socks_proxy *proxy;
	struct tk_socks_client_config req;
	uint64_t connect_timeout_ms; /* 0: none */
	uint64_t answer_timeout_ms;  /* 0: none */
	/* -v: every byte sent/received, and notes (bytes NULL, text in
	 * `note`). May be NULL. */
	void (*trace)(void *arg, int dir, const uint8_t *b, size_t n,
		      const char *note);
	void *trace_arg;
};

struct tk_socks_session;
typedef void (*tk_socks_session_cb)(struct tk_socks_session *s);

struct tk_socks_session {
	void *data; /* the caller's */

	/* Set before the callback runs. */
	int outcome;			    /* enum tk_socks_outcome */
	int why;			    /* enum tk_socks_why */
	int uv_status;			    /* libuv error behind an I/O why */
	struct tk_socks_client_reply reply; /* with TK_SOCKS_WHY_REPLY */
	char msg[320];			    /* the outcome in words */

	/* CONNECT success: the connected stream (reading stopped) and the
	 * stream bytes that arrived together with the reply. The stream's
	 * `data` is the caller's from now on. */
	uv_stream_t *stream;
	const uint8_t *early;
	size_t early_len;

	/* private */
	uv_loop_t *loop;
	struct tk_socks_session_config cfg;
	tk_socks_session_cb cb;
	void (*close_cb)(struct tk_socks_session *s);
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} conn;
	uv_timer_t timer;
	uv_connect_t connect_req;
	uv_write_t write_req;
	struct tk_socks_client codec;
	int state;
	int addr_index;
	int conn_open;
	int closing;
	int sync_error;
	int pending_closes;
	size_t received_total;
	size_t inlen;
	/* Reads land here directly: a reply and the target's first bytes
	 * may come in one read, and those bytes are `early`. */
	uint8_t in[TK_SOCKS_REPLY_MAX + 4096];
	uint8_t out[TK_SOCKS_REPLY_MAX];
};

/* Starts one exchange. cb runs exactly once, never from inside this call.
 * Returns 0, or a libuv error (cb will not run). */
int tk_socks_session_start(uv_loop_t *loop, struct tk_socks_session *s,
			   const struct tk_socks_session_config *cfg,
			   tk_socks_session_cb cb);

/* Closes every handle (including a handed-over stream); close_cb (may be
 * NULL) runs when s may be freed. Call once, after the callback ran or to
 * abandon an exchange (then the callback does not run). */
void tk_socks_session_close(struct tk_socks_session *s,
			    void (*close_cb)(struct tk_socks_session *s));

/* Reply code in words: Tor's names for 00-08 and its extended F0-F7, and
 * SOCKS4's 5A-5D. Never NULL. */
const char *tk_socks_reply_str(uint8_t version, uint8_t rep);

#endif
