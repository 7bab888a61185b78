/* The per-circuit stream table driven by scripted exit messages: ids,
 * BEGIN/CONNECTED/DATA/END, lookups, stream windows and SENDMEs,
 * backpressure, half-closed streams, circuit loss, re-entrant callbacks;
 * on a congestion-controlled circuit, XON/XOFF instead of windows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/circ/stream.h"
#include "../unit/tap.h"

#define OUT_CAP 2048

/* What the fake circuit saw go out. */
struct sent {
	uint8_t cmd;
	uint16_t id;
	uint8_t body[TK_RELAY_DATA_MAX];
	size_t len;
};

static struct owner {
	struct sent out[OUT_CAP]; /* a ring: the last OUT_CAP messages */
	size_t n_out;
	int circ_open; /* circuit package window has room */
	int send_fails;
	const uint16_t *rand_seq; /* stream id guesses to hand out */
	size_t rand_n, rand_i;
	/* callbacks seen */
	int n_connected, n_closed, n_resolved, n_writable, n_released;
	size_t data_bytes;
	int last_remote;
	tk_relay_end last_end;
	tk_relay_connected last_conn;
	tk_relay_resolved last_res;
	uint8_t last_res_body[TK_RELAY_DATA_MAX]; /* for answer views */
	uint16_t last_released;
	/* re-entrancy hooks */
	int close_in_data;
	int open_in_closed;
	tk_ostream_table *t;
} o;

static int f_send(void *ud, uint8_t cmd, uint16_t id, const uint8_t *body,
		  size_t len)
{
	(void)ud;
	if (o.send_fails)
		return -1;
	struct sent *s = &o.out[o.n_out % OUT_CAP];
	s->cmd = cmd;
	s->id = id;
	s->len = len;
	if (len)
		memcpy(s->body, body, len);
	o.n_out++;
	return 0;
}

static int f_can(void *ud)
{
	(void)ud;
	return o.circ_open;
}

static void f_random(void *ud, void *buf, size_t n)
{
	(void)ud;
	uint16_t v = o.rand_n ? o.rand_seq[o.rand_i++ % o.rand_n] : 0x1234;
	uint8_t *b = buf;
	if (n >= 2) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	}
}

static void f_connected(void *ud, tk_ostream *s, const tk_relay_connected *c)
{
	(void)ud;
	(void)s;
	o.n_connected++;
	o.last_conn = *c;
}

static void f_data(void *ud, tk_ostream *s, const uint8_t *p, size_t len)
{
	(void)ud;
	(void)p;
	o.data_bytes += len;
	if (o.close_in_data) {
		o.close_in_data = 0;
		tk_ostream_close(o.t, s);
	}
}

static void f_resolved(void *ud, tk_ostream *s, const tk_relay_resolved *r)
{
	(void)ud;
	(void)s;
	o.n_resolved++;
	o.last_res = *r;
}

static void f_closed(void *ud, tk_ostream *s, int remote,
		     const tk_relay_end *end)
{
	(void)ud;
	(void)s;
	o.n_closed++;
	o.last_remote = remote;
	o.last_end = *end;
	if (o.open_in_closed) {
		o.open_in_closed = 0;
		tk_ostream *n;
		tk_ostream_begin(o.t, "again.example", 443, 0, 0, NULL, &n);
	}
}

static void f_writable(void *ud, tk_ostream *s)
{
	(void)ud;
	(void)s;
	o.n_writable++;
}

static void f_released(void *ud, uint16_t id)
{
	(void)ud;
	o.n_released++;
	o.last_released = id;
}

static const tk_ostream_ops ops = {
	.send = f_send,
	.circ_can_package = f_can,
	.random = f_random,
	.connected = f_connected,
	.data = f_data,
	.resolved = f_resolved,
	.closed = f_closed,
	.writable = f_writable,
	.released = f_released,
};

static tk_ostream_table *fresh(void)
{
	if (o.t)
		tk_ostream_table_free(o.t);
	memset(&o, 0, sizeof o);
	o.circ_open = 1;
	o.t = tk_ostream_table_new(&ops, NULL);
	return o.t;
}

static const struct sent *out_at(size_t i)
{
	return &o.out[i % OUT_CAP];
}

