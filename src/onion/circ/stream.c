/* Per-circuit stream table: ids, states, stream windows or XON/XOFF,
 * half-closed ids. What the exit sends is read in stream_deliver.c
 * (stream_int.h has the map). */
#include "onion/circ/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/circ/stream_int.h"

const char *
tk_ostream_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case TK_OSTREAM_EINVAL:
		return "invalid stream target (empty or malformed host, port 0, or too long)";
	case TK_OSTREAM_ENOID:
		return "no free stream id on this circuit (or the id given is in use)";
	case TK_OSTREAM_ENOMEM:
		return "out of memory";
	case TK_OSTREAM_ESEND:
		return "the circuit could not send the relay message";
	case TK_OSTREAM_ESTATE:
		return "operation not valid in the stream's state";
	case TK_OSTREAM_EPROTO:
		return "exit broke the stream protocol at circuit level: destroy the circuit";
	}
	return "unknown stream error";
}

const char *
tk_ostream_state_name(int state)
{
	switch (state) {
	case TK_OSTREAM_BEGIN_SENT:
		return "BEGIN_SENT";
	case TK_OSTREAM_RESOLVE_SENT:
		return "RESOLVE_SENT";
	case TK_OSTREAM_OPEN:
		return "OPEN";
	case TK_OSTREAM_HALF_CLOSED:
		return "HALF_CLOSED";
	case TK_OSTREAM_CLOSED:
		return "CLOSED";
	}
	return "UNKNOWN";
}

tk_ostream_table *
tk_ostream_table_new(const tk_ostream_ops *ops, void *ud)
{
	tk_ostream_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ops = *ops;
	t->ud = ud;
	return t;
}

void
tk_ostream_table_set_cc(tk_ostream_table *t, const struct tk_cc_params *p)
{
	t->cc = p != NULL;
	if (p)
		t->params = *p;
}

int
tk_ostream_table_uses_cc(const tk_ostream_table *t)
{
	return t->cc;
}

static void
free_zombies(tk_ostream_table *t)
{
	while (t->zombies) {
		tk_ostream *z = t->zombies;
		t->zombies = z->next_zombie;
		free(z);
	}
}

void
tk_ostream_table_free(tk_ostream_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_live; i++)
		free(t->live[i]);
	free(t->live);
	free(t->half);
	free_zombies(t);
	free(t);
}

void
tk_ost_enter(tk_ostream_table *t)
{
	t->depth++;
}

void
tk_ost_leave(tk_ostream_table *t)
{
	if (--t->depth == 0)
		free_zombies(t);
}

tk_ostream *
tk_ost_find_live(const tk_ostream_table *t, uint16_t id, size_t *idx)
{
	for (size_t i = 0; i < t->n_live; i++) {
		if (t->live[i]->id == id) {
			if (idx)
				*idx = i;
			return t->live[i];
		}
	}
	return NULL;
}

tk_half_stream *
tk_ost_find_half(const tk_ostream_table *t, uint16_t id, size_t *idx)
{
	for (size_t i = 0; i < t->n_half; i++) {
		if (t->half[i].stream_id == id) {
			if (idx)
				*idx = i;
			return &t->half[i];
		}
	}
	return NULL;
}

static int
id_in_use(const tk_ostream_table *t, uint16_t id)
{
	return id == 0 || (t->used[id >> 3] >> (id & 7) & 1);
}

static void
mark_id(tk_ostream_table *t, uint16_t id, int on)
{
	if (on)
		t->used[id >> 3] |= (uint8_t)(1u << (id & 7));
	else
		t->used[id >> 3] &= (uint8_t) ~(1u << (id & 7));
}

/* The id is free again: tell the owner. */
static void
released(tk_ostream_table *t, uint16_t id)
{
	mark_id(t, id, 0);
	if (t->ops.released)
		t->ops.released(t->ud, id);
}

void
tk_ost_half_remove_at(tk_ostream_table *t, size_t i)
{
	uint16_t id = t->half[i].stream_id;
	memmove(&t->half[i], &t->half[i + 1],
		(t->n_half - i - 1) * sizeof t->half[0]);
	t->n_half--;
	released(t, id);
}

