/* When to try a download (again): tor's download schedules (dir-spec
 * §5.5; tor's dlstatus.c), kept in milliseconds.
 *
 * A schedule starts `min_ms` after it is reset. It either advances on
 * every attempt (a bootstrap schedule: attempts are launched on time,
 * several may be in flight, a failure only frees a slot) or on every
 * failure (a retry schedule: one attempt at a time, the next one a delay
 * after it failed). Each delay is "decorrelated jitter": uniformly in
 * [base, 3 x the previous delay), base = max(min_ms, 1 s), then capped;
 * so clients that failed together do not retry together, and the delays
 * grow by about half again each step. Pure: the time and the random
 * numbers come from the caller. */
#ifndef TK_ONION_DIR_DLSCHED_H
#define TK_ONION_DIR_DLSCHED_H

#include <stdint.h>

struct tk_dlsched {
	int64_t min_ms;	    /* delay of the first attempt after a reset */
	int64_t cap_ms;	    /* no delay longer than this */
	int on_attempt;	    /* 1: advance per attempt; 0: per failure */
	int64_t next_ms;    /* not before this */
	int64_t last_delay; /* the delay last used, 0 after a reset */
	unsigned attempts, failures;
};

void tk_dlsched_init(struct tk_dlsched *s, int64_t min_ms, int64_t cap_ms,
		     int on_attempt, int64_t now_ms);
/* Back to the start: the next attempt min_ms from now. */
void tk_dlsched_reset(struct tk_dlsched *s, int64_t now_ms);
int tk_dlsched_ready(const struct tk_dlsched *s, int64_t now_ms);
/* An attempt starts now (advances an attempt schedule). */
void tk_dlsched_attempted(struct tk_dlsched *s, int64_t now_ms,
			  uint64_t random);
/* An attempt failed now (advances a failure schedule). */
void tk_dlsched_failed(struct tk_dlsched *s, int64_t now_ms, uint64_t random);
/* The next step of decorrelated jitter after `last` (0: the first). */
int64_t tk_dlsched_next_delay(int64_t last, int64_t min_ms, int64_t cap_ms,
			      uint64_t random);

#endif
