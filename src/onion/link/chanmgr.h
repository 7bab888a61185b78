/* Channel reuse: one open channel per relay identity, shared by every
 * circuit to that relay (as tor does), opened on first demand.
 *
 * tk_chanmgr_get() answers from an open channel to the same RSA identity
 * (whose Ed25519 identity also matches, when the target names one), joins
 * a handshake already under way, or opens a new channel. The callback
 * always runs from the loop, never inside tk_chanmgr_get(). Channels that
 * fail or are lost are forgotten; the manager owns its channels: users
 * must not close them (close their circuits instead).
 *
 * As tor does, a channel without circuits for 3 to 4.5 minutes (drawn
 * per channel; half that with ReducedConnectionPadding) is closed. When
 * a channel's relay seems to hold cells for us (channel.h, `stalled`)
 * the stall callback hears which relay. */
#ifndef TK_ONION_LINK_CHANMGR_H
#define TK_ONION_LINK_CHANMGR_H

#include <uv.h>

#include "onion/link/channel.h"

typedef struct tk_chanmgr tk_chanmgr;
typedef struct tk_chanmgr_req tk_chanmgr_req;

/* status 0: ch is open (valid until it is lost; register circuits on
 * it). Otherwise the channel could not be had; errmsg says why. */
typedef void (*tk_chanmgr_cb)(tk_channel *ch, int status, const char *errmsg,
			      void *arg);

tk_chanmgr *tk_chanmgr_new(uv_loop_t *loop, unsigned timeout_ms);
int tk_chanmgr_get(tk_chanmgr *m, const tk_channel_target *t, tk_chanmgr_cb cb,
		   void *arg, tk_chanmgr_req **req);
/* The callback of req will not run. */
void tk_chanmgr_cancel(tk_chanmgr_req *req);
/* Open or opening channels (for tests and logs). */
size_t tk_chanmgr_count(const tk_chanmgr *m);

/* The relay rsa_id seems to hold cells for us. Runs from the loop. */
typedef void (*tk_chanmgr_stall_cb)(const uint8_t rsa_id[20],
				    enum tk_channel_stall why, void *arg);
void tk_chanmgr_set_stall_cb(tk_chanmgr *m, tk_chanmgr_stall_cb cb, void *arg);
/* Tests: a fixed idle time and first stall wait for channels opened
 * from now on (0: tor's random idle time, TK_CHAN_STALL_FIRST_MS). */
void tk_chanmgr_set_timing(tk_chanmgr *m, unsigned idle_ms,
			   unsigned stall_first_ms);
/* Cancels pending requests (their callbacks do not run), closes every
 * channel (their circuits are told) and frees m from the loop. */
void tk_chanmgr_free(tk_chanmgr *m);

#endif
