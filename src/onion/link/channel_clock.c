/* channel_clock.h: padding, keepalives, stalls and idleness of an open
 * channel. */
#include "onion/link/channel_clock.h"

#include "onion/base/crypto.h"

/* Why "stalled": tor relays queue DESTROY cells apart from circuit cells
 * (circuitmux), send the first one at once only when nothing else waits
 * for the socket, and otherwise flush that queue only when a circuit cell
 * gets queued on the channel too. When a relay loses its link to the next
 * hop it destroys every circuit over that link: on a quiet channel only
 * the first DESTROY reaches us, and none at all if data toward us was in
 * flight at that moment. Streams on those circuits would wait forever.
 * The same relay does not pad a channel that has cells queued, so a
 * relay that should pad (link 5, padding on) and has sent nothing at all
 * for TK_CHAN_STALL_FIRST_MS is holding cells for us; so is one whose
 * DESTROY says it lost a link while other circuits of ours remain. We do
 * not poke it ourselves (a CREATE_FAST torn down at once would mark us
 * to every guard): the owner hears `stalled` and builds a circuit through
 * it, as tor's clients build circuits, and the relay's answer flushes the
 * queue. Our own padding delays the relay's (a cell either way restarts
 * both sides' timers, and each side's timeout is drawn alike, so each
 * pads first half the time), so a healthy relay is silent for a minute
 * only if we padded first about ten times in a row: on a quiet channel
 * that happens about once in four hours, and costs one circuit.
 *
 * The silence must be the relay's, not ours: the wait is a tk_deadline
 * (base/deadline.h), decided only after the loop has polled the socket
 * since the time ran out, so a daemon the OS did not schedule for longer
 * than the wait reads the relay's cells before it decides. */

static void on_stall(tk_deadline *d);
static void on_tick(uv_timer_t *h);

static uint64_t
pad_rng(void *arg)
{
	uint64_t v;
	(void)arg;
	tk_random(&v, sizeof v);
	return v;
}

/* The wait runs while the open channel carries circuits (whether the
 * relay should pad is asked when it runs out: that can change with each
 * cell we send). */
static void
stall_start(struct tk_chanclock *k)
{
	if (k->stall_open && k->running && k->n_circs > 0)
		tk_deadline_start(&k->stall, k->stall_ms, on_stall);
}

static int
stall_watch(const struct tk_chanclock *k)
{
	return k->n_circs > 0 && k->stall_ms > 0 &&
	       tk_chanpad_relay_pads(&k->pad, k->link_version);
}

/* When the tick must wake us next (UINT64_MAX: never). */
static uint64_t
next_due(struct tk_chanclock *k)
{
	uint64_t due = tk_chanpad_due(&k->pad, pad_rng, NULL), t;
	if (!tk_chanpad_active(&k->pad)) {
		t = k->last_tx_ms + k->conf.keepalive_ms;
		due = t < due ? t : due;
	}
	if (k->n_circs == 0 && k->conf.idle_ms) {
		t = k->no_circs_since + k->conf.idle_ms;
		due = t < due ? t : due;
	}
	return due;
}

/* Arms the tick for the earliest deadline, unless it is armed earlier
 * already (then it re-arms when it fires). */
static void
arm(struct tk_chanclock *k)
{
	uint64_t due, now;
	if (!k->running || !k->tick_open)
		return;
	due = next_due(k);
	if (due == UINT64_MAX || (k->tick_due && k->tick_due <= due))
		return;
	now = uv_now(k->loop);
	k->tick_due = due;
	(void)uv_timer_start(&k->tick, on_tick, due > now ? due - now : 0, 0);
}

static void
send_padding(struct tk_chanclock *k)
{
	uint64_t now;
	if (k->ops->send_padding(k->arg) == 0)
		return;
	/* The link is going (its read side will say so): count the try
	 * as sent, or the deadline stays in the past and the tick spins. */
	now = uv_now(k->loop);
	k->last_tx_ms = now;
	tk_chanpad_note_cell(&k->pad, now);
}

static void
on_tick(uv_timer_t *h)
{
	struct tk_chanclock *k = h->data;
	uint64_t now = uv_now(k->loop);
	k->tick_due = 0;
	if (!k->running)
		return;
	if (tk_chanpad_due(&k->pad, pad_rng, NULL) <= now) {
		/* Not while bytes wait for the socket: the channel is busy
		 * (padding-spec §2.2); count that as activity. */
		if (k->ops->write_queue_size(k->arg) == 0)
			send_padding(k);
		else
			tk_chanpad_note_cell(&k->pad, now);
	} else if (!tk_chanpad_active(&k->pad) &&
		   now - k->last_tx_ms >= k->conf.keepalive_ms) {
		send_padding(k);
	}
	if (!k->running)
		return;
	if (k->n_circs == 0 && k->conf.idle_ms &&
	    now - k->no_circs_since >= k->conf.idle_ms) {
		k->ops->idle(k->arg);
		if (!k->running)
			return;
		k->no_circs_since = now; /* kept after all: wait again */
	}
	arm(k);
}

