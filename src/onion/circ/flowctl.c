/* Circuit and stream windows, authenticated SENDMEs, congestion-controlled
 * hops, half-closed streams. */
#include "onion/circ/flowctl.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/cell/relay_msg.h"

const char *
tk_flow_strerror(int err)
{
	switch (err) {
	case TK_FLOW_OK:
		return "ok";
	case TK_FLOW_EWINDOW:
		return "package window is closed: wait for a SENDME before sending DATA";
	case TK_FLOW_EDELIVER:
		return "peer sent more DATA than our deliver window allows";
	case TK_FLOW_ESENDME:
		return "unexpected SENDME: it would open the window past its start";
	case TK_FLOW_ENOTAG:
		return "circuit SENDME received with no DATA cell awaiting one";
	case TK_FLOW_EBADTAG:
		return "circuit SENDME v1 digest does not match the DATA cell we sent";
	case TK_FLOW_EVERSION:
		return "SENDME version below the accepted minimum (or unknown)";
	case TK_FLOW_EMALFORMED:
		return "malformed SENDME body";
	case TK_FLOW_ENOMEM:
		return "out of memory for the cells in flight";
	}
	return "unknown flow-control error";
}

void
tk_circ_flow_init(tk_circ_flow *f)
{
	memset(f, 0, sizeof *f);
	f->package_window = TK_CIRCWINDOW_START;
	f->deliver_window = TK_CIRCWINDOW_START;
	f->inc = TK_CIRCWINDOW_INCREMENT;
	f->ack_cap = TK_FLOW_MAX_TAGS;
}

void
tk_circ_flow_init_cc(tk_circ_flow *f, const struct tk_cc_params *p,
		     unsigned sendme_inc)
{
	tk_circ_flow_init(f);
	f->has_cc = 1;
	tk_cc_init(&f->cc, p, sendme_inc);
	f->inc = (int)f->cc.sendme_inc;
	f->accept_min_version = p->sendme_accept_min_version;
	/* the inline records serve until the window outgrows them */
}

void
tk_circ_flow_free(tk_circ_flow *f)
{
	free(f->heap);
	f->heap = NULL;
	f->ack_count = 0;
}

static struct tk_flow_ack *
ack_at(tk_circ_flow *f, unsigned i)
{
	unsigned slot = (f->ack_head + i) % f->ack_cap;
	return f->heap ? &f->heap[slot] : &f->fixed[slot];
}

int
tk_circ_flow_package_window(const tk_circ_flow *f)
{
	if (!f->has_cc)
		return f->package_window > 0 ? f->package_window : 0;
	uint64_t w = tk_cc_package_window(&f->cc);
	return w > 0x7fffffff ? 0x7fffffff : (int)w;
}

/* The hop answers every 100 DATA cells; the cell that completes a
 * hundred is the one sent while the window is 1 above a multiple of 100
 * (901, 801, ... 1). */
static int
tag_position(int window)
{
	return window > 0 && (window - 1) % TK_CIRCWINDOW_INCREMENT == 0;
}

int
tk_circ_flow_next_needs_tag(const tk_circ_flow *f)
{
	if (f->has_cc)
		return tk_cc_next_is_acked(&f->cc);
	return tag_position(f->package_window);
}

int
tk_circ_flow_can_package(const tk_circ_flow *f)
{
	if (!f->has_cc)
		return f->package_window > 0;
	if (tk_cc_package_window(&f->cc) == 0)
		return 0;
	/* Past TK_FLOW_MAX_ACKS owed SENDMEs the window counts as closed. */
	return !tk_cc_next_is_acked(&f->cc) || f->ack_count < TK_FLOW_MAX_ACKS;
}

