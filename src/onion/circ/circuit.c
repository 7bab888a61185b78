/* circuit.h: circuit build (CREATE_FAST, CREATE2/EXTEND2 with ntor v1 or
 * v3), relay cells in and out, circuit-level SENDMEs and congestion
 * control, stream dispatch. */
#include "onion/circ/circuit.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/deadline.h"
#include "onion/base/kdf.h"
#include "onion/cell/cell.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/ntor.h"
#include "onion/circ/ntor_v3.h"
#include "onion/circ/relay_crypto.h"

#define MAX_RELAY_EARLY 8 /* relays refuse more (tor-spec §5.6) */

enum circ_state {
	CIRC_CREATING, /* CREATE_FAST or CREATE2 sent */
	CIRC_OPEN,
	CIRC_DEAD, /* failure reported; waiting for tk_circuit_close */
	CIRC_CLOSING,
};

struct circ_stream {
	uint16_t id;
	tk_circuit_stream_cb cb;
	void *stream;
};

struct tk_circuit {
	tk_channel *ch;
	uint32_t id;
	enum circ_state state;
	/* CREATED* or EXTENDED2 is due: decided after a poll (deadline.h
	 * says why), so a starved daemon reads an answer already here */
	tk_deadline timeout;
	uv_loop_t *loop;
	int n_hops;
	tk_relay_hop crypto[TK_CIRC_MAX_HOPS]; /* contiguous for seal/open */
	tk_circ_flow flow[TK_CIRC_MAX_HOPS];
	int use_ntor; /* first hop by CREATE2 */
	uint8_t fast_x[TK_FAST_X_LEN];
	/* the pending CREATE2 or EXTEND2: ntor v1 or v3 (and whether it
	 * asked for congestion control), with the consensus parameters */
	int pending_v3, pending_cc;
	tk_ntor_state ntor;
	tk_ntor3_state ntor3;
	struct tk_cc_params params;
	/* channel "blocked" (a CC signal) from cellq_high cells queued
	 * until cellq_low */
	size_t blocked_high, blocked_low;
	int chan_blocked;
	int early_sent;
	int extending; /* EXTEND2 sent, EXTENDED2 pending */
	tk_circuit_extended_cb ext_cb;
	void *ext_arg;
	tk_circuit_stream_cb sink_cb;
	tk_circuit_writable_cb writable_cb;
	void *sink_arg;
	tk_circuit_stream_cb control_cb; /* stream-0 messages of others */
	void *control_arg;
	struct circ_stream *streams;
	size_t n_streams, cap_streams;
	tk_circuit_built_cb built_cb;
	tk_circuit_lost_cb lost_cb;
	void *arg;
	char errmsg[200];
};

const char *
tk_circuit_strerror(int status)
{
	switch (status) {
	case TK_CIRC_EDESTROYED:
		return "circuit destroyed by the relay";
	case TK_CIRC_EPROTO:
		return "circuit protocol violation";
	case TK_CIRC_ETIMEDOUT:
		return "circuit build timed out";
	case TK_CIRC_ECLOSED:
		return "circuit closed";
	case TK_CIRC_EHANDSHAKE:
		return "circuit handshake did not verify";
	case TK_CIRC_ENOMEM:
		return "out of memory";
	case TK_CIRC_ESTATE:
		return "circuit not open";
	case TK_CIRC_EWINDOW:
		return "circuit package window is empty";
	case TK_CIRC_ENOSTREAMID:
		return "no free stream id";
	case TK_CIRC_ETRUNCATED:
		return "circuit truncated";
	case TK_CIRC_EEARLY:
		return "RELAY_EARLY budget spent";
	case TK_CIRC_EBUSY:
		return "circuit extension already pending";
	default:
		return tk_channel_strerror(status);
	}
}

const char *
tk_circuit_errmsg(const tk_circuit *c)
{
	return c->errmsg;
}

