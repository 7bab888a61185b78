/* engine.h — what torkitd's SOCKS front-end asks of an engine.
 *
 * The front-end (session.c) speaks SOCKS to applications; an engine gets
 * the parsed request and does the network work: the `direct` engine
 * (engine_direct.c) resolves with c-ares and connects itself, the `tor`
 * engine (src/onion, adapted by the daemon) carries the same requests over
 * Tor circuits. Engines know nothing of SOCKS: they report failures as Tor
 * stream END reasons (enum tk_end_reason in lib/socks_proto.h) and the
 * front-end maps them to replies with tk_socks5_rep_from_end_reason().
 *
 * Rules every engine follows (they keep the front-end simple and safe):
 *
 *  - Everything runs on the one libuv loop given to the engine; no
 *    callback is ever called from inside the call that started the
 *    operation (defer with a zero timer or uv_check, as libuv does with
 *    delayed errors), so callers never see re-entrancy.
 *  - Requests (connect, resolve, resolve_ptr) return a handle. Each
 *    request's callback is called exactly once, unless the request is
 *    cancelled first with tk_engine_cancel(): after cancel, the callback is
 *    never called and the engine frees the request itself.
 *  - A stream is the engine's half of a relayed connection. Its reads are
 *    libuv-like: the engine asks the front-end for a buffer (alloc), fills
 *    it and hands it over (read); the front-end owns it from then on.
 *    Writes hand buffers to the engine, which gives each one back through
 *    `written` once it no longer needs it, in order. The bytes handed over
 *    and not yet given back are the stream's write queue: the front-end
 *    stops reading from the application when it grows past its high-water
 *    mark and resumes as buffers come back. An engine that copies data into
 *    its own cells gives a buffer back as soon as the copy fits its flow
 *    control window, which is what propagates Tor's windows to the
 *    application.
 *  - tk_stream_close() is final: the engine gives back every buffer still
 *    queued (written with a non-zero status), then calls `closed` exactly
 *    once, later, on the loop; after that it calls nothing for the stream.
 */
#ifndef TK_DAEMON_ENGINE_H
#define TK_DAEMON_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/socks_proto.h"

struct tk_engine;
struct tk_engine_req;
struct tk_stream;
struct tk_config;

/* An onion-service failure carries Tor's extended SOCKS5 code (F0-F7)
 * beside the plain END reason: the front-end sends the code on ports with
 * ExtendedErrors, and the mapped reason elsewhere (as Tor does). */
/* clang-format off */
#define TK_END_EXT(rep5, reason) ((1 << 20) | ((rep5) << 9) | (reason))
#define TK_END_IS_EXT(r) (((r) & (1 << 20)) != 0)
#define TK_END_EXT_REP(r) (((r) >> 9) & 0xff)
#define TK_END_BASE(r) ((r) & 0x1ff)
/* clang-format on */

/* What isolates a stream, as Tor's SocksPort isolation flags: two
 * requests may share a circuit only if all the fields their port's rules
 * name are equal. Always: the listener, and the SOCKS credentials unless
 * NoIsolateSOCKSAuth (then has_auth is 0). The direct engine ignores it.
 * Pointers are valid only during the call. */
enum {
	TK_ISO_DEST_ADDR = 1 << 0,	 /* IsolateDestAddr */
	TK_ISO_DEST_PORT = 1 << 1,	 /* IsolateDestPort */
	TK_ISO_CLIENT_ADDR = 1 << 2,	 /* IsolateClientAddr (Tor: on) */
	TK_ISO_CLIENT_PROTOCOL = 1 << 3, /* IsolateClientProtocol */
};
struct tk_isolation {
	uint32_t listener_id;  /* which SocksPort (stable across reloads) */
	unsigned rules;	       /* TK_ISO_*: which fields below count */
	uint8_t socks_version; /* 4 or 5 */
	uint8_t has_auth;      /* SOCKS4 userid or RFC 1929 given */
	uint8_t has_password;  /* SOCKS5 RFC 1929 (else SOCKS4 userid) */
	const uint8_t *username;
	size_t username_len;
	const uint8_t *password;
	size_t password_len;
	const char *client_addr; /* without the port; "unix" for a socket */
	const char *dest_host;	 /* lowercased; an address for RESOLVE_PTR */
	uint16_t dest_port;	 /* 0 for lookups */
};

/* The tor engine's isolation key for iso: every field tagged and
 * length-prefixed in full (engine_tor_iso.c). No field is longer than
 * TK_ISO_FIELD_MAX (a SOCKS4 userid: 512 bytes). */
#define TK_ISO_FIELD_MAX 512
#define TK_ISO_KEY_MAX \
	(4 + 2 * 3 + 2 * TK_ISO_FIELD_MAX + 2 + 2 * 3 + 2 * 256 + 3)
size_t tk_engine_tor_iso_key(const struct tk_isolation *iso,
			     uint8_t key[TK_ISO_KEY_MAX]);

/* A CONNECT target. `host` is lowercased, without brackets, and is an IP
 * literal exactly when `family` is AF_INET or AF_INET6 (then `addr` holds
 * it in network order); for a hostname `family` is AF_UNSPEC. */
