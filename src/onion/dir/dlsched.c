/* dlsched.h: tor's download schedules. */
#include "onion/dir/dlsched.h"

#include <string.h>

int64_t
tk_dlsched_next_delay(int64_t last, int64_t min_ms, int64_t cap_ms,
		      uint64_t random)
{
	int64_t base = min_ms > 1000 ? min_ms : 1000, hi, d;

	if (last <= 0)
		return min_ms;
	/* uniformly in [base, 3 last), at least [base, base + 1 s) */
	hi = last < INT64_MAX / 3 ? last * 3 : INT64_MAX;
	if (hi <= base)
		hi = base + 1000;
	d = base + (int64_t)(random % (uint64_t)(hi - base));
	if (cap_ms > 0 && d > cap_ms)
		d = cap_ms;
	return d;
}

void
tk_dlsched_init(struct tk_dlsched *s, int64_t min_ms, int64_t cap_ms,
		int on_attempt, int64_t now_ms)
{
	memset(s, 0, sizeof *s);
	s->min_ms = min_ms;
	s->cap_ms = cap_ms;
	s->on_attempt = on_attempt;
	tk_dlsched_reset(s, now_ms);
}

void
tk_dlsched_reset(struct tk_dlsched *s, int64_t now_ms)
{
	s->attempts = 0;
	s->failures = 0;
	s->last_delay = 0;
	s->next_ms = now_ms + s->min_ms;
}

int
tk_dlsched_ready(const struct tk_dlsched *s, int64_t now_ms)
{
	return s->next_ms <= now_ms;
}

static void
advance(struct tk_dlsched *s, int64_t now_ms, uint64_t random)
{
	int64_t d = tk_dlsched_next_delay(s->last_delay ? s->last_delay : 1,
					  s->min_ms, s->cap_ms, random);
	s->last_delay = d > 0 ? d : 1;
	s->next_ms = now_ms + d;
}

void
tk_dlsched_attempted(struct tk_dlsched *s, int64_t now_ms, uint64_t random)
{
	s->attempts++;
	if (s->on_attempt)
		advance(s, now_ms, random);
}

void
tk_dlsched_failed(struct tk_dlsched *s, int64_t now_ms, uint64_t random)
{
	s->failures++;
	if (!s->on_attempt)
		advance(s, now_ms, random);
}
