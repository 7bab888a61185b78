/* The rendezvous side of the onion-service client (rend-spec-v3 §3.1,
 * §3.3, §4): a circuit to a rendezvous point, ESTABLISH_RENDEZVOUS with
 * a fresh cookie, and RENDEZVOUS2, whose hs-ntor reply joins the service
 * to that circuit as its virtual last hop. Fills what INTRODUCE1 says of
 * the point (v->cookie, v->rp_onion_key, v->rp_ls); reports
 * RENDEZVOUS_ESTABLISHED through v->hc->hooks.rend_ready, the join
 * through tk_hs_svc_answer. Internal to hs_client*.c
 * (hs_client_svc.h says how the files stack). */
#ifndef TK_ONION_CLIENT_HS_CLIENT_REND_H
#define TK_ONION_CLIENT_HS_CLIENT_REND_H

#include "onion/client/hs_client_svc.h"

/* A circuit to a rendezvous point: a clean internal one as it is, or
 * one built to a random point. 0, or -1 with the attempt failed (F3). */
int tk_hs_rend_launch(struct tk_hs_svc *v);
/* The rendezvous circuit failed or its point did not answer: another
 * one while tries are left and no INTRODUCE1 named this point, else
 * F3. */
void tk_hs_rend_retry(struct tk_hs_svc *v, const char *why);
/* An acked INTRODUCE1 brought no RENDEZVOUS2 in time: the rendezvous
 * circuit and its cookie go; the caller launches the next. */
void tk_hs_rend_silent(struct tk_hs_svc *v);
/* An event of v->rend_oc (tk_hs_on_oc_event's). */
void tk_hs_rend_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev,
		      const char *why);

#endif
