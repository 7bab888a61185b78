/* streams.h, the bytes of an open stream: what the exit sends waits in
 * chunks for the reader (XOFF/XON and the stream window stop the exit
 * while it does not read), what the application writes waits for the
 * windows and the exit's advised rate; and the deferred work,
 * tk_ss_service(), which answers requests and calls the application
 * back. Below streams_req.c, above streams.c (streams_int.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/client/streams_int.h"

/* Cells kept for a reader that is not reading before we stop sending
 * stream SENDMEs (the exit then stops after its window, 500 cells). */
#define READ_HIGH (64 * 1024)
#define READ_LOW (16 * 1024)
/* With congestion control the exit stops on our XOFF (sent past
 * cc_xoff_client cells held), but what it had in flight still comes.
 * Beyond this much more, it ignored the XOFF: the stream is ended. */
#define READ_CC_SLACK (8u << 20)

/* What one queued entry costs beyond its bytes: the allocator's header
 * and our own. */
#define ALLOC_OVERHEAD 16
#define RCHUNK_COST(len) (sizeof(struct rchunk) + (len) + ALLOC_OVERHEAD)
#define WBUF_COST (sizeof(struct wbuf) + ALLOC_OVERHEAD)

static void
hold(ostrm *s, size_t n)
{
	s->held += n;
	s->ss->held += n;
}

static void
unhold(ostrm *s, size_t n)
{
	s->held -= n;
	s->ss->held -= n;
}

/* For drain rates: finer than the loop's millisecond clock. */
static uint64_t
now_usec(void)
{
	return uv_hrtime() / 1000;
}

/* --------------------------------------- stream table side: the bytes */

static void
set_backed_up(ostrm *s, int on)
{
	if (s->backed_up == on || !s->os || !s->oc)
		return;
	s->backed_up = on;
	(void)tk_ostream_set_backed_up(tk_ocirc_streams(s->oc), s->os, on);
}

void
tk_ss_data(void *ud, tk_ostream *os, const uint8_t *p, size_t len)
{
	ostrm *s = tk_ostream_data(os);
	tk_ocirc *oc = ud;
	size_t before = s->rq_bytes;
	struct rchunk *c;
	if (s->user_closed || !len)
		return;
	if (tk_ostream_table_uses_cc(tk_ocirc_streams(oc)) &&
	    s->rq_bytes > tk_ostream_xon(os)->xoff_limit + READ_CC_SLACK) {
		tk_ss_log(s->ss, TK_LOG_INFO,
			  "stream to %s:%u on circ %u: the exit sent %zu bytes "
			  "after our XOFF; ending the stream",
			  tk_ss_host(s->ss, s->host), s->port, s->serial,
			  s->rq_bytes);
		s->error_reason = TK_RELAY_END_RESOURCELIMIT;
		tk_ss_kick(s);
		return;
	}
	c = malloc(sizeof *c + len);
	if (!c) {
		s->error_reason = TK_RELAY_END_RESOURCELIMIT;
		tk_ss_kick(s);
		return;
	}
	c->next = NULL;
	c->len = len;
	c->off = 0;
	memcpy(c->data, p, len);
	hold(s, RCHUNK_COST(len));
	if (s->rq_tail)
		s->rq_tail->next = c;
	else
		s->rq = c;
	s->rq_tail = c;
	s->rq_bytes += len;
	s->bytes_down += len;
	s->last_activity = tk_ss_now_ms(s->ss);
	if (!s->started || !s->reading || s->rq_bytes > READ_HIGH)
		set_backed_up(s, 1);
	/* Congestion control: XOFF once too much waits because the reader
	 * cannot take it. Bytes that arrived in this loop turn while the
	 * reader reads are handed over by tk_ss_service() in the next: they
	 * are not backed up, however many one burst of cells brought (libuv
	 * reads up to 32 x 64 KiB from one socket in a turn). */
	(void)tk_ostream_data_queued(tk_ocirc_streams(oc), os,
				     s->started && s->reading ? 0 : before,
				     now_usec());
	tk_ss_note_xon(s);
	tk_ss_kick(s);
}

void
tk_ss_writable(void *ud, tk_ostream *os)
{
	(void)ud;
	tk_ss_note_xon(tk_ostream_data(os));
	tk_ss_kick(tk_ostream_data(os));
}

/* ------------------------------------------------------- the service */

