/* The streams of one circuit, seen from the client (tor-spec §6.2-6.4,
 * §7.4): BEGIN / BEGIN_DIR / RESOLVE out, CONNECTED / DATA / END /
 * RESOLVED / stream SENDME in, stream windows, half-closed streams.
 * Named tk_ostream ("onion stream") so that it can sit beside the
 * daemon's SOCKS-side tk_stream (daemon/engine.h) in the tor engine.
 *
 * Flow control is the fixed stream windows (500 cells, SENDME every 50),
 * or, on a circuit whose exit negotiated congestion control
 * (tk_ostream_table_set_cc), no stream windows and no stream SENDMEs but
 * XON/XOFF (prop 324 §4, flowctl.h): the owner reports how much it holds
 * for each stream's reader (tk_ostream_data_queued / _drained) and the
 * table sends XOFF and XON as C tor's client does; the exit's XOFF stops
 * tk_ostream_write until its XON, whose advised rate the owner may apply
 * (tk_ostream_send_rate).
 *
 * A pure state machine: no I/O, no timers, no circuit. The owner (the
 * engine, sitting on a circuit) gives it decoded relay messages for
 * stream ids != 0 with tk_ostream_table_deliver() and supplies, through
 * tk_ostream_ops, a way to send relay messages and to ask whether the
 * circuit's package window to the exit is open. Circuit-level windows and
 * circuit SENDMEs are the circuit's business (flowctl.h); after the
 * circuit window reopens call tk_ostream_table_circ_writable().
 *
 * Stream states:
 *   BEGIN_SENT    BEGIN or BEGIN_DIR sent, waiting for CONNECTED or END
 *   RESOLVE_SENT  RESOLVE sent, waiting for RESOLVED (or END)
 *   OPEN          CONNECTED seen: DATA both ways
 *   HALF_CLOSED   we closed it (END sent); only its id remains
 *   CLOSED        gone (the handle is about to be freed)
 * After we close a stream, its id stays reserved as a half-closed entry
 * (flowctl.h) until the exit's END/RESOLVED, so the exit's in-flight cells
 * are absorbed quietly and the id is not reused under them.
 *
 * Callbacks: every stream ends with exactly one terminal callback, unless
 * the owner closes it first with tk_ostream_close() (then none): `closed`
 * (remote END, local protocol error, circuit gone), or for lookups
 * `resolved` or `closed`. A handle is valid until its terminal callback
 * returns or tk_ostream_close() returns. Callbacks may call any function
 * here (write, close, open new streams) except tk_ostream_table_free().
 *
 * Wiring on a built circuit (tests/unit/test_stream_tor1.c does exactly
 * this against a simulated exit):
 *   ops.send          tk_relay_payload_build + tk_relay_crypt_seal to the
 *                     exit hop; for DATA tk_circ_flow_data_sent(exit, tag)
 *                     (or tk_circuit_send(c, -1, ...), which does both)
 *   ops.circ_can_package  tk_circ_flow_can_package(exit)
 *   a cell comes in   tk_relay_crypt_open, tk_relay_header_parse; DATA
 *                     first to tk_circ_flow_data_received (send the SENDME
 *                     it writes, stream 0, to that hop); stream 0 SENDME to
 *                     tk_circ_flow_sendme_received, then
 *                     tk_ostream_table_circ_writable(); stream != 0 to
 *                     tk_ostream_table_deliver() (TK_OSTREAM_EPROTO: destroy)
 *   DESTROY, TRUNCATED, channel lost: tk_ostream_table_fail_all(t,
 *                     TK_RELAY_END_DESTROY)
 *   ids               pass the circuit's id to tk_ostream_begin() if it
 *                     allocates them; ops.released says when to drop it. */
#ifndef TK_ONION_CIRC_STREAM_H
#define TK_ONION_CIRC_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/relay_msg.h"
#include "onion/circ/flowctl.h"

typedef struct tk_ostream_table tk_ostream_table;
typedef struct tk_ostream tk_ostream;

enum tk_ostream_kind {
	TK_OSTREAM_CONNECT,    /* BEGIN host:port */
	TK_OSTREAM_DIR,	       /* BEGIN_DIR */
	TK_OSTREAM_RESOLVE,    /* RESOLVE name */
	TK_OSTREAM_RESOLVE_PTR /* RESOLVE <reverse name of an address> */
};

enum tk_ostream_state {
	TK_OSTREAM_BEGIN_SENT,
	TK_OSTREAM_RESOLVE_SENT,
	TK_OSTREAM_OPEN,
	TK_OSTREAM_HALF_CLOSED, /* ids only: we sent END, the exit has not */
	TK_OSTREAM_CLOSED
};

