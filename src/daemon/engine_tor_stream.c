/* engine_tor_stream.c — a daemon stream (engine.h) over an onion stream:
 * the onion stream's callbacks passed up to the front-end, its calls
 * passed down. */
#include <stdlib.h>

#include "daemon/engine_tor_int.h"
#include "daemon/log.h"

static void
s_alloc(void *arg, size_t suggested, uint8_t **buf, size_t *cap)
{
	struct tor_stream *s = arg;

	s->cbs->alloc(s->arg, suggested, buf, cap);
}

static void
s_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct tor_stream *s = arg;

	s->cbs->read(s->arg, buf, len, eof);
}

static void
s_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct tor_stream *s = arg;

	s->cbs->written(s->arg, buf, len, status);
}

static void
s_error(void *arg, int reason)
{
	struct tor_stream *s = arg;
	struct tor_engine *e = (struct tor_engine *)s->base.engine;
	char circ[160];

	tk_et_describe_circ(e, s->circ, circ, sizeof(circ));
	tk_info("stream to %s failed: END %s (%s)", tk_dlog_safe(s->target),
		tk_et_reason_name(reason), circ);
	s->cbs->error(s->arg, reason);
}

static void
s_closed(void *arg)
{
	struct tor_stream *s = arg;
	struct tor_engine *e = (struct tor_engine *)s->base.engine;

	if (s->cbs != NULL && s->cbs->closed != NULL)
		s->cbs->closed(s->arg);
	free(s);
	e->n_streams--;
	tk_et_finish(e);
}

static const struct tk_onion_stream_cbs stream_cbs = {
	.alloc = s_alloc,
	.read = s_read,
	.written = s_written,
	.error = s_error,
	.closed = s_closed,
};

void
tk_et_stream_start(struct tk_stream *base, const struct tk_stream_cbs *cbs,
		   void *arg)
{
	struct tor_stream *s = (struct tor_stream *)base;

	s->cbs = cbs;
	s->arg = arg;
	tk_onion_stream_start(s->os, &stream_cbs, s);
}

void
tk_et_stream_read_stop(struct tk_stream *base)
{
	tk_onion_stream_read_stop(((struct tor_stream *)base)->os);
}

void
tk_et_stream_read_start(struct tk_stream *base)
{
	tk_onion_stream_read_start(((struct tor_stream *)base)->os);
}

int
tk_et_stream_write(struct tk_stream *base, uint8_t *buf, size_t len)
{
	struct tor_stream *s = (struct tor_stream *)base;

	if (len == 0)
		return 0;
	/* -EPIPE after shutdown/error is UV_EPIPE on every libuv target. */
	return tk_onion_stream_write(s->os, buf, len);
}

void
tk_et_stream_shutdown(struct tk_stream *base)
{
	struct tor_stream *s = (struct tor_stream *)base;

	/* Tor's relay protocol has no half-close (doc/differences.md): the
	 * queued bytes go out, the stream keeps delivering what the exit
	 * sends until the exit ends it, the client closes, or nothing moved
	 * for HalfCloseLinger; then END and EOF. The engine lingers. */
	tk_debug("stream to %s: the client finished sending; lingering",
		 tk_dlog_safe(s->target));
	tk_onion_stream_shutdown(s->os);
}

void
tk_et_stream_close(struct tk_stream *base)
{
	struct tor_stream *s = (struct tor_stream *)base;

	/* ostream gives back queued buffers (written, failed) and then
	 * calls s_closed, which frees the wrapper. */
	tk_onion_stream_close(s->os);
}

size_t
tk_et_stream_held(const struct tk_stream *base)
{
	return tk_onion_stream_queued(((const struct tor_stream *)base)->os);
}