static const struct sent *last_out(void)
{
	static const struct sent none;
	return o.n_out ? out_at(o.n_out - 1) : &none;
}

static int deliver(uint8_t cmd, uint16_t id, const char *hex)
{
	uint8_t b[TK_RELAY_DATA_MAX];
	size_t n = hex ? tap_unhex(hex, b, sizeof b) : 0;
	return tk_ostream_table_deliver(o.t, cmd, id, b, n);
}

static void test_ids(void)
{
	tk_ostream_table *t = fresh();
	static const uint16_t seq[] = { 0, 0x0505, 0x0505, 0x0707 };
	tk_ostream *a, *b, *c;
	o.rand_seq = seq;
	o.rand_n = 4;
	tap_eq_long(tk_ostream_begin(t, "example.com", 80, 0, 0, NULL, &a), 0,
		    "BEGIN opened");
	tap_eq_long(tk_ostream_id(a), 0x0505, "id 0 skipped, 0x0505 taken");
	tap_eq_long(tk_ostream_begin(t, "example.com", 80, 0, 0, NULL, &b), 0,
		    "second BEGIN");
	tap_eq_long(tk_ostream_id(b), 0x0707, "duplicate 0x0505 skipped");

	static const uint16_t same[] = { 0x0707 };
	o.rand_seq = same;
	o.rand_n = 1;
	o.rand_i = 0;
	tap_eq_long(tk_ostream_begin(t, "example.com", 80, 0, 0, NULL, &c), 0,
		    "third BEGIN with a stuck random source");
	tap_eq_long(tk_ostream_id(c), 0x0708, "falls back to the next free id");

	tap_eq_long(tk_ostream_begin(t, "x.example", 80, 0, 0x0505, NULL, &c),
		    TK_OSTREAM_ENOID, "explicit id in use refused");
	tap_eq_long(tk_ostream_begin(t, "x.example", 80, 0, 0x4242, NULL, &c), 0,
		    "explicit free id used");
	tap_eq_long(tk_ostream_id(c), 0x4242, "it is 0x4242");
	tk_ostream_close(t, c);
	tap_eq_long(tk_ostream_begin(t, "x.example", 80, 0, 0x4242, NULL, &c),
		    TK_OSTREAM_ENOID, "half-closed id still reserved");

	const struct sent *s = out_at(0);
	tap_ok(s->cmd == TK_RELAY_BEGIN && s->id == 0x0505 && s->len == 15 &&
		       memcmp(s->body, "example.com:80", 15) == 0,
	       "BEGIN went out with the target");
	tap_eq_long(tk_ostream_begin(t, "", 80, 0, 0, NULL, &c),
		    TK_OSTREAM_EINVAL, "empty host refused");
	tap_eq_long(tk_ostream_begin(t, "a.b", 0, 0, 0, NULL, &c),
		    TK_OSTREAM_EINVAL, "port 0 refused");
	tap_eq_long((long)tk_ostream_table_live(t), 3, "3 live streams");
	o.send_fails = 1;
	tap_eq_long(tk_ostream_begin(t, "a.b", 80, 0, 0, NULL, &c),
		    TK_OSTREAM_ESEND, "send failure reported");
	tap_eq_long((long)tk_ostream_table_live(t), 3, "and nothing added");
}

