/* cli_session_test — the contract of src/lib/socks_client.h, in process:
 * a tiny libuv "proxy" in the same loop answers scripted bytes.
 *
 *   - the callback runs exactly once, never inside tk_socks_session_start()
 *   - a refused first proxy address falls through to the next one
 *   - stream bytes that come with the CONNECT reply are handed over
 *   - the answer timeout gives outcome 4; closing early suppresses the cb
 *   - -v's trace sees every byte both ways
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "../unit/tap.h"
#include "lib/socks_client.h"

/* ---- the scripted proxy: reads, then answers `reply` once it has seen
 * `want` bytes in total (the greeting and the request). */
struct peer {
	uv_tcp_t conn;
	size_t got, want;
	const uint8_t *reply;
	size_t reply_len;
	uv_write_t wr;
	uint8_t buf[2048];
};

static uv_loop_t loop;
static uv_tcp_t server;
static struct peer peer;
static int peer_silent;
static int cb_count, close_count, trace_sent, trace_recv;

static void peer_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
	(void)h;
	(void)n;
	b->base = (char *)peer.buf;
	b->len = sizeof(peer.buf);
}

static int peer_open;

static void peer_closed(uv_handle_t *h)
{
	(void)h;
	peer_open = 0;
}

/* Closes the proxy side and waits for it, so `peer` can be reused. */
static void close_peer(void)
{
	if (peer_open && !uv_is_closing((uv_handle_t *)&peer.conn))
		uv_close((uv_handle_t *)&peer.conn, peer_closed);
	while (peer_open && uv_run(&loop, UV_RUN_ONCE))
		;
}

static void peer_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	if (n < 0) {
		uv_close((uv_handle_t *)st, peer_closed);
		return;
	}
	peer.got += (size_t)n;
	if (peer_silent)
		return;
	/* The greeting (3 bytes) first gets "05 00". */
	if (peer.got == 3) {
		static uint8_t m[2] = {5, 0};
		uv_buf_t wb = uv_buf_init((char *)m, 2);
		uv_try_write(st, &wb, 1);
		return;
	}
	if (peer.got >= peer.want) {
		uv_buf_t wb = uv_buf_init((char *)peer.reply,
					  (unsigned)peer.reply_len);
		uv_try_write(st, &wb, 1);
	}
}

static void on_peer(uv_stream_t *srv, int status)
{
	if (status < 0)
		return;
	uv_tcp_init(&loop, &peer.conn);
	peer_open = 1;
	uv_accept(srv, (uv_stream_t *)&peer.conn);
	uv_read_start((uv_stream_t *)&peer.conn, peer_alloc, peer_read);
}

static int listen_port(void)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);

	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, &server);
	uv_tcp_bind(&server, (struct sockaddr *)&sin, 0);
	uv_listen((uv_stream_t *)&server, 8, on_peer);
	uv_tcp_getsockname(&server, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

/* A port with nothing behind it: bind, read the number, close. */
static int dead_port(void)
{
	uv_tcp_t t;
	struct sockaddr_in sin;
	int len = sizeof(sin);

	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, &t);
	uv_tcp_bind(&t, (struct sockaddr *)&sin, 0);
	uv_tcp_getsockname(&t, (struct sockaddr *)&sin, &len);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ntohs(sin.sin_port);
}

static void on_done(struct tk_socks_session *s)
{
	(void)s;
	cb_count++;
}

static void on_closed(struct tk_socks_session *s)
{
	(void)s;
	close_count++;
}

static void trace(void *arg, int dir, const uint8_t *b, size_t n,
		  const char *note)
{
	(void)arg;
	(void)b;
	(void)note;
	if (dir == TK_SOCKS_TRACE_SENT)
		trace_sent += (int)n;
	else if (dir == TK_SOCKS_TRACE_RECEIVED)
		trace_recv += (int)n;
}

static void set_addr(struct tk_socks_proxy *p, int i, int port)
{
	struct sockaddr_in sin;

	uv_ip4_addr("127.0.0.1", port, &sin);
	memcpy(&p->addrs[i], &sin, sizeof(sin));
}

static void reset_peer(const uint8_t *reply, size_t len, size_t want)
{
	memset(&peer, 0, sizeof(peer));
	peer.reply = reply;
	peer.reply_len = len;
	peer.want = want;
	cb_count = close_count = trace_sent = trace_recv = 0;
}

