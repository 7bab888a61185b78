/* base/deadline.h: a timeout decided after a poll. Each case runs a real
 * libuv loop; none asserts on elapsed time, only on the order of events.
 * The starved cases block the loop from a check handle (it runs after
 * the poll), so the next iteration runs its due timers before it polls
 * the socket where the awaited byte already waits: exactly what a daemon
 * the OS did not schedule sees. */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "onion/base/deadline.h"
#include "tap.h"

#define WAIT_MS 100
#define BLOCK_MS 400 /* longer than WAIT_MS: the loop is starved */

static void
block_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The events of one case, in order: 'D' the deadline decided, 'R' the
 * awaited byte was read, 'T' a plain timer of the same wait fired. */
static char trace[64];
static size_t ntrace;

static void
note(char c)
{
	if (ntrace + 1 < sizeof trace)
		trace[ntrace++] = c;
	trace[ntrace] = 0;
}

static void
reset(void)
{
	ntrace = 0;
	trace[0] = 0;
}

static void
on_deadline(tk_deadline *d)
{
	(void)d;
	note('D');
}

static int closed_count;
static void
on_closed(tk_deadline *d)
{
	closed_count++;
	/* both handles are closed: the owner may free it now */
	tap_ok(d->open_handles == 0, "close callback after both handles");
}

/* ---- plain expiry: nothing else in the loop, the deadline must fire
 * (the poll after the expiry must not block for ever) */
static void
test_plain_expiry(uv_loop_t *loop)
{
	tk_deadline d = { 0 };
	reset();
	tap_ok(tk_deadline_init(loop, &d) == 0, "init");
	tk_deadline_start(&d, WAIT_MS, on_deadline);
	tap_ok(tk_deadline_active(&d), "active once started");
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_str(trace, "D", "plain expiry: the deadline fires once");
	tap_ok(!tk_deadline_active(&d), "inactive after it fired");
	closed_count = 0;
	tk_deadline_close(&d, on_closed);
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_long(closed_count, 1, "closed once");
}

/* ---- driven by uv_run(ONCE) with pauses between the calls, as test
 * drivers do: under libuv < 1.45 the expiry then falls in the timer run
 * that ends an iteration, and the next call runs timers before its poll.
 * The deadline must still fire, not leave the poll blocking for ever
 * (alarm() in main turns such a hang into a failure). */
