/* deadline.h: a timeout decided after a poll. */
#include "onion/base/deadline.h"

enum {
	DL_STOPPED,
	DL_ARMED,   /* the timer runs */
	DL_EXPIRED, /* the time is up; `check` decides after the next poll */
};

static void on_timer(uv_timer_t *h);

static void
arm_at(tk_deadline *d, uint64_t due)
{
	uint64_t now = uv_now(d->timer.loop);
	(void)uv_timer_start(&d->timer, on_timer, due > now ? due - now : 0, 0);
}

static void
on_check(uv_check_t *h)
{
	tk_deadline *d = h->data;
	uv_check_stop(h);
	if (d->state != DL_EXPIRED)
		return;
	d->state = DL_STOPPED;
	uv_timer_stop(&d->timer); /* the nudge, see on_timer() */
	d->cb(d);
}

static void
on_timer(uv_timer_t *h)
{
	tk_deadline *d = h->data;
	uint64_t now = uv_now(h->loop);
	if (d->state == DL_EXPIRED) {
		/* The nudge (below) came before the poll: under uv_run(ONCE)
		 * the expiry can fall in the timer run after an iteration's
		 * check phase, and the next call runs timers first. Keep the
		 * coming poll bounded until `check` has decided. */
		(void)uv_timer_start(&d->timer, on_timer, 1, 0);
		return;
	}
	if (d->state != DL_ARMED)
		return;
	if (now - d->from < d->ms) {
		/* restarted since it was armed: wait for the rest */
		arm_at(d, d->from + d->ms);
		return;
	}
	d->state = DL_EXPIRED;
	(void)uv_check_start(&d->check, on_check);
	/* A check handle does not stop the poll from blocking: with no
	 * other timer and no I/O it would block for ever. A 1 ms timer
	 * bounds that poll (0 would run again in this same timer phase
	 * under libuv < 1.45 and leave the poll unbounded). */
	(void)uv_timer_start(&d->timer, on_timer, 1, 0);
}

int
tk_deadline_init(uv_loop_t *loop, tk_deadline *d)
{
	int rc;
	void *data = d->data;
	*d = (tk_deadline){ .data = data };
	rc = uv_timer_init(loop, &d->timer);
	if (rc < 0)
		return rc; /* nothing open yet */
	/* libuv's uv_check_init cannot fail (it only links the handle) */
	(void)uv_check_init(loop, &d->check);
	d->timer.data = d;
	d->check.data = d;
	d->open_handles = 2;
	return 0;
}

void
tk_deadline_start(tk_deadline *d, uint64_t ms, tk_deadline_cb cb)
{
	if (d->closing)
		return;
	d->cb = cb;
	d->ms = ms;
	d->from = uv_now(d->timer.loop);
	if (d->state == DL_EXPIRED)
		uv_check_stop(&d->check);
	d->state = DL_ARMED;
	arm_at(d, d->from + ms);
}

void
tk_deadline_restart(tk_deadline *d)
{
	if (d->state == DL_STOPPED || d->closing)
		return;
	d->from = uv_now(d->timer.loop);
	if (d->state == DL_EXPIRED) {
		uv_check_stop(&d->check);
		d->state = DL_ARMED;
		arm_at(d, d->from + d->ms);
	}
	/* DL_ARMED: the timer fires at the old time and re-arms then */
}

void
tk_deadline_stop(tk_deadline *d)
{
	if (d->closing)
		return;
	d->state = DL_STOPPED;
	uv_timer_stop(&d->timer);
	uv_check_stop(&d->check);
}

int
tk_deadline_active(const tk_deadline *d)
{
	return d->state != DL_STOPPED;
}

static void
on_closed(uv_handle_t *h)
{
	tk_deadline *d = h->data;
	if (--d->open_handles == 0 && d->close_cb)
		d->close_cb(d);
}

void
tk_deadline_close(tk_deadline *d, tk_deadline_cb closed_cb)
{
	if (d->closing)
		return;
	d->state = DL_STOPPED;
	d->closing = 1;
	d->close_cb = closed_cb;
	uv_close((uv_handle_t *)&d->timer, on_closed);
	uv_close((uv_handle_t *)&d->check, on_closed);
}
