/* session_relay.c — a session's relay, once its CONNECT succeeded: the
 * reply, the client's early data, then bytes both ways with backpressure
 * and half-close, until both sides have finished.
 *
 * Two ways to move the bytes, with the same behaviour as seen from
 * either peer:
 *   copying    libuv reads into relay buffers (relayq.h) and writes
 *              them out; works with every engine and socket
 *   splicing   the direct engine on Linux (RelaySplice): splice(2)
 *              moves the bytes socket -> pipe -> socket in the kernel
 *              (splice.h). Where splice refuses the sockets the first
 *              time, or no pipe can be had, the session copies instead,
 *              taking over what the pipes hold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/relayq.h"
#include "daemon/server.h"
#include "daemon/session_int.h"
#include "daemon/splice.h"

static void
maybe_done(struct tk_session *s)
{
	/* Both directions finished: client EOF passed on and every byte
	 * delivered, target EOF passed on as our FIN. */
	if (s->client_eof && s->up.out == 0 && tk_relayq_pending(&s->up) == 0 &&
	    s->target_eof && s->client_shut && s->state == S_RELAY)
		tk__session_close(s);
}

/* Hands the engine what the client sent, when it is due (relayq.h). */
static int
up_flush(struct tk_session *s, int force)
{
	uint8_t *buf;
	size_t len;
	int rc;

	while ((rc = tk_relayq_take(&s->up, force, &buf, &len)) == 1) {
		rc = tk_stream_write(s->stream, buf, len);
		if (rc < 0) {
			tk_relayq_returned(&s->up, buf, len);
			return rc;
		}
	}
	return rc < 0 ? UV_ENOMEM : 0;
}

/* Writes to the client what the target sent, when it is due. */
static void
down_flush(struct tk_session *s)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (s->state != S_RELAY)
		return;
	while ((rc = tk_relayq_take(&s->down, 0, &buf, &len)) == 1)
		if (tk__client_write(s, buf, len, 2) < 0) {
			tk__session_close(s);
			return;
		}
	if (rc < 0)
		tk__session_close(s);
}

static void
relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct tk_session *s = h->data;
	uint8_t *p;
	size_t len;

	(void)suggested;
	if (tk_relayq_space(&s->up, &p, &len) < 0)
		*b = uv_buf_init(NULL, 0); /* UV_ENOBUFS: the read fails */
	else
		*b = uv_buf_init((char *)p, (unsigned)len);
}

static void
relay_from_client(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct tk_session *s = st->data;

	(void)b;
	if (s->state != S_RELAY)
		return;
	if (nread > 0) {
		tk_relayq_filled(&s->up, (size_t)nread);
		s->last_active = uv_now(s->srv->loop);
		if (up_flush(s, 0) < 0) {
			tk__session_close(s);
			return;
		}
		if (s->up.held >= RELAY_HIGH) {
			uv_read_stop(st);
			s->client_reading = 0;
		}
		tk__mem_grew(s->srv);
		return;
	}
	if (tk_relayq_pending(&s->up) == 0)
		tk_relayq_drop_fill(&s->up); /* unused: back to the pool */
	if (nread == 0)
		return;
	uv_read_stop(st);
	s->client_reading = 0;
	if (nread == UV_EOF) {
		/* Half-close: the target sees EOF after our queued bytes,
		 * and its answers keep flowing back. */
		s->client_eof = 1;
		if (up_flush(s, 1) < 0) {
			tk__session_close(s);
			return;
		}
		tk_stream_shutdown(s->stream);
		if (!s->target_eof)
			tk__linger_mark(s, 1);
		maybe_done(s);
		return;
	}
	tk_info("reading from client %s failed: %s", tk_dlog_safe(s->peer),
		uv_strerror((int)nread));
	tk__session_close(s);
}

static void
st_alloc(void *arg, size_t suggested, uint8_t **buf, size_t *cap)
{
	struct tk_session *s = arg;

	(void)suggested;
	if (s->state != S_RELAY || tk_relayq_space(&s->down, buf, cap) < 0) {
		*buf = NULL;
		*cap = 0;
	}
}

static void
client_shutdown_cb(uv_shutdown_t *r, int status)
{
	struct tk_session *s = r->data;

	free(r);
	if (s->state != S_RELAY)
		return;
	if (status < 0) {
		tk__session_close(s);
		return;
	}
	s->client_shut = 1;
	maybe_done(s);
}

