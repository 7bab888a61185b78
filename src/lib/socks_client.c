/* socks_client.c — one SOCKS client exchange over libuv.
 *
 * States run one way: CONNECTING (one proxy address after another, under
 * the connect timeout) -> HANDSHAKE (the codec talks, under the answer
 * timeout) -> DONE (the callback ran). Everything that ends an exchange
 * goes through finish(), which runs the callback exactly once.
 */
#include "lib/socks_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"

enum session_state {
	S_IDLE = 0,
	S_CONNECTING, /* connect() to addrs[addr_index] in flight */
	S_HANDSHAKE,  /* codec exchange, answer timer running */
	S_DONE,	      /* callback ran (or the caller abandoned us) */
};

struct wbuf {
	uv_write_t req;
	struct tk_socks_session *s;
	size_t len;
	uint8_t data[];
};

static void conn_connect_next(struct tk_socks_session *s);

/* ---- proxy address ------------------------------------------------- */

int
tk_socks_proxy_init(struct tk_socks_proxy *p, const struct tk_endpoint *ep)
{
	memset(p, 0, sizeof(*p));
	p->ep = *ep;
	if (tk_endpoint_format(ep, p->text, sizeof(p->text)) == 0)
		snprintf(p->text, sizeof(p->text), "%s", ep->host);
	if (ep->kind == TK_ENDPOINT_UNIX)
		return 0;
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->addrs[0];
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->port);
		memcpy(&sin->sin_addr, ep->addr, 4);
		p->naddrs = 1;
		return 0;
	}
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->addrs[0];
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep->port);
		memcpy(&sin6->sin6_addr, ep->addr, 16);
		p->naddrs = 1;
		return 0;
	}
	return 1;
}

static void
proxy_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct tk_socks_proxy *p = container_of(req, struct tk_socks_proxy,
						gai);
	struct addrinfo *ai;

	p->naddrs = 0;
	for (ai = res; status == 0 && ai && p->naddrs < TK_SOCKS_PROXY_ADDRS;
	     ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(&p->addrs[p->naddrs], ai->ai_addr, ai->ai_addrlen);
		p->naddrs++;
	}
	uv_freeaddrinfo(res);
	if (status == 0 && p->naddrs == 0)
		status = UV_EAI_NONAME;
	p->resolved_cb(p, status);
}