static void test_connect_data(void)
{
	tk_ostream_table *t = fresh();
	tk_ostream *s;
	tk_ostream_begin(t, "Echo.Test", 7, 0, 0, (void *)&o, &s);
	uint16_t id = tk_ostream_id(s);
	tap_eq_long(tk_ostream_state(s), TK_OSTREAM_BEGIN_SENT, "BEGIN_SENT");
	tap_ok(tk_ostream_data(s) == (void *)&o, "user data kept");

	tap_eq_long(deliver(TK_RELAY_DATA, id, "41"), 0, "DATA before CONNECTED");
	tap_ok(o.data_bytes == 0 && tk_ostream_table_dropped(t) == 1,
	       "is dropped, not fatal");
	tap_eq_long(deliver(TK_RELAY_CONNECTED, id, "7f000001 0000003c"), 0,
		    "CONNECTED");
	tap_ok(o.n_connected == 1 && tk_ostream_state(s) == TK_OSTREAM_OPEN &&
		       o.last_conn.addr.family == 4 && o.last_conn.ttl == 60,
	       "OPEN with 127.0.0.1 ttl 60");
	tap_eq_long(deliver(TK_RELAY_CONNECTED, id, ""), TK_OSTREAM_EPROTO,
		    "CONNECTED on an open stream: destroy the circuit");
	tap_ok(o.n_connected == 1 && tk_ostream_state(s) == TK_OSTREAM_OPEN,
	       "and the stream is left to fail_all");

	static uint8_t big[600 * 498];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)i;
	size_t before = o.n_out;
	tap_eq_long(tk_ostream_write(t, s, big, 2000), 2000, "2000 bytes taken");
	tap_eq_long((long)(o.n_out - before), 5, "as 5 DATA cells");
	tap_ok(out_at(before)->len == 498 && out_at(before + 4)->len == 8 &&
		       memcmp(out_at(before + 1)->body, big + 498, 498) == 0,
	       "498-byte cells, in order, remainder last");
	tap_eq_long(tk_ostream_windows(s)->package_window, 495,
		    "stream package window 495");

	/* Fill the stream window. */
	long n = tk_ostream_write(t, s, big, sizeof big);
	tap_eq_long(n, 495L * 498, "stops at the stream window (495 cells)");
	tap_eq_long(tk_ostream_write(t, s, big, 10), 0, "window shut: 0 taken");
	deliver(TK_RELAY_SENDME, id, "");
	tap_eq_long(o.n_writable, 1, "stream SENDME: writable");
	tap_eq_long(tk_ostream_windows(s)->package_window, 50, "window 50");
	tap_eq_long(tk_ostream_write(t, s, big, 10), 10, "writes again");

	/* Circuit window shut. */
	o.circ_open = 0;
	tap_eq_long(tk_ostream_write(t, s, big, 10), 0,
		    "circuit window shut: 0 taken");
	tk_ostream_table_circ_writable(t);
	tap_eq_long(o.n_writable, 1, "no writable while still shut");
	o.circ_open = 1;
	tk_ostream_table_circ_writable(t);
	tap_eq_long(o.n_writable, 2, "circuit reopened: writable");
	tk_ostream_table_circ_writable(t);
	tap_eq_long(o.n_writable, 2, "only once");

	/* Too many stream SENDMEs: the circuit must go. */
	for (int i = 0; i < 9; i++)
		deliver(TK_RELAY_SENDME, id, "");
	tap_eq_long(tk_ostream_windows(s)->package_window, 499,
		    "9 more SENDMEs: 499");
	tap_eq_long(deliver(TK_RELAY_SENDME, id, ""), TK_OSTREAM_EPROTO,
		    "SENDME past 500 is a circuit-level error");

	/* Receiving: a SENDME after every 50 DATA cells. */
	before = o.n_out;
	size_t bytes0 = o.data_bytes;
	for (int i = 0; i < 1000; i++)
		deliver(TK_RELAY_DATA, id, "68656c6c6f");
	tap_eq_long((long)(o.data_bytes - bytes0), 5000, "1000 x 5 bytes delivered");
	tap_eq_long((long)(o.n_out - before), 20, "20 stream SENDMEs sent");
	tap_ok(last_out()->cmd == TK_RELAY_SENDME && last_out()->id == id &&
		       last_out()->len == 0,
	       "stream SENDME: empty body, stream id");
	tap_eq_long(tk_ostream_windows(s)->deliver_window, 500,
		    "deliver window back at 500");

	/* Backpressure. */
	tk_ostream_set_backed_up(t, s, 1);
	before = o.n_out;
	for (int i = 0; i < 500; i++)
		deliver(TK_RELAY_DATA, id, "00");
	tap_eq_long((long)(o.n_out - before), 0, "backed up: no SENDME");
	tap_eq_long(tk_ostream_set_backed_up(t, s, 0), 0, "drained");
	tap_eq_long((long)(o.n_out - before), 10, "10 SENDMEs at once");

	tk_ostream_set_backed_up(t, s, 1);
	for (int i = 0; i < 500; i++)
		deliver(TK_RELAY_DATA, id, "00");
	before = o.n_out;
	tap_eq_long(deliver(TK_RELAY_DATA, id, "00"), TK_OSTREAM_EPROTO,
		    "exit overran the stream window: destroy the circuit");
	tap_ok(o.n_out == before && o.n_closed == 0, "no END, no callback yet");
	tk_ostream_table_fail_all(t, TK_RELAY_END_DESTROY);
	tap_ok(o.n_closed == 1 && o.last_remote == 0 &&
		       o.last_end.reason == TK_RELAY_END_DESTROY &&
		       tk_ostream_table_live(t) == 0,
	       "then fail_all closes it with DESTROY");
}

