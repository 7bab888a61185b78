/* The introduction side of the onion-service client (rend-spec-v3
 * §3.2): the descriptor's introduction points in turn (those tried in
 * this attempt, or failed lately, hs_ipfail.h, skipped), a circuit to
 * each, INTRODUCE1 (hs-ntor, and congestion control when the descriptor
 * offers it) and its INTRODUCE_ACK. With no point left, the descriptor
 * is fetched again (hs_client_desc.h), once per attempt,
 * or the attempt fails. Reads what the rendezvous side filled in
 * (cookie, point) but calls none of it. Internal to hs_client*.c
 * (hs_client_svc.h says how the files stack). */
#ifndef TK_ONION_CLIENT_HS_CLIENT_INTRO_H
#define TK_ONION_CLIENT_HS_CLIENT_INTRO_H

#include "onion/client/hs_client_svc.h"

/* The next introduction point of the cached descriptor we can reach:
 * its circuit launched (or taken from the pool); none left: the
 * refetch, or the attempt's end. */
void tk_hs_intro_next(struct tk_hs_svc *v);
/* The introduction circuit is built and RENDEZVOUS_ESTABLISHED is in:
 * INTRODUCE1 (on failure, the next point). */
void tk_hs_intro_send(struct tk_hs_svc *v);
/* The point being tried failed (kind): remembered for later requests
 * too (hs_ipfail.h). */
void tk_hs_intro_failed(struct tk_hs_svc *v, enum tk_hs_ipfail_kind kind);
/* An event of v->intro_oc (tk_hs_on_oc_event's). */
void tk_hs_intro_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev);

#endif