enum tk_ostream_err {
	TK_OSTREAM_EINVAL = -8001, /* bad target (see the relay_msg code) */
	TK_OSTREAM_ENOID = -8002,  /* no free stream id, or the given id is
				     in use (live or half-closed) */
	TK_OSTREAM_ENOMEM = -8003,
	TK_OSTREAM_ESEND = -8004,  /* ops->send failed: the circuit is gone */
	TK_OSTREAM_ESTATE = -8005, /* not valid in this state (e.g. write on a
				     lookup, or before CONNECTED without
				     optimistic data) */
	TK_OSTREAM_EPROTO = -8006  /* from deliver: the exit broke the
				     protocol in a way C tor answers by
				     closing the circuit (DATA past our
				     stream window, a stream SENDME past
				     500, CONNECTED on an open stream):
				     destroy it, then fail_all */
};
const char *tk_ostream_strerror(int err);
const char *tk_ostream_state_name(int state);

typedef struct tk_ostream_ops {
	/* Sends a relay message to the exit (the hop the streams use).
	 * 0, or < 0 if the circuit cannot send any more. DATA is only sent
	 * after circ_can_package() said 1; the owner does the circuit-level
	 * accounting (tk_circ_flow_data_sent) in here. */
	int (*send)(void *ud, uint8_t cmd, uint16_t stream_id,
		    const uint8_t *body, size_t len);
	/* 1 if the circuit's package window to the exit is open. */
	int (*circ_can_package)(void *ud);
	/* Random bytes for stream ids; NULL = tk_random() (crypto.h). */
	void (*random)(void *ud, void *buf, size_t n);

	/* CONNECTED arrived: the stream is OPEN. */
	void (*connected)(void *ud, tk_ostream *s, const tk_relay_connected *c);
	/* DATA for an OPEN stream (len 1..498). */
	void (*data)(void *ud, tk_ostream *s, const uint8_t *p, size_t len);
	/* A lookup's answer (terminal; may hold only an error answer, see
	 * tk_relay_resolved.error). */
	void (*resolved)(void *ud, tk_ostream *s, const tk_relay_resolved *r);
	/* Terminal. remote = 1: the exit sent END (end->reason as sent,
	 * EXITPOLICY with its address); remote = 0: we ended it because the
	 * exit sent a malformed CONNECTED or RESOLVED (reason TORPROTOCOL;
	 * END MISC already sent) or the circuit is gone
	 * (tk_ostream_table_fail_all's reason). */
	void (*closed)(void *ud, tk_ostream *s, int remote,
		       const tk_relay_end *end);
	/* Both windows are open again after tk_ostream_write() took less
	 * than it was given. Optional. */
	void (*writable)(void *ud, tk_ostream *s);
	/* The stream id is no longer in use here (for an owner that
	 * registers ids with its circuit). Optional. */
	void (*released)(void *ud, uint16_t stream_id);
} tk_ostream_ops;

/* ops is copied. NULL on allocation failure. */
tk_ostream_table *tk_ostream_table_new(const tk_ostream_ops *ops, void *ud);
/* Frees every stream without callbacks or cells (the circuit is gone or
 * going). Not from inside a callback. */
void tk_ostream_table_free(tk_ostream_table *t);

/* Opening sends the request at once. stream_id 0 picks a random unused
 * non-zero id; otherwise that id is used if free (owners whose circuit
 * allocates ids pass them in). data is the caller's per-stream pointer.
 * flags: TK_BEGIN_FLAG_* for BEGIN. */
int tk_ostream_begin(tk_ostream_table *t, const char *host, uint16_t port,
		     uint32_t flags, uint16_t stream_id, void *data,
		     tk_ostream **out);
/* BEGIN on a circuit joined to an onion service: an empty address and
 * the service's virtual port, no flags. */
int tk_ostream_begin_onion(tk_ostream_table *t, uint16_t port,
			   uint16_t stream_id, void *data, tk_ostream **out);
int tk_ostream_begin_dir(tk_ostream_table *t, uint16_t stream_id, void *data,
			 tk_ostream **out);
int tk_ostream_resolve(tk_ostream_table *t, const char *name,
		       uint16_t stream_id, void *data, tk_ostream **out);
int tk_ostream_resolve_ptr(tk_ostream_table *t, const tk_relay_addr *addr,
			   uint16_t stream_id, void *data, tk_ostream **out);