static void test_end_and_half_closed(void)
{
	tk_ostream_table *t = fresh();
	tk_ostream *s;
	tk_ostream_begin(t, "blocked.example", 25, 0, 0, NULL, &s);
	uint16_t id = tk_ostream_id(s);
	size_t before = o.n_out;
	deliver(TK_RELAY_END, id, "04 7f000007 00000100");
	tap_ok(o.n_closed == 1 && o.last_remote == 1 &&
		       o.last_end.reason == TK_RELAY_END_EXITPOLICY &&
		       o.last_end.addr.family == 4 && o.last_end.ttl == 256,
	       "END EXITPOLICY reported with its address");
	tap_ok(o.n_out == before && tk_ostream_table_live(t) == 0 &&
		       tk_ostream_table_half_closed(t) == 0 &&
		       o.n_released == 1 && o.last_released == id,
	       "no END back, id released at once");
	deliver(TK_RELAY_END, id, "");
	tap_eq_long((long)tk_ostream_table_dropped(t), 1,
		    "later cells for it are dropped");

	/* Empty END = MISC; an unknown reason passes through. */
	tk_ostream_begin(t, "a.example", 80, 0, 0, NULL, &s);
	deliver(TK_RELAY_END, tk_ostream_id(s), "");
	tap_eq_long(o.last_end.reason, TK_RELAY_END_MISC, "empty END is MISC");
	tk_ostream_begin(t, "a.example", 80, 0, 0, NULL, &s);
	deliver(TK_RELAY_END, tk_ostream_id(s), "c8");
	tap_eq_long(o.last_end.reason, 200, "reason 200 passed through");

	/* We close while BEGIN is pending: the exit may still CONNECT,
	 * send DATA, and END. */
	tk_ostream_begin(t, "slow.example", 80, 0, 0, NULL, &s);
	id = tk_ostream_id(s);
	int closed0 = o.n_closed;
	uint64_t dropped0 = tk_ostream_table_dropped(t);
	tap_eq_long(tk_ostream_table_id_state(t, id), TK_OSTREAM_BEGIN_SENT,
		    "id state BEGIN_SENT");
	tap_eq_long(tk_ostream_close(t, s), 0, "close in BEGIN_SENT");
	tap_eq_long(tk_ostream_table_id_state(t, id), TK_OSTREAM_HALF_CLOSED,
		    "id state HALF_CLOSED");
	tap_ok(last_out()->cmd == TK_RELAY_END && last_out()->id == id &&
		       last_out()->body[0] == TK_RELAY_END_MISC,
	       "END MISC sent");
	tap_eq_long((long)tk_ostream_table_half_closed(t), 1, "half-closed");
	deliver(TK_RELAY_CONNECTED, id, "7f000001 0000003c");
	for (int i = 0; i < 500; i++)
		deliver(TK_RELAY_DATA, id, "00");
	tap_ok(tk_ostream_table_dropped(t) == dropped0 && o.n_closed == closed0 &&
		       o.n_connected == 0,
	       "late CONNECTED and 500 DATA absorbed silently");
	deliver(TK_RELAY_DATA, id, "00");
	tap_eq_long((long)(tk_ostream_table_dropped(t) - dropped0), 1,
		    "501st DATA counted as dropped");
	int rel0 = o.n_released;
	deliver(TK_RELAY_END, id, "06");
	tap_ok(tk_ostream_table_half_closed(t) == 0 &&
		       o.n_released == rel0 + 1 && o.last_released == id,
	       "exit's END frees the id");
	tap_eq_long(tk_ostream_table_id_state(t, id), TK_OSTREAM_CLOSED,
		    "id state CLOSED (free)");

	/* CONNECTED to the null address, and a malformed CONNECTED. */
	tk_ostream_begin(t, "null.example", 80, 0, 0, NULL, &s);
	int c0 = o.n_closed;
	deliver(TK_RELAY_CONNECTED, tk_ostream_id(s),
		"00000000 06 00000000000000000000000000000000 0000003c");
	tap_ok(o.n_closed == c0 + 1 && o.last_remote == 0 &&
		       o.last_end.reason == TK_RELAY_END_TORPROTOCOL &&
		       last_out()->cmd == TK_RELAY_END && o.n_connected == 0,
	       "CONNECTED to :: refused (END sent, TORPROTOCOL reported)");
	tk_ostream_begin(t, "bad.example", 80, 0, 0, NULL, &s);
	deliver(TK_RELAY_CONNECTED, tk_ostream_id(s), "000000");
	tap_ok(o.n_closed == c0 + 2 && o.last_remote == 0 &&
		       o.n_connected == 0,
	       "3-byte CONNECTED refused");

	/* Half-closed list is bounded. */
	for (int i = 0; i < TK_OSTREAM_MAX_HALF + 50; i++) {
		if (tk_ostream_begin(t, "many.example", 80, 0, 0, NULL, &s) ==
		    0)
			tk_ostream_close(t, s);
	}
	tap_eq_long((long)tk_ostream_table_half_closed(t), TK_OSTREAM_MAX_HALF,
		    "half-closed list capped");
	tap_eq_long((long)tk_ostream_table_live(t), 0, "no live streams");
}