static void
target_eof_copy(struct tk_session *s)
{
	uint8_t *last;
	size_t n;
	uv_shutdown_t *r;
	int rc;

	s->target_eof = 1;
	s->target_reading = 0;
	tk__linger_mark(s, 0);
	/* What is left goes out, then our FIN (libuv sends it after the
	 * queued writes). */
	while ((rc = tk_relayq_take(&s->down, 1, &last, &n)) == 1)
		if (tk__client_write(s, last, n, 2) < 0)
			rc = -1;
	tk_relayq_drop_fill(&s->down);
	r = rc < 0 ? NULL : malloc(sizeof(*r));
	if (r == NULL || (r->data = s, uv_shutdown(r, &s->h.stream,
						   client_shutdown_cb)) < 0) {
		free(r);
		tk__session_close(s);
	}
}

static void
st_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct tk_session *s = arg;

	(void)buf; /* it is s->down's fill buffer */
	if (s->state != S_RELAY)
		return;
	if (len > 0) {
		tk_relayq_filled(&s->down, len);
		s->last_active = uv_now(s->srv->loop);
		down_flush(s);
		if (s->state == S_RELAY && s->down.held >= RELAY_HIGH &&
		    s->target_reading) {
			s->target_reading = 0;
			tk_stream_read_stop(s->stream);
		}
		tk__mem_grew(s->srv);
		return;
	}
	if (!eof) {
		if (tk_relayq_pending(&s->down) == 0)
			tk_relayq_drop_fill(&s->down);
		return;
	}
	target_eof_copy(s);
}

static void
st_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct tk_session *s = arg;

	tk_relayq_returned(&s->up, buf, len);
	if (s->state != S_RELAY)
		return;
	if (status != 0)
		return; /* the engine reports the error itself */
	if (s->up.out == 0 && up_flush(s, s->client_eof) < 0) {
		tk__session_close(s);
		return;
	}
	if (!s->client_reading && !s->client_eof && s->up.held < RELAY_HIGH) {
		s->client_reading = 1;
		uv_read_start(&s->h.stream, relay_alloc, relay_from_client);
	}
	maybe_done(s);
}

static void
st_error(void *arg, int end_reason)
{
	struct tk_session *s = arg;

	tk_info("stream to %s failed: END reason %d", tk_dlog_safe(s->target),
		TK_END_BASE(end_reason));
	tk__session_close(s);
}

static const struct tk_stream_cbs stream_cbs = {
	.alloc = st_alloc,
	.read = st_read,
	.written = st_written,
	.error = st_error,
	.closed = tk__stream_closed,
};

/* IdleTimeout: nothing moved either way for that long. The timer is
 * armed once and re-armed for what is left, rather than reset on every
 * read. The idleness must be the peers', not ours: libuv runs due timers
 * before it polls, so a daemon the OS did not run for longer than the
 * timeout would find it over with the peers' bytes unread in the
 * sockets. So the first time it runs out we only note it and look again
 * 1 ms on, after the loop polled (a timer due later than the loop's time
 * never runs in the same pass, and torkitd's loops run UV_RUN_DEFAULT,
 * whose only timer pass comes before its poll); bytes read there restart
 * it. */
static void
idle_timeout(uv_timer_t *t)
{
	struct tk_session *s = t->data;
	uint64_t limit = (uint64_t)s->srv->cfg->idle_timeout * 1000;
	uint64_t now = uv_now(s->srv->loop), idle = now - s->last_active;

	if (s->state != S_RELAY || limit == 0)
		return;
	if (idle < limit) {
		s->idle_seen = 0;
		uv_timer_start(&s->timer, idle_timeout, limit - idle, 0);
		return;
	}
	if (!s->idle_seen) {
		s->idle_seen = now;
		uv_timer_start(&s->timer, idle_timeout, 1, 0);
		return;
	}
	tk_info("connection of %s to %s idle for %llu s (IdleTimeout); "
		"closing it",
		tk_dlog_safe(s->peer), tk_dlog_safe(s->target),
		(unsigned long long)(idle / 1000));
	tk__session_close(s);
}

static void
relay_written(struct tk_session *s, int status)
{
	if (status < 0) {
		tk_info("writing to client %s failed: %s",
			tk_dlog_safe(s->peer), uv_strerror(status));
		tk__session_close(s);
		return;
	}
	down_flush(s);
	if (s->state == S_RELAY && !s->target_reading && !s->target_eof &&
	    s->down.held < RELAY_HIGH) {
		s->target_reading = 1;
		tk_stream_read_start(s->stream);
	}
}

