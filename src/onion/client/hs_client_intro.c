/* hs_client_intro.h: the introduction side of the onion-service
 * client. */
#include "onion/client/hs_client_intro.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "onion/client/hs_client_desc.h"
#include "onion/client/hs_client_svc.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_ipfail.h"
#include "onion/hs/hs_ntor.h"
#include "onion/netdoc/consensus.h"
#include "onion/onion.h"

/* The point being tried (v->ip_auth) failed: remembered for the next
 * requests too, as tor remembers it (hs_ipfail.h). */
void
tk_hs_intro_failed(struct tk_hs_svc *v, enum tk_hs_ipfail_kind kind)
{
	tk_hs_ipfail_note(&v->hc->ipfail, v->id, v->ip_auth, kind,
			  tk_hs_now_ms(v->hc));
}

static void
on_intro_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	      size_t len)
{
	struct tk_hs_svc *v = arg;
	struct tk_hs_intro_ack ack;
	char nb[TK_HS_ADDR_LEN + 7];
	(void)status;
	if (!v->intro_oc || hop != v->intro_hop ||
	    cmd != TK_RELAY_INTRODUCE_ACK)
		return;
	if (tk_hs_introduce_ack_decode(data, len, &ack) == 0 &&
	    ack.status == TK_HS_INTRO_ACK_SUCCESS) {
		/* The service has it: only RENDEZVOUS2 is missing now. As
		 * tor, the introduction circuit is done. */
		v->intro_acked = 1;
		tk_hs_drop_oc(&v->intro_oc);
		return;
	}
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: introduction point %zu refused (status "
		  "%u)",
		  tk_hs_svc_name(v, nb), v->intro_next, ack.status);
	tk_hs_intro_failed(v, TK_HS_IPFAIL_ERROR);
	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_intro_next(v);
}

static int32_t
cons_param(void *arg, const char *name, int32_t dflt, int32_t min, int32_t max)
{
	return tk_consensus_param(arg, name, dflt, min, max);
}

/* Whether a FlowCtrl version list ("1-2", "2", "1,2") holds 2. */
static int
flowctrl_has_2(const char *s)
{
	while (*s) {
		char *e;
		unsigned long lo = strtoul(s, &e, 10), hi = lo;
		if (e == s)
			return 0;
		if (*e == '-') {
			s = e + 1;
			hi = strtoul(s, &e, 10);
			if (e == s)
				return 0;
		}
		if (lo <= 2 && 2 <= hi)
			return 1;
		if (*e != ',')
			return 0;
		s = e + 1;
	}
	return 0;
}

/* Congestion control with the service (prop 324 for onion services, as
 * tor 0.4.8 clients ask for it): its descriptor says it does FlowCtrl=2,
 * and we do (the consensus's cc_alg, or the CongestionControl option).
 * Then v->cc_params are the onion circuits' Vegas parameters and
 * v->cc_sendme_inc the descriptor's increment. */
static int
cc_with_service(struct tk_hs_svc *v, const struct tk_hs_desc *d)
{
	const struct tk_nodes *t = tk_circmgr_nodes(v->hc->cm);
	int want = v->hc->cfg.congestion_control;
	if (!d || !d->has_flow_control || !flowctrl_has_2(d->flow_control) ||
	    want == 0 || !t)
		return 0;
	tk_cc_params_load(&v->cc_params, cons_param, (void *)t->c);
	if (want < 0 && v->cc_params.cc_alg == 0)
		return 0;
	tk_cc_params_onion(&v->cc_params);
	v->cc_sendme_inc = d->sendme_inc;
	return 1;
}

/* Both circuits are ready: INTRODUCE1 (rend-spec-v3 §3.2), which names
 * the rendezvous point the service is to reach, so it goes only once the
 * point has our cookie (RENDEZVOUS_ESTABLISHED). */