static void test_lookups(void)
{
	tk_ostream_table *t = fresh();
	tk_ostream *s;
	tap_eq_long(tk_ostream_resolve(t, "Host2.Test", 0, NULL, &s), 0,
		    "RESOLVE opened");
	uint16_t id = tk_ostream_id(s);
	tap_ok(last_out()->cmd == TK_RELAY_RESOLVE && last_out()->len == 11 &&
		       memcmp(last_out()->body, "host2.test", 11) == 0,
	       "RESOLVE host2.test sent");
	tap_eq_long(tk_ostream_state(s), TK_OSTREAM_RESOLVE_SENT, "RESOLVE_SENT");
	tap_eq_long(tk_ostream_write(t, s, "x", 1), TK_OSTREAM_ESTATE,
		    "no DATA on a lookup");
	size_t before = o.n_out;
	deliver(TK_RELAY_RESOLVED, id, "04 04 0a010203 0000003c");
	tap_ok(o.n_resolved == 1 && o.last_res.n == 1 &&
		       o.last_res.ans[0].addr.family == 4 &&
		       o.last_res.ans[0].addr.a[3] == 3 &&
		       o.last_res.ans[0].ttl == 60,
	       "RESOLVED 10.1.2.3 ttl 60");
	tap_ok(o.n_out == before && o.n_closed == 0 &&
		       tk_ostream_table_live(t) == 0 &&
		       tk_ostream_table_half_closed(t) == 0,
	       "no END, no closed callback, id free");

	tk_relay_addr a = { .family = 4, .a = { 8, 8, 4, 4 } };
	tap_eq_long(tk_ostream_resolve_ptr(t, &a, 0, NULL, &s), 0, "PTR opened");
	tap_eq_bytes(last_out()->body, last_out()->len,
		     "4.4.8.8.in-addr.arpa", 21, "PTR name for 8.8.4.4");
	deliver(TK_RELAY_RESOLVED, tk_ostream_id(s),
		"F1 18 4572726f72207265736f6c76696e6720686f73746e616d65 0000003c");
	tap_ok(o.n_resolved == 2 && o.last_res.error == 0xF1,
	       "error answer reported as F1");

	tk_relay_addr a6 = { .family = 6 };
	a6.a[0] = 0x20;
	a6.a[1] = 0x01;
	a6.a[15] = 0x01;
	tap_eq_long(tk_ostream_resolve_ptr(t, &a6, 0, NULL, &s), 0,
		    "IPv6 PTR opened");
	tap_ok(last_out()->len == 73 &&
		       memcmp(last_out()->body, "1.0.0.0.", 8) == 0 &&
		       memcmp(last_out()->body + 56, "1.0.0.2.ip6.arpa", 17) == 0,
	       "ip6.arpa nibble name");
	before = o.n_out;
	deliver(TK_RELAY_RESOLVED, tk_ostream_id(s), "04 03 010203 00000001");
	tap_ok(o.n_closed == 1 && o.last_remote == 0 &&
		       o.last_end.reason == TK_RELAY_END_TORPROTOCOL &&
		       o.n_out == before,
	       "malformed RESOLVED: closed TORPROTOCOL, no END sent");

	/* Closing a pending lookup: no END, a late RESOLVED is absorbed. */
	tk_ostream_resolve(t, "late.test", 0, NULL, &s);
	id = tk_ostream_id(s);
	before = o.n_out;
	uint64_t d0 = tk_ostream_table_dropped(t);
	tk_ostream_close(t, s);
	tap_ok(o.n_out == before && tk_ostream_table_half_closed(t) == 1,
	       "lookup closed quietly, id reserved");
	deliver(TK_RELAY_RESOLVED, id, "04 04 0a010203 0000003c");
	tap_ok(tk_ostream_table_half_closed(t) == 0 &&
		       tk_ostream_table_dropped(t) == d0 && o.n_resolved == 2,
	       "late RESOLVED absorbed and frees the id");

	tap_eq_long(tk_ostream_resolve(t, "", 0, NULL, &s), TK_OSTREAM_EINVAL,
		    "empty name refused");
	a.family = 9;
	tap_eq_long(tk_ostream_resolve_ptr(t, &a, 0, NULL, &s),
		    TK_OSTREAM_EINVAL, "bad address family refused");
}

