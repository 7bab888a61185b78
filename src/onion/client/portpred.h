/* portpred.h: the ports clients used lately, for preemptive circuits.
 *
 * path-spec 2.1.1: a client keeps clean circuits ready for the ports it
 * saw requests for within the last hour, so that the next request to
 * one of them does not wait for a build. The list is bounded: a client
 * cycling through ports replaces the port used longest ago. */
#ifndef TK_ONION_CLIENT_PORTPRED_H
#define TK_ONION_CLIENT_PORTPRED_H

#include <stddef.h>
#include <stdint.h>

#define TK_PORTPRED_MAX 16 /* ports remembered at most */
#define TK_PORTPRED_RELEVANCE_MS                     \
	3600000 /* tor's PredictedPortsRelevanceTime \
		 */

struct tk_portpred {
	struct {
		uint16_t port;
		uint64_t used_ms; /* the clock's ms of the last use */
	} p[TK_PORTPRED_MAX];
	size_t n;
};

void tk_portpred_init(struct tk_portpred *pp);

/* A request for port (not 0) at now_ms. */
void tk_portpred_note(struct tk_portpred *pp, uint16_t port, uint64_t now_ms);

/* Forgets ports unused for an hour, then writes those left, the most
 * recently used first, to out (at most cap); returns how many. */
size_t tk_portpred_list(struct tk_portpred *pp, uint64_t now_ms, uint16_t *out,
			size_t cap);

#endif