/* ---- splicing */

static void
sp_moved(void *arg, int grew)
{
	struct tk_session *s = arg;

	s->last_active = uv_now(s->srv->loop);
	if (grew)
		tk__mem_grew(s->srv);
}

static void
sp_eof_read(void *arg, int dir)
{
	struct tk_session *s = arg;

	/* As when copying: a client that finished sending lingers until
	 * the target finishes too; the target's EOF ends that. */
	if (dir == TK_SPLICE_UP) {
		if (!s->target_eof)
			tk__linger_mark(s, 1);
		return;
	}
	s->target_eof = 1;
	tk__linger_mark(s, 0);
}

static void
sp_eof_sent(void *arg, int dir)
{
	struct tk_session *s = arg;

	if (dir == TK_SPLICE_UP)
		s->client_eof =
			1; /* every byte and the EOF are with the target */
	else
		s->client_shut = 1;
	maybe_done(s);
}

static void
sp_error(void *arg, int dir, int writing, int err)
{
	struct tk_session *s = arg;

	/* UP reads the client and writes the target; DOWN the other way. */
	if ((dir == TK_SPLICE_UP) != (writing != 0))
		tk_info("%s client %s failed: %s",
			writing ? "writing to" : "reading from",
			tk_dlog_safe(s->peer), strerror(err));
	else
		tk_info("stream to %s failed: %s", tk_dlog_safe(s->target),
			strerror(err));
	tk__session_close(s);
}

/* What dir's pipe holds, into its relay queue and on to the writer. */
static int
take_pipe(struct tk_session *s, int dir)
{
	struct tk_relayq *q = dir == TK_SPLICE_UP ? &s->up : &s->down;
	uint8_t *p, *buf;
	size_t room, n, len;
	int rc;

	for (;;) {
		if (tk_relayq_space(q, &p, &room) < 0)
			return -1;
		n = tk_splice_take(&s->sp, dir, p, room);
		if (n == 0)
			break;
		tk_relayq_filled(q, n);
		if (dir == TK_SPLICE_UP) {
			if (up_flush(s, 1) < 0)
				return -1;
			continue;
		}
		while ((rc = tk_relayq_take(q, 1, &buf, &len)) == 1)
			if (tk__client_write(s, buf, len, 2) < 0)
				return -1;
		if (rc < 0)
			return -1;
	}
	if (tk_relayq_pending(q) == 0)
		tk_relayq_drop_fill(q);
	return 0;
}

/* splice refused these sockets: copy from where it stopped. */
static void
sp_fallback(void *arg, int err)
{
	struct tk_session *s = arg;
	int up_eof = s->sp.dir[TK_SPLICE_UP].eof,
	    up_shut = s->sp.dir[TK_SPLICE_UP].shut,
	    down_eof = s->sp.dir[TK_SPLICE_DOWN].eof,
	    down_shut = s->sp.dir[TK_SPLICE_DOWN].shut;

	tk_info("splice(2) refused the connection to %s (%s): relaying by "
		"copying",
		tk_dlog_safe(s->target), strerror(err));
	s->splicing = 0;
	if (take_pipe(s, TK_SPLICE_UP) < 0 ||
	    take_pipe(s, TK_SPLICE_DOWN) < 0) {
		tk__session_close(s);
		return;
	}
	tk_splice_stop(&s->sp);
	if (!up_eof) {
		/* st_written reads on once the queue is under the mark. */
		if (s->up.held < RELAY_HIGH) {
			s->client_reading = 1;
			uv_read_start(&s->h.stream, relay_alloc,
				      relay_from_client);
		}
	} else if (!up_shut) {
		s->client_eof = 1;
		tk_stream_shutdown(s->stream); /* after the queued bytes */
	}
	if (!down_eof) {
		/* relay_written reads on under the mark. */
		if (s->down.held < RELAY_HIGH) {
			s->target_reading = 1;
			tk_stream_read_start(s->stream);
		}
	} else if (!down_shut) {
		target_eof_copy(s);
		if (s->state != S_RELAY)
			return;
	}
	maybe_done(s);
}

static const struct tk_splice_cbs splice_cbs = {
	.moved = sp_moved,
	.eof_read = sp_eof_read,
	.eof_sent = sp_eof_sent,
	.error = sp_error,
	.fallback = sp_fallback,
};

