/* stream_deliver.c — the exit's relay messages for one stream id of the
 * table (tk_ostream_table_deliver): each checked against the stream's
 * state, as C tor checks it, before the owner hears of it. */
#include <stdlib.h>
#include <string.h>

#include "onion/circ/stream_int.h"

static int
on_connected(tk_ostream_table *t, tk_ostream *s, const uint8_t *body,
	     size_t len)
{
	/* C tor: "'connected' unsupported while open. Closing circ." */
	if (s->state == TK_OSTREAM_OPEN)
		return TK_OSTREAM_EPROTO;
	if (s->state != TK_OSTREAM_BEGIN_SENT) {
		t->dropped++; /* on a lookup: dropped, as C tor does */
		return 0;
	}
	tk_relay_connected c;
	static const uint8_t zero[16];
	/* C tor also refuses "connected" to the null address (only the IPv6
	 * form can say that: an IPv4 0.0.0.0 reads as the IPv6 layout). Which
	 * internal addresses to refuse is the owner's policy. */
	if (tk_relay_connected_decode(body, len, &c) < 0 ||
	    (c.addr.family == 6 && memcmp(c.addr.a, zero, 16) == 0)) {
		tk_ost_fail(t, s);
		return 0;
	}
	s->state = TK_OSTREAM_OPEN;
	if (t->ops.connected)
		t->ops.connected(t->ud, s, &c);
	if (s->state == TK_OSTREAM_OPEN && s->want_write &&
	    tk_ost_can_write_now(t, s)) {
		s->want_write = 0;
		if (t->ops.writable)
			t->ops.writable(t->ud, s);
	}
	return 0;
}

static int
on_data(tk_ostream_table *t, tk_ostream *s, const uint8_t *body, size_t len)
{
	if (s->state != TK_OSTREAM_OPEN) {
		t->dropped++;
		return 0;
	}
	/* The exit overran the stream window: C tor kills the whole circuit
	 * ("conn deliver_window below 0"). With congestion control there
	 * is no stream window: the owner's XON/XOFF pace the exit. */
	if (!t->cc && tk_stream_flow_data_received(&s->flow) < 0)
		return TK_OSTREAM_EPROTO;
	if (len && t->ops.data)
		t->ops.data(t->ud, s, body, len);
	if (s->state == TK_OSTREAM_OPEN)
		(void)tk_ost_send_sendmes(
			t, s); /* a send failure: circuit is gone */
	return 0;
}

static int
on_sendme(tk_ostream_table *t, tk_ostream *s)
{
	if (s->state != TK_OSTREAM_OPEN && s->state != TK_OSTREAM_BEGIN_SENT) {
		t->dropped++;
		return 0;
	}
	/* C tor closes the circuit for a stream SENDME on a stream under
	 * flow control, and for one past the window. */
	if (t->cc || tk_stream_flow_sendme_received(&s->flow) < 0)
		return TK_OSTREAM_EPROTO;
	if (s->want_write && tk_ost_can_write_now(t, s)) {
		s->want_write = 0;
		if (t->ops.writable)
			t->ops.writable(t->ud, s);
	}
	return 0;
}

/* The exit's XOFF / XON for a stream of ours (prop 324 §4.1). C tor
 * ignores them on streams without flow control, and XONs that do not
 * parse; suspect ones (earlier than our data explains) are obeyed and
 * counted. */
static void
on_xoff(tk_ostream_table *t, tk_ostream *s, const uint8_t *body, size_t len)
{
	(void)body, (void)len; /* C tor reads nothing of an XOFF's body */
	if (!t->cc || s->state != TK_OSTREAM_OPEN) {
		t->dropped++;
		return;
	}
	int rc = tk_stream_xon_got_xoff(&s->xon);
	if (rc < 0)
		t->dropped++;
	else if (rc > 0)
		t->suspect++;
}

static void
on_xon(tk_ostream_table *t, tk_ostream *s, const uint8_t *body, size_t len)
{
	uint32_t kbps;
	if (!t->cc || s->state != TK_OSTREAM_OPEN ||
	    tk_relay_xon_decode(body, len, &kbps) != TK_RELAY_OK) {
		t->dropped++;
		return;
	}
	if (tk_stream_xon_got_xon(&s->xon, kbps) > 0)
		t->suspect++;
	if (s->want_write && tk_ost_can_write_now(t, s)) {
		s->want_write = 0;
		if (t->ops.writable)
			t->ops.writable(t->ud, s);
	}
}

static void
on_end(tk_ostream_table *t, tk_ostream *s, const uint8_t *body, size_t len)
{
	tk_relay_end e;
	if (tk_relay_end_decode(body, len, &e) < 0) {
		e.reason = TK_RELAY_END_MISC; /* cannot fail within 498 bytes */
		e.addr.family = 0;
		e.ttl = TK_TTL_NONE;
	}
	tk_ost_finish(t, s);
	t->ops.closed(t->ud, s, 1, &e);
}

static void
on_resolved(tk_ostream_table *t, tk_ostream *s, const uint8_t *body, size_t len)
{
	if (s->state != TK_OSTREAM_RESOLVE_SENT) {
		t->dropped++;
		return;
	}
	tk_relay_resolved *r = malloc(sizeof *r);
	if (!r || tk_relay_resolved_decode(body, len, r) < 0) {
		/* C tor: "Dropping malformed 'resolved' cell" and the
		 * lookup fails with TORPROTOCOL. */
		free(r);
		tk_ost_fail(t, s);
		return;
	}
	tk_ost_finish(t, s);
	if (t->ops.resolved)
		t->ops.resolved(t->ud, s, r);
	free(r);
}

int
tk_ostream_table_deliver(tk_ostream_table *t, uint8_t cmd, uint16_t stream_id,
			 const uint8_t *body, size_t len)
{
	int rc = 0;
	if (stream_id == 0 || len > TK_RELAY_DATA_MAX) {
		t->dropped++;
		return 0;
	}
	tk_ost_enter(t);
	tk_ostream *s = tk_ost_find_live(t, stream_id, NULL);
	if (!s) {
		size_t i;
		tk_half_stream *h = tk_ost_find_half(t, stream_id, &i);
		if (!h) {
			t->dropped++;
		} else {
			switch (tk_half_stream_on_msg(h, cmd)) {
			case TK_HALF_ACCEPT:
				break;
			case TK_HALF_DONE:
				tk_ost_half_remove_at(t, i);
				break;
			default:
				t->dropped++;
				break;
			}
		}
		tk_ost_leave(t);
		return 0;
	}
	switch (cmd) {
	case TK_RELAY_CONNECTED:
		rc = on_connected(t, s, body, len);
		break;
	case TK_RELAY_DATA:
		rc = on_data(t, s, body, len);
		break;
	case TK_RELAY_SENDME:
		rc = on_sendme(t, s);
		break;
	case TK_RELAY_END:
		on_end(t, s, body, len);
		break;
	case TK_RELAY_RESOLVED:
		on_resolved(t, s, body, len);
		break;
	case TK_RELAY_XOFF:
		on_xoff(t, s, body, len);
		break;
	case TK_RELAY_XON:
		on_xon(t, s, body, len);
		break;
	default:
		/* For forward compatibility C tor drops what it does not
		 * expect rather than killing the circuit. */
		t->dropped++;
		break;
	}
	tk_ost_leave(t);
	return rc;
}