/* Keeps the id reserved after we closed the stream. */
static void
half_add(tk_ostream_table *t, const tk_ostream *s, int connected_pending)
{
	if (t->n_half == TK_OSTREAM_MAX_HALF)
		tk_ost_half_remove_at(t, 0);
	if (t->n_half == t->cap_half) {
		size_t cap = t->cap_half ? t->cap_half * 2 : 8;
		tk_half_stream *h = realloc(t->half, cap * sizeof *h);
		if (!h) {
			/* Cannot remember it: just free the id. Late cells
			 * for it will count as dropped. */
			released(t, s->id);
			return;
		}
		t->half = h;
		t->cap_half = cap;
	}
	tk_half_stream_init(&t->half[t->n_half++], s->id, &s->flow,
			    connected_pending);
	t->half[t->n_half - 1].cc = (uint8_t)t->cc;
	if (s->kind == TK_OSTREAM_RESOLVE || s->kind == TK_OSTREAM_RESOLVE_PTR)
		t->half[t->n_half - 1].data_pending = 0;
}

/* Takes s out of the live set; it is freed once no caller can hold it. */
static void
unlink_stream(tk_ostream_table *t, tk_ostream *s)
{
	size_t i;
	if (tk_ost_find_live(t, s->id, &i) == s) {
		memmove(&t->live[i], &t->live[i + 1],
			(t->n_live - i - 1) * sizeof t->live[0]);
		t->n_live--;
	}
	s->state = TK_OSTREAM_CLOSED;
	s->next_zombie = t->zombies;
	t->zombies = s;
}

static int
pick_id(tk_ostream_table *t, uint16_t want, uint16_t *out)
{
	if (want) {
		if (id_in_use(t, want))
			return TK_OSTREAM_ENOID;
		*out = want;
		return 0;
	}
	if (t->n_live + t->n_half >= 65535)
		return TK_OSTREAM_ENOID;
	uint16_t id = 0;
	for (int tries = 0; tries < 64; tries++) {
		uint8_t r[2];
		if (t->ops.random)
			t->ops.random(t->ud, r, sizeof r);
		else
			tk_random(r, sizeof r);
		id = (uint16_t)(r[0] << 8 | r[1]);
		if (id != 0 && !id_in_use(t, id)) {
			*out = id;
			return 0;
		}
	}
	/* Crowded (or a poor random source): walk on from the last guess. */
	for (unsigned n = 0; n < 65536; n++) {
		id++;
		if (id != 0 && !id_in_use(t, id)) {
			*out = id;
			return 0;
		}
	}
	return TK_OSTREAM_ENOID;
}

static int
open_stream(tk_ostream_table *t, int kind, uint8_t cmd, const uint8_t *body,
	    size_t len, uint16_t want_id, void *data, tk_ostream **out)
{
	if (t->n_live >= TK_OSTREAM_MAX_LIVE)
		return TK_OSTREAM_ENOID;
	uint16_t id;
	int rc = pick_id(t, want_id, &id);
	if (rc < 0)
		return rc;
	if (t->n_live == t->cap_live) {
		size_t cap = t->cap_live ? t->cap_live * 2 : 8;
		tk_ostream **l = realloc(t->live, cap * sizeof *l);
		if (!l)
			return TK_OSTREAM_ENOMEM;
		t->live = l;
		t->cap_live = cap;
	}
	tk_ostream *s = calloc(1, sizeof *s);
	if (!s)
		return TK_OSTREAM_ENOMEM;
	s->id = id;
	s->kind = (uint8_t)kind;
	int lookup = kind == TK_OSTREAM_RESOLVE ||
		     kind == TK_OSTREAM_RESOLVE_PTR;
	s->state = lookup ? TK_OSTREAM_RESOLVE_SENT : TK_OSTREAM_BEGIN_SENT;
	s->optimistic = kind == TK_OSTREAM_CONNECT;
	s->data = data;
	tk_stream_flow_init(&s->flow);
	if (t->cc)
		tk_stream_xon_init(&s->xon, &t->params);
	/* In the table before the request goes out, in case the owner's send
	 * hands back an answer at once. */
	t->live[t->n_live++] = s;
	mark_id(t, id, 1);
	tk_ost_enter(t);
	rc = t->ops.send(t->ud, cmd, id, body, len);
	if (rc < 0) {
		if (s->state != TK_OSTREAM_CLOSED) {
			unlink_stream(t, s);
			mark_id(t, id, 0); /* never announced: no `released` */
		}
		tk_ost_leave(t);
		return TK_OSTREAM_ESEND;
	}
	/* Already finished by a synchronous answer: its terminal callback
	 * has run, so the caller gets no handle. */
	if (out)
		*out = s->state == TK_OSTREAM_CLOSED ? NULL : s;
	tk_ost_leave(t);
	return 0;
}

