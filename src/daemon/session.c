/* session.c — one SOCKS client's connection: its handles, state, writes,
 * lingering close and memory marks. Above it, session_socks.c takes the
 * handshake through the codec, the request to the engine and the reply;
 * session_relay.c the relay both ways. Neither is called from here by
 * name: the relay hooks itself into the session when it starts.
 *
 * States (one per phase; every transition goes through set_state):
 *
 *   HANDSHAKE  reading and feeding the codec; its replies are written as
 *              they come (every one, in order)
 *   ENGINE     the request is with the engine; the client is not read, so
 *              bytes it sends early stay queued and reach the target
 *   RELAY      both ways, with backpressure and half-close
 *              (session_relay.c: by copying, or with splice(2))
 *   LINGER     the last reply is written: shut our side, drain what the
 *              client still sends (so the reply is not lost to a RST),
 *              close on its EOF or after a bounded time
 *   CLOSING    handles closing; freed when the last one is
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/addrcount.h"
#include "daemon/log.h"
#include "daemon/policy.h"
#include "daemon/relaybuf.h"
#include "daemon/relayq.h"
#include "daemon/server.h"
#include "daemon/session_int.h"
#include "daemon/splice.h"

#define LINGER_MS 5000

static const char *const state_names[] = {
	"HANDSHAKE", "ENGINE", "RELAY", "LINGER", "CLOSING",
};

struct client_write {
	uv_write_t w;
	struct tk_session *s;
	uint8_t *buf; /* freed when written */
	size_t len;
	int final;   /* linger after this one */
	int relayed; /* from s->down: given back to it */
};

static void session_close(struct tk_session *s);

/* A queue grew: the server's memory check (session_shed.c, wired by
 * main.c, which keeps that policy above the sessions). */
void
tk__mem_grew(struct tk_server *srv)
{
	if (srv->mem_grew != NULL)
		srv->mem_grew(srv);
}

/* Lingering sessions (the last reply is out, or the client finished
 * sending and the target may still answer) are the first to go when
 * descriptors, MaxClients or memory run short: a list, oldest first. */
/* For the other loops (admit.c): how many linger here, since when the
 * oldest. */
static void
linger_publish(struct tk_server *srv)
{
	atomic_store_explicit(&srv->lingering_stat, srv->n_lingering,
			      memory_order_relaxed);
	atomic_store_explicit(&srv->linger_oldest,
			      srv->linger_head != NULL
				      ? srv->linger_head->linger_since
				      : 0,
			      memory_order_relaxed);
}

void
tk__linger_mark(struct tk_session *s, int on)
{
	struct tk_server *srv = s->srv;

	if (s->lingering == (unsigned)on)
		return;
	s->lingering = on != 0;
	if (on) {
		s->lnext = NULL;
		s->lprev = srv->linger_tail;
		if (srv->linger_tail)
			srv->linger_tail->lnext = s;
		else
			srv->linger_head = s;
		srv->linger_tail = s;
		srv->n_lingering++;
		/* uv_hrtime: one clock for every loop, so admit.c can find
		 * the oldest lingering session of all. */
		s->linger_since = uv_hrtime();
		linger_publish(srv);
		return;
	}
	if (s->lprev)
		s->lprev->lnext = s->lnext;
	else
		srv->linger_head = s->lnext;
	if (s->lnext)
		s->lnext->lprev = s->lprev;
	else
		srv->linger_tail = s->lprev;
	s->lprev = s->lnext = NULL;
	srv->n_lingering--;
	linger_publish(srv);
}

void
tk__set_state(struct tk_session *s, enum sess_state st)
{
	tk_debug("session %p: %s -> %s", (void *)s, state_names[s->state],
		 state_names[st]);
	s->state = st;
	if (st == S_LINGER)
		tk__linger_mark(s, 1);
}

uv_stream_t *
tk_session_alloc_handle(struct tk_server *srv, int is_unix)
{
	struct tk_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->srv = srv;
	s->is_unix = is_unix;
	if (is_unix)
		uv_pipe_init(srv->loop, &s->h.pipe, 0);
	else
		uv_tcp_init(srv->loop, &s->h.tcp);
	s->h.handle.data = s;
	return &s->h.stream;
}

static void
free_handle_cb(uv_handle_t *h)
{
	free(h->data);
}

void
tk_session_free_handle(uv_stream_t *h)
{
	uv_close((uv_handle_t *)h, free_handle_cb);
}

/* ---- teardown */

static void
unref(struct tk_session *s)
{
	if (--s->open_handles > 0)
		return;
	free(s);
}

static void
handle_closed(uv_handle_t *h)
{
	unref(h->data);
}

void
tk__stream_closed(void *arg)
{
	unref(arg);
}

