/* Circuit and stream flow control (tor-spec §7.3-7.4, C tor's sendme.c),
 * in its two forms.
 *
 * Fixed windows, for every circuit built with CREATE_FAST or ntor v1 and
 * every hop that did not negotiate congestion control:
 *
 *   circuit, per hop:  package 1000, +100 per circuit SENDME from the hop;
 *                      deliver 1000, a SENDME back each time it reaches 900
 *   stream:            package 500, +50 per stream SENDME;
 *                      deliver 500, a SENDME back at 450 (unless the local
 *                      side is backed up)
 *
 * Congestion control (proposal 324), for a hop that accepted it in the
 * ntor v3 handshake: the package window is Vegas's cwnd - inflight
 * (congestion.h), both ends send a circuit SENDME every negotiated
 * sendme_inc DATA cells, and streams have no windows: XON/XOFF instead
 * (stream.c).
 *
 * Only DATA cells count. Circuit SENDMEs are authenticated (v1): each
 * carries the 20-byte relay digest of the cell it acknowledges (the
 * 100th, 200th, ... or the sendme_inc-th, 2*sendme_inc-th, ... DATA cell
 * the other side received); we record the digests of the cells we send,
 * with the time we sent them for congestion control's RTT, and check the
 * hop's SENDMEs against them in order, and put the digest of the cell we
 * just received into ours.
 *
 * Pure arithmetic: no I/O, no clock (times come from the caller). Only a
 * congestion-controlled hop allocates (its list of unacknowledged cells
 * grows with the window, up to TK_FLOW_MAX_ACKS). Functions return 0 or
 * a negative TK_FLOW_E* code meaning the peer broke the protocol (the
 * caller tears down the circuit, or for stream-level deliver errors ends
 * the stream with TORPROTOCOL, as C tor does). */
#ifndef TK_ONION_CIRC_FLOWCTL_H
#define TK_ONION_CIRC_FLOWCTL_H

#include <stddef.h>
#include <stdint.h>

#include "onion/circ/congestion.h"

#define TK_CIRCWINDOW_START 1000
#define TK_CIRCWINDOW_INCREMENT 100
#define TK_STREAMWINDOW_START 500
#define TK_STREAMWINDOW_INCREMENT 50
#define TK_FLOW_TAG_LEN 20
/* Outstanding tags: one per 100 cells of a full 1000-cell window. */
#define TK_FLOW_MAX_TAGS (TK_CIRCWINDOW_START / TK_CIRCWINDOW_INCREMENT)
/* With congestion control: at most this many SENDMEs owed at once, so
 * at most TK_FLOW_MAX_ACKS * sendme_inc cells in flight (31744 with the
 * real network's 31: 15 MB, 30 MB/s at 500 ms) and 28 KiB of records. */
#define TK_FLOW_MAX_ACKS 1024

enum tk_flow_err {
	TK_FLOW_OK = 0,
	TK_FLOW_EWINDOW = -1,  /* we were asked to send with a closed window */
	TK_FLOW_EDELIVER = -2, /* peer sent DATA beyond our deliver window */
	TK_FLOW_ESENDME = -3,  /* SENDME would open a window past its start */
	TK_FLOW_ENOTAG = -4,   /* circuit SENDME with no DATA to acknowledge */
	TK_FLOW_EBADTAG = -5,  /* circuit SENDME v1 tag does not match */
	TK_FLOW_EVERSION = -6, /* SENDME version refused by policy */
	TK_FLOW_EMALFORMED = -7, /* SENDME body does not parse */
	TK_FLOW_ENOMEM = -8	 /* no memory to record a cell in flight */
};
const char *tk_flow_strerror(int err);

/* ---- circuit level, one per hop we exchange DATA with ---------------- */

/* A cell the hop owes us a SENDME for. */
struct tk_flow_ack {
	uint8_t tag[TK_FLOW_TAG_LEN];
	uint64_t sent_usec;
};

typedef struct tk_circ_flow {
	int package_window; /* fixed windows only */
	int deliver_window;
	int inc;    /* DATA cells per SENDME, both ways: 100 or sendme_inc */
	int has_cc; /* congestion control negotiated: cc is in use */
	tk_cc cc;
	/* FIFO of the cells awaiting the hop's SENDME: in `fixed` for fixed
	 * windows, in `heap` (grown as cwnd grows) with congestion control */
	struct tk_flow_ack fixed[TK_FLOW_MAX_TAGS];
	struct tk_flow_ack *heap;
	unsigned ack_head, ack_count, ack_cap;
	/* Lowest SENDME version we accept from the hop: 0 on a bare test
	 * network, 1 when the consensus says sendme_accept_min_version=1. */
	int accept_min_version;
	uint64_t data_sent, data_received, sendmes_sent, sendmes_received;
} tk_circ_flow;

