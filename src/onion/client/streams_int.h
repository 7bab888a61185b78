/* Private to streams.c and its parts, one way down:
 *
 *   streams_req.c   the requests (connect, resolve, resolve_ptr) and
 *                   tk_streams_new(), which wires the parts below to
 *                   the circuit manager
 *   streams_io.c    the bytes of an open stream, both ways: the reader's
 *                   queue and XOFF/XON, the writer's queue and the
 *                   exit's advised rate, and the deferred work that
 *                   calls the application back
 *   streams.c       a request's life until it is answered: its circuit,
 *                   the BEGIN or RESOLVE, the exit's answer, retries and
 *                   deadlines; freeing, logging, the accessors
 *
 * A part calls only the parts below it, never up (tools/layers). */
#ifndef TK_ONION_CLIENT_STREAMS_INT_H
#define TK_ONION_CLIENT_STREAMS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/base/logf.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/stream.h"
#include "onion/client/circmgr.h"
#include "onion/client/hs_client.h"
#include "onion/client/streams.h"
#include "onion/hs/hs_addr.h"

enum os_kind { K_CONNECT, K_RESOLVE, K_PTR };
enum os_phase { P_WAIT_CIRC, P_SENT, P_OPEN, P_DONE };

struct wbuf {
	struct wbuf *next;
	uint8_t *buf;
	size_t len, off;
};

struct rchunk {
	struct rchunk *next;
	size_t len, off;
	uint8_t data[];
};

/* The streams and requests alive, for ticks and shutdown. */
struct link {
	struct link *next, *prev;
};

struct tk_streams {
	tk_circmgr *cm;
	tk_hs_client *hs; /* NULL: onion names are refused */
	struct tk_streams_config cfg;
	struct link all;
	size_t held; /* what every stream holds (queued()) */
	/* One timer for every stream waiting on its exit's advised rate
	 * (out of tokens), armed for the earliest of them and only while
	 * one waits: what an exit's XON can make us keep is one timer,
	 * however many streams it limits. Allocated apart, since
	 * uv_close() finishes after tk_ss_shutdown() frees ss. */
	uv_timer_t *rate_timer;
	uint64_t rate_due; /* loop ms it fires at; 0: not armed */
};

struct tk_onion_stream {
	struct link link;
	tk_streams *ss;
	struct tk_circreq creq;
	struct tk_defer d;
	enum os_kind kind;
	enum os_phase phase;
	char host[256];
	uint16_t port;
	int onion;	 /* host is an onion service: circuits from ss->hs */
	int prefer_ipv6; /* the SocksPort's PreferIPv6 (BEGIN flags) */
	uint8_t onion_id[TK_HS_ID_LEN];
	int families;
	tk_relay_addr ptr_addr;
	uint8_t *iso;
	size_t iso_len;
	tk_onion_connect_cb ccb;
	tk_onion_resolve_cb rcb;
	void *arg;
	unsigned tries, policy_tries;
	uint64_t req_deadline, try_deadline;
	tk_ocirc *oc;
	tk_ostream *os;
	uint32_t serial;
	/* the request's answer, delivered by tk_ss_service() */
	int done_pending, done_reason;
	struct tk_onion_resolved res;
	/* the open stream */
	int started, reading, user_closed, shut, eof_got, eof_sent;
	int error_reason, error_sent, backed_up;
	struct tk_onion_stream_cbs cbs;
	void *uarg;
	struct wbuf *wq, *wq_tail, *wdone, *wdone_tail;
	struct rchunk *rq, *rq_tail;
	size_t rq_bytes;
	size_t held;	 /* bytes of memory in rq and the write queue entries */
	int peer_family; /* the address CONNECTED named, 0 if none */
	uint8_t peer_addr[16];
	uint64_t last_activity;
	uint64_t bytes_up, bytes_down;
	unsigned xoff_sent, xon_sent, xoff_got, xon_got;
	uint32_t xon_rate; /* KB/s in the last XON we sent */
	/* the exit's advice in its last XON (prop 324 §4.1.2) */
	tk_send_bucket bucket;
	int rate_wait; /* out of tokens: ss->rate_timer kicks it */
};

typedef struct tk_onion_stream ostrm;

/* ------------------------------------------------------------ streams.c */

/* A line to the configuration's log (logf.h). */
#define tk_ss_log(ss, level, ...) \
	tk_logf((ss)->cfg.log, (ss)->cfg.log_arg, (level), __VA_ARGS__)
/* host, or "[scrubbed]" when destinations stay out of the log. */
const char *tk_ss_host(const tk_streams *ss, const char *host);
uint64_t tk_ss_now_ms(tk_streams *ss);
/* Runs s's deferred work (tk_ss_service) from the manager's. */
void tk_ss_kick(ostrm *s);
/* Asks for s's circuit: 0, or the answer that refuses it. */
int tk_ss_ask_circ(ostrm *s);
/* s->creq's callback: s's circuit, or why there is none. */
void tk_ss_on_circ(struct tk_circreq *r, int reason, tk_ocirc *oc);
/* The request is answered, from the deferred work (0: success). */
void tk_ss_finish(ostrm *s, int reason);
/* Keeps s's XON/XOFF counts; its last word in the log. */
void tk_ss_note_xon(ostrm *s);
void tk_ss_log_closed(ostrm *s);
/* s's stream in the circuit's table, if any, is ended. */
void tk_ss_end_os(ostrm *s);
/* s leaves the table and is freed, without callbacks. */
void tk_ss_free(ostrm *s);
/* The circuit manager's user callbacks (tk_circmgr_user). */
void tk_ss_connected(void *ud, tk_ostream *os, const tk_relay_connected *c);
void tk_ss_resolved(void *ud, tk_ostream *os, const tk_relay_resolved *r);
void tk_ss_closed(void *ud, tk_ostream *os, int remote,
		  const tk_relay_end *end);
void tk_ss_tick(void *arg, uint64_t now);
void tk_ss_shutdown(void *arg);

/* --------------------------------------------------------- streams_io.c */

/* The circuit manager's user callbacks for an open stream's bytes. */
void tk_ss_data(void *ud, tk_ostream *os, const uint8_t *p, size_t len);
void tk_ss_writable(void *ud, tk_ostream *os);
/* Every stream's deferred work: the answer, then the bytes and the
 * application's callbacks. */
void tk_ss_service(struct tk_defer *d);

#endif