int
tk_ostream_begin(tk_ostream_table *t, const char *host, uint16_t port,
		 uint32_t flags, uint16_t stream_id, void *data,
		 tk_ostream **out)
{
	uint8_t body[TK_RELAY_DATA_MAX];
	int n = tk_relay_begin_encode(host, port, flags, body, sizeof body);
	if (n < 0)
		return TK_OSTREAM_EINVAL;
	return open_stream(t, TK_OSTREAM_CONNECT, TK_RELAY_BEGIN, body,
			   (size_t)n, stream_id, data, out);
}

int
tk_ostream_begin_onion(tk_ostream_table *t, uint16_t port, uint16_t stream_id,
		       void *data, tk_ostream **out)
{
	/* rend-spec-v3 §4.2.2 / tor: the address is empty, ":PORT" NUL. */
	uint8_t body[8];
	int n;
	if (port == 0)
		return TK_OSTREAM_EINVAL;
	n = snprintf((char *)body, sizeof body, ":%u", (unsigned)port);
	return open_stream(t, TK_OSTREAM_CONNECT, TK_RELAY_BEGIN, body,
			   (size_t)n + 1, stream_id, data, out);
}

int
tk_ostream_begin_dir(tk_ostream_table *t, uint16_t stream_id, void *data,
		     tk_ostream **out)
{
	return open_stream(t, TK_OSTREAM_DIR, TK_RELAY_BEGIN_DIR, NULL, 0,
			   stream_id, data, out);
}

int
tk_ostream_resolve(tk_ostream_table *t, const char *name, uint16_t stream_id,
		   void *data, tk_ostream **out)
{
	uint8_t body[TK_RELAY_DATA_MAX];
	int n = tk_relay_resolve_encode(name, body, sizeof body);
	if (n < 0)
		return TK_OSTREAM_EINVAL;
	return open_stream(t, TK_OSTREAM_RESOLVE, TK_RELAY_RESOLVE, body,
			   (size_t)n, stream_id, data, out);
}

int
tk_ostream_resolve_ptr(tk_ostream_table *t, const tk_relay_addr *addr,
		       uint16_t stream_id, void *data, tk_ostream **out)
{
	uint8_t body[TK_RELAY_DATA_MAX];
	int n = tk_relay_resolve_ptr_encode(addr, body, sizeof body);
	if (n < 0)
		return TK_OSTREAM_EINVAL;
	return open_stream(t, TK_OSTREAM_RESOLVE_PTR, TK_RELAY_RESOLVE, body,
			   (size_t)n, stream_id, data, out);
}

void
tk_ostream_set_optimistic(tk_ostream *s, int on)
{
	s->optimistic = on && s->kind == TK_OSTREAM_CONNECT;
}

int
tk_ost_can_write_now(tk_ostream_table *t, const tk_ostream *s)
{
	if (t->cc ? s->xon.xoff_received
		  : !tk_stream_flow_can_package(&s->flow))
		return 0;
	return t->ops.circ_can_package(t->ud);
}

long
tk_ostream_write(tk_ostream_table *t, tk_ostream *s, const void *buf,
		 size_t len)
{
	if (s->state != TK_OSTREAM_OPEN &&
	    !(s->state == TK_OSTREAM_BEGIN_SENT && s->optimistic))
		return TK_OSTREAM_ESTATE;
	tk_ost_enter(t);
	const uint8_t *p = buf;
	size_t done = 0;
	long rc = 0;
	while (done < len && tk_ost_can_write_now(t, s)) {
		size_t n = len - done;
		if (n > TK_RELAY_DATA_MAX)
			n = TK_RELAY_DATA_MAX;
		if (t->ops.send(t->ud, TK_RELAY_DATA, s->id, p + done, n) < 0 ||
		    s->state == TK_OSTREAM_CLOSED) {
			rc = TK_OSTREAM_ESEND;
			break;
		}
		if (t->cc)
			tk_stream_xon_data_sent(&s->xon, n);
		else
			tk_stream_flow_data_sent(&s->flow);
		done += n;
	}
	if (rc == 0) {
		s->want_write = done < len;
		rc = (long)done;
	}
	tk_ost_leave(t);
	return rc;
}