static void
test_run_once(uv_loop_t *loop)
{
	tk_deadline d = { 0 };
	reset();
	tap_ok(tk_deadline_init(loop, &d) == 0, "init");
	tk_deadline_start(&d, 1, on_deadline);
	while (uv_run(loop, UV_RUN_ONCE))
		block_ms(5);
	tap_eq_str(trace, "D", "uv_run(ONCE) with pauses: the deadline fires");
	tk_deadline_close(&d, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- the starved loop */
struct starve {
	tk_deadline d;
	uv_timer_t plain; /* a plain timer of the same wait, for contrast */
	uv_check_t blocker;
	uv_poll_t reader;
	int fds[2];
	int restart_on_read; /* else the answer completes the wait: stop */
};

static void
on_plain(uv_timer_t *h)
{
	(void)h;
	note('T');
}

static void
on_block(uv_check_t *h)
{
	struct starve *s = h->data;
	uv_check_stop(h);
	/* the peer answers, but we are not scheduled for BLOCK_MS */
	tap_ok(write(s->fds[1], "x", 1) == 1, "the answer is written");
	block_ms(BLOCK_MS);
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	struct starve *s = h->data;
	char c;
	(void)events;
	if (status < 0 || read(s->fds[0], &c, 1) != 1)
		return;
	note('R');
	uv_poll_stop(h);
	if (s->restart_on_read)
		tk_deadline_restart(&s->d);
	else
		tk_deadline_stop(&s->d);
}

static void
starved_case(uv_loop_t *loop, int restart_on_read)
{
	struct starve s = { 0 };
	reset();
	s.restart_on_read = restart_on_read;
	tap_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, s.fds) == 0, "socketpair");
	tap_ok(tk_deadline_init(loop, &s.d) == 0, "init");
	uv_timer_init(loop, &s.plain);
	uv_check_init(loop, &s.blocker);
	uv_poll_init(loop, &s.reader, s.fds[0]);
	s.blocker.data = s.reader.data = &s;
	tk_deadline_start(&s.d, WAIT_MS, on_deadline);
	uv_timer_start(&s.plain, on_plain, WAIT_MS, 0);
	uv_poll_start(&s.reader, UV_READABLE, on_readable);
	uv_check_start(&s.blocker, on_block);
	uv_run(loop, UV_RUN_DEFAULT);
	closed_count = 0;
	tk_deadline_close(&s.d, on_closed);
	uv_close((uv_handle_t *)&s.plain, NULL);
	uv_close((uv_handle_t *)&s.blocker, NULL);
	uv_close((uv_handle_t *)&s.reader, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_long(closed_count, 1, "closed once");
	close(s.fds[0]);
	close(s.fds[1]);
	if (!restart_on_read) {
		/* T before R shows the loop really ran its timers first */
		tap_eq_str(trace, "TR",
			   "starved loop, answer pending: a plain timer "
			   "times out first, the deadline never fires");
	} else {
		tap_eq_str(trace, "TRD",
			   "starved loop, the answer restarts the wait: the "
			   "deadline fires once, after the read");
	}
}

/* ---- restart while armed, stop, restart from its own callback */
struct restarts {
	tk_deadline d;
	uv_timer_t poke;
	int pokes, fired;
};

static void
on_poke(uv_timer_t *h)
{
	struct restarts *r = h->data;
	note('P');
	tk_deadline_restart(&r->d);
	if (++r->pokes == 3)
		uv_timer_stop(h);
}

static void
test_restart(uv_loop_t *loop)
{
	struct restarts r = { 0 };
	reset();
	tap_ok(tk_deadline_init(loop, &r.d) == 0, "init");
	uv_timer_init(loop, &r.poke);
	r.poke.data = &r;
	/* a poke every WAIT_MS/2 keeps the wait from running out */
	tk_deadline_start(&r.d, WAIT_MS, on_deadline);
	uv_timer_start(&r.poke, on_poke, WAIT_MS / 2, WAIT_MS / 2);
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_str(trace, "PPPD",
		   "restarts while armed push the deadline past each one");
	uv_close((uv_handle_t *)&r.poke, NULL);
	tk_deadline_close(&r.d, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

static void
test_stop(uv_loop_t *loop)
{
	tk_deadline d = { 0 };
	reset();
	tap_ok(tk_deadline_init(loop, &d) == 0, "init");
	tk_deadline_start(&d, WAIT_MS, on_deadline);
	tk_deadline_stop(&d);
	tap_ok(!tk_deadline_active(&d), "inactive once stopped");
	tk_deadline_restart(&d); /* nothing when stopped */
	tap_ok(!tk_deadline_active(&d), "restart does not start it");
	tap_eq_long(uv_run(loop, UV_RUN_DEFAULT), 0,
		    "a stopped deadline keeps no loop alive");
	tap_eq_str(trace, "", "stopped: no callback");
	tk_deadline_close(&d, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

static int self_count;
static void
on_self(tk_deadline *d)
{
	note('D');
	if (++self_count < 3)
		tk_deadline_start(d, 1, on_self);
	else
		tk_deadline_close(d, on_closed);
}

static void
test_self_restart_and_close(uv_loop_t *loop)
{
	tk_deadline *d = calloc(1, sizeof *d);
	reset();
	tap_ok(d && tk_deadline_init(loop, d) == 0, "init");
	closed_count = 0;
	tk_deadline_start(d, 1, on_self);
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_str(trace, "DDD", "its callback may start it again");
	tap_eq_long(closed_count, 1, "and close it");
	free(d); /* after the close callback: ASan sees any late access */
}

/* Closed while expired (its check handle active) and while armed. */
static void
on_expired_close(uv_timer_t *h)
{
	tk_deadline *d = h->data;
	tap_ok(tk_deadline_active(d) && uv_is_active((uv_handle_t *)&d->check),
	       "expired, the decision waits for the poll");
	tk_deadline_close(d, on_closed);
}

static void
test_close_states(uv_loop_t *loop)
{
	tk_deadline *d = calloc(1, sizeof *d);
	uv_timer_t after; /* due with the deadline, started after it */
	reset();
	tap_ok(d && tk_deadline_init(loop, d) == 0, "init");
	closed_count = 0;
	tk_deadline_start(d, 1, on_deadline);
	tk_deadline_close(d, on_closed);
	tk_deadline_start(d, 1, on_deadline); /* nothing once closing */
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_str(trace, "", "closed while armed: no callback");
	tap_eq_long(closed_count, 1, "closed once while armed");
	free(d);

	d = calloc(1, sizeof *d);
	reset();
	tap_ok(d && tk_deadline_init(loop, d) == 0, "init");
	closed_count = 0;
	uv_timer_init(loop, &after);
	after.data = d;
	tk_deadline_start(d, 1, on_deadline);
	uv_timer_start(&after, on_expired_close, 1, 0);
	/* both are due in the first timer phase; timers of one due time
	 * run in the order they were started */
	block_ms(5);
	uv_run(loop, UV_RUN_DEFAULT);
	tap_eq_str(trace, "", "closed while expired: no callback");
	tap_eq_long(closed_count, 1, "closed once while expired");
	uv_close((uv_handle_t *)&after, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	free(d);
}

int
main(void)
{
	uv_loop_t loop;
	alarm(60); /* a hang bound only: a deadline that never fires */
	uv_loop_init(&loop);
	test_plain_expiry(&loop);
	test_run_once(&loop);
	starved_case(&loop, 0);
	starved_case(&loop, 1);
	test_restart(&loop);
	test_stop(&loop);
	test_self_restart_and_close(&loop);
	test_close_states(&loop);
	tap_eq_long(uv_loop_close(&loop), 0, "every handle closed");
	return tap_done();
}
