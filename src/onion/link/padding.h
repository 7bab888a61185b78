/* Channel padding (padding-spec §2): when a channel sends its next
 * PADDING cell, and what a client tells its relay about padding (with
 * PADDING_NEGOTIATE, whose codec is cell.h's). Pure: the clock and the
 * random numbers come from the caller; channel.c applies it to each
 * channel.
 *
 * As tor's client does:
 *  - padding is on for link protocol 5 and later, without any cell to
 *    say so (the relay pads us too), or on any link with
 *    ConnectionPadding 1;
 *  - a channel is padded from the first multi-hop circuit started on it
 *    (consensus nf_pad_before_usage=1, the default; with 0, from its
 *    first relay data), never while it carried one-hop directory
 *    circuits only;
 *  - after every cell sent or received, the next PADDING is due after
 *    low + max(X, X) ms, X uniform on [0, high - low): [1500, 9500) by
 *    default (nf_ito_low, nf_ito_high); [9000, 14000) with
 *    ReducedConnectionPadding (nf_ito_low_reduced, nf_ito_high_reduced);
 *    low = high = 0 turns padding off;
 *  - ConnectionPadding 0 sends PADDING_NEGOTIATE STOP as the channel
 *    opens and pads nothing; ReducedConnectionPadding 1 sends STOP too
 *    and pads at the reduced rate;
 *  - PADDING_NEGOTIATE from a relay changes nothing: a relay must not
 *    turn a client's padding down (padding-spec §2.5), and tor's
 *    clients ignore it.
 * The options and the consensus parameters are process-wide, as tor's
 * are: tk_padding_configure() and tk_padding_set_params(). */
#ifndef TK_ONION_LINK_PADDING_H
#define TK_ONION_LINK_PADDING_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/cell.h"

/* ---- the consensus parameters and the options */

struct tk_padding_params {
	uint32_t ito_low, ito_high; /* nf_ito_low, nf_ito_high */
	uint32_t ito_low_reduced, ito_high_reduced; /* nf_ito_*_reduced */
	int pad_before_usage;			    /* nf_pad_before_usage */
};
/* tor's defaults: 1500, 9500, 9000, 14000, 1. */
void tk_padding_params_init(struct tk_padding_params *p);
/* Clamps as tor does: low and high within [0, 60000], high >= low. */
void tk_padding_params_clamp(struct tk_padding_params *p);

#define TK_PADDING_AUTO (-1)
struct tk_padding_options {
	int connection_padding; /* ConnectionPadding: TK_PADDING_AUTO, 0, 1 */
	int reduced;		/* ReducedConnectionPadding */
};

/* Process-wide: they apply to channels opened afterwards (options) and
 * to every later timeout drawn (parameters). */
void tk_padding_configure(const struct tk_padding_options *o);
void tk_padding_set_params(const struct tk_padding_params *p);
const struct tk_padding_options *tk_padding_options(void);
const struct tk_padding_params *tk_padding_params(void);

/* ---- the timeout */

typedef uint64_t (*tk_padding_rng)(void *arg); /* uniform 64-bit */

/* low + max(X1, X2), X uniform on [0, high - low); low when high <= low;
 * 0 when low == high == 0 (padding off). */
uint32_t tk_padding_timeout(uint32_t low, uint32_t high, tk_padding_rng rng,
			    void *arg);

/* PADDING_NEGOTIATE commands (tor-spec §7.2). */
enum { TK_PADDING_NEGOTIATE_STOP = 1, TK_PADDING_NEGOTIATE_START = 2 };

/* ---- one channel */

enum tk_pad_usage {
	TK_PAD_UNUSED,	   /* no multi-hop circuit yet */
	TK_PAD_FULL_CIRCS, /* a multi-hop circuit was started */
	TK_PAD_USER_DATA,  /* and carried relay data */
};

struct tk_chanpad {
	int pads;      /* we pad this channel (link version, options) */
	int stop_sent; /* we asked the relay not to pad */
	int reduced;
	enum tk_pad_usage usage;
	uint64_t last_xfer; /* ms: the last cell either way */
	uint64_t due;	    /* the next PADDING, drawn for drawn_from */
	uint64_t drawn_from;
	int drawn;
};

/* The channel is open on link_version at `now`. Returns 1 and fills *neg
 * when a PADDING_NEGOTIATE must be sent now, else 0. */
int tk_chanpad_open(struct tk_chanpad *cp, unsigned link_version, uint64_t now,
		    tk_padding_negotiate *neg);
/* A cell went out or came in. */
void tk_chanpad_note_cell(struct tk_chanpad *cp, uint64_t now);
/* A cell went out: RELAY_EARLY starts a multi-hop circuit (an EXTEND2),
 * RELAY after that is data. */
void tk_chanpad_note_sent(struct tk_chanpad *cp, uint8_t cmd);
/* The caller starts a multi-hop circuit on this channel. */
void tk_chanpad_note_multihop(struct tk_chanpad *cp);
/* 1 while this channel is padded now. */
int tk_chanpad_active(const struct tk_chanpad *cp);
/* When (ms) the next PADDING is due if nothing moves before, or
 * UINT64_MAX while the channel is not padded. The timeout is drawn once
 * per quiet spell. */
uint64_t tk_chanpad_due(struct tk_chanpad *cp, tk_padding_rng rng, void *arg);
/* 1 if the relay pads this channel as tor's relays do: link 5 or later,
 * we did not ask it to stop, padding is on in the consensus, and the
 * channel carries multi-hop circuits. Its silence then means something
 * (channel.c, "stalled"). */
int tk_chanpad_relay_pads(const struct tk_chanpad *cp, unsigned link_version);

#endif