/* Why a session copies although RelaySplice asks for splicing. */
static void
splice_refused(struct tk_session *s, int rc)
{
	static uint64_t last_log;
	uint64_t now = uv_now(s->srv->loop);

	if (rc == UV_EMFILE || rc == UV_ENFILE) {
		/* The pipes are a luxury: copying needs no descriptor. */
		if (now - last_log >= 5000 || last_log == 0) {
			tk_notice("Descriptors are short: relaying new "
				  "connections by copying rather than with "
				  "splice(2) pipes");
			last_log = now;
		}
		return;
	}
	if (rc != UV_ENOSYS)
		tk_info("no splice(2) for the connection to %s (%s): copying",
			tk_dlog_safe(s->target), uv_strerror(rc));
}

/* The relay with splice(2), when RelaySplice and the engine allow: 1 if
 * splicing (or s closed), 0 to copy. */
static int
splice_begin(struct tk_session *s, const uint8_t *ok, size_t n)
{
	struct tk_server *srv = s->srv;
	uv_os_fd_t cfd;
	int tfd, rc;

	if (!tk_splice_wanted(srv->cfg->relay_splice))
		return 0;
	/* A handshake reply libuv has not written yet must go first. */
	if (uv_stream_get_write_queue_size(&s->h.stream) > 0 ||
	    uv_fileno(&s->h.handle, &cfd) < 0)
		return 0;
	tfd = tk_stream_socket(s->stream, &stream_cbs, s);
	if (tfd < 0)
		return 0;
	rc = tk_splice_start(&s->sp, srv->loop, (int)cfd, tfd, &s->up, &s->down,
			     &splice_cbs, s);
	if (rc < 0) {
		splice_refused(s, rc);
		return 0;
	}
	s->splicing = 1;
	tk_info("relaying %s with splice(2)", tk_dlog_safe(s->target));
	/* The reply first, then the bytes the client sent after its request
	 * (optimistic data) ahead of anything else. */
	if ((rc = tk_splice_send(&s->sp, TK_SPLICE_DOWN, ok, n)) != 0 ||
	    (rc = tk_splice_send(&s->sp, TK_SPLICE_UP, s->in, s->in_len)) !=
		    0) {
		tk_info("relaying to %s failed at once: %s",
			tk_dlog_safe(s->target), strerror(rc));
		tk__session_close(s);
		return 1;
	}
	s->in_len = 0;
	return 1;
}

static void
relay_stop(struct tk_session *s)
{
	s->splicing = 0;
	tk_splice_stop(&s->sp);
}

/* ---- starting */

void
tk__start_relay(struct tk_session *s)
{
	uint8_t ok[32];
	size_t n = tk_socks_reply_connect(ok, sizeof(ok), s->codec.version,
					  TK_SOCKS5_SUCCEEDED, s->port.family);

	uv_timer_stop(&s->timer);
	s->relay_written = relay_written;
	s->relay_stop = relay_stop;
	tk__set_state(s, S_RELAY);
	s->last_active = uv_now(s->srv->loop);
	if (s->srv->cfg->idle_timeout > 0)
		uv_timer_start(&s->timer, idle_timeout,
			       (uint64_t)s->srv->cfg->idle_timeout * 1000, 0);
	if (splice_begin(s, ok, n))
		return;
	tk_stream_start(s->stream, &stream_cbs, s);
	s->target_reading = 1;
	/* The reply goes first; the target's bytes queue behind it. */
	if (tk__client_write_copy(s, ok, n, 0) < 0) {
		tk__session_close(s);
		return;
	}
	/* Bytes the client sent after its request (optimistic data) go to
	 * the target before anything else it sends. */
	if (s->in_len > 0) {
		uint8_t *p;
		size_t room;

		if (tk_relayq_space(&s->up, &p, &room) < 0) {
			tk__session_close(s);
			return;
		}
		memcpy(p, s->in, s->in_len); /* in_len <= HS_BUF < room */
		tk_relayq_filled(&s->up, s->in_len);
		s->in_len = 0;
		if (up_flush(s, 1) < 0) {
			tk__session_close(s);
			return;
		}
	}
	s->client_reading = 1;
	if (uv_read_start(&s->h.stream, relay_alloc, relay_from_client) < 0)
		tk__session_close(s);
}
