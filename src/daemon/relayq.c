/* relayq.c — see relayq.h. */
#include "daemon/relayq.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/relaybuf.h"

/* What this loop's queues hold (each loop checks its share of
 * MaxMemInQueues, session_shed.c). */
static _Thread_local size_t total;

static void
hold(struct tk_relayq *q, size_t n)
{
	q->held += n;
	total += n;
}

static void
unhold(struct tk_relayq *q, size_t n)
{
	q->held -= n;
	total -= n;
}

void
tk_relayq_hold(struct tk_relayq *q, size_t n)
{
	hold(q, n);
}

void
tk_relayq_unhold(struct tk_relayq *q, size_t n)
{
	unhold(q, n);
}

size_t
tk_relayq_total(void)
{
	return total;
}

int
tk_relayq_space(struct tk_relayq *q, uint8_t **p, size_t *len)
{
	if (q->fill == NULL) {
		q->fill = tk_relaybuf_get();
		if (q->fill == NULL)
			return -1;
		q->fill_len = 0;
		hold(q, TK_RELAY_BUF);
	}
	*p = q->fill + q->fill_len;
	*len = TK_RELAY_BUF - q->fill_len;
	return 0;
}

void
tk_relayq_filled(struct tk_relayq *q, size_t n)
{
	q->fill_len += n;
}

void
tk_relayq_drop_fill(struct tk_relayq *q)
{
	if (q->fill == NULL)
		return;
	tk_relaybuf_put(q->fill);
	unhold(q, TK_RELAY_BUF);
	q->fill = NULL;
	q->fill_len = 0;
}

int
tk_relayq_take(struct tk_relayq *q, int force, uint8_t **buf, size_t *len)
{
	if (q->fill == NULL || q->fill_len == 0)
		return 0;
	if (!force && q->out > 0 && q->fill_len < TK_RELAY_BUF)
		return 0;
	if (q->fill_len <= TK_RELAYQ_SMALL) {
		/* A few bytes: a copy of their size, and the big buffer
		 * back to the pool, so a trickle holds what it sent. */
		uint8_t *c = malloc(q->fill_len);

		if (c == NULL)
			return -1;
		memcpy(c, q->fill, q->fill_len);
		*buf = c;
		*len = q->fill_len;
		hold(q, q->fill_len + TK_RELAYQ_OVERHEAD);
		tk_relayq_drop_fill(q);
	} else {
		*buf = q->fill;
		*len = q->fill_len;
		q->fill = NULL; /* its TK_RELAY_BUF stays held until back */
		q->fill_len = 0;
	}
	q->out++;
	return 1;
}

void
tk_relayq_returned(struct tk_relayq *q, uint8_t *buf, size_t len)
{
	q->out--;
	if (len <= TK_RELAYQ_SMALL) {
		free(buf);
		unhold(q, len + TK_RELAYQ_OVERHEAD);
	} else {
		tk_relaybuf_put(buf);
		unhold(q, TK_RELAY_BUF);
	}
}
