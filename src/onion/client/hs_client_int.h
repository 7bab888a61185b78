/* Private to hs_client.c and its unit tests: the shared state of the
 * onion-service client (hs_client_svc.h, which says how its files
 * stack) and the owner callback of its circuits, which the tests use to
 * tell its circuits from the pool's. */
#ifndef TK_ONION_CLIENT_HS_CLIENT_INT_H
#define TK_ONION_CLIENT_HS_CLIENT_INT_H

#include "onion/client/hs_client_svc.h"
#include "onion/client/ocirc.h"

/* The owner callback of every circuit built for a service
 * (hooks.oc_event). */
void tk_hs_on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why);

#endif
