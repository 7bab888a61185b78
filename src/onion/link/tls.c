/* tls.h: libuv TCP underneath, a tls_engine.h engine on memory buffers on
 * top. This file knows no TLS library. */
#include "onion/link/tls.h"

#include <stdlib.h>
#include <string.h>

#include "onion/link/tls_engine.h"

enum tls_state {
	TLS_CONNECTING, /* TCP connect in flight */
	TLS_HANDSHAKE,	/* TLS handshake in flight */
	TLS_OPEN,	/* application data both ways */
	TLS_DEAD,	/* an error was reported; waiting for tk_tls_close */
	TLS_CLOSING,	/* tk_tls_close called; handles closing */
};

struct tk_tls {
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	tk_tls_engine *eng;
	enum tls_state state;
	tk_tls_connect_cb connect_cb;
	tk_tls_read_cb read_cb;
	tk_tls_close_cb close_cb;
	void *arg;
};

struct tls_write {
	uv_write_t req;
	uint8_t *buf;
};

static void drain(tk_tls *t);

static void
on_write(uv_write_t *req, int status)
{
	struct tls_write *w = (struct tls_write *)req;
	tk_tls *t = req->data;
	free(w->buf);
	free(w);
	if (status < 0 && (t->state == TLS_OPEN || t->state == TLS_HANDSHAKE)) {
		enum tls_state was = t->state;
		t->state = TLS_DEAD;
		if (was == TLS_HANDSHAKE)
			t->connect_cb(t, status, t->arg);
		else
			t->read_cb(t, status, NULL, 0, t->arg);
	}
}

/* Hands the engine's pending ciphertext to the socket. */
static int
flush(tk_tls *t)
{
	size_t n;
	uint8_t *p = tk_tls_engine_take_output(t->eng, &n);
	struct tls_write *w;
	uv_buf_t b;
	int rc;
	if (!p)
		return n == 0 ? 0 : TK_TLS_ENOMEM;
	w = malloc(sizeof *w);
	if (!w) {
		free(p);
		return TK_TLS_ENOMEM;
	}
	w->buf = p;
	w->req.data = t;
	b = uv_buf_init((char *)p, (unsigned)n);
	rc = uv_write(&w->req, (uv_stream_t *)&t->tcp, &b, 1, on_write);
	if (rc < 0) {
		free(p);
		free(w);
	}
	return rc;
}

static void
fail(tk_tls *t, int status)
{
	enum tls_state was = t->state;
	t->state = TLS_DEAD;
	uv_read_stop((uv_stream_t *)&t->tcp);
	if (was == TLS_CONNECTING || was == TLS_HANDSHAKE)
		t->connect_cb(t, status, t->arg);
	else if (was == TLS_OPEN)
		t->read_cb(t, status, NULL, 0, t->arg);
}

static void
step_handshake(tk_tls *t)
{
	int rc = tk_tls_engine_handshake(t->eng);
	int frc = flush(t);
	if (frc < 0) {
		fail(t, frc);
		return;
	}
	if (rc == TK_TLS_AGAIN)
		return;
	if (rc == TK_TLS_CLOSED) {
		fail(t, UV_EOF);
		return;
	}
	if (rc < 0) {
		fail(t, rc);
		return;
	}
	t->state = TLS_OPEN;
	t->connect_cb(t, 0, t->arg);
	if (t->state == TLS_OPEN)
		drain(t); /* application data may have come with Finished */
}

/* Delivers every plaintext byte the engine can produce now. Flow
 * control is Tor's business (SENDME windows), not the socket's. */
