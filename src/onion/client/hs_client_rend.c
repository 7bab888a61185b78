/* hs_client_rend.h: the rendezvous side of the onion-service client. */
#include "onion/client/hs_client_rend.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/client/hop.h"
#include "onion/client/hs_client_svc.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_linkspec.h"
#include "onion/hs/hs_ntor.h"
#include "onion/netdir/path.h"
#include "onion/onion.h"

/* Rendezvous circuits an attempt builds at most: one that fails, or
 * whose point does not answer ESTABLISH_RENDEZVOUS in rend_timeout_ms,
 * gives way to another (tor builds a new one too) as long as no
 * INTRODUCE1 named its point. */
#define REND_TRIES 3

static void
joined(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	v->joined = v->rend_oc;
	v->rend_oc = NULL;
	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->rend_deadline = v->intro_deadline = 0;
	v->st = S_JOINED;
	if (v->cc)
		tk_hs_log(v->hc, TK_LOG_INFO,
			  "onion service %s: congestion control with the "
			  "service: Vegas, sendme_inc %u",
			  tk_hs_svc_name(v, nb), v->cc_sendme_inc);
	tk_hs_log(v->hc, TK_LOG_INFO, "onion service %s: joined on circ %u",
		  tk_hs_svc_name(v, nb), tk_ocirc_serial(v->joined));
	tk_hs_svc_answer(v, 0);
}

static void
on_rend_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	     size_t len)
{
	struct tk_hs_svc *v = arg;
	uint8_t info[TK_HS_NTOR_REPLY_LEN], seed[32], keys[TK_HS_NTOR_KEYS_LEN];
	tk_circuit *c;
	(void)status;
	if (!v->rend_oc || hop != v->rend_hop)
		return;
	if (cmd == TK_RELAY_RENDEZVOUS_ESTABLISHED && !v->rend_ready) {
		tk_hs_rendezvous_established_decode(data, len);
		v->rend_ready = 1;
		v->rend_deadline = 0;
		/* the introduction circuit may have been waiting for this */
		v->hc->hooks.rend_ready(v);
		return;
	}
	/* RENDEZVOUS2 answers our INTRODUCE1: none is expected before */
	if (cmd != TK_RELAY_RENDEZVOUS2 || !v->intro_sent)
		return;
	c = tk_ocirc_circuit(v->rend_oc);
	if (!c || tk_hs_rendezvous2_decode(data, len, info) != 0 ||
	    tk_hs_ntor_client_finish(&v->ntor, info, seed) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "RENDEZVOUS2 did not verify (hs-ntor)");
		return;
	}
	tk_hs_ntor_expand(seed, keys);
	tk_wipe(seed, sizeof seed);
	tk_circuit_set_control_cb(c, NULL, NULL);
	int rc = tk_circuit_add_virtual_hop(c, keys,
					    v->cc ? &v->cc_params : NULL,
					    v->cc_sendme_inc);
	tk_wipe(keys, sizeof keys);
	if (rc != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       tk_circuit_strerror(rc));
		return;
	}
	tk_ocirc_joined(v->rend_oc, v->cc ? &v->cc_params : NULL);
	joined(v);
}

/* What INTRODUCE1 says of the rendezvous point h: its ntor key and link
 * specifiers (IPv4 ORPort, RSA and Ed25519 identities). 0 or -1. */
static int
rend_point(struct tk_hs_svc *v, const tk_circuit_hop_target *h)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&h->addr;
	tk_linkspec ls[3];
	size_t n = 0;
	long k;

	if (h->addr.ss_family != AF_INET)
		return -1;
	memcpy(v->rp_onion_key, h->ntor_key, 32);
	tk_linkspec_ipv4(&ls[n++], (const uint8_t *)&sin->sin_addr,
			 ntohs(sin->sin_port));
	tk_linkspec_legacy_id(&ls[n++], h->rsa_id);
	if (h->has_ed_id)
		tk_linkspec_ed25519_id(&ls[n++], h->ed_id);
	k = tk_hs_linkspecs_encode(ls, n, v->rp_ls, sizeof v->rp_ls);
	if (k < 0)
		return -1;
	v->rp_ls_len = (size_t)k;
	return 0;
}

/* A circuit to a rendezvous point: a clean internal circuit as it is,
 * its last hop the point (path-spec 2.1.4), or one built to a random
 * point; -1 (the attempt failed F3) if none can be had. */