int
tk_socks_proxy_resolve(uv_loop_t *loop, struct tk_socks_proxy *p,
		       void (*cb)(struct tk_socks_proxy *p, int status))
{
	struct addrinfo hints;
	char port[8];

	/* The proxy's own name is the only name we ever resolve locally. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)p->ep.port);
	p->resolved_cb = cb;
	return uv_getaddrinfo(loop, &p->gai, proxy_resolved, p->ep.host, port,
			      &hints);
}

/* ---- helpers ------------------------------------------------------- */

const char *
tk_socks_reply_str(uint8_t version, uint8_t rep)
{
	const char *s = version == 4 ? tk_socks4_rep_str(rep)
				     : tk_socks5_rep_str(rep);
	return s ? s : "unknown reply code";
}

static void trace_note(struct tk_socks_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
trace_note(struct tk_socks_session *s, const char *fmt, ...)
{
	char note[256];
	va_list ap;

	if (!s->cfg.trace)
		return;
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	s->cfg.trace(s->cfg.trace_arg, TK_SOCKS_TRACE_NOTE, NULL, 0, note);
}

static double
secs(uint64_t ms)
{
	return (double)ms / 1000.0;
}

/* Ends the exchange: stops the clock and reading, runs the callback. */
static void finish(struct tk_socks_session *s, int outcome, int why,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void
finish(struct tk_socks_session *s, int outcome, int why, const char *fmt, ...)
{
	va_list ap;

	if (s->state == S_DONE)
		return;
	s->state = S_DONE;
	uv_timer_stop(&s->timer);
	if (s->conn_open && !uv_is_closing(&s->conn.handle))
		uv_read_stop(&s->conn.stream);
	s->outcome = outcome;
	s->why = why;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	if (outcome == TK_SOCKS_OUT_OK)
		s->stream = &s->conn.stream;
	s->cb(s);
}

static void
finish_connect_error(struct tk_socks_session *s, int err)
{
	const char *px = s->cfg.proxy->text;

	s->uv_status = err;
	if (err == UV_ECONNREFUSED)
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_REFUSED,
		       "cannot connect to proxy %s: connection refused "
		       "(is it running? is the address right?)",
		       px);
	else if (err == UV_ETIMEDOUT)
		finish(s, TK_SOCKS_OUT_UNREACHABLE,
		       TK_SOCKS_WHY_CONNECT_TIMEOUT,
		       "cannot connect to proxy %s: timed out", px);
	else
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_CONNECT_ERROR,
		       "cannot connect to proxy %s: %s", px, uv_strerror(err));
}

/* ---- timer --------------------------------------------------------- */

static void
on_timeout(uv_timer_t *t)
{
	struct tk_socks_session *s = container_of(t, struct tk_socks_session,
						  timer);
	const char *px = s->cfg.proxy->text;

	if (s->state == S_CONNECTING && s->sync_error)
		finish_connect_error(s, s->uv_status);
	else if (s->state == S_CONNECTING)
		finish(s, TK_SOCKS_OUT_UNREACHABLE,
		       TK_SOCKS_WHY_CONNECT_TIMEOUT,
		       "cannot connect to proxy %s: no connection after %gs "
		       "(raise it with -w)",
		       px, secs(s->cfg.connect_timeout_ms));
	else if (s->state == S_HANDSHAKE)
		finish(s, TK_SOCKS_OUT_TIMEOUT, TK_SOCKS_WHY_ANSWER_TIMEOUT,
		       "no answer from proxy %s within %gs (%zu bytes "
		       "received; raise it with -t)",
		       px, secs(s->cfg.answer_timeout_ms), s->received_total);
}

static void
arm_timer(struct tk_socks_session *s, uint64_t ms)
{
	uv_timer_stop(&s->timer);
	if (ms)
		uv_timer_start(&s->timer, on_timeout, ms, 0);
}

/* ---- handshake ----------------------------------------------------- */

static void
on_written(uv_write_t *req, int status)
{
	struct wbuf *w = container_of(req, struct wbuf, req);
	struct tk_socks_session *s = w->s;

	free(w);
	if (status < 0 && status != UV_ECANCELED && s->state == S_HANDSHAKE) {
		s->uv_status = status;
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_IO_ERROR,
		       "cannot send to proxy %s: %s", s->cfg.proxy->text,
		       uv_strerror(status));
	}
}

static int
send_bytes(struct tk_socks_session *s, const uint8_t *b, size_t n)
{
	struct wbuf *w;
	uv_buf_t buf;
	int r;

	if (n == 0)
		return 0;
	w = malloc(sizeof(*w) + n);
	if (!w)
		return UV_ENOMEM;
	w->s = s;
	w->len = n;
	memcpy(w->data, b, n);
	if (s->cfg.trace)
		s->cfg.trace(s->cfg.trace_arg, TK_SOCKS_TRACE_SENT, b, n, NULL);
	buf = uv_buf_init((char *)w->data, (unsigned)n);
	r = uv_write(&w->req, &s->conn.stream, &buf, 1, on_written);
	if (r < 0)
		free(w);
	return r;
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct tk_socks_session *s = container_of(h, struct tk_socks_session,
						  conn.handle);

	(void)hint;
	/* Never more than fits: nothing read is ever dropped, and a reply
	 * that has not ended when `in` is full is not SOCKS (below). */
	buf->base = (char *)s->in + s->inlen;
	buf->len = sizeof(s->in) - s->inlen;
}

static int
reply_ok(const struct tk_socks_session *s)
{
	if (s->cfg.req.version == 4)
		return s->reply.rep == TK_SOCKS4_GRANTED;
	return s->reply.rep == TK_SOCKS5_SUCCEEDED;
}

static void
handle_error(struct tk_socks_session *s,
	     const struct tk_socks_client_result *res)
{
	const char *px = s->cfg.proxy->text;

	switch (res->error) {
	case TK_SOCKS_CLIENT_HTTP:
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_HTTP,
		       "proxy %s answered in HTTP: it is an HTTP proxy or "
		       "server, not SOCKS (wrong port?)",
		       px);
		break;
	case TK_SOCKS_CLIENT_NO_METHOD:
		finish(s, TK_SOCKS_OUT_FAILED, TK_SOCKS_WHY_NO_METHOD,
		       "proxy %s accepts none of the offered authentication "
		       "methods%s",
		       px, s->cfg.req.use_auth ? "" : " (does it need -u?)");
		break;
	case TK_SOCKS_CLIENT_AUTH_FAILED:
		finish(s, TK_SOCKS_OUT_FAILED, TK_SOCKS_WHY_AUTH_FAILED,
		       "proxy %s rejected the username/password", px);
		break;
	case TK_SOCKS_CLIENT_BAD_REQUEST:
		finish(s, TK_SOCKS_OUT_USAGE, TK_SOCKS_WHY_BAD_REQUEST, "%s",
		       res->msg[0] ? res->msg : "bad request");
		break;
	default:
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_GARBAGE,
		       "proxy %s does not speak SOCKS: %s", px,
		       res->msg[0] ? res->msg : "unexpected bytes");
		break;
	}
}

