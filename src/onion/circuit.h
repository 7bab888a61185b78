/* A circuit over a channel, seen from the client that built it.
 *
 * Today: one hop made with CREATE_FAST (bootstrap to a relay we know only
 * by RSA identity). The hop list, the per-hop tor1 crypto and windows, and
 * the relay-message interface are already per hop so CREATE2 (ntor) and
 * EXTEND2 can add hops later without changing users.
 *
 * The circuit owns circuit-level flow control (tor-spec §7.3): it answers
 * DATA with authenticated (v1) circuit SENDMEs, counts its package window
 * and checks the tags of the SENDMEs the relay sends back. Streams are
 * registered here and get their relay messages by stream id; stream-level
 * windows are the stream's business.
 *
 * Statuses: 0 or a TK_CIRC_E* code (or a channel status when the channel
 * failed); tk_circuit_strerror() names them, tk_circuit_errmsg() has the
 * details. */
#ifndef TK_ONION_CIRCUIT_H
#define TK_ONION_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/channel.h"

enum {
	TK_CIRC_EDESTROYED = -7001, /* the relay sent DESTROY */
	TK_CIRC_EPROTO = -7002,     /* relay broke the protocol */
	TK_CIRC_ETIMEDOUT = -7003,  /* build did not finish in time */
	TK_CIRC_ECLOSED = -7004,    /* closed locally */
	TK_CIRC_EHANDSHAKE = -7005, /* CREATED_FAST/CREATED2 did not verify */
	TK_CIRC_ENOMEM = -7006,
	TK_CIRC_ESTATE = -7007,     /* call not valid in this state */
	TK_CIRC_EWINDOW = -7008,    /* package window empty: wait for SENDME */
	TK_CIRC_ENOSTREAMID = -7009,
	TK_CIRC_ETRUNCATED = -7010, /* a hop sent TRUNCATED */
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

int tk_circuit_n_hops(const tk_circuit *c);
uint32_t tk_circuit_id(const tk_circuit *c);
int tk_circuit_is_open(const tk_circuit *c);
uv_loop_t *tk_circuit_loop(const tk_circuit *c);

/* Registers a stream; picks a random non-zero stream id unused here. */
int tk_circuit_stream_add(tk_circuit *c, tk_circuit_stream_cb cb,
			  void *stream, uint16_t *stream_id);
void tk_circuit_stream_remove(tk_circuit *c, uint16_t stream_id);

/* Sends a relay message to hop (0-based; -1 = the last hop). DATA counts
 * against that hop's package window: TK_CIRC_EWINDOW means wait. early
 * sends it as RELAY_EARLY (EXTEND2). */
int tk_circuit_send(tk_circuit *c, int hop, uint8_t cmd, uint16_t stream_id,
		    const uint8_t *data, size_t len, int early);
/* How many DATA cells hop may still take before a SENDME. */
int tk_circuit_package_window(const tk_circuit *c, int hop);

/* Sends DESTROY (if the channel is up), tells the streams
 * (TK_CIRC_ECLOSED) and frees c; no callback of c runs afterwards. */
void tk_circuit_close(tk_circuit *c);

const char *tk_circuit_strerror(int status);
const char *tk_circuit_errmsg(const tk_circuit *c);

#endif