void
tk_hs_intro_send(struct tk_hs_svc *v)
{
	struct tk_hs_intro1 in;
	uint8_t body[TK_RELAY_DATA_MAX];
	tk_circuit *c = tk_ocirc_circuit(v->intro_oc);
	long n;

	if (!c || tk_hs_ntor_client_init(&v->ntor, NULL, v->ip_enc, v->ip_auth,
					 v->keys.subcred) != 0) {
		tk_hs_drop_oc(&v->intro_oc);
		tk_hs_intro_next(v);
		return;
	}
	memset(&in, 0, sizeof in);
	v->cc = cc_with_service(v,
				tk_hs_cache_get(v->hc->cache, v->keys.blinded,
						v->keys.period_num, v->now));
	in.cc_request = v->cc;
	memcpy(in.auth_key, v->ip_auth, 32);
	memcpy(in.rend_cookie, v->cookie, sizeof in.rend_cookie);
	memcpy(in.rp_onion_key, v->rp_onion_key, 32);
	in.rp_linkspecs = v->rp_ls;
	in.rp_linkspecs_len = v->rp_ls_len;
	n = tk_hs_introduce1_encode(&in, &v->ntor, body, sizeof body);
	tk_circuit_set_control_cb(c, on_intro_cell, v);
	if (n < 0 || tk_circuit_send(c, -1, TK_RELAY_INTRODUCE1, 0, body,
				     (size_t)n, 0) < 0) {
		tk_hs_drop_oc(&v->intro_oc);
		tk_hs_intro_next(v);
		return;
	}
	v->intro_sent = 1;
	v->intro_deadline = tk_hs_now_ms(v->hc) + v->hc->cfg.intro_timeout_ms;
}

static int
intro_tried(const struct tk_hs_svc *v, const uint8_t auth_key[32])
{
	for (size_t i = 0; i < v->n_tried; i++)
		if (memcmp(v->tried[i], auth_key, 32) == 0)
			return 1;
	return 0;
}

/* Every introduction point of the descriptor failed (or it left the
 * cache): the service may have moved them — its tor restarted, or the
 * relays that held them did — and published a new descriptor. As tor
 * (hs_client_refetch_hsdesc once no introduction point is usable), the
 * cached one is dropped and fetched again, once per attempt; the
 * rendezvous circuit waits. 1 if the fetch is under way. */
static int
refetch(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	if (v->refetched)
		return 0;
	const struct tk_hs_desc *d =
		tk_hs_cache_get(v->hc->cache, v->keys.blinded,
				v->keys.period_num, v->now);
	v->refetched = 1;
	v->has_stale = d != NULL;
	v->stale_rev = d ? d->revision : 0;
	v->stale_period = v->keys.period_num;
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: no usable introduction point left: "
		  "fetching its descriptor again",
		  tk_hs_svc_name(v, nb));
	tk_hs_cache_remove(v->hc->cache, v->keys.blinded, v->keys.period_num);
	tk_hs_desc_start(v);
	return 1;
}

/* Every point of d timed out lately (in this attempt or an earlier
 * one): the attempt ends F7, as tor's does when all its points' records
 * say timed out. */
static int
all_timed_out(struct tk_hs_svc *v, const struct tk_hs_desc *d)
{
	uint64_t now = tk_hs_now_ms(v->hc);
	for (size_t i = 0; i < d->n_intro; i++)
		if (!tk_hs_ipfail_timed_out(&v->hc->ipfail, v->id,
					    d->intro[i].auth_key, now))
			return 0;
	return d->n_intro > 0;
}

