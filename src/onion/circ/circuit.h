/* A circuit over a channel, seen from the client that built it.
 *
 * The first hop is made with CREATE_FAST (bootstrap to a relay we know
 * only by RSA identity) or CREATE2/ntor; EXTEND2/ntor adds more. Each hop
 * has its own tor1 crypto and circuit windows, and relay messages are
 * sent to and received from a given hop.
 *
 * The circuit owns circuit-level flow control (tor-spec §7.3, flowctl.h):
 * it answers DATA with authenticated (v1) circuit SENDMEs, counts its
 * package window, or runs congestion control with a hop that negotiated
 * it (prop 324, congestion.h), and checks the tags of the SENDMEs the
 * relay sends back. Streams are registered here and get their relay
 * messages by stream id; stream-level flow control is the stream's
 * business.
 *
 * Statuses: 0 or a TK_CIRC_E* code (or a channel status when the channel
 * failed); tk_circuit_strerror() names them, tk_circuit_errmsg() has the
 * details. */
#ifndef TK_ONION_CIRC_CIRCUIT_H
#define TK_ONION_CIRC_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/relay_msg.h"
#include "onion/circ/congestion.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/relay_crypto.h"
#include "onion/link/channel.h"

enum {
	TK_CIRC_EDESTROYED = -7001, /* the relay sent DESTROY */
	TK_CIRC_EPROTO = -7002,	    /* relay broke the protocol */
	TK_CIRC_ETIMEDOUT = -7003,  /* build did not finish in time */
	TK_CIRC_ECLOSED = -7004,    /* closed locally */
	TK_CIRC_EHANDSHAKE = -7005, /* CREATED_FAST/CREATED2 did not verify */
	TK_CIRC_ENOMEM = -7006,
	TK_CIRC_ESTATE = -7007,	 /* call not valid in this state */
	TK_CIRC_EWINDOW = -7008, /* package window empty: wait for SENDME */
	TK_CIRC_ENOSTREAMID = -7009,
	TK_CIRC_ETRUNCATED = -7010, /* a hop sent TRUNCATED */
	TK_CIRC_EEARLY = -7011,	    /* RELAY_EARLY budget (8) spent */
	TK_CIRC_EBUSY = -7012,	    /* an extension is already pending */
};

#define TK_CIRC_DEFAULT_TIMEOUT_MS 30000
#define TK_CIRC_MAX_HOPS 8

typedef struct tk_circuit tk_circuit;

/* Build finished: status 0, or the reason it failed (then only
 * tk_circuit_close() is valid). Runs once. */
typedef void (*tk_circuit_built_cb)(tk_circuit *c, int status, void *arg);
/* The built circuit is gone (DESTROY, TRUNCATED, channel lost, protocol
 * error). Streams were told first. Only tk_circuit_close() is valid. */
typedef void (*tk_circuit_lost_cb)(tk_circuit *c, int status, void *arg);

/* A stream's view: status 0 with a relay message (cmd, data) for its
 * stream id, from hop (0-based); or status < 0 once, when the circuit
 * goes away (the stream is unregistered; must not use c again). */
typedef void (*tk_circuit_stream_cb)(void *stream, int status, int hop,
				     uint8_t cmd, const uint8_t *data,
				     size_t len);

/* Builds a one-hop circuit to the channel's relay with CREATE_FAST. */
int tk_circuit_create_fast(tk_channel *ch, unsigned timeout_ms,
			   tk_circuit_built_cb built_cb,
			   tk_circuit_lost_cb lost_cb, void *arg,
			   tk_circuit **out);

/* A relay to make a hop with ntor: its identity, its ntor onion key (from
 * its microdescriptor) and, for EXTEND2, its address; the handshake to
 * use; what the consensus says about flow control. */
typedef struct tk_circuit_hop_target {
	uint8_t rsa_id[20];
	int has_ed_id; /* sent as an Ed25519 link specifier if set */
	uint8_t ed_id[32];
	uint8_t ntor_key[32];
	struct sockaddr_storage addr; /* IPv4 or IPv6 ORPort (EXTEND2) */
	/* 1: ntor v3 (HTYPE 3, needs has_ed_id), asking for congestion
	 * control if request_cc; 0: ntor v1. */
	int ntor_v3;
	int request_cc;
	/* Consensus parameters (tk_cc_params_load); all zero is fine for a
	 * hop that does not request congestion control. */
	struct tk_cc_params params;
} tk_circuit_hop_target;

/* Builds a one-hop circuit with CREATE2 (ntor v1 or v3, as first says)
 * to the channel's relay, which must be `first` (the channel already
 * checked its identity). */