/* Fixed windows. Allocates nothing. */
void tk_circ_flow_init(tk_circ_flow *f);
/* Congestion control with the hop, at its negotiated sendme_inc. */
void tk_circ_flow_init_cc(tk_circ_flow *f, const struct tk_cc_params *p,
			  unsigned sendme_inc);
void tk_circ_flow_free(tk_circ_flow *f);
/* 1 if a DATA cell may be sent to this hop now. */
int tk_circ_flow_can_package(const tk_circ_flow *f);
/* Cells the hop may still take (cwnd - inflight with congestion
 * control), clamped to [0, INT32_MAX]. */
int tk_circ_flow_package_window(const tk_circ_flow *f);
/* 1 if the DATA cell about to be sent is one whose digest must be
 * remembered (the caller may then compute only that digest). */
int tk_circ_flow_next_needs_tag(const tk_circ_flow *f);
/* Before sealing a DATA cell: makes sure data_sent cannot fail for it,
 * since a sealed cell has advanced the relay digest and must go out.
 * 0, EWINDOW (window closed) or ENOMEM. */
int tk_circ_flow_prepare(tk_circ_flow *f);
/* A DATA cell went to the hop at now_usec; tag = its 20-byte relay
 * digest (may be NULL unless tk_circ_flow_next_needs_tag() said 1).
 * EWINDOW if the window was already closed (a caller bug). */
int tk_circ_flow_data_sent(tk_circ_flow *f, const uint8_t *tag,
			   uint64_t now_usec);
/* A circuit SENDME (stream id 0) body arrived from the hop at now_usec:
 * parse it, pop the oldest record (whatever the version, as C tor does,
 * so v0 peers do not make records pile up), compare a v1 tag in constant
 * time, then open the fixed window by 100, or run Vegas with the RTT of
 * the acknowledged cell (chan_blocked: our channel's output is backed
 * up, a congestion signal). */
int tk_circ_flow_sendme_received(tk_circ_flow *f, const uint8_t *body,
				 size_t len, uint64_t now_usec,
				 int chan_blocked);
/* A DATA cell arrived from the hop (on any stream, known or not);
 * tag = its 20-byte relay digest. If a SENDME is now owed, *sendme_len is
 * set to the length of the v1 body written to sendme_body (23 bytes),
 * else 0; the window is credited at once, as C tor does on sending. */
int tk_circ_flow_data_received(tk_circ_flow *f, const uint8_t *tag,
			       uint8_t sendme_body[23], size_t *sendme_len);

/* ---- stream level ----------------------------------------------------- */

typedef struct tk_stream_flow {
	int package_window;
	int deliver_window;
} tk_stream_flow;

void tk_stream_flow_init(tk_stream_flow *f);
int tk_stream_flow_can_package(const tk_stream_flow *f);
int tk_stream_flow_data_sent(tk_stream_flow *f);
/* A stream SENDME arrived: +50, ESENDME past 500 (C tor closes the
 * circuit for that). */
int tk_stream_flow_sendme_received(tk_stream_flow *f);
/* A DATA cell arrived on the stream: EDELIVER when the peer overran the
 * window. */
int tk_stream_flow_data_received(tk_stream_flow *f);
/* How many stream SENDMEs to send now: call after delivering data and
 * again whenever the local side drains; backed_up = the local writer is
 * over its high-water mark (then 0, so the exit stops at the window).
 * The window is credited for each one counted. */
int tk_stream_flow_sendmes_due(tk_stream_flow *f, int backed_up);

/* ---- stream level with congestion control: XON/XOFF (prop 324 §4) ---- */

/* A stream on a congestion-controlled circuit has no windows. The side
 * that receives decides from how much it holds for its local reader (tor:
 * the edge connection's outbuf): past cc_xoff_client cells' worth it sends
 * XOFF; once that has drained to nothing, XON. While data queues it
 * measures the rate the reader drains it (N-EWMA over cc_xon_rate cells'
 * worth at a time) and sends an advisory XON when the rate moved more than
 * cc_xon_change_pct since the last one. The side that sends stops on XOFF
 * and resumes on XON, at most at the rate the XON advises. As C tor's
 * congestion_control_flow.c, including its checks against XON/XOFF sent
 * earlier or more often than the data we sent can explain (dropmark
 * attacks): such cells are still obeyed, and counted as suspect. */
typedef struct tk_stream_xon {
	/* limits, in bytes */
	uint64_t xoff_limit;	  /* ours: cc_xoff_client cells */
	uint64_t peer_xoff_limit; /* the exit's: cc_xoff_exit cells */
	uint64_t xon_rate_bytes;  /* cc_xon_rate cells */
	uint32_t change_pct, ewma_cnt;
	/* what we tell the exit */
	int xoff_sent;
	uint32_t ewma_rate, rate_last_sent; /* KB/s (1000 bytes/s) */
	uint64_t drain_start_usec, drained, prev_drained;
	/* what the exit tells us */
	int xoff_received;
	uint32_t send_rate; /* KB/s from its last XON; 0: no limit */
	uint64_t bytes_sent;
	uint32_t xoffs_received, xons_received, suspect;
	uint32_t xoffs_sent, xons_sent;
} tk_stream_xon;

