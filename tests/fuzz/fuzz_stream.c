/* libFuzzer harness for the stream table: the input is a script of owner
 * actions and exit messages (any command, any stream id, any body), so the
 * state machine meets hostile exits and odd call orders. An input that
 * starts with 0xcc runs the table in congestion-control mode (XON/XOFF,
 * no stream windows). Invariants are checked with abort(); ASan catches
 * use of freed stream handles. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/circ/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define MAXH 16
static struct {
	tk_ostream *h[MAXH];
	int circ_open;
	unsigned rnd;
	tk_ostream_table *t;
	int close_next_in_cb;
	int cc;
} F;

static void forget(tk_ostream *s)
{
	for (int i = 0; i < MAXH; i++)
		if (F.h[i] == s)
			F.h[i] = NULL;
}

static void remember(tk_ostream *s)
{
	for (int i = 0; i < MAXH; i++)
		if (!F.h[i]) {
			F.h[i] = s;
			return;
		}
}

static int f_send(void *ud, uint8_t cmd, uint16_t id, const uint8_t *b,
		  size_t len)
{
	(void)ud;
	(void)b;
	CHECK(id != 0 && len <= TK_RELAY_DATA_MAX);
	CHECK(cmd == TK_RELAY_BEGIN || cmd == TK_RELAY_BEGIN_DIR ||
	      cmd == TK_RELAY_RESOLVE || cmd == TK_RELAY_DATA ||
	      cmd == TK_RELAY_END || cmd == TK_RELAY_SENDME ||
	      (F.cc && (cmd == TK_RELAY_XON || cmd == TK_RELAY_XOFF)));
	CHECK(!F.cc || cmd != TK_RELAY_SENDME);
	return 0;
}

static int f_can(void *ud)
{
	(void)ud;
	return F.circ_open;
}

static void f_random(void *ud, void *buf, size_t n)
{
	(void)ud;
	/* Ids 0..15 only, so the script hits them and they collide. */
	uint8_t *b = buf;
	memset(b, 0, n);
	F.rnd = F.rnd * 1103515245u + 12345u;
	if (n)
		b[n - 1] = (uint8_t)(F.rnd >> 16) & 0x0f;
}

static void check_windows(const tk_ostream *s)
{
	const tk_stream_flow *f = tk_ostream_windows(s);
	CHECK(f->package_window >= 0 && f->package_window <= 500);
	CHECK(f->deliver_window >= 0 && f->deliver_window <= 500);
}

static void f_data(void *ud, tk_ostream *s, const uint8_t *p, size_t len)
{
	(void)ud;
	(void)p;
	CHECK(len >= 1 && len <= TK_RELAY_DATA_MAX);
	CHECK(tk_ostream_state(s) == TK_OSTREAM_OPEN);
	check_windows(s);
	if (F.close_next_in_cb) {
		F.close_next_in_cb = 0;
		forget(s);
		tk_ostream_close(F.t, s);
	}
}

static void f_connected(void *ud, tk_ostream *s, const tk_relay_connected *c)
{
	(void)ud;
	(void)c;
	CHECK(tk_ostream_state(s) == TK_OSTREAM_OPEN);
}

static void f_resolved(void *ud, tk_ostream *s, const tk_relay_resolved *r)
{
	(void)ud;
	CHECK(r->n <= TK_RELAY_RESOLVED_MAX);
	forget(s);
}

static void f_closed(void *ud, tk_ostream *s, int remote,
		     const tk_relay_end *e)
{
	(void)ud;
	(void)remote;
	(void)e;
	CHECK(tk_ostream_state(s) == TK_OSTREAM_CLOSED);
	forget(s);
}

static const tk_ostream_ops ops = {
	.send = f_send,
	.circ_can_package = f_can,
	.random = f_random,
	.connected = f_connected,
	.data = f_data,
	.resolved = f_resolved,
	.closed = f_closed,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zeros[TK_RELAY_DATA_MAX * 3];
	memset(&F, 0, sizeof F);
	F.circ_open = 1;
	F.t = tk_ostream_table_new(&ops, NULL);
	if (!F.t)
		return 0;
	size_t i = 0;
	if (size && data[0] == 0xcc) {
		struct tk_cc_params p;
		tk_cc_params_load(&p, NULL, NULL);
		tk_ostream_table_set_cc(F.t, &p);
		F.cc = 1;
		i = 1;
	}
	int opens = 0;
	while (i < size) {
		uint8_t op = data[i++];
		/* Only we open streams, so their number is ours to bound;
		 * thousands would only slow the search down. */
		if (op % 10 <= 2 && ++opens > 64)
			continue;
		uint8_t arg = i < size ? data[i++] : 0;
		tk_ostream *s = F.h[arg % MAXH];
		tk_ostream *n = NULL;
		switch (op % 10) {
		case 0:
			if (tk_ostream_begin(F.t, "a.example", 80, 0, 0, NULL,
					    &n) == 0 && n)
				remember(n);
			break;
		case 1:
			if (tk_ostream_resolve(F.t, "b.example", 0, NULL, &n) ==
				    0 && n)
				remember(n);
			break;
		case 2:
			if (tk_ostream_begin_dir(F.t, arg & 7, NULL, &n) == 0 &&
			    n)
				remember(n);
			break;
		case 3:
		case 4: {
			/* An exit message: CMD ID[1] LEN[1] BODY */
			/* 14 and 15 (EXTEND2/EXTENDED2 mean nothing to a
			 * stream) stand for XON and XOFF. */
			uint8_t cmd = arg % 16;
			if (cmd == 14 || cmd == 15)
				cmd = cmd == 14 ? TK_RELAY_XON : TK_RELAY_XOFF;
			uint16_t id = i < size ? data[i++] & 0x0f : 0;
			size_t len = i < size ? data[i++] : 0;
			if (len > size - i)
				len = size - i;
			int rc = tk_ostream_table_deliver(F.t, cmd, id,
							 data + i, len);
			CHECK(rc == 0 || rc == TK_OSTREAM_EPROTO);
			i += len;
			break;
		}
		case 5:
			if (s) {
				long w = tk_ostream_write(F.t, s, zeros,
							 (size_t)arg * 6);
				CHECK(w < 0 || (size_t)w <= (size_t)arg * 6);
			}
			break;
		case 6:
			if (s) {
				forget(s);
				tk_ostream_close(F.t, s);
			}
			break;
		case 7:
			if (!s)
				break;
			/* the owner's reader: backed up, data held, drained */
			if (arg & 1)
				tk_ostream_set_backed_up(F.t, s, arg & 2);
			else if (arg & 2)
				tk_ostream_data_queued(F.t, s,
						       (uint64_t)arg << 12, i);
			else
				tk_ostream_data_drained(F.t, s, arg,
							(uint64_t)arg << 10,
							(uint64_t)i * 1000);
			break;
		case 8:
			F.circ_open = arg & 1;
			tk_ostream_table_circ_writable(F.t);
			break;
		case 9:
			if (arg == 0xff)
				tk_ostream_table_fail_all(F.t, TK_RELAY_END_DESTROY);
			else
				F.close_next_in_cb = 1;
			break;
		}
		for (int k = 0; k < MAXH; k++)
			if (F.h[k])
				check_windows(F.h[k]);
		CHECK(tk_ostream_table_live(F.t) <= TK_OSTREAM_MAX_LIVE);
		CHECK(tk_ostream_table_half_closed(F.t) <= TK_OSTREAM_MAX_HALF);
	}
	tk_ostream_table_free(F.t);
	return 0;
}