/* Packages up to len bytes into DATA cells (498 bytes each) while both
 * the stream and circuit windows allow. Returns the bytes taken (maybe
 * fewer than len, maybe 0: then `writable` fires once the windows
 * reopen), or a negative code. Valid on OPEN streams, and on CONNECT
 * streams in BEGIN_SENT when optimistic data is on (Tor exits accept
 * DATA right after BEGIN; if the BEGIN then fails that data is lost, so
 * keep a copy if you want to retry elsewhere). */
long tk_ostream_write(tk_ostream_table *t, tk_ostream *s, const void *buf,
		      size_t len);
void tk_ostream_set_optimistic(tk_ostream *s, int on);

/* Closes s: sends END unless it is a lookup, keeps its id half-closed,
 * frees s. No callback for s runs afterwards. The END always says MISC:
 * C tor never tells the exit why a client stream ends. */
int tk_ostream_close(tk_ostream_table *t, tk_ostream *s);

/* Backpressure from the local reader: while backed up, stream SENDMEs are
 * withheld (the exit stops after 500 cells); clearing it sends the ones
 * due. Returns 0 or TK_OSTREAM_ESEND. No effect with congestion control:
 * there, the two calls below. */
int tk_ostream_set_backed_up(tk_ostream_table *t, tk_ostream *s, int on);

/* Congestion control (before any stream opens): the exit negotiated it;
 * p gives the XON/XOFF limits. NULL: fixed windows (the default). */
void tk_ostream_table_set_cc(tk_ostream_table *t, const struct tk_cc_params *p);
int tk_ostream_table_uses_cc(const tk_ostream_table *t);
/* With congestion control: a DATA cell's bytes reached the owner, which
 * held `buffered` bytes for the reader before them (may send XOFF); the
 * reader took n bytes and `buffered` remain (may send XON). now_usec: a
 * monotonic clock, for the drain rate. 0, or TK_OSTREAM_ESEND. No effect
 * without congestion control. */
int tk_ostream_data_queued(tk_ostream_table *t, tk_ostream *s,
			   uint64_t buffered, uint64_t now_usec);
int tk_ostream_data_drained(tk_ostream_table *t, tk_ostream *s, uint64_t n,
			    uint64_t buffered, uint64_t now_usec);
/* The exit's advice from its last XON, in bytes per second (0: none). */
uint32_t tk_ostream_send_rate(const tk_ostream *s);
const tk_stream_xon *tk_ostream_xon(const tk_ostream *s);

/* A relay message for stream_id != 0 from the exit. Returns 0 when
 * handled or dropped (unknown/closed stream, unexpected command: not
 * fatal, as in C tor), or TK_OSTREAM_EPROTO: destroy the circuit. */
int tk_ostream_table_deliver(tk_ostream_table *t, uint8_t cmd,
			     uint16_t stream_id, const uint8_t *body,
			     size_t len);
/* The circuit's package window reopened: streams that were blocked get
 * `writable`. */
void tk_ostream_table_circ_writable(tk_ostream_table *t);
/* The circuit is gone: every live stream gets closed(remote = 0, reason;
 * DESTROY is what C tor uses), half-closed ids are released. No cells. */
void tk_ostream_table_fail_all(tk_ostream_table *t, uint8_t reason);

/* The state of whatever holds stream_id here: a live stream's state,
 * HALF_CLOSED, or CLOSED when the id is free. */
int tk_ostream_table_id_state(const tk_ostream_table *t, uint16_t stream_id);
size_t tk_ostream_table_live(const tk_ostream_table *t);
size_t tk_ostream_table_half_closed(const tk_ostream_table *t);
/* Cells dropped: for unknown ids, or unexpected in the stream's state. */
uint64_t tk_ostream_table_dropped(const tk_ostream_table *t);
/* XON/XOFF obeyed though earlier than our data explains (dropmark). */
uint64_t tk_ostream_table_suspect(const tk_ostream_table *t);

uint16_t tk_ostream_id(const tk_ostream *s);
int tk_ostream_kind(const tk_ostream *s);
int tk_ostream_state(const tk_ostream *s);
void *tk_ostream_data(const tk_ostream *s);
const tk_stream_flow *tk_ostream_windows(const tk_ostream *s);

/* Caps: live streams and remembered half-closed ids per circuit. When the
 * half-closed list is full the oldest entry is forgotten (its late cells
 * then count as dropped, which is harmless). */
#define TK_OSTREAM_MAX_LIVE 4096
#define TK_OSTREAM_MAX_HALF 1024

#endif
