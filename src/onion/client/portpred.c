/* portpred.h: the ports clients used lately, for preemptive circuits. */
#include "onion/client/portpred.h"

#include <string.h>

void
tk_portpred_init(struct tk_portpred *pp)
{
	memset(pp, 0, sizeof *pp);
}

void
tk_portpred_note(struct tk_portpred *pp, uint16_t port, uint64_t now_ms)
{
	size_t i, oldest = 0;

	if (port == 0)
		return;
	for (i = 0; i < pp->n; i++) {
		if (pp->p[i].port == port) {
			pp->p[i].used_ms = now_ms;
			return;
		}
		if (pp->p[i].used_ms < pp->p[oldest].used_ms)
			oldest = i;
	}
	if (pp->n < TK_PORTPRED_MAX)
		oldest = pp->n++;
	pp->p[oldest].port = port;
	pp->p[oldest].used_ms = now_ms;
}

size_t
tk_portpred_list(struct tk_portpred *pp, uint64_t now_ms, uint16_t *out,
		 size_t cap)
{
	size_t i = 0, n = 0;

	while (i < pp->n) {
		if (now_ms - pp->p[i].used_ms >= TK_PORTPRED_RELEVANCE_MS)
			pp->p[i] = pp->p[--pp->n]; /* order is not kept */
		else
			i++;
	}
	/* Most recent first, picked one by one (at most 16). */
	for (i = 0; i < pp->n && n < cap; i++) {
		size_t best = pp->n;
		for (size_t j = 0; j < pp->n; j++) {
			int taken = 0;
			for (size_t k = 0; k < n; k++)
				if (out[k] == pp->p[j].port)
					taken = 1;
			if (!taken && (best == pp->n ||
				       pp->p[j].used_ms > pp->p[best].used_ms))
				best = j;
		}
		out[n++] = pp->p[best].port;
	}
	return n;
}