static void set_errmsg(tk_circuit *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
set_errmsg(tk_circuit *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
}

static uint64_t
now_usec(void)
{
	return uv_hrtime() / 1000;
}

static void
notify_streams(tk_circuit *c, int status)
{
	struct circ_stream *s = c->streams;
	size_t n = c->n_streams;
	c->streams = NULL;
	c->n_streams = c->cap_streams = 0;
	for (size_t i = 0; i < n; i++)
		s[i].cb(s[i].stream, status, -1, 0, NULL, 0);
	free(s);
	if (c->sink_cb) {
		tk_circuit_stream_cb cb = c->sink_cb;
		c->sink_cb = NULL;
		cb(c->sink_arg, status, -1, 0, NULL, 0);
	}
}

/* The circuit cannot go on: forget the channel slot, tell the user. */
static void
fail(tk_circuit *c, int status, int send_destroy)
{
	enum circ_state was = c->state;
	if (was == CIRC_DEAD || was == CIRC_CLOSING)
		return;
	c->state = CIRC_DEAD;
	tk_deadline_stop(&c->timeout);
	if (!c->errmsg[0])
		set_errmsg(c, "%s", tk_circuit_strerror(status));
	if (c->ch) {
		if (send_destroy) {
			uint8_t p[TK_CELL_PAYLOAD_LEN];
			tk_destroy_write(TK_DESTROY_PROTOCOL, p);
			(void)tk_channel_send(c->ch, c->id, TK_CELL_DESTROY, p,
					      1);
		}
		tk_channel_circ_remove(c->ch, c->id);
		c->ch = NULL;
	}
	tk_ntor_state_wipe(&c->ntor);
	tk_ntor3_state_wipe(&c->ntor3);
	if (was == CIRC_CREATING) {
		c->built_cb(c, status, c->arg);
	} else {
		notify_streams(c, status);
		if (c->state != CIRC_DEAD)
			return;
		if (c->extending) {
			c->extending = 0;
			c->ext_cb(c, status, c->ext_arg);
		} else if (c->lost_cb) {
			c->lost_cb(c, status, c->arg);
		}
	}
}

static struct circ_stream *
find_stream(tk_circuit *c, uint16_t id)
{
	for (size_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].id == id)
			return &c->streams[i];
	return NULL;
}

/* Keys agreed with a new hop: it joins the circuit, with congestion
 * control if it accepted it (sendme_inc > 0), else fixed windows. */
static int
add_hop(tk_circuit *c, uint8_t keys[TK_RELAY_KEYS_LEN], unsigned sendme_inc)
{
	tk_circ_flow *f = &c->flow[c->n_hops];
	int rc = tk_relay_hop_init(&c->crypto[c->n_hops], keys);
	tk_wipe(keys, TK_RELAY_KEYS_LEN);
	if (rc != 0)
		return TK_CIRC_ENOMEM;
	if (sendme_inc) {
		tk_circ_flow_init_cc(f, &c->params, sendme_inc);
	} else {
		tk_circ_flow_init(f);
		f->accept_min_version = c->params.sendme_accept_min_version;
	}
	c->n_hops++;
	return 0;
}

/* Writes the onion skin for target (ntor v1, or v3 with its message)
 * and remembers what to expect back. Returns the length, or < 0. */
static long
start_handshake(tk_circuit *c, const tk_circuit_hop_target *t, uint8_t *skin,
		size_t cap, uint16_t *htype)
{
	c->params = t->params;
	if (t->params.cellq_high > 0) {
		c->blocked_high = (size_t)t->params.cellq_high * TK_CELL_LEN;
		c->blocked_low = (size_t)t->params.cellq_low * TK_CELL_LEN;
	}
	c->pending_v3 = t->ntor_v3 != 0;
	c->pending_cc = c->pending_v3 && t->request_cc;
	if (!c->pending_v3) {
		if (cap < TK_NTOR_CLIENT_LEN)
			return TK_CIRC_EPROTO;
		tk_ntor_client_create(&c->ntor, t->rsa_id, t->ntor_key, skin);
		*htype = TK_HTYPE_NTOR;
		return TK_NTOR_CLIENT_LEN;
	}
	if (!t->has_ed_id)
		return UV_EINVAL; /* ntor v3 names the relay by Ed25519 id */
	/* As tor: the CC request, or a message with no extensions. */
	uint8_t msg[3] = { 0 };
	size_t mlen = c->pending_cc ? tk_ntor3_msg_cc_request(msg) : 1;
	const char *ver = TK_NTOR3_CIRC_VERIFICATION;
	long n = tk_ntor3_client_create(&c->ntor3, t->ed_id, t->ntor_key, ver,
					strlen(ver), msg, mlen, skin, cap);
	*htype = TK_HTYPE_NTOR_V3;
	return n < 0 ? TK_CIRC_EHANDSHAKE : n;
}

