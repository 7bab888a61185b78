/* hs_client_svc.h: a service's attempt — its name for the log, its
 * circuits let go, its end — for every part of the onion-service
 * client. The bottom of the stack: it calls nothing of the others. */
#include "onion/client/hs_client_svc.h"

#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_addr.h"

/* The service's address for the log, or "[scrubbed]" (SafeLogging). */
const char *
tk_hs_svc_name(const struct tk_hs_svc *v, char buf[TK_HS_ADDR_LEN + 7])
{
	if (v->hc->cfg.scrub_hosts)
		return "[scrubbed]";
	tk_hs_addr_encode(v->id, buf);
	strcat(buf, ".onion");
	return buf;
}

uint64_t
tk_hs_now_ms(const tk_hs_client *hc)
{
	return uv_now(tk_circmgr_loop(hc->cm));
}

/* Stops hearing of *ocp and lets it go. The circuit's control callback
 * points at v: cleared before anything else. */
void
tk_hs_drop_oc(tk_ocirc **ocp)
{
	tk_ocirc *oc = *ocp;
	tk_circuit *c;
	if (!oc)
		return;
	*ocp = NULL;
	if ((c = tk_ocirc_circuit(oc)) != NULL)
		tk_circuit_set_control_cb(c, NULL, NULL);
	tk_ocirc_close(oc);
}

/* Everything of the attempt but its joined circuit and its requests. */
void
tk_hs_svc_reset(struct tk_hs_svc *v)
{
	tk_hs_fetch_cancel(v->fetch);
	v->fetch = NULL;
	tk_hs_drop_oc(&v->rend_oc);
	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	tk_wipe(v->cookie, sizeof v->cookie);
	v->rend_ready = v->intro_built = v->intro_sent = v->intro_acked = 0;
	v->intro_extend = 0;
	v->rend_deadline = v->intro_deadline = 0;
}

void
tk_hs_svc_answer(struct tk_hs_svc *v, int reason)
{
	v->result = reason;
	tk_circmgr_defer(v->hc->cm, &v->d);
}

void
tk_hs_svc_fail(struct tk_hs_svc *v, int reason, const char *why)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_log(v->hc, TK_LOG_NOTICE, "onion service %s: %s",
		  tk_hs_svc_name(v, nb), why);
	tk_hs_svc_reset(v);
	v->st = S_IDLE;
	tk_hs_svc_answer(v, reason);
}