/* The next introduction point of the descriptor we can reach. */
void
tk_hs_intro_next(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_hs_desc *d;
	tk_circuit_hop_target t;
	char err[200];

	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->intro_built = v->intro_sent = v->intro_acked = 0;
	v->intro_extend = 0;
	v->intro_deadline = 0;
	d = tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now);
	for (; d && v->intro_next < d->n_intro; v->intro_next++) {
		const struct tk_hs_intro_point *ip = &d->intro[v->intro_next];
		struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr;
		if (!ip->ls.has_legacy_id || !ip->ls.has_ipv4)
			continue; /* tor needs both to extend */
		if (intro_tried(v, ip->auth_key))
			continue; /* failed already, in the old descriptor */
		if (!tk_hs_ipfail_usable(&hc->ipfail, v->id, ip->auth_key,
					 tk_hs_now_ms(hc))) {
			char nb[TK_HS_ADDR_LEN + 7];
			tk_hs_log(hc, TK_LOG_INFO,
				  "onion service %s: introduction point %zu "
				  "failed lately: skipped",
				  tk_hs_svc_name(v, nb), v->intro_next);
			continue;
		}
		if (v->n_tried < sizeof v->tried / sizeof v->tried[0])
			memcpy(v->tried[v->n_tried++], ip->auth_key, 32);
		memset(&t, 0, sizeof t);
		memcpy(t.rsa_id, ip->ls.legacy_id, 20);
		if (ip->ls.has_ed25519_id) {
			t.has_ed_id = 1;
			memcpy(t.ed_id, ip->ls.ed25519_id, 32);
		}
		memcpy(t.ntor_key, ip->onion_key, 32);
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->ls.ipv4, 4);
		sin->sin_port = htons(ip->ls.ipv4_port);
		memcpy(v->ip_auth, ip->auth_key, 32);
		memcpy(v->ip_enc, ip->enc_key, 32);
		v->intro_next++;
		/* a clean internal circuit extended to the point if one
		 * fits beside it (one still building if that is sooner),
		 * else one built to it */
		if (tk_circ_pool_take_or_wait(hc->pool, &t, "intro",
					      v->hc->hooks.oc_event, v,
					      &v->intro_oc,
					      &v->intro_extend) == 0 ||
		    tk_circmgr_build_to(hc->cm, &t, "intro",
					v->hc->hooks.oc_event, v, &v->intro_oc,
					err, sizeof err) == 0) {
			v->intro_t = t;
			v->intro_deadline =
				tk_hs_now_ms(hc) + hc->cfg.intro_timeout_ms +
				60000; /* the build, then the answer */
			return;
		}
	}
	if (refetch(v))
		return;
	if (!d) {
		tk_hs_svc_fail(v, TK_ONION_HS_NOT_FOUND,
			       "descriptor gone from the cache");
		return;
	}
	if (v->n_intro_timeouts > 0 &&
	    v->n_rend_timeouts == v->n_intro_timeouts)
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no RENDEZVOUS2 in time through any "
			       "introduction point");
	else if (v->n_intro_timeouts > 0 || all_timed_out(v, d))
		tk_hs_svc_fail(v, TK_ONION_HS_INTRO_TIMEOUT,
			       "every introduction point timed out or failed");
	else
		tk_hs_svc_fail(v, TK_ONION_HS_INTRO_FAILED,
			       "every introduction point failed");
}

/* An event of v->intro_oc: a pool circuit waited for is built (its
 * EXTEND2 to the point now), the circuit to the point is built
 * (INTRODUCE1 once the rendezvous is ready), or it is gone. */
void
tk_hs_intro_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev)
{
	if (ev == TK_OCIRC_EV_BUILT && v->intro_extend) {
		/* the pool circuit waited for: now its EXTEND2 */
		v->intro_extend = 0;
		if (tk_ocirc_adopt(oc, &v->intro_t, "intro",
				   v->hc->hooks.oc_event, v) != 0) {
			tk_hs_drop_oc(&v->intro_oc);
			tk_hs_intro_next(v);
		}
		return;
	}
	if (ev == TK_OCIRC_EV_BUILT) {
		v->intro_hop = oc->n_hops - 1;
		v->intro_built = 1;
		if (v->rend_ready)
			tk_hs_intro_send(v);
		else
			v->intro_deadline = 0; /* the rendezvous'
						* deadline runs */
		return;
	}
	v->intro_oc = NULL;
	if (v->intro_extend) {
		/* the pool circuit failed, not the point: the same
		 * point again, on another circuit */
		v->intro_extend = 0;
		if (v->n_tried &&
		    memcmp(v->tried[v->n_tried - 1], v->ip_auth, 32) == 0)
			v->n_tried--;
		v->intro_next--;
		tk_hs_intro_next(v);
		return;
	}
	if (!v->intro_acked) {
		/* never built: unreachable (tor retries such a
		 * point in later requests, up to five failures) */
		tk_hs_intro_failed(v, v->intro_built
					      ? TK_HS_IPFAIL_ERROR
					      : TK_HS_IPFAIL_UNREACHABLE);
		tk_hs_intro_next(v);
	}
}