/* Sends the stream SENDMEs the deliver window owes, unless the local
 * reader is backed up. */
int
tk_ost_send_sendmes(tk_ostream_table *t, tk_ostream *s)
{
	if (t->cc)
		return 0; /* no stream SENDMEs with congestion control */
	int n = tk_stream_flow_sendmes_due(&s->flow, s->backed_up);
	for (int i = 0; i < n && s->state != TK_OSTREAM_CLOSED; i++)
		if (t->ops.send(t->ud, TK_RELAY_SENDME, s->id, NULL, 0) < 0)
			return TK_OSTREAM_ESEND;
	return 0;
}

int
tk_ostream_set_backed_up(tk_ostream_table *t, tk_ostream *s, int on)
{
	s->backed_up = on != 0;
	if (on || s->state != TK_OSTREAM_OPEN)
		return 0;
	tk_ost_enter(t);
	int rc = tk_ost_send_sendmes(t, s);
	tk_ost_leave(t);
	return rc;
}

/* Sends the XON or XOFF the state machine asked for. */
static int
send_xon_action(tk_ostream_table *t, tk_ostream *s, int action)
{
	uint8_t body[8];
	int n, rc;
	if (action == TK_XON_NONE || s->state != TK_OSTREAM_OPEN)
		return 0;
	if (action == TK_XON_SEND_XOFF)
		n = tk_relay_xoff_encode(body, sizeof body);
	else
		n = tk_relay_xon_encode(s->xon.ewma_rate, body, sizeof body);
	rc = t->ops.send(t->ud,
			 action == TK_XON_SEND_XOFF ? TK_RELAY_XOFF
						    : TK_RELAY_XON,
			 s->id, body, (size_t)n);
	if (rc < 0)
		return TK_OSTREAM_ESEND;
	tk_stream_xon_sent(&s->xon, action);
	return 0;
}

int
tk_ostream_data_queued(tk_ostream_table *t, tk_ostream *s, uint64_t buffered,
		       uint64_t now_usec)
{
	if (!t->cc || s->state != TK_OSTREAM_OPEN)
		return 0;
	tk_ost_enter(t);
	int rc = send_xon_action(t, s,
				 tk_stream_xon_data_arrived(&s->xon, buffered,
							    now_usec));
	tk_ost_leave(t);
	return rc;
}

int
tk_ostream_data_drained(tk_ostream_table *t, tk_ostream *s, uint64_t n,
			uint64_t buffered, uint64_t now_usec)
{
	if (!t->cc || s->state != TK_OSTREAM_OPEN)
		return 0;
	tk_ost_enter(t);
	int rc = send_xon_action(t, s,
				 tk_stream_xon_drained(&s->xon, n, buffered,
						       now_usec));
	tk_ost_leave(t);
	return rc;
}

/* C tor (relay_send_end_cell_from_edge, connection_edge_end): "Never send
 * the server an informative reason code". */
static int
send_end(tk_ostream_table *t, uint16_t id)
{
	uint8_t body[1] = { TK_RELAY_END_MISC };
	return t->ops.send(t->ud, TK_RELAY_END, id, body, 1);
}

int
tk_ostream_close(tk_ostream_table *t, tk_ostream *s)
{
	if (s->state == TK_OSTREAM_CLOSED)
		return TK_OSTREAM_ESTATE;
	tk_ost_enter(t);
	int rc = 0;
	int was_begin = s->state == TK_OSTREAM_BEGIN_SENT;
	/* The exit keeps no stream for a lookup, so there is nothing to
	 * END; a late RESOLVED is absorbed by the half-closed entry. */
	if (s->state != TK_OSTREAM_RESOLVE_SENT && send_end(t, s->id) < 0)
		rc = TK_OSTREAM_ESEND;
	unlink_stream(t, s);
	half_add(t, s, was_begin);
	tk_ost_leave(t);
	return rc;
}