static void
drain(tk_tls *t)
{
	uint8_t buf[16384];
	while (t->state == TLS_OPEN) {
		ssize_t n = tk_tls_engine_read(t->eng, buf, sizeof buf);
		int frc = flush(t); /* reads may answer renegotiation etc. */
		if (frc < 0) {
			fail(t, frc);
			break;
		}
		if (n > 0) {
			t->read_cb(t, 0, buf, (size_t)n, t->arg);
			continue;
		}
		if (n == 0)
			break;
		fail(t, n == TK_TLS_CLOSED ? UV_EOF : (int)n);
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char slab[65536]; /* the loop is single-threaded; fed at once */
	(void)h;
	(void)hint;
	*b = uv_buf_init(slab, sizeof slab);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	tk_tls *t = s->data;
	if (t->state != TLS_HANDSHAKE && t->state != TLS_OPEN)
		return;
	if (nread == UV_EOF) {
		uv_read_stop(s);
		tk_tls_engine_feed_eof(t->eng);
	} else if (nread < 0) {
		fail(t, (int)nread);
		return;
	} else if (nread > 0) {
		int rc = tk_tls_engine_feed(t->eng, (const uint8_t *)b->base,
					    (size_t)nread);
		if (rc < 0) {
			fail(t, rc);
			return;
		}
	}
	if (t->state == TLS_HANDSHAKE)
		step_handshake(t);
	else
		drain(t);
}

static void
on_connect(uv_connect_t *req, int status)
{
	tk_tls *t = req->data;
	int rc;
	if (t->state != TLS_CONNECTING)
		return;
	if (status < 0) {
		fail(t, status);
		return;
	}
	t->state = TLS_HANDSHAKE;
	rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
	if (rc < 0) {
		fail(t, rc);
		return;
	}
	step_handshake(t);
}

int
tk_tls_connect(uv_loop_t *loop, const struct sockaddr *addr, const char *sni,
	       tk_tls_connect_cb connect_cb, tk_tls_read_cb read_cb, void *arg,
	       tk_tls **out)
{
	tk_tls *t;
	int rc;
	*out = NULL;
	if (!connect_cb || !read_cb)
		return UV_EINVAL;
	t = calloc(1, sizeof *t);
	if (!t)
		return TK_TLS_ENOMEM;
	rc = tk_tls_engine_new(&t->eng, sni);
	if (rc < 0) {
		free(t);
		return rc;
	}
	rc = uv_tcp_init(loop, &t->tcp);
	if (rc < 0) {
		tk_tls_engine_free(t->eng);
		free(t);
		return rc;
	}
	t->tcp.data = t;
	t->connect_cb = connect_cb;
	t->read_cb = read_cb;
	t->arg = arg;
	t->state = TLS_CONNECTING;
	uv_tcp_nodelay(&t->tcp, 1);
	t->connect_req.data = t;
	rc = uv_tcp_connect(&t->connect_req, &t->tcp, addr, on_connect);
	if (rc < 0) {
		t->state = TLS_DEAD;
		tk_tls_close(t, NULL);
		return rc;
	}
	*out = t;
	return 0;
}

int
tk_tls_write(tk_tls *t, const uint8_t *data, size_t len)
{
	int rc;
	if (t->state != TLS_OPEN)
		return TK_TLS_ESTATE;
	rc = tk_tls_engine_write(t->eng, data, len);
	if (rc < 0)
		return rc;
	return flush(t);
}

size_t
tk_tls_write_queue_size(const tk_tls *t)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&t->tcp);
}

const uint8_t *
tk_tls_peer_cert(const tk_tls *t, size_t *len)
{
	return tk_tls_engine_peer_cert(t->eng, len);
}

const char *
tk_tls_version(const tk_tls *t)
{
	return tk_tls_engine_version(t->eng);
}

const char *
tk_tls_ciphersuite(const tk_tls *t)
{
	return tk_tls_engine_ciphersuite(t->eng);
}

const char *
tk_tls_last_error(const tk_tls *t)
{
	return tk_tls_engine_last_error(t->eng);
}

int
tk_tls_sockname(const tk_tls *t, struct sockaddr_storage *ss)
{
	int n = sizeof *ss;
	return uv_tcp_getsockname(&t->tcp, (struct sockaddr *)ss, &n);
}

int
tk_tls_peername(const tk_tls *t, struct sockaddr_storage *ss)
{
	int n = sizeof *ss;
	return uv_tcp_getpeername(&t->tcp, (struct sockaddr *)ss, &n);
}

static void
on_handle_closed(uv_handle_t *h)
{
	tk_tls *t = h->data;
	if (t->close_cb)
		t->close_cb(t, t->arg);
	tk_tls_engine_free(t->eng);
	free(t);
}

void
tk_tls_close(tk_tls *t, tk_tls_close_cb close_cb)
{
	if (!t || t->state == TLS_CLOSING)
		return;
	if (t->state == TLS_OPEN) {
		/* Best effort: libuv tries the write at once. */
		tk_tls_engine_close_notify(t->eng);
		(void)flush(t);
	}
	t->state = TLS_CLOSING;
	t->close_cb = close_cb;
	uv_close((uv_handle_t *)&t->tcp, on_handle_closed);
}

const char *
tk_tls_library(void)
{
	return tk_tls_engine_library();
}

const char *
tk_tls_strerror(int status)
{
	switch (status) {
	case 0:
		return "success";
	case TK_TLS_EHANDSHAKE:
		return "TLS handshake failed";
	case TK_TLS_EPROTO:
		return "TLS protocol error";
	case TK_TLS_ENOMEM:
		return "out of memory";
	case TK_TLS_ESTATE:
		return "TLS connection not open";
	case TK_TLS_EINIT:
		return "TLS library initialisation failed";
	case UV_EOF:
		return "connection closed by peer";
	default:
		return uv_strerror(status);
	}
}