/* The relay was silent for the whole wait, and the loop has polled its
 * socket since. */
static void
on_stall(tk_deadline *d)
{
	struct tk_chanclock *k = d->data;
	if (!k->running || k->n_circs == 0)
		return;
	if (!stall_watch(k)) { /* it need not pad (yet): wait again */
		stall_start(k);
		return;
	}
	k->stall_ms = k->stall_ms >= k->conf.stall_max_ms / 2
			      ? k->conf.stall_max_ms
			      : k->stall_ms * 2;
	stall_start(k);
	k->ops->stalled(k->arg);
}

int
tk_chanclock_init(struct tk_chanclock *k, uv_loop_t *loop,
		  const struct tk_chanclock_ops *ops, void *arg,
		  const struct tk_chanclock_conf *conf)
{
	int rc;
	*k = (struct tk_chanclock){ .loop = loop, .ops = ops, .arg = arg };
	k->conf = *conf;
	k->stall_ms = conf->stall_first_ms;
	rc = uv_timer_init(loop, &k->tick);
	if (rc < 0)
		return rc;
	k->tick_open = 1;
	k->tick.data = k;
	k->stall.data = k;
	rc = tk_deadline_init(loop, &k->stall);
	k->stall_open = rc == 0;
	return rc;
}

int
tk_chanclock_open(struct tk_chanclock *k, unsigned link_version,
		  struct tk_padding_negotiate *neg)
{
	uint64_t now = uv_now(k->loop);
	k->running = 1;
	k->link_version = link_version;
	k->last_tx_ms = now;
	k->no_circs_since = now;
	stall_start(k);
	return tk_chanpad_open(&k->pad, link_version, now, neg);
}

void
tk_chanclock_configure(struct tk_chanclock *k,
		       const struct tk_chanclock_conf *conf)
{
	k->conf = *conf;
	k->stall_ms = conf->stall_first_ms;
	stall_start(k);
	if (k->tick_due) { /* the new options may want it earlier */
		uv_timer_stop(&k->tick);
		k->tick_due = 0;
	}
	arm(k);
}

void
tk_chanclock_note_tx(struct tk_chanclock *k)
{
	k->last_tx_ms = uv_now(k->loop);
	tk_chanpad_note_cell(&k->pad, k->last_tx_ms);
}

void
tk_chanclock_note_sent(struct tk_chanclock *k, uint8_t cmd)
{
	int was_active = tk_chanpad_active(&k->pad);
	tk_chanpad_note_sent(&k->pad, cmd);
	if (!was_active && tk_chanpad_active(&k->pad))
		arm(k); /* padding starts: a deadline appears */
}

void
tk_chanclock_note_rx(struct tk_chanclock *k)
{
	tk_chanpad_note_cell(&k->pad, uv_now(k->loop));
	if (k->stall_ms != k->conf.stall_first_ms) {
		/* The wait had doubled (after a `stalled`): the short one
		 * counts again. Rare, so not every cell pays for a start. */
		k->stall_ms = k->conf.stall_first_ms;
		stall_start(k);
	} else if (k->stall_open) {
		tk_deadline_restart(&k->stall); /* cheap: no timer call */
	}
}

void
tk_chanclock_note_multihop(struct tk_chanclock *k)
{
	int was = tk_chanpad_active(&k->pad);
	tk_chanpad_note_multihop(&k->pad);
	if (!was && tk_chanpad_active(&k->pad))
		arm(k);
}

void
tk_chanclock_set_circs(struct tk_chanclock *k, size_t n)
{
	size_t was = k->n_circs;
	k->n_circs = n;
	if (!k->running)
		return;
	if (was == 0 && n > 0) {
		/* the first circuit after a spell without any: silence
		 * counts from now */
		stall_start(k);
		arm(k);
	} else if (was > 0 && n == 0) {
		k->no_circs_since = uv_now(k->loop);
		if (k->stall_open)
			tk_deadline_stop(&k->stall);
		arm(k);
	}
}

void
tk_chanclock_stop(struct tk_chanclock *k)
{
	k->running = 0;
	if (k->tick_open)
		uv_timer_stop(&k->tick);
	if (k->stall_open)
		tk_deadline_stop(&k->stall);
}

static void
maybe_closed(struct tk_chanclock *k)
{
	if (!k->tick_open && !k->stall_open && k->closed)
		k->closed(k->arg);
}

static void
on_tick_closed(uv_handle_t *h)
{
	struct tk_chanclock *k = h->data;
	k->tick_open = 0;
	maybe_closed(k);
}

static void
on_stall_closed(tk_deadline *d)
{
	struct tk_chanclock *k = d->data;
	k->stall_open = 0;
	maybe_closed(k);
}

void
tk_chanclock_close(struct tk_chanclock *k, void (*closed)(void *arg))
{
	tk_chanclock_stop(k);
	k->closed = closed;
	if (k->tick_open)
		uv_close((uv_handle_t *)&k->tick, on_tick_closed);
	if (k->stall_open)
		tk_deadline_close(&k->stall, on_stall_closed);
}