/* We end the stream because the exit broke the stream protocol: END to
 * the exit, closed(remote = 0, TORPROTOCOL) to the owner. */
void
tk_ost_fail(tk_ostream_table *t, tk_ostream *s)
{
	tk_relay_end e = { .reason = TK_RELAY_END_TORPROTOCOL,
			   .ttl = TK_TTL_NONE };
	int was_begin = s->state == TK_OSTREAM_BEGIN_SENT;
	if (s->state != TK_OSTREAM_RESOLVE_SENT) {
		(void)send_end(t, s->id);
		unlink_stream(t, s);
		half_add(t, s, was_begin);
	} else {
		unlink_stream(t, s);
		released(t, s->id);
	}
	t->ops.closed(t->ud, s, 0, &e);
}

/* The exit ended the stream (or answered the lookup): nothing more will
 * come for this id, so it is free at once. */
void
tk_ost_finish(tk_ostream_table *t, tk_ostream *s)
{
	unlink_stream(t, s);
	released(t, s->id);
}

void
tk_ostream_table_circ_writable(tk_ostream_table *t)
{
	if (t->n_live == 0)
		return;
	tk_ost_enter(t);
	/* Callbacks may open or close streams: work from a list of ids. */
	size_t n = t->n_live;
	uint16_t *ids = malloc(n * sizeof *ids);
	if (ids) {
		for (size_t i = 0; i < n; i++)
			ids[i] = t->live[i]->id;
		for (size_t i = 0; i < n; i++) {
			tk_ostream *s = tk_ost_find_live(t, ids[i], NULL);
			if (!s || !s->want_write || !tk_ost_can_write_now(t, s))
				continue;
			s->want_write = 0;
			if (t->ops.writable)
				t->ops.writable(t->ud, s);
		}
		free(ids);
	}
	tk_ost_leave(t);
}

void
tk_ostream_table_fail_all(tk_ostream_table *t, uint8_t reason)
{
	tk_ost_enter(t);
	tk_ostream **l = t->live;
	size_t n = t->n_live;
	t->live = NULL;
	t->n_live = t->cap_live = 0;
	tk_relay_end e = { .reason = reason, .ttl = TK_TTL_NONE };
	for (size_t i = 0; i < n; i++) {
		tk_ostream *s = l[i];
		s->state = TK_OSTREAM_CLOSED;
		s->next_zombie = t->zombies;
		t->zombies = s;
		released(t, s->id);
		t->ops.closed(t->ud, s, 0, &e);
	}
	free(l);
	while (t->n_half)
		tk_ost_half_remove_at(t, t->n_half - 1);
	tk_ost_leave(t);
}

int
tk_ostream_table_id_state(const tk_ostream_table *t, uint16_t stream_id)
{
	const tk_ostream *s = tk_ost_find_live(t, stream_id, NULL);
	if (s)
		return s->state;
	if (tk_ost_find_half(t, stream_id, NULL))
		return TK_OSTREAM_HALF_CLOSED;
	return TK_OSTREAM_CLOSED;
}

size_t
tk_ostream_table_live(const tk_ostream_table *t)
{
	return t->n_live;
}

size_t
tk_ostream_table_half_closed(const tk_ostream_table *t)
{
	return t->n_half;
}

uint64_t
tk_ostream_table_dropped(const tk_ostream_table *t)
{
	return t->dropped;
}

uint64_t
tk_ostream_table_suspect(const tk_ostream_table *t)
{
	return t->suspect;
}

uint32_t
tk_ostream_send_rate(const tk_ostream *s)
{
	return s->xon.send_rate > 0x7fffffff / 1000 ? 0
						    : s->xon.send_rate * 1000;
}

const tk_stream_xon *
tk_ostream_xon(const tk_ostream *s)
{
	return &s->xon;
}

uint16_t
tk_ostream_id(const tk_ostream *s)
{
	return s->id;
}

int
tk_ostream_kind(const tk_ostream *s)
{
	return s->kind;
}

int
tk_ostream_state(const tk_ostream *s)
{
	return s->state;
}

void *
tk_ostream_data(const tk_ostream *s)
{
	return s->data;
}

const tk_stream_flow *
tk_ostream_windows(const tk_ostream *s)
{
	return &s->flow;
}
