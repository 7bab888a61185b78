/* The descriptor side of the onion-service client (rend-spec-v3 §2):
 * the blinded key and subcredential of the consensus's time period, the
 * descriptor from the cache or fetched from the responsible HSDirs
 * (hs_fetch.h) and cached; then v->hc->hooks.desc_ready (the join). Internal
 * to hs_client*.c (hs_client_svc.h says how the files stack). */
#ifndef TK_ONION_CLIENT_HS_CLIENT_DESC_H
#define TK_ONION_CLIENT_HS_CLIENT_DESC_H

#include "onion/client/hs_client_svc.h"

/* The descriptor from the cache (then hooks.desc_ready at once), or its
 * fetch (hooks.desc_ready once it is in, or the attempt fails);
 * no usable directory yet: S_WAITDIR, the tick calls again. Also the
 * refetch of an attempt whose introduction points all failed (the
 * rendezvous circuit, if any, stays). */
void tk_hs_desc_start(struct tk_hs_svc *v);

#endif
