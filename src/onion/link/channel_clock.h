/* The open channel's clocks, private to channel.c: when it sends PADDING
 * or a keepalive (padding.h decides), when a relay that should pad has
 * been silent too long (`stalled`), when a channel without circuits has
 * been idle long enough. It knows nothing of channel.c: the channel
 * tells it what happens (cells, circuits, options) and it calls back
 * through tk_chanclock_ops, so the two are stacked one way.
 *
 * Two handles: a plain timer for the tick (padding, keepalive, idleness:
 * our own schedule) and a tk_deadline for the stall wait, which waits for
 * the relay and so is decided only after a poll (base/deadline.h). */
#ifndef TK_ONION_LINK_CHANNEL_CLOCK_H
#define TK_ONION_LINK_CHANNEL_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/base/deadline.h"
#include "onion/link/padding.h"

struct tk_chanclock_ops {
	/* Send one PADDING cell now: 0, or < 0 (the link is going). */
	int (*send_padding)(void *arg);
	/* Bytes waiting for the socket (then no PADDING: it is busy). */
	size_t (*write_queue_size)(void *arg);
	/* The relay was silent for the whole stall wait. */
	void (*stalled)(void *arg);
	/* No circuit for idle_ms. */
	void (*idle)(void *arg);
};

struct tk_chanclock_conf {
	unsigned stall_first_ms, stall_max_ms; /* the wait, and its cap */
	unsigned keepalive_ms;		       /* unpadded channels */
	unsigned idle_ms;		       /* 0: never idle */
};

struct tk_chanclock {
	uv_loop_t *loop;
	const struct tk_chanclock_ops *ops;
	void *arg;
	void (*closed)(void *arg);
	struct tk_chanclock_conf conf;
	int running; /* between tk_chanclock_open and stop or close */
	int tick_open, stall_open;
	/* The tick wakes us for whatever is due first: the next PADDING,
	 * a keepalive, the idle time. Cells only move timestamps; the
	 * tick re-arms when it fires. */
	uv_timer_t tick;
	uint64_t tick_due; /* 0: not armed */
	tk_deadline stall;
	unsigned stall_ms; /* the current wait; doubles while it lasts */
	struct tk_chanpad pad;
	unsigned link_version;
	uint64_t last_tx_ms;
	size_t n_circs;
	uint64_t no_circs_since;
};

/* Both handles on loop; 0 or a libuv error (then close it all the same:
 * tk_chanclock_close frees what was opened). */
int tk_chanclock_init(struct tk_chanclock *k, uv_loop_t *loop,
		      const struct tk_chanclock_ops *ops, void *arg,
		      const struct tk_chanclock_conf *conf);
/* The channel opened on link_version: the clocks run from now. Returns
 * 1 and fills *neg when a PADDING_NEGOTIATE must be sent, else 0. */
int tk_chanclock_open(struct tk_chanclock *k, unsigned link_version,
		      struct tk_padding_negotiate *neg);
/* New options (the owner's hooks); the stall wait starts over. */
void tk_chanclock_configure(struct tk_chanclock *k,
			    const struct tk_chanclock_conf *conf);
/* A cell went out (before open too: padding counts from the last). */
void tk_chanclock_note_tx(struct tk_chanclock *k);
/* ... and it was cmd: padding may start with it. */
void tk_chanclock_note_sent(struct tk_chanclock *k, uint8_t cmd);
/* A cell came in on the open channel. */
void tk_chanclock_note_rx(struct tk_chanclock *k);
/* The owner started a multi-hop circuit on the channel. */
void tk_chanclock_note_multihop(struct tk_chanclock *k);
/* The channel carries n circuits now. */
void tk_chanclock_set_circs(struct tk_chanclock *k, size_t n);
/* The channel failed: nothing more runs. */
void tk_chanclock_stop(struct tk_chanclock *k);
/* Closes both handles; closed(arg) once they are closed. */
void tk_chanclock_close(struct tk_chanclock *k, void (*closed)(void *arg));

#endif