/* Makes room for one more record: the ring doubles, oldest first. */
static int
grow(tk_circ_flow *f)
{
	unsigned cap = f->ack_cap * 2;
	if (cap > TK_FLOW_MAX_ACKS)
		cap = TK_FLOW_MAX_ACKS;
	if (cap <= f->ack_cap)
		return TK_FLOW_EWINDOW;
	struct tk_flow_ack *n = malloc(cap * sizeof *n);
	if (!n)
		return TK_FLOW_ENOMEM;
	for (unsigned i = 0; i < f->ack_count; i++)
		n[i] = *ack_at(f, i);
	free(f->heap);
	f->heap = n;
	f->ack_head = 0;
	f->ack_cap = cap;
	return TK_FLOW_OK;
}

int
tk_circ_flow_prepare(tk_circ_flow *f)
{
	if (!tk_circ_flow_can_package(f))
		return TK_FLOW_EWINDOW;
	if (tk_circ_flow_next_needs_tag(f) && f->ack_count == f->ack_cap)
		return grow(f);
	return TK_FLOW_OK;
}

int
tk_circ_flow_data_sent(tk_circ_flow *f, const uint8_t *tag, uint64_t now_usec)
{
	if (!tk_circ_flow_can_package(f))
		return TK_FLOW_EWINDOW;
	if (tk_circ_flow_next_needs_tag(f)) {
		/* Fixed windows cannot overflow: at most 10 positions per
		 * 1000-cell window, which never exceeds 1000. */
		if (!tag)
			return TK_FLOW_EWINDOW;
		if (f->ack_count == f->ack_cap) {
			int rc = f->has_cc ? grow(f) : TK_FLOW_EWINDOW;
			if (rc != TK_FLOW_OK)
				return rc;
		}
		struct tk_flow_ack *a = ack_at(f, f->ack_count);
		memcpy(a->tag, tag, TK_FLOW_TAG_LEN);
		a->sent_usec = now_usec;
		f->ack_count++;
	}
	if (f->has_cc)
		tk_cc_cell_sent(&f->cc);
	else
		f->package_window--;
	f->data_sent++;
	return TK_FLOW_OK;
}

int
tk_circ_flow_sendme_received(tk_circ_flow *f, const uint8_t *body, size_t len,
			     uint64_t now_usec, int chan_blocked)
{
	tk_relay_sendme m;
	int rc = tk_relay_sendme_decode(body, len, &m);
	if (rc == TK_RELAY_EVERSION)
		return TK_FLOW_EVERSION;
	if (rc < 0)
		return TK_FLOW_EMALFORMED;
	if (m.version < f->accept_min_version)
		return TK_FLOW_EVERSION;
	if (f->ack_count == 0)
		return TK_FLOW_ENOTAG;
	struct tk_flow_ack a = *ack_at(f, 0);
	f->ack_head = (f->ack_head + 1) % f->ack_cap;
	f->ack_count--;
	if (m.version == 1 && !tk_ct_memeq(m.tag, a.tag, TK_FLOW_TAG_LEN))
		return TK_FLOW_EBADTAG;
	if (f->has_cc) {
		/* A clock that did not move gives RTT 0: Vegas treats that as
		 * a stall and skips the sample. */
		uint64_t rtt = now_usec > a.sent_usec ? now_usec - a.sent_usec
						      : 0;
		tk_cc_sendme(&f->cc, rtt, chan_blocked);
	} else {
		if (f->package_window + TK_CIRCWINDOW_INCREMENT >
		    TK_CIRCWINDOW_START)
			return TK_FLOW_ESENDME;
		f->package_window += TK_CIRCWINDOW_INCREMENT;
	}
	f->sendmes_received++;
	return TK_FLOW_OK;
}

int
tk_circ_flow_data_received(tk_circ_flow *f, const uint8_t *tag,
			   uint8_t sendme_body[23], size_t *sendme_len)
{
	*sendme_len = 0;
	if (f->deliver_window <= 0)
		return TK_FLOW_EDELIVER;
	f->deliver_window--;
	f->data_received++;
	if (f->deliver_window > TK_CIRCWINDOW_START - f->inc)
		return TK_FLOW_OK;
	if (!tag)
		return TK_FLOW_EMALFORMED; /* caller bug: digest needed */
	int n = tk_relay_sendme_encode(1, tag, sendme_body, 23);
	if (n < 0)
		return TK_FLOW_EMALFORMED;
	*sendme_len = (size_t)n;
	f->deliver_window += f->inc;
	f->sendmes_sent++;
	return TK_FLOW_OK;
}