/* Feeds what is buffered; the codec drops `consumed` bytes each time and
 * may need several rounds when the proxy sent messages back to back. */
static int
feed(struct tk_socks_session *s)
{
	struct tk_socks_client_result res;

	for (;;) {
		memset(&res, 0, sizeof(res));
		tk_socks_client_feed(&s->codec, s->in, s->inlen, &res);
		if (res.status == TK_SOCKS_ERROR) {
			handle_error(s, &res);
			return 1;
		}
		if (res.send_len && send_bytes(s, res.send, res.send_len) < 0) {
			finish(s, TK_SOCKS_OUT_UNREACHABLE,
			       TK_SOCKS_WHY_IO_ERROR, "cannot send to proxy %s",
			       s->cfg.proxy->text);
			return 1;
		}
		if (res.consumed > s->inlen)
			res.consumed = s->inlen;
		memmove(s->in, s->in + res.consumed, s->inlen - res.consumed);
		s->inlen -= res.consumed;
		if (res.status == TK_SOCKS_DONE) {
			s->reply = res.reply;
			s->early = s->in;
			s->early_len = s->inlen;
			if (reply_ok(s)) {
				finish(s, TK_SOCKS_OUT_OK, TK_SOCKS_WHY_REPLY,
				       "%s",
				       tk_socks_reply_str(s->cfg.req.version,
							  s->reply.rep));
			} else {
				finish(s, TK_SOCKS_OUT_FAILED,
				       TK_SOCKS_WHY_REPLY,
				       "%s (SOCKS%u "
				       "reply %02X)",
				       tk_socks_reply_str(s->cfg.req.version,
							  s->reply.rep),
				       (unsigned)s->cfg.req.version,
				       (unsigned)s->reply.rep);
			}
			return 1;
		}
		if (res.consumed == 0 || s->inlen == 0)
			return 0;
	}
}

static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct tk_socks_session *s = container_of(st, struct tk_socks_session,
						  conn.stream);
	const char *px = s->cfg.proxy->text;

	if (s->state != S_HANDSHAKE)
		return;
	if (nread == UV_EOF) {
		if (s->received_total == 0)
			finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_CLOSED,
			       "proxy %s closed the connection without "
			       "answering (not a SOCKS proxy, or it refused "
			       "the request silently)",
			       px);
		else
			finish(s, TK_SOCKS_OUT_UNREACHABLE,
			       TK_SOCKS_WHY_TRUNCATED,
			       "proxy %s sent a truncated reply: it closed "
			       "the connection after %zu bytes",
			       px, s->received_total);
		return;
	}
	if (nread < 0) {
		s->uv_status = (int)nread;
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_IO_ERROR,
		       "lost the connection to proxy %s: %s", px,
		       uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (s->cfg.trace)
		s->cfg.trace(s->cfg.trace_arg, TK_SOCKS_TRACE_RECEIVED,
			     (const uint8_t *)buf->base, (size_t)nread, NULL);
	s->received_total += (size_t)nread;
	s->inlen += (size_t)nread; /* on_alloc gave the free part of in */
	if (feed(s) == 0 && s->inlen == sizeof(s->in))
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_GARBAGE,
		       "proxy %s does not speak SOCKS: %zu bytes and still "
		       "no complete answer",
		       px, s->received_total);
}

static void
start_handshake(struct tk_socks_session *s)
{
	struct tk_socks_client_result res;

	s->state = S_HANDSHAKE;
	trace_note(s, "connected to proxy %s", s->cfg.proxy->text);
	arm_timer(s, s->cfg.answer_timeout_ms);
	memset(&res, 0, sizeof(res));
	tk_socks_client_start(&s->codec, &s->cfg.req, &res);
	if (res.status == TK_SOCKS_ERROR) {
		handle_error(s, &res);
		return;
	}
	if (send_bytes(s, res.send, res.send_len) < 0) {
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_IO_ERROR,
		       "cannot send to proxy %s", s->cfg.proxy->text);
		return;
	}
	if (uv_read_start(&s->conn.stream, on_alloc, on_read) < 0)
		finish(s, TK_SOCKS_OUT_UNREACHABLE, TK_SOCKS_WHY_IO_ERROR,
		       "cannot read from proxy %s", s->cfg.proxy->text);
}

