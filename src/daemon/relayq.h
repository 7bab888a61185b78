/* relayq.h — one direction of a relayed connection: what it holds.
 *
 * Reads land in a fill buffer (a TK_RELAY_BUF relay buffer) one after
 * another, so a peer that sends one byte per segment fills one buffer
 * instead of taking a fresh 64 KiB buffer per byte. The fill buffer goes
 * to the writer at once when the writer has nothing of ours (no latency
 * for interactive traffic), and otherwise when it is full; a few bytes
 * go out in a copy of their own size and the big buffer goes back to the
 * pool. `held` counts the memory this direction holds (capacities, not
 * bytes read): the session stops reading at its high-water mark, and
 * every queue's `held` adds up to tk_relayq_total() for MaxMemInQueues. */
#ifndef TK_DAEMON_RELAYQ_H
#define TK_DAEMON_RELAYQ_H

#include <stddef.h>
#include <stdint.h>

/* Fills of at most this many bytes are copied out in a buffer of their
 * own size; each such copy is counted with TK_RELAYQ_OVERHEAD more for
 * the allocator and the writer's request. */
#define TK_RELAYQ_SMALL 2048
#define TK_RELAYQ_OVERHEAD 64

struct tk_relayq {
	uint8_t *fill;	 /* the buffer reads land in; NULL if none */
	size_t fill_len; /* bytes in it */
	size_t held;	 /* memory held: buffers out, and the fill */
	unsigned out;	 /* buffers with the writer */
};

/* Where the next read goes: 0 and p/len (len >= 1), or -1 out of memory. */
int tk_relayq_space(struct tk_relayq *q, uint8_t **p, size_t *len);
/* n bytes were read into the space last given. */
void tk_relayq_filled(struct tk_relayq *q, size_t n);
/* A buffer for the writer, when one is due: the fill if the writer has
 * none of ours, if it is full, or if `force`. 1 and buf/len (the caller
 * hands it to the writer and gives it back with tk_relayq_returned), 0
 * when nothing is due, -1 out of memory. */
int tk_relayq_take(struct tk_relayq *q, int force, uint8_t **buf, size_t *len);
/* The writer is done with a buffer from tk_relayq_take: frees it. */
void tk_relayq_returned(struct tk_relayq *q, uint8_t *buf, size_t len);
/* The fill buffer goes back to the pool, bytes and all (closing). */
void tk_relayq_drop_fill(struct tk_relayq *q);
/* Bytes read and not yet taken. */
static inline size_t
tk_relayq_pending(const struct tk_relayq *q)
{
	return q->fill_len;
}
/* Memory this direction holds outside its buffers (a splice pipe's
 * pages, splice.c): counted in `held` and in the total like them. */
void tk_relayq_hold(struct tk_relayq *q, size_t n);
void tk_relayq_unhold(struct tk_relayq *q, size_t n);
/* What every queue holds together. */
size_t tk_relayq_total(void);

#endif