struct tk_target {
	const char *host;
	int family;
	uint8_t addr[16];
	uint16_t port;
	int prefer_ipv6; /* the SocksPort's PreferIPv6 (CONNECT) */
};

/* What a resolve found. The front-end answers with the first IPv4 address
 * (or the first IPv6 one when there is none, or when the port prefers
 * IPv6), as Tor chooses among a RESOLVED cell's answers. */
#define TK_RESOLVED_MAX 16
struct tk_resolved_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};
struct tk_resolved {
	size_t n_addrs;
	struct tk_resolved_addr addrs[TK_RESOLVED_MAX];
	char name[TK_SOCKS_HOST_MAX]; /* resolve_ptr: the name found */
	uint32_t ttl;		      /* seconds, informational */
};

/* Families a resolve wants (SOCKS4 can only carry IPv4). */
enum {
	TK_RESOLVE_IPV4 = 1,
	TK_RESOLVE_IPV6 = 2,
};

/* end_reason is TK_END_NONE on success (then `stream` is the new stream,
 * owned by the caller until tk_stream_close), else why it failed. */
typedef void (*tk_engine_connect_cb)(void *arg, int end_reason,
				     struct tk_stream *stream);
/* end_reason TK_END_NONE: `res` holds at least one address (resolve) or a
 * name (resolve_ptr). `res` is valid only during the callback. */
typedef void (*tk_engine_resolve_cb)(void *arg, int end_reason,
				     const struct tk_resolved *res);

/* How far the engine is from carrying requests, for the ControlPort
 * (GETINFO status/bootstrap-phase, status/circuit-established) and
 * systemd's STATUS=. */
struct tk_engine_status {
	int percent;		 /* tor's "Bootstrapped" percentage */
	const char *tag;	 /* tor's tag ("loading_descriptors"); static */
	const char *summary;	 /* tor's words; static */
	int circuit_established; /* a circuit was built (tor engine) */
};

/* Callbacks of one stream, given to tk_stream_start(). */
struct tk_stream_cbs {
	/* Give the engine a buffer to read into (at least 1 byte). */
	void (*alloc)(void *arg, size_t suggested, uint8_t **buf, size_t *cap);
	/* `len` > 0 bytes from the target in `buf` (from alloc; the front-end
	 * owns it now). len == 0: the target finished sending (EOF), or an
	 * unused buffer is returned; `buf` may then be NULL. */
	void (*read)(void *arg, uint8_t *buf, size_t len, int eof);
	/* A buffer given to tk_stream_write is no longer needed; status 0 if
	 * its bytes were sent, non-zero if they were dropped (stream failing
	 * or closing). */
	void (*written)(void *arg, uint8_t *buf, size_t len, int status);
	/* The stream failed after it was open (reset, timeout, circuit
	 * destroyed): END reason. Reads stop; writes are given back failed.
	 * The front-end then closes it. */
	void (*error)(void *arg, int end_reason);
	/* After tk_stream_close: the last call for this stream. */
	void (*closed)(void *arg);
};

struct tk_engine_ops {
	const char *name;
	int (*connect)(struct tk_engine *e, const struct tk_target *t,
		       const struct tk_isolation *iso, tk_engine_connect_cb cb,
		       void *arg, struct tk_engine_req **req);
	/* `name` is a hostname (never an IP literal: the front-end answers
	 * those itself, as Tor does). */
	int (*resolve)(struct tk_engine *e, const char *name, int families,
		       const struct tk_isolation *iso, tk_engine_resolve_cb cb,
		       void *arg, struct tk_engine_req **req);
	int (*resolve_ptr)(struct tk_engine *e, int family,
			   const uint8_t addr[16],
			   const struct tk_isolation *iso,
			   tk_engine_resolve_cb cb, void *arg,
			   struct tk_engine_req **req);
	void (*cancel)(struct tk_engine_req *req);

	void (*stream_start)(struct tk_stream *s,
			     const struct tk_stream_cbs *cbs, void *arg);
	void (*stream_read_stop)(struct tk_stream *s);
	void (*stream_read_start)(struct tk_stream *s);
	int (*stream_write)(struct tk_stream *s, uint8_t *buf, size_t len);
	/* Instead of stream_start, for a front-end that moves the bytes
	 * itself (splice(2), splice.h): sets the callbacks as stream_start
	 * does but reads nothing, and gives the stream's socket, which the
	 * front-end reads, writes and shuts itself, or hands back by going
	 * on with stream_read_start and stream_write (a fallback). Until
	 * then the engine calls nothing but `closed`. -1: no plain socket
	 * (the front-end calls stream_start). NULL: never one. */
	int (*stream_socket)(struct tk_stream *s,
			     const struct tk_stream_cbs *cbs, void *arg);
	/* No more writes: the target sees EOF after the queued bytes (an
	 * engine without half-close documents what it does instead). */
	void (*stream_shutdown)(struct tk_stream *s);
	void (*stream_close)(struct tk_stream *s);