/* The relay's handshake reply (CREATED2 or EXTENDED2 data): derives the
 * hop's keys and, for ntor v3, what it said about congestion control
 * (*sendme_inc, 0 for fixed windows). 0, or a status with errmsg set. */
static int
finish_handshake(tk_circuit *c, const char *what, int hop, const uint8_t *hdata,
		 size_t hlen, uint8_t keys[TK_RELAY_KEYS_LEN],
		 unsigned *sendme_inc)
{
	uint8_t msg[TK_NTOR3_MSG_MAX];
	const uint8_t *body;
	size_t mlen, blen;
	int found;

	*sendme_inc = 0;
	if (!c->pending_v3) {
		if (hlen != TK_NTOR_SERVER_LEN) {
			set_errmsg(c,
				   "malformed %s from hop %d (want a 64-byte "
				   "ntor reply)",
				   what, hop);
			return TK_CIRC_EPROTO;
		}
		if (tk_ntor_client_finish(&c->ntor, hdata, keys,
					  TK_RELAY_KEYS_LEN) != 0) {
			set_errmsg(c,
				   "%s does not authenticate: hop %d does "
				   "not hold the ntor key we used",
				   what, hop);
			return TK_CIRC_EHANDSHAKE;
		}
		tk_ntor_state_wipe(&c->ntor);
		return 0;
	}
	if (tk_ntor3_client_finish(&c->ntor3, hdata, hlen, keys,
				   TK_RELAY_KEYS_LEN, msg, sizeof msg,
				   &mlen) != 0) {
		set_errmsg(c,
			   "%s does not authenticate (ntor v3): hop %d does "
			   "not hold the key we used, or the reply is "
			   "malformed",
			   what, hop);
		return TK_CIRC_EHANDSHAKE;
	}
	tk_ntor3_state_wipe(&c->ntor3);
	found = tk_ntor3_msg_find(msg, mlen, TK_NTOR3_EXT_CC_RESPONSE, &body,
				  &blen);
	if (found < 0) {
		set_errmsg(c, "hop %d sent a malformed ntor v3 message", hop);
	} else if (found && !c->pending_cc) {
		set_errmsg(c,
			   "hop %d answered a congestion-control request "
			   "we did not make",
			   hop);
	} else if (found &&
		   (blen < 1 || !tk_cc_sendme_inc_ok(&c->params, body[0]))) {
		set_errmsg(c,
			   "hop %d wants sendme_inc %u, too far from ours "
			   "(%d)",
			   hop, blen ? body[0] : 0, c->params.cc_sendme_inc);
	} else {
		*sendme_inc = found ? body[0] : 0;
		tk_wipe(msg, sizeof msg);
		return 0;
	}
	tk_wipe(keys, TK_RELAY_KEYS_LEN);
	return TK_CIRC_EHANDSHAKE;
}

