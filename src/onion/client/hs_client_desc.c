/* hs_client_desc.h: a service's descriptor, from the cache or
 * fetched. */
#include "onion/client/hs_client_desc.h"

#include <string.h>

#include "onion/client/hs_client_svc.h"
#include "onion/client/hs_fetch.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"
#include "onion/netdoc/consensus.h"
#include "onion/onion.h"

static void
on_fetched(void *arg, int reason, const char *why, struct tk_hs_desc *desc)
{
	struct tk_hs_svc *v = arg;
	tk_hs_client *hc = v->hc;

	v->fetch = NULL;
	if (reason) {
		tk_hs_svc_fail(v, reason, why);
		return;
	}
	if (desc->n_intro == 0) {
		tk_hs_desc_free(desc);
		tk_hs_svc_fail(
			v, TK_ONION_HS_INTRO_FAILED,
			"the descriptor lists no usable introduction point");
		return;
	}
	if (tk_hs_cache_put(hc->cache, v->keys.period_num, desc, v->period_end,
			    v->now) < 0) {
		tk_hs_desc_free(desc);
		tk_hs_svc_fail(v, TK_ONION_HS_BAD_DESC,
			       "cannot cache the descriptor");
		return;
	}
	v->hc->hooks.desc_ready(v);
}

/* The descriptor from the cache, or fetched. Also the refetch of an
 * attempt whose introduction points all failed (intro_next): the
 * rendezvous circuit, if any, stays. */
void
tk_hs_desc_start(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_hs_dirparams p;
	struct tk_hs_fetch_params fp;
	size_t n;
	uint8_t hsdir[TK_HS_FETCH_MAX_HSDIRS][20];
	char nb[TK_HS_ADDR_LEN + 7], why[200];
	int reason;

	if (!t) {
		v->st = S_WAITDIR; /* the tick tries again */
		return;
	}
	tk_hs_dirparams_init(&p, t->c, hc->cfg.testing);
	if (tk_hs_keys_derive(v->id, p.period_num, p.period_len_min,
			      &v->keys) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_BAD_ADDRESS, "not a valid key");
		return;
	}
	v->now = t->c->valid_after;
	v->period_end = p.period_end;
	if (tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now)) {
		v->hc->hooks.desc_ready(v);
		return;
	}
	n = tk_hs_fetch_hsdirs(t, &p, v->keys.blinded, hsdir);
	memset(&fp, 0, sizeof fp);
	fp.cm = hc->cm;
	fp.keys = &v->keys;
	fp.client_sk = tk_hs_auth_set_find(&hc->auth, v->id);
	fp.now = v->now;
	fp.hsdirs = (const uint8_t(*)[20])hsdir;
	fp.n_hsdirs = n;
	fp.parallel = hc->cfg.fetch_parallel;
	/* A period that began since has its own blinded key and a revision
	 * counter of its own: nothing to compare with. */
	fp.has_stale = v->refetched && v->has_stale &&
		       v->stale_period == p.period_num;
	fp.stale_revision = v->stale_rev;
	fp.pool = hc->pool;
	fp.name = tk_hs_svc_name(v, nb);
	fp.log = hc->cfg.log;
	fp.log_arg = hc->cfg.log_arg;
	fp.cb = on_fetched;
	fp.arg = v;
	v->st = S_FETCH;
	v->fetch = tk_hs_fetch_start(&fp, &reason, why, sizeof why);
	if (!v->fetch)
		tk_hs_svc_fail(v, reason, why);
}