void
tk_stream_flow_init(tk_stream_flow *f)
{
	f->package_window = TK_STREAMWINDOW_START;
	f->deliver_window = TK_STREAMWINDOW_START;
}

int
tk_stream_flow_can_package(const tk_stream_flow *f)
{
	return f->package_window > 0;
}

int
tk_stream_flow_data_sent(tk_stream_flow *f)
{
	if (f->package_window <= 0)
		return TK_FLOW_EWINDOW;
	f->package_window--;
	return TK_FLOW_OK;
}

int
tk_stream_flow_sendme_received(tk_stream_flow *f)
{
	if (f->package_window + TK_STREAMWINDOW_INCREMENT >
	    TK_STREAMWINDOW_START)
		return TK_FLOW_ESENDME;
	f->package_window += TK_STREAMWINDOW_INCREMENT;
	return TK_FLOW_OK;
}

int
tk_stream_flow_data_received(tk_stream_flow *f)
{
	if (f->deliver_window <= 0)
		return TK_FLOW_EDELIVER;
	f->deliver_window--;
	return TK_FLOW_OK;
}

int
tk_stream_flow_sendmes_due(tk_stream_flow *f, int backed_up)
{
	int n = 0;
	if (backed_up)
		return 0;
	while (f->deliver_window <=
	       TK_STREAMWINDOW_START - TK_STREAMWINDOW_INCREMENT) {
		f->deliver_window += TK_STREAMWINDOW_INCREMENT;
		n++;
	}
	return n;
}

void
tk_stream_xon_init(tk_stream_xon *x, const struct tk_cc_params *p)
{
	memset(x, 0, sizeof *x);
	x->xoff_limit = (uint64_t)p->cc_xoff_client * TK_RELAY_DATA_MAX;
	x->peer_xoff_limit = (uint64_t)p->cc_xoff_exit * TK_RELAY_DATA_MAX;
	x->xon_rate_bytes = (uint64_t)p->cc_xon_rate * TK_RELAY_DATA_MAX;
	x->change_pct = (uint32_t)p->cc_xon_change_pct;
	x->ewma_cnt = (uint32_t)(p->cc_xon_ewma_cnt < 2 ? 2
							: p->cc_xon_ewma_cnt);
}

/* Past this much queued, tor assumes the reader is not draining and
 * looks at the rate even without a write (its MAX_EXPECTED_CELL_BURST). */
#define BURST_BYTES (32 * TK_RELAY_DATA_MAX)
/* Counters are halved past these, so that old traffic does not excuse
 * new XON/XOFF cells forever (tor's *_SCALE_AT). */
#define COUNT_SCALE_AT 200
#define BYTES_SCALE_AT (10u << 20)

int
tk_stream_xon_data_arrived(tk_stream_xon *x, uint64_t buffered,
			   uint64_t now_usec)
{
	if (buffered > x->xoff_limit && !x->xoff_sent) {
		/* a rate measured all the way to XOFF is wrong */
		x->ewma_rate = 0;
		return TK_XON_SEND_XOFF;
	}
	if (buffered > BURST_BYTES)
		return tk_stream_xon_drained(x, 0, buffered, now_usec);
	return TK_XON_NONE;
}

static int
rate_changed(const tk_stream_xon *x)
{
	uint64_t last = x->rate_last_sent;
	if (!last)
		return 0;
	return x->ewma_rate > (100 + (uint64_t)x->change_pct) * last / 100 ||
	       x->ewma_rate < (100 - (uint64_t)x->change_pct) * last / 100;
}