/* The write queues, wq (waiting for the exit) and wdone (sent, to be
 * given back), are lists with a tail. */
static void
wq_push(struct wbuf **head, struct wbuf **tail, struct wbuf *w)
{
	w->next = NULL;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static struct wbuf *
wq_pop(struct wbuf **head, struct wbuf **tail)
{
	struct wbuf *w = *head;
	*head = w->next;
	if (!*head)
		*tail = NULL;
	return w;
}

/* w goes back to the writer, with status st. */
static void
give_back(ostrm *s, struct wbuf *w, int st)
{
	unhold(s, WBUF_COST);
	if (s->started && s->cbs.written)
		s->cbs.written(s->uarg, w->buf, w->len, st);
	free(w);
}

/* Every buffer back: those sent with 0, those not with status. */
static void
give_back_all(ostrm *s, int status)
{
	while (s->wdone)
		give_back(s, wq_pop(&s->wdone, &s->wdone_tail), 0);
	while (s->wq)
		give_back(s, wq_pop(&s->wq, &s->wq_tail), status);
}

/* The streams out of tokens have waited long enough for at least the
 * earliest of them to send a cell: each tries again, and whichever is
 * still short re-arms the timer. */
static void
rate_timer_cb(uv_timer_t *t)
{
	tk_streams *ss = t->data;
	struct link *head = &ss->all, *l;
	ss->rate_due = 0;
	for (l = head->next; l != head; l = l->next) {
		ostrm *s = container_of(l, ostrm, link);
		if (s->rate_wait) {
			s->rate_wait = 0;
			tk_ss_kick(s);
		}
	}
}

/* s is out of tokens: wake it once its bucket holds a cell's worth. Not
 * sooner than RATE_MIN_WAIT_MS, which bounds the wake-ups (each walks
 * the streams) at a granularity ten times finer than tor's 100 ms. */
#define RATE_MIN_WAIT_MS 10
static void
rate_wait(ostrm *s)
{
	tk_streams *ss = s->ss;
	uint64_t now = tk_ss_now_ms(ss), wait_ms, due;
	wait_ms =
		(tk_send_bucket_wait_usec(&s->bucket, RATE_MIN_WAIT_MS * 1000) +
		 999) /
		1000;
	due = now + wait_ms;
	s->rate_wait = 1;
	if (ss->rate_due && ss->rate_due <= due)
		return; /* armed for an earlier stream, which kicks us all */
	ss->rate_due = due;
	uv_timer_start(ss->rate_timer, rate_timer_cb, wait_ms, 0);
}

static void
pump_writes(ostrm *s)
{
	while (s->wq && s->os && s->oc && s->phase == P_OPEN) {
		struct wbuf *w = s->wq;
		size_t want = w->len - w->off;
		size_t allow = tk_send_bucket_allow(&s->bucket,
						    tk_ostream_send_rate(s->os),
						    now_usec());
		/* less than asked and than a cell: wait for a whole cell
		 * rather than send a runt */
		if (allow < want && allow < TK_RELAY_DATA_MAX) {
			rate_wait(s);
			break;
		}
		if (want > allow)
			want = allow;
		long n = tk_ostream_write(tk_ocirc_streams(s->oc), s->os,
					  w->buf + w->off, want);
		if (n <= 0)
			break; /* windows closed (writable follows) or gone */
		if (allow != SIZE_MAX)
			tk_send_bucket_spend(&s->bucket, (size_t)n);
		s->bytes_up += (uint64_t)n;
		tk_ss_note_xon(s);
		w->off += (size_t)n;
		s->last_activity = tk_ss_now_ms(s->ss);
		if (w->off < w->len)
			break;
		wq_push(&s->wdone, &s->wdone_tail, wq_pop(&s->wq, &s->wq_tail));
	}
}

void
tk_ss_service(struct tk_defer *d)
{
	ostrm *s = container_of(d, ostrm, d);

	if (s->done_pending) {
		s->done_pending = 0;
		if (s->kind == K_CONNECT) {
			tk_onion_connect_cb cb = s->ccb;
			if (s->done_reason) {
				cb(s->arg, s->done_reason, NULL);
				tk_ss_free(s);
				return;
			}
			cb(s->arg, 0, s); /* the application owns it now */
			if (!tk_circmgr_dying(s->ss->cm) &&
			    (s->started || s->user_closed))
				tk_ss_kick(s);
			return;
		}
		s->rcb(s->arg, s->done_reason, s->done_reason ? NULL : &s->res);
		tk_ss_free(s);
		return;
	}
	for (;;) {
		if (tk_circmgr_dying(s->ss->cm))
			return; /* freed with the manager */
		if (s->user_closed) {
			tk_ss_log_closed(s);
			give_back_all(s, -1);
			if (s->cbs.closed)
				s->cbs.closed(s->uarg);
			tk_ss_free(s);
			return;
		}
		if (!s->started)
			return;
		pump_writes(s);
		if (s->wdone) {
			give_back(s, wq_pop(&s->wdone, &s->wdone_tail), 0);
			continue;
		}
		if (s->reading && s->rq) {
			uint8_t *buf = NULL;
			size_t cap = 0, n = 0;
			s->cbs.alloc(s->uarg, s->rq_bytes, &buf, &cap);
			if (!buf || !cap) {
				s->reading =
					0; /* no memory: read_start again */
				set_backed_up(s, 1);
				continue;
			}
			/* Fill the buffer from as many chunks as it holds: one
			 * per DATA cell (498 bytes) in a 64 KiB buffer would
			 * waste the memory and the writes. */
			while (s->rq && n < cap) {
				struct rchunk *c = s->rq;
				size_t k = c->len - c->off;
				if (k > cap - n)
					k = cap - n;
				memcpy(buf + n, c->data + c->off, k);
				c->off += k;
				n += k;
				if (c->off == c->len) {
					s->rq = c->next;
					if (!s->rq)
						s->rq_tail = NULL;
					unhold(s, RCHUNK_COST(c->len));
					free(c);
				}
			}
			s->rq_bytes -= n;
			if (s->backed_up && s->rq_bytes <= READ_LOW)
				set_backed_up(s, 0);
			/* congestion control: XON once drained, rate advice */
			if (s->os && s->oc)
				(void)tk_ostream_data_drained(tk_ocirc_streams(
								      s->oc),
							      s->os, n,
							      s->rq_bytes,
							      now_usec());
			s->cbs.read(s->uarg, buf, n, 0);
			continue;
		}
		if (s->reading && !s->rq && s->eof_got && !s->eof_sent) {
			s->eof_sent = 1;
			s->cbs.read(s->uarg, NULL, 0, 1);
			continue;
		}
		if (s->error_reason && !s->error_sent &&
		    (!s->rq || !s->reading)) {
			s->error_sent = 1;
			s->reading = 0;
			give_back_all(s, -1);
			s->cbs.error(s->uarg, s->error_reason);
			continue;
		}
		if ((s->error_sent || s->eof_got) && s->wq && !s->os)
			give_back_all(s, -1); /* nowhere to send them now */
		return;
	}
}

/* ----------------------------------------------------------- streams */

void
tk_onion_stream_start(tk_onion_stream *s, const struct tk_onion_stream_cbs *cbs,
		      void *arg)
{
	s->cbs = *cbs;
	s->uarg = arg;
	s->started = 1;
	s->reading = 1;
	tk_ss_kick(s);
}

void
tk_onion_stream_read_stop(tk_onion_stream *s)
{
	s->reading = 0;
	set_backed_up(s, 1);
}

void
tk_onion_stream_read_start(tk_onion_stream *s)
{
	s->reading = 1;
	if (s->rq_bytes <= READ_LOW)
		set_backed_up(s, 0);
	tk_ss_kick(s);
}

int
tk_onion_stream_write(tk_onion_stream *s, uint8_t *buf, size_t len)
{
	struct wbuf *w;
	if (s->user_closed || s->shut || s->error_reason || s->eof_got || !len)
		return -EPIPE;
	w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->buf = buf;
	w->len = len;
	hold(s, WBUF_COST);
	wq_push(&s->wq, &s->wq_tail, w);
	tk_ss_kick(s);
	return 0;
}

void
tk_onion_stream_shutdown(tk_onion_stream *s)
{
	if (s->shut)
		return;
	s->shut = 1;
	s->last_activity = tk_ss_now_ms(s->ss);
	tk_ss_kick(s);
}

void
tk_onion_stream_close(tk_onion_stream *s)
{
	if (s->user_closed)
		return;
	s->user_closed = 1;
	tk_ss_note_xon(s);
	tk_ss_end_os(s);
	s->oc = NULL;
	tk_ss_kick(s);
}