static void
session_close(struct tk_session *s)
{
	struct tk_server *srv = s->srv;

	if (s->state == S_CLOSING)
		return;
	tk__set_state(s, S_CLOSING);
	tk__linger_mark(s, 0);
	tk_relayq_drop_fill(&s->up);
	tk_relayq_drop_fill(&s->down);
	if (s->counted) {
		srv->n_clients--;
		atomic_store_explicit(&srv->clients_own, srv->n_clients,
				      memory_order_relaxed);
		atomic_fetch_sub(srv->clients_all, 1);
		tk_addrcount_drop(s->port.family, s->port.addr);
		if (s->prev)
			s->prev->next = s->next;
		else
			srv->sessions = s->next;
		if (s->next)
			s->next->prev = s->prev;
		s->counted = 0;
		if (srv->n_clients == 0)
			tk_relaybuf_idle(srv);
	}
	if (s->req != NULL) {
		tk_engine_cancel(srv->engine, s->req);
		s->req = NULL;
	}
	if (s->relay_stop != NULL)
		s->relay_stop(s);
	if (s->stream != NULL)
		tk_stream_close(s->stream); /* tk__stream_closed unrefs */
	uv_close(&s->h.handle, handle_closed);
	uv_close((uv_handle_t *)&s->timer, handle_closed);
}

void
tk__session_close(struct tk_session *s)
{
	session_close(s);
}

void
tk_sessions_close_all(struct tk_server *srv)
{
	while (srv->sessions != NULL)
		session_close(srv->sessions);
	tk_relaybuf_idle_stop();
	tk_splice_shutdown();
}

/* ---- writing to the client */

static void linger_start(struct tk_session *s);

static void
client_write_cb(uv_write_t *w, int status)
{
	struct client_write *cw = (struct client_write *)w;
	struct tk_session *s = cw->s;

	if (cw->relayed)
		tk_relayq_returned(&s->down, cw->buf, cw->len);
	else
		free(cw->buf);
	if (s->state == S_RELAY && cw->relayed) {
		free(cw);
		s->relay_written(s, status);
		return;
	} else if (cw->final && s->state == S_LINGER) {
		free(cw);
		if (status < 0)
			session_close(s);
		else
			linger_start(s);
		return;
	}
	free(cw);
}

/* Takes ownership of buf: malloc'd, or (`final` 2) taken from s->down.
 * `final` 1: the session's last bytes (linger after). */
int
tk__client_write(struct tk_session *s, uint8_t *buf, size_t len, int final)
{
	struct client_write *cw = malloc(sizeof(*cw));
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc;

	if (cw == NULL) {
		if (final == 2)
			tk_relayq_returned(&s->down, buf, len);
		else
			free(buf);
		return UV_ENOMEM;
	}
	cw->s = s;
	cw->buf = buf;
	cw->len = len;
	cw->final = final == 1;
	cw->relayed = final == 2;
	rc = uv_write(&cw->w, &s->h.stream, &b, 1, client_write_cb);
	if (rc < 0) {
		if (final == 2)
			tk_relayq_returned(&s->down, buf, len);
		else
			free(buf);
		free(cw);
	}
	return rc;
}

int
tk__client_write_copy(struct tk_session *s, const uint8_t *data, size_t len,
		      int final)
{
	uint8_t *buf;

	/* A reply nearly always fits the socket at once: written there and
	 * then, with no copy and no request to allocate and free (libuv
	 * would write it at once too, and call back on the next turn). */
	if (final == 0 && len > 0 &&
	    uv_stream_get_write_queue_size(&s->h.stream) == 0) {
		uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
		int n = uv_try_write(&s->h.stream, &b, 1);

		if (n == (int)len)
			return 0;
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n != UV_EAGAIN)
			return n;
	}
	buf = malloc(len ? len : 1);

	if (buf == NULL)
		return UV_ENOMEM;
	memcpy(buf, data, len);
	return tk__client_write(s, buf, len, final);
}

/* ---- lingering close */

static void
discard_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct tk_session *s = h->data;

	(void)suggested;
	*b = uv_buf_init((char *)s->in, sizeof(s->in));
}

static void
discard_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	(void)b;
	if (nread < 0)
		session_close(st->data);
}

static void
linger_timeout(uv_timer_t *t)
{
	session_close(t->data);
}

static void
linger_shutdown_cb(uv_shutdown_t *r, int status)
{
	struct tk_session *s = r->data;

	free(r);
	if (status < 0 && s->state == S_LINGER)
		session_close(s);
}

static void
linger_start(struct tk_session *s)
{
	uv_shutdown_t *r = malloc(sizeof(*r));

	if (r == NULL || (r->data = s, uv_shutdown(r, &s->h.stream,
						   linger_shutdown_cb)) < 0) {
		free(r);
		session_close(s);
		return;
	}
	uv_read_start(&s->h.stream, discard_alloc, discard_read);
	uv_timer_start(&s->timer, linger_timeout, LINGER_MS, 0);
}

/* Send the last bytes of this session, then linger and close. */
void
tk__session_finish(struct tk_session *s, const uint8_t *reply, size_t len)
{
	uv_read_stop(&s->h.stream);
	uv_timer_stop(&s->timer);
	tk__set_state(s, S_LINGER);
	if (len == 0) {
		linger_start(s);
		return;
	}
	if (tk__client_write_copy(s, reply, len, 1) < 0)
		tk__session_close(s);
}
