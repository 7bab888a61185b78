/* engine_tor_int.h — the onion-routing engine: torkitd's engine interface
 * (engine.h) on top of the Tor client library, through its facade
 * onion/onion.h (the directory, 3-hop circuits, streams and lookups).
 *
 * onion.h was shaped after engine.h, so the engine mostly translates:
 * the same callbacks, the same END reason numbers (passed through
 * untouched so the front-end's one table maps them), the same
 * written-when-packaged rule that carries Tor's flow-control windows to
 * the application. What it adds is the daemon's side: configuration
 * (DirAuthority, DataDirectory, EnforceDistinctSubnets, SocksTimeout,
 * HalfCloseLinger, ConnectionPadding, ReducedConnectionPadding), the
 * isolation key built from struct tk_isolation, logging into torkitd's
 * log, and an orderly close.
 *
 * Private to engine_tor.c and its parts, one way down:
 *
 *   engine_tor_new.c     tk_engine_tor_new(), the ops table that names
 *                        every part's functions, the onion library's
 *                        log and progress hooks, reload, status, NEWNYM
 *                        and close()
 *   engine_tor_req.c     CONNECT, RESOLVE and RESOLVE_PTR: refusals made
 *                        here (internal addresses), onion-service error
 *                        codes, the stream wrapper of a CONNECT
 *   engine_tor_stream.c  a daemon stream over an onion stream: the
 *                        callbacks passed up, the calls passed down
 *   engine_tor.c         the request records, END reason names and
 *                        circuit descriptions for the log, and the end:
 *                        the handles closed once the last stream is
 *
 * A part calls only the parts below it, never up (tools/layers): so
 * the end of the engine, which a stream's close may run, is in
 * engine_tor.c. Two leaves need nothing of the engine's state and have
 * no part in this header: engine_tor_iso.c (tk_engine_tor_iso_key) and
 * engine_tor_config.c (tk_engine_tor_config, tk_engine_tor_check). */
#ifndef TK_DAEMON_ENGINE_TOR_INT_H
#define TK_DAEMON_ENGINE_TOR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/engine.h"
#include "onion/onion.h"

struct tor_engine {
	struct tk_engine base;
	tk_onion *o;
	uv_timer_t done_timer; /* calls done() on the loop */
	void (*done)(void *);
	void *done_arg;
	unsigned n_streams; /* open wrappers close() waits for */
	unsigned n_reqs;
	struct tk_engine_req *reqs;	/* outstanding, for close() */
	struct tk_engine_req *deferred; /* refused here, answered from
					   done_timer on the next turn */
	int closing;
	int ready_logged;
	uv_timer_t newnym_timer; /* a NEWNYM held back by the rate limit */
	uint64_t last_newnym;	 /* uv_now of the last one done, 0: none */
	int newnym_pending;
	int reject_internal;	 /* ClientRejectInternalAddresses */
	int dns_reject_internal; /* ClientDNSRejectInternalAddresses */
	uint64_t last_private_log;
};

struct tor_stream {
	struct tk_stream base;
	tk_onion_stream *os;
	const struct tk_stream_cbs *cbs;
	void *arg;
	uint32_t circ;
	char target[TK_SOCKS_HOST_MAX + 8];
};

enum { REQ_CONNECT, REQ_RESOLVE, REQ_PTR };

struct tk_engine_req {
	struct tor_engine *e;
	int kind;
	tk_onion_req *oreq;
	tk_engine_connect_cb ccb;
	tk_engine_resolve_cb rcb;
	void *arg;
	struct tk_engine_req *prev, *next;
	struct tk_engine_req *dnext; /* on e->deferred */
	int is_deferred, reason;
	char what[TK_SOCKS_HOST_MAX + 8]; /* for the log */
};

/* engine_tor.c */
struct tk_engine_req *tk_et_req_new(struct tor_engine *e, int kind, void *arg);
void tk_et_req_free(struct tk_engine_req *r);
const char *tk_et_reason_name(int reason);
/* "circ N", or the circuit's path when the onion library knows it. */
void tk_et_describe_circ(struct tor_engine *e, uint32_t circ, char *buf,
			 size_t cap);
/* Frees the engine once close() was asked and no stream is left. */
void tk_et_finish(struct tor_engine *e);
/* The close callback of newnym_timer when the engine never started:
 * closes done_timer, whose own close frees e without calling done(). */
void tk_et_close_done_timer(uv_handle_t *h);

/* engine_tor_stream.c: the stream ops of tk_engine_ops */
void tk_et_stream_start(struct tk_stream *base, const struct tk_stream_cbs *cbs,
			void *arg);
void tk_et_stream_read_stop(struct tk_stream *base);
void tk_et_stream_read_start(struct tk_stream *base);
int tk_et_stream_write(struct tk_stream *base, uint8_t *buf, size_t len);
void tk_et_stream_shutdown(struct tk_stream *base);
void tk_et_stream_close(struct tk_stream *base);
size_t tk_et_stream_held(const struct tk_stream *base);

/* engine_tor_req.c: the request ops of tk_engine_ops */
int tk_et_connect(struct tk_engine *base, const struct tk_target *t,
		  const struct tk_isolation *iso, tk_engine_connect_cb cb,
		  void *arg, struct tk_engine_req **out);
int tk_et_resolve(struct tk_engine *base, const char *name, int families,
		  const struct tk_isolation *iso, tk_engine_resolve_cb cb,
		  void *arg, struct tk_engine_req **out);
int tk_et_resolve_ptr(struct tk_engine *base, int family,
		      const uint8_t addr[16], const struct tk_isolation *iso,
		      tk_engine_resolve_cb cb, void *arg,
		      struct tk_engine_req **out);
void tk_et_cancel(struct tk_engine_req *r);

#endif