int
tk_stream_xon_drained(tk_stream_xon *x, uint64_t n, uint64_t buffered,
		      uint64_t now_usec)
{
	int action = TK_XON_NONE;

	if (x->drained >= UINT32_MAX - n) {
		x->drained /= 2;
		if (x->drain_start_usec)
			x->drain_start_usec =
				now_usec - (now_usec - x->drain_start_usec) / 2;
	}
	x->drained += n;
	if (!x->drain_start_usec && buffered > 0) {
		/* data is queueing: time how fast it goes */
		x->drain_start_usec = now_usec ? now_usec : 1;
		x->drained = 0;
	}
	if (x->drain_start_usec && x->drained > x->xon_rate_bytes) {
		if (x->prev_drained == 0)
			x->prev_drained = x->drained;
		uint64_t delta = now_usec > x->drain_start_usec
					 ? now_usec - x->drain_start_usec
					 : 0;
		uint32_t rate = 0;
		if (delta) {
			/* bytes/usec * 1000 = KB/s */
			uint64_t r = x->prev_drained * 1000 / delta;
			rate = r > 0x7fffffff ? 0x7fffffff
					      : (uint32_t)(r ? r : 1);
		}
		x->prev_drained = x->drained;
		if (rate) {
			uint64_t n_ = x->ewma_cnt;
			x->ewma_rate =
				x->ewma_rate == 0
					? rate
					: (uint32_t)((2 * (uint64_t)rate +
						      (n_ - 1) * x->ewma_rate) /
						     (n_ + 1));
			x->drained = 0;
			x->drain_start_usec = 0;
		}
	}
	if (!x->xoff_sent) {
		if (rate_changed(x))
			action = TK_XON_SEND_XON; /* advisory */
	} else if (buffered == 0) {
		action = TK_XON_SEND_XON;
	}
	if (buffered == 0) {
		x->drain_start_usec = 0;
		/* drained with nothing queued: the reader is faster than
		 * we said; double the advice */
		if (x->drained >= x->xon_rate_bytes && x->rate_last_sent) {
			uint64_t d = 2 * (uint64_t)x->ewma_rate;
			x->ewma_rate = d > 0x7fffffff ? 0x7fffffff
						      : (uint32_t)d;
			x->prev_drained = x->drained;
			x->drained = 0;
		}
	}
	return action;
}

void
tk_stream_xon_sent(tk_stream_xon *x, int action)
{
	if (action == TK_XON_SEND_XOFF) {
		x->xoff_sent = 1;
		x->xoffs_sent++;
	} else if (action == TK_XON_SEND_XON) {
		x->rate_last_sent = x->ewma_rate;
		x->xoff_sent = 0;
		x->xons_sent++;
	}
}

static void
scale_down(tk_stream_xon *x)
{
	x->bytes_sent /= 2;
	x->xoffs_received /= 2;
	x->xons_received /= 2;
}

void
tk_stream_xon_data_sent(tk_stream_xon *x, uint64_t len)
{
	if (x->bytes_sent >= BYTES_SCALE_AT - len)
		scale_down(x);
	x->bytes_sent += len;
}

int
tk_stream_xon_got_xoff(tk_stream_xon *x)
{
	int rc = 0;
	if (x->xoff_received)
		return -1;
	if (x->xoffs_received == COUNT_SCALE_AT)
		scale_down(x);
	x->xoffs_received++;
	/* an exit sends XOFF only past cc_xoff_exit of our data */
	if (x->bytes_sent < x->peer_xoff_limit * x->xoffs_received) {
		x->suspect++;
		rc = 1;
	}
	x->xoff_received = 1;
	return rc;
}

int
tk_stream_xon_got_xon(tk_stream_xon *x, uint32_t kbps)
{
	int rc = 0;
	uint64_t limit = x->peer_xoff_limit < x->xon_rate_bytes
				 ? x->peer_xoff_limit
				 : x->xon_rate_bytes;
	if (x->xons_received == COUNT_SCALE_AT)
		scale_down(x);
	x->xons_received++;
	if (x->bytes_sent < limit * x->xons_received) {
		x->suspect++;
		rc = 1;
	}
	/* 0 means no advice; tor also treats rates past INT32_MAX bytes/s
	 * as none */
	x->send_rate = (uint64_t)kbps * 1000 > 0x7fffffff ? 0 : kbps;
	x->xoff_received = 0;
	return rc;
}