int main(void)
{
	static const uint8_t ok_with_data[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0,
					       'a', 'b', 'c'};
	struct tk_endpoint ep;
	struct tk_socks_proxy proxy;
	struct tk_socks_session_config cfg;
	static struct tk_socks_session s;
	char err[128];
	int port, dead;

	uv_loop_init(&loop);
	port = listen_port();
	dead = dead_port();

	/* 1: first address refused, second answers; early data kept. */
	tk_endpoint_parse(&ep, "127.0.0.1:1", NULL, 0, 0, err, sizeof(err));
	tk_socks_proxy_init(&proxy, &ep);
	set_addr(&proxy, 0, dead);
	set_addr(&proxy, 1, port);
	proxy.naddrs = 2;
	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = &proxy;
	cfg.req.version = 5;
	cfg.req.command = TK_SOCKS_CMD_CONNECT;
	cfg.req.host = "www.example.test";
	cfg.req.port = 80;
	cfg.connect_timeout_ms = 10000;
	cfg.answer_timeout_ms = 10000;
	cfg.trace = trace;
	/* greeting 3 + request 5+16+2 = 26 */
	reset_peer(ok_with_data, sizeof(ok_with_data), 26);
	tap_eq_long(tk_socks_session_start(&loop, &s, &cfg, on_done), 0,
		    "start returns 0");
	tap_eq_long(cb_count, 0, "no callback from inside start");
	uv_run(&loop, UV_RUN_ONCE);
	while (cb_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	tap_eq_long(cb_count, 1, "callback ran once");
	tap_eq_long(s.outcome, TK_SOCKS_OUT_OK, "outcome OK after a refused "
		    "first address (%s)", s.msg);
	tap_ok(s.stream != NULL, "the stream is handed over");
	tap_eq_bytes(s.early, s.early_len, "abc", 3,
		     "bytes after the reply are handed over");
	tap_eq_long(trace_sent, 26, "trace saw every byte sent");
	tap_eq_long(trace_recv, 2 + (int)sizeof(ok_with_data),
		    "trace saw every byte received");
	tk_socks_session_close(&s, on_closed);
	while (close_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	tap_eq_long(close_count, 1, "close callback ran once");
	close_peer();

	/* 2: all addresses refused: outcome 3, asynchronously. */
	set_addr(&proxy, 0, dead);
	proxy.naddrs = 1;
	cfg.trace = NULL;
	reset_peer(ok_with_data, sizeof(ok_with_data), 26);
	tk_socks_session_start(&loop, &s, &cfg, on_done);
	tap_eq_long(cb_count, 0, "refused: no callback from inside start");
	while (cb_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	tap_eq_long(s.outcome, TK_SOCKS_OUT_UNREACHABLE, "refused: outcome 3");
	tap_eq_long(s.why, TK_SOCKS_WHY_REFUSED, "refused: why REFUSED");
	tk_socks_session_close(&s, on_closed);
	while (close_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;

	/* 3: a proxy that never answers: outcome 4 after the timeout. */
	set_addr(&proxy, 0, port);
	cfg.answer_timeout_ms = 50;
	reset_peer(ok_with_data, sizeof(ok_with_data), 26);
	peer_silent = 1;
	tk_socks_session_start(&loop, &s, &cfg, on_done);
	while (cb_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	tap_eq_long(s.outcome, TK_SOCKS_OUT_TIMEOUT, "silent proxy: outcome 4");
	tk_socks_session_close(&s, on_closed);
	while (close_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	close_peer();

	/* 4: abandoned while connecting: no callback, one close callback. */
	peer_silent = 0;
	reset_peer(ok_with_data, sizeof(ok_with_data), 26);
	tk_socks_session_start(&loop, &s, &cfg, on_done);
	tk_socks_session_close(&s, on_closed);
	while (close_count == 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	tap_eq_long(close_count, 1, "abandoned: close callback ran");
	tap_eq_long(cb_count, 0, "abandoned: no outcome callback");

	/* Drain: close the peer and the server, then the loop must close. */
	uv_run(&loop, UV_RUN_NOWAIT);
	close_peer();
	uv_close((uv_handle_t *)&server, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	tap_eq_long(uv_loop_close(&loop), 0, "every handle was closed");
	return tap_done();
}