enum tk_xon_action {
	TK_XON_NONE = 0,
	TK_XON_SEND_XOFF = 1,
	TK_XON_SEND_XON = 2 /* with ewma_rate as its advice */
};

void tk_stream_xon_init(tk_stream_xon *x, const struct tk_cc_params *p);
/* A DATA cell arrived; buffered = what the reader has not taken yet,
 * before this cell. Returns the cell to send (then call _sent). */
int tk_stream_xon_data_arrived(tk_stream_xon *x, uint64_t buffered,
			       uint64_t now_usec);
/* The reader took n bytes; buffered = what remains. */
int tk_stream_xon_drained(tk_stream_xon *x, uint64_t n, uint64_t buffered,
			  uint64_t now_usec);
/* The cell an action asked for went out. */
void tk_stream_xon_sent(tk_stream_xon *x, int action);
/* We packaged len bytes of DATA on the stream. */
void tk_stream_xon_data_sent(tk_stream_xon *x, uint64_t len);
/* The exit's XOFF / XON (kbps from its body). Return 0 when obeyed, 1
 * when obeyed but suspect (more than the data we sent explains), -1
 * when ignored (a second XOFF while stopped). */
int tk_stream_xon_got_xoff(tk_stream_xon *x);
int tk_stream_xon_got_xon(tk_stream_xon *x, uint32_t kbps);

/* The exit's advised rate (its XON's kbps_ewma, prop 324 §4.1.2) as a
 * token bucket: at most rate bytes/s, with a burst of one second's
 * worth, as tor's client applies it to its edge connection's bucket.
 * Tor refills that bucket every TokenBucketRefillInterval (100 ms by
 * default); ours is refilled from the elapsed time whenever it is asked,
 * and says how long until it holds a cell's worth again, so that its
 * owner sleeps exactly that long rather than until some coarse tick. */
typedef struct tk_send_bucket {
	uint64_t tokens;
	uint64_t at_usec; /* when tokens was last brought up to date */
	uint32_t frac;	  /* and the millionths of a byte earned beyond */
	uint32_t rate;	  /* bytes/s it was last refilled at; 0: never */
} tk_send_bucket;

/* Bytes that may be sent at now_usec at rate bytes/s (0: no advice, then
 * SIZE_MAX). A rate change keeps what the bucket holds (capped at the new
 * burst). */
size_t tk_send_bucket_allow(tk_send_bucket *b, uint32_t rate,
			    uint64_t now_usec);
/* n bytes allowed by the last tk_send_bucket_allow went out. */
void tk_send_bucket_spend(tk_send_bucket *b, size_t n);
/* Microseconds from the last tk_send_bucket_allow until the bucket holds
 * a full cell's worth of DATA (0 if it does already), at least min_usec:
 * when its owner should wake to send again. */
uint64_t tk_send_bucket_wait_usec(const tk_send_bucket *b, uint64_t min_usec);

/* ---- half-closed streams --------------------------------------------- */

/* After we send END, the exit may still have cells for that stream in
 * flight: at most a deliver window of DATA (any amount, and XON/XOFF,
 * with congestion control), the SENDMEs for what we sent, one CONNECTED
 * if it had not connected yet, and a final END or RESOLVED.
 * C tor accepts exactly these silently and so do we; anything more is the
 * peer misbehaving (dropped, not fatal). */
typedef struct tk_half_stream {
	uint16_t stream_id;
	int data_pending;    /* DATA cells still acceptable */
	int sendmes_pending; /* stream SENDMEs still acceptable */
	uint8_t connected_pending;
	/* congestion-controlled: no window bounds the DATA still coming
	 * (C tor accepts any, and XON/XOFF too); stream SENDMEs are wrong */
	uint8_t cc;
} tk_half_stream;

/* f = the stream's windows when it was closed (NULL: fresh windows). */
void tk_half_stream_init(tk_half_stream *h, uint16_t stream_id,
			 const tk_stream_flow *f, int connected_pending);
enum tk_half_verdict {
	TK_HALF_ACCEPT = 0, /* expected: absorb silently */
	TK_HALF_DONE = 1,   /* END or RESOLVED: the exit is done, forget it */
	TK_HALF_UNEXPECTED = 2 /* more than the exit could legitimately send */
};
/* Classifies a relay message for a half-closed stream and updates it. */
int tk_half_stream_on_msg(tk_half_stream *h, uint8_t relay_cmd);

#endif