size_t
tk_send_bucket_allow(tk_send_bucket *b, uint32_t rate, uint64_t now_usec)
{
	if (!rate)
		return SIZE_MAX;
	if (!b->rate) {
		b->tokens = rate; /* a fresh bucket starts full */
		b->frac = 0;
	} else if (now_usec > b->at_usec) {
		uint64_t dt = now_usec - b->at_usec;
		if (dt >= 1000000) {
			b->tokens = rate; /* a second refills it */
			b->frac = 0;
		} else {
			/* dt * rate < 2^20 * 2^31: no overflow; the fraction
			 * of a byte is kept, so frequent calls lose nothing */
			uint64_t num = b->frac + dt * rate;
			b->tokens += num / 1000000;
			b->frac = (uint32_t)(num % 1000000);
		}
	}
	b->rate = rate;
	if (now_usec > b->at_usec)
		b->at_usec = now_usec;
	if (b->tokens >= rate) {
		b->tokens = rate;
		b->frac = 0;
	}
	return (size_t)b->tokens;
}

void
tk_send_bucket_spend(tk_send_bucket *b, size_t n)
{
	b->tokens = n < b->tokens ? b->tokens - n : 0;
}

uint64_t
tk_send_bucket_wait_usec(const tk_send_bucket *b, uint64_t min_usec)
{
	uint64_t need, w;
	if (!b->rate || b->tokens >= TK_RELAY_DATA_MAX)
		return 0;
	need = (TK_RELAY_DATA_MAX - b->tokens) * 1000000 - b->frac;
	/* rounded up: waking early would find less than a cell */
	w = (need + b->rate - 1) / b->rate;
	return w < min_usec ? min_usec : w;
}

void
tk_half_stream_init(tk_half_stream *h, uint16_t stream_id,
		    const tk_stream_flow *f, int connected_pending)
{
	memset(h, 0, sizeof *h);
	h->stream_id = stream_id;
	/* What the exit may still send: a full deliver window of DATA and a
	 * SENDME for every 50 cells we sent that it has not acknowledged. */
	h->data_pending = f ? f->deliver_window : TK_STREAMWINDOW_START;
	if (h->data_pending < 0)
		h->data_pending = 0;
	h->sendmes_pending = f ? (TK_STREAMWINDOW_START - f->package_window) /
					     TK_STREAMWINDOW_INCREMENT
			       : 0;
	if (h->sendmes_pending < 0)
		h->sendmes_pending = 0;
	h->connected_pending = connected_pending != 0;
}

int
tk_half_stream_on_msg(tk_half_stream *h, uint8_t relay_cmd)
{
	switch (relay_cmd) {
	case TK_RELAY_XON:
	case TK_RELAY_XOFF:
		return h->cc ? TK_HALF_ACCEPT : TK_HALF_UNEXPECTED;
	case TK_RELAY_DATA:
		if (h->cc)
			return TK_HALF_ACCEPT;
		if (h->data_pending > 0) {
			h->data_pending--;
			return TK_HALF_ACCEPT;
		}
		return TK_HALF_UNEXPECTED;
	case TK_RELAY_SENDME:
		if (h->sendmes_pending > 0) {
			h->sendmes_pending--;
			return TK_HALF_ACCEPT;
		}
		return TK_HALF_UNEXPECTED;
	case TK_RELAY_CONNECTED:
		if (h->connected_pending) {
			h->connected_pending = 0;
			return TK_HALF_ACCEPT;
		}
		return TK_HALF_UNEXPECTED;
	case TK_RELAY_RESOLVED: /* a lookup's answer is its last word */
	case TK_RELAY_END:
		return TK_HALF_DONE;
	default:
		return TK_HALF_UNEXPECTED;
	}
}