	/* Memory the engine holds for one stream, and for all, beyond the
	 * front-end's buffers (MaxMemInQueues); NULL: nothing. */
	size_t (*stream_held)(const struct tk_stream *s);
	size_t (*held)(const struct tk_engine *e);

	/* New configuration after SIGHUP (policies, DNS servers); 0 or a
	 * negative UV_E* / -1 with the reason already logged. */
	int (*reload)(struct tk_engine *e, const struct tk_config *cfg);
	/* NULL: nothing to bootstrap (100%, done, and requests are carried
	 * at once). */
	void (*status)(const struct tk_engine *e, struct tk_engine_status *st);
	/* SIGNAL NEWNYM: later requests share no circuit with earlier ones;
	 * NULL: the engine has no circuits to change. */
	void (*newnym)(struct tk_engine *e);
	/* Stop: cancel everything, free, then call done(arg) on the loop. */
	void (*close)(struct tk_engine *e, void (*done)(void *), void *arg);
};

/* Every engine embeds this first. */
struct tk_engine {
	const struct tk_engine_ops *ops;
	uv_loop_t *loop;
	/* Set by the daemon: the engine cannot go on (the tor engine: the
	 * network requires a protocol it lacks); msg is logged already.
	 * May be NULL. */
	void (*fatal)(void *arg, const char *msg);
	void *fatal_arg;
	/* Set by the daemon once the engine is made (never called from
	 * inside the constructor): each new bootstrap percentage. May be
	 * NULL. */
	void (*progress)(void *arg, const struct tk_engine_status *st);
	void *progress_arg;
};

/* Every engine stream embeds this first. */
struct tk_stream {
	struct tk_engine *engine;
};

/* Constructors, one per engine. 0, or -1 with the reason logged. */
int tk_engine_direct_new(uv_loop_t *loop, const struct tk_config *cfg,
			 struct tk_engine **out);
int tk_engine_tor_new(uv_loop_t *loop, const struct tk_config *cfg,
		      struct tk_engine **out);
/* The onion engine's configuration from torkitd's (log callbacks aside):
 * 0, or -1 with err. */
struct tk_onion_config;
int tk_engine_tor_config(const struct tk_config *cfg,
			 struct tk_onion_config *oc, char *err, size_t errlen);
/* Checks the tor engine's settings (DirAuthority lines) without starting
 * anything: 0, or -1 with err saying what is wrong (--verify-config). */
int tk_engine_tor_check(const struct tk_config *cfg, char *err, size_t errlen);

/* Thin dispatchers, so callers read like libuv. */
static inline int
tk_engine_connect(struct tk_engine *e, const struct tk_target *t,
		  const struct tk_isolation *iso, tk_engine_connect_cb cb,
		  void *arg, struct tk_engine_req **req)
{
	return e->ops->connect(e, t, iso, cb, arg, req);
}

static inline int
tk_engine_resolve(struct tk_engine *e, const char *name, int families,
		  const struct tk_isolation *iso, tk_engine_resolve_cb cb,
		  void *arg, struct tk_engine_req **req)
{
	return e->ops->resolve(e, name, families, iso, cb, arg, req);
}

static inline int
tk_engine_resolve_ptr(struct tk_engine *e, int family, const uint8_t a[16],
		      const struct tk_isolation *iso, tk_engine_resolve_cb cb,
		      void *arg, struct tk_engine_req **req)
{
	return e->ops->resolve_ptr(e, family, a, iso, cb, arg, req);
}

static inline void
tk_engine_cancel(struct tk_engine *e, struct tk_engine_req *req)
{
	e->ops->cancel(req);
}

/* The engine's bootstrap status (see struct tk_engine_status). */
static inline void
tk_engine_status(const struct tk_engine *e, struct tk_engine_status *st)
{
	if (e->ops->status != NULL) {
		e->ops->status(e, st);
		return;
	}
	st->percent = 100;
	st->tag = "done";
	st->summary = "Done";
	st->circuit_established = 1;
}

static inline void
tk_stream_start(struct tk_stream *s, const struct tk_stream_cbs *cbs, void *arg)
{
	s->engine->ops->stream_start(s, cbs, arg);
}

/* The stream's socket for splicing, or -1 (see stream_socket). */
static inline int
tk_stream_socket(struct tk_stream *s, const struct tk_stream_cbs *cbs,
		 void *arg)
{
	return s->engine->ops->stream_socket != NULL
		       ? s->engine->ops->stream_socket(s, cbs, arg)
		       : -1;
}

static inline void
tk_stream_read_stop(struct tk_stream *s)
{
	s->engine->ops->stream_read_stop(s);
}

static inline void
tk_stream_read_start(struct tk_stream *s)
{
	s->engine->ops->stream_read_start(s);
}

static inline int
tk_stream_write(struct tk_stream *s, uint8_t *buf, size_t len)
{
	return s->engine->ops->stream_write(s, buf, len);
}

static inline void
tk_stream_shutdown(struct tk_stream *s)
{
	s->engine->ops->stream_shutdown(s);
}

static inline void
tk_stream_close(struct tk_stream *s)
{
	s->engine->ops->stream_close(s);
}

#endif
