/* The TLS layer against peers that do not speak TLS: a clear error, no
 * hang, nothing leaked. The good path is covered by test_link_channel
 * (scripted TLS relay) and the interop suite (real tor). */
#include <signal.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/link/channel.h"
#include "onion/base/crypto.h"
#include "onion/link/tls.h"

enum peer { PEER_GARBAGE, PEER_CLOSE };

struct srv {
	uv_tcp_t listener, conn;
	enum peer mode;
	int have_conn;
};

static void on_closed_nop(uv_handle_t *h)
{
	(void)h;
}

static void on_written(uv_write_t *w, int status)
{
	struct srv *s = w->data;
	(void)status;
	uv_close((uv_handle_t *)&s->conn, on_closed_nop);
}

static void on_conn(uv_stream_t *l, int status)
{
	static uv_write_t w;
	static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
				   "this is not a TLS server at all, sorry\n";
	struct srv *s = l->data;
	uv_buf_t b = uv_buf_init((char *)junk, sizeof junk - 1);
	if (status < 0 || s->have_conn)
		return;
	uv_tcp_init(l->loop, &s->conn);
	s->have_conn = 1;
	uv_accept(l, (uv_stream_t *)&s->conn);
	if (s->mode == PEER_CLOSE) {
		uv_close((uv_handle_t *)&s->conn, on_closed_nop);
		return;
	}
	w.data = s;
	uv_write(&w, (uv_stream_t *)&s->conn, &b, 1, on_written);
}

struct res {
	int done, status;
	char msg[256];
};

static void on_open(tk_channel *ch, int status, void *arg)
{
	struct res *r = arg;
	r->done = 1;
	r->status = status;
	snprintf(r->msg, sizeof r->msg, "%s", tk_channel_errmsg(ch));
	tk_channel_close(ch, NULL);
}

static void run(enum peer mode, int use_server, struct res *r)
{
	uv_loop_t loop;
	struct srv s = {.mode = mode};
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof ss, port = 0, rc;
	tk_channel_target t;
	tk_channel *ch;

	memset(r, 0, sizeof *r);
	uv_loop_init(&loop);
	uv_tcp_init(&loop, &s.listener);
	s.listener.data = &s;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_bind(&s.listener, (struct sockaddr *)&sa, 0);
	uv_tcp_getsockname(&s.listener, (struct sockaddr *)&ss, &len);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (use_server)
		uv_listen((uv_stream_t *)&s.listener, 4, on_conn);
	else
		uv_close((uv_handle_t *)&s.listener, on_closed_nop); /* refused */
	memset(&t, 0, sizeof t);
	uv_ip4_addr("127.0.0.1", port, &sa);
	memcpy(&t.addr, &sa, sizeof sa);
	rc = tk_channel_open(&loop, &t, 10000, on_open, NULL, r, &ch);
	if (rc < 0) {
		r->done = 1;
		r->status = rc;
	}
	while (!r->done && uv_run(&loop, UV_RUN_ONCE))
		;
	if (use_server) {
		uv_close((uv_handle_t *)&s.listener, on_closed_nop);
		if (s.have_conn && !uv_is_closing((uv_handle_t *)&s.conn))
			uv_close((uv_handle_t *)&s.conn, on_closed_nop);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	tap_eq_long(uv_loop_close(&loop), 0, "all handles closed");
}

int main(void)
{
	struct res r;
	/* A peer that hung up must not kill us when we write (libuv uses
	 * write(2)): the error comes back as EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	tk_crypto_init();

	run(PEER_GARBAGE, 1, &r);
	tap_eq_long(r.status, TK_TLS_EHANDSHAKE, "plain-text peer: %s",
		    tk_channel_strerror(r.status));
	tap_ok(strstr(r.msg, "TLS handshake") != NULL, "message: %s", r.msg);
	/* OpenSSL's string tables are left unloaded (tls_openssl.c): the
	 * reason is still named, from our own short table. */
	if (strncmp(tk_tls_library(), "OpenSSL", 7) == 0)
		tap_ok(strstr(r.msg, "wrong version number") != NULL ||
			       strstr(r.msg, "packet length too long") != NULL,
		       "OpenSSL's reason named: %s", r.msg);

	run(PEER_CLOSE, 1, &r);
	tap_eq_long(r.status, UV_EOF, "peer hangs up at once: %s",
		    tk_channel_strerror(r.status));
	tap_ok(strstr(r.msg, "during the TLS handshake") != NULL, "message: %s",
	       r.msg);

	run(PEER_CLOSE, 0, &r);
	tap_eq_long(r.status, UV_ECONNREFUSED, "nobody listening: %s",
		    tk_channel_strerror(r.status));
	return tap_done();
}