/* ---- connecting ---------------------------------------------------- */

static void
on_conn_closed(uv_handle_t *h)
{
	struct tk_socks_session *s = container_of(h, struct tk_socks_session,
						  conn.handle);

	s->conn_open = 0;
	if (s->closing) {
		if (--s->pending_closes == 0 && s->close_cb)
			s->close_cb(s);
		return;
	}
	/* A failed address: try the next one, if any and still in time. */
	if (s->state != S_CONNECTING)
		return;
	s->addr_index++;
	if (s->addr_index >= s->cfg.proxy->naddrs) {
		finish_connect_error(s, s->uv_status);
		return;
	}
	conn_connect_next(s);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct tk_socks_session *s = container_of(req, struct tk_socks_session,
						  connect_req);

	if (status == UV_ECANCELED || s->state != S_CONNECTING)
		return;
	if (status < 0) {
		s->uv_status = status;
		trace_note(s, "connect to proxy %s: %s", s->cfg.proxy->text,
			   uv_strerror(status));
		uv_close(&s->conn.handle, on_conn_closed);
		return;
	}
	start_handshake(s);
}

static void
conn_connect_next(struct tk_socks_session *s)
{
	const struct tk_socks_proxy *p = s->cfg.proxy;
	int r;

	if (p->ep.kind == TK_ENDPOINT_UNIX) {
		r = uv_pipe_init(s->loop, &s->conn.pipe, 0);
		if (r == 0) {
			s->conn_open = 1;
			uv_pipe_connect(&s->connect_req, &s->conn.pipe,
					p->ep.path, on_connect);
		}
	} else {
		r = uv_tcp_init(s->loop, &s->conn.tcp);
		if (r == 0) {
			s->conn_open = 1;
			uv_tcp_nodelay(&s->conn.tcp, 1);
			r = uv_tcp_connect(&s->connect_req, &s->conn.tcp,
					   (const struct sockaddr *)&p
						   ->addrs[s->addr_index],
					   on_connect);
			if (r < 0) {
				/* Reported from the close callback, never
				 * from inside tk_socks_session_start(). */
				s->uv_status = r;
				uv_close(&s->conn.handle, on_conn_closed);
			}
		}
	}
	if (r < 0 && !s->conn_open) {
		s->uv_status = r;
		/* Deliver asynchronously through the timer. */
		s->sync_error = 1;
		uv_timer_stop(&s->timer);
		uv_timer_start(&s->timer, on_timeout, 0, 0);
	}
}

int
tk_socks_session_start(uv_loop_t *loop, struct tk_socks_session *s,
		       const struct tk_socks_session_config *cfg,
		       tk_socks_session_cb cb)
{
	void *data = s->data;
	int r;

	if (cfg->proxy->ep.kind != TK_ENDPOINT_UNIX && cfg->proxy->naddrs == 0)
		return UV_EINVAL;
	memset((char *)s, 0, offsetof(struct tk_socks_session, in));
	s->data = data;
	s->loop = loop;
	s->cfg = *cfg;
	s->cb = cb;
	r = uv_timer_init(loop, &s->timer);
	if (r < 0)
		return r;
	s->state = S_CONNECTING;
	arm_timer(s, cfg->connect_timeout_ms);
	conn_connect_next(s);
	return 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct tk_socks_session *s = container_of(h, struct tk_socks_session,
						  timer);

	if (--s->pending_closes == 0 && s->close_cb)
		s->close_cb(s);
}

void
tk_socks_session_close(struct tk_socks_session *s,
		       void (*close_cb)(struct tk_socks_session *s))
{
	s->state = S_DONE;
	s->closing = 1;
	s->close_cb = close_cb;
	s->pending_closes = 1;
	if (s->conn_open && !uv_is_closing(&s->conn.handle)) {
		s->pending_closes++;
		uv_close(&s->conn.handle, on_conn_closed);
	} else if (s->conn_open) {
		/* A retry close is in flight; its callback counts too. */
		s->pending_closes++;
	}
	uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}