int tk_circuit_create_ntor(tk_channel *ch, const tk_circuit_hop_target *first,
			   unsigned timeout_ms, tk_circuit_built_cb built_cb,
			   tk_circuit_lost_cb lost_cb, void *arg,
			   tk_circuit **out);

/* Adds a hop: EXTEND2 (in RELAY_EARLY, link specifiers IPv4/IPv6 +
 * RSA id [+ Ed25519 id], ntor v1 or v3) to the current last hop. A hop
 * that answers an ntor v3 congestion-control request with a valid
 * sendme_inc gets congestion control (flowctl.h); one that does not
 * answer it keeps fixed windows; a reply that breaks prop 324 §10.5
 * (an answer to no request, sendme_inc off by more than a factor of two,
 * a malformed message) fails the hop with TK_CIRC_EHANDSHAKE. cb runs once:
 * 0 when the new hop is in, or an error (the circuit is then dead, and
 * lost_cb is not called for it). One extension at a time. */
typedef void (*tk_circuit_extended_cb)(tk_circuit *c, int status, void *arg);
int tk_circuit_extend(tk_circuit *c, const tk_circuit_hop_target *next,
		      unsigned timeout_ms, tk_circuit_extended_cb cb,
		      void *arg);

/* Adds an onion service's virtual hop after the last one (rend-spec-v3
 * §4.2.1: the rendezvous point joined us to the service; keys from
 * hs-ntor, SHA3-256 digests and AES-256). With cc (the service took our
 * congestion-control request, prop 324): Vegas with those parameters and
 * SENDMEs every sendme_inc cells (the descriptor's flow-control); NULL:
 * fixed windows. No cell is sent. 0, or TK_CIRC_ESTATE (not open,
 * extending, no room), TK_CIRC_ENOMEM. */
int tk_circuit_add_virtual_hop(tk_circuit *c,
			       const uint8_t keys[TK_RELAY_HS_KEYS_LEN],
			       const struct tk_cc_params *cc,
			       unsigned sendme_inc);

/* For a stream layer that allocates its own stream ids (stream.h): every
 * relay message with a stream id no tk_circuit_stream_add() stream
 * claimed goes to cb; writable runs when a circuit SENDME reopens the
 * package window of the last hop. Either may be NULL. */
typedef void (*tk_circuit_writable_cb)(tk_circuit *c, void *arg);
void tk_circuit_set_stream_sink(tk_circuit *c, tk_circuit_stream_cb cb,
				tk_circuit_writable_cb writable, void *arg);

/* Relay messages on stream 0 that the circuit itself does not handle
 * (it handles SENDME, EXTENDED2, TRUNCATED, and drops DROP) go to cb,
 * with stream pointer arg and status 0: the onion-service protocol's
 * cells. NULL: dropped. */
void tk_circuit_set_control_cb(tk_circuit *c, tk_circuit_stream_cb cb,
			       void *arg);

int tk_circuit_n_hops(const tk_circuit *c);
uint32_t tk_circuit_id(const tk_circuit *c);
int tk_circuit_is_open(const tk_circuit *c);
uv_loop_t *tk_circuit_loop(const tk_circuit *c);

/* Registers a stream; picks a random non-zero stream id unused here. */
int tk_circuit_stream_add(tk_circuit *c, tk_circuit_stream_cb cb, void *stream,
			  uint16_t *stream_id);
void tk_circuit_stream_remove(tk_circuit *c, uint16_t stream_id);

/* Sends a relay message to hop (0-based; -1 = the last hop). DATA counts
 * against that hop's package window: TK_CIRC_EWINDOW means wait. early
 * sends it as RELAY_EARLY (EXTEND2; at most 8 per circuit). */
int tk_circuit_send(tk_circuit *c, int hop, uint8_t cmd, uint16_t stream_id,
		    const uint8_t *data, size_t len, int early);
/* How many DATA cells hop may still take before a SENDME (cwnd -
 * inflight with congestion control). */
int tk_circuit_package_window(const tk_circuit *c, int hop);
/* The flow-control state of hop (-1: the last), for logs and status:
 * has_cc says whether the hop negotiated congestion control, cc holds
 * its window and RTTs. NULL if there is no such hop. */
const tk_circ_flow *tk_circuit_flow(const tk_circuit *c, int hop);

/* Sends DESTROY (if the channel is up), tells the streams
 * (TK_CIRC_ECLOSED) and frees c; no callback of c runs afterwards. */
void tk_circuit_close(tk_circuit *c);

const char *tk_circuit_strerror(int status);
const char *tk_circuit_errmsg(const tk_circuit *c);

#endif