int
tk_hs_rend_launch(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_path_opts po;
	struct tk_path_weights w;
	struct tk_path_rng rng = { tk_path_rng_system, NULL };
	tk_circuit_hop_target h;
	long rp;
	char err[200];
	int building;

	if (!t) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no usable directory");
		return -1;
	}
	v->rend_ready = 0;
	/* an open pool circuit, or one still building: launched earlier,
	 * it is ready sooner than one built now */
	if (tk_circ_pool_take_or_wait(hc->pool, NULL, NULL,
				      v->hc->hooks.oc_event, v, &v->rend_oc,
				      &building) == 0) {
		if (rend_point(v, &v->rend_oc->hop[2]) == 0) {
			v->n_rend++;
			v->rend_deadline = tk_hs_now_ms(hc) +
					   (building ? 60000 : 0) +
					   hc->cfg.rend_timeout_ms;
			return 0;
		}
		tk_hs_drop_oc(&v->rend_oc);
	}
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = 0; /* the guard is checked later */
	tk_path_weights_init(&w, t->c);
	rp = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, NULL, 0,
			  &rng);
	if (rp < 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no rendezvous point");
		return -1;
	}
	tk_hop_from_node(&t->node[rp], &h);
	if (rend_point(v, &h) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "rendezvous point specifiers");
		return -1;
	}
	v->n_rend++;
	if (tk_circmgr_build_to(hc->cm, &h, t->node[rp].rt->nickname,
				v->hc->hooks.oc_event, v, &v->rend_oc, err,
				sizeof err) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED, err);
		return -1;
	}
	v->rend_deadline = tk_hs_now_ms(hc) + 60000 + hc->cfg.rend_timeout_ms;
	return 0;
}

/* The rendezvous circuit failed, or its point did not answer: another
 * one while no INTRODUCE1 named this point, and tries are left; else
 * F3. */
void
tk_hs_rend_retry(struct tk_hs_svc *v, const char *why)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_drop_oc(&v->rend_oc);
	v->rend_deadline = 0;
	if (v->intro_sent || v->n_rend >= REND_TRIES) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED, why);
		return;
	}
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: %s: another rendezvous point",
		  tk_hs_svc_name(v, nb), why);
	tk_hs_rend_launch(v);
}

/* The introduction point acked INTRODUCE1 but no RENDEZVOUS2 came in
 * time. The point may hold a circuit of a service that is gone (its tor
 * restarted, and a relay on the way has not passed the DESTROY on yet:
 * the ack then means nothing), or the service could not reach our
 * rendezvous point. As tor (its acked rendezvous circuit times out, the
 * point is noted as timed out, the stream introduces again): this
 * rendezvous circuit goes, its cookie with it, and the next point gets
 * a fresh one (the caller launches it). Each point is tried once per
 * attempt, so this happens at most once per point. */
void
tk_hs_rend_silent(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: introduction point %zu acked, but no "
		  "RENDEZVOUS2 in time: a new rendezvous circuit, the next "
		  "introduction point",
		  tk_hs_svc_name(v, nb), v->intro_next);
	v->n_rend_timeouts++;
	tk_hs_drop_oc(&v->rend_oc);
	tk_wipe(v->cookie, sizeof v->cookie);
	v->rend_ready = 0;
	v->rend_deadline = 0;
	v->n_rend = 0; /* a new point: its own REND_TRIES */
}

static void
rend_established_wait(struct tk_hs_svc *v)
{
	uint8_t body[TK_HS_REND_COOKIE_LEN];
	tk_circuit *c = tk_ocirc_circuit(v->rend_oc);
	if (!c) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "rendezvous circuit gone");
		return;
	}
	tk_random(v->cookie, sizeof v->cookie);
	tk_hs_establish_rendezvous_encode(v->cookie, body, sizeof body);
	tk_circuit_set_control_cb(c, on_rend_cell, v);
	if (tk_circuit_send(c, -1, TK_RELAY_ESTABLISH_RENDEZVOUS, 0, body,
			    sizeof body, 0) < 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "cannot send ESTABLISH_RENDEZVOUS");
		return;
	}
	v->rend_deadline = tk_hs_now_ms(v->hc) + v->hc->cfg.rend_timeout_ms;
}

/* oc, v->rend_oc, was built (ev BUILT: ESTABLISH_RENDEZVOUS on it) or
 * is gone (the manager's now: another one, or F3). */
void
tk_hs_rend_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev, const char *why)
{
	char msg[300];
	if (ev == TK_OCIRC_EV_BUILT) {
		v->rend_hop = oc->n_hops - 1;
		rend_established_wait(v);
		return;
	}
	v->rend_oc = NULL; /* the manager's now */
	snprintf(msg, sizeof msg, "rendezvous circuit: %s",
		 why ? why : "failed");
	tk_hs_rend_retry(v, msg);
}