static void
on_created2(tk_circuit *c, const tk_cell_view *v)
{
	uint8_t keys[TK_RELAY_KEYS_LEN];
	const uint8_t *hdata;
	size_t hlen;
	unsigned inc;
	int rc;
	if (tk_created2_parse(v->payload, v->payload_len, &hdata, &hlen) !=
	    TK_CELL_OK) {
		set_errmsg(c, "malformed CREATED2");
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	rc = finish_handshake(c, "CREATED2", 1, hdata, hlen, keys, &inc);
	if (rc < 0) {
		fail(c, rc, 1);
		return;
	}
	rc = add_hop(c, keys, inc);
	if (rc < 0) {
		fail(c, rc, 1);
		return;
	}
	c->state = CIRC_OPEN;
	tk_deadline_stop(&c->timeout);
	c->built_cb(c, 0, c->arg);
}

static void
on_extended2(tk_circuit *c, int hop, const uint8_t *data, size_t len)
{
	uint8_t keys[TK_RELAY_KEYS_LEN];
	tk_relay_extended2 m;
	tk_circuit_extended_cb cb;
	unsigned inc;
	int rc;
	if (!c->extending || hop != c->n_hops - 1) {
		set_errmsg(c, "unexpected EXTENDED2 from hop %d", hop + 1);
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	if (tk_relay_extended2_decode(data, len, &m) != TK_RELAY_OK) {
		set_errmsg(c, "malformed EXTENDED2 from hop %d", hop + 1);
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	rc = finish_handshake(c, "EXTENDED2", c->n_hops + 1, m.hdata, m.hlen,
			      keys, &inc);
	if (rc < 0) {
		fail(c, rc, 1);
		return;
	}
	rc = add_hop(c, keys, inc);
	if (rc < 0) {
		fail(c, rc, 1);
		return;
	}
	tk_deadline_stop(&c->timeout);
	cb = c->ext_cb;
	c->extending = 0;
	cb(c, 0, c->ext_arg);
}

static void
on_created_fast(tk_circuit *c, const tk_cell_view *v)
{
	uint8_t keys[TK_RELAY_KEYS_LEN];
	if (v->payload_len < TK_FAST_REPLY_LEN) {
		set_errmsg(c, "CREATED_FAST too short");
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	if (tk_fast_client_finish(c->fast_x, v->payload, keys, sizeof keys) !=
	    0) {
		set_errmsg(c, "CREATED_FAST key hash does not match: the relay "
			      "did not derive our keys");
		tk_wipe(keys, sizeof keys);
		fail(c, TK_CIRC_EHANDSHAKE, 1);
		return;
	}
	tk_wipe(c->fast_x, sizeof c->fast_x);
	if (add_hop(c, keys, 0) != 0) {
		fail(c, TK_CIRC_ENOMEM, 1);
		return;
	}
	c->state = CIRC_OPEN;
	tk_deadline_stop(&c->timeout);
	c->built_cb(c, 0, c->arg);
}

/* A circuit-level SENDME (stream 0) from hop: opens the package window
 * once its v1 tag matches the digest of the cell it acknowledges. */
static void
on_circuit_sendme(tk_circuit *c, int hop, const uint8_t *data, size_t len)
{
	int was_open = tk_circ_flow_can_package(&c->flow[hop]);
	/* Our channel's output piling up is congestion before the guard:
	 * Vegas's "blocked channel" signal (prop 324 §3.3). Tor raises it
	 * when a circuit's queue to the channel reaches cellq_high cells
	 * and drops it at cellq_low; we send straight into the channel, so
	 * its output queue stands in for the circuit's. */
	size_t q = c->ch ? tk_channel_write_queue_size(c->ch) : 0;
	if (q >= c->blocked_high)
		c->chan_blocked = 1;
	else if (q <= c->blocked_low)
		c->chan_blocked = 0;
	int rc = tk_circ_flow_sendme_received(&c->flow[hop], data, len,
					      now_usec(), c->chan_blocked);
	if (rc != TK_FLOW_OK) {
		set_errmsg(c, "hop %d sent a bad circuit SENDME: %s", hop + 1,
			   tk_flow_strerror(rc));
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	if (!was_open && hop == c->n_hops - 1 && c->writable_cb)
		c->writable_cb(c, c->sink_arg);
}

static void
on_relay_cell(tk_circuit *c, const tk_cell_view *v)
{
	uint8_t payload[TK_CELL_PAYLOAD_LEN];
	uint8_t tag[TK_RELAY_TAG_LEN];
	tk_relay_header h;
	const uint8_t *data;
	size_t from;
	int hop;
	struct circ_stream *s;

	if (v->payload_len != TK_CELL_PAYLOAD_LEN) {
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	memcpy(payload, v->payload, sizeof payload);
	if (tk_relay_crypt_open(c->crypto, (size_t)c->n_hops, payload, &from,
				tag) != 0) {
		set_errmsg(c, "relay cell recognised by no hop (corrupt or "
			      "not for us)");
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	hop = (int)from;
	if (tk_relay_header_parse(payload, &h, &data) != TK_CELL_OK) {
		set_errmsg(c, "relay cell from hop %d has a bad length",
			   hop + 1);
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	}
	if (h.cmd == TK_RELAY_DATA) {
		/* Every DATA cell counts, even for streams we dropped. */
		uint8_t body[23];
		size_t blen = 0;
		int rc = tk_circ_flow_data_received(&c->flow[hop], tag, body,
						    &blen);
		if (rc != TK_FLOW_OK) {
			set_errmsg(c, "hop %d: %s", hop + 1,
				   tk_flow_strerror(rc));
			fail(c, TK_CIRC_EPROTO, 1);
			return;
		}
		if (blen > 0) {
			rc = tk_circuit_send(c, hop, TK_RELAY_SENDME, 0, body,
					     blen, 0);
			if (rc < 0) {
				fail(c, rc, 0);
				return;
			}
		}
	}
	if (h.stream_id == 0) {
		switch (h.cmd) {
		case TK_RELAY_SENDME:
			on_circuit_sendme(c, hop, data, h.length);
			return;
		case TK_RELAY_EXTENDED2:
			on_extended2(c, hop, data, h.length);
			return;
		case TK_RELAY_TRUNCATED:
			set_errmsg(c, "hop %d sent TRUNCATED (reason %u: %s)",
				   hop + 1, h.length ? data[0] : 0,
				   tk_destroy_reason_str(h.length ? data[0]
								  : 0));
			fail(c, TK_CIRC_ETRUNCATED, 1);
			return;
		default:
			/* DROP (long-range padding), unknown: dropped,
			 * unless someone speaks that protocol (onion
			 * services: RENDEZVOUS2, INTRODUCE_ACK...) */
			if (c->control_cb && h.cmd != TK_RELAY_DROP)
				c->control_cb(c->control_arg, 0, hop, h.cmd,
					      data, h.length);
			return;
		}
	}
	s = find_stream(c, h.stream_id);
	if (s)
		s->cb(s->stream, 0, hop, h.cmd, data, h.length);
	else if (c->sink_cb)
		c->sink_cb(c->sink_arg, 0, hop, h.cmd, data, h.length);
	/* else: a stream we already closed; its late cells are harmless. */
}

static void
on_channel_cell(void *arg, int status, const tk_cell_view *v)
{
	tk_circuit *c = arg;
	if (status < 0) {
		c->ch = NULL; /* the channel already forgot us */
		set_errmsg(c, "channel to the relay went away: %s",
			   tk_channel_strerror(status));
		fail(c, status, 0);
		return;
	}
	switch (v->cmd) {
	case TK_CELL_CREATED_FAST:
		if (c->state != CIRC_CREATING) {
			set_errmsg(c, "unexpected CREATED_FAST");
			fail(c, TK_CIRC_EPROTO, 1);
			return;
		}
		if (c->use_ntor) {
			set_errmsg(c, "CREATED_FAST in answer to CREATE2");
			fail(c, TK_CIRC_EPROTO, 1);
			return;
		}
		on_created_fast(c, v);
		return;
	case TK_CELL_CREATED2:
		if (c->state != CIRC_CREATING || !c->use_ntor) {
			set_errmsg(c, "unexpected CREATED2");
			fail(c, TK_CIRC_EPROTO, 1);
			return;
		}
		on_created2(c, v);
		return;
	case TK_CELL_DESTROY: {
		uint8_t reason = 0;
		(void)tk_destroy_parse(v->payload, v->payload_len, &reason);
		set_errmsg(c, "relay destroyed the circuit: reason %u (%s)",
			   reason, tk_destroy_reason_str(reason));
		fail(c, TK_CIRC_EDESTROYED, 0);
		return;
	}
	case TK_CELL_RELAY:
		if (c->state != CIRC_OPEN) {
			set_errmsg(c,
				   "RELAY cell before the circuit was built");
			fail(c, TK_CIRC_EPROTO, 1);
			return;
		}
		on_relay_cell(c, v);
		return;
	case TK_CELL_RELAY_EARLY:
		/* Clients must never receive RELAY_EARLY (tor-spec §5.6). */
		set_errmsg(c, "relay sent an inbound RELAY_EARLY");
		fail(c, TK_CIRC_EPROTO, 1);
		return;
	default:
		return;
	}
}

static void
on_timeout(tk_deadline *d)
{
	tk_circuit *c = d->data;
	if (c->state == CIRC_CREATING)
		set_errmsg(c, "no %s from the relay in time",
			   c->use_ntor ? "CREATED2" : "CREATED_FAST");
	else if (c->state == CIRC_OPEN && c->extending)
		set_errmsg(c, "no EXTENDED2 from hop %d in time", c->n_hops);
	else
		return;
	fail(c, TK_CIRC_ETIMEDOUT, 1);
}

/* Allocates c, registers it on ch and sends the first-hop cell. */
static int
circuit_start(tk_channel *ch, const tk_circuit_hop_target *first,
	      unsigned timeout_ms, tk_circuit_built_cb built_cb,
	      tk_circuit_lost_cb lost_cb, void *arg, tk_circuit **out)
{
	uint8_t p[TK_CELL_PAYLOAD_LEN];
	uint8_t skin[TK_CELL_PAYLOAD_LEN - 4];
	tk_circuit *c;
	int rc;
	*out = NULL;
	if (!built_cb)
		return UV_EINVAL;
	if (!tk_channel_is_open(ch))
		return TK_CIRC_ESTATE;
	c = calloc(1, sizeof *c);
	if (!c)
		return TK_CIRC_ENOMEM;
	c->built_cb = built_cb;
	c->lost_cb = lost_cb;
	c->arg = arg;
	c->state = CIRC_CREATING;
	c->blocked_high = 256 * TK_CELL_LEN; /* tor's cellq_high, cellq_low */
	c->blocked_low = 10 * TK_CELL_LEN;
	c->loop = tk_channel_loop(ch);
	c->timeout.data = c;
	rc = tk_deadline_init(c->loop, &c->timeout);
	if (rc < 0) {
		free(c);
		return rc;
	}
	rc = tk_channel_circ_add(ch, on_channel_cell, c, &c->id);
	if (rc < 0)
		goto fail;
	c->ch = ch;
	if (first) {
		uint16_t htype = 0;
		long n = start_handshake(c, first, skin, sizeof skin, &htype);
		c->use_ntor = 1;
		rc = (int)n;
		if (n >= 0 && tk_create2_write(htype, skin, (size_t)n, p) < 0)
			rc = TK_CIRC_EPROTO;
		if (rc >= 0)
			rc = tk_channel_send(ch, c->id, TK_CELL_CREATE2, p,
					     4 + (size_t)n);
	} else {
		tk_fast_client_create(c->fast_x);
		tk_create_fast_write(c->fast_x, p);
		rc = tk_channel_send(ch, c->id, TK_CELL_CREATE_FAST, p,
				     TK_FAST_X_LEN);
	}
	if (rc < 0)
		goto fail;
	tk_deadline_start(&c->timeout,
			  timeout_ms ? timeout_ms : TK_CIRC_DEFAULT_TIMEOUT_MS,
			  on_timeout);
	*out = c;
	return 0;
fail:
	c->state = CIRC_DEAD;
	tk_circuit_close(c);
	return rc;
}

int
tk_circuit_create_fast(tk_channel *ch, unsigned timeout_ms,
		       tk_circuit_built_cb built_cb, tk_circuit_lost_cb lost_cb,
		       void *arg, tk_circuit **out)
{
	return circuit_start(ch, NULL, timeout_ms, built_cb, lost_cb, arg, out);
}

int
tk_circuit_create_ntor(tk_channel *ch, const tk_circuit_hop_target *first,
		       unsigned timeout_ms, tk_circuit_built_cb built_cb,
		       tk_circuit_lost_cb lost_cb, void *arg, tk_circuit **out)
{
	if (!first)
		return UV_EINVAL;
	return circuit_start(ch, first, timeout_ms, built_cb, lost_cb, arg,
			     out);
}

int
tk_circuit_extend(tk_circuit *c, const tk_circuit_hop_target *next,
		  unsigned timeout_ms, tk_circuit_extended_cb cb, void *arg)
{
	tk_relay_extend2 m;
	uint8_t skin[TK_RELAY_DATA_MAX];
	uint8_t body[TK_RELAY_DATA_MAX];
	uint16_t htype = 0;
	long sn;
	int n, rc;
	if (!cb || !next)
		return UV_EINVAL;
	if (c->state != CIRC_OPEN)
		return TK_CIRC_ESTATE;
	if (c->extending)
		return TK_CIRC_EBUSY;
	if (c->n_hops >= TK_CIRC_MAX_HOPS)
		return TK_CIRC_ESTATE;
	memset(&m, 0, sizeof m);
	/* Tor's order: IPv4, legacy RSA id, Ed25519 id, IPv6. Relays insist
	 * on exactly one RSA id and at least one address. */
	if (next->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&next->addr;
		tk_linkspec_ipv4(&m.specs[m.n_specs++],
				 (const uint8_t *)&a->sin_addr,
				 ntohs(a->sin_port));
	}
	tk_linkspec_legacy_id(&m.specs[m.n_specs++], next->rsa_id);
	if (next->has_ed_id)
		tk_linkspec_ed25519_id(&m.specs[m.n_specs++], next->ed_id);
	if (next->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&next->addr;
		tk_linkspec_ipv6(&m.specs[m.n_specs++],
				 (const uint8_t *)&a->sin6_addr,
				 ntohs(a->sin6_port));
	}
	sn = start_handshake(c, next, skin, sizeof skin, &htype);
	if (sn < 0)
		return (int)sn;
	m.htype = htype;
	m.hlen = (uint16_t)sn;
	m.hdata = skin;
	n = tk_relay_extend2_encode(&m, body, sizeof body);
	if (n < 0) {
		tk_ntor_state_wipe(&c->ntor);
		tk_ntor3_state_wipe(&c->ntor3);
		return TK_CIRC_EPROTO;
	}
	/* EXTEND2 must come in RELAY_EARLY or relays drop it silently. */
	rc = tk_circuit_send(c, -1, TK_RELAY_EXTEND2, 0, body, (size_t)n, 1);
	if (rc == 0)
		tk_deadline_start(&c->timeout,
				  timeout_ms ? timeout_ms
					     : TK_CIRC_DEFAULT_TIMEOUT_MS,
				  on_timeout);
	if (rc < 0) {
		tk_ntor_state_wipe(&c->ntor);
		tk_ntor3_state_wipe(&c->ntor3);
		return rc;
	}
	c->extending = 1;
	c->ext_cb = cb;
	c->ext_arg = arg;
	return 0;
}

int
tk_circuit_add_virtual_hop(tk_circuit *c,
			   const uint8_t keys[TK_RELAY_HS_KEYS_LEN],
			   const struct tk_cc_params *cc, unsigned sendme_inc)
{
	if (c->state != CIRC_OPEN || c->extending)
		return TK_CIRC_ESTATE;
	if (c->n_hops >= TK_CIRC_MAX_HOPS)
		return TK_CIRC_ESTATE;
	if (tk_relay_hop_init_hs(&c->crypto[c->n_hops], keys) != 0)
		return TK_CIRC_ENOMEM;
	if (cc && sendme_inc) {
		/* the last hop's parameters are the circuit's */
		c->params = *cc;
		tk_circ_flow_init_cc(&c->flow[c->n_hops], cc, sendme_inc);
	} else {
		tk_circ_flow_init(&c->flow[c->n_hops]);
	}
	c->n_hops++;
	return 0;
}

void
tk_circuit_set_stream_sink(tk_circuit *c, tk_circuit_stream_cb cb,
			   tk_circuit_writable_cb writable, void *arg)
{
	c->sink_cb = cb;
	c->writable_cb = writable;
	c->sink_arg = arg;
}

void
tk_circuit_set_control_cb(tk_circuit *c, tk_circuit_stream_cb cb, void *arg)
{
	c->control_cb = cb;
	c->control_arg = arg;
}

int
tk_circuit_n_hops(const tk_circuit *c)
{
	return c->n_hops;
}

uint32_t
tk_circuit_id(const tk_circuit *c)
{
	return c->id;
}

int
tk_circuit_is_open(const tk_circuit *c)
{
	return c->state == CIRC_OPEN;
}

uv_loop_t *
tk_circuit_loop(const tk_circuit *c)
{
	return c->loop;
}

int
tk_circuit_stream_add(tk_circuit *c, tk_circuit_stream_cb cb, void *stream,
		      uint16_t *stream_id)
{
	uint16_t id = 0;
	int tries;
	if (c->state != CIRC_OPEN)
		return TK_CIRC_ESTATE;
	for (tries = 0; tries < 64; tries++) {
		uint8_t r[2];
		tk_random(r, 2);
		id = tk_get_u16(r);
		if (id != 0 && !find_stream(c, id))
			break;
	}
	if (tries == 64)
		return TK_CIRC_ENOSTREAMID;
	if (c->n_streams == c->cap_streams) {
		size_t cap = c->cap_streams ? c->cap_streams * 2 : 4;
		struct circ_stream *s = realloc(c->streams, cap * sizeof *s);
		if (!s)
			return TK_CIRC_ENOMEM;
		c->streams = s;
		c->cap_streams = cap;
	}
	c->streams[c->n_streams].id = id;
	c->streams[c->n_streams].cb = cb;
	c->streams[c->n_streams].stream = stream;
	c->n_streams++;
	*stream_id = id;
	return 0;
}

void
tk_circuit_stream_remove(tk_circuit *c, uint16_t stream_id)
{
	struct circ_stream *s = find_stream(c, stream_id);
	if (s)
		*s = c->streams[--c->n_streams];
}

int
tk_circuit_package_window(const tk_circuit *c, int hop)
{
	if (hop < 0)
		hop = c->n_hops - 1;
	if (hop < 0 || hop >= c->n_hops)
		return 0;
	return tk_circ_flow_package_window(&c->flow[hop]);
}

const tk_circ_flow *
tk_circuit_flow(const tk_circuit *c, int hop)
{
	if (hop < 0)
		hop = c->n_hops - 1;
	if (hop < 0 || hop >= c->n_hops)
		return NULL;
	return &c->flow[hop];
}

int
tk_circuit_send(tk_circuit *c, int hop, uint8_t cmd, uint16_t stream_id,
		const uint8_t *data, size_t len, int early)
{
	uint8_t payload[TK_CELL_PAYLOAD_LEN];
	uint8_t tag[TK_RELAY_TAG_LEN];
	if (c->state != CIRC_OPEN || !c->ch)
		return TK_CIRC_ESTATE;
	if (hop < 0)
		hop = c->n_hops - 1;
	if (hop < 0 || hop >= c->n_hops)
		return TK_CIRC_ESTATE;
	if (cmd == TK_RELAY_DATA) {
		/* After sealing, the cell must go: check (and make room to
		 * record it) first. */
		int frc = tk_circ_flow_prepare(&c->flow[hop]);
		if (frc == TK_FLOW_ENOMEM)
			return TK_CIRC_ENOMEM;
		if (frc != TK_FLOW_OK)
			return TK_CIRC_EWINDOW;
	}
	if (early && c->early_sent >= MAX_RELAY_EARLY)
		return TK_CIRC_EEARLY;
	if (tk_relay_payload_build(payload, cmd, stream_id, data, len) !=
	    TK_CELL_OK)
		return TK_CIRC_EPROTO;
	if (tk_relay_crypt_seal(c->crypto, (size_t)c->n_hops, (size_t)hop,
				payload, tag) != 0)
		return TK_CIRC_EPROTO;
	/* The hop acknowledges every 100th (or sendme_inc-th) DATA cell with
	 * a SENDME carrying that cell's digest (tor-spec §7.4): flowctl
	 * keeps the tags, and the send times for congestion control. */
	if (cmd == TK_RELAY_DATA &&
	    tk_circ_flow_data_sent(&c->flow[hop], tag,
				   tk_circ_flow_next_needs_tag(&c->flow[hop])
					   ? now_usec()
					   : 0) != TK_FLOW_OK)
		return TK_CIRC_EWINDOW;
	if (early)
		c->early_sent++;
	return tk_channel_send(c->ch, c->id,
			       early ? TK_CELL_RELAY_EARLY : TK_CELL_RELAY,
			       payload, sizeof payload);
}

static void
on_timeout_closed(tk_deadline *d)
{
	tk_circuit *c = d->data;
	for (int i = 0; i < c->n_hops; i++) {
		tk_relay_hop_free(&c->crypto[i]);
		tk_circ_flow_free(&c->flow[i]);
	}
	free(c->streams);
	tk_wipe(c, sizeof *c);
	free(c);
}

void
tk_circuit_close(tk_circuit *c)
{
	if (!c || c->state == CIRC_CLOSING)
		return;
	c->state = CIRC_CLOSING;
	if (c->ch) {
		uint8_t p[TK_CELL_PAYLOAD_LEN];
		if (tk_channel_is_open(c->ch)) {
			tk_destroy_write(TK_DESTROY_NONE, p);
			(void)tk_channel_send(c->ch, c->id, TK_CELL_DESTROY, p,
					      1);
		}
		tk_channel_circ_remove(c->ch, c->id);
		c->ch = NULL;
	}
	notify_streams(c, TK_CIRC_ECLOSED);
	tk_deadline_close(&c->timeout, on_timeout_closed);
}
