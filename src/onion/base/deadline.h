/* A deadline decided after a poll: a uv timer whose callback runs only
 * when its time is up AND the loop has polled its sockets since then
 * without the deadline being restarted or stopped in between.
 *
 * Why: libuv runs due timers before it polls for I/O. A daemon the OS
 * did not schedule for longer than a timeout (a loaded machine, a
 * swapped-out process, a slow callback) would otherwise find the
 * timeout over while the awaited answer already sits unread in a
 * socket, and fail a healthy operation. So when the time runs out the
 * deadline only notes it and starts a check handle (it runs right after
 * the loop's next poll); a read in that poll that restarts or stops the
 * deadline cancels the verdict. Use it for every timeout that waits for
 * a peer; purely internal timers (ticks, deferrals) stay plain timers.
 *
 * The struct is embedded in its owner; `data` is the owner's. Between
 * tk_deadline_init() and the close callback it holds two libuv handles,
 * so it must not move or be freed: free the owner in the close callback.
 * Its callback may start, stop or close it. */
#ifndef TK_ONION_BASE_DEADLINE_H
#define TK_ONION_BASE_DEADLINE_H

#include <stdint.h>
#include <uv.h>

typedef struct tk_deadline tk_deadline;
typedef void (*tk_deadline_cb)(tk_deadline *d);

struct tk_deadline {
	uv_timer_t timer;
	uv_check_t check; /* runs after the poll that follows expiry */
	tk_deadline_cb cb;
	tk_deadline_cb close_cb;
	void *data;	  /* the owner's */
	uint64_t from;	  /* the wait counts from here (loop ms) */
	uint64_t ms;	  /* the wait */
	int state;	  /* stopped, armed, expired: see deadline.c */
	int open_handles; /* 2 after init, 0 once closed */
	int closing;
};

/* Initializes both handles on `loop`; 0 or a libuv error (then nothing
 * is open and `d` may be freed at once). */
int tk_deadline_init(uv_loop_t *loop, tk_deadline *d);

/* (Re)starts the wait: cb runs `ms` from now (loop time), after a poll.
 * Forgets any earlier expiry. Nothing after tk_deadline_close(). */
void tk_deadline_start(tk_deadline *d, uint64_t ms, tk_deadline_cb cb);

/* The awaited progress came: the same wait counts afresh from now, and
 * an expiry not yet decided is forgotten. Cheap while armed (no timer
 * operation until it would fire); nothing when stopped. */
void tk_deadline_restart(tk_deadline *d);

/* No callback until the next start. */
void tk_deadline_stop(tk_deadline *d);

/* 1 while started and its callback has not run yet. */
int tk_deadline_active(const tk_deadline *d);

/* Stops and closes both handles; closed_cb (may be NULL) runs once both
 * are closed, and only then may `d` be freed. */
void tk_deadline_close(tk_deadline *d, tk_deadline_cb closed_cb);

#endif