static void test_dir_and_optimistic(void)
{
	tk_ostream_table *t = fresh();
	tk_ostream *d, *c;
	tap_eq_long(tk_ostream_begin_dir(t, 0, NULL, &d), 0, "BEGIN_DIR");
	tap_ok(last_out()->cmd == TK_RELAY_BEGIN_DIR && last_out()->len == 0,
	       "empty BEGIN_DIR body");
	tap_eq_long(tk_ostream_write(t, d, "GET /", 5), TK_OSTREAM_ESTATE,
		    "no optimistic data on BEGIN_DIR");
	deliver(TK_RELAY_CONNECTED, tk_ostream_id(d), "");
	tap_ok(tk_ostream_state(d) == TK_OSTREAM_OPEN &&
		       o.last_conn.addr.family == 0,
	       "empty CONNECTED opens the dir stream");
	tap_eq_long(tk_ostream_write(t, d, "GET /", 5), 5, "then writes");

	tk_ostream_begin(t, "opt.example", 80, 0, 0, NULL, &c);
	tap_eq_long(tk_ostream_write(t, c, "hi", 2), 2,
		    "optimistic DATA right after BEGIN");
	tk_ostream_set_optimistic(c, 0);
	tap_eq_long(tk_ostream_write(t, c, "hi", 2), TK_OSTREAM_ESTATE,
		    "refused with optimistic data off");
	tk_ostream_set_optimistic(c, 1);
	o.circ_open = 0;
	tap_eq_long(tk_ostream_write(t, c, "hi", 2), 0, "blocked by circuit");
	o.circ_open = 1;
	deliver(TK_RELAY_CONNECTED, tk_ostream_id(c), "7f000001 0000003c");
	tap_eq_long(o.n_writable, 1, "writable after CONNECTED");
}

static void test_reentrancy_and_fail_all(void)
{
	tk_ostream_table *t = fresh();
	tk_ostream *s, *s2;
	tk_ostream_begin(t, "r.example", 80, 0, 0, NULL, &s);
	uint16_t id = tk_ostream_id(s);
	deliver(TK_RELAY_CONNECTED, id, "");
	for (int i = 0; i < 49; i++)
		deliver(TK_RELAY_DATA, id, "00");
	o.close_in_data = 1;
	size_t before = o.n_out;
	deliver(TK_RELAY_DATA, id, "00"); /* 50th: SENDME due, but closed */
	tap_ok(o.n_out == before + 1 && last_out()->cmd == TK_RELAY_END,
	       "closed inside the data callback: END, no SENDME after it");
	tap_ok(tk_ostream_table_live(t) == 0 &&
		       tk_ostream_table_half_closed(t) == 1,
	       "stream half-closed");

	tk_ostream_begin(t, "a.example", 80, 0, 0, NULL, &s);
	tk_ostream_begin(t, "b.example", 80, 0, 0, NULL, &s2);
	tk_ostream_resolve(t, "c.example", 0, NULL, &s2);
	o.open_in_closed = 1;
	int rel0 = o.n_released;
	tk_ostream_table_fail_all(t, TK_RELAY_END_DESTROY);
	tap_ok(o.n_closed == 3 && o.last_remote == 0 &&
		       o.last_end.reason == TK_RELAY_END_DESTROY,
	       "circuit gone: 3 streams closed with DESTROY");
	tap_eq_long(o.n_released - rel0, 4, "3 live + 1 half-closed released");
	tap_eq_long((long)tk_ostream_table_half_closed(t), 0, "no half-closed");
	tap_eq_long((long)tk_ostream_table_live(t), 1,
		    "the stream opened from a callback survives");

	/* Freed with a live stream and no callbacks: the sanitizer build
	 * reports any leak. */
	int closed_before = o.n_closed;
	tk_ostream_table_free(t);
	o.t = NULL;
	tap_eq_long(o.n_closed, closed_before, "free runs no callback");
}

static size_t count_out(uint8_t cmd, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < o.n_out; i++)
		if (out_at(i)->cmd == cmd)
			n++;
	return n;
}

/* Congestion control (prop 324 §4): no windows, XON/XOFF both ways. */
static void test_xon_xoff(void)
{
	tk_ostream_table *t = fresh();
	struct tk_cc_params p;
	tk_ostream *s;
	static uint8_t big[2000 * 498];
	uint32_t kbps;

	tk_cc_params_load(&p, NULL, NULL);
	tk_ostream_table_set_cc(t, &p);
	tap_ok(tk_ostream_table_uses_cc(t), "table in congestion-control mode");
	tk_ostream_begin(t, "bulk.example", 80, 0, 0, NULL, &s);
	uint16_t id = tk_ostream_id(s);
	deliver(TK_RELAY_CONNECTED, id, "7f000001 0000003c");

	/* Sending: no 500-cell stream window, only the circuit's. */
	tap_eq_long(tk_ostream_write(t, s, big, sizeof big), (long)sizeof big,
		    "2000 cells written at once: no stream window");
	/* Receiving: no stream SENDMEs, however much arrives. */
	size_t mark = o.n_out;
	for (int i = 0; i < 1200; i++)
		deliver(TK_RELAY_DATA, id, "41");
	tap_ok(o.data_bytes == 1200 && count_out(TK_RELAY_SENDME, mark) == 0,
	       "1200 DATA cells taken, no stream SENDME sent");
	tap_eq_long(deliver(TK_RELAY_SENDME, id, NULL), TK_OSTREAM_EPROTO,
		    "a stream SENDME from the exit: destroy the circuit");

	/* The exit's XOFF stops us; its XON lets us go on. */
	tap_eq_long(deliver(TK_RELAY_XOFF, id, "00"), 0, "XOFF");
	tap_eq_long(tk_ostream_write(t, s, big, 498), 0, "nothing written");
	tap_eq_long(tk_ostream_table_suspect(t), 0,
		    "not suspect: we had sent 2000 cells (> cc_xoff_exit 500)");
	tap_eq_long(deliver(TK_RELAY_XOFF, id, "00"), 0,
		    "second XOFF while stopped");
	tap_eq_long((long)tk_ostream_table_dropped(t), 1, "is ignored");
	int w = o.n_writable;
	tap_eq_long(deliver(TK_RELAY_XON, id, "00 00000fa0"), 0,
		    "XON advising 4000 KB/s");
	tap_eq_long(o.n_writable, w + 1, "writable again");
	tap_eq_long((long)tk_ostream_send_rate(s), 4000000,
		    "advised rate 4 MB/s");
	tap_eq_long(tk_ostream_write(t, s, big, 498), 498, "writing again");
	deliver(TK_RELAY_XON, id, "00 00000000");
	tap_eq_long((long)tk_ostream_send_rate(s), 0, "XON 0: no limit");
	size_t drop = tk_ostream_table_dropped(t);
	deliver(TK_RELAY_XON, id, "01 00000000");
	deliver(TK_RELAY_XON, id, "00 0000");
	tap_eq_long((long)(tk_ostream_table_dropped(t) - drop), 2,
		    "XON of version 1, or truncated: ignored");

	/* Receiving side: XOFF past cc_xoff_client (500 cells of bytes)
	 * held for the reader, once; XON when it drained to nothing. */
	uint64_t limit = 500 * 498;
	mark = o.n_out;
	tap_eq_long(tk_ostream_data_queued(t, s, limit, 1000), 0,
		    "at the limit");
	tap_eq_long((long)count_out(TK_RELAY_XOFF, mark), 0, "no XOFF yet");
	tk_ostream_data_queued(t, s, limit + 1, 2000);
	tk_ostream_data_queued(t, s, limit + 500, 3000);
	tap_ok(count_out(TK_RELAY_XOFF, mark) == 1 && last_out()->len == 1 &&
		       last_out()->body[0] == 0,
	       "one XOFF (version 0) past the limit");
	/* the reader drains 600 cells' worth in 100 ms, then the rest */
	tk_ostream_data_drained(t, s, 300 * 498, 300 * 498 + 1000, 10000);
	tap_eq_long((long)count_out(TK_RELAY_XON, mark), 0,
		    "no XON while data remains");
	tk_ostream_data_drained(t, s, 300 * 498 + 1000, 0, 110000);
	tap_eq_long((long)count_out(TK_RELAY_XON, mark), 1, "XON once empty");
	tap_ok(last_out()->cmd == TK_RELAY_XON && last_out()->len == 5 &&
		       tk_relay_xon_decode(last_out()->body, 5, &kbps) == 0,
	       "well-formed XON");
	tap_ok(tk_ostream_xon(s)->xoffs_sent == 1 &&
		       tk_ostream_xon(s)->xons_sent == 1 &&
		       !tk_ostream_xon(s)->xoff_sent,
	       "counted; XOFF may be sent again");

	/* Half-closed with congestion control: any amount of DATA, and
	 * XON/XOFF, are absorbed. */
	tk_ostream_close(t, s);
	drop = tk_ostream_table_dropped(t);
	for (int i = 0; i < 3000; i++)
		deliver(TK_RELAY_DATA, id, "41");
	deliver(TK_RELAY_XOFF, id, "00");
	deliver(TK_RELAY_XON, id, "00 00000001");
	tap_ok(tk_ostream_table_dropped(t) == drop &&
		       tk_ostream_table_id_state(t, id) == TK_OSTREAM_HALF_CLOSED,
	       "half-closed: 3000 DATA and XON/XOFF absorbed");

	/* Suspect XOFF: before we sent cc_xoff_exit of data (dropmark). */
	tk_ostream_begin(t, "bulk.example", 80, 0, 0, NULL, &s);
	id = tk_ostream_id(s);
	deliver(TK_RELAY_CONNECTED, id, "7f000001 0000003c");
	tk_ostream_write(t, s, big, 10 * 498);
	deliver(TK_RELAY_XOFF, id, "00");
	tap_eq_long((long)tk_ostream_table_suspect(t), 1,
		    "XOFF after 10 cells is obeyed but suspect");
	tap_eq_long(tk_ostream_write(t, s, big, 498), 0, "and obeyed");

	/* Without congestion control, XON/XOFF mean nothing. */
	t = fresh();
	tk_ostream_begin(t, "bulk.example", 80, 0, 0, NULL, &s);
	id = tk_ostream_id(s);
	deliver(TK_RELAY_CONNECTED, id, "7f000001 0000003c");
	deliver(TK_RELAY_XOFF, id, "00");
	tap_ok(tk_ostream_table_dropped(t) == 1 &&
		       tk_ostream_write(t, s, big, 498) == 498,
	       "fixed windows: XOFF dropped, writes go on");
}

int main(void)
{
	test_ids();
	test_connect_data();
	test_end_and_half_closed();
	test_lookups();
	test_dir_and_optimistic();
	test_reentrancy_and_fail_all();
	test_xon_xoff();
	tap_eq_str(tk_ostream_state_name(TK_OSTREAM_OPEN), "OPEN", "state names");
	tap_eq_str(tk_ostream_state_name(TK_OSTREAM_HALF_CLOSED), "HALF_CLOSED",
		   "HALF_CLOSED name");
	tap_ok(strlen(tk_ostream_strerror(TK_OSTREAM_EPROTO)) > 10,
	       "error strings");
	return tap_done();
}
